/**
 * Request traces (the Trace contract of docs/ARCHITECTURE.md): a lazy iterable of request vectors, produced alike
 * by seeded generators over a catalog and by file readers (trace-format.ts). The simulator takes
 * the sync fast path `requests()`; `[Symbol.asyncIterator]` serves async consumers.
 *
 * Generators (every random choice from the seed):
 * - irm:         independent reference model; object of popularity rank r drawn with probability
 *                proportional to r^-alpha, ranks a seeded permutation of the catalog; request =
 *                that object + N(0, noise^2) per coordinate.
 * - shift:       the same Zipf law over objects ranked by distance to a centre, which jumps to a
 *                new random catalog object every count/phases requests (the popular region moves).
 * - adversarial: round-robin over m distinct random objects; with m = h + 1 it defeats LRU
 *                (every request evicts the object requested next).
 * - inputs:      NEW real inputs that are never catalog objects (e.g. Fashion-MNIST test images
 *                against the train-split catalog), drawn from a labelled input source: a class by
 *                Zipf(alpha) over a seeded ranking of the classes, then an input of that class by
 *                Zipf(beta) over the class's inputs ranked by distance to the class's "style"
 *                centre (a random input of the class), so popular requests look alike. Every
 *                count/phases requests the popularity drifts: the class ranking is re-drawn and
 *                every style centre jumps to another input of its class.
 *                Input sources are registered by name (registerInputSource): browser-safe here,
 *                the Node loader registers "fashion-mnist-test" (catalog.node.ts).
 */
import { fail } from "../core/errors.js";
import { Registry } from "../core/registry.js";
import { Rng } from "../core/rng.js";
import { formatParams, type ParamSchema, splitSpec } from "../core/spec.js";
import { l2sq } from "../core/vectors.js";
import { noiseSeedOf, noisyRow } from "./trace-format.js";
import type { Catalog } from "./types.js";

export interface TraceInfo {
  dim: number;
  count: number;
  /** Where it came from: a file path or the generator spec. */
  source: string;
  /** Canonical generator spec, when generated. */
  generator?: string;
  seed?: number;
  /** Catalog the generator drew from, and its size. */
  catalog?: string;
  catalogN?: number;
  /** Noise standard deviation of a generated trace. */
  noise?: number;
}

/** One request; the object is reused by the iterator (copy what you keep). */
export interface TraceRequest {
  x: Float32Array;
  /** Catalog row that x equals exactly (noise-free requests), else -1. Lets the simulator reuse neighbour lists. */
  row: number;
  /** Catalog object the request was drawn from (generated traces), else -1. */
  origin: number;
}

export interface Trace extends AsyncIterable<TraceRequest> {
  readonly info: TraceInfo;
  /** Sync iteration from the start; may be called again to replay. */
  requests(): Iterable<TraceRequest>;
}

/** Wraps a restartable sync generator as a {@link Trace}. */
export function makeTrace(info: TraceInfo, requests: () => Iterable<TraceRequest>): Trace {
  return {
    info,
    requests,
    async *[Symbol.asyncIterator]() {
      yield* requests();
    },
  };
}

const COMMON = {
  count: { type: "int", default: 100_000, min: 1, description: "number of requests" },
  seed: { type: "int", default: 1, description: "random seed" },
  noise: {
    type: "number",
    default: 0,
    min: 0,
    description:
      "standard deviation of Gaussian noise added to each coordinate (0: requests are catalog objects)",
  },
} satisfies ParamSchema;

type GeneratorName = "irm" | "shift" | "adversarial";

/** Labelled request vectors (e.g. a dataset's test split) for the `inputs` generator. */
export interface InputSource {
  /** n x dim row-major. */
  x: Float32Array;
  /** n class labels. */
  y: ArrayLike<number>;
  n: number;
  dim: number;
}

const inputSources = new Map<string, () => InputSource>();
const loadedSources = new Map<string, InputSource>();

/** Makes `name` usable as `inputs:source=NAME`; the loader runs once, on first use. */
export function registerInputSource(name: string, load: () => InputSource): void {
  inputSources.set(name, load);
  loadedSources.delete(name);
}

function inputSource(name: string): InputSource {
  const done = loadedSources.get(name);
  if (done) return done;
  const load = inputSources.get(name);
  if (!load)
    return fail(
      "UNKNOWN_NAME",
      `inputs: unknown input source "${name}"; registered: ${[...inputSources.keys()].join(", ") || "(none)"}`,
    );
  const src = load();
  loadedSources.set(name, src);
  return src;
}

/** The registry of trace generators; `create(params, catalog)` gives the trace. */
export const traceGenerators = new Registry<Catalog, Trace>("trace generator", () => " (or a trace file)");

traceGenerators.register({
  name: "irm",
  summary: "independent reference model: Zipf(alpha) popularity over a seeded permutation of the catalog",
  params: {
    alpha: { type: "number", default: 0.8, min: 0, description: "Zipf exponent" },
    ...COMMON,
  },
  create: (p, catalog) => generatedTrace("irm", p, catalog),
});

traceGenerators.register({
  name: "shift",
  summary: "Zipf(alpha) over objects ranked by distance to a centre that moves every count/phases requests",
  params: {
    alpha: { type: "number", default: 0.8, min: 0, description: "Zipf exponent" },
    phases: { type: "int", default: 4, min: 1, description: "number of popularity centres over the trace" },
    ...COMMON,
  },
  create: (p, catalog) => generatedTrace("shift", p, catalog),
});

traceGenerators.register({
  name: "adversarial",
  summary: "round-robin over m distinct random objects (m = capacity + 1 defeats LRU)",
  params: {
    m: { type: "int", default: 101, min: 1, description: "cycle length" },
    ...COMMON,
  },
  create: (p, catalog) => {
    if (p.m > catalog.n)
      fail("INVALID_ARGUMENT", `adversarial: cycle length m=${p.m} exceeds the catalog size ${catalog.n}`);
    return generatedTrace("adversarial", p, catalog);
  },
});

traceGenerators.register({
  name: "inputs",
  summary:
    "new real inputs (never catalog objects, e.g. Fashion-MNIST test images): Zipf class and style popularity that drifts every count/phases requests",
  params: {
    source: {
      type: "string",
      default: "fashion-mnist-test",
      description: "registered input source (fashion-mnist-test: the 10,000 test images, pixels / 255)",
    },
    alpha: { type: "number", default: 0.8, min: 0, description: "Zipf exponent over classes" },
    beta: {
      type: "number",
      default: 0.8,
      min: 0,
      description: "Zipf exponent over a class's inputs ranked by distance to its style centre",
    },
    phases: {
      type: "int",
      default: 4,
      min: 1,
      description: "popularity phases: class ranking and style centres are re-drawn at each",
    },
    ...COMMON,
  },
  create: (p, catalog) => inputsTrace(p, catalog),
});

/** The `inputs` generator (file comment). */
function inputsTrace(
  p: {
    source: string;
    alpha: number;
    beta: number;
    phases: number;
    count: number;
    seed: number;
    noise: number;
  },
  catalog: Catalog,
): Trace {
  const src = inputSource(p.source);
  if (src.dim !== catalog.dim)
    fail(
      "INVALID_ARGUMENT",
      `inputs: source ${p.source} has dimension ${src.dim}, the catalog ${catalog.name} ${catalog.dim}`,
    );
  const canonical = `inputs:${formatParams(p)}`;
  const info: TraceInfo = {
    dim: src.dim,
    count: p.count,
    source: canonical,
    generator: canonical,
    seed: p.seed,
    catalog: catalog.name,
    catalogN: catalog.n,
    noise: p.noise,
  };
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < src.n; i++) {
    const c = src.y[i];
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const members = classes.map((c) => Int32Array.from(byClass.get(c) ?? []));
  const classZipf = new ZipfSampler(classes.length, p.alpha);
  const styleZipf = members.map((m) => new ZipfSampler(m.length, p.beta));
  const dim = src.dim;
  return makeTrace(info, function* () {
    const rng = new Rng(p.seed);
    const noiseRng = new Rng(noiseSeedOf(p.seed));
    const phaseLen = Math.ceil(p.count / p.phases);
    let classOrder: Uint32Array = new Uint32Array(0);
    const styleOrder: Int32Array[] = [];
    let phase = -1;
    const req: TraceRequest = { x: new Float32Array(dim), row: -1, origin: -1 };
    for (let t = 0; t < p.count; t++) {
      const ph = Math.floor(t / phaseLen);
      if (ph !== phase) {
        phase = ph;
        classOrder = rng.permutation(classes.length);
        members.forEach((m, c) => {
          styleOrder[c] = rankInputs(src, m, m[rng.int(m.length)]);
        });
      }
      const c = classOrder[classZipf.sample(rng)];
      const i = styleOrder[c][styleZipf[c].sample(rng)];
      // origin: the input's row in its source (not a catalog object); row -1: never a catalog row.
      req.origin = i;
      if (p.noise === 0) req.x = src.x.subarray(i * dim, (i + 1) * dim);
      else noisyRow(src.x, i, dim, p.noise, noiseRng, req.x);
      yield req;
    }
  });
}

/** The inputs `ids` sorted by distance to input `centre` (ties by id). */
function rankInputs(src: InputSource, ids: Int32Array, centre: number): Int32Array {
  const d = new Map<number, number>();
  for (const i of ids) d.set(i, l2sq(src.x, src.x, src.dim, centre * src.dim, i * src.dim));
  return Int32Array.from(ids).sort((a, b) => (d.get(a) ?? 0) - (d.get(b) ?? 0) || a - b);
}

/** Whether a trace spec names a generator (rather than a file). */
export function isGeneratorSpec(spec: string): boolean {
  return traceGenerators.has(splitSpec(spec).name);
}

/** Zipf(alpha) sampler over ranks 0..n-1 by inverse CDF (binary search). */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  constructor(n: number, alpha: number) {
    this.cdf = new Float64Array(n);
    let s = 0;
    for (let r = 0; r < n; r++) {
      s += (r + 1) ** -alpha;
      this.cdf[r] = s;
    }
    for (let r = 0; r < n; r++) this.cdf[r] /= s;
    this.cdf[n - 1] = 1;
  }
  /** Probability of rank r. */
  p(r: number): number {
    return r === 0 ? this.cdf[0] : this.cdf[r] - this.cdf[r - 1];
  }
  sample(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Creates a generated trace over `catalog` from a spec such as "irm:alpha=0.8,count=1e6,seed=1". */
export function generateTrace(spec: string, catalog: Catalog): Trace {
  return traceGenerators.create(spec, catalog);
}

/** The trace of one generator with its parsed parameters (count, seed and noise are common to all). */
function generatedTrace(
  name: GeneratorName,
  params: { count: number; seed: number; noise: number },
  catalog: Catalog,
): Trace {
  const p = params as unknown as Record<string, number>;
  const canonical = `${name}:${formatParams(p)}`;
  const { n, dim } = catalog;
  const info: TraceInfo = {
    dim,
    count: p.count,
    source: canonical,
    generator: canonical,
    seed: p.seed,
    catalog: catalog.name,
    catalogN: n,
    noise: p.noise,
  };
  const objectAt = objectSequence(name, p, catalog);
  return makeTrace(info, function* () {
    const rng = new Rng(p.seed);
    const next = objectAt(rng);
    const noiseRng = new Rng(noiseSeedOf(p.seed));
    const req: TraceRequest = { x: new Float32Array(dim), row: -1, origin: -1 };
    const noise = p.noise;
    for (let t = 0; t < p.count; t++) {
      const o = next(t);
      req.origin = o;
      if (noise === 0) {
        req.x = catalog.row(o);
        req.row = o;
      } else noisyRow(catalog.vectors, o, dim, noise, noiseRng, req.x);
      yield req;
    }
  });
}

/** For each generator: given the run's Rng, a function t -> catalog object requested at t. */
function objectSequence(
  name: GeneratorName,
  p: Record<string, number>,
  catalog: Catalog,
): (rng: Rng) => (t: number) => number {
  const n = catalog.n;
  if (name === "irm")
    return (rng) => {
      const perm = rng.permutation(n);
      const zipf = new ZipfSampler(n, p.alpha);
      return () => perm[zipf.sample(rng)];
    };
  if (name === "adversarial")
    return (rng) => {
      const cycle = rng.sample(n, p.m);
      return (t) => cycle[t % p.m];
    };
  // shift: ranks by distance to the current centre, recomputed at each phase boundary.
  return (rng) => {
    const zipf = new ZipfSampler(n, p.alpha);
    const phaseLen = Math.ceil(p.count / p.phases);
    let order: Uint32Array = new Uint32Array(0);
    let phase = -1;
    return (t) => {
      const ph = Math.floor(t / phaseLen);
      if (ph !== phase) {
        phase = ph;
        order = rankByDistance(catalog, rng.int(n));
      }
      return order[zipf.sample(rng)];
    };
  };
}

/** Catalog objects sorted by distance to object c (ties by id). */
export function rankByDistance(catalog: Catalog, c: number): Uint32Array {
  const d = new Float64Array(catalog.n);
  const centre = catalog.row(c);
  for (let i = 0; i < catalog.n; i++) d[i] = l2sq(centre, catalog.vectors, catalog.dim, 0, i * catalog.dim);
  const order = Uint32Array.from({ length: catalog.n }, (_, i) => i);
  order.sort((a, b) => d[a] - d[b] || a - b);
  return order;
}
