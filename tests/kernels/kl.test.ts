// KL(q ‖ N(0, I)) for diagonal Gaussians (assembly/kl.ts), both builds:
// forward against the float64 closed form and against a Monte-Carlo estimate
// of E_q[log q(z) − log p(z)] (an independent route to the same number),
// backward against central differences of the float64 forward.
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import { klRef, logNormalPdf, randomArray, randomNormals } from "../reference.js";
import { Arena, BUILDS, SIZES, centralDiff, expectClose, sum, withKernels } from "./helpers.js";

// Same code in both builds: f64 sums of f64 terms, one f32 rounding at the end.
const TOL = 1e-5;
const FD_TOL = 1e-5;
const B = 3;

/** h (rows, 2L): μ in [−2, 2], logvar in [−3, 3]. */
function head(rows: number, L: number, seed: number, lv: [number, number] = [-3, 3]): Float32Array {
  const mu = randomArray(rows * L, seed, -2, 2), logvar = randomArray(rows * L, seed + 1, lv[0], lv[1]);
  const h = new Float32Array(rows * 2 * L);
  for (let b = 0; b < rows; b++) {
    h.set(mu.subarray(b * L, (b + 1) * L), b * 2 * L);
    h.set(logvar.subarray(b * L, (b + 1) * L), b * 2 * L + L);
  }
  return h;
}

// FD gradients depend only on the inputs: compute once, share across builds.
const fdCache = new Map<number, Float64Array>();

describe.each(BUILDS)("kl_normal, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 20, (kk, aa) => { k = kk; arena = aa; });

  it.each(SIZES)("forward, L = %i", (L) => {
    const h = head(B, L, L);
    const kl = arena.alloc(B);
    k.klForward(kl, arena.put(h), B, L);
    expectClose(arena.get(kl, B), klRef(h, B, L), TOL, `KL L = ${L}`);
  });

  it("is 0 at q = p and matches hand values", () => {
    // Row 0: μ = 0, logvar = 0 → 0. Row 1: μ = (1, −2), logvar = (0, ln 4) →
    // ½[(1 + 1 − 1 − 0) + (4 + 4 − 1 − ln 4)] = ½(8 − ln 4).
    const h = Float32Array.from([0, 0, 0, 0, 1, -2, 0, Math.log(4)]);
    const kl = arena.alloc(2);
    k.klForward(kl, arena.put(h), 2, 2);
    expectClose(arena.get(kl, 2), [0, 0.5 * (8 - Math.log(4))], 1e-6, "hand values", 1);
  });

  it("forward is finite and accurate for large |logvar| (±20)", () => {
    const h = head(2, 20, 5, [-20, 20]);
    const kl = arena.alloc(2);
    k.klForward(kl, arena.put(h), 2, 20);
    expectClose(arena.get(kl, 2), klRef(h, 2, 20), TOL, "KL, wide logvar");
  });

  it.each(SIZES)("backward, L = %i, vs central differences (writes dh)", (L) => {
    const w = 0.29, rows = L > 100 ? 2 : B;
    const h = head(rows, L, L + 100);
    const dh = arena.put(new Float32Array(rows * 2 * L).fill(NaN));
    k.klBackward(dh, arena.put(h), rows, L, w);
    // ∂/∂h of w·Σ_b KL_b(h).
    let fd = fdCache.get(L);
    if (!fd) fdCache.set(L, fd = centralDiff((hs) => w * sum(klRef(hs, rows, L)), h));
    expectClose(arena.get(dh, rows * 2 * L), fd, FD_TOL, `dKL L = ${L}`, w);
  });

  it("closed form agrees with a Monte-Carlo estimate of E_q[log q(z) − log p(z)]", () => {
    // Two examples; z = μ + σ·ε with ε from mulberry32 + Box–Muller (not the kernel RNG).
    const L = 5, rows = 2, S = 200_000;
    const h = head(rows, L, 42, [-1.5, 1]);
    const kl = arena.alloc(rows);
    k.klForward(kl, arena.put(h), rows, L);
    const got = arena.get(kl, rows);
    const eps = randomNormals(S * rows * L, 2024);
    for (let b = 0; b < rows; b++) {
      let m = 0, m2 = 0;
      for (let s = 0; s < S; s++) {
        let v = 0;
        for (let j = 0; j < L; j++) {
          const mu = h[b * 2 * L + j], logSigma = 0.5 * h[b * 2 * L + L + j];
          const z = mu + Math.exp(logSigma) * eps[(s * rows + b) * L + j];
          v += logNormalPdf(z, mu, logSigma) - logNormalPdf(z, 0, 0);
        }
        m += v; m2 += v * v;
      }
      const mean = m / S;
      const se = Math.sqrt((m2 / S - mean * mean) / S);
      // The estimate is tight enough to catch e.g. a dropped ½ or a missing −1.
      expect(se, "standard error").toBeLessThan(0.02 * got[b]);
      expect(Math.abs(got[b] - mean), `example ${b}: KL ${got[b]} vs MC ${mean} ± ${se}`).toBeLessThan(4 * se);
    }
  });
});
