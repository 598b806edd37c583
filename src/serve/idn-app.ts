/**
 * The HTTP face of a live IDN node (src/idn/live/node.ts), as a web-standard fetch handler (Hono):
 *
 *   POST /idn/infer      {type, slot, example, entry?} -> which node and model answered, its class,
 *                        the example's label, hops and the measured latency
 *   POST /idn/<control>  demand, path, best (between nodes); close, exchange, advance, advertise
 *                        (the slot clock: `mammals idn load`); faults {dropControl} (fault injection)
 *   GET  /idn/status     what the node hosts, its memory, load and the network's configuration
 *   GET  /healthz
 *
 * Errors are `{code, message}` with the status of http-errors.ts.
 */
import { Hono } from "hono";
import { fail } from "../core/errors.js";
import { dispatchLive, LIVE_ROUTES, type LiveIdnNode } from "../idn/live/node.js";
import { errorAnswer } from "./http-errors.js";

/** What every node of one network shares (the load driver reads it from any node). */
export interface LiveNetworkConfig {
  topology: string;
  catalog: string;
  alpha: number;
  policy: string;
  seed: number;
  urls: string[];
}

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
