// The dropout and activation layer kinds (src/layers/dropout.ts,
// activation.ts) run on a bare kernel arena, against references written here
// in float64 with the independent xoshiro128** of tests/reference.ts:
// - dropout_apply: out_i = [u_i ≥ rate]·in_i·fround(1/(1 − rate)), bit for bit
//   (one float32 product), both builds, every edge size, on 1 and 3 threads;
// - the dropout kind in training: its mask is the kernel stream's next n
//   uniforms (the stream advances by n), the backward applies the same mask
//   (the stream is not advanced again), and the kept fraction is 1 − rate;
//   at inference y = x and the stream is untouched;
// - the activation kind: y = f(x), dx = dy ⊙ f'(x) against float64 and
//   central differences of the float64 forward.
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { kindOf, type Layer, type StepContext } from "../../src/layers/index.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { activationCode, type Kernels } from "../../src/kernels/wasm.js";
import { actDerivRef, actRef, randomArray, rngSeedRef, rngUniformRef } from "../reference.js";
import { Arena, BUILDS, EDGE_SIZES, bitsOf, centralDiff, expectClose, expectSameBits, load } from "./helpers.js";

const RATES = [0.1, 0.5, 0.9, 1 / 3];

/** The float64 reference of the kernel: the mask from u, one float32 product. */
function dropoutRef(inp: Float32Array, u: ArrayLike<number>, rate: number): Float32Array {
  const scale = Math.fround(1 / (1 - rate)), r32 = Math.fround(rate);
  return Float32Array.from(inp, (v, i) => (u[i] >= r32 ? Math.fround(v * scale) : 0));
}

describe.each(BUILDS)("dropout_apply, %s build", (build) => {
  for (const threads of [1, 3]) {
    describe(`${threads} thread(s)`, () => {
      let k: Kernels, arena: Arena;
      beforeAll(async () => {
        k = threads === 1 ? await load(build) : await loadThreadedKernels({ build, threads });
        (k.threadsHandle as ThreadPool | null)?.tune({ minWork: 0 });
        arena = new Arena(k, 1 << 20);
      });
      beforeEach(() => arena.reset());

      it.each([...EDGE_SIZES, 400, 1000])("n = %i: equals the reference bit for bit, in place too", (n) => {
        const pool = k.threadsHandle as ThreadPool | null, before = pool?.stats().splitCalls ?? 0;
        for (const rate of RATES) {
          const x = randomArray(n, n + 7, -3, 3), u = randomArray(n, n + 11, 0, 1);
          u[0] = Math.fround(rate); // u = rate keeps (u ≥ rate)
          const px = arena.put(x, n % 3), pu = arena.put(u), py = arena.alloc(n, 1);
          k.raw.dropout_apply(py, px, pu, n, rate, Math.fround(1 / (1 - rate)));
          const want = dropoutRef(x, u, rate);
          expectSameBits(arena.bits(py, n), bitsOf(want), `rate ${rate}`);
          k.raw.dropout_apply(px, px, pu, n, rate, Math.fround(1 / (1 - rate)));
          expectSameBits(arena.bits(px, n), bitsOf(want), `rate ${rate}, in place`);
        }
        if (pool && n >= 400) expect(pool.stats().splitCalls, "the calls were split over threads").toBeGreaterThan(before);
      });
    });
  }
});

/** A layer of `kind` on (rows, n) bound to a fresh arena, with a context
 *  whose kernel stream is seeded with `seed`. */
function bind(k: Kernels, arena: Arena, kind: "dropout" | "activation", settings: Record<string, unknown>, act: "identity" | "tanh" | "elu" | "softplus",
  B: number, n: number, seed: bigint) {
  const spec = { kind, name: "encoder.0", inShape: [n], outShape: [n], settings, activation: act, params: [], alias: false } as const;
  const derived = kindOf(kind).derive?.([n], settings, "t");
  const rng = arena.alloc(4);
  k.u32(rng, 4).set(rngSeedRef(seed));
  const l: Layer = { ...spec, params: [], derived, x: arena.alloc(B * n), y: arena.alloc(B * n), dx: arena.alloc(B * n), dy: arena.alloc(B * n), p: [], g: [], act: activationCode(act) };
  const ctx: StepContext = { k: k.raw, scratch: arena.scratch(kindOf(kind).scratchBytes(l, B)), alpha: 1, condition: 0, rng, train: true };
  return { l, ctx, rng };
}

describe("the dropout kind", () => {
  let k: Kernels, arena: Arena;
  beforeAll(async () => { k = await load("plain"); arena = new Arena(k, 4 << 20); });
  beforeEach(() => arena.reset());

  it("training: the mask is the stream's next B·n uniforms; backward applies the same mask; the stream advances once", () => {
    const B = 7, n = 37, rate = 0.3;
    const { l, ctx, rng } = bind(k, arena, "dropout", { rate }, "identity", B, n, 12345n);
    const x = randomArray(B * n, 1, -2, 2), dy = randomArray(B * n, 2, -2, 2);
    k.f32(l.x, B * n).set(x);
    const s = rngSeedRef(12345n), u = rngUniformRef(s, B * n); // s advances as the kernel's stream should
    kindOf("dropout").forward(ctx, l, B);
    expectSameBits(arena.bits(l.y, B * n), bitsOf(dropoutRef(x, u, rate)), "y");
    expect(Array.from(k.u32(rng, 4)), "the stream advanced by B·n draws").toEqual(Array.from(s));
    // something else uses the scratch between forward and backward
    k.raw.fill(ctx.scratch, kindOf("dropout").scratchBytes(l, B) / 4, 0.5);
    k.f32(l.dy, B * n).set(dy);
    kindOf("dropout").backward(ctx, l, B);
    expectSameBits(arena.bits(l.dx, B * n), bitsOf(dropoutRef(dy, u, rate)), "dx");
    expect(Array.from(k.u32(rng, 4)), "backward draws from a copy").toEqual(Array.from(s));
  });

  it("the kept fraction is 1 − rate, and kept values are scaled by 1/(1 − rate)", () => {
    const B = 64, n = 500;
    for (const rate of [0.2, 0.7]) {
      const { l, ctx } = bind(k, arena, "dropout", { rate }, "identity", B, n, 99n);
      k.raw.fill(l.x, B * n, 1);
      kindOf("dropout").forward(ctx, l, B);
      const y = arena.get(l.y, B * n);
      const kept = y.filter((v) => v !== 0);
      expect(new Set(kept)).toEqual(new Set([Math.fround(1 / (1 - rate))]));
      const N = B * n, p = 1 - rate, sd = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(kept.length / N - p), "kept fraction within 5 sd").toBeLessThan(5 * sd);
      arena.reset();
    }
  });

  it("inference (train false): y = x and the stream is untouched", () => {
    const B = 3, n = 9;
    const { l, ctx, rng } = bind(k, arena, "dropout", { rate: 0.5 }, "identity", B, n, 7n);
    const x = randomArray(B * n, 3, -2, 2);
    k.f32(l.x, B * n).set(x);
    const before = Array.from(k.u32(rng, 4));
    kindOf("dropout").forward({ ...ctx, train: false }, l, B);
    expectSameBits(arena.bits(l.y, B * n), bitsOf(x), "y");
    expect(Array.from(k.u32(rng, 4))).toEqual(before);
  });

  it("settings: rate in [0, 1), nothing else", () => {
    const s = (e: Record<string, unknown>) => () => kindOf("dropout").settings(e, "config.encoder[1]");
    expect(s({ rate: 0 })()).toEqual({ rate: 0 });
    for (const bad of [1, -0.1, "0.5", undefined, NaN]) expect(s({ rate: bad }), String(bad)).toThrow(/config\.encoder\[1\]\.rate: expected/);
    expect(s({ rate: 0.5, p: 1 })).toThrow(/config\.encoder\[1\]\.p: .*no such setting of a dropout layer/);
  });
});

describe("the activation kind", () => {
  let k: Kernels, arena: Arena;
  beforeAll(async () => { k = await load("plain"); arena = new Arena(k, 1 << 20); });
  beforeEach(() => arena.reset());

  it.each(["tanh", "elu", "softplus"] as const)("%s: y = f(x) against float64, dx against central differences of the float64 forward", (act) => {
    const B = 5, n = 13;
    const { l, ctx } = bind(k, arena, "activation", {}, act, B, n, 1n);
    const x = randomArray(B * n, 4, -3, 3), dy = randomArray(B * n, 5, -1, 1);
    k.f32(l.x, B * n).set(x);
    kindOf("activation").forward(ctx, l, B);
    expectClose(arena.get(l.y, B * n), Array.from(x, (v) => actRef(v, act, 1)), 1e-5, "y");
    k.f32(l.dy, B * n).set(dy);
    kindOf("activation").backward(ctx, l, B);
    const fd = Array.from(x, (v, i) => dy[i] * centralDiff((t) => actRef(t[0], act, 1), [v])[0]);
    expectClose(arena.get(l.dx, B * n), fd, 1e-4, "dx vs central differences");
    expectClose(arena.get(l.dx, B * n), Array.from(x, (v, i) => dy[i] * actDerivRef(v, act, 1)), 1e-5, "dx vs f'");
  });
});
