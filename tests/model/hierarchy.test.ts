// Two stochastic layers (config.latents; src/objectives/prior-hierarchy.ts):
// - the config: resolution, the one-entry list is today's model bit for bit,
//   and the refusals by name;
// - the loss (ELBO and IWAE) against a float64 reference written here,
//   independently of the library, with fixed noise;
// - the whole model's gradient against central differences (grad-check.ts);
// - the same bits on 1, 2 and 3 threads (every call split);
// - save/load and resume; every inference method works or refuses by name;
// - a short real-MNIST run whose loss falls.
import { afterAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, loadMnist, VAE, type VAEConfig } from "../../src/index.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { randomArray, randomNormals } from "../reference.js";
import { finiteDifferenceCheck } from "./grad-check.js";
import { exportModel, INTEROP_FORMATS, readModel } from "../../src/onnx.js";

const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));
async function make(config: VAEConfig, threads = 1): Promise<VAE> {
  const v = await VAE.create(config, { threads, build: "plain" });
  created.push(v);
  return v;
}

const D = 6, L1 = 3, L2 = 2;
const SMALL = (objective: VAEConfig["objective"] = { type: "elbo" }): VAEConfig => ({
  inputDim: D, activation: "tanh", seed: 3, objective,
  latents: [{ encoder: [5], size: L1, decoder: [4] }, { encoder: [4], size: L2, decoder: [5] }],
});

// ---------------------------------------------------------------- reference
// float64: an MLP of named dense layers (weights (in, out), tanh hidden,
// identity last), the two-level bound per row with noise [ε₁ block | ε₂ block].
type W = Record<string, Float32Array>;
function mlp(w: W, prefix: string, n: number, x: number[]): number[] {
  let h = x;
  for (let i = 0; i < n; i++) {
    const wt = w[`${prefix}.${i}.weight`], b = w[`${prefix}.${i}.bias`], out = b.length, inn = h.length;
    if (wt.length !== inn * out) throw new Error(`${prefix}.${i}.weight: ${wt.length} values for ${inn} × ${out}`);
    const y = new Array<number>(out).fill(0);
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let j = 0; j < inn; j++) s += h[j] * wt[j * out + o];
      y[o] = i < n - 1 ? Math.tanh(s) : s;
    }
    h = y;
  }
  return h;
}
const LOG2PI = Math.log(2 * Math.PI);
const logN = (z: number[], mu: number[], lv: number[]) => z.reduce((s, v, j) => s - 0.5 * (v - mu[j]) ** 2 / Math.exp(lv[j]) - 0.5 * lv[j] - 0.5 * LOG2PI, 0);
/** log w of the S sample rows of row b (noise of B·S sample rows). */
function referenceLogW(w: W, x: Float32Array, b: number, B: number, S: number, noise: Float32Array): number[] {
  const xb = Array.from(x.subarray(b * D, (b + 1) * D));
  const h1 = mlp(w, "encoder", 2, xb), mu1 = h1.slice(0, L1), lv1 = h1.slice(L1);
  const lws: number[] = [];
  for (let s = 0; s < S; s++) {
    const r = b * S + s;
    const e1 = Array.from(noise.subarray(r * L1, (r + 1) * L1));
    const e2 = Array.from(noise.subarray(B * S * L1 + r * L2, B * S * L1 + (r + 1) * L2));
    const z1 = mu1.map((m, j) => m + Math.exp(0.5 * lv1[j]) * e1[j]);
    const h2 = mlp(w, "level2.encoder", 2, z1), mu2 = h2.slice(0, L2), lv2 = h2.slice(L2);
    const z2 = mu2.map((m, j) => m + Math.exp(0.5 * lv2[j]) * e2[j]);
    const hp = mlp(w, "level2.decoder", 2, z2);
    const logits = mlp(w, "decoder", 2, z1);
    const logpx = logits.reduce((a, l, d) => a + xb[d] * l - Math.max(l, 0) - Math.log1p(Math.exp(-Math.abs(l))), 0);
    lws.push(logpx + logN(z1, hp.slice(0, L1), hp.slice(L1)) + logN(z2, [0, 0], [0, 0]) - logN(z1, mu1, lv1) - logN(z2, mu2, lv2));
  }
  return lws;
}
const logMeanExp = (a: number[]) => { const m = Math.max(...a); return m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0) / a.length); };
/** −(batch mean of log (1/S) Σ_s w_bs) (S = 1: the ELBO's loss). */
function referenceLoss(w: W, x: Float32Array, B: number, S: number, noise: Float32Array): number {
  let total = 0;
  for (let b = 0; b < B; b++) total -= logMeanExp(referenceLogW(w, x, b, B, S, noise));
  return total / B;
}

describe("config.latents", () => {
  it("resolves levels; describes the architecture; the parameters of both levels", async () => {
    const v = await make(SMALL());
    expect(v.config.latentDim).toBe(L1);
    expect(v.config.latents?.map((l) => l.size)).toEqual([L1, L2]);
    expect(Object.keys(v.parameterShapes())).toEqual([
      "encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias",
      "decoder.0.weight", "decoder.0.bias", "decoder.1.weight", "decoder.1.bias",
      "level2.encoder.0.weight", "level2.encoder.0.bias", "level2.encoder.1.weight", "level2.encoder.1.bias",
      "level2.decoder.0.weight", "level2.decoder.0.bias", "level2.decoder.1.weight", "level2.decoder.1.bias",
    ]);
    expect(v.parameterShapes()["level2.encoder.1.weight"]).toEqual([4, 2 * L2]);
    expect(v.parameterShapes()["level2.decoder.1.weight"]).toEqual([5, 2 * L1]);
  });

  it("one entry is today's model: same config, same bits after training", async () => {
    const x = randomArray(40 * D, 9, 0, 1);
    const a = await make({ inputDim: D, latents: [{ encoder: [5], size: 3, decoder: [4] }], seed: 2 });
    const b = await make({ inputDim: D, encoder: [5], latentDim: 3, decoder: [4], seed: 2 });
    expect(a.config).toEqual(b.config);
    for (let i = 0; i < 5; i++) expect(a.trainStep(x).loss).toBe(b.trainStep(x).loss);
    expect(a.getWeights()).toEqual(b.getWeights());
  });

  it("refuses by name: both forms, dreg, a condition, a level without encoder, bad entries", async () => {
    const lat = SMALL().latents!;
    const bad: [VAEConfig, RegExp][] = [
      [{ inputDim: D, latents: lat, encoder: [7] }, /config\.encoder: .*config\.latents/],
      [{ inputDim: D, latents: lat, latentDim: 4 }, /config\.latentDim/],
      [{ inputDim: D, latents: lat, decoder: [9] }, /config\.decoder/],
      [{ inputDim: D, latents: lat, objective: { type: "iwae", samples: 3, gradient: "dreg" } }, /config\.objective\.gradient.*DReG/],
      [{ inputDim: D, latents: lat, conditionDim: 2 }, /config\.conditionDim/],
      [{ inputDim: D, latents: [lat[0], { size: 2 }] }, /config\.latents\[1\]\.encoder/],
      [{ inputDim: D, latents: [lat[0], { encoder: [3], size: 0 }] }, /config\.latents\[1\]\.size/],
      [{ inputDim: D, latents: [lat[0], { encoder: [3], size: 2, width: 3 } as never] }, /config\.latents\[1\]\.width/],
      [{ inputDim: D, latents: [] }, /config\.latents/],
    ];
    for (const [c, re] of bad) await expect(VAE.create(c), JSON.stringify(c)).rejects.toThrow(re);
    await expect(VAE.create(bad[0][0])).rejects.toBeInstanceOf(ArgumentError);
  });
});

describe("the two-level bound", () => {
  for (const [name, objective, S] of [["ELBO", { type: "elbo" }, 1], ["IWAE k = 4", { type: "iwae", samples: 4 }, 4]] as const) {
    it(`${name}: the loss vs the float64 reference, fixed noise`, async () => {
      const v = await make(SMALL(objective));
      const w0 = v.getWeights(); // move off the init (biases are 0 there)
      for (const [n, t] of Object.entries(w0)) v.setWeights({ [n]: t.map((x, i) => x + randomArray(t.length, n.length + 5)[i] * 0.5) });
      const B = 3, x = randomArray(B * D, 4, 0, 1), noise = randomArray(B * S * (L1 + L2), 8, -1.5, 1.5);
      const got = v.computeGradients(x, { noise }).loss;
      const want = referenceLoss(v.getWeights(), x, B, S, noise);
      expect(Math.abs(got - want), `loss ${got} vs float64 ${want}`).toBeLessThan(2e-5 * (1 + Math.abs(want)));
    });

    it(`${name}: every parameter's gradient vs central differences`, async () => {
      const v = await make(SMALL(objective));
      const B = 3, x = randomArray(B * D, 14, 0, 1), noise = randomArray(B * S * (L1 + L2), 18, -1.5, 1.5);
      const { checked, nonzero } = finiteDifferenceCheck(v, x, noise, { h: 1e-2, abs: 2e-3, rel: 1e-2 });
      expect(checked).toBeGreaterThanOrEqual(40);
      expect(nonzero).toBeGreaterThan(checked / 2);
    });
  }
});

describe("threads, persistence, inference", () => {
  it("IWAE k = 3: 20 steps give the same bits on 1, 2 and 3 threads (every call split)", async () => {
    const x = randomArray(40 * D, 21, 0, 1);
    const bits: Uint32Array[] = [];
    for (const t of [1, 2, 3]) {
      const v = await make({ ...SMALL({ type: "iwae", samples: 3 }), maxBatch: 40 }, t);
      expect(v.threads).toBe(t);
      (v.kernels.threadsHandle as ThreadPool | null)?.tune({ minWork: 0 });
      for (let i = 0; i < 20; i++) v.trainStep(x);
      const w = Object.values(v.exportState().weights!);
      bits.push(new Uint32Array(Float32Array.from(w.flatMap((a) => Array.from(a))).buffer));
    }
    expect(bits[1]).toEqual(bits[0]);
    expect(bits[2]).toEqual(bits[0]);
  });

  it("save/load is exact and a resumed fit equals an uninterrupted one", async () => {
    const x = randomArray(60 * D, 31, 0, 1);
    const cfg = SMALL({ type: "iwae", samples: 2 });
    const fit = { batchSize: 20, yieldEvery: 0 } as const;
    const a = await make(cfg);
    a.optimizer = new Adam({ lr: 1e-2 });
    await a.fit(x, { ...fit, epochs: 2 });
    const b = await make(cfg);
    b.optimizer = new Adam({ lr: 1e-2 });
    await b.fit(x, { ...fit, epochs: 1 });
    const c = await VAE.load(b.save());
    created.push(c);
    expect(c.config).toEqual(b.config);
    expect(c.getWeights()).toEqual(b.getWeights());
    await c.fit(x, { ...fit, epochs: 1 });
    expect(c.getWeights()).toEqual(a.getWeights());
  });

  it("elbo (4,000 samples) and logLikelihood (k = 5000) vs the reference's own Monte-Carlo estimates", async () => {
    const v = await make(SMALL());
    const w0 = v.getWeights();
    for (const [n, t] of Object.entries(w0)) v.setWeights({ [n]: t.map((x, i) => x + randomArray(t.length, n.length + 9)[i] * 0.5) });
    const w = v.getWeights(), B = 3, x = randomArray(B * D, 51, 0, 1);
    // ELBO = E[log w]: within 4.5 standard errors of both means (independent noise)
    const S = 4000, e = v.elbo(x, { samples: S }).elbo;
    for (let b = 0; b < B; b++) {
      const lw = referenceLogW(w, x.subarray(b * D, (b + 1) * D), 0, 1, S, Float32Array.from(randomNormals(S * (L1 + L2), 70 + b)));
      const mean = lw.reduce((a, q) => a + q, 0) / S, sd = Math.sqrt(lw.reduce((a, q) => a + (q - mean) ** 2, 0) / (S - 1));
      expect(Math.abs(e[b] - mean), `row ${b}: elbo ${e[b]} vs ${mean} ± ${sd / Math.sqrt(S)}`).toBeLessThan(4.5 * Math.SQRT2 * sd / Math.sqrt(S));
    }
    // log p(x): the mean of 3 estimates each side (their spread here is ~0.1 nats;
    // a missing term or constant moves it by a nat or more)
    const K = 5000;
    for (let b = 0; b < B; b++) {
      const xb = x.subarray(b * D, (b + 1) * D);
      const got = [0, 1, 2].map(() => v.logLikelihood(xb, { samples: K })[0]).reduce((a, q) => a + q, 0) / 3;
      const want = [0, 1, 2].map((t) => logMeanExp(referenceLogW(w, xb, 0, 1, K, Float32Array.from(randomNormals(K * (L1 + L2), 80 + 3 * b + t))))).reduce((a, q) => a + q, 0) / 3;
      expect(Math.abs(got - want), `row ${b}: log p(x) ${got} vs ${want}`).toBeLessThan(0.25);
    }
  });

  it("sample is ancestral: at temperature 0, x = σ(decoder(μ(z₁|z₂ = 0))) as the float64 reference computes it", async () => {
    const v = await make(SMALL());
    const w0 = v.getWeights();
    for (const [n, t] of Object.entries(w0)) v.setWeights({ [n]: t.map((x, i) => x + randomArray(t.length, n.length + 7)[i] * 0.5) });
    const w = v.getWeights();
    const mu1 = mlp(w, "level2.decoder", 2, [0, 0]).slice(0, L1);
    const want = mlp(w, "decoder", 2, mu1).map((l) => 1 / (1 + Math.exp(-l)));
    const got = v.sample(3, { temperature: 0 });
    for (let r = 0; r < 3; r++) for (let d = 0; d < D; d++) expect(Math.abs(got[r * D + d] - want[d])).toBeLessThan(1e-6);
  });

  it("every inference method works or refuses by name", async () => {
    const v = await make(SMALL({ type: "iwae", samples: 2 }));
    const x = randomArray(5 * D, 41, 0, 1);
    for (let i = 0; i < 30; i++) v.trainStep(x);
    expect(v.encode(x).mean.length).toBe(5 * L1);                    // q(z₁|x)
    expect(v.decode(new Float32Array(2 * L1)).length).toBe(2 * D);    // z₁ → x
    const s1 = v.sample(4), s2 = v.sample(4);
    expect(s1.length).toBe(4 * D);
    expect(s1).not.toEqual(s2);                                       // the evaluation stream advances
    expect(v.reconstruct(x).length).toBe(5 * D);
    const e = v.elbo(x, { samples: 200 });
    const ll = v.logLikelihood(x, { samples: 5000 });                 // chunked through the arena
    for (let i = 0; i < 5; i++) {
      expect(Number.isFinite(ll[i])).toBe(true);
      expect(ll[i]).toBeGreaterThan(e.elbo[i] - 0.05);                // L_5000 ≥ E[ELBO] up to MC noise
      expect(e.kl[i]).toBeGreaterThan(-0.5);
    }
    const mask = new Uint8Array(5 * D).map((_, i) => (i % D < 3 ? 1 : 0));
    for (const o of [{ samples: 50 }, { method: "metropolis", iterations: 20 }, { method: "pseudo_gibbs", iterations: 20 }] as const) {
      const done = v.impute(x, mask, o);
      expect(done.length).toBe(5 * D);
      for (let i = 0; i < 5 * D; i++) if (mask[i]) expect(done[i]).toBe(x[i]); else expect(done[i]).toBeGreaterThanOrEqual(0);
    }
    expect(() => v.computeGradients(x, { estimator: "score" })).toThrow(/estimator/);
    for (const f of INTEROP_FORMATS) expect(() => exportModel(v, f), f).toThrow(/^vae: .*config\.latents.*vae\.save/);
    expect(() => readModel({}, "safetensors", { config: SMALL() })).toThrow(/^options\.config: .*config\.latents/);
  });
});

describe("real MNIST", () => {
  it("2,000 rows, 784-200-200-100 | 100-100-50, tanh, IWAE k = 5: the loss falls", async () => {
    const { images } = await loadMnist({ split: "train", limit: 2000 });
    const v = await make({
      inputDim: 784, activation: "tanh", seed: 1, objective: { type: "iwae", samples: 5 },
      latents: [{ encoder: [200, 200], size: 100, decoder: [200, 200] }, { encoder: [100, 100], size: 50, decoder: [100, 100] }],
    });
    v.optimizer = new Adam({ lr: 1e-3, eps: 1e-4 });
    const h = await v.fit(images, { epochs: 2, batchSize: 20, yieldEvery: 0 });
    const losses = h.epochs.map((e) => e.loss);
    expect(losses[1]).toBeLessThan(losses[0] - 5);
    const test = (await loadMnist({ split: "test", limit: 100 })).images;
    expect(Array.from(v.elbo(test).elbo).every(Number.isFinite)).toBe(true);
  }, 120_000);
});
