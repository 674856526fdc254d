// Threads in real Chromium with the single-file bundle (wasm inlined):
//   - a cross-origin-isolated page (the demo server's COOP/COEP) trains on 2
//     and 3 threads from the main thread (which may not block: it spins for
//     the last tasks) and gets Node's one-thread weights bit for bit;
//   - WorkerTrainer's worker coordinates its own helper workers (threads: 2),
//     same bits;
//   - a page that is not cross-origin isolated runs on one thread and says why.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as lib from "../../src/index.js";
// @ts-expect-error: plain .js fixture shared with the pages
import { threadedRun, toBase64 } from "./fixtures/threaded-run.js";
import { launchChromium, requireBuilt, root, serve, watchProblems, type Served } from "../browser/helpers.js";
import { join } from "node:path";

let browser: Browser;
let server: Served;
let nodeBase64: string;

beforeAll(async () => {
  requireBuilt();
  [browser, server] = await Promise.all([launchChromium(), serve({ "/threads-fixtures/": join(root, "tests", "threads", "fixtures") })]);
  const r = await threadedRun(lib, 1);
  expect(r.threads).toBe(1);
  nodeBase64 = toBase64(r.bytes);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(query: string): Promise<{ page: Page; problems: () => string[] }> {
  const page = await browser.newPage();
  const problems = watchProblems(page);
  await page.goto(`${server.url}fixtures/bundle.html${query}`);
  await page.waitForFunction(() => document.body?.dataset.ready === "1", null, { timeout: 20_000 });
  return { page, problems: problems.list };
}

/** Runs `body` in an async function in the page, with the fixture module as
 *  `m` (a string: the test runner would rewrite a dynamic import in a callback). */
function inPage<T>(page: Page, body: string): Promise<T> {
  return page.evaluate(`(async () => { const m = await import("/threads-fixtures/threaded-run.js"); ${body} })()`) as Promise<T>;
}

describe("Chromium, cross-origin isolated page", () => {
  test("main thread: 2 and 3 threads give Node's one-thread weights bit for bit", async () => {
    const { page, problems } = await open("");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    for (const threads of [2, 3]) {
      const r = await inPage<{ threads: number; workerTasks: number; bytes: string }>(page, `
        const out = await m.threadedRun(window.lib, ${threads});
        return { ...out, bytes: m.toBase64(out.bytes) };`);
      expect(r.threads).toBe(threads);
      expect(r.workerTasks, "helper workers ran tasks").toBeGreaterThan(0);
      expect(r.bytes === nodeBase64, `${threads} threads in Chromium vs Node on one thread`).toBe(true);
    }
    expect(problems()).toEqual([]);
    await page.close();
  });

  test("WorkerTrainer({ threads: 2 }): the worker's own helpers train, same bits as Node", async () => {
    const { page, problems } = await open("");
    const r = await inPage<{ threads: number; bytes: string }>(page, `
      const trainer = new window.lib.WorkerTrainer(new Worker("/dist/browser/wasm-vae-worker.js", { type: "module" }));
      const info = await trainer.create(m.CONFIG, { build: "plain", threads: 2 });
      await trainer.setData("x", m.data());
      await trainer.fit("x", { epochs: 50, batchSize: 133, shuffle: false });
      const w = await trainer.getWeights();
      await trainer.terminate();
      return { threads: info.threads, bytes: m.toBase64(m.weightBytes(w)) };`);
    expect(r.threads).toBe(2);
    // fit on 133 rows with batch 133 and no shuffle is trainStep on all rows, 50 times
    expect(r.bytes === nodeBase64, "WorkerTrainer on 2 threads vs Node on one").toBe(true);
    expect(problems()).toEqual([]);
    await page.close();
  });
});

test("Chromium, page not cross-origin isolated: one thread, and the reason", async () => {
  const { page, problems } = await open("?isolate=0");
  const r = await inPage<{ isolated: boolean; threads: number; note: string; bytes: string }>(page, `
    const out = await m.threadedRun(window.lib, 2);
    return { isolated: crossOriginIsolated, threads: out.threads, note: out.note, bytes: m.toBase64(out.bytes) };`);
  expect(r.isolated).toBe(false);
  expect(r.threads).toBe(1);
  expect(r.note).toMatch(/cross-origin isolated.*running on one thread/);
  expect(r.bytes === nodeBase64).toBe(true);
  expect(problems()).toEqual([]);
  await page.close();
});
