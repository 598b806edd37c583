/**
 * The IDN model: built-in topologies (sizes from their public descriptions, routing against an
 * independent all-pairs shortest-path reference), catalogs (the published rows, the measured file),
 * traces (generators and the CSV format), and a clear typed error for every bad topology, catalog
 * or trace: unknown node, disconnected path, negative size, a model larger than every budget,
 * malformed JSON.
 */
import { describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { catalogFromJson, parseCatalogJson } from "../src/idn/catalog.js";
import { KERAS_APPLICATIONS } from "../src/idn/catalog-published.js";
import { createCatalog } from "../src/idn/catalogs.js";
import { IdnInstance } from "../src/idn/instance.js";
import { createTopology, parseTopologyJson, topologyToJson } from "../src/idn/topologies.js";
import { pathToRepository } from "../src/idn/topology.js";
import { parseTraceCsv, traceToCsv } from "../src/idn/trace-format.js";
import { generateTrace } from "../src/idn/traces.js";
import { tinyCatalog, tinyInstance, tinyTopology } from "./idn-fixtures.js";

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isMammalsError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected a MammalsError");
}

describe("topologies", () => {
  it("tree:depth=D,fanout=F has 1 + F + ... + F^D nodes, leaves as sources and paths of D + 1 nodes", () => {
    const t = createTopology("tree:depth=3,fanout=4");
    expect(t.nodes.length).toBe(1 + 4 + 16 + 64);
    expect(t.links.length).toBe(t.nodes.length - 1);
    expect(t.nodes.filter((n) => n.source).length).toBe(64);
    expect(t.name).toBe("tree:depth=3,fanout=4,budget=1,latency=1");
    const inst = new IdnInstance(t, createCatalog("published"), { alpha: 100 });
    for (const s of inst.sources)
      expect(pathToRepository(inst.routing, s).map((v) => t.nodes[v].tier)).toEqual([
        "access",
        "edge",
        "regional",
        "cloud",
      ]);
  });

  it("abilene (9 PoPs, 13 links) and geant (22 PoPs, 33 links) as in their source, with access nodes and one cloud", () => {
    for (const [spec, pops, links] of [
      ["abilene", 9, 13],
      ["geant", 22, 33],
    ] as const) {
      const t = createTopology(`${spec}:access=2`);
      expect(t.nodes.filter((n) => n.tier === "regional").length).toBe(pops);
      expect(t.nodes.filter((n) => n.tier === "access").length).toBe(2 * pops);
      expect(t.nodes.filter((n) => n.repository).length).toBe(1);
      expect(t.links.length).toBe(links + 2 * pops + 1);
      expect(t.provenance).toMatch(/Online-Multi-Agent-Cache-Networks/);
    }
    // Abilene latencies from geography: New York - Washington is about 330 km, so about 1.65 ms.
    const a = createTopology("abilene");
    const ny = a.nodes.findIndex((n) => n.id === "NEWY");
    const wa = a.nodes.findIndex((n) => n.id === "WASH");
    const link = a.links.find((l) => (l.a === ny && l.b === wa) || (l.a === wa && l.b === ny));
    expect(link?.latencyMs).toBeGreaterThan(1.4);
    expect(link?.latencyMs).toBeLessThan(1.9);
  });

  it("routes every node on a shortest-latency path to the repository (Floyd-Warshall reference)", () => {
    for (const spec of ["abilene", "geant:seed=3", "tree:depth=2,fanout=3"]) {
      const t = createTopology(spec);
      const inst = new IdnInstance(t, createCatalog("published"), { alpha: 100 });
      const n = t.nodes.length;
      const d = Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => (i === j ? 0 : Number.POSITIVE_INFINITY)),
      );
      for (const l of t.links) d[l.a][l.b] = d[l.b][l.a] = Math.min(d[l.a][l.b], l.latencyMs);
      for (let k = 0; k < n; k++)
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) d[i][j] = Math.min(d[i][j], d[i][k] + d[k][j]);
      const repo = t.nodes.findIndex((v) => v.repository);
      for (let v = 0; v < n; v++) {
        expect(inst.routing.distanceMs[v]).toBeCloseTo(d[v][repo], 9);
        const path = pathToRepository(inst.routing, v);
        let along = 0;
        for (let i = 0; i + 1 < path.length; i++)
          along += (
            t.links.find(
              (l) => (l.a === path[i] && l.b === path[i + 1]) || (l.b === path[i] && l.a === path[i + 1]),
            ) as { latencyMs: number }
          ).latencyMs;
        expect(along).toBeCloseTo(d[v][repo], 9);
      }
    }
  });

  it("JSON topologies round-trip, and every bad one gets an error naming the field, the expectation and what arrived", () => {
    const t = tinyTopology(new Rng(1), { access: 5, edge: 8, regional: 12 });
    const again = parseTopologyJson(topologyToJson(t), "round trip");
    expect(again.nodes).toEqual(t.nodes);
    expect(again.links).toEqual(t.links);
    const base = JSON.parse(topologyToJson(t));
    const bad = (mutate: (j: typeof base) => void) => {
      const j = structuredClone(base);
      mutate(j);
      return errorOf(() => parseTopologyJson(JSON.stringify(j), "net.json"));
    };
    expect(bad((j) => (j.links[0].b = "nowhere"))).toMatch(
      /net\.json: links\[0\]\.b: unknown node "nowhere"; expected one of the node ids/,
    );
    expect(bad((j) => (j.nodes[0].tier = "fog"))).toMatch(
      /nodes\[0\]\.tier: expected one of device, access, edge, regional, cloud, got "fog"/,
    );
    expect(bad((j) => (j.links[1].latencyMs = -3))).toMatch(
      /links\[1\]\.latencyMs: expected a finite number >= 0, got -3/,
    );
    expect(bad((j) => (j.nodes[1].id = "a1"))).toMatch(/id "a1" is used twice/);
    expect(bad((j) => delete j.nodes[2].budgetMB)).toMatch(/expected budgetMB or budgetRelative/);
    expect(bad((j) => (j.nodes = j.nodes.filter((n: { tier: string }) => n.tier !== "cloud")))).toMatch(
      /unknown node "c"|at least one repository/,
    );
    expect(errorOf(() => parseTopologyJson('{"nodes": [', "net.json"))).toMatch(
      /net\.json: malformed JSON \(.+\); expected \{"nodes"/,
    );
    expect(errorOf(() => parseTopologyJson("[]", "net.json"))).toMatch(
      /expected an object with "nodes" and "links" arrays/,
    );
    // Disconnected path: a source with no route to the cloud.
    const cut = structuredClone(base);
    cut.links = cut.links.filter((l: { a: string; b: string }) => l.a !== "a1" && l.b !== "a1");
    const island = parseTopologyJson(JSON.stringify(cut), "net.json");
    expect(errorOf(() => new IdnInstance(island, tinyCatalog(new Rng(2), 1, 2), { alpha: 1 }))).toMatch(
      /disconnected path: source node "a1" cannot reach any repository node/,
    );
    expect(errorOf(() => createTopology("tree:depth=0"))).toMatch(/parameter depth: expected >= 1, got 0/);
    expect(errorOf(() => createTopology("ring"))).toMatch(
      /unknown topology "ring"; expected one of tree, abilene, geant/,
    );
    expect(errorOf(() => createTopology("abilene:cloud=PARIS"))).toMatch(/unknown node "PARIS" for cloud=/);
  });
});

describe("catalogs", () => {
  it("published: the 26 Keras Applications rows, accuracy as a fraction, GPU latency at regional/cloud", () => {
    const c = createCatalog("published");
    expect(c.models.length).toBe(26);
    const mobile = c.models.find((m) => m.id === "MobileNetV2");
    expect(mobile).toMatchObject({ sizeMB: 14, accuracy: 0.713, task: "imagenet" });
    expect(mobile?.latencyMs).toMatchObject({
      edge: 25.9,
      access: 51.8,
      device: 103.6,
      regional: 3.8,
      cloud: 3.8,
    });
    expect(KERAS_APPLICATIONS.find((r) => r[0] === "EfficientNetB7")).toEqual([
      "EfficientNetB7",
      256,
      84.3,
      1578.9,
      61.6,
    ]);
    const four = createCatalog("published:tasks=4");
    expect(four.models.length).toBe(104);
    expect(four.tasks).toEqual(["imagenet-1", "imagenet-2", "imagenet-3", "imagenet-4"]);
  });

  it("measured: written by scripts/idn-measure-catalog.ts with its command and machine, every model valid", () => {
    const c = createCatalog("measured");
    expect(c.command).toMatch(/scripts\/idn-measure-catalog\.ts/);
    expect(c.machine).toBeTruthy();
    expect(c.tasks).toContain("mnist");
    for (const m of c.models) {
      expect(m.accuracy).toBeGreaterThan(0.5);
      expect(m.sizeMB).toBeGreaterThan(0);
    }
  });

  it("every bad catalog gets a clear error: negative size, accuracy out of range, duplicates, malformed JSON", () => {
    const base = {
      name: "c",
      models: [
        {
          id: "m",
          task: "t",
          sizeMB: 3,
          accuracy: 0.9,
          latencyMs: { device: 4, access: 3, edge: 2, regional: 1, cloud: 1 },
        },
      ],
    };
    const bad = (mutate: (m: Record<string, unknown>) => void) => {
      const j = structuredClone(base);
      mutate(j.models[0] as Record<string, unknown>);
      return errorOf(() => catalogFromJson(j, "models.json"));
    };
    expect(bad((m) => (m.sizeMB = -2))).toMatch(
      /models\.json: models\[0\] \(m\)\.sizeMB: expected a finite size > 0, got -2/,
    );
    expect(bad((m) => (m.accuracy = 93))).toMatch(/\.accuracy: expected a number in \[0, 1\], got 93/);
    expect(bad((m) => delete (m.latencyMs as Record<string, number>).edge)).toMatch(
      /latencyMs\.edge: expected a finite number >= 0/,
    );
    expect(
      errorOf(() => catalogFromJson({ models: [base.models[0], base.models[0]] }, "models.json")),
    ).toMatch(/id "m" is used twice/);
    expect(errorOf(() => parseCatalogJson("{models:", "models.json"))).toMatch(
      /models\.json: malformed JSON/,
    );
    expect(errorOf(() => createCatalog("zoo"))).toMatch(
      /unknown model catalog "zoo"; expected one of published, measured/,
    );
  });

  it("a model larger than every node's budget is refused, naming the model and the largest budget", () => {
    const rng = new Rng(3);
    const top = tinyTopology(rng, { access: 2, edge: 3, regional: 4 });
    const cat = tinyCatalog(rng, 1, 2);
    cat.models[0].sizeMB = 50;
    expect(errorOf(() => new IdnInstance(top, cat, { alpha: 10 }))).toMatch(
      /model "t0-m0" \(50 MB\) is larger than every node's budget .*largest: 4\.0 MB at node "r"/,
    );
  });
});

describe("traces", () => {
  it("generators produce the requested totals per slot, deterministically per seed", () => {
    const { instance } = tinyInstance(4);
    for (const spec of [
      "stationary:requests=1001",
      "sliding:requests=1001,drift=2",
      "adversarial:requests=1001,groups=2",
    ]) {
      const a = generateTrace(spec, { instance, slots: 10, seed: 7 });
      const b = generateTrace(spec, { instance, slots: 10, seed: 7 });
      expect(a.total).toBe(1001);
      expect(a.slots).toBe(10);
      expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
      let first = 0;
      for (let e = a.slotStart[0]; e < a.slotStart[1]; e++) first += a.counts[e];
      expect(first).toBe(101);
    }
    // Adversarial: consecutive slots use disjoint groups of request types.
    const adv = generateTrace("adversarial:requests=400,groups=2", { instance, slots: 4, seed: 1 });
    const typesOf = (t: number) => new Set(adv.types.subarray(adv.slotStart[t], adv.slotStart[t + 1]));
    for (const type of typesOf(0)) expect(typesOf(1).has(type)).toBe(false);
  });

  it("the CSV format round-trips, and bad traces name the line, the field and what arrived", () => {
    const { instance } = tinyInstance(5);
    const trace = generateTrace("stationary:requests=300", { instance, slots: 6, seed: 2 });
    const again = parseTraceCsv(traceToCsv(trace, instance), instance, "t.csv");
    expect(Array.from(again.counts)).toEqual(Array.from(trace.counts));
    expect(Array.from(again.slotStart)).toEqual(Array.from(trace.slotStart));
    const csv = (line: string) =>
      errorOf(() => parseTraceCsv(`slot,source,task,count\n${line}\n`, instance, "t.csv"));
    expect(csv("0,zz,t0,3")).toMatch(
      /t\.csv:2: source: unknown node "zz" in topology tiny; expected one of a1, a2/,
    );
    expect(csv("0,e,t0,3")).toMatch(/node "e" is not a request source/);
    expect(csv("0,a1,t9,3")).toMatch(/task: unknown task "t9" in catalog tiny; expected one of t0, t1/);
    expect(csv("0,a1,t0,-3")).toMatch(/count: expected an integer > 0, got "-3"/);
    expect(csv("x,a1,t0,3")).toMatch(/slot: expected an integer >= 0, got "x"/);
    expect(csv("0,a1,t0")).toMatch(/expected 4 fields/);
    expect(errorOf(() => parseTraceCsv("when,where\n", instance, "t.csv"))).toMatch(
      /t\.csv:1: expected the header "slot,source,task,count"/,
    );
    expect(errorOf(() => generateTrace("bursty", { instance, slots: 3, seed: 1 }))).toMatch(
      /unknown IDN trace "bursty"/,
    );
  });
});
