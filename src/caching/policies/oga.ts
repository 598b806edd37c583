/**
 * oga: online gradient ascent (Paschos et al., INFOCOM 2019) on the same k-NN gain as acai:
 * y <- Euclidean projection of y + eta * g onto {0 <= y <= 1, sum y = h}, then rounding.
 * The loop is online-base.ts; the lazy O(candidates) state is online/euclid-state.ts.
 */

import type { ParamValues } from "../../core/spec.js";
import { EuclidState } from "../../online/euclid-state.js";
import type { CoordinatedSampler } from "../../online/rounding.js";
import { BOTH_SETTINGS, cachePolicies } from "../cache-policies.js";
import type { CacheContext, CachePolicy } from "../types.js";
import { ONLINE_PARAMS } from "./acai.js";
import { specOf } from "./classic.js";
import { OnlinePolicy } from "./online-base.js";

class Oga extends OnlinePolicy {
  constructor(p: ParamValues<typeof ONLINE_PARAMS>, ctx: CacheContext) {
    super(
      "oga",
      specOf("oga", p),
      ctx,
      p,
      (n, h) => new EuclidState(n, h),
      // Gradient ascent's tuned step D / (G sqrt T): D^2 <= 2h on the capped simplex, and a
      // normalised gradient has about k coordinates near 1, so G^2 ~ k.
      (_n, h, k, T) => Math.sqrt((2 * h) / (k * T)),
    );
  }
  protected bindRescale(sampler: CoordinatedSampler): void {
    (this.state as EuclidState).onShift = (d) => sampler.transformKeys((key) => key + d);
  }
}

cachePolicies.register({
  name: "oga",
  capabilities: BOTH_SETTINGS,
  summary:
    "online gradient ascent (Paschos et al.): projected gradient steps on the k-NN gain onto the capped simplex, rounded to h objects",
  params: ONLINE_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new Oga(p, ctx),
});
