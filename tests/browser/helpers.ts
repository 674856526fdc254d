// Shared setup of the browser tests: Debian's Chromium driven by
// playwright-core, the demo's static server on 127.0.0.1, and a recorder of
// everything that should not happen on a page (console errors, uncaught
// exceptions, failed or 4xx/5xx requests). Nothing is skipped: a missing
// Chromium or a missing build fails with a message saying what to do.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { execFileSync } from "node:child_process";
// @ts-expect-error: a plain .mjs module without type declarations
import { startDemoServer, startStaticServer } from "../../demo/server.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const artifacts = join(root, "test-artifacts");

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`browser tests: Chromium is not installed at ${CHROMIUM}. Install Debian's package: ` +
      "`apt-get update && apt-get install -y chromium` (npm test does this when it is missing: scripts/ensure-chromium.mjs).");
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

// The .ts files under src/ that a browser can load.
function browserSources(dir = join(root, "src"), rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) { out.push(...browserSources(join(dir, e.name), r)); }
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(r);
  }
  return out;
}

/** Fails unless `npm run build` has produced dist/ (tsc) and dist/browser/
 *  (the bundles, newer than the wasm they inline); warns when src/ is newer. */
export function requireBuilt(): void {
  const need = ["dist/index.js", "dist/worker/worker.js", "dist/worker/host.js", "dist/browser/wasm-vae.js", "dist/browser/wasm-vae-worker.js",
    "build/vae.plain.wasm", "build/vae.relaxed.wasm"];
  const missing = need.filter((f) => !existsSync(join(root, f)));
  if (missing.length) {
    throw new Error(`browser tests: ${missing.join(", ")} missing: run \`npm run build\` first (\`npm test\` does it)`);
  }
  const m = (f: string) => statSync(join(root, f)).mtimeMs;
  const wasm = Math.max(m("build/vae.plain.wasm"), m("build/vae.relaxed.wasm"));
  if (m("dist/browser/wasm-vae.js") < wasm || m("dist/browser/wasm-vae-worker.js") < wasm) {
    throw new Error("browser tests: dist/browser/ is older than build/*.wasm: run `npm run build` (or `npm run build:browser`)");
  }
  const stale = browserSources().filter((f) => {
    const out = `dist/${f.replace(/\.ts$/, ".js")}`;
    const src = m(`src/${f}`);
    return !existsSync(join(root, out)) || m(out) < src || m("dist/browser/wasm-vae.js") < src;
  });
  // a warning, not a failure: sources edited during a run (or after `npm run
  // build`) must not fail these tests, but results then test the older build
  if (stale.length) console.warn(`browser tests: dist/ is older than ${stale.map((f) => `src/${f}`).join(", ")}: these tests use the last \`npm run build\``);
}

export interface Served { url: string; close(): Promise<void> }

/** The demo server with the test fixtures mounted at /fixtures/. */
export function serve(mounts: Record<string, string> = {}): Promise<Served> {
  return startDemoServer({ port: 0, mounts: { "/fixtures/": join(root, "tests", "browser", "fixtures"), ...mounts } });
}

export const demoDist = join(root, "demo-dist");

/** The built demo folder (`npm run demo:build`), rebuilt here only when it is
 *  older than what it is made of (npm test has just built it). */
export function requireDemoBuilt(): void {
  execFileSync(process.execPath, [join(root, "scripts", "demo-build.mjs"), "--if-stale"], { cwd: root, stdio: "pipe" });
  if (!existsSync(join(demoDist, "demo", "index.html"))) throw new Error("browser tests: demo-dist/ is missing: run `npm run demo:build`");
}

/** A plain static server of the built demo folder, as a static host serves
 *  it: with the headers of its _headers file (Netlify, Cloudflare Pages), or
 *  without (GitHub Pages, a bucket). */
export function serveBuiltDemo(headers: boolean): Promise<Served> {
  return startStaticServer({ root: demoDist, port: 0, headers });
}

/** Records what must not happen on a page; `list()` returns it. */
export function watchProblems(page: Page): { list(): string[] } {
  const problems: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console.error: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return { list: () => [...problems] };
}

export function artifactPath(name: string): string {
  mkdirSync(artifacts, { recursive: true });
  return join(artifacts, name);
}
