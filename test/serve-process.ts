/**
 * Real `mammals serve` processes for the serve tests (not a test file itself): started from the
 * TypeScript sources on 127.0.0.1 with a free port (read from the `listening` log line), bounded
 * in time, and every process started here is killed after the calling file's tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const started = new Set<ChildProcess>();

afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  /** Every log line so far (JSON objects; other lines as {text}). */
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `mammals serve <args> --port 0`; resolves once it listens (or rejects within `timeoutMs`). */
export function startServe(args: string[], timeoutMs = 30_000): Promise<ServeProcess> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "scripts", "dev.ts"), "serve", ...args, "--port", "0"],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  started.add(proc);
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let stderr = "";
  proc.stderr!.on("data", (d) => {
    stderr += String(d);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(
        new Error(`mammals serve ${args.join(" ")} did not listen within ${timeoutMs} ms; stderr: ${stderr}`),
      );
    }, timeoutMs);
    let buf = "";
    proc.stdout!.on("data", (d) => {
      buf += String(d);
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { text: line };
        }
        logs.push(entry);
        if (entry.msg === "listening") {
          clearTimeout(timer);
          resolve({ url: entry.url as string, proc, logs, exited });
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`mammals serve exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
}

/** SIGTERM, then the exit status (SIGKILL after `timeoutMs`). */
export async function stopServe(p: ServeProcess, timeoutMs = 15_000) {
  p.proc.kill("SIGTERM");
  const timer = setTimeout(() => p.proc.kill("SIGKILL"), timeoutMs);
  const r = await p.exited;
  clearTimeout(timer);
  return r;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
