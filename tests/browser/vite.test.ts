// examples/vite built with Vite (the real package resolution: the example
// depends on "wasm-vae": "file:../..", linked as its node_modules/wasm-vae),
// then run in Chromium: the output must carry both wasm builds as emitted
// assets that the JS references, and the app must train on the page and in
// a Web Worker without an error or a failed request.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { build, createServer } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { artifactPath, launchChromium, requireBuilt, root, serve, watchProblems, type Served } from "./helpers.js";

const example = join(root, "examples", "vite");
const outDir = artifactPath("vite-example-dist");

let browser: Browser;
let server: Served;

beforeAll(async () => {
  requireBuilt();
  // what `npm install` in examples/vite makes of "wasm-vae": "file:../.."
  const link = join(example, "node_modules", "wasm-vae");
  if (!existsSync(link)) {
    mkdirSync(join(example, "node_modules"), { recursive: true });
    try { lstatSync(link); } catch { symlinkSync(join("..", "..", ".."), link, "dir"); }
  }
  await build({ root: example, configFile: join(example, "vite.config.js"), logLevel: "error", build: { outDir, emptyOutDir: true } });
  [browser, server] = await Promise.all([launchChromium(), serve({ "/vite/": outDir })]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("Vite example", () => {
  test("the build emits both wasm builds as assets and the JS references them", () => {
    const assets = readdirSync(join(outDir, "assets"));
    const js = assets.filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(outDir, "assets", f), "utf8"));
    for (const b of ["plain", "relaxed"]) {
      const wasm = assets.find((f) => f.startsWith(`vae.${b}-`) && f.endsWith(".wasm"));
      expect(wasm, `vae.${b}.wasm emitted`).toBeDefined();
      expect(readFileSync(join(outDir, "assets", wasm!)).equals(readFileSync(join(root, "build", `vae.${b}.wasm`)))).toBe(true);
      // referenced by the page chunk and by the worker chunk
      expect(js.filter((src) => src.includes(wasm!)).length).toBeGreaterThanOrEqual(2);
    }
    expect(assets.some((f) => f.startsWith("trainer.worker-") && f.endsWith(".js"))).toBe(true);
  });

  test("the built app trains on the page and in a Web Worker in Chromium", async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    const wasm: string[] = [];
    page.on("request", (r) => { if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname); });
    await page.goto(`${server.url}vite/`);
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, null, { timeout: 30_000 });
    expect(await page.evaluate(() => document.body.dataset.error ?? null)).toBeNull();
    const r = JSON.parse((await page.evaluate(() => document.body.dataset.result))!);
    expect(r.page).toMatchObject({ build: "relaxed", steps: 32 });
    expect(r.page.last).toBeLessThan(r.page.first);
    expect(r.worker).toMatchObject({ build: "relaxed", epochs: 4, samples: 256 });
    expect(r.worker.last).toBeLessThan(r.worker.first);
    expect(wasm.length).toBeGreaterThan(0);
    // the relaxed build, or its shared-memory twin where the page runs threads (the default "auto")
    expect(wasm.every((p) => /^\/vite\/assets\/vae\.relaxed(\.shared)?-[\w-]+\.wasm$/.test(p))).toBe(true);
    expect(problems.list()).toEqual([]);
    await page.close();
  });

  test("the dev server (vite, no pre-bundling of wasm-vae) serves the same app", async () => {
    const dev = await createServer({ root: example, configFile: join(example, "vite.config.js"), logLevel: "error",
      server: { host: "127.0.0.1", port: 0, strictPort: false } });
    await dev.listen();
    try {
      const page = await browser.newPage();
      const problems = watchProblems(page);
      await page.goto(dev.resolvedUrls!.local[0]);
      await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, null, { timeout: 30_000 });
      expect(await page.evaluate(() => document.body.dataset.error ?? null)).toBeNull();
      const r = JSON.parse((await page.evaluate(() => document.body.dataset.result))!);
      expect(r.worker.last).toBeLessThan(r.worker.first);
      expect(problems.list()).toEqual([]);
      await page.close();
    } finally {
      await dev.close();
    }
  });
});
