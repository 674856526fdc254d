// The diagonal Gaussian posterior q(z|x) = N(μ, diag σ²) (Kingma & Welling
// 2013): the head's rows are [μ (L) | log σ² (L)], z = μ + σ·ε, ε ~ N(0, I).
// Kernels: assembly/gaussian.ts (sampler, log q), assembly/kl.ts (closed-form
// KL to N(0, I)).
import { checkOptions } from "../base/validate.js";
import type { LatentContext, LatentKind, Settings } from "./kinds.js";

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
  closedKL: (prior: Settings) => prior.type === "normal",
  kl(c: LatentContext, B: number) {
    c.k.kl_normal_forward(c.ptr["kl"], c.ptr["h"], B, c.L);
  },
  klBackward(c: LatentContext, B: number, w: number) {
    c.k.kl_normal_backward(c.ptr["dh"], c.ptr["h"], B, c.L, w);
  },
};
