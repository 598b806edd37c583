/**
 * Progress bars for long work: drawn on stderr, and only when stderr is a TTY (so logs, pipes and
 * CI stay clean). `--json` never changes this: JSON goes to stdout.
 */
import cliProgress from "cli-progress";

export interface Progress {
  tick(n?: number, label?: string): void;
  stop(): void;
}

const NOOP: Progress = { tick() {}, stop() {} };

export function progress(total: number, title: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled || total <= 0) return NOOP;
  const bar = new cliProgress.SingleBar(
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
  bar.start(total, 0, { label: "" });
  let value = 0;
  return {
    tick(n = 1, label = "") {
      value += n;
      bar.update(value, { label });
    },
    stop() {
      bar.stop();
    },
  };
}
