/**
 * How a job reports progress without printing: an optional callback told how much of the current
 * phase is done. The CLI draws bars from it, the HTTP service will stream it, tests ignore it.
 */

/**
 * `done` of `total` units of work in `phase` (e.g. "build hnsw", "search hnsw"); a new phase, or
 * `done` going back (a new epoch), starts a new count. `note` is a short status such as the last
 * epoch's loss.
 */
export type OnProgress = (done: number, total: number, phase: string, note?: string) => void;

/** A counter with the `tick` shape index/evaluate.ts takes, reporting through `onProgress`. */
export interface ProgressCounter {
  tick(n?: number, note?: string): void;
}

export function progressCounter(
  onProgress: OnProgress | undefined,
  total: number,
  phase: string,
): ProgressCounter {
  if (!onProgress) return { tick() {} };
  let done = 0;
  return {
    tick(n = 1, note) {
      done += n;
      onProgress(done, total, phase, note);
    },
  };
}
