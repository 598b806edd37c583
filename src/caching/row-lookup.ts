/**
 * Exact-row lookup shared by the simulator (file traces carry no row) and the offline references
 * (identical requests need one neighbour search, not one per occurrence). Browser-safe.
 */
import type { Catalog } from "./types.js";

/**
 * Finds the catalog row a request vector equals exactly (file traces carry no row): a hash of
 * the float bits picks candidates, an element-wise comparison confirms. Built on first use.
 */
export class RowLookup {
  private readonly table = new Map<number, number | number[]>();
  private readonly bits: Uint32Array;
  constructor(private readonly catalog: Catalog) {
    this.bits = new Uint32Array(catalog.vectors.buffer, catalog.vectors.byteOffset, catalog.vectors.length);
    const { n, dim } = catalog;
    for (let i = 0; i < n; i++) {
      const h = this.hash(this.bits, i * dim, dim);
      const e = this.table.get(h);
      if (e === undefined) this.table.set(h, i);
      else if (typeof e === "number") this.table.set(h, [e, i]);
      else e.push(i);
    }
  }
  private hash(b: Uint32Array, o: number, dim: number): number {
    let h = 0x811c9dc5;
    for (let j = 0; j < dim; j++) h = Math.imul(h ^ b[o + j], 0x01000193);
    return h >>> 0;
  }
  /** The smallest row equal to x, or -1. */
  find(x: Float32Array): number {
    const xb = new Uint32Array(x.buffer, x.byteOffset, x.length);
    const e = this.table.get(this.hash(xb, 0, x.length));
    if (e === undefined) return -1;
    for (const i of typeof e === "number" ? [e] : e) {
      const row = this.catalog.row(i);
      let same = true;
      for (let j = 0; j < x.length && same; j++) same = row[j] === x[j];
      if (same) return i;
    }
    return -1;
  }
}
