#!/usr/bin/env node
// Launcher of the wasm-vae CLI: runs the compiled dist/cli/main.js when the
// package is built (npm run build:ts), else the TypeScript source
// src/cli/main.ts through tsx's loader (a dev dependency), in this process.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    process.stderr.write("wasm-vae: dist/ is not built and tsx is not installed; run `npm run build:ts` (or `npm install` for tsx)\n");
    process.exit(1);
  }
  register();
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
