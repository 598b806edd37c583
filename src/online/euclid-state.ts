/**
 * OGA's fractional state y over n objects, updated by projected gradient ascent
 * (y <- Euclidean projection of y + eta * g onto {0 <= y <= 1, sum y = h}) in
 * O(|E| log |E| + dropped * log n) per step, E = the step's candidates plus the capped objects.
 *
 * Why that is exact: the projection is y' = clip(yhat - tau, 0, 1) with one shift tau. With g >= 0,
 * sum clip(yhat, 0, 1) >= h, so tau >= 0: an object outside E with 0 < y_o < 1 moves to
 * max(0, y_o - tau) and is never capped. So the uncapped positive objects outside E form a "bulk"
 * that contributes B - P * tau while all stay positive; those that would go below 0 are popped
 * from a min-heap (each object drops at most once per time it became positive) and the walk over
 * E's breakpoints is redone (euclid-projection.ts).
 *
 * Representation: a positive uncapped y_o = v_o - T with one global offset T (a step adds tau to T
 * instead of touching n numbers); capped objects are listed explicitly; zeros are implicit.
 */
import { fail } from "../core/errors.js";
import { solveEuclidShift } from "./euclid-projection.js";
import { IndexedHeap } from "./indexed-heap.js";

const REBASE_ABOVE = 1;

export class EuclidState {
  readonly n: number;
  readonly h: number;
  /** Positive uncapped y_o = v[o] - offset. */
  private readonly v: Float64Array;
  offset = 0;
  private readonly alive: IndexedHeap; // positive uncapped objects, smallest v on top
  private vSum: number;
  private readonly capped: Uint8Array;
  private cappedList: number[] = [];
  private steps = 0;
  /** Called with d when every v (and the offset) is shifted by -d (rebasing). */
  onShift?: (d: number) => void;
  private readonly ids: number[] = [];
  private readonly hat: number[] = [];
  private readonly mark: Int32Array;
  private scratch = new Float64Array(64);

  constructor(n: number, h: number) {
    if (!(Number.isInteger(n) && n >= 1)) fail("INVALID_ARGUMENT", `euclid state: n must be >= 1, got ${n}`);
    if (!(Number.isInteger(h) && h >= 1 && h <= n))
      fail("INVALID_ARGUMENT", `euclid state: h must be an integer in [1, ${n}], got ${h}`);
    this.n = n;
    this.h = h;
    this.v = new Float64Array(n).fill(h / n);
    this.alive = new IndexedHeap(n, this.v, 1);
    this.capped = new Uint8Array(n);
    this.mark = new Int32Array(n);
    this.vSum = 0;
    if (h === n) for (let o = 0; o < n; o++) this.cap(o);
    else
      for (let o = 0; o < n; o++) {
        this.alive.push(o);
        this.vSum += this.v[o];
      }
  }

  value(o: number): number {
    if (this.capped[o]) return 1;
    return this.alive.has(o) ? this.v[o] - this.offset : 0;
  }

  isCapped(o: number): boolean {
    return this.capped[o] === 1;
  }

  /** v_o = y_o + offset for a positive uncapped object (offset-free keys). */
  raw(o: number): number {
    return this.v[o];
  }

  /**
   * The coupled-rounding key of object o for permanent random number u: u - y in offset-free form
   * (u - v; the offset shifts every positive uncapped y alike). Capped: -Infinity; y = 0: +Infinity.
   */
  couplingKey(o: number, u: number): number {
    if (this.capped[o]) return Number.NEGATIVE_INFINITY;
    return this.alive.has(o) ? u - this.v[o] : Number.POSITIVE_INFINITY;
  }

  toDense(out = new Float64Array(this.n)): Float64Array {
    for (let o = 0; o < this.n; o++) out[o] = this.value(o);
    return out;
  }

  total(): number {
    return this.cappedList.length + this.vSum - this.alive.size * this.offset;
  }

  /** One projected gradient step; `changed` receives every object whose y changed other than by the shift. */
  step(
    objs: ArrayLike<number>,
    grad: ArrayLike<number>,
    count: number,
    eta: number,
    changed: number[],
  ): void {
    const { ids, hat } = this;
    ids.length = 0;
    hat.length = 0;
    for (let j = 0; j < count; j++) {
      const o = objs[j];
      const g = grad[j];
      if (!(Number.isInteger(o) && o >= 0 && o < this.n))
        fail("INVALID_ARGUMENT", `euclid step: object ${o} is not in 0..${this.n - 1}`);
      if (!(g >= 0 && g < Number.POSITIVE_INFINITY))
        fail("INVALID_ARGUMENT", `euclid step: gradient of object ${o} must be finite and >= 0, got ${g}`);
      if (!this.mark[o]) {
        ids.push(o);
        this.mark[o] = ids.length;
        hat.push(this.value(o));
      }
      hat[this.mark[o] - 1] += eta * g;
    }
    for (const o of this.cappedList)
      if (!this.mark[o]) {
        ids.push(o);
        this.mark[o] = ids.length;
        hat.push(1);
      }
    for (const o of ids)
      if (this.alive.has(o)) {
        this.alive.remove(o);
        this.vSum -= this.v[o];
      }
    if (this.scratch.length < 2 * ids.length) this.scratch = new Float64Array(4 * ids.length);
    let tau: number;
    for (;;) {
      const P = this.alive.size;
      tau = solveEuclidShift(hat, ids.length, P, this.vSum - P * this.offset, this.h, this.scratch);
      let dropped = false;
      while (this.alive.size > 0 && this.alive.topKey() - this.offset <= tau) {
        const o = this.alive.pop();
        this.vSum -= this.v[o];
        changed.push(o);
        dropped = true;
      }
      if (!dropped) break;
    }
    this.offset += tau;
    for (let j = 0; j < ids.length; j++) {
      const o = ids[j];
      this.mark[o] = 0;
      const y = Math.min(1, Math.max(0, hat[j] - tau));
      const wasCapped = this.capped[o] === 1;
      if (y >= 1) {
        if (!wasCapped) {
          this.cap(o);
          changed.push(o);
        }
        continue;
      }
      if (wasCapped) this.uncap(o);
      if (y > 0) {
        this.v[o] = y + this.offset;
        this.alive.push(o);
        this.vSum += this.v[o];
      }
      changed.push(o);
    }
    if (++this.steps % this.n === 0 || this.offset > REBASE_ABOVE) this.rebase();
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

  /** Moves the offset into v (keeps precision) and recomputes the bulk sum exactly. */
  private rebase(): void {
    const d = this.offset;
    let s = 0;
    for (const o of this.alive.ids()) {
      this.v[o] -= d;
      s += this.v[o];
    }
    this.vSum = s;
    this.offset = 0;
    if (d !== 0) this.onShift?.(d);
  }
}
