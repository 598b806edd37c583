/**
 * Cost model and the one serving rule every policy is charged by (see caching/types.ts
 * for the two settings). Browser-safe: no Node imports.
 *
 * single: cost(x, S) = min(C_r, min_{y in S} approx(d(x, y))); local iff approx(d(x, y*)) < C_r,
 *         otherwise the nearest catalog object is fetched at cost C_r (ties go remote: exact).
 * knn:    the answer is the k distinct objects of least per-object cost, where a stored object
 *         costs approx(d) and any other approx(d) + c_f (ties: local first, then nearer, then smaller id).
 */
import { check, fail } from "../core/errors.js";
import { Registry } from "../core/registry.js";
import { type ParamSchema, parseParams } from "../core/spec.js";
import type { StoredSet } from "./stored-set.js";
import type { CostModel, CostSetting, Neighbours, ServedAnswer, SimRequest } from "./types.js";

const POWER_SCHEMA = {
  p: { type: "number", default: 2, min: 0, description: "exponent: approx(d) = d^p" },
} satisfies ParamSchema;
const STEP_SCHEMA = {
  r: { type: "number", default: undefined, min: 0, description: "radius: approx(d) = 0 if d <= r, else 1" },
} satisfies ParamSchema;

export const APPROX_HELP =
  "identity (C_a = d), power:P (C_a = d^P), step:R (C_a = 0 within radius R, 1 beyond)";

export interface Approx {
  /** Canonical spec, e.g. "power:2". */
  spec: string;
  f(d: number): number;
  /** Largest d with f(d) < bound (Infinity if every d, -1 if none). */
  below(bound: number): number;
}

/** The registry of approximation costs C_a = approx(d); none needs a context. */
export const approximationCosts = new Registry<void, Approx>("approximation cost", () => ` (${APPROX_HELP})`);

/** "P" alone means key=P: `power:2` and `step:0.5` read as `power:p=2` and `step:r=0.5`. */
function positional(rest: string, key: string): string {
  return rest !== "" && !rest.includes("=") ? `${key}=${rest}` : rest;
}

approximationCosts.register({
  name: "identity",
  summary: "C_a = d",
  params: {},
  parse: (rest) => {
    check(rest === "", `--approx identity takes no parameter, got "identity:${rest}"`);
    return {};
  },
  create: () => ({ spec: "identity", f: (d) => d, below: (b) => (b <= 0 ? -1 : prevDown(b)) }),
});

approximationCosts.register({
  name: "power",
  summary: "C_a = d^p",
  params: POWER_SCHEMA,
  examples: ["power:2", "power:p=0.5"],
  parse: (rest, owner) => {
    const v = parseParams(positional(rest, "p"), POWER_SCHEMA, owner);
    check(v.p > 0, `${owner}: exponent must be > 0, got ${v.p}`);
    return v;
  },
  format: ({ p }) => `${p}`,
  create: ({ p }) => ({
    spec: `power:${p}`,
    f: (d) => d ** p,
    below: (b) => {
      if (b <= 0) return -1;
      let d = b ** (1 / p);
      // Walk to the exact boundary despite rounding in the root.
      while (d > 0 && d ** p >= b) d = prevDown(d);
      while (nextUp(d) ** p < b) d = nextUp(d);
      return d;
    },
  }),
});

approximationCosts.register({
  name: "step",
  summary: "C_a = 0 within radius r, 1 beyond",
  params: STEP_SCHEMA,
  examples: ["step:0.5", "step:r=0.5"],
  parse: (rest, owner) => {
    const v = parseParams(positional(rest, "r"), STEP_SCHEMA, owner);
    if (v.r === undefined)
      fail("INVALID_ARGUMENT", `${owner} needs a radius, e.g. step:0.5; got "step${rest ? `:${rest}` : ""}"`);
    return v as { r: number };
  },
  format: ({ r }) => `${r}`,
  create: ({ r }) => ({
    spec: `step:${r}`,
    f: (d) => (d <= r ? 0 : 1),
    below: (b) => (b > 1 ? Number.POSITIVE_INFINITY : b > 0 ? r : -1),
  }),
});

/** Parses "identity" | "power:P" (also "power:p=P") | "step:R" (also "step:r=R"). */
export function parseApprox(spec: string): Approx {
  return approximationCosts.create(spec, undefined);
}

function prevDown(x: number): number {
  if (x === Number.POSITIVE_INFINITY) return Number.MAX_VALUE;
  const f = new Float64Array([x]);
  const u = new BigInt64Array(f.buffer);
  if (x > 0) u[0] -= 1n;
  else if (x === 0) return -Number.MIN_VALUE;
  else u[0] += 1n;
  return f[0];
}

function nextUp(x: number): number {
  return -prevDown(-x);
}

export interface CostOptions {
  k: number;
  /** Fetch cost per object (knn setting). */
  cf?: number;
  /** Remote cost (single setting). */
  cr?: number;
  approx?: string;
}

/**
 * `--k 1 --cr C` (or --k 1 alone) is the single-answer setting; `--cf C` or k > 1 the knn setting.
 */
export function createCostModel(o: CostOptions): CostModel {
  check(Number.isInteger(o.k) && o.k >= 1, `--k must be a positive integer, got ${o.k}`);
  if (o.cr !== undefined && o.cf !== undefined)
    fail("INVALID_ARGUMENT", "give --cr (single-answer setting) or --cf (k-NN setting), not both");
  const setting: CostSetting = o.cf === undefined && o.k === 1 ? "single" : "knn";
  if (setting === "knn" && o.cr !== undefined)
    fail("INVALID_ARGUMENT", `--cr is the single-answer setting and needs --k 1, got --k ${o.k}`);
  const cr = o.cr ?? 1;
  const cf = o.cf ?? 1;
  check(Number.isFinite(cr) && cr > 0, `--cr must be a positive number, got ${o.cr}`);
  check(Number.isFinite(cf) && cf >= 0, `--cf must be a non-negative number, got ${o.cf}`);
  const a = parseApprox(o.approx ?? "identity");
  return {
    setting,
    k: setting === "single" ? 1 : o.k,
    cf,
    cr,
    approxSpec: a.spec,
    approx: a.f,
    maxDistanceBelow: a.below,
  };
}

export function describeCost(c: CostModel): string {
  return c.setting === "single"
    ? `single-answer: cost = min(C_r=${c.cr}, C_a), C_a = ${c.approxSpec}(d)`
    : `k-NN: k=${c.k} distinct objects, stored c_d = ${c.approxSpec}(d), fetched c_d + c_f (c_f=${c.cf})`;
}

/** A reusable answer buffer for k objects, looking up `storedK` nearest stored objects (>= k). */
export function makeAnswer(k: number, storedK = 2): ServedAnswer {
  const m = Math.max(k, storedK);
  return {
    count: 0,
    ids: new Int32Array(k),
    local: new Uint8Array(k),
    costs: new Float64Array(k),
    cost: 0,
    hit: false,
    fetched: 0,
    stored: { count: 0, ids: new Int32Array(m), dists: new Float64Array(m) },
  };
}

/** Cost of answering entirely from the remote catalog (the normalization of reports). */
export function remoteCost(cost: CostModel, catalog: Neighbours): number {
  if (cost.setting === "single") return cost.cr;
  let s = 0;
  for (let j = 0; j < cost.k; j++) s += cost.approx(catalog.dists[j]) + cost.cf;
  return s;
}

/**
 * Serves `req` from `store` under `cost`, writing into `out` (allocation-free); looks up as many
 * nearest stored objects as `out.stored` holds (see {@link makeAnswer}).
 */
export function serve(cost: CostModel, store: StoredSet, req: SimRequest, out: ServedAnswer): ServedAnswer {
  const cat = req.catalog;
  const k = cost.k;
  if (cat.count < k) fail("STATE", `request ${req.t}: ${cat.count} catalog neighbours for k = ${k}`);
  const st = out.stored;
  out.count = k;
  out.fetched = 0;
  if (cost.setting === "single") {
    store.nearest(req.x, st.ids.length, cost.maxDistanceBelow(cost.cr), cat, st, req.row ?? -1);
    if (st.count > 0) {
      out.ids[0] = st.ids[0];
      out.local[0] = 1;
      out.costs[0] = cost.approx(st.dists[0]);
    } else {
      out.ids[0] = cat.ids[0];
      out.local[0] = 0;
      out.costs[0] = cost.cr;
      out.fetched = 1;
    }
    out.cost = out.costs[0];
    out.hit = out.fetched === 0;
    return out;
  }
  // knn: k catalog neighbours bound the useful radius (k objects at most approx(d_k) + c_f each).
  const tau = cost.approx(cat.dists[k - 1]) + cost.cf;
  // max with d_k: with c_f = 0 a stored neighbour at cost exactly tau must still be listed.
  store.nearest(
    req.x,
    st.ids.length,
    Math.max(cost.maxDistanceBelow(tau), cat.dists[k - 1]),
    cat,
    st,
    req.row ?? -1,
  );
  let a = 0; // next stored candidate
  let b = 0; // next catalog candidate
  let total = 0;
  for (let j = 0; j < k; j++) {
    while (b < k && store.has(cat.ids[b])) b++; // stored ones come through list a (or k closer exist)
    const ca = a < st.count ? cost.approx(st.dists[a]) : Number.POSITIVE_INFINITY;
    const cb = b < k ? cost.approx(cat.dists[b]) + cost.cf : Number.POSITIVE_INFINITY;
    if (ca <= cb) {
      out.ids[j] = st.ids[a++];
      out.local[j] = 1;
      out.costs[j] = ca;
    } else {
      out.ids[j] = cat.ids[b++];
      out.local[j] = 0;
      out.costs[j] = cb;
      out.fetched++;
    }
    total += out.costs[j];
  }
  out.cost = total;
  out.hit = out.fetched === 0;
  return out;
}
