/** Where command output goes: results on stdout (JSON as one line), logs on stderr when JSON is on. */

/** One JSON object on its own line: the `--json` contract (the last line of stdout). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Text for people on stdout, newline-terminated. */
export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** A log line: stdout for people, stderr when stdout carries JSON (so the JSON stays parseable). */
export function logger(json: boolean | undefined): (line: string) => void {
  return (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);
}
