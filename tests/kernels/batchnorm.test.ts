// The batch_norm layer kind (src/layers/batchnorm.ts, assembly/batchnorm.ts)
// on a bare kernel arena, against float64 references written here:
// - training forward: batch mean and biased variance per channel, y;
// - inference forward: the running statistics;
// - backward: the closed form in float64 and central differences of the
//   whole float64 training forward (the batch statistics included) for dx,
//   dγ and dβ;
// - commit: the running statistics with the momentum and the unbiased variance;
// - threads: every call split by channels (minWork 0) on 2 and 4 threads gives
//   the bits of one thread, both builds.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { kindOf, type Layer, type StepContext } from "../../src/layers/index.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import type { Build, Kernels } from "../../src/kernels/wasm.js";
import { randomArray } from "../reference.js";
import { Arena, BUILDS, centralDiff, expectClose, expectSameBits, load } from "./helpers.js";

const bn = kindOf("batch_norm");

/** float64 training forward of x (N, C): per channel mean, biased variance, y. */
function forwardRef(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, N: number, C: number, eps: number) {
  const mean = new Float64Array(C), vari = new Float64Array(C), y = new Float64Array(N * C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += x[n * C + c];
    mean[c] = s / N;
    let q = 0;
    for (let n = 0; n < N; n++) q += (x[n * C + c] - mean[c]) ** 2;
    vari[c] = q / N;
    for (let n = 0; n < N; n++) y[n * C + c] = gamma[c] * (x[n * C + c] - mean[c]) / Math.sqrt(vari[c] + eps) + beta[c];
  }
  return { mean, vari, y };
}

/** float64 backward in closed form: dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)). */
function backwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, N: number, C: number, eps: number) {
  const { mean, vari } = forwardRef(x, gamma, new Float64Array(C), N, C, eps);
  const dx = new Float64Array(N * C), dg = new Float64Array(C), db = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const sd = Math.sqrt(vari[c] + eps), xh = (n: number) => (x[n * C + c] - mean[c]) / sd;
    for (let n = 0; n < N; n++) { db[c] += dy[n * C + c]; dg[c] += dy[n * C + c] * xh(n); }
    for (let n = 0; n < N; n++) dx[n * C + c] = gamma[c] / sd * (dy[n * C + c] - db[c] / N - xh(n) * dg[c] / N);
  }
  return { dx, dg, db };
}

/** A batch_norm layer on (B rows of inShape) bound to a fresh arena. */
function bind(k: Kernels, arena: Arena, inShape: number[], B: number, settings: Record<string, unknown> = { momentum: 0.9, epsilon: 1e-3 }) {
  const base = { kind: "batch_norm", name: "encoder.1", inShape, outShape: inShape, settings, activation: "identity" as const };
  const derived = bn.derive?.(inShape, settings, "t");
  const spec = { ...base, derived, params: bn.params(base), buffers: bn.buffers!(base), alias: false };
  const n = B * inShape.reduce((a, b) => a * b, 1);
  const l: Layer = {
    ...spec, x: arena.alloc(n), y: arena.alloc(n), dx: arena.alloc(n), dy: arena.alloc(n),
    p: spec.params.map((q) => arena.alloc(q.shape[0])), g: spec.params.map((q) => arena.alloc(q.shape[0])),
    b: spec.buffers.map((q) => { const p = arena.alloc(q.shape[0]); k.raw.fill(p, q.shape[0], q.init); return p; }), act: 0,
  };
  const ctx: StepContext = { k: k.raw, scratch: arena.scratch(bn.scratchBytes(l, B)), alpha: 1, condition: 0, rng: 0, train: true };
  return { l, ctx };
}

describe("the batch_norm kind", () => {
  let k: Kernels, arena: Arena;
  beforeAll(async () => { k = await load("plain"); arena = new Arena(k, 8 << 20); });
  beforeEach(() => arena.reset());

  // (inShape, B): flat rows per feature, NHWC images per channel; C around the ranges of 4
  const CASES: [number[], number][] = [[[1], 2], [[3], 2], [[4], 5], [[5], 17], [[17], 33], [[2, 3, 4], 3], [[3, 3, 5], 2], [[4, 4, 9], 4], [[1, 1, 7], 2]];

  it.each(CASES)("training forward on %j × B = %i: batch statistics and y against float64", (shape, B) => {
    const C = shape[shape.length - 1], N = B * shape.reduce((a, b) => a * b, 1) / C, eps = 1e-3;
    const { l, ctx } = bind(k, arena, shape, B);
    const x = randomArray(N * C, N + C, -2, 3), gamma = randomArray(C, 5, 0.5, 2), beta = randomArray(C, 6, -1, 1);
    k.f32(l.x, N * C).set(x); k.f32(l.p[0], C).set(gamma); k.f32(l.p[1], C).set(beta);
    bn.forward(ctx, l, B);
    const ref = forwardRef(x, gamma, beta, N, C, eps);
    expectClose(arena.get(l.b[2], C), ref.mean, 1e-6, "batch mean");
    expectClose(arena.get(l.b[3], C), ref.vari, 1e-6, "batch variance (biased)");
    expectClose(arena.get(l.b[4], C), Array.from(ref.vari, (v) => 1 / Math.sqrt(v + eps)), 1e-6, "1/√(σ² + ε)");
    expectClose(arena.get(l.y, N * C), ref.y, 1e-5, "y");
    // the running statistics move only at commit
    expect(Array.from(arena.get(l.b[0], C))).toEqual(new Array(C).fill(0));
    expect(Array.from(arena.get(l.b[1], C))).toEqual(new Array(C).fill(1));
  });

  it("commit: running ← m·running + (1 − m)·batch, the variance unbiased (N/(N − 1)); twice", () => {
    const B = 6, C = 5, m = 0.9, eps = 1e-3;
    const { l, ctx } = bind(k, arena, [C], B, { momentum: m, epsilon: eps });
    k.raw.fill(l.p[0], C, 1); k.raw.fill(l.p[1], C, 0);
    let rm = new Float64Array(C), rv = new Float64Array(C).fill(1);
    for (const seed of [1, 2]) {
      const x = randomArray(B * C, seed, -1, 4);
      k.f32(l.x, B * C).set(x);
      bn.forward(ctx, l, B);
      bn.commit!(ctx, l);
      const { mean, vari } = forwardRef(x, new Float64Array(C).fill(1), new Float64Array(C), B, C, eps);
      rm = rm.map((v, c) => m * v + (1 - m) * mean[c]);
      rv = rv.map((v, c) => m * v + (1 - m) * vari[c] * B / (B - 1));
      expectClose(arena.get(l.b[0], C), rm, 1e-6, `running mean after step ${seed}`);
      expectClose(arena.get(l.b[1], C), rv, 1e-6, `running variance after step ${seed}`);
    }
    // a second commit without a training forward changes nothing
    const before = [arena.bits(l.b[0], C), arena.bits(l.b[1], C)];
    bn.commit!(ctx, l);
    expectSameBits(arena.bits(l.b[0], C), before[0], "no forward, no commit: mean");
    expectSameBits(arena.bits(l.b[1], C), before[1], "no forward, no commit: variance");
  });

  it("inference forward: y = γ·(x − μ_run)/√(σ²_run + ε) + β, no batch statistics", () => {
    const shape = [2, 2, 6], B = 3, C = 6, N = B * 4, eps = 0.01;
    const { l, ctx } = bind(k, arena, shape, B, { momentum: 0.5, epsilon: eps });
    const x = randomArray(N * C, 9, -2, 2), gamma = randomArray(C, 10, 0.5, 2), beta = randomArray(C, 11, -1, 1);
    const rm = randomArray(C, 12, -1, 1), rv = randomArray(C, 13, 0.1, 3);
    k.f32(l.x, N * C).set(x); k.f32(l.p[0], C).set(gamma); k.f32(l.p[1], C).set(beta);
    k.f32(l.b[0], C).set(rm); k.f32(l.b[1], C).set(rv);
    bn.forward({ ...ctx, train: false }, l, B);
    const want = Array.from(x, (v, i) => { const c = i % C; return gamma[c] * (v - rm[c]) / Math.sqrt(rv[c] + eps) + beta[c]; });
    expectClose(arena.get(l.y, N * C), want, 1e-5, "y");
    // one row alone works at inference
    bn.forward({ ...ctx, train: false }, l, 1);
    expectClose(arena.get(l.y, 4 * C), want.slice(0, 4 * C), 1e-5, "y of one row");
  });

  it.each(CASES)("backward on %j × B = %i: dx, dγ, dβ against the float64 closed form and central differences", (shape, B) => {
    const C = shape[shape.length - 1], N = B * shape.reduce((a, b) => a * b, 1) / C, eps = 1e-3;
    const { l, ctx } = bind(k, arena, shape, B);
    const x = randomArray(N * C, 3 * N + C, -2, 3), gamma = randomArray(C, 7, 0.5, 2), beta = randomArray(C, 8, -1, 1);
    const dy = randomArray(N * C, 4 * N + C, -1, 1);
    k.f32(l.x, N * C).set(x); k.f32(l.p[0], C).set(gamma); k.f32(l.p[1], C).set(beta);
    bn.forward(ctx, l, B);
    k.f32(l.dy, N * C).set(dy);
    bn.backward(ctx, l, B);
    const ref = backwardRef(x, dy, gamma, N, C, eps);
    const dx = arena.get(l.dx, N * C), dg = arena.get(l.g[0], C), db = arena.get(l.g[1], C);
    expectClose(dx, ref.dx, 1e-4, "dx vs closed form");
    expectClose(dg, ref.dg, 1e-5, "dγ vs closed form");
    expectClose(db, ref.db, 1e-5, "dβ vs closed form");
    // L = Σ dy·y(x, γ, β) of the float64 training forward, statistics included
    const loss = (xs: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) => forwardRef(xs, g, b, N, C, eps).y.reduce((s, v, i) => s + v * dy[i], 0);
    expectClose(dx, centralDiff((t) => loss(t, gamma, beta), x, 1e-6), 1e-4, "dx vs central differences");
    expectClose(dg, centralDiff((t) => loss(x, t, beta), gamma), 1e-5, "dγ vs central differences");
    expectClose(db, centralDiff((t) => loss(x, gamma, t), beta), 1e-5, "dβ vs central differences");
    // dx = 0 (the first layer): the parameter gradients alone, the same bits
    const dgBits = arena.bits(l.g[0], C);
    bn.backward(ctx, { ...l, dx: 0 }, B);
    expectSameBits(arena.bits(l.g[0], C), dgBits, "dγ without dx");
  });

  it("training needs 2 values per channel: one flat row is refused by name, an image row of ≥ 2 pixels is not", () => {
    const { l, ctx } = bind(k, arena, [4], 1);
    expect(() => bn.forward(ctx, l, 1)).toThrow(/^batch: expected at least 2 rows to train a model with a batch_norm layer \(config\.encoder\[1\]/);
    const img = bind(k, arena, [1, 2, 3], 1);
    k.raw.fill(img.l.p[0], 3, 1); k.raw.fill(img.l.p[1], 3, 0);
    k.f32(img.l.x, 6).set([1, 2, 3, 4, 5, 6]);
    bn.forward(img.ctx, img.l, 1);
    expectClose(arena.get(img.l.y, 6), [-1, -1, -1, 1, 1, 1].map((v) => v / Math.sqrt(1 + 1e-3 / 2.25)), 1e-5, "y of two pixels");
  });

  it("settings: Keras' defaults; momentum in [0, 1] and epsilon in (0, 1] refused by name", () => {
    const s = (e: Record<string, unknown>) => () => bn.settings(e, "config.encoder[2]");
    expect(s({})()).toEqual({ momentum: 0.99, epsilon: 1e-3 });
    expect(s({ momentum: 0, epsilon: 1e-5 })()).toEqual({ momentum: 0, epsilon: 1e-5 });
    for (const bad of [-0.1, 1.5, "0.9", NaN, null]) expect(s({ momentum: bad }), String(bad)).toThrow(/^config\.encoder\[2\]\.momentum: expected/);
    for (const bad of [0, -1e-3, 2, Infinity, "1e-3"]) expect(s({ epsilon: bad }), String(bad)).toThrow(/^config\.encoder\[2\]\.epsilon: expected/);
    expect(s({ eps: 1e-3 })).toThrow(/^config\.encoder\[2\]\.eps: .*no such setting of a batch_norm layer/);
  });
});

describe.each(BUILDS)("batch_norm on threads, %s build", (build: Build) => {
  // one channel's sums are one thread's: 2 and 4 threads give the bits of one
  it("stats, forward (training and inference), backward and commit: same bits on 1, 2 and 4 threads, every call split", async () => {
    const shape = [3, 5, 13], B = 7, C = 13, N = B * 15;
    const x = randomArray(N * C, 21, -2, 3), dy = randomArray(N * C, 22, -1, 1), gamma = randomArray(C, 23, 0.5, 2), beta = randomArray(C, 24, -1, 1);
    const run = async (threads: number) => {
      const k = threads === 1 ? await load(build) : await loadThreadedKernels({ build, threads });
      const pool = k.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      const arena = new Arena(k, 4 << 20), { l, ctx } = bind(k, arena, shape, B);
      k.f32(l.x, N * C).set(x); k.f32(l.p[0], C).set(gamma); k.f32(l.p[1], C).set(beta); k.f32(l.dy, N * C).set(dy);
      const before = pool?.stats().splitCalls ?? 0;
      bn.forward(ctx, l, B);
      const y = arena.bits(l.y, N * C);
      bn.backward(ctx, l, B);
      bn.commit!(ctx, l);
      bn.forward({ ...ctx, train: false }, l, B);
      if (pool) expect(pool.stats().splitCalls - before, "stats, forward, backward, forward: each split").toBeGreaterThanOrEqual(4);
      const out = { y, dx: arena.bits(l.dx, N * C), g: arena.bits(l.g[0], C), b: arena.bits(l.g[1], C), runMean: arena.bits(l.b[0], C), runVar: arena.bits(l.b[1], C), yInf: arena.bits(l.y, N * C) };
      k.dispose();
      return out;
    };
    const one = await run(1);
    for (const t of [2, 4]) {
      const got = await run(t);
      for (const key of Object.keys(one) as (keyof typeof one)[]) expectSameBits(got[key], one[key], `${key} on ${t} threads`);
    }
  });
});
