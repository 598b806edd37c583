/**
 * Warnings that must not be silent but must not stop the work either (an unverifiable old trace
 * file, a slower fallback kernel): each is reported once per key. By default they go to Node's
 * `process.emitWarning` (so `--no-warnings` and `--trace-warnings` apply) or `console.warn` in
 * browsers; the CLI, a server or a test installs its own handler with {@link setWarningHandler}.
 * Browser-safe.
 */

export interface MammalsWarning {
  /** Stable identifier of the kind of warning, e.g. "MAMMALS_TRACE_UNVERIFIED". */
  code: string;
  message: string;
}

type Handler = (w: MammalsWarning) => void;

const defaultHandler: Handler = (w) => {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process;
  if (typeof proc?.emitWarning === "function") proc.emitWarning(w.message, { code: w.code });
  else console.warn(`${w.code}: ${w.message}`);
};

let handler: Handler = defaultHandler;
const seen = new Set<string>();

/** Reports `message` unless a warning with the same `key` (default: code + message) was reported. */
export function warnOnce(code: string, message: string, key = `${code}\u0000${message}`): void {
  if (seen.has(key)) return;
  seen.add(key);
  handler({ code, message });
}

/** Routes warnings to `h` (undefined restores the default); returns the previous handler. */
export function setWarningHandler(h: Handler | undefined): Handler {
  const previous = handler;
  handler = h ?? defaultHandler;
  return previous;
}
