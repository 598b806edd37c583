import { describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { contrast, jitter, rotate, translate } from "../src/data/transforms.js";

// A 3x3 image with one lit pixel per test; pixel (r, c) is index r * 3 + c.
function lit(r: number, c: number): Float32Array {
  const x = new Float32Array(9);
  x[r * 3 + c] = 1;
  return x;
}

describe("image transforms", () => {
  it("translate moves pixels right/down and fills with background", () => {
    expect(Array.from(translate(lit(0, 0), 3, 3, 1, 2))).toEqual(Array.from(lit(2, 1)));
    expect(Array.from(translate(lit(0, 2), 3, 3, 1, 0))).toEqual(Array(9).fill(0));
  });

  it("rotate by 0 is the identity and by 90 degrees maps pixels like the exact rotation", () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(rotate(x, 3, 3, 0))).toEqual(Array.from(x));
    const r = rotate(lit(0, 1), 3, 3, 90);
    // Counter-clockwise on screen coordinates (row down): the top-middle pixel goes to the middle-left or -right.
    const at = Array.from(r).findIndex((v) => Math.abs(v - 1) < 1e-6);
    expect([3, 5]).toContain(at);
    expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it("contrast clamps to [0, 1]; jitter is seeded and leaves its input alone", () => {
    expect(Array.from(contrast(Float32Array.from([0, 0.5, 1]), 2, -0.5))).toEqual([0, 0.5, 1]);
    const x = Float32Array.from([0.2, 0.4, 0.6, 0.8, 1, 0, 0.1, 0.3, 0.5]);
    const copy = x.slice();
    const j = jitter(3, 3, 1, 0.05);
    expect(Array.from(j(x, new Rng(4)))).toEqual(Array.from(j(x, new Rng(4))));
    expect(Array.from(x)).toEqual(Array.from(copy));
    expect(() => translate(x, 2, 2, 1, 1)).toThrow(/expected 2x2 = 4 values, got 9/);
  });
});
