// The VampPrior's gradient at the IWAE paper's size (784-200-200-50, tanh,
// Bernoulli, K = 500 pseudo-inputs, batch 20), where it collapses in training
// (bench/results/prior-collapse.md): the collapse is not a wrong gradient.
// finite-diff.test.ts checks tiny models; here the encoder runs on 20 + 500
// rows, the size at which a row-range or split bug would show:
// - at β = 0 the prior's 500 encoder rows add nothing: loss and every shared
//   parameter's gradient equal the N(0, I) model's with the same weights, bit
//   for bit, and the pseudo-inputs get exactly 0;
// - the KL term's gradient (β = 1 minus β = 0, same ε) against central
//   differences of the same difference of losses, on the largest entries of
//   every encoder tensor.
import { describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { randomArray, randomNormals } from "../reference.js";

const D = 784, L = 50, B = 20, K = 500;
const BASE: VAEConfig = { inputDim: D, encoder: [200, 200], latentDim: L, decoder: [200, 200], activation: "tanh", seed: 3 };
const x = randomArray(B * D, 41, 0, 1).map((v) => (v < 0.2 ? 1 : 0)); // binary, ~20% on, like MNIST
const noise = Float32Array.from(randomNormals(B * L, 43));

describe("the VampPrior at the paper's size (K = 500, batch 20)", () => {
  it("β = 0: the same loss and gradients as the N(0, I) model, bit for bit; the pseudo-inputs get 0", async () => {
    const v = await VAE.create({ ...BASE, prior: { type: "vamp", components: K } });
    const n = await VAE.create(BASE);
    const { "prior.pseudo_inputs": _p, ...shared } = v.getWeights();
    n.setWeights(shared);
    const gv = v.computeGradients(x, { noise, beta: 0 }), gn = n.computeGradients(x, { noise, beta: 0 });
    expect(gv.loss).toBe(gn.loss);
    for (const name of Object.keys(shared)) {
      const a = gv.gradients[name], b = gn.gradients[name];
      let diff = 0;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff++;
      expect(diff, name).toBe(0);
      expect(b.some((g) => g !== 0), `${name} has a gradient`).toBe(true);
    }
    expect(gv.gradients["prior.pseudo_inputs"].every((g) => g === 0)).toBe(true);
    v.dispose(); n.dispose();
  });

  it("the KL term's gradient matches central differences on every encoder tensor", async () => {
    const v = await VAE.create({ ...BASE, prior: { type: "vamp", components: K } });
    const kl = () => v.computeGradients(x, { noise, beta: 1 }).loss - v.computeGradients(x, { noise, beta: 0 }).loss;
    const g1 = v.computeGradients(x, { noise, beta: 1 }).gradients, g0 = v.computeGradients(x, { noise, beta: 0 }).gradients;
    const w = v.getWeights();
    let checked = 0;
    for (const name of Object.keys(w).filter((k) => k.startsWith("encoder."))) {
      const gk = g1[name].map((g, i) => g - g0[name][i]);
      const top = [...gk.keys()].sort((a, b) => Math.abs(gk[b]) - Math.abs(gk[a])).slice(0, 2);
      for (const i of top) {
        const h = 1e-2, p = Float32Array.from(w[name]);
        p[i] = w[name][i] + h; v.setWeights({ [name]: p }); const up = kl();
        p[i] = w[name][i] - h; v.setWeights({ [name]: p }); const dn = kl();
        v.setWeights({ [name]: w[name] });
        const fd = (up - dn) / (2 * h);
        expect(Math.abs(gk[i]), `${name}[${i}] has a KL gradient`).toBeGreaterThan(1e-2);
        expect(Math.abs(fd - gk[i]), `${name}[${i}]: gradient ${gk[i]}, central difference ${fd}`).toBeLessThan(0.01 * Math.abs(gk[i]) + 1e-3);
        checked++;
      }
    }
    expect(checked).toBe(6 * 2);
    v.dispose();
  });
});
