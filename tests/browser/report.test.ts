// A run's report.html in real Chromium, opened from the file as a user opens
// it (file://, no server): two short CLI runs (a 3-d latent: UMAP beside PCA;
// a 2-d latent: the manifold), the page rebuilt by `wasm-vae report`, then:
// no console error and no request at all, every chart rendered with its
// marks, the loss chart zooms with the wheel, and hovering a latent point
// shows its decoded image.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../cli/helpers.js";
import { launchChromium, watchProblems } from "./helpers.js";

const SMALL = ["--limit-train", "512", "--limit-test", "200", "--batch-size", "64", "--epochs", "2", "--iwae-images", "16", "--iwae-samples", "4"];
const out = tempDir("wvae-report-");
let browser: Browser;

beforeAll(async () => {
  const runs = await Promise.all([
    runCli(["train", ...SMALL, "--latent", "3", "--out", out, "--name", "l3"], { timeoutMs: 110_000 }),
    runCli(["train", ...SMALL, "--latent", "2", "--out", out, "--name", "l2"], { timeoutMs: 110_000 }),
  ]);
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  // the page rebuilt from the run folder alone
  const again = await runCli(["report", join(out, "l3"), "--out", join(out, "l3", "again.html")]);
  expect(again.code, again.stderr).toBe(0);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(out, { recursive: true, force: true });
});

async function open(file: string): Promise<{ page: Page; problems: () => string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchProblems(page);
  const requests: string[] = [];
  page.on("request", (r) => { if (!r.url().startsWith("data:") && r.url() !== pathToFileURL(file).href) requests.push(r.url()); });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>("[data-chart]")].every((e) => e.dataset.rendered), null, { timeout: 30_000 });
  return { page, problems: () => [...problems.list(), ...requests.map((u) => `request: ${u}`)] };
}

/** Chart id → [rendered state, marks drawn] (paths, images and texts in mark groups). */
async function charts(page: Page): Promise<Record<string, [string, number]>> {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLElement>("[data-chart]")].map((e) =>
    [e.dataset.chart!, [e.dataset.rendered!, e.querySelectorAll("svg g[class^='mark-'] path, svg g[class^='mark-'] image").length]])));
}

describe("report.html in Chromium", () => {
  it("3-d latent: every chart renders, nothing is fetched, no console error", async () => {
    const { page, problems } = await open(join(out, "l3", "again.html"));
    const c = await charts(page);
    expect(Object.keys(c)).toEqual(["loss", "terms", "schedule", "latent", "samples", "reconstructions", "interpolation", "imputation", "imputation-error"]);
    for (const [id, [state, marks]] of Object.entries(c)) {
      expect(state, id).toBe("true");
      expect(marks, id).toBeGreaterThan(2);
    }
    // the latent chart: UMAP and PCA panels, 200 points each
    expect(await page.locator("#chart-latent svg .mark-symbol path").count()).toBe(2 * 200 + 10);   // + 10 legend symbols
    expect(await page.locator("#chart-samples svg .mark-image image").count()).toBe(64);
    expect(await page.locator("#chart-imputation svg .mark-image image").count()).toBe(16 * 3);
    expect(await page.textContent("body")).toContain("UMAP of the 3-d means");
    expect(problems()).toEqual([]);
    await page.close();
  });

  it("the loss chart zooms with the wheel, and a latent point shows its decoded image", async () => {
    const { page, problems } = await open(join(out, "l3", "report.html"));
    const xDomain = () => page.evaluate(() => (window as unknown as { reportViews: Record<string, { scale(n: string): { domain(): number[] } }> })
      .reportViews.loss.scale("x").domain());
    const before = await xDomain();
    // epochs 0..2, padded by a few pixels so that the points at the ends show whole
    expect(before[0]).toBeLessThan(0);
    expect(before[0]).toBeGreaterThan(-0.1);
    expect(before[1]).toBeGreaterThan(2);
    expect(before[1]).toBeLessThan(2.1);
    const box = (await page.locator("#chart-loss svg .mark-line path").first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);                          // zoom in
    await expect.poll(async () => { const after = await xDomain(); return after[1] - after[0]; }, { timeout: 10_000 })
      .toBeLessThan(0.9 * (before[1] - before[0]));

    const point = page.locator("#chart-latent svg .mark-symbol path").nth(7);
    await point.scrollIntoViewIfNeeded();
    await point.hover({ force: true });
    const img = page.locator("#vg-tooltip-element.visible img");
    await img.waitFor({ timeout: 5_000 });
    expect(await img.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    expect(await img.evaluate((e: HTMLImageElement) => [e.naturalWidth, e.naturalHeight])).toEqual([28, 28]);   // a 28 × 28 decode
    expect(await img.evaluate((e: HTMLImageElement) => e.getBoundingClientRect().width)).toBe(84);             // shown 3×
    expect(await page.textContent("#vg-tooltip-element")).toMatch(/label\s*\d/);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it("2-d latent: the manifold and the latent scatter render", async () => {
    const { page, problems } = await open(join(out, "l2", "report.html"));
    const c = await charts(page);
    expect(c.manifold[0]).toBe("true");
    expect(await page.locator("#chart-manifold svg .mark-image image").count()).toBe(20 * 20);
    expect(c.latent[0]).toBe("true");
    expect(await page.locator("#chart-latent svg .mark-symbol path").count()).toBe(200 + 10);
    expect(problems()).toEqual([]);
    await page.close();
  });
});
