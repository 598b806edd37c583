/**
 * Node adapter of one live IDN node (`mammals serve --idn-node NAME --topology SPEC|FILE`): the
 * browser-safe node (src/idn/live/node.ts) with real models from its own data directory
 * (jobs/idn-models.node.ts), peers called over HTTP with a timeout (a peer that does not answer
 * is skipped for a while and the request goes further up the path), link latency emulated with
 * timers, and the fetch app of idn-app.ts on a Node HTTP server. Nothing is shared with other
 * nodes but the topology and catalog specs: the node may run on another machine.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { LiveIdnNode } from "../idn/live/node.js";
import { liveNodeIndex } from "../idn/live/urls.js";
import { httpLiveClient, openLiveNetwork } from "../jobs/idn-live.node.js";
import { createModelHost, IdnModelStore } from "../jobs/idn-models.node.js";
import { createIdnNodeApp } from "./idn-app.js";
import type { Logger } from "./server.node.js";

export interface IdnNodeOptions {
  topology: string;
  catalog: string;
  alpha: number;
  node: string;
  basePort?: number;
  policy: string;
  seed: number;
  dataDir: string;
  epochs?: number;
  /** Seconds per slot of a self-clocked network (0: slots advanced by `idn load`); reported in /idn/status. */
  slotSeconds?: number;
  /** Address to bind (default 127.0.0.1); the port is the node's URL's. */
  host?: string;
  /** Per-call timeout toward peers (ms, default 5000). */
  timeoutMs?: number;
  log: Logger;
}

export interface RunningIdnNode {
  url: string;
  node: LiveIdnNode;
  stop(reason: string): Promise<void>;
}

export async function startIdnNode(o: IdnNodeOptions): Promise<RunningIdnNode> {
  const net = openLiveNetwork(o);
  const index = liveNodeIndex(net.topology, o.node);
  const store = new IdnModelStore({ dataDir: o.dataDir, epochs: o.epochs, log: (l) => o.log.info({}, l) });
  const client = httpLiveClient(net.urls, o.timeoutMs ?? 5000);
  const node = new LiveIdnNode({
    instance: net.instance,
    node: index,
    policy: o.policy,
    seed: o.seed,
    transport: { call: (to, route, body) => client.call(to, route, body) },
    host: createModelHost(net.catalog, store),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  await node.start();
  const app = createIdnNodeApp(node, {
    topology: o.topology,
    catalog: o.catalog,
    alpha: o.alpha,
    policy: o.policy,
    seed: o.seed,
    slotSeconds: o.slotSeconds ?? 0,
    urls: net.urls,
  });
  const port = Number(new URL(net.urls[index]).port || 80);
  const host = o.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once("error", reject);
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host}:${bound}`;
  o.log.info(
    {
      url,
      node: node.id,
      tier: net.topology.nodes[index].tier,
      hosts: node.hostedModels(),
      bytes: node.bytes,
    },
    "listening",
  );
  let stopping: Promise<void> | null = null;
  return {
    url,
    node,
    stop(reason) {
      stopping ??= new Promise<void>((resolve) => {
        o.log.info({ reason, node: node.id }, "stopping");
        server.close(() => resolve());
        setTimeout(
          () => (server as { closeAllConnections?: () => void }).closeAllConnections?.(),
          500,
        ).unref();
      }).then(() => {
        o.log.info({ node: node.id }, "stopped");
        o.log.flush();
      });
      return stopping;
    },
  };
}
