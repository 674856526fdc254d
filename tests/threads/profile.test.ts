// ThreadPool.profile / busy (bench/thread-profile.ts): per-thread counters
// in the control block after the job's arguments, MAX_THREADS of each, so
// here on 16 threads, the most the block holds. While profiling, split GEMMs
// (the row-block plan and op(A) packed once) keep the one-thread module's
// bits, so the counters overlap neither the arguments nor a thread's
// scratch; the workers' task counts add up to the pool's own count of
// worker tasks (an atomic counter kept apart); the calling thread ran tasks;
// a thread's time is 0 when it ran none, and a call too small to split
// counts nowhere; no worker saw more jobs than were
// published or slept more than once per job (and once after the last);
// profile(false) stops every counter, profile(true) clears them.
// Not here: what the times measure (bench/, never asserted in a test).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ThreadPool } from "../../src/threads/pool.js";
import { loadThreadedKernels, MAX_THREADS } from "../../src/threads/threads.js";
import type { Kernels } from "../../src/kernels/wasm.js";
import { randomArray } from "../reference.js";
import { Arena, expectSameBits, load } from "../kernels/helpers.js";

// [M, K, N]: the row-block plan (33 strips < 4 per thread), and op(A) packed once (65 strips, 26 row panels)
const SHAPES: [number, number, number][] = [[97, 300, 257], [128, 300, 520]];
const settle = () => new Promise((r) => setTimeout(r, 300));

describe("per-thread profile on MAX_THREADS threads", () => {
  let one: Kernels, many: Kernels, pool: ThreadPool;
  let a1: Arena, aN: Arena;
  beforeAll(async () => {
    one = await load("plain");
    many = await loadThreadedKernels({ build: "plain", threads: MAX_THREADS });
    expect(many.threads, "threads running").toBe(MAX_THREADS);
    pool = many.threadsHandle as ThreadPool;
    pool.tune({ minWork: 0 });
    a1 = new Arena(one, 4 << 20);
    aN = new Arena(many, 4 << 20);
  }, 60_000);
  afterAll(() => many?.dispose());

  function gemm(k: Kernels, arena: Arena, [M, K, N]: [number, number, number]): Uint32Array {
    arena.reset();
    const a = arena.put(randomArray(M * K, M + K)), b = arena.put(randomArray(K * N, N, -0.1, 0.1)), bias = arena.put(randomArray(N, 3));
    const c = arena.alloc(M * N), scratch = arena.scratch(k.gemmScratchBytes(M, K));
    k.gemm({ c, a, b, bias, M, K, N, init: "bias", scratch });
    return arena.bits(c, M * N);
  }

  it("counts each thread's tasks, keeps the bits, stops and clears", async () => {
    const want = SHAPES.map((s) => gemm(one, a1, s));
    pool.profile(true);
    let p = pool.busy();
    for (const key of ["ms", "tasks", "wakeMs", "joined", "sleeps"] as const) expect(p[key].length, key).toBe(MAX_THREADS);
    for (const key of ["ms", "tasks", "wakeMs", "joined"] as const) expect(p[key].every((v) => v === 0), `${key} cleared`).toBe(true);
    const s0 = pool.stats();
    for (let r = 0; r < 10; r++) {
      SHAPES.forEach((s, i) => expectSameBits(gemm(many, aN, s), want[i], `${s.join("×")} on ${MAX_THREADS} threads, round ${r}`));
    }
    // a call below minWork runs without tasks: it counts nowhere
    pool.tune({ minWork: 2 ** 30 });
    const mine = [pool.busy().ms[0], pool.busy().tasks[0]], calls = pool.stats().splitCalls;
    SHAPES.forEach((s, i) => expectSameBits(gemm(many, aN, s), want[i], `${s.join("×")}, not split`));
    expect(pool.stats().splitCalls, "not split").toBe(calls);
    expect([pool.busy().ms[0], pool.busy().tasks[0]], "the calling thread's counters").toEqual(mine);
    pool.tune({ minWork: 0 });
    const s1 = pool.stats();
    pool.profile(false);
    await settle(); // a worker that read PROFILE just before it went off finishes its sums
    p = pool.busy();
    const jobs = s1.splitCalls - s0.splitCalls;
    expect(jobs, "split calls").toBeGreaterThanOrEqual(20);
    expect(p.tasks.slice(1).reduce((x, y) => x + y, 0), "workers' tasks = the pool's count").toBe(s1.workerTasks - s0.workerTasks);
    expect(p.tasks[0], "the calling thread's tasks").toBeGreaterThan(0);
    expect([p.wakeMs[0], p.joined[0], p.sleeps[0]], "the calling thread neither joins nor sleeps").toEqual([0, 0, 0]);
    for (let i = 0; i < MAX_THREADS; i++) {
      expect(Number.isFinite(p.ms[i]) && p.ms[i] >= 0, `thread ${i} ms ${p.ms[i]}`).toBe(true);
      if (p.tasks[i] === 0) expect(p.ms[i], `thread ${i}: no tasks, no time`).toBe(0);
      expect(Number.isFinite(p.wakeMs[i]), `thread ${i} wake ms ${p.wakeMs[i]}`).toBe(true);
      if (p.joined[i] === 0) expect(p.wakeMs[i], `thread ${i}: joined no job, no wake time`).toBe(0);
      if (i === 0) continue;
      if (p.tasks[i] > 0) expect(p.joined[i], `worker ${i} ran tasks, so it joined a job`).toBeGreaterThan(0);
      expect(p.joined[i], `worker ${i} joined at most every job`).toBeLessThanOrEqual(jobs);
      expect(p.sleeps[i], `worker ${i} sleeps`).toBeGreaterThanOrEqual(0);
      expect(p.sleeps[i], `worker ${i} sleeps at most once per job and once after the last`).toBeLessThanOrEqual(jobs + 1);
    }
    // off: more split calls change nothing
    const off = JSON.stringify(p);
    SHAPES.forEach((s, i) => expectSameBits(gemm(many, aN, s), want[i], `${s.join("×")}, profile off`));
    expect(pool.stats().splitCalls).toBeGreaterThan(s1.splitCalls);
    await settle();
    expect(JSON.stringify(pool.busy()), "counters while off").toBe(off);
    // on again: cleared
    pool.profile(true);
    p = pool.busy();
    for (const key of ["ms", "tasks", "wakeMs", "joined"] as const) expect(p[key].every((v) => v === 0), `${key} cleared again`).toBe(true);
    pool.profile(false);
  }, 120_000);
});
