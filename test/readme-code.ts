/** The README's "Using the library" code block, shared by the tests that compile and run it. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The first ```ts block after the "## Using the library" heading of README.md under `root`. */
export function readmeExample(root: string): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.indexOf("## Using the library");
  if (section < 0) throw new Error("README.md has no '## Using the library' section");
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  if (!m) throw new Error("README.md: no ```ts block in 'Using the library'");
  return m[1];
}
