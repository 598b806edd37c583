/** Runs the CLI from the TypeScript sources, without a build: `npx tsx scripts/dev.ts <command> ...`. */
import { main } from "../src/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
