/**
 * The built-in model families, listed once. registry.ts calls {@link registerBuiltinModelFamilies}
 * before it parses a spec or loads a file, so `createModel("projection:...")` and `loadModel` of an
 * `int8:...` file work in any program that reaches them, including a browser bundle that imports
 * nothing else: the families are reached through this function's body, not through an import side
 * effect a bundler is allowed to drop (package.json `sideEffects`).
 */

import { type ModelFamily, modelFamilies, registerModelFamily } from "../family-registry.js";
import { int8Family } from "../int8/family.js";
import { logregFamily, mlpFamily } from "./mlp.js";
import { projectionFamily } from "./projection.js";

/** logreg, mlp, projection and int8, in the order `--help` lists them. */
// Each family has its own parameter type; the list holds them erased, as the registry does.
export const BUILTIN_MODEL_FAMILIES = [
  logregFamily,
  mlpFamily,
  projectionFamily,
  int8Family,
] as unknown as readonly ModelFamily<unknown>[];

let registered = false;

/** Registers the built-in families once (later calls do nothing). */
export function registerBuiltinModelFamilies(): void {
  if (registered) return;
  registered = true;
  for (const family of BUILTIN_MODEL_FAMILIES)
    if (!modelFamilies.has(family.name)) registerModelFamily(family);
}
