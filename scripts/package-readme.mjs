// The library tarball's README: npm always ships the package root's README.md,
// and the repository's README.md is the developer's (set-up, Chromium,
// workspaces, benchmarks). While `npm pack` / `npm publish` runs, README.md is
// the user's README (docs/npm-README.md: install, use, links):
//   prepack:  node scripts/package-readme.mjs swap      (after the build)
//   postpack: node scripts/package-readme.mjs restore
// swap moves the repository's README.md aside to .README.repository.md;
// restore moves it back. A pack that failed between the two leaves the
// aside copy, which the next swap or restore puts back first, so the
// repository's README is never lost.
//   node scripts/package-readme.mjs swap|restore [package root, default: this repository]
import { copyFileSync, existsSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [what, rootArg] = process.argv.slice(2);
const root = resolve(rootArg ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
const readme = join(root, "README.md"), aside = join(root, ".README.repository.md"), user = join(root, "docs", "npm-README.md");

function restore() {
  if (existsSync(aside)) renameSync(aside, readme);
}

if (what === "restore") {
  restore();
} else if (what === "swap") {
  restore();
  if (!existsSync(user)) {
    console.error(`package-readme: ${user} is missing`);
    process.exit(1);
  }
  renameSync(readme, aside);
  copyFileSync(user, readme);
} else {
  console.error("usage: node scripts/package-readme.mjs swap|restore [root]");
  process.exit(2);
}
