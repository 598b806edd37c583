import { describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { l2sq } from "../src/core/vectors.js";
import { createIndex } from "../src/index/factory.js";
import { type Ib3Policy, wilsonInterval } from "../src/memory/admission/ib3.js";
import { admissionPolicies } from "../src/memory/admission/index.js";
import type { AdmissionOffer } from "../src/memory/admission/types.js";
import type { UtilityPolicy } from "../src/memory/admission/utility.js";
import {
  createLabeledNeighbours,
  ENTRY_METADATA_BYTES,
  type ExampleSource,
  LabeledMemory,
  type LabeledNeighbours,
} from "../src/memory/labeled-memory.js";

const DIM = 4;
const C = 3;

function memoryWith(admission: string, capacity: { items?: number; bytes?: number }) {
  return new LabeledMemory({
    index: createIndex("flat", DIM),
    numClasses: C,
    capacityItems: capacity.items,
    capacityBytes: capacity.bytes,
    admission,
  });
}

/** An offer whose neighbours and 1-NN prediction come from the memory itself (as a node would compute them). */
function offerFor(
  m: LabeledMemory,
  key: Float32Array,
  label: number,
  source: ExampleSource = "feedback",
  forwarded = false,
  k = 3,
): AdmissionOffer {
  const nb = m.search(key, k, createLabeledNeighbours(k), false);
  return {
    key,
    label,
    source,
    predictedLabel: nb.count > 0 ? nb.labels[0] : -1,
    confidence: 1,
    neighbours: nb,
    forwarded,
  };
}

function vec(...v: number[]): Float32Array {
  return Float32Array.from(v);
}

/** Ids found by an exhaustive search of the index (the index's own view of what is stored). */
function indexedIds(m: LabeledMemory): number[] {
  if (m.size === 0) return [];
  return m.index.search(new Float32Array(DIM), m.size).ids.sort((a, b) => a - b);
}

describe("LabeledMemory + admission policies: invariants under random offers", () => {
  const specs = [
    "all",
    "all:evict=fifo",
    "ib2",
    "ib3",
    "ib3:pendingWeight=0",
    "utility:window=32",
    "utility:upstreamTrust=1,minScore=0",
  ];
  const capacities = [
    { items: 7 },
    { bytes: 6 * (DIM * 4 + ENTRY_METADATA_BYTES) + 3 },
    { items: 20, bytes: 10_000 },
  ];
  for (const spec of specs)
    for (const cap of capacities)
      it(`${spec} with ${JSON.stringify(cap)}: capacity never exceeded, index == stored set`, () => {
        const m = memoryWith(spec, cap);
        const rng = new Rng(11);
        for (let t = 0; t < 400; t++) {
          const label = rng.int(C);
          const key = vec(label + rng.normal() * 0.8, rng.normal(), rng.normal(), rng.normal());
          const r = m.offer(
            offerFor(m, key, label, rng.next() < 0.5 ? "feedback" : "upstream", rng.next() < 0.3),
          );
          m.checkInvariants();
          expect(m.size).toBeLessThanOrEqual(cap.items ?? Number.POSITIVE_INFINITY);
          expect(m.bytes).toBeLessThanOrEqual(cap.bytes ?? Number.POSITIVE_INFINITY);
          expect(indexedIds(m)).toEqual(m.ids().sort((a, b) => a - b));
          for (const id of r.removed) expect(m.has(id)).toBe(false);
          if (r.admitted) expect(m.has(r.id)).toBe(true);
          if (t % 7 === 0) m.search(key, 2, createLabeledNeighbours(2)); // usage for LRU
        }
        const s = m.stats;
        expect(s.offers).toBe(400);
        expect(s.admissions + s.rejections).toBe(400);
        expect(s.admissions - s.evictions - s.drops - s.removals).toBe(m.size);
      });
});

describe("all", () => {
  it("evicts the least recently used entry (LRU) or the oldest (fifo)", () => {
    for (const evict of ["lru", "fifo"]) {
      const m = memoryWith(`all:evict=${evict}`, { items: 3 });
      const keys = [vec(0, 0, 0, 0), vec(10, 0, 0, 0), vec(20, 0, 0, 0)];
      const ids = keys.map((k, i) => m.offer(offerFor(m, k, i % C)).id);
      m.search(vec(0.1, 0, 0, 0), 1, createLabeledNeighbours(1)); // uses ids[0]
      const r = m.offer(offerFor(m, vec(30, 0, 0, 0), 0));
      expect(r.admitted).toBe(true);
      expect(r.removed).toEqual(evict === "lru" ? [ids[1]] : [ids[0]]);
    }
  });
  it("stores feedback with weight 1 and upstream answers with upstreamTrust; upstreamTrust=0 never stores them", () => {
    const m = memoryWith("all:upstreamTrust=0.25", { items: 10 });
    const a = m.offer(offerFor(m, vec(1, 0, 0, 0), 1, "feedback")).id;
    const b = m.offer(offerFor(m, vec(2, 0, 0, 0), 2, "upstream")).id;
    expect([m.weight(a), m.weight(b), m.source(a), m.source(b)]).toEqual([1, 0.25, "feedback", "upstream"]);
    const z = memoryWith("all:upstreamTrust=0", { items: 10 });
    expect(z.offer(offerFor(z, vec(1, 0, 0, 0), 1, "upstream")).admitted).toBe(false);
  });
});

describe("ib2", () => {
  it("stores exactly the examples the current prediction gets wrong", () => {
    const m = memoryWith("ib2", { items: 100 });
    const rng = new Rng(3);
    for (let t = 0; t < 200; t++) {
      const label = rng.int(C);
      const key = vec(label * 3 + rng.normal(), rng.normal(), 0, 0);
      const o = offerFor(m, key, label);
      const before = m.size;
      const r = m.offer(o);
      expect(r.admitted).toBe(o.predictedLabel !== label);
      expect(m.size).toBe(before + (r.admitted ? 1 : 0));
    }
    // Well-separated classes: a handful of stored exceptions suffice.
    expect(m.size).toBeLessThan(40);
  });
});

describe("ib3", () => {
  it("matches the Wilson interval formula", () => {
    const [lo, hi] = wilsonInterval(0.7, 10, 0.9);
    const z = 0.9;
    const n = 10;
    const p = 0.7;
    const c = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
    const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
    expect(lo).toBeCloseTo(c - h, 12);
    expect(hi).toBeCloseTo(c + h, 12);
    expect(wilsonInterval(0.5, 0, 0.9)).toEqual([0, 1]);
  });

  it("drops an entry whose classification record is poor, and accepts a good one", () => {
    const m = memoryWith("ib3", { items: 50 });
    const policy = m.policy as Ib3Policy;
    // A mislabeled entry (class 0) in the middle of class 1; good entries of classes 0 and 2 far away.
    const stored = (x: number, label: number) =>
      m.offer({ ...offerFor(m, vec(x, 0, 0, 0), label), predictedLabel: -1 }).id;
    const bad = stored(0, 0);
    const good = stored(100, 2);
    stored(-100, 0);
    expect(m.weight(bad)).toBe(0.5); // on probation: trust * pendingWeight
    let dropped = false;
    for (let t = 0; t < 30 && !dropped; t++) {
      // Examples arrive near each entry; pretend they are predicted right so none is stored.
      for (const [x, label] of [
        [0, 1],
        [100, 2],
        [-100, 0],
      ])
        m.offer({
          ...offerFor(m, vec(x + 0.01 * t, 0, 0, 0), label, "feedback", false, 1),
          predictedLabel: label,
        });
      dropped = !m.has(bad);
      m.checkInvariants();
    }
    expect(dropped).toBe(true);
    expect(m.stats.drops).toBe(1);
    expect(m.stats.admissions).toBe(3);
    expect(policy.record(bad)).toBeUndefined();
    expect(policy.record(good)?.acceptable).toBe(true);
    expect(m.weight(good)).toBe(1);
  });
});

describe("utility", () => {
  it("scores a candidate by the recent costly requests it would have been nearest to", () => {
    const m = memoryWith("utility:upstreamTrust=1,minScore=0", { items: 10 });
    const policy = m.policy as UtilityPolicy;
    m.offer({ ...offerFor(m, vec(0, 0, 0, 0), 0), forwarded: true }); // stored; memory empty before -> radius inf
    // Three forwarded requests near x=10 (nearest stored is at distance ~100); one correct non-forwarded.
    for (const x of [10, 10.5, 11])
      m.offer({ ...offerFor(m, vec(x, 0, 0, 0), 1), forwarded: true, predictedLabel: 0 });
    const o = offerFor(m, vec(10.2, 0, 0, 0), 1);
    m.offer({ ...o, predictedLabel: 1, forwarded: false });
    // Brute force: remembered costly keys are 0, 10, 10.5, 11 with their nearest stored distance at the time.
    expect(policy.lastOfferScore).toBeGreaterThanOrEqual(3);
  });

  it("evicts the lowest-utility entry and turns away candidates worth less than it", () => {
    const m = memoryWith("utility:upstreamTrust=1,minScore=0,decay=1", { items: 2 });
    const policy = m.policy as UtilityPolicy;
    const a = m.offer({ ...offerFor(m, vec(0, 0, 0, 0), 0), forwarded: true }).id;
    const b = m.offer({ ...offerFor(m, vec(50, 0, 0, 0), 1), forwarded: true }).id;
    // Entry a retrieves correctly three times (observed without an admission decision): its utility grows.
    for (let t = 0; t < 3; t++)
      policy.observe({ ...offerFor(m, vec(0.1, 0, 0, 0), 0), predictedLabel: 0 }, m);
    // a: score 1 (its own request) - 1 (retrieved with the wrong label by b's offer) + 3 = 3;
    // b: score 2 (a's request had no neighbour at all, and its own) - 3 (retrieved with the wrong label) = -1.
    expect(policy.utilityOf(a)).toBe(3);
    expect(policy.utilityOf(b)).toBe(-1);
    expect(policy.utilityOf(a)).toBeGreaterThan(policy.utilityOf(b)!);
    const r = m.offer({ ...offerFor(m, vec(100, 0, 0, 0), 2), forwarded: true, predictedLabel: 1 });
    expect(r.admitted).toBe(true);
    expect(r.removed).toEqual([b]);
    m.checkInvariants();
  });

  it("turns away candidates worth less than the lowest stored utility", () => {
    const m = memoryWith("utility:upstreamTrust=1,minScore=0,decay=1,window=1", { items: 1 });
    const policy = m.policy as UtilityPolicy;
    const a = m.offer({ ...offerFor(m, vec(0, 0, 0, 0), 0), forwarded: true }).id;
    for (let t = 0; t < 3; t++)
      policy.observe({ ...offerFor(m, vec(0.1, 0, 0, 0), 0), predictedLabel: 0 }, m);
    expect(policy.utilityOf(a)).toBe(4);
    // Covers the one remembered costly request: score 1 < 4 (and a earns +1 for retrieving it right).
    expect(m.offer({ ...offerFor(m, vec(0.05, 0, 0, 0), 0), predictedLabel: 0 }).admitted).toBe(false);
    expect(policy.lastOfferScore).toBe(1);
    // A new costly request far away covers only itself: score 1 < 5 - 1.
    expect(
      m.offer({ ...offerFor(m, vec(100, 0, 0, 0), 2), forwarded: true, predictedLabel: 0 }).admitted,
    ).toBe(false);
    expect(policy.lastOfferScore).toBe(1);
    expect(policy.utilityOf(a)).toBe(4);
    expect(m.ids()).toEqual([a]);
    m.checkInvariants();
  });
});

/** Everything a memory holds, as a string (slots up to the high-water mark, counters, clock, index). */
function memoryState(m: LabeledMemory): string {
  const used = (a: ArrayLike<number>) => Array.from(a).slice(0, m.highWater);
  const sl = m.slots;
  return JSON.stringify({
    ids: m.ids(),
    indexed: indexedIds(m),
    slots: [sl.slotIds, sl.labels, sl.sources, sl.weights, sl.addedAt, sl.lastUsedAt, sl.uses].map(used),
    stats: m.stats,
    clock: m.clock,
    bytes: m.bytes,
  });
}

describe("applyFeedback (a true label for a stored entry)", () => {
  function withUpstreamAnswers(admission: string) {
    const m = memoryWith(admission, { items: 10 });
    const a = m.offer(offerFor(m, vec(0, 0, 0, 0), 1, "upstream", true)).id;
    const b = m.offer(offerFor(m, vec(5, 0, 0, 0), 2, "upstream", true)).id;
    expect([a, b]).toEqual([0, 1]);
    return { m, a, b };
  }

  it("confirms an entry with the same label: source feedback, weight = the policy's feedback trust, nothing else moves", () => {
    const { m, a, b } = withUpstreamAnswers("all:upstreamTrust=0.25");
    expect([m.source(a), m.weight(a), m.label(a)]).toEqual(["upstream", 0.25, 1]);
    const before = JSON.parse(memoryState(m));
    expect(m.applyFeedback(a, 1)).toBe("confirmed");
    expect([m.source(a), m.weight(a), m.label(a)]).toEqual(["feedback", 1, 1]);
    // Only slot a's source (0 -> 1) and weight (0.25 -> 1) changed; b, the clock and the counters did not.
    const after = JSON.parse(memoryState(m));
    const slot = m.slot(a);
    before.slots[2][slot] = 1;
    before.slots[3][slot] = 1;
    expect(after).toEqual(before);
    expect([m.source(b), m.weight(b)]).toEqual(["upstream", 0.25]);
    // The confirmed entry now votes with full weight.
    const nb = m.search(vec(0, 0, 0, 0), 1, createLabeledNeighbours(1), false);
    expect([nb.ids[0], nb.labels[0], nb.weights[0]]).toEqual([a, 1, 1]);
    m.checkInvariants();
  });

  it("removes an entry with another label (counted as a removal, the policy told)", () => {
    for (const admission of ["all", "ib3", "utility"]) {
      const { m, a, b } = withUpstreamAnswers(admission);
      const removalsBefore = m.stats.removals;
      expect(m.applyFeedback(b, 0)).toBe("contradicted");
      expect(m.has(b)).toBe(false);
      expect(m.ids()).toEqual([a]);
      expect(indexedIds(m)).toEqual([a]);
      expect(m.stats.removals).toBe(removalsBefore + 1);
      expect(m.stats.evictions + m.stats.drops).toBe(0);
      m.checkInvariants(); // includes the policy's own bookkeeping of b
      // The freed slot is reused by the next admission.
      const c = m.offer(offerFor(m, vec(9, 9, 9, 9), 0)).id;
      if (c >= 0) expect(m.slot(c)).toBe(1);
    }
  });

  it("rejects unknown ids and bad labels with typed errors, and changes nothing", () => {
    const { m, a, b } = withUpstreamAnswers("ib3");
    m.applyFeedback(b, 0); // b is gone now
    const before = memoryState(m);
    const cases: [number, number, string, RegExp][] = [
      [12345, 1, "UNKNOWN_ID", /memory entry 12345 is not stored; expected the id of one of the 1 stored/],
      [b, 2, "UNKNOWN_ID", /memory entry 1 is not stored/],
      [a, 3, "INVALID_ARGUMENT", /feedback label: expected an integer in \[0, 3\), got 3/],
      [a, -1, "INVALID_ARGUMENT", /got -1/],
      [a, 0.5, "INVALID_ARGUMENT", /got 0.5/],
      [a, Number.NaN, "INVALID_ARGUMENT", /got NaN/],
      [12345, -1, "INVALID_ARGUMENT", /feedback label/], // the label is judged first
    ];
    for (const [id, label, code, message] of cases) {
      let err: unknown;
      try {
        m.applyFeedback(id, label);
      } catch (e) {
        err = e;
      }
      expect(isMammalsError(err, code as "UNKNOWN_ID" | "INVALID_ARGUMENT")).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
    expect(memoryState(m)).toBe(before);
    m.checkInvariants();
  });
});

describe("bad input changes nothing", () => {
  it("rejects wrong key length, NaN, out-of-range labels with a MammalsError", () => {
    const m = memoryWith("all", { items: 5 });
    m.offer(offerFor(m, vec(1, 2, 3, 4), 1));
    const snapshot = JSON.stringify({ stats: m.stats, ids: m.ids(), clock: m.clock });
    const nb: LabeledNeighbours = createLabeledNeighbours(1);
    const base: AdmissionOffer = {
      key: vec(1, 1, 1, 1),
      label: 0,
      source: "feedback",
      predictedLabel: 1,
      confidence: 1,
      neighbours: nb,
      forwarded: false,
    };
    const bad: AdmissionOffer[] = [
      { ...base, key: vec(1, 2, 3) },
      { ...base, key: vec(1, Number.NaN, 3, 4) },
      { ...base, label: 3 },
      { ...base, label: -1 },
      { ...base, label: 0.5 },
      { ...base, source: "rumour" as ExampleSource },
    ];
    for (const o of bad) {
      let err: unknown;
      try {
        m.offer(o);
      } catch (e) {
        err = e;
      }
      expect(isMammalsError(err)).toBe(true);
    }
    expect(JSON.stringify({ stats: m.stats, ids: m.ids(), clock: m.clock })).toBe(snapshot);
    m.checkInvariants();
  });
  it("rejects unknown policies and parameters through the registry", () => {
    expect(() => memoryWith("nope", { items: 5 })).toThrow(/unknown admission policy "nope"/);
    expect(() => memoryWith("ib3:zz=1", { items: 5 })).toThrow(/unknown parameter "zz"/);
    expect(() => memoryWith("all", {})).toThrow(/capacityItems and\/or capacityBytes/);
    expect(admissionPolicies.parse("ib3").canonical).toBe(
      "ib3:upstreamTrust=0.5,zAccept=0.9,zDrop=0.7,pendingWeight=0.5",
    );
  });
});

describe("search", () => {
  it("returns labels and weights of the exact nearest entries", () => {
    const m = memoryWith("all", { items: 50 });
    const rng = new Rng(5);
    const stored: { key: Float32Array; label: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const key = vec(rng.normal(), rng.normal(), rng.normal(), rng.normal());
      const label = rng.int(C);
      m.offer(offerFor(m, key, label));
      stored.push({ key, label });
    }
    const q = vec(0.1, 0.2, 0.3, 0.4);
    const nb = m.search(q, 5, createLabeledNeighbours(5));
    const brute = stored.map((s) => ({ d: l2sq(q, s.key), label: s.label })).sort((a, b) => a.d - b.d);
    expect(nb.count).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect(nb.labels[i]).toBe(brute[i].label);
      expect(nb.distances[i]).toBeCloseTo(brute[i].d, 5);
    }
  });
});

describe("offer with positional arguments", () => {
  it("says it takes one object instead of failing with a raw TypeError", () => {
    const m = memoryWith("all", { items: 4 });
    const key = Float32Array.from([1, 2, 3, 4]);
    const call =
      (...args: unknown[]) =>
      () =>
        (m.offer as (...a: unknown[]) => unknown)(...args);
    for (const [args, what] of [
      [[key, 1, "upstream"], "a Float32Array"],
      [[undefined], "undefined"],
      [[3, 1], "the number 3"],
      [[[1, 2, 3, 4], 0, "feedback"], "an array"],
    ] as const) {
      let err: unknown;
      try {
        call(...args)();
      } catch (e) {
        err = e;
      }
      expect(isMammalsError(err, "INVALID_ARGUMENT"), String(err)).toBe(true);
      expect((err as Error).message).toBe(`offer takes one object {key, label, source}; got ${what} first`);
    }
    expect(m.size).toBe(0);
  });
});

describe("LabeledMemory.reusingSearches", () => {
  const ids = (m: LabeledMemory, q: Float32Array, k: number) =>
    Array.from(m.search(q, k, createLabeledNeighbours(k), false).ids.subarray(0, Math.min(k, m.size)));

  it("answers a repeated search from the previous one, and forgets it when the memory changes", () => {
    const m = memoryWith("all", { items: 10 });
    m.offer(offerFor(m, Float32Array.from([1, 0, 0, 0]), 0));
    m.offer(offerFor(m, Float32Array.from([0, 1, 0, 0]), 1));
    const q = Float32Array.from([0.1, 0, 0, 0]);
    const seen = m.reusingSearches(() => {
      const first = ids(m, q, 2);
      const again = ids(m, q, 2); // answered from the first
      const otherK = ids(m, q, 1); // another k: searched
      m.offer(offerFor(m, Float32Array.from([0.1, 0, 0, 0]), 2, "feedback", false, 1)); // an add: forgotten
      const afterAdd = ids(m, q, 1);
      return { first, again, otherK, afterAdd };
    });
    expect(seen.again).toEqual(seen.first);
    expect(seen.otherK).toEqual(seen.first.slice(0, 1));
    // The new entry is the query itself: a remembered answer would have missed it.
    expect(seen.afterAdd).not.toEqual(seen.otherK);
    expect(m.search(q, 1, createLabeledNeighbours(1), false).distances[0]).toBe(0);
    expect(m.searchReuse.hits).toBeGreaterThanOrEqual(1);
    // Outside the call every search goes to the index.
    const hits = m.searchReuse.hits;
    ids(m, q, 1);
    ids(m, q, 1);
    expect(m.searchReuse.hits).toBe(hits);
  });

  it("reuses nothing when built with reuseSearches: false", () => {
    const m = new LabeledMemory({
      index: createIndex("flat", DIM),
      numClasses: C,
      capacityItems: 4,
      admission: "all",
      reuseSearches: false,
    });
    m.offer(offerFor(m, Float32Array.from([1, 0, 0, 0]), 0));
    const q = Float32Array.from([0, 0, 1, 0]);
    m.reusingSearches(() => [ids(m, q, 1), ids(m, q, 1)]);
    expect(m.searchReuse).toEqual({ hits: 0, misses: 0 });
  });
});
