/**
 * Distribution shifts for the fine-tuning scenario: the same images seen through a different
 * "sensor" (rotated, thicker strokes, lower contrast), so a model trained on the originals has
 * something real to adapt to. Spec strings:
 *   rotate:deg=D     rotation by D degrees about the image centre (bilinear, zero fill)
 *   thicken:r=R      R passes of a 3x3 grey-level dilation (bolder strokes / fatter garments)
 *   contrast:gain=G,offset=O   x -> clamp(G*x + O, 0, 1)
 * Deterministic (no randomness), so before/after accuracies compare the same images.
 */
import { check, fail } from "../../core/errors.js";
import { type ParamSchema, parseParams, splitSpec } from "../../core/spec.js";
import { contrast, rotate } from "../../data/transforms.js";
import type { LabeledSplit } from "../../data/types.js";

const SCHEMAS = {
  rotate: { deg: { type: "number", default: 30, min: -180, max: 180, description: "angle in degrees" } },
  thicken: { r: { type: "int", default: 1, min: 1, max: 5, description: "dilation passes" } },
  contrast: {
    gain: { type: "number", default: 0.5, min: 0, max: 4, description: "multiplier" },
    offset: { type: "number", default: 0.3, min: -1, max: 1, description: "added after the gain" },
  },
} satisfies Record<string, ParamSchema>;

export const SHIFT_NAMES = Object.keys(SCHEMAS);

export type ImageShift = (src: Float32Array, dst: Float32Array, h: number, w: number) => void;

export function parseShift(spec: string): ImageShift {
  const { name, rest } = splitSpec(spec);
  switch (name) {
    case "rotate": {
      const { deg } = parseParams(rest, SCHEMAS.rotate, "shift rotate");
      return (s, d, h, w) => d.set(rotate(s, h, w, deg));
    }
    case "thicken": {
      const { r } = parseParams(rest, SCHEMAS.thicken, "shift thicken");
      return (s, d, h, w) => {
        d.set(s);
        const tmp = new Float32Array(s.length);
        for (let k = 0; k < r; k++) {
          tmp.set(d);
          dilate(tmp, d, h, w);
        }
      };
    }
    case "contrast": {
      const { gain, offset } = parseParams(rest, SCHEMAS.contrast, "shift contrast");
      return (s, d) => d.set(contrast(s, gain, offset));
    }
    default:
      return fail("UNKNOWN_NAME", `unknown shift "${spec}"; expected one of ${SHIFT_NAMES.join(", ")}`);
  }
}

/** A new split with every image shifted (labels unchanged). */
export function shiftSplit(split: LabeledSplit, shape: [number, number], spec: string): LabeledSplit {
  const [h, w] = shape;
  check(h * w === split.dim, `shift: image shape ${h}x${w} does not match ${split.dim} features`);
  const f = parseShift(spec);
  const x = new Float32Array(split.x.length);
  for (let i = 0; i < split.n; i++) {
    const at = i * split.dim;
    f(split.x.subarray(at, at + split.dim), x.subarray(at, at + split.dim), h, w);
  }
  return { x, y: split.y, n: split.n, dim: split.dim };
}

function dilate(s: Float32Array, d: Float32Array, h: number, w: number): void {
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w && s[yy * w + xx] > m) m = s[yy * w + xx];
        }
      d[y * w + x] = m;
    }
}
