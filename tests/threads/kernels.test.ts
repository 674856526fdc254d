// The kernels that split over threads (GEMM, activations, Bernoulli NLL, Adam)
// run threaded on 2, 3 and 4 threads with splitting forced on (minWork 0),
// at sizes just below, at and just above the split boundaries: row panels of
// MR (5 plain / 6 relaxed) and blocks of 8 panels, column strips of 8, ranges
// of 16 elements, the 256-deep K blocks. Each result must have the same bits
// as the one-thread module (both builds) and match the float64 reference;
// the plain GEMM must also equal in-order f32 accumulation bit for bit.
// Every call is checked to have been split, and the workers to have run tasks.
// Not here: whole training runs (determinism.test.ts), failures (failure.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ThreadPool } from "../../src/threads/pool.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import type { Activation, Build, Kernels } from "../../src/kernels/wasm.js";
import { actDerivRef, actRef, adamRef, bernoulliNllRef, gemmF32SequentialRef, gemmRef, randomArray } from "../reference.js";
import { Arena, BUILDS, bitsOf, expectClose, expectSameBits, load } from "../kernels/helpers.js";

const THREADS = [2, 3, 4] as const;
const ARENA = 8 << 20;
const TOL: Record<Build, number> = { plain: 1e-5, relaxed: 1e-4 };

interface Mod { k: Kernels; arena: Arena; pool: ThreadPool | null }

async function mod(build: Build, threads: number): Promise<Mod> {
  const k = threads === 1 ? await load(build) : await loadThreadedKernels({ build, threads });
  expect(k.build).toBe(build);
  expect(k.threads, "threads running").toBe(threads);
  const pool = k.threadsHandle as ThreadPool | null;
  pool?.tune({ minWork: 0 });
  pool?.leaveLastTask(true); // workers run tasks however busy the machine is (asserted after the suite)
  return { k, arena: new Arena(k, ARENA), pool };
}

/** Runs f on module m; asserts that a threaded module split the call. */
function split<T>(m: Mod, f: () => T): T {
  const before = m.pool?.stats().splitCalls ?? 0;
  const r = f();
  if (m.pool) expect(m.pool.stats().splitCalls, "the call was split over threads").toBeGreaterThan(before);
  return r;
}

type Variant = "NN" | "TN" | "NT";
const VARIANT = {
  NN: { transA: false, transB: false, init: "bias" },
  TN: { transA: true, transB: false, init: "accumulate" },
  NT: { transA: false, transB: true, init: "zero" },
} as const;

function gemmCases(): { v: Variant; M: number; K: number; N: number }[] {
  const out = [];
  for (const v of ["NN", "TN", "NT"] as const) {
    // panels (5 / 6 rows), blocks of 8 panels (40 / 48 rows), several blocks
    for (const M of [3, 5, 6, 7, 11, 12, 13, 39, 40, 41, 47, 48, 49, 79, 80, 81, 97, 128, 129]) out.push({ v, M, K: 37, N: 65 });
    // strips of 8 and splits of the columns
    for (const N of [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 129]) out.push({ v, M: 49, K: 37, N });
    // K blocks of 256
    for (const K of [1, 255, 256, 257]) out.push({ v, M: 41, K, N: 17 });
    // op(A) packed once for all column tasks (more row panels than one task holds, wide N), over several K blocks
    for (const [M, K, N] of [[97, 300, 129], [128, 513, 100], [200, 128, 97]]) out.push({ v, M, K, N });
    // the same with few row panels (≤ 8: packed on the calling thread), as in a B = 32 step, over several K blocks
    for (const [M, K, N] of [[3, 128, 200], [32, 300, 136], [41, 520, 129], [48, 784, 400]]) out.push({ v, M, K, N });
    // narrow C (fewer column strips than tasks: the 20- and 40-wide layers), split mostly by rows
    for (const [M, K, N] of [[128, 400, 40], [128, 400, 20], [32, 400, 40], [32, 400, 20], [97, 260, 9], [400, 37, 24], [7, 300, 17]]) out.push({ v, M, K, N });
    // few k (K ≤ 8: NN rows straight from a and b, split by row pairs), as after a 2-wide latent
    for (const [M, K, N] of [[128, 2, 3136], [41, 8, 17], [13, 5, 9]]) out.push({ v, M, K, N });
  }
  return out;
}

describe.each(BUILDS)("threaded kernels, %s build", (build) => {
  const mods = new Map<number, Mod>();
  beforeAll(async () => {
    for (const t of [1, ...THREADS]) mods.set(t, await mod(build, t));
  });
  afterAll(() => {
    for (const t of THREADS) {
      const m = mods.get(t)!;
      expect(m.pool!.stats().workerTasks, `${t} threads: workers ran tasks`).toBeGreaterThan(0);
      m.k.dispose();
    }
  });

  function gemmOn(m: Mod, v: Variant, M: number, K: number, N: number, d: Record<string, Float32Array>): Float32Array {
    const { k, arena } = m;
    arena.reset();
    const o = VARIANT[v];
    const a = arena.put(d.a), b = arena.put(d.b), bias = arena.put(d.bias);
    const c = arena.put(d.c0, 3);
    const scratch = arena.scratch(k.gemmScratchBytes(M, K));
    split(m, () => k.gemm({ c, a, b, bias: o.init === "bias" ? bias : undefined, M, K, N, transA: o.transA, transB: o.transB, init: o.init, scratch }));
    return arena.get(c, M * N);
  }

  it.each(gemmCases().map((c) => [`${c.v} ${c.M}×${c.K}×${c.N}`, c] as const))("gemm %s", (_, { v, M, K, N }) => {
    const s = 1 / Math.sqrt(K);
    const d = { a: randomArray(M * K, M + K), b: randomArray(K * N, N + 7, -s, s), bias: randomArray(N, 3), c0: randomArray(M * N, 5) };
    const o = VARIANT[v];
    const refOpts = { transA: o.transA, transB: o.transB, c0: o.init === "accumulate" ? d.c0 : undefined, bias: o.init === "bias" ? d.bias : undefined };
    const one = gemmOn(mods.get(1)!, v, M, K, N, d);
    expectClose(one, gemmRef(d.a, d.b, M, K, N, refOpts), TOL[build], "one thread vs float64");
    if (build === "plain") expectSameBits(bitsOf(one), bitsOf(gemmF32SequentialRef(d.a, d.b, M, K, N, refOpts)), "plain: in-order f32");
    for (const t of THREADS) expectSameBits(bitsOf(gemmOn(mods.get(t)!, v, M, K, N, d)), bitsOf(one), `${t} threads vs one`);
  });

  const ACTS: Activation[] = ["relu", "leaky_relu", "tanh", "sigmoid", "softplus", "elu"];
  const RANGES = [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 191, 192, 193, 400 * 7 + 3];
  it.each(ACTS)("activation %s forward and backward", (act) => {
    for (const n of RANGES) {
      const x = randomArray(n, n, -3, 3), dy = randomArray(n, n + 1);
      const alpha = act === "leaky_relu" ? 0.1 : act === "elu" ? 1 : 0;
      const run = (m: Mod) => {
        const { k, arena } = m;
        arena.reset();
        const px = arena.put(x), py = arena.alloc(n), pdy = arena.put(dy), pdx = arena.alloc(n);
        // one range of 16 or fewer is one task: never split
        const call = n > 16 ? (f: () => void) => split(m, f) : (f: () => void) => f();
        call(() => k.activationForward(py, px, n, act, alpha));
        call(() => k.activationBackward(pdx, pdy, py, n, act, alpha));
        return { y: arena.get(py, n), dx: arena.get(pdx, n) };
      };
      const one = run(mods.get(1)!);
      expectClose(one.y, Array.from(x, (v) => actRef(v, act, alpha)), 1e-5, `${act} n=${n} y vs float64`);
      expectClose(one.dx, Array.from(x, (v, i) => dy[i] * actDerivRef(v, act, alpha)), 1e-4, `${act} n=${n} dx vs float64`);
      for (const t of THREADS) {
        const got = run(mods.get(t)!);
        expectSameBits(bitsOf(got.y), bitsOf(one.y), `${act} n=${n} y, ${t} threads`);
        expectSameBits(bitsOf(got.dx), bitsOf(one.dx), `${act} n=${n} dx, ${t} threads`);
      }
    }
  });

  it.each([[1, 5], [2, 784], [3, 17], [7, 33], [8, 784], [9, 4], [17, 61], [33, 784]])("bernoulli NLL B=%i D=%i", (B, D) => {
    const logits = randomArray(B * D, B * D, -6, 6), x = randomArray(B * D, D, 0, 1);
    const run = (m: Mod) => {
      const { k, arena } = m;
      arena.reset();
      const pl = arena.put(logits), px = arena.put(x), nll = arena.alloc(B), nll2 = arena.alloc(B), dl = arena.alloc(B * D), dl2 = arena.alloc(B * D);
      if (B > 1) {
        split(m, () => k.bernoulliForward(nll, pl, px, B, D));
        split(m, () => k.bernoulliBackward(dl, pl, px, B, D, 0.25));
        split(m, () => k.bernoulliForwardBackward(nll2, dl2, pl, px, B, D, 0.25));
      } else { // one row is one task: never split
        k.bernoulliForward(nll, pl, px, B, D);
        k.bernoulliBackward(dl, pl, px, B, D, 0.25);
        k.bernoulliForwardBackward(nll2, dl2, pl, px, B, D, 0.25);
      }
      return [arena.get(nll, B), arena.get(dl, B * D), arena.get(nll2, B), arena.get(dl2, B * D)];
    };
    const one = run(mods.get(1)!);
    expectClose(one[0], bernoulliNllRef(logits, x, B, D), 1e-5, "nll vs float64", 1);
    const sig = (l: number) => 1 / (1 + Math.exp(-l));
    expectClose(one[1], Array.from(logits, (l, i) => 0.25 * (sig(l) - x[i])), 1e-5, "dlogits vs float64");
    for (const t of THREADS) {
      const got = run(mods.get(t)!);
      got.forEach((g, i) => expectSameBits(bitsOf(g), bitsOf(one[i]), `output ${i}, ${t} threads`));
    }
  });

  // chunks of 8192 floats (one chunk: never split), split over threads by chunk
  it.each([7, 8191, 8192, 8193, 3 * 8192 + 5, 100_003])("sum_squares n=%i: the same f64 bits on any thread count", (n) => {
    const x = randomArray(n, n, -3, 3);
    let want = 0;
    for (const v of x) want += v * v;
    const run = (m: Mod) => {
      const { k, arena } = m;
      arena.reset();
      const px = arena.put(x);
      return n > 8192 ? split(m, () => k.sumSquares(px, n)) : k.sumSquares(px, n);
    };
    const one = run(mods.get(1)!);
    // f64 sums of exact f64 squares: only the summation order differs
    expect(Math.abs(one - want) / want).toBeLessThan(1e-13);
    for (const t of THREADS) expect(Object.is(run(mods.get(t)!), one), `${t} threads`).toBe(true);
  });

  it.each([0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 4099])("adam n=%i", (n) => {
    const p0 = randomArray(n, n), g = [randomArray(n, n + 1), randomArray(n, n + 2)];
    const o = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    const run = (m: Mod) => {
      const { k, arena } = m;
      arena.reset();
      const p = arena.put(p0), pg = arena.alloc(n), pm = arena.put(new Float32Array(n)), pv = arena.put(new Float32Array(n));
      for (let t = 1; t <= g.length; t++) {
        k.f32(pg, n).set(g[t - 1]);
        const kept = n > 16 ? split(m, () => k.adamStep({ p, g: pg, m: pm, v: pv, n, ...o, t })) : k.adamStep({ p, g: pg, m: pm, v: pv, n, ...o, t });
        expect(kept).toBe(0);
      }
      return [arena.get(p, n), arena.get(pm, n), arena.get(pv, n)];
    };
    const one = run(mods.get(1)!);
    expectClose(one[0], adamRef(Float64Array.from(p0), g.map((a) => Float64Array.from(a)), { ...o, wd: o.weightDecay }), 1e-5, "p vs float64");
    for (const t of THREADS) {
      const got = run(mods.get(t)!);
      got.forEach((v, i) => expectSameBits(bitsOf(v), bitsOf(one[i]), `adam output ${i}, ${t} threads`));
    }
  });

  it("adam's kept flag is ORed over threads: one non-finite update in the last range is reported", () => {
    const n = 1000;
    for (const t of [1, ...THREADS]) {
      const m = mods.get(t)!;
      m.arena.reset();
      const g = randomArray(n, 9);
      g[n - 3] = Infinity;
      const p = m.arena.put(randomArray(n, 8)), pg = m.arena.put(g), pm = m.arena.put(new Float32Array(n)), pv = m.arena.put(new Float32Array(n));
      const kept = m.k.adamStep({ p, g: pg, m: pm, v: pv, n, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, t: 1 });
      expect(kept, `${t} threads`).toBe(1);
    }
  });
});
