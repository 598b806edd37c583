/**
 * The HTTP face of a live IDN node (src/idn/live/node.ts), as a web-standard fetch handler (Hono):
 *
 *   POST /idn/infer      {type, slot, example, entry?} -> which node and model answered, its class,
 *                        the example's label, hops and the measured latency
 *   POST /idn/<control>  demand, path, best (between nodes); close, exchange, advance, advertise
 *                        (the slot clock: `mammals idn load`); faults {dropControl} (fault injection)
 *   GET  /idn/status     what the node hosts, its memory, load and the network's configuration
 *   GET  /idn/network    every node's status (JSON with ?format=json, else an HTML fragment: the
 *                        topology coloured by what each node hosts and a table of hosts and load)
 *   GET  /               the network view, refreshed every 2 s
 *   GET  /healthz
 *
 * Errors are `{code, message}` with the status of http-errors.ts.
 */
import { Hono } from "hono";
import { fail } from "../core/errors.js";
import type { LiveNodeStatus } from "../idn/live/node.js";
import { dispatchLive, LIVE_ROUTES, type LiveIdnNode } from "../idn/live/node.js";
import type { LiveNetworkConfig } from "../idn/live/urls.js";
import { topologySvg } from "../idn/topology-svg.js";
import { errorAnswer } from "./http-errors.js";

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Every node's status, null for nodes that did not answer within 2 s. */
async function networkStatus(urls: string[]): Promise<Array<LiveNodeStatus | null>> {
  return Promise.all(
    urls.map((u) =>
      fetch(`${u}/idn/status`, { signal: AbortSignal.timeout(2000) })
        .then((r) => (r.ok ? (r.json() as Promise<LiveNodeStatus>) : null))
        .catch(() => null),
    ),
  );
}

/** The network view: the topology picture of what is hosted, and one row per node. */
export function networkFragment(node: LiveIdnNode, statuses: Array<LiveNodeStatus | null>): string {
  const inst = node.instance;
  const x = new Uint8Array(inst.pairCount);
  statuses.forEach((s, v) => {
    if (!s) return;
    const hosted = new Set(s.hosted);
    for (let p = inst.nodePairStart[v]; p < inst.nodePairStart[v + 1]; p++)
      if (hosted.has(inst.catalog.models[inst.pairModel[p]].id)) x[p] = 1;
  });
  const up = statuses.filter(Boolean).length;
  const rows = inst.topology.nodes.map((n, v) => {
    const s = statuses[v];
    if (!s)
      return `<tr class="down"><td>${esc(n.id)}</td><td>${n.tier}</td><td>down</td><td colspan="5"></td></tr>`;
    const served = s.load.reduce((a, l) => a + l.served, 0);
    return (
      `<tr><td>${esc(n.id)}</td><td>${n.tier}</td><td>slot ${s.slot}</td>` +
      `<td>${s.repository ? `all ${s.hosted.length} models` : esc(s.hosted.join(", "))}</td>` +
      `<td>${served}</td><td>${s.served}</td><td>${s.forwarded}</td>` +
      `<td>${s.usedMB.toFixed(3)} / ${s.repository ? "&infin;" : s.budgetMB.toFixed(3)} MB (${(s.bytes / 1e6).toFixed(3)} loaded, peak ${(s.peakBytes / 1e6).toFixed(3)})</td></tr>`
    );
  });
  return (
    `<p>${up} of ${statuses.length} nodes answering; ${new Date().toISOString()}</p>` +
    topologySvg(inst, x, `${inst.topology.name}: hosted models`) +
    "<table><tr><th>node</th><th>tier</th><th>state</th><th>hosts</th><th>served this slot</th>" +
    `<th>served</th><th>forwarded</th><th>memory used / budget</th></tr>${rows.join("")}</table>`
  );
}

const NETWORK_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>mammals IDN</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}svg{max-width:900px;height:auto}table{border-collapse:collapse}
td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}tr.down{color:#b00}</style></head>
<body><h1>Live inference delivery network</h1><div id="net">loading...</div>
<script>async function tick(){try{document.getElementById("net").innerHTML=await (await fetch("/idn/network")).text()}catch(e){}}
tick();setInterval(tick,2000);</script></body></html>`;

export function createIdnNodeApp(node: LiveIdnNode, config: LiveNetworkConfig): Hono {
  const app = new Hono();
  app.onError((e, c) => {
    const a = errorAnswer(e);
    return c.json(a.body, a.status as 500, a.headers);
  });
  app.notFound((c) =>
    fail("NOT_FOUND", `${c.req.method} ${c.req.path}: no such endpoint; expected /idn/<route> or /healthz`),
  );
  app.get("/healthz", (c) => c.json({ ok: true, node: node.id }));
  app.get("/idn/status", (c) => c.json({ ...node.status(), config }));
  app.get("/idn/network", async (c) => {
    const statuses = await networkStatus(config.urls);
    if (c.req.query("format") === "json") return c.json({ nodes: statuses });
    return c.html(networkFragment(node, statuses));
  });
  app.get("/", (c) => c.html(NETWORK_PAGE));
  app.post("/idn/:route", async (c) => {
    const route = c.req.param("route");
    if (!(LIVE_ROUTES as readonly string[]).includes(route))
      fail("NOT_FOUND", `POST /idn/${route}: no such route; expected one of ${LIVE_ROUTES.join(", ")}`);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail("MALFORMED_BODY", `POST /idn/${route}: expected a JSON body`);
    }
    const out = await dispatchLive(node, route, body);
    return c.json(route === "status" ? { ...(out as object), config } : (out as object));
  });
  return app;
}
