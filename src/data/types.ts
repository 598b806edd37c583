/** In-memory datasets: row-major float features and integer class labels. */

export interface LabeledSplit {
  /** n x dim row-major features. Image datasets are scaled to [0, 1] (pixel / 255). */
  x: Float32Array;
  /** n class labels in [0, numClasses). */
  y: Uint8Array;
  n: number;
  dim: number;
}

export interface Dataset {
  name: string;
  train: LabeledSplit;
  test: LabeledSplit;
  numClasses: number;
  /** Image shape [height, width] when the rows are images. */
  shape?: [number, number];
  classNames?: string[];
  /** Where it came from (a path or "embedded"), for reports. */
  source: string;
  /** Multiply features by this to get the dataset's native units (255 for 8-bit images). */
  rawScale: number;
}

/** Row i of a split as a view (no copy). */
export function row(split: LabeledSplit, i: number): Float32Array {
  return split.x.subarray(i * split.dim, (i + 1) * split.dim);
}

/** A new split holding the given rows, in that order. */
export function takeRows(split: LabeledSplit, rows: ArrayLike<number>): LabeledSplit {
  const n = rows.length;
  const x = new Float32Array(n * split.dim);
  const y = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    const i = rows[j];
    x.set(split.x.subarray(i * split.dim, (i + 1) * split.dim), j * split.dim);
    y[j] = split.y[i];
  }
  return { x, y, n, dim: split.dim };
}
