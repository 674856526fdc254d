// A learned mixture of K diagonal Gaussians as the prior:
//   p(z) = Σ_k π_k·N(z; μ_k, diag e^(lv_k)),  π = softmax(logits)
// Parameters prior.means (K, L) ~ U(−1, 1), prior.logvars (K, L) = 0 and
// prior.logits (K) = 0 at the start (equal weights, unit variances, centres
// spread over the unit cube), learned with the rest by Adam. No closed-form
// KL: the objective uses the sampled log q(z|x) − log p(z).
// Kernels: assembly/prior-mixture.ts (log-sum-exp over the components in f64;
// the responsibilities kept in "prior.resp" (per row) and e^(−lv), Σ lv in
// "prior.prep" (K·(L + 1)) for the backward).
import type { ParamSpec } from "../layers/kind.js";
import { checkInt, checkOptions } from "../base/validate.js";
import type { LatentContext, PriorKind, Settings } from "./kinds.js";

/** Largest number of components of a learned prior. */
export const PRIOR_MAX_COMPONENTS = 16384;

/** Validates `components` (default `def`). */
export function componentsOf(entry: Record<string, unknown>, at: string, def: number): number {
  return checkInt(`${at}.components`, entry.components ?? def, 1, PRIOR_MAX_COMPONENTS);
}

const K = (s: Settings) => s.components as number;

export const mixture: PriorKind = {
  settings(entry, at) {
    checkOptions(at, entry, ["components"]);
    return { components: componentsOf(entry, at, 10) };
  },
  params(L, _D, s): ParamSpec[] {
    const k = K(s);
    const spec = (name: string, shape: number[], init: ParamSpec["init"]): ParamSpec =>
      ({ name: `prior.${name}`, shape, init });
    return [
      spec("means", [k, L], { uniform: [-1, 1] }),
      spec("logvars", [k, L], { constant: 0 }),
      spec("logits", [k], { constant: 0 }),
    ];
  },
  buffers: (_L, s) => [["prior.resp", K(s)]],
  fixedBuffers: (L, s) => [["prior.prep", K(s) * (L + 1)]],
  logp(c, n) {
    const p = c.ptr;
    c.k.prior_mixture_logp_forward(p["logp"], p["prior.resp"], p["prior.prep"], p["z"], p["prior.means"], p["prior.logvars"], c.L, p["prior.logits"], n, K(c.prior), c.L);
  },
  logpBackward(c: LatentContext, n) {
    const p = c.ptr;
    c.k.prior_mixture_logp_backward(p["dz"], p["grad:prior.means"], p["grad:prior.logvars"], p["grad:prior.logits"],
      p["z"], p["prior.means"], p["prior.prep"], c.L, p["prior.logits"], p["prior.resp"], p["coef.c"], n, K(c.prior), c.L);
  },
  // k ~ softmax(logits), then z = μ_k + temperature·σ_k·ε
  sample(n, L, s, temperature, draw, weights) {
    const w = weights(), mu = w["prior.means"], lv = w["prior.logvars"], logits = w["prior.logits"];
    const pi = softmax(logits);
    const u = new Float32Array(n), z = new Float32Array(n * L);
    draw(u, "uniform");
    draw(z, "normal");
    for (let i = 0; i < n; i++) {
      const k = pick(pi, u[i]);
      for (let j = 0; j < L; j++) z[i * L + j] = mu[k * L + j] + temperature * Math.exp(0.5 * lv[k * L + j]) * z[i * L + j];
    }
    void s;
    return z;
  },
};

/** softmax of logits in float64. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let k = 0; k < logits.length; k++) m = Math.max(m, logits[k]);
  const p = new Float64Array(logits.length);
  let s = 0;
  for (let k = 0; k < p.length; k++) { p[k] = Math.exp(logits[k] - m); s += p[k]; }
  for (let k = 0; k < p.length; k++) p[k] /= s;
  return p;
}

/** The component a uniform u ∈ [0, 1) falls in under the weights p. */
export function pick(p: Float64Array, u: number): number {
  let acc = 0;
  for (let k = 0; k < p.length; k++) {
    acc += p[k];
    if (u < acc) return k;
  }
  return p.length - 1;
}
