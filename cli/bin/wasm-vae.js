#!/usr/bin/env node
// Launcher of the wasm-vae CLI: runs the compiled ../dist/main.js (built by
// `npm run build` in the repository, and by prepack before publishing).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/main.js", import.meta.url);
if (!existsSync(fileURLToPath(built))) {
  process.stderr.write("wasm-vae: the CLI is not built (cli/dist/main.js is missing); run `npm run build` in the repository\n");
  process.exit(1);
}
await import(built.href);
