/**
 * `npm run fuzz`: the fuzz tests alone with many more runs per format (MAMMALS_FUZZ_RUNS,
 * default 200,000 here against 10,000 in `npm test`; MAMMALS_FUZZ_SEED picks another seed).
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/fuzz-*.test.ts"],
    testTimeout: 3_600_000,
    pool: "forks",
    env: {
      MAMMALS_FUZZ_RUNS: process.env.MAMMALS_FUZZ_RUNS ?? "200000",
      ...(process.env.MAMMALS_FUZZ_SEED ? { MAMMALS_FUZZ_SEED: process.env.MAMMALS_FUZZ_SEED } : {}),
    },
  },
});
