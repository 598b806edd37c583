/**
 * What the page exposes as `window.mammals`, for the browser tests and the console (types only, so
 * a test can name them without running the page).
 */
import type { DeviceAnswer } from "../core/device-node.js";

export interface PageStateView {
  memorySize: number;
  modelName: string;
  modelLoadMs: number;
  firstPredictionMs: number;
  /** Answers shown so far: from reading the input to the answer, and local compute alone. */
  latencies: number[];
  localLatencies: number[];
  answer: (Omit<DeviceAnswer, "proba" | "neighbours"> & { proba: number[] }) | null;
}

export interface BenchmarkResult {
  n: number;
  meanMs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface MammalsPageHooks {
  state(): PageStateView;
  benchmark(n: number): BenchmarkResult;
  /** Answers a given 28x28 input (784 values in [0, 1]) as if drawn. */
  answer(x: number[]): Promise<Omit<DeviceAnswer, "proba" | "neighbours"> & { proba: number[] }>;
}

/** `window` as the page leaves it. */
export type PageWindow = Window & { mammals: MammalsPageHooks };
