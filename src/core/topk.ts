/**
 * Top-k selection of the k smallest distances with a bounded max-heap stored in two parallel
 * typed arrays (no objects, no allocation per push). Results come out sorted ascending by
 * distance, ties broken by smaller id, so every index returns the same order as the reference.
 */
export class TopK {
  readonly k: number;
  readonly ids: Float64Array;
  readonly dists: Float64Array;
  size = 0;

  constructor(k: number) {
    this.k = k;
    this.ids = new Float64Array(k);
    this.dists = new Float64Array(k);
  }

  reset(): void {
    this.size = 0;
  }

  /** The current k-th distance (Infinity while fewer than k are held): a pruning bound. */
  worst(): number {
    return this.size < this.k ? Number.POSITIVE_INFINITY : this.dists[0];
  }

  push(id: number, dist: number): void {
    const { ids, dists } = this;
    if (this.size < this.k) {
      // sift up
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(dist, id, dists[p], ids[p])) break;
        dists[i] = dists[p];
        ids[i] = ids[p];
        i = p;
      }
      dists[i] = dist;
      ids[i] = id;
      return;
    }
    if (!worse(dists[0], ids[0], dist, id)) return;
    // replace root and sift down
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && worse(dists[r], ids[r], dists[l], ids[l]) ? r : l;
      if (!worse(dists[c], ids[c], dist, id)) break;
      dists[i] = dists[c];
      ids[i] = ids[c];
      i = c;
    }
    dists[i] = dist;
    ids[i] = id;
  }

  /** Sorted results (ascending distance, then id). Leaves the heap empty. */
  drain(): { ids: number[]; distances: number[] } {
    const n = this.size;
    const outIds = new Array<number>(n);
    const outD = new Array<number>(n);
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => this.dists[a] - this.dists[b] || this.ids[a] - this.ids[b]);
    for (let j = 0; j < n; j++) {
      outIds[j] = this.ids[order[j]];
      outD[j] = this.dists[order[j]];
    }
    this.size = 0;
    return { ids: outIds, distances: outD };
  }
}

/** Is (d1, id1) ranked after (d2, id2)? */
function worse(d1: number, id1: number, d2: number, id2: number): boolean {
  return d1 > d2 || (d1 === d2 && id1 > id2);
}
