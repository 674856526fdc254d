// Builds the single-file browser bundles with esbuild, both wasm builds and
// their shared-memory twins (threads) inlined as base64 (no fetch of build/*.wasm, no import map, no bundler):
//   dist/browser/wasm-vae.js         the library + WorkerTrainer + serveTrainer (src/browser.ts)
//   dist/browser/wasm-vae-worker.js  a ready-made module worker script (src/worker-entry.ts)
// Node built-ins stay as dynamic `import("node:…")` calls that only run in
// Node. Reads build/vae.{plain,relaxed}{,.shared}.wasm, so run `npm run build:wasm`
// first (`npm run build` does both). Prints each file's size and gzip size.
//   node scripts/build-browser.mjs [--no-minify] [--sourcemap]   (maps are for debugging; not shipped)
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dist", "browser");

/** Builds both bundles; returns [{ file, bytes, gzip }]. */
export async function buildBrowser({ minify = true, quiet = false, sourcemap = false } = {}) {
  const inline = {};
  for (const b of ["plain", "relaxed", "plain.shared", "relaxed.shared"]) {
    const f = join(root, "build", `vae.${b}.wasm`);
    if (!existsSync(f)) throw new Error(`build-browser: ${relative(root, f)} is missing (run npm run build:wasm)`);
    inline[b] = readFileSync(f).toString("base64");
  }
  const entries = [
    { in: join(root, "src", "browser.ts"), out: "wasm-vae" },
    { in: join(root, "src", "worker-entry.ts"), out: "wasm-vae-worker" },
  ];
  const result = await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    splitting: false,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    external: ["node:*"],
    define: { __WASM_VAE_INLINE__: JSON.stringify(inline) },
    minify,
    sourcemap: sourcemap ? "linked" : false,
    legalComments: "eof",
    metafile: true,
    logLevel: quiet ? "silent" : "warning",
    banner: { js: "// wasm-vae single-file browser bundle (MIT); wasm builds inlined. Built by scripts/build-browser.mjs." },
  });
  const out = [];
  for (const e of entries) {
    const file = join(outdir, `${e.out}.js`);
    const buf = readFileSync(file);
    out.push({ file, bytes: buf.length, gzip: gzipSync(buf).length });
  }
  void result;
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildBrowser({ minify: !process.argv.includes("--no-minify"), sourcemap: process.argv.includes("--sourcemap") });
  for (const f of files) {
    console.log(`built ${relative(root, f.file)}: ${(f.bytes / 1024).toFixed(1)} KiB (${(f.gzip / 1024).toFixed(1)} KiB gzip)`);
  }
}
