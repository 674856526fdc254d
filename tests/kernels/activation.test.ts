// activation_forward against the float64 reference (both builds, every size,
// large inputs for stability) and activation_backward against central
// differences of the float64 forward.
// Not here: activations inside the dense layer (dense.test.ts).
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, type Activation, type Kernels } from "../../src/kernels/wasm.js";
import { actDerivRef, actRef, randomArray } from "../reference.js";
import { Arena, BUILDS, SIZES, awayFromZero, centralDiff, expectClose, withKernels } from "./helpers.js";

/** α for the activations that take one; the rest ignore it. */
const ALPHA: Record<Activation, number> = {
  identity: 0, relu: 0, leaky_relu: 0.1, tanh: 0, sigmoid: 0, softplus: 0, elu: 1,
};
// Activations are the same code in both builds (only GEMM's madd differs),
// so both get the plain bound: f32 libm-style functions are within a few ulp.
const TOL = 1e-5;
// FD: h = 1e-5 in f64 gives ~1e-10 truncation and round-off; what is left is
// the kernel's f32 arithmetic, e.g. 1 − y² for tanh has absolute error ~1e-7.
const FD_TOL = 1e-5;

/** Large and awkward inputs: overflow of exp(±x) in f32 starts near 88. */
const SPECIAL = [30, -30, 50, -50, 88, -88, 100, -100, 1e-3, -1e-3, 0, 17.5, -17.5, 1e-30, -1e-30];

function inputsFor(n: number, seed: number): Float32Array {
  const x = randomArray(n, seed, -6, 6);
  // Every fifth element (from the first) is a special value.
  for (let i = 0; i < n; i += 5) x[i] = SPECIAL[(i / 5 + seed) % SPECIAL.length];
  return x;
}

describe.each(BUILDS)("activation_forward, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 20, (kk, aa) => { k = kk; arena = aa; });

  describe.each(ACTIVATIONS)("%s", (act) => {
    it.each(SIZES)("n = %i, out of place and in place", (n) => {
      for (const seed of [n, n + 1]) {
        const x = inputsFor(n, seed);
        const want = Array.from(x, (v) => actRef(v, act, ALPHA[act]));
        const xp = arena.put(x), yp = arena.alloc(n);
        k.activationForward(yp, xp, n, act, ALPHA[act]);
        expectClose(arena.get(yp, n), want, TOL, `${act}(x), n = ${n}`);
        expect(Array.from(arena.get(xp, n)), "input untouched").toEqual(Array.from(x));
        k.activationForward(xp, xp, n, act, ALPHA[act]);
        expectClose(arena.get(xp, n), want, TOL, `${act}(x) in place, n = ${n}`);
      }
    });

    it("is finite and accurate at every special input", () => {
      const x = Float32Array.from(SPECIAL);
      const xp = arena.put(x), yp = arena.alloc(x.length);
      k.activationForward(yp, xp, x.length, act, ALPHA[act]);
      const y = arena.get(yp, x.length);
      expect(y.every(Number.isFinite), `${act}: ${Array.from(y)}`).toBe(true);
      expectClose(y, Array.from(x, (v) => actRef(v, act, ALPHA[act])), TOL, `${act} specials`);
    });
  });

  it("writes nothing past y (n)", () => {
    for (const act of ACTIVATIONS) {
      for (const n of [1, 3, 5, 7, 9]) {
        const xp = arena.put(inputsFor(n, 3)), yp = arena.put(new Float32Array(n + 4).fill(-7));
        k.activationForward(yp, xp, n, act, ALPHA[act]);
        expect(Array.from(arena.get(yp + 4 * n, 4)), `${act} n = ${n}`).toEqual([-7, -7, -7, -7]);
      }
    }
  });
});

describe.each(BUILDS)("activation_backward vs central differences, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 20, (kk, aa) => { k = kk; arena = aa; });

  describe.each(ACTIVATIONS)("%s", (act) => {
    it.each(SIZES)("n = %i", (n) => {
      // Keep |x| ≥ 0.05: ReLU and leaky ReLU have a kink at 0 and ELU's second
      // derivative jumps there; inputs up to ±30 test the saturated tails.
      const x = awayFromZero(inputsFor(n, 2 * n + 11), 0.05);
      const dy = randomArray(n, 3 * n + 5, -2, 2);
      const xp = arena.put(x), yp = arena.alloc(n), dyp = arena.put(dy), dxp = arena.put(new Float32Array(n).fill(NaN));
      k.activationForward(yp, xp, n, act, ALPHA[act]);
      k.activationBackward(dxp, dyp, yp, n, act, ALPHA[act]);
      // ∂/∂x_i of L(x) = Σ dy ⊙ f(x), f in float64.
      const fd = centralDiff((xs) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += dy[i] * actRef(xs[i], act, ALPHA[act]);
        return s;
      }, x);
      // Scale |dy_i|: the error of dy·f'(y) is relative to dy, not to 1.
      const got = arena.get(dxp, n);
      for (let i = 0; i < n; i++) {
        const bound = FD_TOL * (Math.abs(fd[i]) + Math.abs(dy[i]));
        if (!(Math.abs(got[i] - fd[i]) <= bound)) {
          expect.fail(`${act} n=${n} [${i}] x=${x[i]}: dx=${got[i]} fd=${fd[i]} (bound ${bound})`);
        }
      }
      // In place (dx aliases dy), as the dense layer uses it.
      k.activationBackward(dyp, dyp, yp, n, act, ALPHA[act]);
      expect(Array.from(arena.get(dyp, n))).toEqual(Array.from(got));
    });
  });

  it("uses α: leaky ReLU and ELU gradients scale with it", () => {
    const x = Float32Array.from([-2, -0.5, 0.5, 2, -1, -3, 1.5]);
    const n = x.length;
    for (const act of ["leaky_relu", "elu"] as const) {
      for (const alpha of [0.01, 0.3, 2]) {
        const xp = arena.put(x), yp = arena.alloc(n), dyp = arena.put(new Float32Array(n).fill(1)), dxp = arena.alloc(n);
        k.activationForward(yp, xp, n, act, alpha);
        k.activationBackward(dxp, dyp, yp, n, act, alpha);
        const fd = centralDiff((xs) => { let s = 0; for (const v of xs) s += actRef(v, act, alpha); return s; }, x);
        expectClose(arena.get(dxp, n), fd, FD_TOL, `${act} α=${alpha}`);
      }
    }
  });
});

describe.each(BUILDS)("derivatives in the saturated tail, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 16, (kk, aa) => { k = kk; arena = aa; });

  // f' is computed from y; for sigmoid (y·(1−y)) and softplus (a series in y
  // for small y) that stays RELATIVELY accurate where f' is tiny. (tanh's
  // 1 − y² and ELU's y + α cancel there by construction: not claimed.)
  it.each(["sigmoid", "softplus"] as const)("%s: relative error ≤ 1e-4 for x down to −30", (act) => {
    const x = Float32Array.from([-0.3, -1, -3, -5, -8, -10, -13, -17, -20, -25, -30]);
    const n = x.length;
    const xp = arena.put(x), yp = arena.alloc(n), dyp = arena.put(new Float32Array(n).fill(1)), dxp = arena.alloc(n);
    k.activationForward(yp, xp, n, act, 0);
    k.activationBackward(dxp, dyp, yp, n, act, 0);
    const got = arena.get(dxp, n);
    for (let i = 0; i < n; i++) {
      const want = actDerivRef(x[i], act);
      expect(Math.abs(got[i] - want) / want, `${act} x=${x[i]}: ${got[i]} vs ${want}`).toBeLessThan(1e-4);
    }
    arena.reset();
  });
});
