// dense_forward and dense_backward (assembly/dense.ts), both builds: forward
// with every activation against the float64 reference; backward against
// central differences of the float64 forward at small shapes and against the
// float64 chain rule at the VAE's shapes; dW and db accumulate, dx is
// overwritten or skipped, dy is replaced by dy ⊙ f'.
// Not here: GEMM edge cases on their own (gemm.test.ts).
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, type Activation, type Build, type Kernels } from "../../src/kernels/wasm.js";
import { actDerivRef, denseBackwardRef, denseForwardRef, randomArray } from "../reference.js";
import { Arena, BUILDS, bitsOf, centralDiff, dot, expectClose, expectSameBits, withKernels } from "./helpers.js";

const ALPHA: Record<Activation, number> = {
  identity: 0, relu: 0, leaky_relu: 0.1, tanh: 0, sigmoid: 0, softplus: 0, elu: 1,
};
// As in gemm.test.ts: plain is in-order f32 (1e-5 of |ref| + 1); relaxed may
// fuse the multiply-adds or not, so only an f32-accumulation-sized bound.
const TOL: Record<Build, number> = { plain: 1e-5, relaxed: 1e-4 };

type Shape = [B: number, IN: number, OUT: number];
const SMALL: Shape[] = [[1, 1, 1], [2, 3, 5], [3, 9, 17], [5, 16, 8], [4, 33, 7], [6, 5, 16], [7, 4, 9],
  [8, 15, 2], [9, 2, 15], [17, 8, 33],
  // one row (gemm.ts rowTimesB, the activation after the last row block): K
  // past a multiple of 8 rows, 16- and 8-column strips, columns past them
  [1, 13, 24], [1, 20, 40], [1, 9, 41], [2, 13, 24]];
// Batch 16 through the VAE's layers: 784→400, 400→2·20, 20→400, 400→784.
const VAE: Shape[] = [[16, 784, 400], [16, 400, 40], [16, 20, 400], [16, 400, 784]];

/** x in [−1, 1], W Glorot-like in [−1, 1]/√IN (so f32 sums over IN = 784
 *  stay well inside 1e-5), b in [−½, ½], upstream gradient dy in [−1, 1]. */
function layer([B, IN, OUT]: Shape, seed: number) {
  const s = 1 / Math.sqrt(IN);
  return {
    x: randomArray(B * IN, seed), w: randomArray(IN * OUT, seed + 1, -s, s),
    b: randomArray(OUT, seed + 2, -0.5, 0.5), dy: randomArray(B * OUT, seed + 3),
  };
}

const KINKED = new Set<Activation>(["relu", "leaky_relu", "elu"]);

/** A layer whose pre-activations all have |pre| ≥ gap when `act` has a kink
 *  at 0: redraws the seed until so. For FD, gap = 1e-3 is 100× the largest
 *  change any FD step makes to a pre-activation (h = 1e-5 times |x|, |w| ≤ 1,
 *  or 1), so the stencil stays on one side of the kink; against the chain
 *  rule only the sign of pre matters, and 1e-5 is ≫ its f32 error (~1e-7). */
function smoothLayer(shape: Shape, act: Activation, seed: number, gap: number) {
  const [B, IN, OUT] = shape;
  for (let s = seed; s < seed + 1000 * 8; s += 8) {
    const d = layer(shape, s);
    if (!KINKED.has(act)) return d;
    const { pre } = denseForwardRef(d.x, d.w, d.b, B, IN, OUT, act, ALPHA[act]);
    if (pre.every((v) => Math.abs(v) >= gap)) return d;
  }
  throw new Error("no kink-free draw found");
}

// f64 references are shared by both builds.
const refs = new Map<string, ReturnType<typeof denseForwardRef>>();
function forwardRef(shape: Shape, act: Activation, d: ReturnType<typeof layer>, seed: number) {
  const key = `${shape} ${act} ${seed}`;
  let r = refs.get(key);
  if (!r) refs.set(key, r = denseForwardRef(d.x, d.w, d.b, ...shape, act, ALPHA[act]));
  return r;
}

/** Places a layer in the arena, runs forward then backward with dW, db
 *  pre-filled (they accumulate) and dx pre-filled with NaN (it is overwritten). */
function run(k: Kernels, arena: Arena, shape: Shape, act: Activation, d: ReturnType<typeof layer>,
  o: { dw0: Float32Array; db0: Float32Array; skipDx?: boolean }) {
  const [B, IN, OUT] = shape;
  arena.reset();
  const x = arena.put(d.x), w = arena.put(d.w), b = arena.put(d.b), dy = arena.put(d.dy);
  const y = arena.alloc(B * OUT);
  const dx = arena.put(new Float32Array(B * IN + 4).fill(NaN));
  const dw = arena.put(o.dw0), db = arena.put(o.db0);
  const bytes = Math.max(k.gemmScratchBytes(B, IN), k.gemmScratchBytes(IN, B), k.gemmScratchBytes(B, OUT));
  const scratch = arena.scratch(bytes);
  const guard = arena.allocHere(4);
  k.fill(guard, 4, 12345);
  const alpha = ALPHA[act];
  k.denseForward({ y, x, w, b, batch: B, inDim: IN, outDim: OUT, activation: act, alpha, scratch });
  const yOut = arena.get(y, B * OUT);
  k.denseBackward({ dx: o.skipDx ? null : dx, dw, db, dy, x, w, y, batch: B, inDim: IN, outDim: OUT,
    activation: act, alpha, scratch });
  expect(Array.from(arena.get(guard, 4)), "guard after scratch").toEqual([12345, 12345, 12345, 12345]);
  expect(arena.get(dx + 4 * B * IN, 4).every(Number.isNaN), "nothing written past dx").toBe(true);
  expectSameBits(arena.bits(x, B * IN), bitsOf(d.x), "x unchanged");
  expectSameBits(arena.bits(w, IN * OUT), bitsOf(d.w), "w unchanged");
  expectSameBits(arena.bits(y, B * OUT), bitsOf(yOut), "y unchanged by backward");
  return {
    y: yOut, dx: arena.get(dx, B * IN), dw: arena.get(dw, IN * OUT), db: arena.get(db, OUT),
    g: arena.get(dy, B * OUT),
  };
}

/** Inputs and float64 chain-rule gradients for a VAE-sized layer (shared by both builds). */
const chainRules = new Map<string, ReturnType<typeof makeChainRule>>();
function makeChainRule(shape: Shape, act: Activation) {
  const [B, IN, OUT] = shape;
  const d = smoothLayer(shape, act, 7 * B + 3 * IN + OUT, 1e-5);
  const dw0 = randomArray(IN * OUT, 8), db0 = randomArray(OUT, 9);
  const { pre } = denseForwardRef(d.x, d.w, d.b, B, IN, OUT, act, ALPHA[act]);
  return { d, dw0, db0, want: denseBackwardRef(d.dy, d.x, d.w, pre, B, IN, OUT, act, ALPHA[act]) };
}
function chainRule(shape: Shape, act: Activation) {
  const key = `${shape} ${act}`;
  let r = chainRules.get(key);
  if (!r) chainRules.set(key, r = makeChainRule(shape, act));
  // run() overwrites nothing in d, dw0, db0 (they are copied into the arena).
  return r;
}

const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);

describe.each(BUILDS)("dense, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 8 << 20, (kk, aa) => { k = kk; arena = aa; });

  describe.each(ACTIVATIONS)("%s", (act) => {
    it.each([...SMALL, ...VAE])("forward %i×%i→%i matches the float64 reference", (B, IN, OUT) => {
      const shape: Shape = [B, IN, OUT];
      const seed = B * 7919 + IN * 31 + OUT;
      const d = layer(shape, seed);
      const x = arena.put(d.x), w = arena.put(d.w), b = arena.put(d.b), y = arena.alloc(B * OUT);
      const scratch = arena.scratch(k.gemmScratchBytes(B, IN));
      k.denseForward({ y, x, w, b, batch: B, inDim: IN, outDim: OUT, activation: act, alpha: ALPHA[act], scratch });
      expectClose(arena.get(y, B * OUT), forwardRef(shape, act, d, seed).y, TOL[build], `${act} ${shape}`);
    });

    it.each(SMALL)("backward %i×%i→%i matches central differences", (B, IN, OUT) => {
      const shape: Shape = [B, IN, OUT];
      const d = smoothLayer(shape, act, 101 * B + 13 * IN + OUT, 1e-3);
      const dw0 = randomArray(IN * OUT, 5), db0 = randomArray(OUT, 6);
      const r = run(k, arena, shape, act, d, { dw0, db0 });
      // L(x, W, b) = Σ dy ⊙ act(x·W + b) in float64; the kernel's gradients are ∂L.
      const L = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
        dot(denseForwardRef(x, w, b, B, IN, OUT, act, ALPHA[act]).y, d.dy);
      const fdX = centralDiff((x) => L(x, d.w, d.b), d.x);
      const fdW = centralDiff((w) => L(d.x, w, d.b), d.w);
      const fdB = centralDiff((b) => L(d.x, d.w, b), d.b);
      expectClose(r.dx, fdX, TOL[build], `dx ${act} ${shape}`);
      expectClose(r.dw, plus(dw0, fdW), TOL[build], `dw = dw0 + ∂L/∂W ${act} ${shape}`);
      expectClose(r.db, plus(db0, fdB), TOL[build], `db = db0 + ∂L/∂b ${act} ${shape}`);
      // dy is replaced by g = dy ⊙ f'(pre), f' here from the input, not from y.
      const { pre } = denseForwardRef(d.x, d.w, d.b, B, IN, OUT, act, ALPHA[act]);
      expectClose(r.g, Array.from(pre, (p, i) => d.dy[i] * actDerivRef(p, act, ALPHA[act])), TOL[build], `g ${act}`);
    });

    it.each(VAE)("backward %i×%i→%i matches the float64 chain rule", (B, IN, OUT) => {
      const shape: Shape = [B, IN, OUT];
      const { d, dw0, db0, want } = chainRule(shape, act);
      const r = run(k, arena, shape, act, d, { dw0, db0 });
      expectClose(r.dx, want.dx, TOL[build], `dx ${act} ${shape}`);
      expectClose(r.dw, plus(dw0, want.dw), TOL[build], `dw ${act} ${shape}`);
      expectClose(r.db, plus(db0, want.db), TOL[build], `db ${act} ${shape}`);
      expectClose(r.g, want.g, TOL[build], `g ${act} ${shape}`);
    });
  });

  it("skips dx when it is null and still accumulates dW and db", () => {
    for (const shape of [[3, 9, 17], [16, 20, 400]] as Shape[]) {
      const [B, IN, OUT] = shape;
      const d = layer(shape, 77);
      const dw0 = randomArray(IN * OUT, 10), db0 = randomArray(OUT, 11);
      const r = run(k, arena, shape, "tanh", d, { dw0, db0, skipDx: true });
      expect(r.dx.every(Number.isNaN), "dx left as it was").toBe(true);
      const { pre } = denseForwardRef(d.x, d.w, d.b, B, IN, OUT, "tanh");
      const want = denseBackwardRef(d.dy, d.x, d.w, pre, B, IN, OUT, "tanh");
      expectClose(r.dw, plus(dw0, want.dw), TOL[build], `dw ${shape}`);
      expectClose(r.db, plus(db0, want.db), TOL[build], `db ${shape}`);
    }
  });

  it("with accumulate: false writes dW and db (pre-filled NaN is overwritten), at tile edges and VAE sizes", () => {
    for (const shape of [[3, 9, 17], [7, 5, 13], [128, 20, 400]] as Shape[]) {
      const [B, IN, OUT] = shape;
      const d = layer(shape, 91);
      const x = arena.put(d.x), w = arena.put(d.w), b = arena.put(d.b), y = arena.alloc(B * OUT);
      const dy = arena.put(d.dy), dx = arena.alloc(B * IN);
      const dw = arena.put(new Float32Array(IN * OUT).fill(NaN)), db = arena.put(new Float32Array(OUT).fill(NaN));
      const scratch = arena.scratch(Math.max(k.gemmScratchBytes(B, IN), k.denseBackwardScratchBytes(B, IN, OUT)));
      k.denseForward({ y, x, w, b, batch: B, inDim: IN, outDim: OUT, activation: "tanh", scratch });
      k.denseBackward({ dx, dw, db, dy, x, w, y, batch: B, inDim: IN, outDim: OUT, activation: "tanh", accumulate: false, scratch });
      const { pre } = denseForwardRef(d.x, d.w, d.b, B, IN, OUT, "tanh");
      const want = denseBackwardRef(d.dy, d.x, d.w, pre, B, IN, OUT, "tanh");
      expectClose(arena.get(dw, IN * OUT), want.dw, TOL[build], `dw written ${shape}`);
      expectClose(arena.get(db, OUT), want.db, TOL[build], `db written ${shape}`);
      expectClose(arena.get(dx, B * IN), want.dx, TOL[build], `dx ${shape}`);
      arena.reset();
    }
  });

  it("accumulates over two backward calls (two micro-batches)", () => {
    const shape: Shape = [5, 16, 8];
    const [B, IN, OUT] = shape;
    const d1 = layer(shape, 201), d2 = layer(shape, 301);
    d2.w = d1.w; d2.b = d1.b;
    const x = arena.put(d1.x), w = arena.put(d1.w), b = arena.put(d1.b), y = arena.alloc(B * OUT);
    const dy = arena.alloc(B * OUT), dw = arena.put(new Float32Array(IN * OUT)), db = arena.put(new Float32Array(OUT));
    const scratch = arena.scratch(Math.max(k.gemmScratchBytes(B, IN), k.denseBackwardScratchBytes(B, IN, OUT)));
    const wantW = new Float64Array(IN * OUT), wantB = new Float64Array(OUT);
    for (const d of [d1, d2]) {
      k.f32(x, B * IN).set(d.x);
      k.f32(dy, B * OUT).set(d.dy);
      k.denseForward({ y, x, w, b, batch: B, inDim: IN, outDim: OUT, activation: "sigmoid", scratch });
      k.denseBackward({ dx: null, dw, db, dy, x, w, y, batch: B, inDim: IN, outDim: OUT, activation: "sigmoid", scratch });
      const { pre } = denseForwardRef(d.x, d.w, d.b, B, IN, OUT, "sigmoid");
      const r = denseBackwardRef(d.dy, d.x, d.w, pre, B, IN, OUT, "sigmoid");
      r.dw.forEach((v, i) => { wantW[i] += v; });
      r.db.forEach((v, i) => { wantB[i] += v; });
    }
    expectClose(arena.get(dw, IN * OUT), wantW, TOL[build], "dw after two batches");
    expectClose(arena.get(db, OUT), wantB, TOL[build], "db after two batches");
  });
});
