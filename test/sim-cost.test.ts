/**
 * The shared serving rule against brute force: single-answer cost min(C_r, min_y C_a) and the
 * k-NN answer (k distinct objects, each at its cheapest available copy) as the minimum over every
 * k-subset; nearest-stored lookups (catalog-list path and scan fallback) against a full scan.
 */
import { describe, expect, it } from "vitest";
import { makeCatalog } from "../src/caching/catalog.js";
import { createCostModel, makeAnswer, parseApprox, remoteCost, serve } from "../src/caching/cost.js";
import { makeNeighbours, StoredSet } from "../src/caching/stored-set.js";
import type { Catalog, CostModel, SimRequest } from "../src/caching/types.js";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/datasets.node.js";

function randomCatalog(rng: Rng, n: number, dim: number): Catalog {
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = Math.round(rng.normal() * 4) / 2; // ties happen
  return makeCatalog(`t${n}`, v, dim, "flat");
}

function request(catalog: Catalog, rng: Rng, K: number): SimRequest {
  const x = new Float32Array(catalog.dim);
  for (let j = 0; j < x.length; j++) x[j] = rng.normal() * 2;
  return { t: 0, x, catalog: catalog.nearest(x, K, makeNeighbours(K)) };
}

function fill(store: StoredSet, rng: Rng, m: number): void {
  for (const id of rng.sample(store.catalog.n, m)) store.add(id);
}

function* subsets(n: number, k: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc;
    return;
  }
  for (let i = start; i < n; i++) yield* subsets(n, k, i + 1, [...acc, i]);
}

function bruteKnn(cost: CostModel, catalog: Catalog, store: StoredSet, x: Float32Array): number {
  const per = (o: number) => cost.approx(catalog.distance(x, o)) + (store.has(o) ? 0 : cost.cf);
  let best = Number.POSITIVE_INFINITY;
  for (const s of subsets(catalog.n, cost.k))
    best = Math.min(
      best,
      s.reduce((a, o) => a + per(o), 0),
    );
  return best;
}

const APPROXES = ["identity", "power:2", "power:0.5", "step:1.5"];

describe("serve: single-answer setting", () => {
  it("costs min(C_r, min_y C_a(x, y)) and is local iff that minimum is below C_r", () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 300; trial++) {
      const catalog = randomCatalog(rng, 3 + rng.int(20), 1 + rng.int(3));
      const cost = createCostModel({ k: 1, cr: 0.5 + rng.next() * 4, approx: APPROXES[trial % 4] });
      const store = new StoredSet(catalog, 1 + rng.int(catalog.n));
      fill(store, rng, rng.int(store.capacity + 1));
      const K = 1 + rng.int(catalog.n); // short lists exercise the scan fallback
      const req = request(catalog, rng, K);
      const a = serve(cost, store, req, makeAnswer(1));
      let best = cost.cr;
      for (const y of store.ids()) best = Math.min(best, cost.approx(catalog.distance(req.x, y)));
      expect(a.cost).toBe(best);
      expect(a.hit).toBe(best < cost.cr);
      expect(a.fetched).toBe(a.hit ? 0 : 1);
      if (!a.hit) expect(a.ids[0]).toBe(req.catalog.ids[0]);
      else expect(store.has(a.ids[0])).toBe(true);
      expect(remoteCost(cost, req.catalog)).toBe(cost.cr);
    }
  });
});

describe("serve: k-NN setting", () => {
  it("equals the cheapest k distinct objects over every k-subset (brute force)", () => {
    const rng = new Rng(12);
    for (let trial = 0; trial < 300; trial++) {
      const n = 4 + rng.int(6);
      const catalog = randomCatalog(rng, n, 1 + rng.int(2));
      const k = 1 + rng.int(Math.min(3, n - 1)) + 1;
      const cost = createCostModel({ k, cf: [0, 0.3, 1, 5][trial % 4], approx: APPROXES[(trial >> 2) % 4] });
      const store = new StoredSet(catalog, k + rng.int(n - k + 1));
      fill(store, rng, rng.int(store.capacity + 1));
      const K = k + rng.int(n - k + 1);
      const req = request(catalog, rng, K);
      const a = serve(cost, store, req, makeAnswer(k));
      expect(a.cost).toBeCloseTo(bruteKnn(cost, catalog, store, req.x), 9);
      // k distinct objects, local flags honest, per-object costs consistent.
      expect(new Set(a.ids).size).toBe(k);
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const o = a.ids[j];
        expect(a.local[j] === 1).toBe(a.local[j] === 1 && store.has(o));
        const c = cost.approx(catalog.distance(req.x, o)) + (a.local[j] ? 0 : cost.cf);
        expect(a.costs[j]).toBeCloseTo(c, 12);
        sum += a.costs[j];
      }
      expect(a.cost).toBeCloseTo(sum, 12);
      expect(a.fetched).toBe(k - a.local.reduce((s, v) => s + v, 0));
      expect(a.hit).toBe(a.fetched === 0);
    }
  });

  it("a hand-checked case: stored far object versus a fetched near one", () => {
    // 1-D catalog 0, 1, 2, 10; request at 0.2; k = 2; c_f = 1.5; object 3 (at 10) and 1 stored.
    const catalog = makeCatalog("line", Float32Array.from([0, 1, 2, 10]), 1);
    const cost = createCostModel({ k: 2, cf: 1.5 });
    const store = new StoredSet(catalog, 2);
    store.add(3);
    store.add(1);
    const x = Float32Array.from([0.2]);
    const req = { t: 0, x, catalog: catalog.nearest(x, 4, makeNeighbours(4)) };
    const a = serve(cost, store, req, makeAnswer(2));
    // object 1 local: 0.8; object 0 fetched: 0.2 + 1.5 = 1.7; object 2 fetched 3.3; object 3 local 9.8.
    expect(Array.from(a.ids)).toEqual([1, 0]);
    expect(Array.from(a.local)).toEqual([1, 0]);
    expect(a.cost).toBeCloseTo(0.8 + 1.7, 6);
    expect(remoteCost(cost, req.catalog)).toBeCloseTo(0.2 + 1.5 + 0.8 + 1.5, 6);
  });
});

describe("stored-set lookups", () => {
  it("nearest via the catalog list equals the exact bounded scan", () => {
    const rng = new Rng(13);
    for (let trial = 0; trial < 300; trial++) {
      const catalog = randomCatalog(rng, 5 + rng.int(40), 1 + rng.int(4));
      const store = new StoredSet(catalog, 1 + rng.int(catalog.n));
      fill(store, rng, rng.int(store.capacity + 1));
      const req = request(catalog, rng, 1 + rng.int(catalog.n));
      const k = 1 + rng.int(4);
      const maxDist = rng.next() < 0.2 ? Number.POSITIVE_INFINITY : rng.next() * 6;
      const got = store.nearest(req.x, k, maxDist, req.catalog, makeNeighbours(k));
      // reference: sort every stored object by (distance, id)
      const ref = Array.from(store.ids())
        .map((id) => ({ id, d: catalog.distance(req.x, id) }))
        .filter((e) => e.d <= maxDist)
        .sort((p, q) => p.d - q.d || p.id - q.id)
        .slice(0, k);
      expect(got.count).toBe(ref.length);
      for (let j = 0; j < ref.length; j++) expect(got.dists[j]).toBe(ref[j].d);
      // ids may differ only among equal distances
      const byD = new Map<number, Set<number>>();
      for (const e of Array.from(store.ids()).map((id) => ({ id, d: catalog.distance(req.x, id) })))
        byD.set(e.d, (byD.get(e.d) ?? new Set()).add(e.id));
      for (let j = 0; j < ref.length; j++) expect(byD.get(got.dists[j])?.has(got.ids[j])).toBe(true);
    }
  });

  it("projected lower-bound pruning (784-d MNIST) returns exactly the plain scan's result", () => {
    const ds = loadDataset("mnist");
    const n = 2000;
    const catalog = makeCatalog("mnist2000", ds.train.x.subarray(0, n * 784), 784, "flat");
    const rng = new Rng(15);
    const empty = makeNeighbours(1);
    empty.count = 0;
    for (const h of [20, 200]) {
      const store = new StoredSet(catalog, h);
      fill(store, rng, h);
      for (let trial = 0; trial < 60; trial++) {
        const r = rng.int(n);
        const noisy = trial % 2 === 1;
        const x = Float32Array.from(catalog.row(r), (v) => (noisy ? v + 0.05 * rng.normal() : v));
        const k = 1 + rng.int(5);
        const maxDist = [2, 5, 8, Number.POSITIVE_INFINITY][trial % 4];
        const got = store.nearest(x, k, maxDist, empty, makeNeighbours(k), noisy ? -1 : r);
        const ref = store.scan(x, k, maxDist, makeNeighbours(k));
        expect(got.count).toBe(ref.count);
        expect(Array.from(got.ids.subarray(0, got.count))).toEqual(
          Array.from(ref.ids.subarray(0, ref.count)),
        );
        expect(Array.from(got.dists.subarray(0, got.count))).toEqual(
          Array.from(ref.dists.subarray(0, ref.count)),
        );
      }
      expect(store.scans).toBe(60);
      // removals keep the projected copies in step
      for (const id of Array.from(store.ids()).slice(0, h / 2)) store.remove(id);
      const x = catalog.row(7);
      expect(store.nearest(x, 3, 1e9, empty, makeNeighbours(3)).ids.subarray(0, 3)).toEqual(
        store.scan(x, 3, 1e9, makeNeighbours(3)).ids.subarray(0, 3),
      );
    }
  });

  it("rejects capacity overflow, duplicates and unknown ids without changing the set", () => {
    const catalog = makeCatalog("line", Float32Array.from([0, 1, 2, 3]), 1);
    const s = new StoredSet(catalog, 2);
    s.add(0);
    s.add(2);
    expect(() => s.add(3)).toThrow(/capacity/);
    expect(() => s.add(0)).toThrow(/already/);
    expect(() => s.add(9)).toThrow(/not a catalog object/);
    expect(() => s.remove(1)).toThrow(/not stored/);
    expect(Array.from(s.ids()).sort()).toEqual([0, 2]);
    s.checkConsistency("test");
  });
});

describe("approximation costs", () => {
  it("maxDistanceBelow is the exact boundary of approx(d) < bound", () => {
    const rng = new Rng(14);
    for (const spec of ["identity", "power:2", "power:0.37", "power:3", "step:0.7"]) {
      const a = createCostModel({ k: 1, approx: spec });
      for (let i = 0; i < 200; i++) {
        const b = rng.next() * 3;
        const d = a.maxDistanceBelow(b);
        if (d === Number.POSITIVE_INFINITY) {
          expect(a.approx(1e9)).toBeLessThan(b);
          continue;
        }
        if (d >= 0) expect(a.approx(d)).toBeLessThan(b);
        if (spec.startsWith("step")) expect(a.approx(d + 1e-9)).toBeGreaterThanOrEqual(b);
        else expect(a.approx(d * (1 + 1e-12) + 1e-300)).toBeGreaterThanOrEqual(b);
      }
    }
  });

  it("rejects bad specs and conflicting settings with clear errors", () => {
    expect(() => parseApprox("cubic")).toThrow(
      /unknown approximation cost "cubic".*identity.*power:P.*step:R/,
    );
    expect(() => parseApprox("step")).toThrow(/needs a radius/);
    expect(() => parseApprox("power:-1")).toThrow(/>= 0|> 0/);
    expect(() => createCostModel({ k: 2, cr: 1 })).toThrow(/--k 1/);
    expect(() => createCostModel({ k: 1, cr: 1, cf: 1 })).toThrow(/not both/);
    expect(createCostModel({ k: 1 }).setting).toBe("single");
    expect(createCostModel({ k: 1, cf: 2 }).setting).toBe("knn");
    expect(createCostModel({ k: 3 }).setting).toBe("knn");
  });
});
