// adam_step (assembly/adam.ts) through Kernels.adamStep, both builds, against
// Kingma & Ba 2014 Algorithm 1 (tests/reference.ts adamRefState) over several
// steps with changing gradients, with and without decoupled weight decay, at
// sizes around the SIMD width. The reference itself is first checked against
// closed forms that follow from Algorithm 1 by hand.
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import { adamRef, adamRefState, randomArray } from "../reference.js";
import { Arena, BUILDS, EDGE_SIZES, expectClose, withKernels } from "./helpers.js";

interface Hyper { lr: number; beta1: number; beta2: number; eps: number; wd: number }
const CONFIGS: Record<string, Hyper> = {
  adam: { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0 },
  adamw: { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.05 },
  aggressive: { lr: 0.1, beta1: 0.5, beta2: 0.9, eps: 1e-3, wd: 0.1 },
};
const STEPS = 5;

/** Gradients that change every step, with exact zeros (the ε path) and a
 *  wide range of magnitudes. */
function gradients(n: number, seed: number): Float32Array[] {
  return Array.from({ length: STEPS }, (_, t) => {
    const g = randomArray(n, seed + 17 * t, -1, 1);
    for (let i = 0; i < n; i++) {
      if ((i + t) % 7 === 3) g[i] = 0;
      else if ((i + t) % 5 === 1) g[i] *= 1e-3;
    }
    return g;
  });
}

describe("adamRef is Kingma & Ba's Algorithm 1", () => {
  it("first step moves every θ by lr·g/(|g| + ε) (m̂₁ = g, v̂₁ = g²), after decay", () => {
    const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.1 };
    const th = Float64Array.from([1, -2, 0.5, 3]), g = Float64Array.from([0.3, -4, 0, 1e-6]);
    const got = adamRef(th, [g], o);
    th.forEach((t, i) => {
      const want = t * (1 - o.lr * o.wd) - o.lr * g[i] / (Math.abs(g[i]) + o.eps);
      expect(got[i]).toBeCloseTo(want, 14);
    });
  });

  it("a constant gradient gives the same step every time (bias correction exact)", () => {
    const o = { lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-6, wd: 0 };
    const g = Float64Array.from([0.7, -0.02]);
    const got = adamRef(Float64Array.from([0, 0]), Array(6).fill(g), o);
    g.forEach((gi, i) => expect(got[i]).toBeCloseTo(-6 * o.lr * gi / (Math.abs(gi) + o.eps), 14));
  });

  it("two steps match the algorithm expanded by hand", () => {
    const o = { lr: 0.1, beta1: 0.5, beta2: 0.75, eps: 0, wd: 0 };
    // g₁ = 1, g₂ = 3: m₂ = 0.5·0.5 + 0.5·3 = 1.75, v₂ = 0.75·0.25 + 0.25·9 = 2.4375,
    // m̂₂ = 1.75/0.75, v̂₂ = 2.4375/0.4375; θ₂ = θ₁ − 0.1·m̂₂/√v̂₂ with θ₁ = −0.1.
    const r = adamRefState([0], [[1], [3]], o);
    expect(r.m[0]).toBeCloseTo(1.75, 14);
    expect(r.v[0]).toBeCloseTo(2.4375, 14);
    expect(r.theta[0]).toBeCloseTo(-0.1 - 0.1 * (1.75 / 0.75) / Math.sqrt(2.4375 / 0.4375), 14);
  });
});

describe.each(BUILDS)("adam_step, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 20, (kk, aa) => { k = kk; arena = aa; });

  describe.each(Object.keys(CONFIGS))("%s", (name) => {
    const o = CONFIGS[name];
    it.each([...EDGE_SIZES, 100, 1001])(`${STEPS} steps, n = %i`, (n) => {
      const theta0 = randomArray(n, n + 1, -1, 1);
      const grads = gradients(n, 3 * n);
      const p = arena.put(theta0), g = arena.alloc(n);
      const m = arena.put(new Float32Array(n)), v = arena.put(new Float32Array(n));
      const guard = arena.allocHere(4);
      k.fill(guard, 4, -9);
      for (let t = 1; t <= STEPS; t++) {
        k.f32(g, n).set(grads[t - 1]);
        k.adamStep({ p, g, m, v, n, t, lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.wd });
      }
      const want = adamRefState(theta0, grads, o);
      const got = arena.get(p, n);
      // θ to a few f32 ulps, and the change in θ to 1e-3 of itself (+ lr):
      // the change is what Adam computes, θ's own rounding is 6e-8 a step.
      expectClose(got, want.theta, 1e-6, `θ ${name} n=${n}`);
      expectClose(got.map((x, i) => x - theta0[i]), want.theta.map((x, i) => x - theta0[i]), 1e-3,
        `Δθ ${name} n=${n}`, o.lr);
      // Moments: scale 1e-2 absorbs f32 rounding where m is near zero.
      expectClose(arena.get(m, n), want.m, 1e-5, `m ${name} n=${n}`, 1e-2);
      expectClose(arena.get(v, n), want.v, 1e-5, `v ${name} n=${n}`, 1e-2);
      expect(Array.from(arena.get(guard, 4)), "nothing written past v").toEqual([-9, -9, -9, -9]);
    });
  });

  it("a parameter whose update is not finite keeps its value and the call returns 1, wherever it sits", () => {
    // n = 37: the 16-element main loop twice, one 4-wide vector, a scalar tail of 1
    const n = 37, o = CONFIGS.adam;
    for (const i of [0, 3, 15, 16, 17, 31, 32, 35, 36]) {
      const theta0 = randomArray(n, i + 50, -1, 1), g0 = randomArray(n, i + 60, -1, 1);
      const g = g0.slice();
      g[i] = i % 2 ? Infinity : NaN;
      const p = arena.put(theta0), pg = arena.put(g), m = arena.put(new Float32Array(n)), v = arena.put(new Float32Array(n));
      expect(k.adamStep({ p, g: pg, m, v, n, t: 1, lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.wd }), `g[${i}] non-finite`).toBe(1);
      const got = arena.get(p, n), want = adamRefState(theta0, [g0], o).theta;
      expect(got[i], `θ[${i}] kept`).toBe(theta0[i]);
      expectClose(got.filter((_, j) => j !== i), want.filter((_, j) => j !== i), 1e-6, `the others updated (g[${i}] non-finite)`);
    }
    const p = arena.put(randomArray(n, 1)), pg = arena.put(randomArray(n, 2)), m = arena.put(new Float32Array(n)), v = arena.put(new Float32Array(n));
    expect(k.adamStep({ p, g: pg, m, v, n, t: 1, lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.wd }), "all finite").toBe(0);
  });

  it("n = 0 is a no-op", () => {
    const p = arena.put([1, 2, 3]);
    k.adamStep({ p, g: p, m: p, v: p, n: 0, t: 1, lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    expect(Array.from(arena.get(p, 3))).toEqual([1, 2, 3]);
  });
});
