/**
 * A live IDN as real processes: `mammals idn up` starts a 3-node chain (access -> edge -> cloud)
 * on free loopback ports; `idn load` drives a trace and its measured gain agrees with the
 * simulator's on the same trace; a second run SIGKILLs the middle node mid-slot (its requests go
 * straight to the cloud, nothing fails), restarts it (it rejoins: control messages reach it again),
 * and a node dropping control messages keeps serving. SIGTERM to `idn up` stops every node. Every
 * process started here is killed after the file's tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { idnNodeArgs, runIdnLoad } from "../src/jobs/idn-live.node.js";

const ROOT = join(import.meta.dirname, "..");
const ENTRY = ["--import", "tsx", join(ROOT, "scripts", "dev.ts")];
const TOPOLOGY = join(ROOT, "test", "fixtures", "idn-live-chain.json");
const CATALOG = join(ROOT, "test", "fixtures", "idn-live-catalog.json");
const started: ChildProcess[] = [];
const nodePids: number[] = [];

afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  // Nodes also exit when idn up dies (their stdin closes); this covers a failure in between.
  for (const pid of nodePids) if (alive(pid)) process.kill(pid, "SIGKILL");
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A base port P with P, P+1, ..., P+n-1 free on 127.0.0.1. */
async function freePorts(n: number): Promise<number> {
  for (let base = 20000 + Math.floor(Math.random() * 20000); ; base += n) {
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

async function status(url: string) {
  return (await (await fetch(`${url}/idn/status`)).json()) as {
    slot: number;
    hosted: string[];
    peakBytes: number;
    budgetMB: number | null;
    controlMessages: number;
  };
}

describe("live IDN processes (3-node chain on loopback)", () => {
  it("up, load (gain within 10% of the simulator's), kill and restart the middle node, stop", async () => {
    const base = await freePorts(3);
    const dataDir = mkdtempSync(join(tmpdir(), "mammals-idn-live-"));
    const common = [
      "--topology",
      TOPOLOGY,
      "--catalog",
      CATALOG,
      "--base-port",
      String(base),
      "--data-dir",
      dataDir,
    ];
    const up = spawn(process.execPath, [...ENTRY, "idn", "up", ...common, "--epochs", "1"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.push(up);
    let out = "";
    let err = "";
    up.stdout?.on("data", (d) => {
      out += String(d);
    });
    up.stderr?.on("data", (d) => {
      err += String(d);
    });
    const upExit = new Promise<number | null>((r) => up.once("exit", (code) => r(code)));
    const deadline = Date.now() + 90_000;
    while (!out.includes("nodes up") && Date.now() < deadline && up.exitCode === null)
      await new Promise((r) => setTimeout(r, 200));
    expect(out, err).toContain("3 nodes up");
    const pids = Object.fromEntries(
      out
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => ["a", "e", "c"].includes(c[0]) && /^\d+$/.test(c[3] ?? ""))
        .map((c) => [c[0], Number(c[3])]),
    );
    expect(Object.keys(pids).sort()).toEqual(["a", "c", "e"]);
    nodePids.push(...Object.values(pids));
    const urls = [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`);

    // 1. Fault-free: the measured gain is the simulator's (slots advanced by the driver).
    const clean = await runIdnLoad({
      topology: TOPOLOGY,
      basePort: base,
      trace: "stationary:requests=720",
      slots: 6,
      seed: 4,
      concurrency: 8,
    });
    expect(clean.measured.failed).toBe(0);
    expect(clean.measured.requests).toBe(720);
    expect(clean.simulated.avgGain).toBeGreaterThan(0);
    expect(Math.abs(clean.gainRatio - 1)).toBeLessThan(0.1);
    // Capacities bind (fixture catalog): every node answers a share, the middle one included.
    expect(clean.servedBy.a).toBeGreaterThan(0);
    expect(clean.servedBy.e).toBeGreaterThan(0);
    expect(clean.servedBy.c).toBeGreaterThan(0);
    // Budgets held at every moment (the node's peak of measured model bytes; catalog sizes are
    // the measured bytes to 4 significant digits).
    for (const u of urls.slice(0, 2)) {
      const s = await status(u);
      expect(s.peakBytes).toBeLessThanOrEqual((s.budgetMB as number) * 1e6 * 1.001);
    }

    // The network view: every node's status, and the page's fragment with the topology picture.
    const view = (await (await fetch(`${urls[0]}/idn/network?format=json`)).json()) as {
      nodes: Array<{ node: string } | null>;
    };
    expect(view.nodes.map((n) => n?.node)).toEqual(["a", "e", "c"]);
    const fragment = await (await fetch(`${urls[2]}/idn/network`)).text();
    expect(fragment).toContain("3 of 3 nodes answering");
    expect(fragment).toContain("<svg");
    expect(await (await fetch(`${urls[1]}/`)).text()).toContain("/idn/network");

    // 2. SIGKILL the middle node during slot 1, restart it at slot 3; a drops control messages in slot 4.
    let restarted: ChildProcess | undefined;
    const faulty = await runIdnLoad({
      topology: TOPOLOGY,
      basePort: base,
      trace: "stationary:requests=720",
      slots: 6,
      seed: 5,
      concurrency: 8,
      async onSlotStart(t) {
        if (t === 1) setTimeout(() => process.kill(pids.e, "SIGKILL"), 20);
        if (t === 2)
          expect(await (await fetch(`${urls[0]}/idn/network`)).text()).toContain("2 of 3 nodes answering");
        if (t === 3) {
          restarted = spawn(
            process.execPath,
            [
              ...ENTRY,
              ...idnNodeArgs(
                {
                  topology: TOPOLOGY,
                  catalog: CATALOG,
                  alpha: 100,
                  basePort: base,
                  dataDir,
                  epochs: 1,
                  entry: [],
                },
                "e",
              ),
              "--log-level",
              "warn",
            ],
            { cwd: ROOT, stdio: "ignore" },
          );
          started.push(restarted);
          await waitHealthy(urls[1]);
        }
        if (t === 4)
          await fetch(`${urls[0]}/idn/faults`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ dropControl: true }),
          });
      },
    });
    expect(faulty.measured.requests).toBe(720);
    expect(faulty.measured.failed).toBe(0);
    expect(faulty.measured.controlFailures).toBeGreaterThan(0);
    // While e was down its share went further up the path, to the cloud.
    expect(faulty.servedBy.c).toBeGreaterThan(clean.servedBy.c);
    expect(faulty.perSlot[2].gain).toBeLessThan(clean.perSlot[2].gain);
    // The restarted node rejoined: the driver's control messages reached it (its slot advanced).
    expect((await status(urls[1])).slot).toBe(6);
    expect((await status(urls[1])).controlMessages).toBeGreaterThan(0);

    // 3. SIGTERM stops every node `idn up` started.
    up.kill("SIGTERM");
    expect(await upExit).toBe(0);
    for (const id of ["a", "c"]) expect(alive(pids[id]), id).toBe(false);
    restarted?.kill("SIGTERM");
  }, 180_000);

  it("nodes never outlive idn up, even when it is SIGKILLed", async () => {
    const base = await freePorts(3);
    const dataDir = mkdtempSync(join(tmpdir(), "mammals-idn-live-"));
    const up = spawn(
      process.execPath,
      [
        ...ENTRY,
        "idn",
        "up",
        "--topology",
        TOPOLOGY,
        "--catalog",
        CATALOG,
        "--base-port",
        String(base),
        "--data-dir",
        dataDir,
        "--epochs",
        "1",
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] },
    );
    started.push(up);
    let out = "";
    up.stdout?.on("data", (d) => {
      out += String(d);
    });
    const deadline = Date.now() + 90_000;
    while (!out.includes("nodes up") && Date.now() < deadline && up.exitCode === null)
      await new Promise((r) => setTimeout(r, 200));
    const pids = out
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => ["a", "e", "c"].includes(c[0]) && /^\d+$/.test(c[3] ?? ""))
      .map((c) => Number(c[3]));
    expect(pids).toHaveLength(3);
    nodePids.push(...pids);
    up.kill("SIGKILL");
    const gone = Date.now() + 15_000;
    while (pids.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
  }, 120_000);
});
