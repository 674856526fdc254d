// A helper thread that dies never hangs a call: a worker that traps mid-task
// (test hook: injectFault mode 1) or stops answering mid-task (mode 2, the
// caller's no-progress deadline) ends the kernel call with a ThreadError;
// the pool replaces its workers and the same model trains on, threaded and
// bit-identical to one thread, after reloading the checkpoint the error
// message asks for. A worker killed between calls held no task: training
// goes on without an error and without a changed bit.
// Both failures end the call whatever the spin (a caller polling longer
// than the deadline still looks at it) and on a calling thread that may not
// wait (a browser page's main thread: canWait false, it only polls).
// The threaded models run on 2 threads with the test hook leaveLastTask on:
// the calling thread leaves every job's last task to worker 1, so the worker
// that is made to fail takes a task in the first split call, however busy the
// machine (on 3 threads a loaded machine could run 200 steps without worker 2).
// Not here: process exit (exit.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { ThreadError, VAE, type VAEConfig } from "../../src/index.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { DEFAULT_DEADLINE_MS, DEFAULT_SPIN_US } from "../../src/threads/threads.js";
import { randomArray } from "../reference.js";
import { bitsOf, expectSameBits } from "../kernels/helpers.js";

const CFG: VAEConfig = { inputDim: 61, encoder: [37], latentDim: 5, decoder: [29], seed: 5, maxBatch: 70 };
const X = randomArray(70 * 61, 3, 0, 1);
const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));

async function make(threads: number): Promise<{ vae: VAE; pool: ThreadPool }> {
  const vae = await VAE.create(CFG, { threads, build: "plain" });
  created.push(vae);
  const pool = vae.kernels.threadsHandle as ThreadPool;
  if (threads > 1) { pool.tune({ minWork: 0 }); pool.leaveLastTask(true); }
  return { vae, pool };
}

/** Steps both models (at least 10 times) until the pool's workers have run a
 *  task: on a loaded machine the calling thread may take every task of a
 *  few calls before a worker is scheduled. */
function stepUntilWorkersRun(pool: ThreadPool, vae: VAE, ref: VAE): void {
  const before = pool.stats().workerTasks;
  for (let i = 0; i < 10 || (pool.stats().workerTasks === before && i < 2000); i++) { vae.trainStep(X); ref.trainStep(X); }
  expect(pool.stats().workerTasks, "the new workers run tasks").toBeGreaterThan(before);
}

const weightBits = (v: VAE) => bitsOf(Float32Array.from(Object.values(v.getWeights()).flatMap((a) => Array.from(a))));

describe.each([["traps", 1], ["hangs", 2]] as const)("a worker that %s mid-step", (what, mode) => {
  it(`gives a ThreadError, then the model trains on (threaded, same bits as one thread) after reloading (${what})`, async () => {
    const { vae, pool } = await make(2);
    const { vae: ref } = await make(1);
    for (let i = 0; i < 5; i++) { vae.trainStep(X); ref.trainStep(X); }
    const checkpoint = vae.save();
    if (mode === 2) pool.tune({ deadlineMs: 300 });
    pool.injectFault(1, mode);
    const t0 = performance.now();
    let error: unknown = null;
    for (let i = 0; i < 200 && !error; i++) {
      try { vae.trainStep(X); } catch (e) { error = e; }
    }
    pool.tune({ deadlineMs: DEFAULT_DEADLINE_MS }); // the restarted workers keep the settings: no short deadline while recovering
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as Error).name).toBe("ThreadError");
    expect((error as Error).message).toMatch(mode === 1 ? /thread 1 died during a kernel call/ : /no progress for 300 ms/);
    expect((error as Error).message).toMatch(/reload a checkpoint or re-create the model/);
    expect(performance.now() - t0, "no hang").toBeLessThan(30_000);
    expect(vae.threads, "one thread while the workers restart").toBe(1);

    await pool.settled();
    expect(vae.threads).toBe(2);
    expect(pool.restarts).toBe(1);
    vae.load(checkpoint);
    stepUntilWorkersRun(pool, vae, ref);
    expectSameBits(weightBits(vae), weightBits(ref), "weights after recovery vs one thread");
  });
});

describe.each([
  ["traps", "polls for 60 s before it sleeps", 1, { spinUs: 60_000_000 }],
  ["hangs", "polls for 60 s before it sleeps", 2, { spinUs: 60_000_000 }],
  ["traps", "may not wait", 1, { canWait: false }],
  ["hangs", "may not wait", 2, { canWait: false }],
] as const)("a worker that %s while the calling thread %s", (_what, _how, mode, settings) => {
  it("gives a ThreadError within seconds", async () => {
    const { vae, pool } = await make(2);
    for (let i = 0; i < 3; i++) vae.trainStep(X);
    pool.tune({ ...settings, deadlineMs: mode === 2 ? 300 : DEFAULT_DEADLINE_MS }); // a trap is seen at once: no short deadline to misname it
    pool.injectFault(1, mode);
    const t0 = performance.now();
    let error: unknown = null;
    for (let i = 0; i < 200 && !error; i++) {
      try { vae.trainStep(X); } catch (e) { error = e; }
    }
    const ms = performance.now() - t0;
    pool.tune({ spinUs: DEFAULT_SPIN_US, canWait: true, deadlineMs: DEFAULT_DEADLINE_MS }); // for the workers the pool starts next
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as Error).message).toMatch(mode === 1 ? /thread 1 died during a kernel call/ : /no progress for 300 ms/);
    expect(ms, "ended long before the spin").toBeLessThan(15_000);
    await pool.settled();
    expect(vae.threads).toBe(2);
  }, 120_000);
});

describe("a worker killed between steps", () => {
  it("is replaced; training goes on with no error and the same bits as one thread", async () => {
    const { vae, pool } = await make(2);
    const { vae: ref } = await make(1);
    for (let i = 0; i < 5; i++) { vae.trainStep(X); ref.trainStep(X); }
    pool.kill(1);
    for (let i = 0; i < 5; i++) { vae.trainStep(X); ref.trainStep(X); } // on the calling thread meanwhile
    await pool.settled();
    expect(vae.threads).toBe(2);
    expect(pool.restarts).toBe(1);
    stepUntilWorkersRun(pool, vae, ref);
    expectSameBits(weightBits(vae), weightBits(ref), "weights vs one thread");
  });
});

describe("dispose", () => {
  it("happens by itself when a model is dropped and collected (its workers hold its memory)", async () => {
    const v8 = await import("node:v8");
    const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    let vae: VAE | null = await VAE.create(CFG, { threads: 2 });
    const pool = vae.kernels.threadsHandle as ThreadPool;
    vae.trainStep(X);
    expect(pool.threads).toBe(2);
    vae = null;
    for (let i = 0; i < 50 && pool.threads !== 1; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
    expect(pool.threads, "the pool was disposed").toBe(1);
  });

  it("stops the threads; the model keeps training on one thread with the same bits", async () => {
    const { vae, pool } = await make(2);
    const { vae: ref } = await make(1);
    for (let i = 0; i < 3; i++) { vae.trainStep(X); ref.trainStep(X); }
    vae.dispose();
    expect(vae.threads).toBe(1);
    const before = pool.stats();
    for (let i = 0; i < 3; i++) { vae.trainStep(X); ref.trainStep(X); }
    expect(pool.stats()).toEqual(before);
    expectSameBits(weightBits(vae), weightBits(ref), "weights vs one thread");
  });
});
