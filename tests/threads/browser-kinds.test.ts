// Activation, dropout, batch_norm and conv layers in real Chromium (the
// single-file bundle, a cross-origin-isolated page): training on 2 threads
// gives Node's one-thread weights (and batch_norm's running statistics) bit
// for bit, so dropout's masks, the batch statistics and the conv layers'
// batch groups do not depend on the runtime or the thread count.
import type { Browser } from "playwright-core";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import * as lib from "../../src/index.js";
// @ts-expect-error: plain .js fixtures shared with the pages
import { BN_CONFIG, CONV_CONFIG, KINDS_CONFIG, kindsRun } from "./fixtures/kinds-run.js";
// @ts-expect-error: plain .js fixtures shared with the pages
import { toBase64 } from "./fixtures/threaded-run.js";
import { launchChromium, requireBuilt, root, serve, watchProblems, type Served } from "../browser/helpers.js";

let browser: Browser;
let server: Served;

beforeAll(async () => {
  requireBuilt();
  [browser, server] = await Promise.all([launchChromium(), serve({ "/threads-fixtures/": join(root, "tests", "threads", "fixtures") })]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

for (const [label, config, key] of [["activation and dropout", KINDS_CONFIG, "KINDS_CONFIG"], ["batch_norm", BN_CONFIG, "BN_CONFIG"], ["conv2d and conv2d_transpose", CONV_CONFIG, "CONV_CONFIG"]] as const) {
test(`${label}: Chromium on 2 threads = Node on 1 and 2 threads, bit for bit`, async () => {
  const one = await kindsRun(lib, 1, config), two = await kindsRun(lib, 2, config);
  expect(two.workerTasks).toBeGreaterThan(0);
  expect(toBase64(two.bytes) === toBase64(one.bytes), "Node: 2 threads vs 1").toBe(true);
  const page = await browser.newPage();
  const problems = watchProblems(page);
  await page.goto(`${server.url}fixtures/bundle.html`);
  await page.waitForFunction(() => document.body?.dataset.ready === "1", null, { timeout: 20_000 });
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const r = await page.evaluate(`(async () => { const m = await import("/threads-fixtures/kinds-run.js"); const t = await import("/threads-fixtures/threaded-run.js");
    const out = await m.kindsRun(window.lib, 2, m.${key}); return { threads: out.threads, workerTasks: out.workerTasks, bytes: t.toBase64(out.bytes) }; })()`) as { threads: number; workerTasks: number; bytes: string };
  expect(r.threads).toBe(2);
  expect(r.workerTasks, "helper workers ran tasks").toBeGreaterThan(0);
  expect(r.bytes === toBase64(one.bytes), "Chromium on 2 threads vs Node on 1").toBe(true);
  expect(problems.list()).toEqual([]);
  await page.close();
}, 120_000);
}
