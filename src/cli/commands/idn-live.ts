/**
 * `mammals idn up | load`: a live inference delivery network on this machine. Flags -> the jobs
 * (jobs/idn-live.node.ts) -> a table, or one JSON line (--json). `up` runs until SIGINT/SIGTERM and
 * then stops every node; `load` drives a trace and sets the measurement next to the simulator's.
 */
import type { Command } from "commander";
import { table } from "../../core/format.js";
import { advertiseLevels, runControlPhases } from "../../idn/live/driver.js";
import { LIVE_POLICY_DEFAULT } from "../../idn/live/node.js";
import {
  httpLiveClient,
  type IdnLoadResult,
  openLiveNetwork,
  runIdnLoad,
  runIdnUp,
} from "../../jobs/idn-live.node.js";
import { IDN_DEFAULTS } from "../../jobs/idn-simulate.js";
import { parseChoice, parseInteger, parseNumber, parseSeed } from "../../jobs/parse.js";
import { jsonFlag, seedFlag } from "../flags.js";

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

export function loadReport(r: IdnLoadResult): string {
  const m = r.measured;
  const s = r.simulated;
  const rows = r.perSlot.map((p) => [
    String(p.slot),
    String(p.requests),
    String(p.failed),
    f1(p.gain),
    f1(p.simGain),
    String(p.loads),
    String(p.simLoads),
    f1(p.p99Ms),
    f2(p.accuracy * 100),
  ]);
  const head = [
    `network: ${r.network.topology}, ${r.network.nodes} nodes, catalog ${r.network.catalog}, alpha ${r.network.alpha}, policy ${r.network.policy} (seed ${r.network.seed})`,
    `trace: ${r.trace}, ${r.slots} slots, seed ${r.seed}; slots advanced by this driver; ` +
      (r.network.reset
        ? `nodes reset to a fresh start first${r.network.resetFailures ? ` (${r.network.resetFailures} did not answer)` : ""}`
        : "nodes NOT reset (--no-reset): the simulator starts fresh, the network did not"),
  ];
  const summary = table(
    ["", "gain/slot", "loads/slot", "accuracy %", "p50 ms", "p99 ms", "requests", "failed"],
    [
      [
        "measured",
        f1(m.avgGain),
        f2(m.loadsPerSlot),
        `${f2(m.accuracy * 100)} (models: ${f2(m.modelAccuracy * 100)})`,
        f1(m.p50Ms),
        f1(m.p99Ms),
        String(m.requests),
        String(m.failed),
      ],
      [
        "simulated",
        f1(s.avgGain),
        f2(s.loadsPerSlot),
        f2(s.accuracy * 100),
        f1(s.p50Ms),
        f1(s.p99Ms),
        "",
        "",
      ],
    ],
  );
  return [
    ...head,
    "",
    table(
      ["slot", "requests", "failed", "gain", "sim gain", "loads", "sim loads", "p99 ms", "accuracy %"],
      rows,
    ),
    "",
    summary,
    "",
    `measured / simulated gain: ${r.gainRatio.toFixed(4)}; ${m.requestsPerSecond.toFixed(0)} requests/s while sending; ` +
      `${m.degraded} answered degraded, ${m.controlFailures} control calls unanswered; latency = wall clock at the driver ` +
      "(emulated links + HTTP + inference), the simulator's = links + inference",
  ].join("\n");
}

export function registerLive(idn: Command): void {
  idn
    .command("up")
    .description(
      "start a live IDN on this machine: one `mammals serve --idn-node` process per topology node on 127.0.0.1, " +
        "placing real models with INFIDA; Ctrl-C or SIGTERM stops them all",
    )
    .requiredOption(
      "--topology <spec|file.json>",
      "tree:depth=D,fanout=F, abilene, geant, or a JSON topology file",
    )
    .option(
      "--catalog <spec|file.json>",
      "measured, or a JSON catalog file of TASK/SPEC models (mnist/mlp:32, ...)",
      "measured",
    )
    .option("--base-port <p>", "node i listens on 127.0.0.1:P+i", "9000")
    .option(
      "--policy <spec>",
      "INFIDA keeping budgets (overshoot=forbid or repair, draws=common)",
      LIVE_POLICY_DEFAULT,
    )
    .option(
      "--slot <seconds>",
      "0: slots are advanced by `mammals idn load` (the same per-slot requests as the simulator); S > 0: this process ends a slot every S seconds",
      "0",
    )
    .option(
      "--data-dir <dir>",
      "model files (trained here once when missing, then loaded by every node)",
      "./idn-data",
    )
    .option("--alpha <a>", "cost of inaccuracy: ms per unit of (1 - accuracy)", String(IDN_DEFAULTS.alpha))
    .option("--epochs <n>", "training epochs of missing models (8: the measured catalog's recipe)", "8")
    .option("--log-level <level>", "log level of the node processes: info, warn, error, silent", "warn")
    .addOption(
      seedFlag("seed of the policy's random draws (every node derives its own)", String(IDN_DEFAULTS.seed)),
    )
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  mammals idn up --topology abilene --catalog measured --base-port 9000\n" +
        "  mammals idn up --topology tree:depth=2,fanout=2 --base-port 9100 --data-dir /tmp/idn --slot 1\n" +
        "  mammals idn up --topology net.json --catalog my-models.json --policy infida:overshoot=forbid,eta=0.2",
    )
    .action(async (f) => {
      const slotSeconds = parseNumber(f.slot, "--slot", { min: 0 });
      const opts = {
        topology: f.topology,
        catalog: f.catalog,
        alpha: parseNumber(f.alpha, "--alpha", { min: 0 }),
        basePort: parseInteger(f.basePort, "--base-port", 1, 65535),
        policy: f.policy,
        seed: parseSeed(f.seed),
        dataDir: f.dataDir,
        epochs: parseInteger(f.epochs, "--epochs", 1, 1000),
        slotSeconds,
        entry: [...process.execArgv, process.argv[1]],
        nodeArgs: [
          "--log-level",
          parseChoice(f.logLevel, "--log-level", ["debug", "info", "warn", "error", "silent"] as const),
        ],
        log: (line: string) => process.stderr.write(`${line}\n`),
      };
      // A signal during startup stops what started; afterwards the same handler stops the network.
      let stopAll: (() => Promise<void>) | undefined;
      let stopped: (() => void) | undefined;
      const onSignal = () => {
        if (stopped) return stopped();
        process.stderr.write("stopping every node...\n");
        void (stopAll?.() ?? Promise.resolve()).then(() => process.exit(130));
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
      const net = await runIdnUp({ ...opts, onStarting: (s) => (stopAll = s) });
      const statuses = await Promise.all(
        net.nodes.map((n) =>
          fetch(`${n.url}/idn/status`)
            .then((r) => r.json() as Promise<{ hosted: string[]; usedMB: number; budgetMB: number | null }>)
            .catch(() => null),
        ),
      );
      process.stdout.write(
        `${table(
          ["node", "tier", "url", "pid", "hosts", "MB used / budget"],
          net.nodes.map((n, i) => {
            const s = statuses[i];
            return [
              n.id,
              n.tier,
              n.url,
              String(n.pid),
              s ? (s.hosted.length > 3 ? `${s.hosted.length} models` : s.hosted.join(" ")) : "?",
              s ? `${s.usedMB.toFixed(3)} / ${s.budgetMB === null ? "inf" : s.budgetMB.toFixed(3)}` : "?",
            ];
          }),
        )}\n${net.nodes.length} nodes up; ${slotSeconds > 0 ? `a slot ends every ${slotSeconds} s` : "slots advance with `mammals idn load`"}; Ctrl-C stops them all\n`,
      );
      let clock: ReturnType<typeof setInterval> | undefined;
      if (slotSeconds > 0) {
        const { instance, urls } = openLiveNetwork(opts);
        const client = httpLiveClient(urls);
        const levels = advertiseLevels(instance);
        let slot = 0;
        let busy = false;
        clock = setInterval(() => {
          if (busy) return; // a slot's control phases are still running: skip this tick
          busy = true;
          void runControlPhases(client, instance, slot++, levels).finally(() => {
            busy = false;
          });
        }, slotSeconds * 1000);
      }
      await new Promise<void>((resolve) => {
        stopped = resolve;
      });
      if (clock) clearInterval(clock);
      process.stderr.write("stopping every node...\n");
      await net.stop();
      process.stderr.write("stopped\n");
      process.exit(0);
    });

  idn
    .command("load")
    .description(
      "drive a request trace against a running live IDN (mammals idn up) and report measured gain, latency " +
        "percentiles, accuracy and model loads per slot next to the simulator's prediction for the same trace and seed",
    )
    .requiredOption("--topology <spec|file.json>", "the network's topology (as given to idn up)")
    .option("--base-port <p>", "node i listens on 127.0.0.1:P+i (as given to idn up)", "9000")
    .requiredOption(
      "--trace <spec|file.csv>",
      "stationary, sliding, adversarial (with requests=N,...), or a CSV trace file",
    )
    .requiredOption("--slots <T>", "slots to drive (a file trace is cut to its first T)")
    .option("--rate <r>", "requests per second (default: as fast as the network answers)")
    .option("--concurrency <n>", "requests in flight at once", "32")
    .option("--timeout <ms>", "per-call timeout toward a node", "10000")
    .option(
      "--no-reset",
      "continue from the nodes' current state instead of resetting them to a fresh start (the simulator always starts fresh)",
    )
    .addOption(
      seedFlag(
        "seed of the generated trace, the request order and the test examples",
        String(IDN_DEFAULTS.seed),
      ),
    )
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  mammals idn load --topology abilene --base-port 9000 --trace sliding:requests=4000 --slots 20\n" +
        "  mammals idn load --topology abilene --trace stationary:requests=2000 --slots 10 --rate 500 --json\n" +
        "  mammals idn load --topology net.json --trace my-trace.csv --slots 50 --seed 7",
    )
    .action(async (f) => {
      const r = await runIdnLoad({
        topology: f.topology,
        basePort: parseInteger(f.basePort, "--base-port", 1, 65535),
        trace: f.trace,
        slots: parseInteger(f.slots, "--slots", 1, 1_000_000),
        rate: f.rate === undefined ? undefined : parseNumber(f.rate, "--rate", { min: 0.001 }),
        concurrency: parseInteger(f.concurrency, "--concurrency", 1, 4096),
        timeoutMs: parseInteger(f.timeout, "--timeout", 1),
        seed: parseSeed(f.seed),
        reset: f.reset !== false,
        onSlot: process.stderr.isTTY
          ? (rec, done, total) =>
              process.stderr.write(
                `\rslot ${done}/${total}: ${rec.requests} requests, ${rec.failed} failed   `,
              )
          : undefined,
      });
      if (process.stderr.isTTY) process.stderr.write("\n");
      if (f.json) {
        process.stdout.write(
          `${JSON.stringify({ measured: r.measured, simulated: r.simulated, gainRatio: r.gainRatio, network: r.network, trace: r.trace, slots: r.slots, perSlot: r.perSlot })}\n`,
        );
        return;
      }
      process.stdout.write(`${loadReport(r)}\n`);
    });
}
