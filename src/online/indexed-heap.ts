/**
 * A binary heap over item ids 0..n-1 whose keys live in a shared Float64Array, with each item's
 * position tracked so any item can be removed or re-keyed in O(log n). `sign` = +1 gives a
 * min-heap, -1 a max-heap. Ties break by smaller id, so every run is deterministic.
 */
export class IndexedHeap {
  private readonly heap: Int32Array;
  /** Position of each id in `heap`, -1 when absent. */
  private readonly pos: Int32Array;
  size = 0;

  constructor(
    n: number,
    private readonly keys: Float64Array,
    private readonly sign: 1 | -1,
  ) {
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
  }

  has(id: number): boolean {
    return this.pos[id] >= 0;
  }

  /** The top id (smallest key for a min-heap), -1 when empty. */
  top(): number {
    return this.size > 0 ? this.heap[0] : -1;
  }

  topKey(): number {
    return this.keys[this.heap[0]];
  }

  push(id: number): void {
    const i = this.size++;
    this.heap[i] = id;
    this.pos[id] = i;
    this.up(i);
  }

  pop(): number {
    const id = this.heap[0];
    this.removeAt(0);
    return id;
  }

  remove(id: number): void {
    const i = this.pos[id];
    if (i >= 0) this.removeAt(i);
  }

  /** Call after changing keys[id] of a stored id. */
  update(id: number): void {
    const i = this.pos[id];
    if (i >= 0) this.down(this.up(i));
  }

  /** Ids currently held (heap order). */
  ids(): Int32Array {
    return this.heap.subarray(0, this.size);
  }

  private removeAt(i: number): void {
    const id = this.heap[i];
    const last = this.heap[--this.size];
    this.pos[id] = -1;
    if (i < this.size) {
      this.heap[i] = last;
      this.pos[last] = i;
      this.down(this.up(i));
    }
  }

  /** True when a belongs above b. */
  private before(a: number, b: number): boolean {
    const ka = this.keys[a] * this.sign;
    const kb = this.keys[b] * this.sign;
    return ka < kb || (ka === kb && a < b);
  }

  private up(i: number): number {
    const h = this.heap;
    const id = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(id, h[p])) break;
      h[i] = h[p];
      this.pos[h[i]] = i;
      i = p;
    }
    h[i] = id;
    this.pos[id] = i;
    return i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = this.size;
    const id = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r], h[l]) ? r : l;
      if (!this.before(h[c], id)) break;
      h[i] = h[c];
      this.pos[h[i]] = i;
      i = c;
    }
    h[i] = id;
    this.pos[id] = i;
  }
}
