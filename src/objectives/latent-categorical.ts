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
// Importance-weighted training (iwae, k > 1) uses the relaxed sample's own
// density, the concrete density (Maddison et al. 2017), under q and under the
// uniform prior at the same τ: the relaxed bound the concrete paper trains
// with; the ELBO (and iwae with k = 1) keeps the closed-form discrete KL.
// Kernels: assembly/categorical.ts.
import { checkBool, checkFinite, checkInt, checkOptions, fail } from "../base/validate.js";
import { concreteConstant } from "../kernels/wasm.js";
import type { Draw, Encoded, LatentContext, LatentKind, Proposal, Settings } from "./kinds.js";

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
  checkObjective(o, at, latent) {
    if (o.type === "elbo" || (o.type === "iwae" && o.samples === 1 && o.gradient === "iwae")) return;
    if (o.gradient === "dreg") {
      fail(`${at}.gradient`, `"iwae" with a categorical latent (DReG holds q's parameters fixed on the path through z, whose concrete-density gradient is not implemented)`, "dreg");
    }
    if (latent.straightThrough === true) {
      fail(at, `{ type: "elbo" } with a straight-through categorical latent (the importance weights need the relaxed sample's density; a one-hot forward has none), or latent.straightThrough false, got { type: "iwae", samples: ${o.samples} }`);
    }
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
  /** In training: log q_τ of the relaxed samples (the concrete density at
   *  this step's τ); in inference: the discrete posterior's log-mass of the
   *  one-hot codes in "z" (inference samples one-hot codes). */
  logq(c, B, S) {
    const { N, K } = shape(c.latent), p = c.ptr;
    if (c.training) {
      const tau = temperatureAt(c.latent, c.step);
      c.k.concrete_log_density_forward(p["logq"], p["h"], p["eps"], B, S, N, K, tau, concreteConstant(K, tau), 0);
    } else {
      c.k.categorical_logq_forward(p["logq"], p["h"], p["z"], B, S, N, K);
    }
  },
  /** dh += Σ_s c_r·∂log q_τ/∂l through the reparameterized relaxed sample
   *  (the objective's coefficients at "coef.c"). */
  logqBackward(c, B, S, stopped) {
    if (stopped || !c.training) throw new Error("wasm-vae: the categorical latent has no DReG or inference log q gradient (the config refuses it; a bug: please report it)");
    const { N, K } = shape(c.latent), p = c.ptr;
    c.k.concrete_log_density_backward(p["dh"], p["h"], p["eps"], p["coef.c"], B, S, N, K, temperatureAt(c.latent, c.step), 0, 1);
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
  proposal: categoricalProposal,
  trainingSettings: ["temperature", "straightThrough"],
  refuses: {
    "interpolate.spherical": "false: a spherical path leaves the simplex of class probabilities (the linear path between them stays on it)",
    "sample.temperature": "1 or nothing: codes from the uniform prior are one-hot, with no scale to temper",
  },
};

/**
 * r(z) per row: each variable's class drawn from softmax(log π / scale)
 * (π = q(z | x̂)'s class probabilities; scale > 1 flattens it, as a wider σ
 * does for a Gaussian) by Gumbel-max, a one-hot code. The weight of a code
 * against the uniform prior: log p(z) − log r(z) = −N·log K − Σ_n log r_n(class_n),
 * or, given `logp`, that module's log p(z) replaces −N·log K.
 */
function categoricalProposal(enc: Encoded, L: number, s: Settings, scale: number): Proposal {
  const { N, K } = shape(s), rows = enc.mean.length / L;
  const logits = enc.logits!;
  // log r per row and class: log softmax(log π / scale), float64
  const logr = new Float64Array(rows * L);
  for (let r = 0; r < rows; r++) for (let n = 0; n < N; n++) {
    const o = r * L + n * K;
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[o + k] / scale);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logits[o + k] / scale - m);
    const lse = m + Math.log(sum);
    for (let k = 0; k < K; k++) logr[o + k] = logits[o + k] / scale - lse;
  }
  const logPrior = -N * Math.log(K);
  return {
    noise: "uniform",
    draw(ex, e, eo, z, zo) {
      z.fill(0, zo, zo + L);
      for (let n = 0; n < N; n++) {
        let best = -Infinity, at = 0;
        for (let k = 0; k < K; k++) {
          const a = logr[ex * L + n * K + k] + gumbel(e[eo + n * K + k]);
          if (a > best) { best = a; at = k; }
        }
        z[zo + n * K + at] = 1;
      }
    },
    logPriorOver(z, zo, ex, logp) {
      let v = logp ?? logPrior;
      for (let j = 0; j < L; j++) if (z[zo + j] !== 0) v -= logr[ex * L + j];
      return v;
    },
    centre(ex, z, zo) {
      z.fill(0, zo, zo + L);
      for (let n = 0; n < N; n++) {
        let best = -Infinity, at = 0;
        for (let k = 0; k < K; k++) if (logr[ex * L + n * K + k] > best) { best = logr[ex * L + n * K + k]; at = k; }
        z[zo + n * K + at] = 1;
      }
    },
  };
}

