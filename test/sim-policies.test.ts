/**
 * Cache policies through the shared loop: invariants of every registered policy in every setting
 * it declares, refusal of the others, independent hand-checked cases, the adversarial trace that
 * defeats LRU, and spec parsing. Golden figures of every policy: golden-policies.test.ts.
 */
import { describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCostModel } from "../src/caching/cost.js";
import {
  cachePolicies,
  capabilityOf,
  createCachePolicies,
  createCachePolicy,
  parsePolicyList,
} from "../src/caching/registry.js";
import { simulate } from "../src/caching/simulator.js";
import { generateTrace } from "../src/caching/traces.js";
import type { CachePolicy, ServedAnswer, SimRequest } from "../src/caching/types.js";
import { isMammalsError } from "../src/core/errors.js";
import { rowTrace, runPolicies } from "./sim-fixtures.js";

const small = () => {
  const g = gaussVectors("n=400,dim=6,seed=2,clusters=8,spread=0.4");
  return makeCatalog(g.canonical, g.vectors, g.dim, "flat");
};

/** Wraps a policy so that capacity is checked after every single update. */
function capacityChecked(p: CachePolicy): CachePolicy {
  return {
    name: p.name,
    spec: p.spec,
    capacity: p.capacity,
    store: p.store,
    catalogNeighbours: p.catalogNeighbours,
    update(req: SimRequest, a: ServedAnswer) {
      const m = p.update(req, a);
      if (p.store.size > p.capacity)
        throw new Error(`${p.spec}: ${p.store.size} > ${p.capacity} at t=${req.t}`);
      return m;
    },
    checkInvariants: () => p.checkInvariants(),
  };
}

const MINE = ["lru", "fifo", "lfu", "random", "sim-lru", "rnd-lru", "cls-lru", "qlru-dc", "duel"];

describe("every cache policy keeps its invariants", () => {
  const catalog = small();
  const settings = [
    { k: 1, cr: 1.2, approx: "identity" },
    { k: 1, cr: 1, approx: "step:0.8" },
    { k: 4, cf: 0.7, approx: "power:2" },
  ];
  for (const s of settings)
    it(`k=${s.k} ${s.approx}: ${MINE.join(", ")} (capacity checked after every update)`, () => {
      const cost = createCostModel(s);
      const trace = generateTrace("shift:alpha=1,count=3000,seed=4,noise=0.1,phases=3", catalog);
      const specs = MINE.filter((n) => cachePolicies.supports(n, capabilityOf(cost.setting)));
      for (const h of [4, 37]) {
        const policies = specs.map((n, i) =>
          capacityChecked(createCachePolicy(n, { capacity: h, catalog, cost, seed: i })),
        );
        const result = simulate({ catalog, cost, policies, trace });
        for (const r of result.results) {
          expect(r.hitRatio).toBeGreaterThanOrEqual(0);
          expect(r.hitRatio).toBeLessThanOrEqual(1);
          expect(r.normalizedCost).toBeLessThanOrEqual(1 + 1e-12);
          expect(r.fetched).toBeGreaterThanOrEqual(r.moved);
        }
      }
    });

  it("every registered cache policy runs through the shared loop and passes its checks", () => {
    const names = cachePolicies.names();
    expect(names).toEqual(expect.arrayContaining(MINE));
    for (const s of [
      { k: 1, cr: 1.2 },
      { k: 3, cf: 0.7 },
    ]) {
      const cost = createCostModel(s);
      const trace = generateTrace("irm:alpha=1,count=600,seed=4,noise=0.1", catalog);
      const specs = cachePolicies.names(capabilityOf(cost.setting));
      const { result } = runPolicies(catalog, cost, trace, specs, 12);
      expect(result.results.length).toBe(specs.length);
      // The rest are refused before they are built.
      for (const n of names.filter((x) => !specs.includes(x)))
        expect(() => createCachePolicy(n, { capacity: 12, catalog, cost, seed: 1 })).toThrowError(
          expect.objectContaining({ code: "UNSUPPORTED" }),
        );
    }
  });

  it("duel refuses the k-NN setting; capacity below k is refused", () => {
    const ctx = { capacity: 8, catalog, cost: createCostModel({ k: 2, cf: 1 }), seed: 1 };
    expect(() => createCachePolicy("duel", ctx)).toThrow(/single-answer/);
    expect(() => createCachePolicy("lru", { ...ctx, capacity: 1 })).toThrow(
      /capacity must be an integer >= k = 2/,
    );
  });

  it("a policy outside its declared settings is refused before anything is built or run", () => {
    const knn = createCostModel({ k: 2, cf: 1 });
    const single = createCostModel({ k: 1, cr: 1 });
    expect(cachePolicies.get("duel").capabilities).toEqual(["single-answer"]);
    const knnPolicies = cachePolicies.names("knn");
    expect(knnPolicies).not.toContain("duel");
    expect(knnPolicies).toEqual(expect.arrayContaining(["lru", "sim-lru", "qlru-dc", "acai", "static-opt"]));
    // The message names the policy, the setting (with its flags) and the policies that support it.
    let err: unknown;
    try {
      createCachePolicy("duel:tau=5", { capacity: 8, catalog, cost: knn, seed: 1 });
    } catch (e) {
      err = e;
    }
    expect(isMammalsError(err, "UNSUPPORTED")).toBe(true);
    expect((err as Error).message).toBe(
      "cache policy duel does not support knn (the cost model is the k-NN setting: --k 2 --cf 1); " +
        `it supports single-answer; knn is supported by ${knnPolicies.join(", ")}`,
    );
    // A list is checked whole first: static-opt, first in the list, never reads the trace.
    let replays = 0;
    const offline = {
      count: 1,
      *requests() {
        replays++;
        yield catalog.row(0);
      },
    };
    expect(() =>
      createCachePolicies(["static-opt", "duel"], (i) => ({
        capacity: 8,
        catalog,
        cost: knn,
        seed: i,
        offline,
      })),
    ).toThrowError(expect.objectContaining({ code: "UNSUPPORTED" }));
    expect(replays).toBe(0);
    // The simulator refuses a registered policy built for another setting before the first request.
    const duel = createCachePolicy("duel", { capacity: 8, catalog, cost: single, seed: 1 });
    let served = 0;
    const trace = {
      ...generateTrace("irm:count=10", catalog),
      *requests() {
        served++;
        yield* generateTrace("irm:count=10", catalog).requests();
      },
    };
    expect(() => simulate({ catalog, cost: knn, policies: [duel], trace })).toThrow(
      /cache policy duel does not support knn/,
    );
    expect(served).toBe(0);
  });

  it("checkInvariants detects a store changed behind the policy's back", () => {
    const cost = createCostModel({ k: 1, cr: 1 });
    for (const name of ["lru", "fifo", "lfu", "sim-lru", "qlru-dc"]) {
      const { policies } = runPolicies(catalog, cost, generateTrace("irm:count=500", catalog), [name], 10);
      const p = policies[0];
      const victim = p.store.ids()[0];
      p.store.remove(victim);
      let err: unknown;
      try {
        p.checkInvariants();
      } catch (e) {
        err = e;
      }
      expect(isMammalsError(err, "STATE"), name).toBe(true);
    }
  });
});

describe("hand-checked figures", () => {
  it("hand-checked: sim-lru and lru on a 1-D catalog with a step cost", () => {
    // A=0, B=0.6, C=5, D=5.5, E=20; step:1 and C_r = 1 => local iff a stored object is within 1.
    const catalog = makeCatalog("line", Float32Array.from([0, 0.6, 5, 5.5, 20]), 1);
    const cost = createCostModel({ k: 1, cr: 1, approx: "step:1" });
    const [A, B, C, D, E] = [0, 1, 2, 3, 4];
    const trace = rowTrace(catalog, [A, B, C, D, E, B, A, C]);
    const { result, policies } = runPolicies(catalog, cost, trace, ["sim-lru", "lru"], 2);
    const [sim, lru] = result.results;
    // sim-lru: A miss [A]; B hit via A; C miss [C,A]; D hit via C; E miss [E,C]; B miss [B,E];
    // A hit via B; C miss [C,B]. 3 hits, 5 fetches, no movement.
    expect(sim.hitRatio * 8).toBe(3);
    expect(sim.fetched).toBe(5);
    expect(sim.moved).toBe(0);
    expect(sim.avgCost * 8).toBe(5);
    expect(Array.from(policies[0].store.ids()).sort()).toEqual([B, C]);
    // lru inserts the exact object even when served approximately: B, D and A are served locally
    // (3 hits) but each is inserted afterwards (3 movements); ends with [C, A].
    expect(lru.hitRatio * 8).toBe(3);
    expect(lru.moved).toBe(3);
    expect(lru.fetched).toBe(5 + 3);
    expect(Array.from(policies[1].store.ids()).sort()).toEqual([A, C]);
  });

  it("hand-checked: exact lru with capacity 2", () => {
    const catalog = makeCatalog("pts", Float32Array.from([0, 10, 20, 30]), 1);
    const cost = createCostModel({ k: 1, cr: 1, approx: "step:1" });
    const { result } = runPolicies(
      catalog,
      cost,
      rowTrace(catalog, [0, 1, 0, 2, 1, 0, 3, 0]),
      ["lru", "fifo"],
      2,
    );
    expect(result.results[0].hitRatio * 8).toBe(2); // 0 (3rd) and 0 (last)
    // fifo (newest first): [0]; [1,0]; 0 hit; 2 evicts 0 -> [2,1]; 1 hit; 0 evicts 1 -> [0,2];
    // 3 evicts 2 -> [3,0]; 0 hit. 3 hits.
    expect(result.results[1].hitRatio * 8).toBe(3);
  });
});

describe("adversarial trace", () => {
  it("round-robin over h + 1 objects gives lru and fifo a hit ratio of 0, perfect LFU keeps most", () => {
    const catalog = small();
    const h = 20;
    const cost = createCostModel({ k: 1, cr: 0.01 }); // only an exact object is served locally
    const trace = generateTrace(`adversarial:m=${h + 1},count=2100,seed=3`, catalog);
    const { result } = runPolicies(catalog, cost, trace, ["lru", "fifo", "lfu:admit=frequent"], h);
    const [lru, fifo, lfu] = result.results;
    expect(lru.hitRatio).toBe(0);
    expect(fifo.hitRatio).toBe(0);
    expect(lfu.hitRatio).toBeGreaterThan(0.9);
  });
});

describe("policy specs", () => {
  it("parses lists, rejects unknown names and keys", () => {
    expect(parsePolicyList("lru, qlru-dc:q=0.1,duel:tau=5,beta=0.5")).toEqual([
      "lru",
      "qlru-dc:q=0.1",
      "duel:tau=5,beta=0.5",
    ]);
    const catalog = small();
    const ctx = { capacity: 5, catalog, cost: createCostModel({ k: 1 }), seed: 1 };
    expect(() => createCachePolicy("nope", ctx)).toThrow(/unknown cache policy "nope"/);
    expect(() => createCachePolicy("qlru-dc:z=1", ctx)).toThrow(/unknown parameter "z"; expected one of q/);
    expect(() => createCachePolicy("qlru-dc:q=2", ctx)).toThrow(/<= 1/);
    expect(createCachePolicy("qlru-dc:q=0.01", ctx).spec).toBe("qlru-dc:q=0.01");
  });
});
