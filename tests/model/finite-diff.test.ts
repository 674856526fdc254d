// Central finite differences of the whole model loss against computeGradients,
// for a tiny smooth model (D = 6, hidden [5], L = 2, tanh/softplus) with ε
// fixed through `noise`: for a few entries of every parameter tensor,
//   (loss(θ + h·e_i) − loss(θ − h·e_i)) / 2h  ≈  ∂loss/∂θ_i.
// The loss is evaluated by the model itself in float32 (computeGradients'
// loss, which does not update anything), so the tolerance is loose: with
// h = 1e-2 the truncation error is O(h²·f''') (relative ~1e-3 here) and the f32
// rounding of a loss of size ~10 contributes ~6e-8·10/2h ≈ 3e-5, hence
// |fd − g| ≤ 1e-3 + 5e-3·|g| (measured worst case: ~20% of that bound).
// Not here: parity with an independent implementation (tfjs-parity.test.ts).
import { describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { randomArray, randomNormals } from "../reference.js";
import { finiteDifferenceCheck } from "./grad-check.js";

const D = 6, L = 2, B = 4;

const CASES: { name: string; config: VAEConfig; x: Float32Array }[] = [
  { name: "bernoulli, tanh", config: { inputDim: D, encoder: [5], latentDim: L, activation: "tanh", seed: 1 }, x: randomArray(B * D, 1, 0, 1) },
  { name: "gaussian_learned, softplus, β = 0.5", config: { inputDim: D, encoder: [5], latentDim: L, activation: "softplus", likelihood: "gaussian_learned", beta: 0.5, seed: 2 }, x: randomArray(B * D, 2, -1, 1) },
  { name: "gaussian σ = 0.8, tanh", config: { inputDim: D, encoder: [5], latentDim: L, activation: "tanh", likelihood: "gaussian", sigma: 0.8, seed: 3 }, x: randomArray(B * D, 3, -1, 1) },
  { name: "conditional (C = 3), softplus", config: { inputDim: D, encoder: [5], latentDim: L, activation: "softplus", conditionDim: 3, seed: 4 }, x: randomArray(B * D, 4, 0, 1) },
];

describe("finite differences of the full loss vs computeGradients (float32, h = 1e-2)", () => {
  for (const cs of CASES) {
    it(cs.name, async () => {
      const vae = await VAE.create(cs.config);
      const cond = vae.config.conditionDim ? randomArray(B * vae.config.conditionDim, 9, 0, 1) : undefined;
      const batch = cond ? { x: cs.x, condition: cond } : cs.x;
      const noise = Float32Array.from(randomNormals(B * L, 7));
      const { checked, nonzero } = finiteDifferenceCheck(vae, batch, noise);
      expect(checked).toBeGreaterThanOrEqual(3 * 6);
      // most of the checked gradients are far from 0, so the tolerance is not vacuous
      expect(nonzero).toBeGreaterThan(checked / 2);
    });
  }
});

// Learned priors (objectives/prior-mixture.ts, prior-vamp.ts): the whole
// model's gradient, prior parameters included (the mixture's means, logvars
// and logits; the VampPrior's pseudo-inputs, whose gradient comes back
// through the encoder), with the ELBO's sampled KL and with IWAE k = 3 (noise
// for B·k sample rows).
const PRIOR_CASES: { name: string; config: VAEConfig; x: Float32Array; S: number }[] = [
  { name: "mixture K = 3, ELBO, tanh", config: { inputDim: D, encoder: [5], latentDim: L, activation: "tanh", prior: { type: "mixture", components: 3 }, seed: 5 }, x: randomArray(B * D, 5, 0, 1), S: 1 },
  { name: "mixture K = 3, IWAE k = 3, softplus", config: { inputDim: D, encoder: [5], latentDim: L, activation: "softplus", prior: { type: "mixture", components: 3 }, objective: { type: "iwae", samples: 3 }, seed: 6 }, x: randomArray(B * D, 6, 0, 1), S: 3 },
  { name: "vamp K = 4, ELBO, bernoulli (clamped pseudo-inputs), tanh", config: { inputDim: D, encoder: [5], latentDim: L, activation: "tanh", prior: { type: "vamp", components: 4 }, seed: 7 }, x: randomArray(B * D, 7, 0, 1), S: 1 },
  { name: "vamp K = 4, IWAE k = 3, gaussian σ = 0.8, softplus", config: { inputDim: D, encoder: [5], latentDim: L, activation: "softplus", likelihood: "gaussian", sigma: 0.8, prior: { type: "vamp", components: 4 }, objective: { type: "iwae", samples: 3 }, seed: 8 }, x: randomArray(B * D, 8, -1, 1), S: 3 },
  { name: "vamp K = 3, conv2d first layer (the input gradient through a convolution), tanh", config: { inputShape: [3, 2, 1], encoder: [{ type: "conv2d", filters: 2, kernel: 2, padding: "same" }, { type: "flatten" }], decoder: [5], latentDim: L, activation: "tanh", prior: { type: "vamp", components: 3 }, seed: 10 } as VAEConfig, x: randomArray(B * D, 10, 0, 1), S: 1 },
  { name: "vamp K = 3, β = 0.5, two hidden layers, tanh", config: { inputDim: D, encoder: [5, 4], latentDim: L, activation: "tanh", beta: 0.5, prior: { type: "vamp", components: 3 }, seed: 9 }, x: randomArray(B * D, 9, 0, 1), S: 1 },
];

describe("finite differences with learned priors (float32, h = 1e-2)", () => {
  for (const cs of PRIOR_CASES) {
    it(cs.name, async () => {
      const vae = await VAE.create(cs.config);
      const noise = Float32Array.from(randomNormals(B * cs.S * L, 17));
      const { checked, nonzero } = finiteDifferenceCheck(vae, cs.x, noise, { spread: 0.5 });
      const priorTensors = Object.keys(vae.parameterShapes()).filter((n) => n.startsWith("prior."));
      expect(priorTensors.length).toBeGreaterThan(0);
      expect(checked).toBeGreaterThanOrEqual(3 * 6);
      expect(nonzero).toBeGreaterThan(checked / 2);
      // the prior's own gradients are not all zero
      const g = vae.computeGradients(cs.x, { noise }).gradients;
      for (const n of priorTensors) expect(g[n].some((v) => Math.abs(v) > 1e-4), `${n} gets a gradient`).toBe(true);
    });
  }
});
