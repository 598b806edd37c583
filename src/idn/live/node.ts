/**
 * One node of a live inference delivery network (browser-safe logic; the HTTP and model-file
 * adapters are src/serve/idn-node.node.ts and src/jobs/idn-models.node.ts).
 *
 * Every node knows the static instance (topology, catalog, alpha: the same `IdnInstance` the
 * simulator compiles) and its own index. What it knows of the rest of the network arrives in
 * messages, and it runs the simulator's math on it (serving.ts candidate chains, INFIDA's
 * `stepNode`/`drawNode`), so a fault-free live run makes the simulator's decisions exactly
 * (test/idn-live.test.ts checks it slot by slot).
 *
 * Serving ([D], the live form of serving.ts's rule): a request names its type (source, task) and
 * enters at its source. Node v serves it with its cheapest hosted candidate of the type that still
 * has capacity in the slot (each copy serves up to its per-slot capacity, first come first served)
 * when that candidate is cheaper than the best cost its upstream advertised for the type;
 * otherwise it forwards it to the next node of the path toward the repository, sleeping the link's
 * one-way latency on the way up and on the way back. When no capacity binds this is serving.ts's
 * rule; when one does, the simulator shares a copy's capacity in proportion to demand and the live
 * node first come first served. A next hop that does not answer is skipped (the request goes
 * further up the path) and avoided for `downMs`; a node with no upstream left serves with the
 * cheapest model it hosts.
 *
 * Control (once per slot, clocked by the caller: `mammals idn load` or `mammals idn up --slot`):
 *   close     every node sends the counts of requests that entered at it in the slot up its path
 *             (each node learns r of every type through it, hence serving.ts's l of its candidates);
 *   exchange  every node where requests entered sends one message up its path; each node on the
 *             way appends l * y of its candidates, and the last node that answers computes each
 *             type's gamma_{K*} (threshold-chain.ts) and returns it down the path;
 *   advance   each node forms g_m = sum l (gamma_{K*} - gamma_m)^+ over its candidates, takes
 *             INFIDA's step, redraws its integral allocation every `refresh` slots, unloads then
 *             loads models within its budget (never above it at any moment);
 *   advertise top-down: each node asks its next hop for the best cost per type at or above it
            (also once before the first slot).
 * A node that misses control messages (dead, or dropping them) keeps its allocation; the others
 * compute with what reached them, so the allocation degrades but serving never stops.
 */
import { fail } from "../../core/errors.js";
import { chainThreshold } from "../../online/threshold-chain.js";
import type { IdnInstance } from "../instance.js";
import { Infida, type InfidaOptions } from "../policies/infida.js";
import { idnPolicyRegistry } from "../policies.js";
import { SlotDemand } from "../serving.js";
import { pathToRepository } from "../topology.js";

/** The calls nodes make to each other; a rejection means the peer did not answer. */
export interface LiveTransport {
  call<T>(to: number, route: LiveRoute, body: unknown): Promise<T>;
}

export type LiveRoute = "infer" | "demand" | "path" | "best";

/** Real models behind a node: loading reports the bytes the model takes in memory. */
export interface ModelHost {
  load(model: number): Promise<number>;
  unload(model: number): void;
  /** Runs the model on test example `example` of its task; returns the class and the true label. */
  predict(model: number, example: number): { predicted: number; label: number };
}

export interface LiveNodeOptions {
  instance: IdnInstance;
  node: number;
  /** INFIDA spec; the live network enforces budgets, so overshoot must be forbid or repair. */
  policy: string;
  /** The policy's seed (the simulator's seed of its first policy). */
  seed: number;
  transport: LiveTransport;
  host: ModelHost;
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
  /** How long a peer that failed is skipped (ms). Default 1000. */
  downMs?: number;
}

export interface InferRequest {
  type: number;
  /** The driver's slot (default: the node's current slot, for wall-clock networks). */
  slot?: number;
  example: number;
  /** Set by the client on the node where the request enters the network. */
  entry?: boolean;
}

export interface InferResponse {
  /** Node and model that answered. */
  node: string;
  nodeIndex: number;
  model: string;
  modelIndex: number;
  predicted: number;
  label: number;
  /** Nodes the request passed (the answering one included). */
  hops: number;
  /** Wall-clock milliseconds this node spent on the request (forwarding and emulated links included). */
  latencyMs: number;
  /** Served by a node that had no upstream left (not its cheapest option). */
  degraded?: boolean;
}

export interface DemandMessage {
  slot: number;
  counts: Array<[type: number, count: number]>;
}

export interface PathMessage {
  slot: number;
  types: Array<{ type: number; count: number; entries: Array<[cand: number, capY: number]> }>;
}

export interface PathReply {
  thresholds: Array<[type: number, threshold: number]>;
}

export interface AdvanceReply {
  node: string;
  slot: number;
  loads: number;
  unloads: number;
  hosted: string[];
  usedMB: number;
  bytes: number;
}

export interface LiveNodeStatus {
  node: string;
  index: number;
  tier: string;
  repository: boolean;
  slot: number;
  hosted: string[];
  budgetMB: number;
  usedMB: number;
  /** Bytes of the loaded models as measured by the host, now and at most so far. */
  bytes: number;
  peakBytes: number;
  loadsTotal: number;
  served: number;
  forwarded: number;
  controlMessages: number;
  /** Per hosted model: requests served in the current slot and its per-slot capacity. */
  load: Array<{ model: string; served: number; capacity: number }>;
  faults: { dropControl: boolean; controlDelayMs: number };
}

/** Parses and checks a live policy spec into INFIDA's options. */
export function liveInfidaOptions(spec: string, seed: number): InfidaOptions {
  const parsed = idnPolicyRegistry.parse(spec);
  if (parsed.entry.name !== "infida")
    fail(
      "INVALID_ARGUMENT",
      `--policy: the live network runs INFIDA (a per-node policy); expected infida[:...], got "${spec}"`,
    );
  const p = parsed.params as unknown as Omit<InfidaOptions, "seed">;
  if (p.overshoot === "allow")
    fail(
      "INVALID_ARGUMENT",
      `--policy ${spec}: a live node enforces its memory budget; expected overshoot=forbid or overshoot=repair, got overshoot=allow`,
    );
  if (p.draws !== "common")
    fail(
      "INVALID_ARGUMENT",
      `--policy ${spec}: live nodes draw from their own seeds; expected draws=common, got draws=${p.draws}`,
    );
  return { eta: p.eta, refresh: p.refresh, floor: p.floor, overshoot: p.overshoot, draws: p.draws, seed };
}

/** The default live policy: INFIDA that never exceeds a budget. */
export const LIVE_POLICY_DEFAULT = "infida:overshoot=repair";

export class LiveIdnNode {
  readonly index: number;
  readonly id: string;
  readonly repository: boolean;
  readonly instance: IdnInstance;
  policy: Infida;
  /** Nodes after this one on its path to the repository. */
  readonly upstream: number[];
  /** Request types whose path contains this node. */
  readonly typesThrough: number[];
  slot = 0;
  private readonly onPath: Uint8Array;
  private readonly pairFrom: number;
  private readonly pairTo: number;
  /** Hosted flag per pair of this node (index p - pairFrom). */
  private readonly hosted: Uint8Array;
  private readonly modelBytes = new Map<number, number>();
  private readonly servedInSlot: Float64Array;
  /** Best cost per type at or above the next hop (advertised), repository cost until then. */
  private readonly bestUp: Float64Array;
  private readonly entered = new Map<number, Map<number, number>>();
  private readonly demandOf = new Map<number, Map<number, number>>();
  private readonly demands = new Map<number, SlotDemand>();
  private readonly thresholds = new Map<number, Map<number, number>>();
  private readonly downUntil: Float64Array;
  private readonly grad: Float64Array;
  private readonly capY: Float64Array;
  private readonly now: () => number;
  private readonly downMs: number;
  private applying: Promise<void> = Promise.resolve();
  bytes = 0;
  peakBytes = 0;
  loadsTotal = 0;
  served = 0;
  forwarded = 0;
  controlMessages = 0;
  dropControl = false;
  /** Milliseconds every control message waits before it is handled (fault injection). */
  controlDelayMs = 0;

  constructor(private readonly o: LiveNodeOptions) {
    const inst = o.instance;
    this.instance = inst;
    if (!(Number.isInteger(o.node) && o.node >= 0 && o.node < inst.nodeCount))
      fail(
        "INVALID_ARGUMENT",
        `live IDN node: expected a node index in [0, ${inst.nodeCount - 1}], got ${o.node}`,
      );
    this.index = o.node;
    const node = inst.topology.nodes[o.node];
    this.id = node.id;
    this.repository = node.repository;
    this.policy = new Infida(inst, liveInfidaOptions(o.policy, o.seed));
    this.upstream = pathToRepository(inst.routing, o.node).slice(1);
    this.onPath = new Uint8Array(inst.typeCount);
    this.typesThrough = [];
    for (let t = 0; t < inst.typeCount; t++)
      for (let k = inst.pathStart[t]; k < inst.pathStart[t + 1]; k++)
        if (inst.pathNodes[k] === o.node) {
          this.onPath[t] = 1;
          this.typesThrough.push(t);
        }
    this.pairFrom = inst.nodePairStart[o.node];
    this.pairTo = inst.nodePairStart[o.node + 1];
    this.hosted = new Uint8Array(this.pairTo - this.pairFrom);
    this.servedInSlot = new Float64Array(this.pairTo - this.pairFrom);
    this.bestUp = Float64Array.from(inst.repositoryCost);
    this.downUntil = new Float64Array(inst.nodeCount);
    this.grad = new Float64Array(inst.pairCount);
    this.capY = new Float64Array(inst.candPair.length);
    this.now = o.now ?? (() => performance.now());
    this.downMs = o.downMs ?? 1000;
  }

  /**
   * Back to the state of a fresh start (slot 0, INFIDA's initial y and draw, nothing learnt), the
   * models swapped live; what a comparison with the simulator from slot 0 needs.
   */
  async reset(): Promise<void> {
    this.policy = new Infida(this.instance, liveInfidaOptions(this.o.policy, this.o.seed));
    for (const map of [this.demandOf, this.demands, this.thresholds, this.entered, this.enteredTypes])
      map.clear();
    this.slot = 0;
    this.servedInSlot.fill(0);
    this.bestUp.set(this.instance.repositoryCost);
    this.downUntil.fill(0);
    if (!this.repository) await this.apply();
  }

  /** Loads the initial allocation (every model at a repository). */
  async start(): Promise<void> {
    if (this.repository) {
      for (let m = 0; m < this.instance.modelCount; m++) this.track(m, await this.o.host.load(m));
      return;
    }
    await this.apply();
  }

  private track(model: number, bytes: number): void {
    this.modelBytes.set(model, bytes);
    this.bytes += bytes;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }

  /** Models hosted here (catalog ids). */
  hostedModels(): string[] {
    const models = this.instance.catalog.models;
    return [...this.modelBytes.keys()].sort((a, b) => a - b).map((m) => models[m].id);
  }

  usedMB(): number {
    let used = 0;
    for (const m of this.modelBytes.keys()) used += this.instance.modelSize[m];
    return used;
  }

  /** Unloads what the policy dropped, then loads what it added: never above the budget. */
  private apply(): Promise<{ loads: number; unloads: number }> {
    const run = async () => {
      const inst = this.instance;
      const x = this.policy.allocation();
      let want = 0;
      for (let p = this.pairFrom; p < this.pairTo; p++) if (x[p]) want += inst.pairSize[p];
      const budget = inst.budgetMB[this.index];
      if (want > budget * (1 + 1e-12))
        fail(
          "CAPACITY",
          `node ${this.id}: allocation of ${want} MB over the budget of ${budget} MB (expected a budget-keeping policy)`,
        );
      let loads = 0;
      let unloads = 0;
      for (let p = this.pairFrom; p < this.pairTo; p++) {
        const j = p - this.pairFrom;
        if (this.hosted[j] && !x[p]) {
          this.hosted[j] = 0;
          const m = inst.pairModel[p];
          this.o.host.unload(m);
          this.bytes -= this.modelBytes.get(m) ?? 0;
          this.modelBytes.delete(m);
          unloads++;
        }
      }
      for (let p = this.pairFrom; p < this.pairTo; p++) {
        const j = p - this.pairFrom;
        if (!this.hosted[j] && x[p]) {
          const m = inst.pairModel[p];
          this.track(m, await this.o.host.load(m));
          this.hosted[j] = 1;
          loads++;
        }
      }
      return { loads, unloads };
    };
    const next = this.applying.then(run);
    this.applying = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /** Cheapest hosted candidate of type t at this node with capacity left, or -1. */
  private localCandidate(t: number): number {
    const inst = this.instance;
    for (let c = inst.candStart[t]; c < inst.candStart[t + 1]; c++) {
      const p = inst.candPair[c];
      if (inst.pairNode[p] !== this.index) continue;
      const j = p - this.pairFrom;
      if (this.hosted[j] && this.servedInSlot[j] < inst.pairCapacity[p]) return c;
    }
    return -1;
  }

  private checkType(t: unknown, what: string): number {
    if (!(typeof t === "number" && Number.isInteger(t) && t >= 0 && t < this.instance.typeCount))
      fail(
        "INVALID_ARGUMENT",
        `${what}: expected a request type in [0, ${this.instance.typeCount - 1}], got ${JSON.stringify(t)}`,
      );
    if (!this.onPath[t]) fail("INVALID_ARGUMENT", `${what}: request type ${t} does not pass node ${this.id}`);
    return t;
  }

  private answer(model: number, example: number, started: number, hops: number): InferResponse {
    const { predicted, label } = this.o.host.predict(model, example);
    this.served++;
    return {
      node: this.id,
      nodeIndex: this.index,
      model: this.instance.catalog.models[model].id,
      modelIndex: model,
      predicted,
      label,
      hops,
      latencyMs: this.now() - started,
    };
  }

  async infer(req: InferRequest): Promise<InferResponse> {
    const started = this.now();
    const inst = this.instance;
    const t = this.checkType(req?.type, "infer");
    const slot = req.slot ?? this.slot;
    if (!(Number.isInteger(slot) && slot >= 0))
      fail("INVALID_ARGUMENT", `infer: expected slot to be an integer >= 0, got ${JSON.stringify(req.slot)}`);
    if (!(Number.isInteger(req.example) && req.example >= 0))
      fail(
        "INVALID_ARGUMENT",
        `infer: expected example to be an integer >= 0, got ${JSON.stringify(req.example)}`,
      );
    if (req.entry) {
      let m = this.entered.get(slot);
      if (!m) this.entered.set(slot, (m = new Map()));
      m.set(t, (m.get(t) ?? 0) + 1);
    }
    if (this.repository) return this.answer(inst.repositoryModel[t], req.example, started, 1);
    // Ties go to the node nearer the source, as in serving.ts's candidate order.
    const c = this.localCandidate(t);
    if (c >= 0 && inst.candGamma[c] <= this.bestUp[t]) {
      this.servedInSlot[inst.candPair[c] - this.pairFrom]++;
      return this.answer(inst.pairModel[inst.candPair[c]], req.example, started, 1);
    }
    const dist = inst.routing.distanceMs;
    for (const u of this.upstream) {
      if (this.downUntil[u] > this.now()) continue;
      const oneWay = dist[this.index] - dist[u];
      await this.o.sleep(oneWay);
      try {
        const r = await this.o.transport.call<InferResponse>(u, "infer", {
          type: t,
          slot,
          example: req.example,
        });
        await this.o.sleep(oneWay);
        this.forwarded++;
        return { ...r, hops: r.hops + 1, latencyMs: this.now() - started };
      } catch {
        this.downUntil[u] = this.now() + this.downMs;
      }
    }
    // No upstream answered: serve with what is here rather than fail.
    let best = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    const tier = inst.topology.nodes[this.index].tier;
    for (const m of this.modelBytes.keys()) {
      if (inst.modelTask[m] !== inst.typeTask(t)) continue;
      const cost = inst.catalog.models[m].latencyMs[tier] + inst.alpha * (1 - inst.modelAccuracy[m]);
      if (cost < bestCost) [best, bestCost] = [m, cost];
    }
    if (best < 0)
      fail(
        "UPSTREAM_UNAVAILABLE",
        `node ${this.id}: no node up the path answered and no model of the task is hosted here`,
      );
    return { ...this.answer(best, req.example, started, 1), degraded: true };
  }

  private async checkControl(): Promise<void> {
    if (this.dropControl)
      fail("STATE", `node ${this.id}: control messages are being dropped (fault injection)`);
    this.controlMessages++;
    // A slow control plane (fault injection): a real timer, whatever `sleep` emulates.
    if (this.controlDelayMs > 0) await new Promise((r) => setTimeout(r, this.controlDelayMs));
  }

  /** Sends `body` to the first upstream node that answers (skipping `skip` when asked); null if none. */
  private async up<T>(route: LiveRoute, body: unknown, skipRepository: boolean): Promise<T | null> {
    for (const u of this.upstream) {
      if (skipRepository && this.instance.topology.nodes[u].repository) continue;
      try {
        return await this.o.transport.call<T>(u, route, body);
      } catch {
        // Route the control message around a node that does not answer.
      }
    }
    return null;
  }

  private addCounts(slot: number, counts: Iterable<[number, number]>): void {
    let m = this.demandOf.get(slot);
    if (!m) this.demandOf.set(slot, (m = new Map()));
    for (const [t, r] of counts) m.set(t, (m.get(t) ?? 0) + r);
    this.demands.delete(slot);
  }

  /** Phase 1 at the node where requests entered. */
  async close(slot: number): Promise<void> {
    await this.checkControl();
    const counts = [...(this.entered.get(slot) ?? new Map<number, number>())];
    this.entered.delete(slot);
    if (counts.length === 0 || this.repository) return;
    this.enteredTypes.set(slot, new Set(counts.map(([t]) => t)));
    this.addCounts(slot, counts);
    await this.up<unknown>("demand", { slot, counts } satisfies DemandMessage, true);
  }

  /** Phase 1 on the way up. */
  async demand(msg: DemandMessage): Promise<void> {
    await this.checkControl();
    for (const [t] of msg.counts) this.checkType(t, "demand");
    if (this.repository) return;
    this.addCounts(msg.slot, msg.counts);
    await this.up<unknown>("demand", msg, true);
  }

  /** This node's view of the slot's demand: the types through it with their counts. */
  private demandAt(slot: number): SlotDemand {
    let d = this.demands.get(slot);
    if (d) return d;
    const counts = this.demandOf.get(slot) ?? new Map<number, number>();
    const types = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    d = new SlotDemand(this.instance).set(
      types,
      Float64Array.from(types, (t) => counts.get(t) as number),
      slot,
    );
    this.demands.set(slot, d);
    return d;
  }

  /** Phase 2 at the node where requests entered: one message up the path, thresholds back. */
  async exchange(slot: number): Promise<void> {
    await this.checkControl();
    if (this.repository) return;
    const d = this.demandAt(slot);
    // The types whose requests entered here (this node sent their counts up in phase 1).
    const own: PathMessage["types"] = [];
    for (let i = 0; i < d.types.length; i++) {
      const t = d.types[i];
      if (this.enteredHere(slot, t)) own.push({ type: t, count: d.counts[i], entries: [] });
    }
    if (own.length === 0) return;
    await this.path({ slot, types: own }, true);
  }

  private readonly enteredTypes = new Map<number, Set<number>>();

  private enteredHere(slot: number, t: number): boolean {
    return this.enteredTypes.get(slot)?.has(t) ?? false;
  }

  /** Phase 2 on the way up: appends l * y of this node's candidates; the last node computes K*. */
  async path(msg: PathMessage, fromHere = false): Promise<PathReply> {
    if (!fromHere) await this.checkControl();
    const inst = this.instance;
    const y = this.policy.y;
    const d = this.repository ? null : this.demandAt(msg.slot);
    const types = msg.types.map((e) => {
      this.checkType(e.type, "path");
      const entries = e.entries.slice();
      if (d) {
        const i = d.indexOf(e.type);
        if (i >= 0)
          for (let c = inst.candStart[e.type]; c < inst.candStart[e.type + 1]; c++) {
            const p = inst.candPair[c];
            if (inst.pairNode[p] === this.index) entries.push([c, d.candCapacity[c] * y[p]]);
          }
      }
      return { type: e.type, count: e.count, entries };
    });
    let reply = this.repository ? null : await this.up<PathReply>("path", { slot: msg.slot, types }, false);
    if (!reply) reply = { thresholds: types.map((e) => [e.type, this.threshold(e)]) };
    let m = this.thresholds.get(msg.slot);
    if (!m) this.thresholds.set(msg.slot, (m = new Map()));
    for (const [t, th] of reply.thresholds) if (this.onPath[t]) m.set(t, th);
    return reply;
  }

  private threshold(e: PathMessage["types"][number]): number {
    const inst = this.instance;
    const a = inst.candStart[e.type];
    const b = inst.candStart[e.type + 1];
    this.capY.fill(0, a, b);
    for (const [c, v] of e.entries) if (c >= a && c < b) this.capY[c] = v;
    return chainThreshold(inst.candGamma, this.capY, a, b, e.count, inst.repositoryCost[e.type]);
  }

  /** Phase 3: INFIDA's step from what this node learnt, the redraw, the model loads. */
  async advance(slot: number): Promise<AdvanceReply> {
    await this.checkControl();
    const inst = this.instance;
    let loads = 0;
    let unloads = 0;
    if (!this.repository && this.pairTo > this.pairFrom) {
      const d = this.demandAt(slot);
      const ths = this.thresholds.get(slot);
      let touched = false;
      for (let i = 0; i < d.types.length; i++) {
        const t = d.types[i];
        const th = ths?.get(t);
        if (th === undefined) continue; // its control message did not come back
        for (let c = inst.candStart[t]; c < inst.candStart[t + 1]; c++) {
          const gap = th - inst.candGamma[c];
          if (gap <= 0) break;
          const p = inst.candPair[c];
          if (inst.pairNode[p] !== this.index) continue;
          this.grad[p] += d.candCapacity[c] * gap;
          touched = true;
        }
      }
      if (touched) this.policy.stepNode(this.index, this.grad);
      this.grad.fill(0, this.pairFrom, this.pairTo);
      if ((slot + 1) % this.policy.options.refresh === 0) this.policy.drawNode(this.index);
      ({ loads, unloads } = await this.apply());
    }
    this.loadsTotal += loads;
    for (const map of [this.demandOf, this.demands, this.thresholds, this.entered, this.enteredTypes])
      for (const k of [...map.keys()]) if (k <= slot) map.delete(k);
    this.slot = slot + 1;
    this.servedInSlot.fill(0);
    return {
      node: this.id,
      slot,
      loads,
      unloads,
      hosted: this.hostedModels(),
      usedMB: this.usedMB(),
      bytes: this.bytes,
    };
  }

  /** Best cost per type (gamma, from the type's source) at or above this node. */
  async best(): Promise<Array<[number, number]>> {
    await this.checkControl();
    const inst = this.instance;
    return this.typesThrough.map((t) => {
      let best = this.bestUp[t];
      if (!this.repository)
        for (let c = inst.candStart[t]; c < inst.candStart[t + 1]; c++) {
          const p = inst.candPair[c];
          if (inst.pairNode[p] === this.index && this.hosted[p - this.pairFrom]) {
            best = Math.min(best, inst.candGamma[c]);
            break;
          }
        }
      else best = inst.repositoryCost[t];
      return [t, best];
    });
  }

  /** Phase 4: learns the best cost at or above the next hop that answers. */
  async advertise(): Promise<void> {
    await this.checkControl();
    if (this.repository) return;
    this.bestUp.set(this.instance.repositoryCost);
    const reply = await this.up<Array<[number, number]>>("best", {}, false);
    if (reply) for (const [t, b] of reply) if (this.onPath[t]) this.bestUp[t] = b;
  }

  status(): LiveNodeStatus {
    const inst = this.instance;
    const load: LiveNodeStatus["load"] = [];
    for (let p = this.pairFrom; p < this.pairTo; p++)
      if (this.hosted[p - this.pairFrom])
        load.push({
          model: inst.catalog.models[inst.pairModel[p]].id,
          served: this.servedInSlot[p - this.pairFrom],
          capacity: inst.pairCapacity[p],
        });
    const node = inst.topology.nodes[this.index];
    return {
      node: this.id,
      index: this.index,
      tier: node.tier,
      repository: this.repository,
      slot: this.slot,
      hosted: this.hostedModels(),
      budgetMB: inst.budgetMB[this.index],
      usedMB: this.usedMB(),
      bytes: this.bytes,
      peakBytes: this.peakBytes,
      loadsTotal: this.loadsTotal,
      served: this.served,
      forwarded: this.forwarded,
      controlMessages: this.controlMessages,
      load,
      faults: { dropControl: this.dropControl, controlDelayMs: this.controlDelayMs },
    };
  }
}

/** Every route a live node answers (POST /idn/<route> over HTTP; in-process in tests). */
export const LIVE_ROUTES = [
  "infer",
  "demand",
  "path",
  "best",
  "close",
  "exchange",
  "advance",
  "advertise",
  "status",
  "faults",
  "reset",
] as const;
export type LiveNodeRoute = (typeof LIVE_ROUTES)[number];

function slotOf(body: unknown, route: string): number {
  const slot = (body as { slot?: unknown } | null)?.slot;
  if (!(typeof slot === "number" && Number.isInteger(slot) && slot >= 0))
    fail("INVALID_ARGUMENT", `${route}: expected {"slot": integer >= 0}, got ${JSON.stringify(body)}`);
  return slot;
}

function arrayField<T>(body: unknown, field: string, route: string): T[] {
  const v = (body as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(v))
    fail("INVALID_ARGUMENT", `${route}: expected "${field}" to be an array, got ${JSON.stringify(v)}`);
  return v as T[];
}

/** Runs one route on a node with a decoded JSON body; the answer is JSON-serialisable. */
export async function dispatchLive(node: LiveIdnNode, route: string, body: unknown): Promise<unknown> {
  switch (route as LiveNodeRoute) {
    case "infer":
      return node.infer(body as InferRequest);
    case "demand":
      await node.demand({ slot: slotOf(body, route), counts: arrayField(body, "counts", route) });
      return {};
    case "path":
      return node.path({ slot: slotOf(body, route), types: arrayField(body, "types", route) });
    case "best":
      return node.best();
    case "close":
      await node.close(slotOf(body, route));
      return {};
    case "exchange":
      await node.exchange(slotOf(body, route));
      return {};
    case "advance":
      return node.advance(slotOf(body, route));
    case "advertise":
      await node.advertise();
      return {};
    case "status":
      return node.status();
    case "reset":
      await node.reset();
      return node.status();
    case "faults": {
      const { dropControl, controlDelayMs } = (body ?? {}) as {
        dropControl?: unknown;
        controlDelayMs?: unknown;
      };
      if (
        (dropControl !== undefined && typeof dropControl !== "boolean") ||
        (controlDelayMs !== undefined && !(typeof controlDelayMs === "number" && controlDelayMs >= 0))
      )
        fail(
          "INVALID_ARGUMENT",
          `faults: expected {"dropControl"?: true|false, "controlDelayMs"?: ms >= 0}, got ${JSON.stringify(body)}`,
        );
      if (dropControl !== undefined) node.dropControl = dropControl;
      if (controlDelayMs !== undefined) node.controlDelayMs = controlDelayMs;
      return node.status().faults;
    }
    default:
      return fail(
        "UNKNOWN_NAME",
        `live IDN node: unknown route "${route}"; expected one of ${LIVE_ROUTES.join(", ")}`,
      );
  }
}
