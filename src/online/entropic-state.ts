/**
 * AÇAI's fractional state y over n objects, updated by mirror ascent with the negative entropy
 * (multiplicative step y_o <- y_o * exp(eta * g_o), then the exact KL projection onto
 * {0 <= y <= 1, sum y = h}) in O(|E| log |E|) per step instead of O(n), E = the step's candidates
 * plus the currently capped objects.
 *
 * Why that is exact: the projection is y' = min(1, m * yhat) with one scale m. With g >= 0,
 * sum min(1, yhat) >= sum y = h, so m <= 1. An object outside the candidates keeps yhat_o = y_o;
 * if y_o < 1 then m * y_o < 1 stays uncapped, so it is just multiplied by m. Hence only candidates
 * and already-capped objects can be capped after the step, and the sort-based search over E with
 * the rest as one never-capped mass is exactly the full search (kl-projection.ts).
 *
 * Representation: uncapped y_o = s * w_o with one global scale s (a step multiplies s by m
 * instead of touching n numbers); capped objects are listed explicitly (at most h, in fact at most
 * the last step's candidates). W = sum of w over uncapped objects, refreshed exactly every n steps
 * and whenever s is renormalised (s -> 1, w -> s*w) before it underflows.
 */
import { fail } from "../core/errors.js";
import { solveKlScale } from "./kl-projection.js";

const RENORMALISE_BELOW = 1e-150;
const MAX_EXPONENT = 100;

export class EntropicState {
  readonly n: number;
  readonly h: number;
  /** Uncapped y_o = scale * w[o]. */
  private readonly w: Float64Array;
  scale: number;
  private readonly capped: Uint8Array;
  private cappedList: number[] = [];
  private wSum: number;
  private steps = 0;
  /** Called with the factor f when every w is multiplied by f (renormalisation). */
  onRescale?: (factor: number) => void;
  // Scratch for one step.
  private ids: number[] = [];
  /** Position + 1 of an object in `ids` during a step, 0 outside. */
  private readonly mark: Int32Array;
  private readonly hat: number[] = [];

  constructor(n: number, h: number) {
    if (!(Number.isInteger(n) && n >= 1))
      fail("INVALID_ARGUMENT", `entropic state: n must be >= 1, got ${n}`);
    if (!(Number.isInteger(h) && h >= 1 && h <= n))
      fail("INVALID_ARGUMENT", `entropic state: h must be an integer in [1, ${n}], got ${h}`);
    this.n = n;
    this.h = h;
    this.w = new Float64Array(n).fill(1);
    this.scale = h / n; // y = h/n everywhere: the entropy's centre of the capped simplex
    this.capped = new Uint8Array(n);
    this.mark = new Int32Array(n);
    this.wSum = n;
    if (h === n) for (let o = 0; o < n; o++) this.cap(o);
  }

  value(o: number): number {
    return this.capped[o] ? 1 : this.scale * this.w[o];
  }

  isCapped(o: number): boolean {
    return this.capped[o] === 1;
  }

  /** The raw weight of an uncapped object (y / scale), for scale-free keys. */
  weight(o: number): number {
    return this.w[o];
  }

  /**
   * The coupled-rounding key of object o for permanent random number u: u / y in scale-free form
   * (u / w; the global scale multiplies every uncapped y alike, so the order is y's). Capped: -Infinity.
   */
  couplingKey(o: number, u: number): number {
    return this.capped[o] ? Number.NEGATIVE_INFINITY : u / this.w[o];
  }

  /** Dense copy of y (O(n); tests and the madow/depround roundings). */
  toDense(out = new Float64Array(this.n)): Float64Array {
    for (let o = 0; o < this.n; o++) out[o] = this.value(o);
    return out;
  }

  /**
   * One mirror-ascent step with gradient `grad[j]` >= 0 on object `objs[j]` (j < count; repeated
   * objects add up), step size eta. `changed` receives every object whose y changed other than by
   * the global scale (candidates and un-capped objects).
   */
  step(
    objs: ArrayLike<number>,
    grad: ArrayLike<number>,
    count: number,
    eta: number,
    changed: number[],
  ): void {
    const ids = this.ids;
    ids.length = 0;
    const hat = this.hat;
    hat.length = 0;
    for (let j = 0; j < count; j++) {
      const o = objs[j];
      const g = grad[j];
      if (!(Number.isInteger(o) && o >= 0 && o < this.n))
        fail("INVALID_ARGUMENT", `entropic step: object ${o} is not in 0..${this.n - 1}`);
      if (!(g >= 0 && g < Number.POSITIVE_INFINITY))
        fail("INVALID_ARGUMENT", `entropic step: gradient of object ${o} must be finite and >= 0, got ${g}`);
      if (!this.mark[o]) {
        ids.push(o);
        this.mark[o] = ids.length;
        hat.push(this.value(o));
      }
      // Multiplicative step; repeated objects accumulate on the same entry. Exponents beyond
      // MAX_EXPONENT would only underflow everyone else's mass to 0 in floating point.
      hat[this.mark[o] - 1] *= Math.exp(Math.min(MAX_EXPONENT, eta * g));
    }
    for (const o of this.cappedList)
      if (!this.mark[o]) {
        ids.push(o);
        this.mark[o] = ids.length;
        hat.push(1);
      }
    // Mass of the uncapped objects outside E, which the projection only rescales.
    let inside = 0;
    for (const o of ids) if (!this.capped[o]) inside += this.w[o];
    const rest = Math.max(0, this.scale * (this.wSum - inside));
    const order = ids.map((_, j) => j).sort((a, b) => hat[b] - hat[a] || ids[a] - ids[b]);
    const sorted = order.map((j) => hat[j]);
    const { m, capped } = solveKlScale(sorted, sorted.length, rest, this.h);
    const newScale = this.scale * m;
    if (!(newScale > 0))
      fail("STATE", `entropic step: the scale collapsed to ${newScale} (eta * gradient too large?)`);
    this.scale = newScale;
    for (let r = 0; r < order.length; r++) {
      const j = order[r];
      const o = ids[j];
      this.mark[o] = 0;
      const wasCapped = this.capped[o] === 1;
      if (r < capped) {
        if (!wasCapped) {
          this.wSum -= this.w[o];
          this.cap(o);
          changed.push(o);
        }
        continue;
      }
      const y = Math.min(1, m * hat[j]);
      const w = y / newScale;
      if (wasCapped) {
        this.uncap(o);
        this.wSum += w;
      } else this.wSum += w - this.w[o];
      this.w[o] = w;
      changed.push(o);
    }
    if (++this.steps % this.n === 0 || this.scale < RENORMALISE_BELOW) this.renormalise();
  }

  /** sum of y (should be h up to rounding; tests). */
  total(): number {
    return this.cappedList.length + this.scale * this.wSum;
  }

  private cap(o: number): void {
    this.capped[o] = 1;
    this.cappedList.push(o);
  }

  private uncap(o: number): void {
    this.capped[o] = 0;
    const i = this.cappedList.indexOf(o);
    this.cappedList[i] = this.cappedList[this.cappedList.length - 1];
    this.cappedList.pop();
  }

  /** Folds the scale into w when it nears underflow, and recomputes W exactly. */
  private renormalise(): void {
    const f = this.scale < RENORMALISE_BELOW ? this.scale : 1;
    let s = 0;
    for (let o = 0; o < this.n; o++) {
      if (f !== 1) this.w[o] *= f;
      if (!this.capped[o]) s += this.w[o];
    }
    this.wSum = s;
    if (f !== 1) {
      this.scale = 1;
      this.onRescale?.(f);
    }
  }
}
