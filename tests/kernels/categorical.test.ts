// The categorical latent's kernels (assembly/categorical.ts), both builds:
// Gumbel noise, the Gumbel-softmax sampler (relaxed and hard) and the KL to
// the uniform prior against float64 references (tests/reference.ts); the
// sampler's backward and the KL's gradient against central differences of
// those references; log q of one-hot codes; and the hard sampler as an exact
// draw from q (Gumbel-max: class frequencies match softmax(l)).
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import { categoricalKlRef, categoricalLogqRef, concreteLogDensityRef, gumbelRef, gumbelSoftmaxRef, randomArray, rngSeedRef, rngUniformRef } from "../reference.js";
import { Arena, BUILDS, centralDiff, dot, expectClose, sum, withKernels } from "./helpers.js";

// f64 math, one f32 rounding at the end (same code in both builds)
const TOL = 2e-6;
const FD_TOL = 2e-5;
// (variables, classes): edge sizes, and Jang et al.'s 20 × 10
const SHAPES: [number, number][] = [[1, 2], [1, 3], [2, 5], [3, 4], [4, 9], [20, 10]];

/** Logits in [−3, 3] and Gumbel noise of u ∈ (0, 1). */
function inputs(B: number, S: number, N: number, K: number, seed: number) {
  const h = randomArray(B * N * K, seed, -3, 3);
  const u = randomArray(B * S * N * K, seed + 1, 0, 1);
  const g = Float32Array.from(u, gumbelRef);
  return { h, g };
}

describe.each(BUILDS)("categorical kernels, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 22, (kk, aa) => { k = kk; arena = aa; });

  it("gumbel_from_uniform: −log(−log(u + 2⁻²⁵)) of the rng_uniform stream, finite at u = 0 and at the largest u", () => {
    const n = 1001, state = arena.alloc(4), g = arena.alloc(n);
    k.u32(state, 4).set(rngSeedRef(77n));
    k.raw.rng_uniform(state, g, n);
    k.gumbelFromUniform(g, n);
    const u = rngUniformRef(rngSeedRef(77n), n);
    expectClose(arena.get(g, n), Array.from(u, gumbelRef), TOL, "gumbel noise");
    const edge = arena.put([0, 1 - 2 ** -24]);
    k.gumbelFromUniform(edge, 2);
    const e = arena.get(edge, 2);
    expect(Number.isFinite(e[0]) && Number.isFinite(e[1])).toBe(true);
    expectClose(e, [gumbelRef(0), gumbelRef(1 - 2 ** -24)], TOL, "edges");
  });

  it.each(SHAPES)("sample forward (relaxed and hard), N = %i, K = %i, S = 1 and 3, τ = 1, 0.5, 2.3", (N, K) => {
    for (const S of [1, 3]) for (const tau of [1, 0.5, 2.3]) for (const hard of [false, true]) {
      arena.reset();
      const B = 3, { h, g } = inputs(B, S, N, K, N * 31 + K);
      const z = arena.alloc(B * S * N * K);
      k.categoricalSampleForward({ z, h: arena.put(h), eps: arena.put(g), batch: B, samples: S, variables: N, classes: K, tau, hard });
      const want = gumbelSoftmaxRef(h, g, B, S, N, K, tau, hard);
      expectClose(arena.get(z, want.length), want, TOL, `z, S = ${S}, τ = ${tau}, hard ${hard}`);
    }
  });

  it("relaxed samples stay finite and sum to 1 at a small temperature (τ = 0.01, logits ±30)", () => {
    const B = 2, N = 3, K = 5, { g } = inputs(B, 1, N, K, 5);
    const h = randomArray(B * N * K, 6, -30, 30);
    const z = arena.alloc(B * N * K);
    k.categoricalSampleForward({ z, h: arena.put(h), eps: arena.put(g), batch: B, samples: 1, variables: N, classes: K, tau: 0.01, hard: false });
    const got = arena.get(z, B * N * K);
    expectClose(got, gumbelSoftmaxRef(h, g, B, 1, N, K, 0.01), TOL, "z");
    for (let v = 0; v < B * N; v++) expect(Math.abs(sum(got.subarray(v * K, (v + 1) * K)) - 1)).toBeLessThan(1e-6);
  });

  it.each(SHAPES)("sample backward vs central differences of the float64 sampler (accumulates dh), N = %i, K = %i", (N, K) => {
    for (const S of [1, 2]) {
      arena.reset();
      const B = 2, tau = 0.7, { h, g } = inputs(B, S, N, K, N * 7 + K + 100);
      const dzv = randomArray(B * S * N * K, N + K, -1, 1), dh0 = randomArray(B * N * K, 3, -1, 1);
      const dh = arena.put(dh0);
      k.categoricalSampleBackward({ dh, dz: arena.put(dzv), h: arena.put(h), eps: arena.put(g), batch: B, samples: S, variables: N, classes: K, tau });
      // ∂/∂h Σ dz·z(h)
      const fd = centralDiff((hs) => dot(gumbelSoftmaxRef(hs, g, B, S, N, K, tau), dzv), h);
      const got = arena.get(dh, B * N * K).map((v, i) => v - dh0[i]);
      expectClose(got, fd, FD_TOL, `dh, S = ${S}`);
    }
  });

  it.each(SHAPES)("KL forward vs float64, N = %i, K = %i; 0 at uniform logits, N·log K at a one-hot limit", (N, K) => {
    const B = 3, h = randomArray(B * N * K, N * 13 + K, -4, 4);
    const kl = arena.alloc(B);
    k.categoricalKlForward(kl, arena.put(h), B, N, K);
    expectClose(arena.get(kl, B), categoricalKlRef(h, B, N, K), TOL, "KL");
    const flat = arena.put(new Float32Array(N * K).fill(0.3)), k0 = arena.alloc(1);
    k.categoricalKlForward(k0, flat, 1, N, K);
    expect(Math.abs(arena.get(k0, 1)[0])).toBeLessThan(1e-6);
    const peaked = new Float32Array(N * K);
    for (let n = 0; n < N; n++) peaked[n * K] = 60; // q → one-hot: KL → N·log K
    const k1 = arena.alloc(1);
    k.categoricalKlForward(k1, arena.put(peaked), 1, N, K);
    expectClose(arena.get(k1, 1), [N * Math.log(K)], 1e-6, "one-hot limit");
  });

  it.each(SHAPES)("KL backward vs central differences (writes dh), N = %i, K = %i", (N, K) => {
    const B = 2, w = 0.37, h = randomArray(B * N * K, N * 17 + K, -4, 4);
    const dh = arena.put(new Float32Array(B * N * K).fill(NaN));
    k.categoricalKlBackward(dh, arena.put(h), B, N, K, w);
    const fd = centralDiff((hs) => w * sum(categoricalKlRef(hs, B, N, K)), h);
    expectClose(arena.get(dh, B * N * K), fd, FD_TOL, "dKL", w);
  });

  it.each(SHAPES)("log q of one-hot codes vs float64, N = %i, K = %i", (N, K) => {
    const B = 3, S = 2, { h, g } = inputs(B, S, N, K, N * 19 + K);
    const z = gumbelSoftmaxRef(h, g, B, S, N, K, 1, true);
    const lq = arena.alloc(B * S);
    k.categoricalLogqForward(lq, arena.put(h), arena.put(z), B, S, N, K);
    expectClose(arena.get(lq, B * S), categoricalLogqRef(h, z, B, S, N, K), TOL, "log q");
  });

  it.each(SHAPES)("concrete log density (posterior and uniform prior) vs the float64 definition, N = %i, K = %i, τ = 1, 0.5, 2.3", (N, K) => {
    for (const tau of [1, 0.5, 2.3]) for (const uniform of [false, true]) {
      arena.reset();
      const B = 3, S = 2, { h, g } = inputs(B, S, N, K, N * 23 + K);
      const out = arena.alloc(B * S);
      k.concreteLogDensityForward({ out, h: arena.put(h), eps: arena.put(g), batch: B, samples: S, variables: N, classes: K, tau, uniform });
      // values reach ±100 and cross 0: errors relative to max(|want|, 1)
      expectClose(arena.get(out, B * S), concreteLogDensityRef(h, g, B, S, N, K, tau, uniform), TOL, `log density, τ = ${tau}, uniform ${uniform}`, 1);
    }
  });

  it.each(SHAPES)("concrete log density backward: dh += w·Σ_s c·∂/∂l (g fixed) vs central differences, N = %i, K = %i", (N, K) => {
    for (const [tau, uniform, w] of [[1, false, 1], [0.6, false, 1], [1, true, -1], [0.6, true, -1], [2.3, true, 0.5]] as [number, boolean, number][]) {
      arena.reset();
      const B = 2, S = 3, { h, g } = inputs(B, S, N, K, N * 29 + K);
      const c = randomArray(B * S, N + K, 0.1, 1);
      const before = randomArray(B * N * K, 3, -1, 1); // the kernel adds to what dh holds
      const dh = arena.put(before);
      k.concreteLogDensityBackward({ dh, h: arena.put(h), eps: arena.put(g), c: arena.put(c), batch: B, samples: S, variables: N, classes: K, tau, uniform, w });
      const fd = centralDiff((hs) => {
        const d = concreteLogDensityRef(hs, g, B, S, N, K, tau, uniform);
        return w * d.reduce((a, v, r) => a + c[r] * v, 0);
      }, h);
      const want = fd.map((v, i) => v + before[i]);
      expectClose(arena.get(dh, B * N * K), want, FD_TOL, `d log density, τ = ${tau}, uniform ${uniform}`, 1);
    }
  });

  it("hard samples from the kernel noise are exact draws from q (Gumbel-max): class frequencies match softmax(l)", () => {
    const K = 4, R = 40000, l = [1.2, -0.4, 0.3, -2];
    const h = new Float32Array(R * K);
    for (let r = 0; r < R; r++) h.set(l, r * K);
    const state = arena.alloc(4), eps = arena.alloc(R * K), z = arena.alloc(R * K);
    k.u32(state, 4).set(rngSeedRef(5n));
    k.raw.rng_uniform(state, eps, R * K);
    k.gumbelFromUniform(eps, R * K);
    k.categoricalSampleForward({ z, h: arena.put(h), eps, batch: R, samples: 1, variables: 1, classes: K, tau: 1, hard: true });
    const zs = arena.get(z, R * K), count = new Float64Array(K);
    for (let r = 0; r < R; r++) for (let c = 0; c < K; c++) count[c] += zs[r * K + c];
    const Z = sum(l.map(Math.exp));
    for (let c = 0; c < K; c++) {
      const p = Math.exp(l[c]) / Z, se = Math.sqrt(p * (1 - p) / R);
      expect(Math.abs(count[c] / R - p), `class ${c}: ${count[c] / R} vs ${p} ± ${se}`).toBeLessThan(4 * se);
    }
  });
});
