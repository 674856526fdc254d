// Central finite differences of a whole model's loss against computeGradients
// (shared by finite-diff.test.ts and the layer tests). For the first, last
// and a middle entry of every parameter tensor:
//   (loss(θ + h·e_i) − loss(θ − h·e_i)) / 2h  ≈  ∂loss/∂θ_i,
// with the loss evaluated by the model in float32 (computeGradients' loss,
// which updates nothing) and ε fixed by `noise`; |fd − g| ≤ abs + rel·|g|.
// Before the check every weight is moved off its init by U(±0.5)·`spread`
// (the larger the weights, the more the curvature).
import { expect } from "vitest";
import type { BatchInput, Rows, VAE } from "../../src/index.js";
import { randomArray } from "../reference.js";

export function finiteDifferenceCheck(vae: VAE, batch: Rows | BatchInput, noise: Float32Array,
  o: { h?: number; abs?: number; rel?: number; spread?: number } = {}): { checked: number; nonzero: number } {
  const h = o.h ?? 1e-2, abs = o.abs ?? 1e-3, rel = o.rel ?? 5e-3, spread = o.spread ?? 1;
  const w0 = vae.getWeights();
  for (const [n, t] of Object.entries(w0)) {
    const r = randomArray(t.length, n.length * 13 + t.length, -0.5 * spread, 0.5 * spread);
    vae.setWeights({ [n]: t.map((v, i) => v + r[i]) });
  }
  const base = vae.getWeights();
  const g = vae.computeGradients(batch, { noise }).gradients;
  const lossAt = (name: string, i: number, delta: number) => {
    const t = base[name].slice();
    t[i] += delta;
    vae.setWeights({ [name]: t });
    const l = vae.computeGradients(batch, { noise }).loss;
    vae.setWeights({ [name]: base[name] });
    return l;
  };
  let checked = 0, nonzero = 0;
  for (const [name, t] of Object.entries(base)) {
    for (const i of new Set([0, t.length >> 1, t.length - 1])) {
      // the actual step is the f32 difference of the perturbed weights
      const up = Math.fround(t[i] + h), dn = Math.fround(t[i] - h);
      const fd = (lossAt(name, i, up - t[i]) - lossAt(name, i, dn - t[i])) / (up - dn);
      const gi = g[name][i];
      expect(Math.abs(fd - gi), `${name}[${i}]: fd ${fd} vs grad ${gi}`).toBeLessThanOrEqual(abs + rel * Math.abs(gi));
      checked++;
      if (Math.abs(gi) > 1e-2) nonzero++;
    }
  }
  // nothing was updated by computeGradients
  expect(vae.getWeights()).toEqual(base);
  return { checked, nonzero };
}
