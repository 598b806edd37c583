/**
 * A drawing on the page's canvas turned into what the model was trained on: MNIST's 28x28 form,
 * in which each digit's ink was scaled to fit a 20x20 box (aspect kept) and then placed so that its
 * centre of mass sits at the image centre. A model trained on MNIST sees a drawing the same way only
 * if it goes through the same steps, so they are done here, on plain arrays (testable in Node):
 * crop to the ink's bounding box, area-average down to fit 20x20, place by centre of mass.
 */

export const SIDE = 28;
const BOX = 20;

/**
 * `ink` is a w x h grey image (row-major, 0 = background, 1 = full ink), e.g. the alpha channel of
 * the drawing canvas. Returns 784 values in [0, 1]; all zeros when nothing is drawn.
 */
export function toModelInput(ink: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(SIDE * SIDE);
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (ink[y * w + x] > 0.05) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  // One output pixel covers `scale` source pixels on a side (never upsample past 1:1 blocks of ink).
  const scale = Math.max(bw, bh) / BOX;
  const ow = Math.max(1, Math.round(bw / scale));
  const oh = Math.max(1, Math.round(bh / scale));
  const small = new Float32Array(ow * oh);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++) small[oy * ow + ox] = areaMean(ink, w, x0, y0, bw, bh, ox, oy, ow, oh);
  // Centre of mass of the small image, placed at the centre of the 28x28 frame.
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const v = small[y * ow + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  const cx = mass > 0 ? mx / mass : (ow - 1) / 2;
  const cy = mass > 0 ? my / mass : (oh - 1) / 2;
  const dx = Math.round((SIDE - 1) / 2 - cx);
  const dy = Math.round((SIDE - 1) / 2 - cy);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const tx = x + dx;
      const ty = y + dy;
      if (tx >= 0 && tx < SIDE && ty >= 0 && ty < SIDE) out[ty * SIDE + tx] = Math.min(1, small[y * ow + x]);
    }
  return out;
}

/** Mean ink over the source rectangle that output pixel (ox, oy) of an ow x oh grid covers. */
function areaMean(
  ink: Float32Array,
  w: number,
  x0: number,
  y0: number,
  bw: number,
  bh: number,
  ox: number,
  oy: number,
  ow: number,
  oh: number,
): number {
  const sx0 = x0 + (ox * bw) / ow;
  const sx1 = x0 + ((ox + 1) * bw) / ow;
  const sy0 = y0 + (oy * bh) / oh;
  const sy1 = y0 + ((oy + 1) * bh) / oh;
  let sum = 0;
  let area = 0;
  for (let y = Math.floor(sy0); y < Math.ceil(sy1); y++) {
    const fy = Math.min(sy1, y + 1) - Math.max(sy0, y);
    for (let x = Math.floor(sx0); x < Math.ceil(sx1); x++) {
      const fx = Math.min(sx1, x + 1) - Math.max(sx0, x);
      sum += ink[y * w + x] * fx * fy;
      area += fx * fy;
    }
  }
  return area > 0 ? sum / area : 0;
}

/** 784 values in [0, 1] as bytes (how examples are stored and exported). */
export function toBytes(x: Float32Array): Uint8Array {
  const b = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) b[i] = Math.round(Math.min(1, Math.max(0, x[i])) * 255);
  return b;
}

export function fromBytes(b: Uint8Array): Float32Array {
  const x = new Float32Array(b.length);
  for (let i = 0; i < b.length; i++) x[i] = b[i] / 255;
  return x;
}
