// The score-function (REINFORCE) encoder gradient is an unbiased estimate of
// the same gradient the reparameterized estimator gives: over many draws of ε
// their means agree within their standard errors, with and without the
// leave-one-out baseline, for every encoder parameter of a small model.
// (Their variances are compared in mnist-quality.test.ts.)
import { describe, expect, it } from "vitest";
import { VAE } from "../../src/index.js";
import { randomArray } from "../reference.js";

const D = 6, L = 2, B = 4, S = 6000;

/** S × (B·L) standard normals from seeded uniforms (Box–Muller). */
function normals(n: number, seed: number): Float32Array {
  const u = randomArray(2 * n, seed, 0, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - u[2 * i])), t = 2 * Math.PI * u[2 * i + 1];
    out[i] = r * Math.cos(t);
  }
  return out;
}

describe("score-function vs reparameterized encoder gradients", () => {
  it.each([false, true])("means agree within 4.5 standard errors (baseline: %s)", async (baseline) => {
    const vae = await VAE.create({ inputDim: D, encoder: [5], latentDim: L, decoder: [5], activation: "tanh",
      likelihood: "gaussian", sigma: 0.7, seed: 8 }, { build: "plain" });
    const x = randomArray(B * D, 17, -1, 1);
    const eps = normals(S * B * L, 23);
    const names = Object.keys(vae.parameterShapes()).filter((n) => n.startsWith("encoder."));
    const stats = (est: "reparameterized" | "score") => {
      const sum = new Map<string, Float64Array>(), sq = new Map<string, Float64Array>();
      for (let s = 0; s < S; s++) {
        const g = vae.computeGradients(x, { noise: eps.subarray(s * B * L, (s + 1) * B * L), estimator: est, baseline });
        for (const n of names) {
          if (!sum.has(n)) { sum.set(n, new Float64Array(g.gradients[n].length)); sq.set(n, new Float64Array(g.gradients[n].length)); }
          const a = sum.get(n)!, q = sq.get(n)!;
          g.gradients[n].forEach((v, i) => { a[i] += v; q[i] += v * v; });
        }
      }
      return names.map((n) => {
        const a = sum.get(n)!, q = sq.get(n)!;
        const mean = Array.from(a, (v) => v / S);
        const se = Array.from(q, (v, i) => Math.sqrt(Math.max(v / S - mean[i] ** 2, 0) / S));
        return { n, mean, se };
      });
    };
    const rep = stats("reparameterized"), score = stats("score");
    let compared = 0, maxZ = 0;
    for (let t = 0; t < names.length; t++) {
      for (let i = 0; i < rep[t].mean.length; i++) {
        const se = Math.hypot(rep[t].se[i], score[t].se[i]);
        const z = Math.abs(rep[t].mean[i] - score[t].mean[i]) / se;
        maxZ = Math.max(maxZ, z);
        expect(z, `${names[t]}[${i}]: reparameterized ${rep[t].mean[i]} vs score ${score[t].mean[i]} (se ${se})`).toBeLessThan(4.5);
        compared++;
      }
    }
    expect(compared).toBe(6 * 5 + 5 + 5 * 4 + 4);
    // the estimators are not trivially the same computation: the score one is noisier
    // (measured: 3.5× the standard error without the baseline, 1.5× with it)
    expect(score[0].se[0] / rep[0].se[0]).toBeGreaterThan(1.2);
    expect(maxZ).toBeGreaterThan(0);
  });

  it("a scaled or sign-flipped score estimator would be caught", async () => {
    // the same statistic as above, applied to c·score for c ≠ 1: it must fail the 4.5 bound somewhere
    const vae = await VAE.create({ inputDim: D, encoder: [5], latentDim: L, decoder: [5], activation: "tanh",
      likelihood: "gaussian", sigma: 0.7, seed: 8 }, { build: "plain" });
    const x = randomArray(B * D, 17, -1, 1);
    const eps = normals(2000 * B * L, 29);
    const n = "encoder.1.bias";
    const rep = new Float64Array(2 * L), sc = new Float64Array(2 * L), sq = new Float64Array(2 * L);
    for (let s = 0; s < 2000; s++) {
      const noise = eps.subarray(s * B * L, (s + 1) * B * L);
      const r = vae.computeGradients(x, { noise }).gradients[n];
      const g = vae.computeGradients(x, { noise, estimator: "score", baseline: true }).gradients[n];
      r.forEach((v, i) => { rep[i] += v / 2000; });
      g.forEach((v, i) => { sc[i] += v / 2000; sq[i] += v * v / 2000; });
    }
    // c·score has mean c·m and standard error |c|·se: its largest z over the 2L parameters
    const maxZ = (c: number) => Math.max(...Array.from(sc, (m, i) => Math.abs(c * m - rep[i]) / (Math.abs(c) * Math.sqrt((sq[i] - m * m) / 2000))));
    // measured: −1: 41, 0.5: 19.7, 0.7: 8.1, 1.5: 7.3, 2: 10.7; the estimator as it is: 1.1
    for (const c of [-1, 0.5, 0.7, 1.5, 2]) expect(maxZ(c), `score × ${c}`).toBeGreaterThan(4.5);
    expect(maxZ(1), "the score estimator itself").toBeLessThan(4.5);
  });
});
