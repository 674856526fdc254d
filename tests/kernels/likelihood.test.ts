// Reconstruction terms (assembly/likelihood.ts), both builds: Bernoulli on
// logits, Gaussian with fixed σ and Gaussian with learned log σ. Forward
// against the float64 reference (incl. logits ±50 for stability), backward
// against central differences of the float64 forward, and the fused
// Bernoulli forward+backward against the separate kernels.
// Not here: the KL term (kl.test.ts).
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import { bernoulliNllRef, gaussianLearnedNllRef, gaussianNllRef, randomArray } from "../reference.js";
import { Arena, BUILDS, SIZES, centralDiff, expectClose, expectSameBits, sum, withKernels } from "./helpers.js";

// Every kernel here is the same code in both builds (only GEMM differs), so
// one bound for both: per-element f32 terms summed in f64.
const TOL = 1e-5;
// Gradients: f32 kernel vs f64 FD (h = 1e-5, error ~1e-10·|loss|), relative
// to |∂| + |w| since the kernel's error scales with the weight w.
const FD_TOL = 1e-5;
const B = 3;
// around the Bernoulli row's eight-vector (32-element) main loop: 0, 1 and 2 trips and the tails after them
const BERNOULLI_SIZES = [...SIZES, 31, 32, 35, 36, 63, 64, 65, 100] as const;
const W = 0.37; // a weight like 1/B, not 1, so a missing or doubled w shows

/** Logits in [−8, 8] with ±50, ±30 and 0 mixed in (overflow of e^|l| in a
 *  naive form); targets in [0, 1] with exact 0s and 1s (binarised pixels). */
function bernoulliData(n: number, seed: number) {
  const l = randomArray(n, seed, -8, 8);
  const x = randomArray(n, seed + 1, 0, 1);
  const special = [50, -50, 30, -30, 0];
  for (let i = 0; i < n; i += 4) l[i] = special[(i / 4 + seed) % special.length];
  for (let i = 1; i < n; i += 3) x[i] = (i + seed) % 2;
  return { l, x };
}

function gaussianData(n: number, seed: number) {
  return { mu: randomArray(n, seed, -2, 2), x: randomArray(n, seed + 1, -2, 2) };
}

/** out (B, 2D) rows [μ | s = log σ], s in [−2, 2]. */
function learnedData(rows: number, D: number, seed: number) {
  const mu = randomArray(rows * D, seed, -2, 2), s = randomArray(rows * D, seed + 1, -2, 2);
  const out = new Float32Array(rows * 2 * D);
  for (let b = 0; b < rows; b++) {
    out.set(mu.subarray(b * D, (b + 1) * D), b * 2 * D);
    out.set(s.subarray(b * D, (b + 1) * D), b * 2 * D + D);
  }
  return { out, x: randomArray(rows * D, seed + 2, -2, 2) };
}

// FD gradients depend only on the inputs: compute once, share across builds.
const fdCache = new Map<string, Float64Array>();
function cachedFd(key: string, make: () => Float64Array): Float64Array {
  let g = fdCache.get(key);
  if (!g) fdCache.set(key, g = make());
  return g;
}

function expectGrad(got: Float32Array, fd: Float64Array, what: string): void {
  expectClose(got, fd, FD_TOL, what, Math.abs(W));
}

describe.each(BUILDS)("likelihoods, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 20, (kk, aa) => { k = kk; arena = aa; });

  describe("Bernoulli on logits", () => {
    it.each(BERNOULLI_SIZES)("forward, D = %i", (D) => {
      const { l, x } = bernoulliData(B * D, D);
      const nll = arena.alloc(B);
      k.bernoulliForward(nll, arena.put(l), arena.put(x), B, D);
      const got = arena.get(nll, B);
      expect(got.every(Number.isFinite)).toBe(true);
      expectClose(got, bernoulliNllRef(l, x, B, D), TOL, `Bernoulli nll D = ${D}`);
    });

    it("forward at l = ±50 is stable and exact where the answer is known", () => {
      // nll(l, x) = softplus(l) − l·x: l = 50, x = 1 → softplus(−50) ≈ 1.93e-22;
      // l = −50, x = 0 → the same; l = 50, x = 0 → 50 (+1.93e-22); l = −50, x = 1 → 50.
      const l = Float32Array.from([50, -50, 50, -50]), x = Float32Array.from([1, 0, 0, 1]);
      const nll = arena.alloc(4);
      k.bernoulliForward(nll, arena.put(l), arena.put(x), 4, 1);
      expectClose(arena.get(nll, 4), [Math.exp(-50), Math.exp(-50), 50, 50], 1e-6, "saturated", 0);
    });

    it.each(SIZES)("backward, D = %i, vs central differences", (D) => {
      const rows = D > 100 ? 2 : B;
      const { l, x } = bernoulliData(rows * D, D + 1000);
      const dl = arena.put(new Float32Array(rows * D).fill(NaN));
      k.bernoulliBackward(dl, arena.put(l), arena.put(x), rows, D, W);
      // ∂/∂l of w·Σ_b nll_b(l), x fixed.
      const fd = cachedFd(`bern ${D}`, () => centralDiff((ls) => W * sum(bernoulliNllRef(ls, x, rows, D)), l));
      expectGrad(arena.get(dl, rows * D), fd, `Bernoulli dlogits D = ${D}`);
    });

    it("is accurate per element over a logit grid (the SIMD exp / log1p path)", () => {
      // Rows of 4 equal logits go through the 4-wide path as one term × 4, so
      // a row's error is that term's. A correct f32 evaluation is within a
      // few ulp (~1e-7); 1e-6 catches an exp or log1p that is merely close.
      const logits: number[] = [];
      for (let l = -60; l <= 60; l += 0.37) logits.push(l);
      logits.push(0, 1e-6, -1e-6, Math.LN2, -Math.LN2, 86, -86, 87.5, -87.5, 88.5, -88.5, 100, -100);
      const targets = [0, 0.3, 1];
      const rows = logits.length * targets.length, D = 4;
      const l = new Float32Array(rows * D), x = new Float32Array(rows * D);
      logits.forEach((lv, i) => targets.forEach((t, j) => {
        l.fill(lv, (i * targets.length + j) * D, (i * targets.length + j + 1) * D);
        x.fill(t, (i * targets.length + j) * D, (i * targets.length + j + 1) * D);
      }));
      const lp = arena.put(l), xp = arena.put(x), nll = arena.alloc(rows), dl = arena.alloc(rows * D);
      k.bernoulliForward(nll, lp, xp, rows, D);
      expectClose(arena.get(nll, rows), bernoulliNllRef(l, x, rows, D), 1e-6, "nll per row of 4 equal terms");
      k.bernoulliBackward(dl, lp, xp, rows, D, W);
      // ∂nll/∂l = σ(l) − x (the FD tests above check this form), σ in float64.
      const sigma = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
      expectClose(arena.get(dl, rows * D), Array.from(l, (v, i) => W * (sigma(v) - x[i])), 1e-6, "dlogits", W);
    });

    it.each([32, 36, 64, 100])("the eight-vector main loop, D = %i: each element as the one-vector loop gives it, and the row sums", (D) => {
      // Each element's f32 term t from rows of 4 equal logits and targets (the
      // one-vector loop: nll = f32((t + t) + (t + t)) = 4t exactly, so t = nll / 4).
      const { l, x } = bernoulliData(B * D, D + 4000);
      const n = B * D, l4 = new Float32Array(4 * n), x4 = new Float32Array(4 * n);
      for (let i = 0; i < n; i++) { l4.fill(l[i], 4 * i, 4 * i + 4); x4.fill(x[i], 4 * i, 4 * i + 4); }
      const nll4 = arena.alloc(n), dl4 = arena.alloc(4 * n);
      k.bernoulliForwardBackward(nll4, dl4, arena.put(l4), arena.put(x4), n, 4, W);
      const term = arena.get(nll4, n).map((v) => v / 4), g4 = arena.get(dl4, 4 * n);
      const nll = arena.alloc(B), dl = arena.alloc(n);
      k.bernoulliForwardBackward(nll, dl, arena.put(l), arena.put(x), B, D, W);
      // dl is elementwise: the same bits whichever loop computed it
      expectSameBits(arena.bits(dl, n), new Uint32Array(Float32Array.from({ length: n }, (_, i) => g4[4 * i]).buffer), "dlogits");
      // nll: those terms summed in float64 (a dropped, repeated or misplaced vector shows; the order of
      // float64 adds of f32 terms almost never shows after the rounding to f32, so it is not what this checks)
      const want = Float32Array.from({ length: B }, (_, b) => sum(term.subarray(b * D, (b + 1) * D)));
      expectClose(arena.get(nll, B), want, 1e-7, "nll = Σ of the one-vector terms");
      expectClose(arena.get(nll, B), bernoulliNllRef(l, x, B, D), TOL, "nll vs float64");
    });

    it.each(BERNOULLI_SIZES)("forward_backward equals forward and backward, D = %i", (D) => {
      const { l, x } = bernoulliData(B * D, D + 2000);
      const lp = arena.put(l), xp = arena.put(x);
      const nll1 = arena.alloc(B), dl1 = arena.alloc(B * D), nll2 = arena.alloc(B), dl2 = arena.alloc(B * D);
      k.bernoulliForward(nll1, lp, xp, B, D);
      k.bernoulliBackward(dl1, lp, xp, B, D, W);
      k.bernoulliForwardBackward(nll2, dl2, lp, xp, B, D, W);
      // Same f32 operations in the same order, so the same bits.
      expectSameBits(arena.bits(nll2, B), arena.bits(nll1, B), "nll");
      expectSameBits(arena.bits(dl2, B * D), arena.bits(dl1, B * D), "dlogits");
      // And both right on their own.
      expectClose(arena.get(nll2, B), bernoulliNllRef(l, x, B, D), TOL, "fused nll");
      expect(arena.get(dl2, B * D).every(Number.isFinite)).toBe(true);
    });
  });

  describe("Gaussian, fixed σ", () => {
    for (const sigma of [0.1, 1, 2.5]) {
      it.each(SIZES)(`σ = ${sigma}: forward, D = %i`, (D) => {
        const { mu, x } = gaussianData(B * D, D + 3000);
        const nll = arena.alloc(B);
        k.gaussianForward(nll, arena.put(mu), arena.put(x), B, D, sigma);
        expectClose(arena.get(nll, B), gaussianNllRef(mu, x, B, D, sigma), TOL, `Gaussian σ=${sigma} D=${D}`);
      });

      it.each(SIZES)(`σ = ${sigma}: backward, D = %i, vs central differences`, (D) => {
        const rows = D > 100 ? 2 : B;
        const { mu, x } = gaussianData(rows * D, D + 4000);
        const dmu = arena.put(new Float32Array(rows * D).fill(NaN));
        k.gaussianBackward(dmu, arena.put(mu), arena.put(x), rows, D, sigma, W);
        const fd = cachedFd(`gauss ${sigma} ${D}`, () => centralDiff((m) => W * sum(gaussianNllRef(m, x, rows, D, sigma)), mu));
        expectGrad(arena.get(dmu, rows * D), fd, `Gaussian σ=${sigma} dmean D=${D}`);
      });
    }
  });

  describe("Gaussian, learned log σ", () => {
    it.each(SIZES)("forward, D = %i", (D) => {
      const { out, x } = learnedData(B, D, D + 5000);
      const nll = arena.alloc(B);
      k.gaussianLearnedForward(nll, arena.put(out), arena.put(x), B, D);
      expectClose(arena.get(nll, B), gaussianLearnedNllRef(out, x, B, D), TOL, `learned D=${D}`);
    });

    it.each(SIZES)("backward, D = %i, vs central differences", (D) => {
      const rows = D > 100 ? 2 : B;
      const { out, x } = learnedData(rows, D, D + 6000);
      const dout = arena.put(new Float32Array(rows * 2 * D).fill(NaN));
      k.gaussianLearnedBackward(dout, arena.put(out), arena.put(x), rows, D, W);
      // ∂/∂[μ | s] of w·Σ_b nll_b, both halves of every row.
      const fd = cachedFd(`learned ${D}`, () => centralDiff((o) => W * sum(gaussianLearnedNllRef(o, x, rows, D)), out));
      expectGrad(arena.get(dout, rows * 2 * D), fd, `learned dout D=${D}`);
    });
  });
});
