/**
 * Starting `mammals serve` as a child process (for jobs that measure real processes, like
 * `mammals demo --http`): the same program that runs the caller (`entry`: node flags and script,
 * e.g. bin/mammals.js or tsx + scripts/dev.ts), a free port on 127.0.0.1 read from the
 * `listening` log line, and a stop that sends SIGTERM and waits for the exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { MammalsError } from "../core/errors.js";

export interface LaunchedServe {
  url: string;
  stop(): Promise<void>;
}

export type ServeLauncher = (args: string[]) => Promise<LaunchedServe>;

/** A launcher running `process.execPath <entry...> serve <args> --port 0`. */
export function serveLauncher(entry: string[], timeoutMs = 60_000): ServeLauncher {
  return (args) =>
    new Promise((resolve, reject) => {
      const child: ChildProcess = spawn(process.execPath, [...entry, "serve", ...args, "--port", "0"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      let buf = "";
      let listening = false;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(fail_(`mammals serve ${args.join(" ")}: not listening after ${timeoutMs} ms. ${stderr}`));
      }, timeoutMs);
      child.stderr!.on("data", (d) => {
        stderr += String(d);
      });
      child.stdout!.on("data", (d) => {
        if (listening) return;
        buf += String(d);
        for (const line of buf.split("\n")) {
          if (!line.includes('"listening"')) continue;
          listening = true;
          clearTimeout(timer);
          resolve({ url: (JSON.parse(line) as { url: string }).url, stop });
          return;
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        if (!listening)
          reject(fail_(`mammals serve ${args.join(" ")} exited before listening. ${stderr.trim()}`));
      });
    });
}

function fail_(message: string): Error {
  return new MammalsError("STATE", message);
}
