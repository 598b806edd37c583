/**
 * Progress bars for long work: drawn on stderr, and only when stderr is a TTY (so logs, pipes and
 * CI stay clean). `--json` never changes this: JSON goes to stdout. Jobs report progress through
 * an `OnProgress` callback (src/jobs/progress.ts); `progressBars` turns it into one bar per phase.
 */
import cliProgress from "cli-progress";
import type { OnProgress } from "../jobs/progress.js";

interface Bar {
  tick(n: number, label: string): void;
  stop(): void;
}

function bar(total: number, title: string): Bar {
  const b = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${title.padEnd(22).slice(0, 22)} [{bar}] {percentage}% {value}/{total} eta {eta_formatted} {label}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  b.start(total, 0, { label: "" });
  let value = 0;
  return {
    tick(n, label) {
      value += n;
      b.update(value, { label });
    },
    stop() {
      b.stop();
    },
  };
}

export interface ProgressBars {
  /** Pass to a job; draws nothing when disabled. */
  onProgress: OnProgress;
  /** Clears the current bar (call when the job returns or throws). */
  stop(): void;
}

/** Bars fed by a job's progress callback: a new bar whenever the phase changes or the count restarts. */
export function progressBars(enabled = process.stderr.isTTY === true): ProgressBars {
  let current: Bar | undefined;
  let phase: string | undefined;
  let last = 0;
  const stop = () => {
    current?.stop();
    current = undefined;
    phase = undefined;
    last = 0;
  };
  return {
    onProgress(done, total, p, note = "") {
      if (!enabled || total <= 0) return;
      if (p !== phase || done < last) {
        stop();
        current = bar(total, p);
        phase = p;
      }
      current?.tick(done - last, note);
      last = done;
    },
    stop,
  };
}

/** Runs `job` with progress bars, clearing them however it ends. */
export async function withProgress<T>(
  job: (onProgress: OnProgress) => T | Promise<T>,
  enabled = process.stderr.isTTY === true,
): Promise<T> {
  const bars = progressBars(enabled);
  try {
    return await job(bars.onProgress);
  } finally {
    bars.stop();
  }
}
