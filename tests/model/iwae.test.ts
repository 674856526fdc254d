// The importance-weighted objective (objectives/iwae.ts) on whole models:
// - k = 1 is the ELBO, bit for bit: losses, gradients and the weights after
//   training steps and a fit;
// - k = 5: computeGradients is the gradient of its loss (central finite
//   differences with the noise fixed, grad-check.ts), with and without a
//   condition, Bernoulli and learned-Gaussian likelihoods;
// - the loss is the importance-weighted bound computed independently in
//   float64 from the model's own encode/decode (a reference outside the step);
// - DReG: the decoder's gradient equals IWAE's exactly (same noise), and the
//   encoder gradient's mean over many noise draws equals IWAE's mean (a
//   statistical test against the standard error);
// - same bits on 1 and 2 threads; save/load/resume exact; named errors.
import { describe, expect, it } from "vitest";
import { ArgumentError, Adam, VAE, type VAEConfig } from "../../src/index.js";
import { randomArray, randomNormals } from "../reference.js";
import { finiteDifferenceCheck } from "./grad-check.js";
import { expectThrows } from "./harden-helpers.js";

const D = 6, L = 2, B = 4;
const LOG_2PI = Math.log(2 * Math.PI);

const bitsOf = (w: Record<string, Float32Array>) => Object.fromEntries(Object.entries(w).map(([n, t]) => [n, Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length))]));

describe("iwae with k = 1 is the ELBO, bit for bit", () => {
  const base: VAEConfig = { inputDim: 20, encoder: [16, 8], latentDim: 4, seed: 3 };
  for (const extra of [{}, { conditionDim: 2, likelihood: "gaussian_learned" as const, activation: "tanh" as const }]) {
    it(`trainStep losses, gradients and weights after 12 steps and a fit ${JSON.stringify(extra)}`, async () => {
      const x = randomArray(40 * 20, 1, 0, 1), cond = randomArray(40 * 2, 2, 0, 1);
      const a = await VAE.create({ ...base, ...extra }), b = await VAE.create({ ...base, ...extra, objective: { type: "iwae", samples: 1 } });
      a.optimizer = new Adam({ lr: 1e-2 }); b.optimizer = new Adam({ lr: 1e-2 });
      for (let s = 0; s < 12; s++) {
        const rows = 5 + (s % 3);
        const batch = "conditionDim" in extra ? { x: x.subarray(s * 20, (s + rows) * 20), condition: cond.subarray(s * 2, (s + rows) * 2) } : x.subarray(s * 20, (s + rows) * 20);
        const ra = a.trainStep(batch), rb = b.trainStep(batch);
        expect(rb).toEqual(ra);
      }
      expect(bitsOf(b.getWeights())).toEqual(bitsOf(a.getWeights()));
      expect(bitsOf(b.getGradients())).toEqual(bitsOf(a.getGradients()));
      const fitOpts = { epochs: 2, batchSize: 8, ...("conditionDim" in extra ? { condition: cond } : {}) };
      await a.fit(x, fitOpts); await b.fit(x, fitOpts);
      expect(bitsOf(b.getWeights())).toEqual(bitsOf(a.getWeights()));
    });
  }
});

describe("iwae k = 5: computeGradients is the gradient of the loss (central differences, noise fixed)", () => {
  const CASES: { name: string; config: VAEConfig; x: Float32Array }[] = [
    { name: "bernoulli, tanh", config: { inputDim: D, encoder: [5], latentDim: L, activation: "tanh", seed: 1 }, x: randomArray(B * D, 1, 0, 1) },
    { name: "gaussian_learned, softplus, β = 0.5", config: { inputDim: D, encoder: [5], latentDim: L, activation: "softplus", likelihood: "gaussian_learned", beta: 0.5, seed: 2 }, x: randomArray(B * D, 2, -1, 1) },
    { name: "conditional (C = 3), softplus", config: { inputDim: D, encoder: [5], latentDim: L, activation: "softplus", conditionDim: 3, seed: 4 }, x: randomArray(B * D, 4, 0, 1) },
  ];
  for (const cs of CASES) {
    it(cs.name, async () => {
      const vae = await VAE.create({ ...cs.config, objective: { type: "iwae", samples: 5 } });
      const cond = vae.config.conditionDim ? randomArray(B * vae.config.conditionDim, 9, 0, 1) : undefined;
      const batch = cond ? { x: cs.x, condition: cond } : cs.x;
      const noise = Float32Array.from(randomNormals(B * 5 * L, 7));
      const { checked, nonzero } = finiteDifferenceCheck(vae, batch, noise);
      expect(checked).toBeGreaterThanOrEqual(3 * 6);
      expect(nonzero).toBeGreaterThan(checked / 2);
    });
  }
});

/** float64 −L_k per row from the model's encode and decode (no step code):
 *  log w = log p(x|z) + log N(z; 0, I) − log N(z; μ, σ²), z = μ + σ·ε. */
function iwaeLossRef(vae: VAE, x: Float32Array, noise: Float64Array, S: number): number {
  const { mean, logvar } = vae.encode(x);
  const rows = x.length / D;
  const z = new Float32Array(rows * S * L);
  for (let b = 0; b < rows; b++) for (let s = 0; s < S; s++) for (let j = 0; j < L; j++) {
    z[(b * S + s) * L + j] = mean[b * L + j] + Math.exp(0.5 * logvar[b * L + j]) * noise[(b * S + s) * L + j];
  }
  const p = vae.decode(z);
  let total = 0;
  for (let b = 0; b < rows; b++) {
    const lw: number[] = [];
    for (let s = 0; s < S; s++) {
      const r = b * S + s;
      let v = 0;
      for (let d = 0; d < D; d++) { const q = p[r * D + d], t = x[b * D + d]; v += t * Math.log(q) + (1 - t) * Math.log(1 - q); }
      for (let j = 0; j < L; j++) {
        const zz = z[r * L + j], mu = mean[b * L + j], lv = logvar[b * L + j];
        v += -0.5 * zz * zz - 0.5 * LOG_2PI + 0.5 * (zz - mu) ** 2 / Math.exp(lv) + 0.5 * lv + 0.5 * LOG_2PI;
      }
      lw.push(v);
    }
    const m = Math.max(...lw);
    total += -(m + Math.log(lw.reduce((a, v) => a + Math.exp(v - m), 0) / S));
  }
  return total / rows;
}

describe("iwae k = 5 loss", () => {
  it("equals the bound computed in float64 from encode and decode, and lies below the ELBO's loss on average", async () => {
    const S = 5, x = randomArray(B * D, 5, 0, 1);
    const vae = await VAE.create({ inputDim: D, encoder: [5], latentDim: L, activation: "tanh", seed: 1, objective: { type: "iwae", samples: S } });
    const elboModel = await VAE.create({ inputDim: D, encoder: [5], latentDim: L, activation: "tanh", seed: 1 });
    let iw = 0, el = 0;
    for (let t = 0; t < 20; t++) {
      const noise = randomNormals(B * S * L, 100 + t);
      const got = vae.computeGradients(x, { noise: Float32Array.from(noise) }).loss;
      expect(Math.abs(got - iwaeLossRef(vae, x, Float64Array.from(Float32Array.from(noise)), S))).toBeLessThan(1e-4 * Math.abs(got));
      iw += got;
      el += elboModel.computeGradients(x, { noise: Float32Array.from(noise.subarray(0, B * L)) }).loss;
    }
    expect(iw / 20).toBeLessThan(el / 20);
  });
});

describe("DReG", () => {
  it("decoder gradient equals IWAE's for the same noise; encoder gradient's mean equals IWAE's (within 4 standard errors)", async () => {
    const S = 5, x = randomArray(B * D, 6, 0, 1);
    const cfg: VAEConfig = { inputDim: D, encoder: [5], latentDim: L, activation: "tanh", seed: 8 };
    const iw = await VAE.create({ ...cfg, objective: { type: "iwae", samples: S } });
    const dr = await VAE.create({ ...cfg, objective: { type: "iwae", samples: S, gradient: "dreg" } });
    // weights off their init so the posterior is not the prior
    const w = iw.getWeights();
    for (const [n, t] of Object.entries(w)) w[n] = t.map((v, i) => v + randomArray(t.length, n.length + i, -0.4, 0.4)[i]);
    iw.setWeights(w); dr.setWeights(w);
    const T = 400;
    const names = Object.keys(w).filter((n) => n.startsWith("encoder."));
    const acc = (m: Map<string, Float64Array[]>, g: Record<string, Float32Array>) => {
      for (const n of names) { if (!m.has(n)) m.set(n, []); m.get(n)!.push(Float64Array.from(g[n])); }
    };
    const gi = new Map<string, Float64Array[]>(), gd = new Map<string, Float64Array[]>();
    for (let t = 0; t < T; t++) {
      const noise = Float32Array.from(randomNormals(B * S * L, 1000 + t));
      const a = iw.computeGradients(x, { noise }), b = dr.computeGradients(x, { noise });
      expect(b.loss).toBe(a.loss);
      for (const n of Object.keys(w)) if (n.startsWith("decoder.")) expect(Array.from(b.gradients[n])).toEqual(Array.from(a.gradients[n]));
      acc(gi, a.gradients); acc(gd, b.gradients);
    }
    let compared = 0, within = 0;
    for (const n of names) {
      const A = gi.get(n)!, Bd = gd.get(n)!;
      for (let i = 0; i < A[0].length; i++) {
        // paired difference: its mean is 0 when both estimators are unbiased for the same gradient
        let m = 0, m2 = 0;
        for (let t = 0; t < T; t++) { const d = A[t][i] - Bd[t][i]; m += d; m2 += d * d; }
        m /= T;
        const se = Math.sqrt(Math.max(m2 / T - m * m, 0) / (T - 1));
        compared++;
        if (Math.abs(m) <= 4 * se + 1e-7) within++;
      }
    }
    expect(compared).toBeGreaterThan(20);
    // 4 standard errors: a correct estimator fails a coordinate with probability ~6e-5
    expect(within).toBe(compared);
    // and DReG's variance is lower on the encoder (Tucker et al. 2018, Fig. 1)
    let vi = 0, vd = 0;
    for (const n of names) for (let i = 0; i < gi.get(n)![0].length; i++) {
      const varOf = (arr: Float64Array[]) => { let m = 0, m2 = 0; for (const a of arr) { m += a[i]; m2 += a[i] * a[i]; } m /= T; return m2 / T - m * m; };
      vi += varOf(gi.get(n)!); vd += varOf(gd.get(n)!);
    }
    expect(vd).toBeLessThan(vi);
  });
});

describe("iwae: threads, save/load, errors", () => {
  const cfg: VAEConfig = { inputDim: 61, encoder: [37, 23], latentDim: 5, decoder: [29, 43], activation: "tanh", seed: 11, objective: { type: "iwae", samples: 7, gradient: "dreg" } };
  it("20 steps at B = 19, k = 7: same bits on 1 and 2 threads", async () => {
    const x = randomArray(100 * 61, 1, 0, 1);
    const run = async (threads: number) => {
      const vae = await VAE.create(cfg, { threads });
      for (let s = 0; s < 20; s++) vae.trainStep(x.subarray((s % 4) * 19 * 61, ((s % 4) + 1) * 19 * 61));
      const w = bitsOf(vae.getWeights());
      vae.dispose();
      return w;
    };
    const one = await run(1), two = await run(2);
    expect(two).toEqual(one);
  });

  it("2 steps, save, load, 1 step = 3 steps in one go (bit for bit); the objective is saved", async () => {
    const x = randomArray(30 * 61, 2, 0, 1);
    const a = await VAE.create(cfg);
    for (let s = 0; s < 3; s++) a.trainStep(x.subarray(s * 10 * 61, (s + 1) * 10 * 61));
    const b = await VAE.create(cfg);
    for (let s = 0; s < 2; s++) b.trainStep(x.subarray(s * 10 * 61, (s + 1) * 10 * 61));
    const c = await VAE.load(b.save());
    expect(c.config.objective).toEqual({ type: "iwae", samples: 7, gradient: "dreg" });
    c.trainStep(x.subarray(2 * 10 * 61, 3 * 10 * 61));
    expect(bitsOf(c.getWeights())).toEqual(bitsOf(a.getWeights()));
  });

  it("bad objective entries are named errors", async () => {
    const bad: [unknown, RegExp][] = [
      [{ type: "iwea" }, /config\.objective\.type: expected one of "elbo", "iwae"/],
      [{ type: "iwae", samples: 0 }, /config\.objective\.samples/],
      [{ type: "iwae", samples: 2.5 }, /config\.objective\.samples/],
      [{ type: "iwae", gradient: "reinforce" }, /config\.objective\.gradient/],
      [{ type: "iwae", k: 5 }, /config\.objective/],
      ["iwae", /config\.objective: expected an object/],
      [{ type: "elbo", samples: 5 }, /config\.objective/],
    ];
    for (const [objective, re] of bad) {
      await expect(VAE.create({ inputDim: 4, latentDim: 2, objective } as unknown as VAEConfig)).rejects.toThrow(ArgumentError);
      await expect(VAE.create({ inputDim: 4, latentDim: 2, objective } as unknown as VAEConfig)).rejects.toThrow(re);
    }
  });

  it("the score-function estimator and estimatorVariance refuse IWAE by name", async () => {
    const vae = await VAE.create({ inputDim: 4, latentDim: 2, objective: { type: "iwae", samples: 3 } });
    const x = randomArray(8, 1, 0, 1);
    expect(() => vae.computeGradients(x, { estimator: "score" })).toThrow(/estimator: expected "reparameterized"/);
    expect(() => vae.estimatorVariance(x)).toThrow(ArgumentError);
    // the model's choices in full (they were cut to 40 characters: "objective iwae, latent gaussian, prior n…")
    expect(() => vae.estimatorVariance(x)).toThrow(/, got objective iwae, latent gaussian, prior normal$/);
    expect(() => vae.computeGradients(x, { noise: new Float32Array(4) })).toThrow(/noise: expected 6 rows × 2 values/);
  });
});

// review of issue 18: a step whose rows × k exceeded the arena's 65,536 rows
// threw "spec.batch: expected an integer in [1, 65536], got 524288", naming
// the memory planner's field instead of the batch the user passed
describe("a training step larger than the arena allows", () => {
  it("is refused by the batch's name (batch, batchSize), with the largest batch that fits, and changes nothing", async () => {
    const D = 4, x = randomArray(17 * D, 9, 0, 1);
    const vae = await VAE.create({ inputDim: D, encoder: [3], latentDim: 2, objective: { type: "iwae", samples: 4096 }, seed: 1 }, { threads: 1 });
    const why = "at most 16 rows per training step (its decoder runs on rows × 4096 importance samples, at most 65536 rows in all), got 17";
    await expectThrows(() => vae.trainStep(x), ArgumentError, `batch: expected ${why}`, [vae]);
    await expectThrows(() => vae.computeGradients(x), ArgumentError, `batch: expected ${why}`, [vae]);
    await expectThrows(() => vae.fit(x, { epochs: 1, batchSize: 17 }), ArgumentError, `batchSize: expected ${why}`, [vae]);
    expect(Number.isFinite(vae.trainStep(x.subarray(0, 16 * D)).loss)).toBe(true); // the control: 16 rows fit
    const vamp = await VAE.create({ inputDim: D, encoder: [3], latentDim: 2, prior: { type: "vamp", components: 16384 }, seed: 1 }, { threads: 1 });
    const big = randomArray(49153 * D, 10, 0, 1);
    await expectThrows(() => vamp.trainStep(big), ArgumentError,
      "batch: expected at most 49152 rows per training step (its encoder runs on the rows and the prior's 16384 pseudo-inputs, at most 65536 rows in all), got 49153", [vamp]);
  });

  it("a step whose arena would pass 4 GiB is refused by the batch's name (was \"bytes: the arena needs …\"), and changes nothing", async () => {
    const D = 784, vae = await VAE.create({ inputDim: D, encoder: [2048, 2048], latentDim: 2, objective: { type: "iwae", samples: 64 }, seed: 1 }, { threads: 1 });
    const x = new Float32Array(1024 * D).fill(0.5);
    const e = await expectThrows(() => vae.trainStep(x), ArgumentError, "batch: expected fewer rows: 65536 rows of this network's activations need", [vae]);
    expect(e.message).toMatch(/bytes, more than the 4 GiB a wasm32 memory can hold, got 1024$/);
    await expectThrows(() => vae.fit(x, { epochs: 1, batchSize: 1024 }), ArgumentError, "batchSize: expected fewer rows", [vae]);
    await expectThrows(() => VAE.create({ inputDim: D, encoder: [16384, 16384], latentDim: 2, maxBatch: 65536 }, { threads: 1 }), ArgumentError, "config.maxBatch: expected fewer rows");
  });
});

describe("inference after IWAE training steps", () => {
  it("elbo, logLikelihood and impute of an IWAE model equal those of an ELBO model with the same weights (the step's repeated targets never leak)", async () => {
    const cfg: VAEConfig = { inputDim: D, encoder: [5], latentDim: L, activation: "tanh", seed: 1 };
    const iw = await VAE.create({ ...cfg, objective: { type: "iwae", samples: 5 } });
    const el = await VAE.create(cfg);
    // a step on other rows leaves that batch's repeated targets in the arena
    iw.trainStep(randomArray(7 * D, 40, 0, 1));
    el.setWeights(iw.getWeights());
    const x = randomArray(3 * D, 41, 0, 1);
    expect(iw.elbo(x, { samples: 4 })).toEqual(el.elbo(x, { samples: 4 }));
    expect(iw.logLikelihood(x, { samples: 50 })).toEqual(el.logLikelihood(x, { samples: 50 }));
    const mask = new Uint8Array(3 * D).map((_, i) => (i % D < 3 ? 1 : 0));
    expect(iw.impute(x, mask)).toEqual(el.impute(x, mask));
  });
});
