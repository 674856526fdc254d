// The fused dense kernels on threads, every call split (minWork 0), on 1, 2
// and 3 threads, both builds, at sizes across the tile edges (MR 5/6 rows,
// 8-column strips, 256-deep K blocks, 16-column ranges) and for every
// activation:
//   forward  y = act(x·W + b), the activation in the GEMM's tile stores
//            (gemm_act's epilogue), against the float64 reference;
//   backward g = dy ⊙ act'(y) with db = Σ_b g in one pass split by column
//            ranges (activation_backward_bias), then dW and dx as one
//            threaded job (gemm_pair); g against float64 dy ⊙ f'(pre), and
//            db, dW, dx against float64 sums and products of the kernel's g.
// Every result has the bits of the one-thread module.
// Not here: the unfused kernels (kernels.test.ts), whole models (determinism.test.ts, conv.test.ts).
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, type Activation, type Build } from "../../src/kernels/wasm.js";
import { actDerivRef, denseForwardRef, gemmRef, randomArray } from "../reference.js";
import { BUILDS, bitsOf, expectClose, expectSameBits } from "../kernels/helpers.js";
import { threadedMods, type Mod } from "./mods.js";

const THREADS = [2, 3] as const;
// [1, …] and [2, …]: the one/two-row path (rowsTimesB, on the calling thread) with the activation in its strip stores
// [32, 136, 300]: dx = g·Wᵀ has few row panels and K ≥ 128, so the pair packs its g once on the calling thread;
// [130, 30, 100]: the same for dW = xᵀ·g, the pair's first product
// [130, 260, 300]: both products pack op(A) once (K ≥ 128, wide enough), so the pair packs both in one job and
//   splits their column strips in a second (packBoth; dx's K = 300 spans two K blocks, 130 rows end in a part tile)
const SHAPES: [number, number, number][] = [[7, 9, 17], [13, 33, 41], [61, 300, 129], [128, 20, 400], [1, 37, 129], [2, 20, 400], [32, 136, 300], [130, 30, 100], [130, 260, 300]];
const ALPHA: Partial<Record<Activation, number>> = { leaky_relu: 0.1, elu: 0.7 };

describe.each(BUILDS)("fused dense kernels on threads, %s build", (build: Build) => {
  const mods = threadedMods(build, THREADS, 8 << 20, (t, m) =>
    expect(m.pool!.stats().workerTasks, `${t} threads: workers ran tasks`).toBeGreaterThan(0));

  function run(m: Mod, act: Activation, B: number, IN: number, OUT: number, d: Record<string, Float32Array>) {
    const { k, arena } = m;
    arena.reset();
    const alpha = ALPHA[act] ?? 0;
    const x = arena.put(d.x), w = arena.put(d.w), b = arena.put(d.b), y = arena.alloc(B * OUT);
    const dy = arena.put(d.dy), dx = arena.alloc(B * IN), dw = arena.alloc(IN * OUT), db = arena.alloc(OUT);
    const scratch = arena.scratch(Math.max(k.gemmScratchBytes(B, IN), k.denseBackwardScratchBytes(B, IN, OUT)));
    const before = m.pool?.stats().splitCalls ?? 0;
    k.denseForward({ y, x, w, b, batch: B, inDim: IN, outDim: OUT, activation: act, alpha, scratch });
    const yOut = arena.get(y, B * OUT);
    k.denseBackward({ dx, dw, db, dy, x, w, y, batch: B, inDim: IN, outDim: OUT, activation: act, alpha, accumulate: false, scratch });
    if (m.pool) expect(m.pool.stats().splitCalls, "calls split").toBeGreaterThan(before);
    return { y: yOut, g: arena.get(dy, B * OUT), dx: arena.get(dx, B * IN), dw: arena.get(dw, IN * OUT), db: arena.get(db, OUT) };
  }

  it.each(ACTIVATIONS.flatMap((act) => SHAPES.map((s) => [`${act} ${s.join("×")}`, act, s] as const)))(
    "%s: forward and backward against float64; 2 and 3 threads give the bits of one", (_, act, [B, IN, OUT]) => {
      const alpha = ALPHA[act] ?? 0, s = 1 / Math.sqrt(IN);
      const d = { x: randomArray(B * IN, B + IN, -2, 2), w: randomArray(IN * OUT, OUT + 3, -s, s), b: randomArray(OUT, 9), dy: randomArray(B * OUT, 4) };
      const one = run(mods.get(1)!, act, B, IN, OUT, d);
      expectClose(one.y, denseForwardRef(d.x, d.w, d.b, B, IN, OUT, act, alpha).y, 1e-4, "y vs float64");
      // g = dy ⊙ f'(pre) in float64; db, dW and dx are then checked as float64 products of the kernel's own g
      const g = new Float64Array(B * OUT);
      const pre = denseForwardRef(d.x, d.w, d.b, B, IN, OUT, act, alpha).pre;
      for (let i = 0; i < B * OUT; i++) g[i] = d.dy[i] * actDerivRef(pre[i], act, alpha);
      expectClose(one.g, g, 1e-3, "g = dy ⊙ f'(y) vs float64");
      const db = new Float64Array(OUT);
      for (let r = 0; r < B; r++) for (let j = 0; j < OUT; j++) db[j] += one.g[r * OUT + j];
      expectClose(one.db, db, 1e-4, "db vs float64 column sums of g", Math.sqrt(B));
      expectClose(one.dw, gemmRef(d.x, one.g, IN, B, OUT, { transA: true }), 1e-4, "dW vs float64 xᵀ·g", Math.sqrt(B));
      expectClose(one.dx, gemmRef(one.g, d.w, B, OUT, IN, { transB: true }), 1e-4, "dx vs float64 g·Wᵀ");
      for (const t of THREADS) {
        const got = run(mods.get(t)!, act, B, IN, OUT, d);
        for (const key of ["y", "g", "dx", "dw", "db"] as const) expectSameBits(bitsOf(got[key]), bitsOf(one[key]), `${key}, ${t} threads vs one`);
      }
    });
});
