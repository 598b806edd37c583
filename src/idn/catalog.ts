/**
 * Model catalogs of an inference delivery network: models per task with their memory size,
 * accuracy, inference latency per tier and serving capacity per tier (requests per time slot).
 *
 * The JSON catalog format (what `measured` is stored in, and what a catalog file holds):
 *   {"name": "...", "provenance": "...", "command": "...", "machine": "...",
 *    "models": [{"id": "mlp-32", "task": "mnist", "sizeMB": 0.1, "accuracy": 0.95,
 *                "latencyMs": {"device": .., "access": .., "edge": .., "regional": .., "cloud": ..},
 *                "capacity": {"device": .., ...}, "source": "..."}]}
 * `capacity` is optional: by default a tier serves concurrency(tier) * slot / latency requests per
 * slot ({@link deriveCapacity}; [D]). Repositories have unbounded capacity whatever the catalog says.
 */
import { fail } from "../core/errors.js";
import { TIERS, type Tier } from "./topology.js";

export type PerTier = Record<Tier, number>;

export interface CatalogModel {
  id: string;
  task: string;
  sizeMB: number;
  /** Top-1 accuracy in [0, 1]. */
  accuracy: number;
  latencyMs: PerTier;
  /** Requests per time slot one hosted copy can serve at a node of each tier. */
  capacity: PerTier;
  source?: string;
}

export interface Catalog {
  name: string;
  provenance?: string;
  /** The command that produced the catalog (generated catalogs). */
  command?: string;
  machine?: string;
  models: CatalogModel[];
  /** Distinct tasks in first-appearance order. */
  tasks: string[];
}

/** Length of a time slot in ms and parallel inferences per node of a tier, for derived capacities ([D]). */
export const SLOT_MS = 100;
export const TIER_CONCURRENCY: PerTier = { device: 1, access: 1, edge: 2, regional: 8, cloud: 64 };

/** concurrency(tier) * SLOT_MS / latency(tier) * scale, floored, for every tier. */
export function deriveCapacity(latencyMs: PerTier, scale = 1): PerTier {
  const out = {} as PerTier;
  for (const t of TIERS)
    out[t] =
      latencyMs[t] > 0
        ? Math.floor((TIER_CONCURRENCY[t] * SLOT_MS * scale) / latencyMs[t])
        : Number.MAX_SAFE_INTEGER;
  return out;
}

/** Checks every model; errors name `where`, the model and the field, what was expected and what arrived. */
export function validateCatalog(c: Catalog, where = `catalog ${c.name}`): Catalog {
  if (c.models.length === 0) fail("INVALID_ARGUMENT", `${where}: expected at least one model, got none`);
  const ids = new Set<string>();
  c.models.forEach((m, i) => {
    const at = `${where}: models[${i}] (${m.id})`;
    if (typeof m.id !== "string" || m.id === "")
      fail(
        "INVALID_ARGUMENT",
        `${where}: models[${i}].id: expected a non-empty string, got ${JSON.stringify(m.id)}`,
      );
    if (ids.has(m.id)) fail("DUPLICATE_ID", `${at}: id "${m.id}" is used twice`);
    ids.add(m.id);
    if (typeof m.task !== "string" || m.task === "")
      fail("INVALID_ARGUMENT", `${at}.task: expected a non-empty string, got ${JSON.stringify(m.task)}`);
    if (!(typeof m.sizeMB === "number" && m.sizeMB > 0 && Number.isFinite(m.sizeMB)))
      fail("INVALID_ARGUMENT", `${at}.sizeMB: expected a finite size > 0, got ${JSON.stringify(m.sizeMB)}`);
    if (!(typeof m.accuracy === "number" && m.accuracy >= 0 && m.accuracy <= 1))
      fail(
        "INVALID_ARGUMENT",
        `${at}.accuracy: expected a number in [0, 1], got ${JSON.stringify(m.accuracy)}`,
      );
    for (const t of TIERS) {
      const l = m.latencyMs?.[t];
      if (!(typeof l === "number" && l >= 0 && Number.isFinite(l)))
        fail(
          "INVALID_ARGUMENT",
          `${at}.latencyMs.${t}: expected a finite number >= 0, got ${JSON.stringify(l)}`,
        );
      const cap = m.capacity?.[t];
      if (!(typeof cap === "number" && cap >= 0))
        fail("INVALID_ARGUMENT", `${at}.capacity.${t}: expected a number >= 0, got ${JSON.stringify(cap)}`);
    }
  });
  c.tasks = [...new Set(c.models.map((m) => m.task))];
  return c;
}

/**
 * `copies` independent copies of a catalog's tasks ([D]): task "t" becomes "t-1".."t-k" and model
 * "m" becomes "t-j/m", each copy with the same sizes, accuracies and latencies (as if each task were
 * a different fine-tuning of the same architectures). copies = 1 returns the catalog unchanged.
 */
export function replicateTasks(c: Catalog, copies: number): Catalog {
  if (copies === 1) return c;
  const models: CatalogModel[] = [];
  for (let j = 1; j <= copies; j++)
    for (const m of c.models) models.push({ ...m, id: `${m.task}-${j}/${m.id}`, task: `${m.task}-${j}` });
  return validateCatalog({ ...c, models });
}

/** Multiplies every capacity by `scale` (floored). */
export function scaleCapacity(c: Catalog, scale: number): Catalog {
  if (scale === 1) return c;
  return {
    ...c,
    models: c.models.map((m) => {
      const capacity = {} as PerTier;
      for (const t of TIERS) capacity[t] = Math.floor(m.capacity[t] * scale);
      return { ...m, capacity };
    }),
  };
}

/** Parses the JSON catalog format (see the file comment). */
export function parseCatalogJson(text: string, where: string): Catalog {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail("BAD_FILE", `${where}: malformed JSON (${(e as Error).message}); expected {"models": [...]}`);
  }
  return catalogFromJson(raw, where);
}

/** Builds a catalog from an already parsed JSON value (e.g. an imported JSON module). */
export function catalogFromJson(value: unknown, where: string): Catalog {
  const raw = value as {
    name?: unknown;
    provenance?: unknown;
    command?: unknown;
    machine?: unknown;
    models?: unknown;
  };
  if (!raw || typeof raw !== "object" || !Array.isArray(raw.models))
    fail("BAD_FILE", `${where}: expected an object with a "models" array`);
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const models = (raw.models as Array<Record<string, unknown>>).map((m, i) => {
    if (!m || typeof m !== "object")
      fail("BAD_FILE", `${where}: models[${i}]: expected an object, got ${JSON.stringify(m)}`);
    const latencyMs = m.latencyMs as PerTier;
    if (!latencyMs || typeof latencyMs !== "object")
      fail(
        "INVALID_ARGUMENT",
        `${where}: models[${i}].latencyMs: expected an object with ${TIERS.join(", ")}, got ${JSON.stringify(m.latencyMs)}`,
      );
    const capacity = (m.capacity as PerTier | undefined) ?? deriveCapacity(latencyMs);
    return {
      id: m.id as string,
      task: m.task as string,
      sizeMB: m.sizeMB as number,
      accuracy: m.accuracy as number,
      latencyMs,
      capacity,
      source: str(m.source),
    };
  });
  return validateCatalog(
    {
      name: str(raw.name) ?? where,
      provenance: str(raw.provenance),
      command: str(raw.command),
      machine: str(raw.machine),
      models,
      tasks: [],
    },
    where,
  );
}

/** The catalog in the JSON format {@link parseCatalogJson} reads. */
export function catalogToJson(c: Catalog): string {
  const { tasks: _t, ...rest } = c;
  return `${JSON.stringify(rest, null, 1)}\n`;
}
