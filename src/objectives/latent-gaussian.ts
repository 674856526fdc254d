// The diagonal Gaussian posterior q(z|x) = N(μ, diag σ²) (Kingma & Welling
// 2013): the head's rows are [μ (L) | log σ² (L)], z = μ + σ·ε, ε ~ N(0, I).
// Kernels: assembly/gaussian.ts (sampler, log q), assembly/kl.ts (closed-form
// KL to N(0, I)).
import { checkOptions } from "../base/validate.js";
import type { Encoded, LatentContext, LatentKind, Proposal, Settings } from "./kinds.js";

export const gaussian: LatentKind = {
  settings(entry, at) {
    checkOptions(at, entry, []);
    return {};
  },
  impliedLatentDim: () => null,
  headWidth: (L) => 2 * L,
  noiseWidth: (L) => L,
  priors: ["normal", "vamp", "mixture"],
  drawNoise(c, rng, rows) {
    c.k.rng_normal(rng, c.ptr["eps"], rows * c.L);
  },
  sample(c, B, S) {
    const p = c.ptr;
    c.k.gaussian_sample_k_forward(p["z"], p["h"], p["eps"], B, S, c.L);
  },
  sampleBackward(c, B, S) {
    const p = c.ptr;
    c.k.gaussian_sample_k_backward(p["dh"], p["dz"], p["h"], p["eps"], B, S, c.L);
  },
  logq(c, B, S) {
    const p = c.ptr;
    c.k.gaussian_logq_forward(p["logq"], p["h"], p["eps"], B, S, c.L);
  },
  logqBackward(c, B, S, stopped) {
    const p = c.ptr;
    c.k.gaussian_logq_backward(stopped ? 0 : p["dh"], stopped ? p["dz"] : 0, p["h"], p["eps"], p["coef.c"], B, S, c.L, stopped ? 1 : 0);
  },
  proposal: gaussianProposal,
  closedKL: (prior: Settings) => prior.type === "normal",
  kl(c: LatentContext, B: number) {
    c.k.kl_normal_forward(c.ptr["kl"], c.ptr["h"], B, c.L);
  },
  klBackward(c: LatentContext, B: number, w: number) {
    c.k.kl_normal_backward(c.ptr["dh"], c.ptr["h"], B, c.L, w);
  },
};

/**
 * r(z) = N(μ, (scale·σ)²) per row, (μ, log σ²) = q(z | x̂). The weight of a
 * draw against the N(0, I) prior (the 2π terms cancel):
 *   log p(z) − log r(z) = Σ_j −½ z_j² + ½ ((z_j − μ_j)·e^{−½ v_j})² + ½ v_j,  v = log σ² + 2·log scale,
 * or, given `logp`, that module's log p(z) replaces the −½ z_j² terms.
 */
function gaussianProposal(enc: Encoded, L: number, _s: Settings, scale: number): Proposal {
  const mean = enc.mean, logvar = scale === 1 ? enc.logvar : Float32Array.from(enc.logvar, (v) => v + 2 * Math.log(scale));
  return {
    noise: "normal",
    draw(ex, e, eo, z, zo) {
      for (let j = 0; j < L; j++) z[zo + j] = mean[ex * L + j] + Math.exp(0.5 * logvar[ex * L + j]) * e[eo + j];
    },
    logPriorOver(z, zo, ex, logp) {
      let v = logp ?? 0;
      for (let j = 0; j < L; j++) {
        const zz = z[zo + j], lv = logvar[ex * L + j], t = (zz - mean[ex * L + j]) * Math.exp(-0.5 * lv);
        v += 0.5 * t * t + 0.5 * lv;
        if (logp === undefined) v -= 0.5 * zz * zz;
      }
      return v;
    },
    centre(ex, z, zo) {
      z.set(mean.subarray(ex * L, (ex + 1) * L), zo);
    },
  };
}

