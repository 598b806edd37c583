/**
 * The live IDN node's decisions against the simulator (the oracle): a whole network of
 * LiveIdnNode objects connected in process (JSON round trips, no sockets), driven slot by slot on
 * a fixed trace, must hold INFIDA's allocation of the simulator at every node after every slot and
 * measure exactly the simulator's gain per slot. Faults: a node that does not answer is routed
 * around, a node dropping control messages keeps serving. Bad live policies are refused.
 */
import { describe, expect, it } from "vitest";
import { createCatalog } from "../src/idn/catalogs.js";
import { IdnInstance } from "../src/idn/instance.js";
import { compareLive, driveTrace, type LiveClient, runControlPhases } from "../src/idn/live/driver.js";
import { dispatchLive, LiveIdnNode, type LiveNodeRoute, liveInfidaOptions } from "../src/idn/live/node.js";
import { liveNodeIndex, liveNodeUrls } from "../src/idn/live/urls.js";
import { Infida } from "../src/idn/policies/infida.js";
import { SlotDemand, serveSlot } from "../src/idn/serving.js";
import { simulateIdn } from "../src/idn/simulator.js";
import { createTopology, parseTopologyJson, topologyToJson } from "../src/idn/topologies.js";
import { generateTrace } from "../src/idn/traces.js";
import { parseCatalogModelId } from "../src/jobs/idn-models.node.js";
import { errorOf } from "./error-fixtures.js";

const POLICY = "infida:overshoot=repair";
const SEED = 3;

function network(inst: IdnInstance, dead: Set<number> = new Set()) {
  const nodes: LiveIdnNode[] = [];
  const peak = new Float64Array(inst.nodeCount);
  const transport = {
    async call<T>(to: number, route: LiveNodeRoute, body: unknown): Promise<T> {
      if (dead.has(to)) throw new Error(`node ${to} is down`);
      return JSON.parse(
        JSON.stringify(await dispatchLive(nodes[to], route, JSON.parse(JSON.stringify(body)))),
      );
    },
  };
  for (let v = 0; v < inst.nodeCount; v++) {
    const hosted = new Map<number, number>();
    nodes.push(
      new LiveIdnNode({
        instance: inst,
        node: v,
        policy: POLICY,
        seed: SEED,
        transport,
        sleep: async () => {},
        host: {
          async load(m) {
            const bytes = inst.modelSize[m] * 1e6;
            hosted.set(m, bytes);
            let used = 0;
            for (const b of hosted.values()) used += b;
            peak[v] = Math.max(peak[v], used);
            return bytes;
          },
          unload(m) {
            hosted.delete(m);
          },
          predict: (_m, example) => ({ predicted: example % 10, label: example % 10 }),
        },
      }),
    );
  }
  const client: LiveClient = { call: (v, route, body) => transport.call(v, route, body) };
  return { nodes, client, peak, transport };
}

function setup(slots = 12, requests = 1200) {
  const inst = new IdnInstance(createTopology("abilene"), createCatalog("measured"), { alpha: 100 });
  const trace = generateTrace(`sliding:requests=${requests}`, { instance: inst, slots, seed: 5 });
  return { inst, trace };
}

describe("live IDN node vs the simulator", () => {
  it("holds the simulator's INFIDA allocation at every node after every slot and measures its gain exactly", async () => {
    const { inst, trace } = setup();
    const net = network(inst);
    for (const n of net.nodes) await n.start();
    const reference = new Infida(inst, liveInfidaOptions(POLICY, SEED));
    const demand = new SlotDemand(inst);
    const live = new Uint8Array(inst.pairCount);
    const run = await driveTrace({
      instance: inst,
      trace,
      client: net.client,
      seed: 9,
      onSlotStart(t) {
        // The allocation the live nodes serve slot t with = the simulator's allocation for slot t.
        for (const n of net.nodes) {
          const a = inst.nodePairStart[n.index];
          live.set(n.policy.allocation().subarray(a, inst.nodePairStart[n.index + 1]), a);
        }
        expect(Array.from(live), `slot ${t}`).toEqual(Array.from(reference.allocation()));
        demand.load(trace, t);
        reference.observe(demand);
      },
    });
    // Capacities never bind here, so first-come-first-served equals the proportional share.
    const sim = simulateIdn({ instance: inst, trace, policies: [POLICY], seed: SEED });
    const cmp = compareLive(run, sim);
    for (const s of cmp.perSlot) {
      expect(s.gain).toBeCloseTo(s.simGain, 6);
      expect(s.loads).toBe(s.simLoads);
      expect(s.failed).toBe(0);
    }
    expect(cmp.measured.avgGain).toBeGreaterThan(0);
    expect(cmp.simulated.loadsPerSlot).toBeGreaterThan(0); // the allocation moves: the equality is not vacuous
    expect(cmp.gainRatio).toBeCloseTo(1, 9);
    expect(cmp.measured.loadsPerSlot).toBeCloseTo(cmp.simulated.loadsPerSlot, 12);
    expect(cmp.measured.modelAccuracy).toBeCloseTo(cmp.simulated.accuracy, 9);
    // Every node stayed within its budget at every moment (unload before load).
    for (let v = 0; v < inst.nodeCount; v++)
      if (!inst.topology.nodes[v].repository)
        expect(net.peak[v]).toBeLessThanOrEqual(inst.budgetMB[v] * 1e6 + 1e-6);
    // Gains of single slots: the serving rule itself, against serving.ts on the same allocation.
    const d = new SlotDemand(inst).load(trace, 0);
    const x = new Infida(inst, liveInfidaOptions(POLICY, SEED)).allocation();
    expect(run.slots[0].gain).toBeCloseTo(serveSlot(d, x), 6);
  });

  it("routes around a node that does not answer: no failed request, it rejoins when back", async () => {
    const { inst, trace } = setup(6, 600);
    const dead = new Set<number>();
    const net = network(inst, dead);
    for (const n of net.nodes) await n.start();
    // A PoP that many paths cross.
    const crossings = new Int32Array(inst.nodeCount);
    for (const v of inst.pathNodes) crossings[v]++;
    let victim = -1;
    for (let v = 0; v < inst.nodeCount; v++)
      if (!inst.topology.nodes[v].repository && !inst.topology.nodes[v].source)
        if (victim < 0 || crossings[v] > crossings[victim]) victim = v;
    const run = await driveTrace({
      instance: inst,
      trace,
      client: net.client,
      seed: 9,
      onSlotStart(t) {
        if (t === 2) dead.add(victim);
        if (t === 4) dead.delete(victim);
      },
    });
    const cmp = compareLive(run, simulateIdn({ instance: inst, trace, policies: [POLICY], seed: SEED }));
    expect(cmp.measured.failed).toBe(0);
    expect(cmp.measured.requests).toBe(trace.total);
    expect(run.slots[2].controlFailures).toBeGreaterThan(0);
    expect(run.slots[5].controlFailures).toBe(0);
    expect(net.nodes[victim].slot).toBe(trace.slots);
  });

  it("a node that drops control messages keeps serving; the others learn without it", async () => {
    const { inst, trace } = setup(5, 500);
    const net = network(inst);
    for (const n of net.nodes) await n.start();
    const edge = net.nodes.find((n) => !n.repository && !inst.topology.nodes[n.index].source) as LiveIdnNode;
    edge.dropControl = true;
    const yBefore = edge.policy.y.slice(inst.nodePairStart[edge.index], inst.nodePairStart[edge.index + 1]);
    const run = await driveTrace({ instance: inst, trace, client: net.client, seed: 9 });
    const cmp = compareLive(run, simulateIdn({ instance: inst, trace, policies: [POLICY], seed: SEED }));
    expect(cmp.measured.failed).toBe(0);
    expect(cmp.measured.requests).toBe(trace.total);
    expect(cmp.measured.controlFailures).toBeGreaterThan(0);
    // Its allocation did not move (no control information reached it).
    expect(
      Array.from(edge.policy.y.slice(inst.nodePairStart[edge.index], inst.nodePairStart[edge.index + 1])),
    ).toEqual(Array.from(yBefore));
  });

  it("delayed control messages change nothing: the simulator's gain exactly, nothing failed", async () => {
    const { inst, trace } = setup(4, 400);
    const net = network(inst);
    for (const n of net.nodes) await n.start();
    for (const n of net.nodes) await dispatchLive(n, "faults", { controlDelayMs: n.index % 3 });
    const run = await driveTrace({ instance: inst, trace, client: net.client, seed: 9 });
    const cmp = compareLive(run, simulateIdn({ instance: inst, trace, policies: [POLICY], seed: SEED }));
    expect(cmp.measured.failed).toBe(0);
    expect(cmp.measured.controlFailures).toBe(0);
    for (const s of cmp.perSlot) expect(s.gain).toBeCloseTo(s.simGain, 6);
    await expect(dispatchLive(net.nodes[0], "faults", { controlDelayMs: -1 })).rejects.toThrow(
      /controlDelayMs/,
    );
  });

  it("self-clocked slots (idn up --slot): requests without a slot count in the node's current slot", async () => {
    const { inst, trace } = setup(3, 300);
    const net = network(inst);
    for (const n of net.nodes) await n.start();
    for (let t = 0; t < trace.slots; t++) {
      for (let k = trace.slotStart[t]; k < trace.slotStart[t + 1]; k++)
        for (let i = 0; i < trace.counts[k]; i++) {
          const source = inst.typeSourceNode(trace.types[k]);
          const r = await net.client.call<{ node: string }>(source, "infer", {
            type: trace.types[k],
            example: i,
            entry: true,
          });
          expect(r.node).toBeTruthy();
        }
      const control = await runControlPhases(net.client, inst, t);
      expect(control.failures).toBe(0);
    }
    // Same requests per slot as the driver sends, so the same allocation as the simulator's INFIDA.
    const reference = new Infida(inst, liveInfidaOptions(POLICY, SEED));
    const demand = new SlotDemand(inst);
    for (let t = 0; t < trace.slots; t++) reference.observe(demand.load(trace, t));
    for (const n of net.nodes) {
      expect(n.slot).toBe(trace.slots);
      const [a, b] = [inst.nodePairStart[n.index], inst.nodePairStart[n.index + 1]];
      expect(Array.from(n.policy.allocation().subarray(a, b))).toEqual(
        Array.from(reference.allocation().subarray(a, b)),
      );
    }
  });

  it("refuses live policies that could exceed a budget or are not per node", () => {
    expect(errorOf(() => liveInfidaOptions("infida:overshoot=allow", 1)).message).toMatch(
      /expected overshoot=forbid or overshoot=repair, got overshoot=allow/,
    );
    expect(errorOf(() => liveInfidaOptions("lru", 1)).message).toMatch(
      /expected infida\[:\.\.\.\], got "lru"/,
    );
    expect(errorOf(() => liveInfidaOptions("infida:overshoot=repair,draws=fresh", 1)).message).toMatch(
      /expected draws=common/,
    );
  });

  it("answers bad messages with errors naming what was expected", async () => {
    const { inst } = setup(2, 10);
    const net = network(inst);
    const n = net.nodes[inst.sources[0]];
    await expect(n.infer({ type: 10_000, slot: 0, example: 0 })).rejects.toThrow(/expected a request type/);
    await expect(dispatchLive(n, "close", { slot: -1 })).rejects.toThrow(/expected \{"slot": integer >= 0\}/);
    await expect(dispatchLive(n, "nope", {})).rejects.toThrow(/unknown route "nope"/);
  });
});

describe("live network configuration", () => {
  const file = (nodes: object[]) =>
    JSON.stringify({
      nodes,
      links: [{ a: "a", b: "c", latencyMs: 5 }],
    });

  it("nodes listen at their topology url, else at base port + index", () => {
    const t = parseTopologyJson(
      file([
        { id: "a", tier: "access", budgetMB: 1, source: true, url: "http://10.0.0.5:8080/" },
        { id: "c", tier: "cloud" },
      ]),
      "net.json",
    );
    expect(liveNodeUrls(t, 9000)).toEqual(["http://10.0.0.5:8080", "http://127.0.0.1:9001"]);
    expect(parseTopologyJson(topologyToJson(t), "round trip").nodes[0].url).toBe("http://10.0.0.5:8080");
    expect(errorOf(() => liveNodeUrls(t)).message).toMatch(/node "c" has no "url"; expected --base-port P/);
    expect(liveNodeIndex(t, "c")).toBe(1);
    expect(errorOf(() => liveNodeIndex(t, "x")).message).toMatch(
      /--idn-node x: no such node .* expected one of a, c/,
    );
    expect(errorOf(() => liveNodeUrls(t, 65535)).message).toMatch(/--base-port: expected an integer port/);
  });

  it("bad topology urls and model ids get clear errors", () => {
    for (const url of ["10.0.0.5:8080", "http://h:1/path", 42])
      expect(
        errorOf(() =>
          parseTopologyJson(
            file([
              { id: "a", tier: "access", budgetMB: 1, url },
              { id: "c", tier: "cloud" },
            ]),
            "net.json",
          ),
        ).message,
      ).toMatch(/net.json: nodes\[0\].url: expected a URL like "http:\/\/10.0.0.5:8080"/);
    expect(parseCatalogModelId("fashion-mnist/int8(mlp:128)")).toEqual({
      task: "fashion-mnist",
      spec: "mlp:128",
      int8: true,
    });
    expect(errorOf(() => parseCatalogModelId("imagenet/resnet50")).message).toMatch(
      /expected an id "TASK\/SPEC" with TASK one of mnist, fashion-mnist/,
    );
  });
});
