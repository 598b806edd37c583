import { describe, expect, it } from "vitest";
import { cdf, decadeTicks, htmlReport, lineChart, ticks } from "../src/core/plot.js";

describe("plot", () => {
  it("ticks are round numbers covering the range", () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(3, 97, 4)).toEqual([20, 40, 60, 80]);
  });
  it("cdf is non-decreasing and ends at 1", () => {
    const { x, y } = cdf([5, 1, 3, 2, 4]);
    expect(x).toEqual([1, 2, 3, 4, 5, 5]);
    expect(y[y.length - 1]).toBe(1);
    for (let i = 1; i < y.length; i++) expect(y[i]).toBeGreaterThanOrEqual(y[i - 1]);
  });
  it("renders escaped, self-contained SVG and HTML", () => {
    const svg = lineChart([{ name: "a<b", x: [0, 1, 2], y: [1, 2, 3] }], {
      title: "t&t",
      xLabel: "x",
      yLabel: "y",
    });
    expect(svg).toContain("<polyline");
    expect(svg).toContain("a&lt;b");
    expect(svg).toContain("t&amp;t");
    const html = htmlReport("r", [{ heading: "h", html: svg }]);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe("decadeTicks", () => {
  it("marks every decade of a log axis, with 2x and 5x marks on narrow ranges", () => {
    expect(decadeTicks(-1.5, 2.5).map((v) => Number((10 ** v).toPrecision(6)))).toEqual([0.1, 1, 10, 100]);
    expect(decadeTicks(0, 1).map((v) => Number((10 ** v).toPrecision(6)))).toEqual([1, 2, 5, 10]);
  });
});
