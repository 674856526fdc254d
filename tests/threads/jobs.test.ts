// How a split call's tasks are handed out: the calling thread claims from the
// front of a job and the workers from the back, and a call of more tasks than
// one job holds (65,535; the test hook threads_job_cap lowers it) runs as
// consecutive jobs, each task numbered as in one job. On 2 and 3 threads, both
// builds, every call split (minWork 0): a GEMM (row-block and packed plans), a
// dense backward (both products packed in one job) and an Adam update give
// the bits of one thread with jobs of at most 1, 2 and 3 tasks as with the
// normal cap (jobs counted: a cap of n tasks publishes many more), and the
// GEMM matches float64. Which thread runs which task is timing, so it is not
// asserted: the bits must not depend on it. ThreadPool.profile counts every
// task once, on the thread that ran it. The test hook leaveLastTask (on in
// these modules) hands every job's last task to a worker, and with it off
// the bits are the same.
// Not here: whole training runs (determinism.test.ts), failures (failure.test.ts).
import { describe, expect, it } from "vitest";
import type { Build } from "../../src/kernels/wasm.js";
import { gemmRef, randomArray } from "../reference.js";
import { BUILDS, expectClose, expectSameBits } from "../kernels/helpers.js";
import { threadedMods, type Mod } from "./mods.js";

const THREADS = [2, 3] as const;

describe.each(BUILDS)("split calls as jobs, %s build", (build: Build) => {
  const mods = threadedMods(build, THREADS, 16 << 20);

  const M = 130, K = 300, N = 260;
  const data = { a: randomArray(M * K, 1, -1, 1), b: randomArray(K * N, 2, -1, 1), g: randomArray(M * N, 3, -1, 1),
                 p: randomArray(K * N, 4, -1, 1), m: randomArray(K * N, 5, -0.1, 0.1), v: randomArray(K * N, 6, 0, 0.1) };

  // C = A·B (packed plan), dW = Aᵀ·G and dx = G·Bᵀ (dense backward, both packed in one job), C2 = Aᵀ·G alone
  // (M = 300 rows: the row-block plan), then one Adam update of B-sized parameters with B as their gradient
  function run(m: Mod): Record<string, Uint32Array> {
    const { k, arena } = m;
    arena.reset();
    const a = arena.put(data.a), b = arena.put(data.b), g = arena.put(data.g);
    const c = arena.alloc(M * N), c2 = arena.alloc(K * N), dx = arena.alloc(M * K), dw = arena.alloc(K * N), db = arena.alloc(N);
    const y = arena.put(new Float32Array(M * N).fill(1));
    const p = arena.put(data.p), mm = arena.put(data.m), vv = arena.put(data.v);
    const scratch = arena.scratch(Math.max(k.gemmScratchBytes(K, M), k.gemmScratchBytes(M, K), k.denseBackwardScratchBytes(M, K, N)));
    k.gemm({ c, a, b, M, K, N, init: "zero", scratch });
    k.gemm({ c: c2, a, b: g, M: K, K: M, N, transA: true, init: "zero", scratch });
    k.denseBackward({ dx, dw, db, dy: g, x: a, w: b, y, batch: M, inDim: K, outDim: N, accumulate: false, scratch });
    k.adamStep({ p, g: b, m: mm, v: vv, n: K * N, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, t: 3 });
    return { c: arena.bits(c, M * N), c2: arena.bits(c2, K * N), dx: arena.bits(dx, M * K), dw: arena.bits(dw, K * N),
             db: arena.bits(db, N), p: arena.bits(p, K * N), m: arena.bits(mm, K * N), v: arena.bits(vv, K * N) };
  }

  it("one thread's results match float64", () => {
    const m = mods.get(1)!, r = run(m);
    expectClose(new Float32Array(r.c.buffer), gemmRef(data.a, data.b, M, K, N), 1e-4, "C = A·B vs float64");
    expectClose(new Float32Array(r.c2.buffer), gemmRef(data.a, data.g, K, M, N, { transA: true }), 1e-4, "Aᵀ·G vs float64");
  });

  it.each(THREADS.flatMap((t) => [0, 1, 2, 3].map((cap) => [t, cap] as const)))(
    "%i threads, jobs of at most %i tasks (0: the normal cap): the bits of one thread", (t, cap) => {
      const want = run(mods.get(1)!);
      const m = mods.get(t)!, pool = m.pool!;
      m.k.raw.threads_job_cap(cap);
      const jobs0 = pool.stats().splitCalls;
      pool.profile(true);
      let got: Record<string, Uint32Array>;
      try { got = run(m); } finally { m.k.raw.threads_job_cap(0); }
      const busy = pool.busy();
      pool.profile(false);
      for (const key of Object.keys(want)) expectSameBits(got[key], want[key], `${key}, ${t} threads, cap ${cap}`);
      const jobs = pool.stats().splitCalls - jobs0;
      // the four calls publish at least 4 jobs; a cap of 1–3 tasks turns each into many
      if (cap > 0) expect(jobs, "jobs published").toBeGreaterThan(40 / cap);
      // profiling: every task of every job is counted on the thread that ran it (one task per job at cap 1),
      // and no worker saw more jobs than were published (+1: a worker may see the job before profile(true) late)
      const tasks = busy.tasks.reduce((x, y) => x + y, 0);
      if (cap === 1) expect(tasks, "tasks counted, one per job").toBe(jobs);
      else expect(tasks, "tasks counted").toBeGreaterThanOrEqual(jobs);
      for (let w = 1; w < t; w++) expect(busy.joined[w], `jobs worker ${w} saw`).toBeLessThanOrEqual(jobs + 1);
      expect(busy.tasks.slice(1).reduce((x, y) => x + y, 0), "tasks on workers: at least each job's last (leaveLastTask)").toBeGreaterThanOrEqual(jobs);
      expect(busy.ms.every((x) => x >= 0), "ms inside tasks").toBe(true);
    });

  it.each(THREADS)("%i threads, leaveLastTask off (the calling thread may run every task): the bits of one thread", (t) => {
    const want = run(mods.get(1)!);
    const m = mods.get(t)!;
    m.pool!.leaveLastTask(false);
    let got: Record<string, Uint32Array>;
    try { got = run(m); } finally { m.pool!.leaveLastTask(true); }
    for (const key of Object.keys(want)) expectSameBits(got[key], want[key], `${key}, ${t} threads, hook off`);
  });
});
