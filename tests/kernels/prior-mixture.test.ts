// The learned priors' kernels (assembly/prior-mixture.ts, prior-vamp.ts),
// both builds: log p(z) of a mixture of diagonal Gaussians and its
// responsibilities against the float64 reference (tests/reference.ts), with
// learned weights (softmax of logits) and with equal weights read at a row
// stride (the VampPrior's head rows [μ | log σ²]); the backward against
// central differences of that float64 log p, for z and every parameter; the
// pseudo-inputs' clamp and its gradient.
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import { mixtureLogpRef, randomArray } from "../reference.js";
import { Arena, BUILDS, centralDiff, expectClose, withKernels } from "./helpers.js";

const TOL = 2e-5;     // f32 terms and exp4 (≈1 ulp), f64 sums; relative to |log p| + 1
const FD_TOL = 2e-4;  // f32 backward vs f64 central differences, relative to |g| + 0.05

interface Case { n: number; K: number; L: number; ld: number; logits: boolean }
const CASES: Case[] = [
  { n: 1, K: 1, L: 1, ld: 1, logits: true },
  { n: 3, K: 2, L: 3, ld: 3, logits: true },
  { n: 5, K: 7, L: 4, ld: 4, logits: true },
  { n: 4, K: 3, L: 5, ld: 5, logits: false },
  { n: 6, K: 5, L: 9, ld: 9, logits: true },
  { n: 2, K: 4, L: 8, ld: 16, logits: false },   // VampPrior layout: rows [μ (L) | lv (L)]
  { n: 3, K: 3, L: 7, ld: 14, logits: false },
  { n: 9, K: 17, L: 20, ld: 20, logits: true },
];
const name = (c: Case) => `n ${c.n}, K ${c.K}, L ${c.L}, ld ${c.ld}, ${c.logits ? "logits" : "equal weights"}`;

/** z in [−2, 2]; μ in [−1.5, 1.5]; lv in [−1, 1]; components at stride ld
 *  (lv right after μ when ld = 2L, else its own block); logits in [−1, 1];
 *  c in [0.1, 1] (the per-row coefficients). */
function data(c: Case, seed: number) {
  const { n, K, L, ld } = c;
  const z = randomArray(n * L, seed, -2, 2);
  const comp = new Float32Array(K * ld * 2);
  const mu = randomArray(K * L, seed + 1, -1.5, 1.5), lv = randomArray(K * L, seed + 2, -1, 1);
  const lvAt = ld === 2 * L ? L : K * ld; // offset of lv_0 in comp
  for (let k = 0; k < K; k++) for (let j = 0; j < L; j++) {
    comp[k * ld + j] = mu[k * L + j];
    comp[lvAt + k * ld + j] = lv[k * L + j];
  }
  return { z, comp, lvAt, logits: c.logits ? randomArray(K, seed + 3, -1, 1) : null, coef: randomArray(n, seed + 4, 0.1, 1) };
}

describe.each(BUILDS)("prior_mixture_logp, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 20, (kk, aa) => { k = kk; arena = aa; });

  function run(c: Case, d: ReturnType<typeof data>) {
    const { n, K, L, ld } = c;
    const z = arena.put(d.z), comp = arena.put(d.comp), logits = d.logits ? arena.put(d.logits) : 0;
    const logp = arena.alloc(n), resp = arena.alloc(n * K), prep = arena.alloc(K * (L + 1));
    k.mixtureLogpForward({ logp, resp, prep, z, means: comp, logvars: comp + 4 * d.lvAt, ld, logits, n, K, L });
    return { z, comp, logits, logp, resp, prep };
  }

  it.each(CASES)("forward: log p and responsibilities vs float64, %o", (c) => {
    const d = data(c, c.K * 31 + c.L);
    const p = run(c, d);
    const ref = mixtureLogpRef(d.z, d.comp, d.comp.subarray(d.lvAt), c.ld, d.logits, c.n, c.K, c.L);
    expectClose(arena.get(p.logp, c.n), ref.logp, TOL, `log p, ${name(c)}`);
    expectClose(arena.get(p.resp, c.n * c.K), ref.resp, 1e-5, `responsibilities, ${name(c)}`, 1);
  });

  it("one component at the origin with lv = 0 is N(0, I); far rows stay finite", () => {
    const L = 3, z = Float32Array.from([0, 0, 0, 1, -2, 0.5, 40, -30, 25]);
    const comp = new Float32Array(2 * L);
    const zp = arena.put(z), cp = arena.put(comp), logp = arena.alloc(3), resp = arena.alloc(3), prep = arena.alloc(L + 1);
    k.mixtureLogpForward({ logp, resp, prep, z: zp, means: cp, logvars: cp + 4 * L, ld: L, logits: 0, n: 3, K: 1, L });
    const want = [0, 1 + 4 + 0.25, 1600 + 900 + 625].map((s) => -0.5 * s - 1.5 * Math.log(2 * Math.PI));
    expectClose(arena.get(logp, 3), want, 1e-6, "N(0, I) log p");
    expect(Array.from(arena.get(resp, 3))).toEqual([1, 1, 1]);
  });

  it.each(CASES)("backward vs central differences of the float64 log p (z, means, logvars, logits), %o", (c) => {
    const { n, K, L, ld } = c;
    const d = data(c, c.K * 17 + c.L * 3 + 1);
    const p = run(c, d);
    // loss = Σ_r −c_r·log p(z_r); dz accumulates onto a non-zero start, the
    // parameter gradients are written over garbage
    const dz0 = randomArray(n * L, 99, -1, 1);
    const dz = arena.put(dz0), dcomp = arena.put(new Float32Array(d.comp.length).fill(7));
    const dlogits = d.logits ? arena.put(new Float32Array(K).fill(7)) : 0;
    k.mixtureLogpBackward({ dz, dmeans: dcomp, dlogvars: dcomp + 4 * d.lvAt, dlogits, z: p.z, means: p.comp, prep: p.prep,
      ld, logits: p.logits, resp: p.resp, c: arena.put(d.coef), n, K, L });
    const loss = (z: ArrayLike<number>, comp: ArrayLike<number>, logits: ArrayLike<number> | null) => {
      const lp = mixtureLogpRef(z, comp, Array.prototype.slice.call(comp, d.lvAt), ld, logits, n, K, L).logp;
      let s = 0;
      for (let r = 0; r < n; r++) s -= d.coef[r] * lp[r];
      return s;
    };
    const gz = centralDiff((z) => loss(z, d.comp, d.logits), d.z);
    expectClose(arena.get(dz, n * L).map((v, i) => v - dz0[i]), gz, FD_TOL, `dz, ${name(c)}`, 0.05);
    const gc = centralDiff((comp) => loss(d.z, comp, d.logits), d.comp);
    const got = arena.get(dcomp, d.comp.length);
    // only the entries that are components' μ or lv are written (the stride's gaps keep their 7)
    const used = (i: number) => ld === 2 * L ? i < K * ld : (i % (K * ld)) % ld < L;
    const idx = [...Array(d.comp.length).keys()].filter(used);
    expectClose(idx.map((i) => got[i]), idx.map((i) => gc[i]), FD_TOL, `dmeans, dlogvars, ${name(c)}`, 0.05);
    if (ld === 2 * L) expect(idx.length).toBe(2 * K * L);
    if (d.logits) {
      const gl = centralDiff((lg) => loss(d.z, d.comp, lg), d.logits);
      expectClose(arena.get(dlogits, K), gl, FD_TOL, `dlogits, ${name(c)}`, 0.05);
    }
  });
});

describe.each(BUILDS)("vamp_pseudo, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 16, (kk, aa) => { k = kk; arena = aa; });

  it("forward clamps to [0, 1] (or copies); backward passes the gradient only inside (0, 1)", () => {
    arena.reset();
    const P = Float32Array.from([-0.5, 0, 0.05, 0.5, 1, 1.5, 0.999]);
    const dx = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
    const n = P.length, pp = arena.put(P), x = arena.alloc(n), dP = arena.alloc(n), dxp = arena.put(dx);
    k.vampPseudoForward(x, pp, n, true);
    expect(Array.from(arena.get(x, n))).toEqual(Array.from(P, (v) => Math.fround(Math.min(1, Math.max(0, v)))));
    k.vampPseudoBackward(dP, dxp, pp, n, true);
    expect(Array.from(arena.get(dP, n))).toEqual([0, 0, 3, 4, 0, 0, 7]);
    k.vampPseudoForward(x, pp, n, false);
    expect(Array.from(arena.get(x, n))).toEqual(Array.from(P));
    k.vampPseudoBackward(dP, dxp, pp, n, false);
    expect(Array.from(arena.get(dP, n))).toEqual(Array.from(dx));
  });
});
