// A categorical latent (issue 18): N variables of K classes, the code one-hot
// per variable (N·K wide), q(z|x) = Π_n Cat(softmax(l_n)) from the head's N·K
// logits. Training uses the Gumbel-softmax (concrete) relaxation (Jang, Gu &
// Poole 2017; Maddison, Mnih & Teh 2017): z_n = softmax((l_n + g_n)/τ),
// g ~ Gumbel(0, 1), with the temperature schedule
//   τ(t) = max(τ_min, τ0·exp(−r·t))          (t: training steps taken)
// and the KL to the uniform prior in closed form over the class
// probabilities (prior-uniform.ts). `straightThrough`: the forward is the
// one-hot argmax of l + g, the backward the relaxed sample's. Outside a
// training step (inference) z is always an exact one-hot draw from q
// (Gumbel-max), so elbo and logLikelihood are the discrete model's.
// Kernels: assembly/categorical.ts. Not here: the relaxed (concrete) density,
// hence no importance-weighted training (checkObjective refuses it).
import { checkBool, checkFinite, checkInt, checkOptions, describe, fail } from "../base/validate.js";
import type { Draw, LatentContext, LatentKind, Settings } from "./kinds.js";

/** Largest code (variables × classes). */
const MAX_CODE = 1 << 20;

/** The temperature schedule of a categorical latent's settings. */
export interface TemperatureSchedule { initial: number; min: number; rate: number }

/** τ at training step t (steps taken before it): max(τ_min, τ0·exp(−r·t)). */
export function temperatureAt(s: Settings, t: number): number {
  const { initial, min, rate } = s.temperature as TemperatureSchedule;
  return Math.max(min, initial * Math.exp(-rate * t));
}

const shape = (s: Settings) => ({ N: s.variables as number, K: s.classes as number });

/** Gumbel(0, 1) from a uniform u on [0, 1) in steps of 2⁻²⁴ (as gumbel_from_uniform). */
const gumbel = (u: number) => -Math.log(-Math.log(Math.fround(u) + 2.98023223876953125e-8));

export const categorical: LatentKind = {
  settings(entry, at) {
    checkOptions(at, entry, ["variables", "classes", "temperature", "straightThrough"]);
    const variables = checkInt(`${at}.variables`, entry.variables, 1, MAX_CODE);
    const classes = checkInt(`${at}.classes`, entry.classes, 2, MAX_CODE);
    if (variables * classes > MAX_CODE) fail(`${at}.variables`, `variables × classes ≤ ${MAX_CODE}`, `${variables} × ${classes}`);
    const t = (entry.temperature ?? {}) as Record<string, unknown>;
    if (t === null || typeof t !== "object" || Array.isArray(t)) fail(`${at}.temperature`, "an object { initial?, min?, rate? } (or nothing)", t);
    checkOptions(`${at}.temperature`, t, ["initial", "min", "rate"]);
    const why = "1/τ scales the logits of the relaxed sample";
    const initial = checkFinite(`${at}.temperature.initial`, t.initial ?? 1, { min: 1e-3, max: 1e3, why });
    const min = checkFinite(`${at}.temperature.min`, t.min ?? Math.min(0.5, initial), { min: 1e-3, max: initial, why: `τ_min ≤ τ0 = ${initial}; ${why}` });
    const rate = checkFinite(`${at}.temperature.rate`, t.rate ?? 3e-5, { min: 0, max: 1 });
    const straightThrough = checkBool(`${at}.straightThrough`, entry.straightThrough, false);
    return { variables, classes, temperature: Object.freeze({ initial, min, rate }), straightThrough };
  },
  impliedLatentDim: (s) => (s.variables as number) * (s.classes as number),
  headWidth: (L) => L,
  noiseWidth: (L) => L,
  priors: ["uniform"],
  checkObjective(o, at) {
    if (o.type === "elbo" || (o.type === "iwae" && o.samples === 1 && o.gradient === "iwae")) return;
    fail(at, `{ type: "elbo" } with a categorical latent (the importance-weighted bound needs the density of the relaxed (concrete) sample, which is not implemented; the ELBO uses the KL in closed form over the class probabilities)`, describe(o));
  },
  drawNoise(c, rng, rows) {
    const n = rows * c.L;
    c.k.rng_uniform(rng, c.ptr["eps"], n);
    c.k.gumbel_from_uniform(c.ptr["eps"], n);
  },
  sample(c, B, S) {
    const { N, K } = shape(c.latent), p = c.ptr;
    const hard = !c.training || c.latent.straightThrough === true;
    c.k.categorical_sample_forward(p["z"], p["h"], p["eps"], B, S, N, K, temperatureAt(c.latent, c.step), hard ? 1 : 0);
  },
  sampleBackward(c, B, S) {
    const { N, K } = shape(c.latent), p = c.ptr;
    c.k.categorical_sample_backward(p["dh"], p["dz"], p["h"], p["eps"], B, S, N, K, temperatureAt(c.latent, c.step));
  },
  /** log q of the one-hot codes in "z" (the discrete posterior's log-mass;
   *  inference samples one-hot codes). */
  logq(c, B, S) {
    const { N, K } = shape(c.latent), p = c.ptr;
    c.k.categorical_logq_forward(p["logq"], p["h"], p["z"], B, S, N, K);
  },
  logqBackward() {
    throw new Error("wasm-vae: the categorical latent has no log q gradient (the config refuses objectives that need it; a bug: please report it)");
  },
  closedKL: (prior: Settings) => prior.type === "uniform",
  kl(c: LatentContext, B: number) {
    const { N, K } = shape(c.latent);
    c.k.categorical_kl_forward(c.ptr["kl"], c.ptr["h"], B, N, K);
  },
  klBackward(c: LatentContext, B: number, w: number) {
    const { N, K } = shape(c.latent);
    c.k.categorical_kl_backward(c.ptr["dh"], c.ptr["h"], B, N, K, w);
  },
  /** mean = E_q[z] = the class probabilities π (rows × N·K); logvar = log Var_q[z]
   *  = log π(1 − π) per coordinate; logits = log π (normalized). */
  encodeRows(h, rows, L, s) {
    const { N, K } = shape(s);
    const mean = new Float32Array(rows * L), logvar = new Float32Array(rows * L), logits = new Float32Array(rows * L);
    for (let r = 0; r < rows; r++) {
      for (let n = 0; n < N; n++) {
        const o = r * L + n * K;
        let m = -Infinity, at = 0;
        for (let k = 0; k < K; k++) if (h[o + k] > m) { m = h[o + k]; at = k; }
        let m2 = -Infinity; // the largest of the others (K ≥ 2)
        for (let k = 0; k < K; k++) if (k !== at) m2 = Math.max(m2, h[o + k]);
        let sum = 0, sum2 = 0;
        for (let k = 0; k < K; k++) {
          sum += Math.exp(h[o + k] - m);
          if (k !== at) sum2 += Math.exp(h[o + k] - m2);
        }
        const lse = m + Math.log(sum);
        for (let k = 0; k < K; k++) {
          // log(1 − π_k) = log Σ_{j≠k} e^(l_j) − lse: for the most probable class from the others'
          // own sum (no cancellation when π_k ≈ 1), else sum − e^(l_k − m) ≥ 1
          const logRest = k === at ? m2 + Math.log(sum2) : m + Math.log(sum - Math.exp(h[o + k] - m));
          const lq = h[o + k] - lse;
          mean[o + k] = Math.exp(lq);
          logits[o + k] = lq;
          logvar[o + k] = lq + (logRest - lse);
        }
      }
    }
    return { mean, logvar, logits };
  },
  /** One-hot codes: the argmax class of each variable (the mode), or with
   *  `draw` an exact draw from q by Gumbel-max. */
  codeOf(h, rows, L, s, draw: Draw | null) {
    const { N, K } = shape(s);
    const z = new Float32Array(rows * L), u = draw ? new Float32Array(rows * L) : null;
    if (draw) draw(u!, "uniform");
    for (let r = 0; r < rows; r++) {
      for (let n = 0; n < N; n++) {
        const o = r * L + n * K;
        let best = -Infinity, at = 0;
        for (let k = 0; k < K; k++) {
          const a = h[o + k] + (u ? gumbel(u[o + k]) : 0);
          if (a > best) { best = a; at = k; }
        }
        z[o + at] = 1;
      }
    }
    return z;
  },
  trainingSettings: ["temperature", "straightThrough"],
  refuses: {
    impute: "a model with a Gaussian latent (the imputation methods, miwae, metropolis and pseudo_gibbs, draw z from a Gaussian q(z|x); they are not implemented for the categorical latent)",
    "interpolate.spherical": "false: a spherical path leaves the simplex of class probabilities (the linear path between them stays on it)",
    "sample.temperature": "1 or nothing: codes from the uniform prior are one-hot, with no scale to temper",
  },
};
