/**
 * Services, apps and requests for the serve tests (not a test file itself): a tiny edge node over
 * synthetic clusters (the small model never saw class 3; the upstream knows every class), and
 * helpers to call an app in-process.
 */
import { InProcessUpstream } from "../src/edge/upstream.js";
import { type AppOptions, createApp } from "../src/serve/app.js";
import { buildEdgeService, buildModelService, type EdgeServiceConfig } from "../src/serve/build.js";
import type { ModelServiceOptions } from "../src/serve/model-service.js";
import { CentroidModel, clusters } from "./edge-fixtures.js";

export const DIM = 8;
export const C = 4;
export const world = clusters(11, C, DIM, 0.35);

export function smallModel(): CentroidModel {
  return new CentroidModel(world.centroids, C, [true, true, true, false], 2);
}

export function cloudModel(): CentroidModel {
  return new CentroidModel(world.centroids, C);
}

export function edgeService(o: Partial<EdgeServiceConfig> = {}) {
  return buildEdgeService({
    model: smallModel(),
    upstream: new InProcessUpstream(cloudModel(), { latency: "constant:ms=20", seed: 1 }),
    capacity: 64,
    admission: "all",
    ...o,
  });
}

export function edgeApp(o: Partial<EdgeServiceConfig> = {}, app: AppOptions = {}) {
  const { service, recovery } = edgeService(o);
  return { service, recovery, app: createApp(service, app) };
}

export function modelApp(o: Partial<ModelServiceOptions> = {}, app: AppOptions = {}) {
  const service = buildModelService({ model: cloudModel(), ...o });
  return { service, app: createApp(service, app) };
}

type Fetcher = { request(path: string, init?: RequestInit): Response | Promise<Response> };

export async function postJson(
  app: Fetcher,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

export async function getJson(app: Fetcher, path: string) {
  const res = await app.request(path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A binary predict body: n inputs as little-endian float32. */
export function binaryBody(rows: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(rows.byteLength);
  out.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  return out;
}

/** Draws `n` inputs of class `y` (or of random classes), returned with their labels. */
export function draws(n: number, y?: number): { x: number[]; y: number }[] {
  const out: { x: number[]; y: number }[] = [];
  for (let i = 0; i < n; i++) {
    const label = y ?? world.rng.int(C);
    out.push({ x: Array.from(world.draw(label)), y: label });
  }
  return out;
}
