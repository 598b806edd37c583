/**
 * Image transforms for workloads and shift scenarios: the "style" a local population adds to its
 * inputs (a camera a few pixels off, a different contrast, a rotation) and the small jitter that keeps
 * a request stream from repeating inputs exactly. Images are row-major height x width in [0, 1];
 * every transform returns a new array and never modifies its input. Random ones take an Rng.
 */
import { check } from "../core/errors.js";
import type { Rng } from "../core/rng.js";

export type ImageTransform = (x: Float32Array, rng: Rng) => Float32Array;

function checkShape(x: Float32Array, h: number, w: number): void {
  check(x.length === h * w, () => `image: expected ${h}x${w} = ${h * w} values, got ${x.length}`);
}

/** Moves the picture dx pixels right and dy down, filling with 0 (the background). */
export function translate(x: Float32Array, h: number, w: number, dx: number, dy: number): Float32Array {
  checkShape(x, h, w);
  const out = new Float32Array(h * w);
  for (let r = 0; r < h; r++) {
    const sr = r - dy;
    if (sr < 0 || sr >= h) continue;
    for (let c = 0; c < w; c++) {
      const sc = c - dx;
      if (sc >= 0 && sc < w) out[r * w + c] = x[sr * w + sc];
    }
  }
  return out;
}

/** Rotation by `degrees` (counter-clockwise) about the centre, bilinear, background 0. */
export function rotate(x: Float32Array, h: number, w: number, degrees: number): Float32Array {
  checkShape(x, h, w);
  const out = new Float32Array(h * w);
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      // Inverse map: where in the source does this output pixel come from.
      const sx = cos * (c - cx) + sin * (r - cy) + cx;
      const sy = -sin * (c - cx) + cos * (r - cy) + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let v = 0;
      for (let j = 0; j < 2; j++) {
        for (let i = 0; i < 2; i++) {
          const yy = y0 + j;
          const xx = x0 + i;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          v += x[yy * w + xx] * (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
        }
      }
      out[r * w + c] = v;
    }
  }
  return out;
}

/** x -> clamp(offset + gain * x, 0, 1): a different exposure or ink. */
export function contrast(x: Float32Array, gain: number, offset: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(1, Math.max(0, offset + gain * x[i]));
  return out;
}

/** Adds N(0, sigma^2) noise, clamped to [0, 1]. */
export function addNoise(x: Float32Array, sigma: number, rng: Rng): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(1, Math.max(0, x[i] + sigma * rng.normal()));
  return out;
}

/** Small per-request jitter: a random shift of at most `maxShift` pixels and pixel noise. */
export function jitter(h: number, w: number, maxShift: number, sigma: number): ImageTransform {
  return (x, rng) => {
    const dx = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
    const dy = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
    const moved = dx || dy ? translate(x, h, w, dx, dy) : x;
    return sigma > 0 ? addNoise(moved, sigma, rng) : moved === x ? x.slice() : moved;
  };
}

/** Applies transforms left to right. */
export function compose(...fs: ImageTransform[]): ImageTransform {
  return (x, rng) => fs.reduce((v, f) => f(v, rng), x);
}
