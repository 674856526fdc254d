// The uniform prior over a categorical code (issue 18): each of the latent's
// N variables takes each of its K classes with probability 1/K, so
//   log p(z) = −N·log K   for every one-hot code z,
// and its gradient is 0. The KL of a categorical q to it is in closed form
// (latent-categorical.ts, assembly/categorical.ts). In importance-weighted
// training the codes are relaxed samples y = softmax((l + g)/τ), and log p is
// the uniform prior's concrete density at the same τ (Maddison et al. 2017);
// its gradient goes straight into the head's dh, the sample's Jacobian folded
// in (assembly/categorical.ts says why). Pairs with the categorical latent
// only (the shape is the latent's: variables × classes).
import { checkOptions } from "../base/validate.js";
import { concreteConstant } from "../kernels/wasm.js";
import type { PriorKind, Settings } from "./kinds.js";
import { temperatureAt } from "./latent-categorical.js";

function shape(latent: Settings | undefined): { N: number; K: number } {
  if (!latent || typeof latent.variables !== "number" || typeof latent.classes !== "number") {
    throw new Error("wasm-vae: the uniform prior needs the categorical latent's variables and classes (a bug: please report it)");
  }
  return { N: latent.variables, K: latent.classes };
}

export const uniform: PriorKind = {
  settings(entry, at) {
    checkOptions(at, entry, []);
    return {};
  },
  params: () => [],
  logp(c, n) {
    const { N, K } = shape(c.latent);
    if (!c.training) return c.k.fill(c.ptr["logp"], n, -N * Math.log(K));
    const S = c.samples ?? 1, tau = temperatureAt(c.latent, c.step), p = c.ptr;
    c.k.concrete_log_density_forward(p["logp"], p["h"], p["eps"], n / S, S, N, K, tau, concreteConstant(K, tau), 1);
  },
  /** Inference: ∂log p/∂z = 0 for one-hot codes. Training: dh += −Σ_s c_r·∂log p_τ/∂l
   *  through the relaxed sample. */
  logpBackward(c, n) {
    if (!c.training) return;
    const { N, K } = shape(c.latent), S = c.samples ?? 1, p = c.ptr;
    c.k.concrete_log_density_backward(p["dh"], p["h"], p["eps"], p["coef.c"], n / S, S, N, K, temperatureAt(c.latent, c.step), 1, -1);
  },
  /** n one-hot codes, each variable's class uniform: ⌊u·K⌋, u ~ U[0, 1). */
  sample(n, L, _s, _temperature, draw, _weights, _priorHeads, latent) {
    const { N, K } = shape(latent);
    const u = new Float32Array(n * N), z = new Float32Array(n * L);
    draw(u, "uniform");
    for (let r = 0; r < n; r++) for (let v = 0; v < N; v++) z[r * L + v * K + Math.floor(u[r * N + v] * K)] = 1;
    return z;
  },
};
