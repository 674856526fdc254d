// Cold start and download size, for bench/run.ts.
//
// Each library's job (create the 784-400-20-400-784 VAE, one training step
// at batch 128) is bundled with esbuild, the same way for all of them, into a
// temporary folder: one ESM file per library, everything it imports inside
// (tfjs-core with its gradients and the backend; wasm-vae with
// @assemblyscript/loader), only Node built-ins outside. Then a fresh `node`
// process per run (bench/coldstart/child.mjs) times import → model → first
// finished step. Plain `node` runs the bundles (no tsx), so nobody pays for
// TypeScript compilation.
//
// Bytes: the .wasm files and the JS that ships, raw and gzip (node:zlib,
// level 9): the files as published (wasm-vae: dist/ if built, else the src/
// TypeScript; tfjs: the minified fesm dist bundles) and the minified esbuild
// bundle of each job, which is the like-for-like figure.
// esbuild is tsx's own dependency (tsx runs every bench script), found through tsx.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { median, ROOT } from "./common.js";

export type ColdLib = "wasm-vae plain" | "wasm-vae relaxed" | "tfjs-cpu" | "tfjs-wasm";

const require = createRequire(import.meta.url);
const TFJS_WASM_DIR = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");

const ENTRIES: Record<"wasm-vae" | "tfjs-cpu" | "tfjs-wasm", string> = {
  "wasm-vae": join(ROOT, "bench", "coldstart", "wasm-vae.ts"),
  "tfjs-cpu": join(ROOT, "bench", "coldstart", "tfjs-cpu.ts"),
  "tfjs-wasm": join(ROOT, "bench", "coldstart", "tfjs-wasm.ts"),
};

// ESM output needs require/__dirname for the CommonJS parts (seedrandom, the
// emscripten glue of tfjs-backend-wasm); harmless for the others.
const BANNER = [
  'import { createRequire as __cr } from "node:module";',
  'import { dirname as __dn } from "node:path";',
  'import { fileURLToPath as __fu } from "node:url";',
  "const require = __cr(import.meta.url);",
  "const __filename = __fu(import.meta.url);",
  "const __dirname = __dn(__filename);",
].join("\n");

interface Esbuild {
  build(o: Record<string, unknown>): Promise<{ errors: unknown[]; metafile?: { outputs: Record<string, { bytes: number; inputs: Record<string, unknown> }> } }>;
}

async function loadEsbuild(): Promise<Esbuild> {
  const tsxReq = createRequire(require.resolve("tsx/package.json"));
  return (await import(pathToFileURL(tsxReq.resolve("esbuild")).href)) as Esbuild;
}

export interface Bundles {
  dir: string;
  /** Runnable (unminified) bundle per job. */
  files: Record<keyof typeof ENTRIES, string>;
  /** Minified bundle bytes per job (raw and gzip). */
  minified: Record<keyof typeof ENTRIES, { raw: number; gzip: number }>;
  esbuildVersion: string;
}

/** Bundles the three jobs into a temporary folder (removed by `cleanup`). */
export async function buildBundles(): Promise<Bundles> {
  const esbuild = await loadEsbuild();
  const dir = mkdtempSync(join(os.tmpdir(), "wasm-vae-coldstart-"));
  mkdirSync(join(dir, "dist"));
  // wasm-vae finds its .wasm at new URL("../build/vae.<build>.wasm", import.meta.url)
  symlinkSync(join(ROOT, "build"), join(dir, "build"));
  const files = {} as Bundles["files"];
  const minified = {} as Bundles["minified"];
  for (const [job, entry] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][]) {
    const common = {
      entryPoints: [entry], bundle: true, format: "esm", platform: "node", target: "node20",
      mainFields: ["module", "main"], banner: { js: BANNER }, logLevel: "error", absWorkingDir: ROOT,
    };
    const out = join(dir, "dist", `${job}.mjs`);
    await esbuild.build({ ...common, outfile: out });
    files[job] = out;
    const min = join(dir, "dist", `${job}.min.mjs`);
    await esbuild.build({ ...common, outfile: min, minify: true, legalComments: "none" });
    const bytes = readFileSync(min);
    minified[job] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  }
  const esbuildVersion = (createRequire(require.resolve("tsx/package.json"))("esbuild/package.json") as { version: string }).version;
  return { dir, files, minified, esbuildVersion };
}

export function cleanup(b: Bundles): void {
  rmSync(b.dir, { recursive: true, force: true });
}

export interface ColdRun {
  bootMs: number; importMs: number; initMs: number; stepMs: number; totalMs: number; wallMs: number; loss: number; detail: string;
}

export interface ColdResult {
  lib: ColdLib;
  runs: number;
  /** Medians over the runs. */
  median: Omit<ColdRun, "loss" | "detail">;
  detail: string;
  losses: number[];
}

/** `runs` fresh Node processes per library, one after another, in rotation. */
export function runColdStarts(b: Bundles, runs: number, libs: ColdLib[] = ["wasm-vae plain", "wasm-vae relaxed", "tfjs-cpu", "tfjs-wasm"]): ColdResult[] {
  const child = join(ROOT, "bench", "coldstart", "child.mjs");
  const all = new Map<ColdLib, ColdRun[]>();
  for (let r = 0; r < runs; r++) {
    for (const lib of libs) {
      const file = lib.startsWith("wasm-vae") ? b.files["wasm-vae"] : b.files[lib as "tfjs-cpu" | "tfjs-wasm"];
      const opts = { B: 128, build: lib === "wasm-vae relaxed" ? "relaxed" : "plain", wasmDir: TFJS_WASM_DIR + "/" };
      const t = performance.now();
      const p = spawnSync(process.execPath, [child, file, JSON.stringify(opts)], { encoding: "utf8", cwd: os.tmpdir(), timeout: 120_000 });
      const wallMs = performance.now() - t;
      if (p.status !== 0) throw new Error(`cold start of ${lib} failed (exit ${p.status}):\n${p.stderr}`);
      const line = p.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      if (!line) throw new Error(`cold start of ${lib} printed no result:\n${p.stdout}\n${p.stderr}`);
      const run = { ...(JSON.parse(line) as Omit<ColdRun, "wallMs">), wallMs };
      if (!Number.isFinite(run.loss)) throw new Error(`cold start of ${lib}: first loss ${run.loss}`);
      if (!all.has(lib)) all.set(lib, []);
      all.get(lib)!.push(run);
    }
  }
  return libs.map((lib) => {
    const rs = all.get(lib)!;
    const m = (k: keyof Omit<ColdRun, "loss" | "detail">) => median(rs.map((r) => r[k]));
    return {
      lib, runs: rs.length, detail: rs[0].detail, losses: rs.map((r) => r.loss),
      median: { bootMs: m("bootMs"), importMs: m("importMs"), initMs: m("initMs"), stepMs: m("stepMs"), totalMs: m("totalMs"), wallMs: m("wallMs") },
    };
  });
}

// ------------------------------------------------------------------- bytes

export interface SizeRow { item: string; files: string; raw: number; gzip: number }

function sizeOf(paths: string[]): { raw: number; gzip: number } {
  let raw = 0, gzip = 0;
  for (const p of paths) {
    const b = readFileSync(p);
    raw += b.length;
    gzip += gzipSync(b, { level: 9 }).length;
  }
  return { raw, gzip };
}

/** The files reachable from `entry` through relative static and dynamic
 *  imports (`./x.js` also finds `./x.ts`): the library's own code for the job,
 *  without the CLI, worker or browser entry files that sit next to it. */
function moduleGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    const re = /(?:from\s*|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g;
    for (const m of text.matchAll(re)) {
      let p = join(dirname(file), m[1]);
      if (!existsSync(p) && p.endsWith(".js") && existsSync(p.slice(0, -3) + ".ts")) p = p.slice(0, -3) + ".ts";
      if (existsSync(p) && statSync(p).isFile()) visit(p);
    }
  };
  visit(entry);
  return [...seen].sort();
}

/** Raw and gzip bytes of what each job ships. */
/** The npm packages as `npm pack` makes them (dry run, no scripts: run
 *  `npm run build` first): unpacked bytes in "raw", the .tgz in "gzip". */
export function packageRows(): SizeRow[] {
  const pack = (args: string[]) => {
    const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", ...args], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`npm pack ${args.join(" ")} failed: ${r.stderr}`);
    return JSON.parse(r.stdout)[0] as { name: string; size: number; unpackedSize: number; entryCount: number };
  };
  return [[], ["-w", "cli"]].map((args) => {
    const p = pack(args);
    return { item: `npm package ${p.name} (unpacked; .tgz in the gzip column)`, files: `${p.entryCount} files`, raw: p.unpackedSize, gzip: p.size };
  });
}

export function measureBytes(b: Bundles): { rows: SizeRow[]; wasmVaeJsSource: "dist" | "src" } {
  const rows: SizeRow[] = [];
  const rel = (p: string) => relative(ROOT, p);
  const add = (item: string, paths: string[], label?: string) => rows.push({ item, files: label ?? paths.map(rel).join(" + "), ...sizeOf(paths) });
  const plain = join(ROOT, "build", "vae.plain.wasm"), relaxed = join(ROOT, "build", "vae.relaxed.wasm");
  add("wasm-vae: wasm, plain build", [plain]);
  add("wasm-vae: wasm, relaxed build", [relaxed]);
  const distDir = join(ROOT, "dist");
  const hasDist = existsSync(join(distDir, "index.js"));
  // the ESM file an import of @assemblyscript/loader gets (the umd/ copy is for require)
  const loader = join(dirname(dirname(require.resolve("@assemblyscript/loader"))), "index.js");
  if (hasDist) {
    const js = moduleGraph(join(distDir, "index.js"));
    add("wasm-vae: JS as built (dist/, from index.js) + @assemblyscript/loader", [...js, loader], `${js.length} files of dist/ + ${rel(loader)}`);
  } else {
    const ts = moduleGraph(join(ROOT, "src", "index.ts"));
    add("wasm-vae: src/*.ts (no dist/: TypeScript, comments included) + @assemblyscript/loader", [...ts, loader], `${ts.length} files of src/ + ${rel(loader)}`);
  }
  rows.push({ item: "wasm-vae: job bundle, minified (esbuild)", files: "src + loader", ...b.minified["wasm-vae"] });
  const core = join(dirname(require.resolve("@tensorflow/tfjs-core/package.json")), "dist", "tf-core.fesm.min.js");
  const cpu = join(dirname(require.resolve("@tensorflow/tfjs-backend-cpu/package.json")), "dist", "tf-backend-cpu.fesm.min.js");
  const seedrandom = join(dirname(require.resolve("seedrandom/package.json")), "seedrandom.min.js");
  const wasmJs = join(TFJS_WASM_DIR, "tf-backend-wasm.fesm.min.js");
  const wasmBin = join(TFJS_WASM_DIR, "tfjs-backend-wasm-simd.wasm");
  add("tfjs-core dist bundle (no gradients)", [core]);
  add("tfjs-backend-cpu dist bundle + seedrandom", [cpu, seedrandom]);
  add("tfjs-backend-wasm dist bundle", [wasmJs]);
  add("tfjs-backend-wasm binary (SIMD, the one Node loads)", [wasmBin]);
  rows.push({ item: "tfjs-cpu: job bundle, minified (esbuild)", files: "core + gradients + cpu backend + model", ...b.minified["tfjs-cpu"] });
  rows.push({ item: "tfjs-wasm: job bundle, minified (esbuild)", files: "core + gradients + wasm backend + model", ...b.minified["tfjs-wasm"] });
  // totals per job
  const get = (item: string) => rows.find((r) => r.item === item)!;
  const sum = (item: string, parts: string[]) => {
    const ps = parts.map(get);
    rows.push({ item, files: parts.map((p) => p.replace(/ \(.*\)$/, "")).join(" + "), raw: ps.reduce((a, p) => a + p.raw, 0), gzip: ps.reduce((a, p) => a + p.gzip, 0) });
  };
  for (const f of ["wasm-vae.js", "wasm-vae-worker.js"]) {
    const p = join(distDir, "browser", f);
    if (existsSync(p)) add(`wasm-vae: single-file browser bundle ${f} (the four wasm builds inlined)`, [p]);
  }
  rows.push(...packageRows());
  sum("TOTAL wasm-vae job (bundle + plain wasm)", ["wasm-vae: job bundle, minified (esbuild)", "wasm-vae: wasm, plain build"]);
  sum("TOTAL tfjs-cpu job (bundle)", ["tfjs-cpu: job bundle, minified (esbuild)"]);
  sum("TOTAL tfjs-wasm job (bundle + SIMD binary)", ["tfjs-wasm: job bundle, minified (esbuild)", "tfjs-backend-wasm binary (SIMD, the one Node loads)"]);
  sum("TOTAL tfjs-cpu, dist bundles", ["tfjs-core dist bundle (no gradients)", "tfjs-backend-cpu dist bundle + seedrandom"]);
  sum("TOTAL tfjs-wasm, dist bundles + binary", ["tfjs-core dist bundle (no gradients)", "tfjs-backend-wasm dist bundle", "tfjs-backend-wasm binary (SIMD, the one Node loads)"]);
  return { rows, wasmVaeJsSource: hasDist ? "dist" : "src" };
}
