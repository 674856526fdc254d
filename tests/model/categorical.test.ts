// The categorical latent (issue 18) on the whole model: the config (defaults,
// the uniform prior, refusals by name), the training step against finite
// differences and against a float64 re-computation of its forward at the
// scheduled temperature, straight-through, bit-identity across thread counts,
// exact resume across save/load, and every public method: encode, sample,
// reconstruct, interpolate, elbo and logLikelihood against exact enumeration
// of a small code (K^N codes), impute against the exact E[x_miss | x_obs]
// over those codes, and the refusals (spherical paths,
// sampling temperature, interchange export, DReG and straight-through IWAE);
// IWAE with k > 1 on the relaxed (concrete) densities: its loss against a
// float64 recomputation from encode and decode, its gradients against finite
// differences, the same bits on 1, 2 and 3 threads.
// Not here: the kernels (tests/kernels/categorical.test.ts), MNIST (categorical-mnist.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { ArgumentError, exportModel, VAE, type VAEConfig } from "../../src/index.js";
import { temperatureAt } from "../../src/objectives/latent-categorical.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { concreteLogDensityRef, gumbelRef, gumbelSoftmaxRef, randomArray } from "../reference.js";
import { expectSameBits } from "../kernels/helpers.js";
import { finiteDifferenceCheck } from "./grad-check.js";

const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));
async function make(config: VAEConfig, threads = 1, build: "plain" | "relaxed" = "plain"): Promise<VAE> {
  const v = await VAE.create(config, { threads, build });
  created.push(v);
  return v;
}

const D = 6, B = 4;
const SMALL: VAEConfig = {
  inputDim: D, encoder: [5], decoder: [5], activation: "tanh", seed: 3,
  latent: { type: "categorical", variables: 2, classes: 3 },
};

/** Bernoulli log p(x|·) of rows of decoded probabilities, float64. */
function logLik(p: Float32Array, x: ArrayLike<number>, rows: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) {
    const q = p[r * D + d], t = x[r * D + d];
    out[r] += t * Math.log(q) + (1 - t) * Math.log(1 - q);
  }
  return out;
}

/** Gumbel noise rows (as the model's noise option takes them). */
const noiseOf = (n: number, seed: number) => Float32Array.from(randomArray(n, seed, 0, 1), gumbelRef);

describe("config", () => {
  it("resolves: latentDim = variables × classes, the uniform prior by default, the schedule's defaults (Jang et al.)", async () => {
    const v = await make({ inputDim: D, latent: { type: "categorical", variables: 20, classes: 10 } });
    expect(v.config.latentDim).toBe(200);
    expect(v.config.prior).toEqual({ type: "uniform" });
    expect(v.config.latent).toEqual({ type: "categorical", variables: 20, classes: 10, temperature: { initial: 1, min: 0.5, rate: 3e-5 }, straightThrough: false });
    expect(v.parameterShapes()["encoder.1.weight"]).toEqual([400, 200]); // the head: N·K logits
    const g = await make({ inputDim: D, latentDim: 3 });
    expect(g.config.prior).toEqual({ type: "normal" }); // the Gaussian's default is unchanged
  });

  it("refuses what does not fit, naming the entry", async () => {
    const cat = { type: "categorical", variables: 2, classes: 3 } as const;
    const bad: [VAEConfig, RegExp][] = [
      [{ inputDim: D, latent: cat, prior: { type: "normal" } }, /^config\.prior\.type: expected a prior the categorical latent pairs with \("uniform"\)/],
      [{ inputDim: D, latentDim: 4, prior: { type: "uniform" } }, /^config\.prior\.type: expected a prior the gaussian latent pairs with/],
      [{ inputDim: D, latentDim: 5, latent: cat }, /^config\.latentDim: expected 6 \(what the categorical latent implies\) or nothing/],
      [{ inputDim: D, latent: { ...cat, classes: 1 } }, /^config\.latent\.classes: expected an integer in \[2, /],
      [{ inputDim: D, latent: { ...cat, variables: 0 } }, /^config\.latent\.variables/],
      [{ inputDim: D, latent: { ...cat, temperature: { initial: 0 } } }, /^config\.latent\.temperature\.initial: expected a finite number ≥ 0\.001/],
      [{ inputDim: D, latent: { ...cat, temperature: { initial: 1, min: 2 } } }, /^config\.latent\.temperature\.min: expected a finite number ≥ 0\.001 and ≤ 1/],
      [{ inputDim: D, latent: { ...cat, temperature: { rate: -1 } } }, /^config\.latent\.temperature\.rate/],
      [{ inputDim: D, latent: { ...cat, temperature: { tau: 1 } as never } }, /^config\.latent\.temperature\.tau: unknown option/],
      [{ inputDim: D, latent: { ...cat, straightThrough: 1 as never } }, /^config\.latent\.straightThrough: expected true or false/],
      [{ inputDim: D, latent: { ...cat, straightThrough: true }, objective: { type: "iwae", samples: 5 } }, /^config\.objective: expected \{ type: "elbo" \} with a straight-through categorical latent \(the importance weights need the relaxed sample's density.*, got \{ type: "iwae", samples: 5 \}$/], // was: got "object"
      [{ inputDim: D, latent: cat, objective: { type: "iwae", samples: 5, gradient: "dreg" } }, /^config\.objective\.gradient: expected "iwae" with a categorical latent \(DReG/],
      [{ inputDim: D, latent: cat, objective: { type: "iwae", samples: 1, gradient: "dreg" } }, /^config\.objective\.gradient: expected "iwae" with a categorical latent/],
    ];
    for (const [c, re] of bad) {
      await expect(VAE.create(c)).rejects.toThrow(ArgumentError);
      await expect(VAE.create(c)).rejects.toThrow(re);
    }
  });

  it("the temperature schedule: τ = max(τ_min, τ0·exp(−r·t))", async () => {
    const v = await make({ inputDim: D, latent: { type: "categorical", variables: 1, classes: 2, temperature: { initial: 2, min: 0.3, rate: 1e-3 } } });
    const s = v.config.latent;
    expect(temperatureAt(s, 0)).toBe(2);
    expect(temperatureAt(s, 1000)).toBeCloseTo(2 / Math.E, 12);
    expect(temperatureAt(s, 10000)).toBe(0.3);
  });
});

describe("the training step", () => {
  it("relaxed: gradients match finite differences at τ0 and at τ_min (steps taken: 0 and 10⁶)", async () => {
    for (const steps of [0, 1e6]) {
      const v = await make({ ...SMALL, latent: { type: "categorical", variables: 2, classes: 3, temperature: { initial: 1.3, min: 0.6 } } });
      v.steps = steps;
      const x = randomArray(B * D, 1, 0, 1);
      const { checked, nonzero } = finiteDifferenceCheck(v, x, noiseOf(B * 6, 2));
      expect(checked).toBeGreaterThanOrEqual(12);
      expect(nonzero).toBeGreaterThan(checked / 2);
    }
  });

  it("the forward is the float64 Gumbel-softmax at the scheduled τ: reconstruction and KL recomputed from encode and decode", async () => {
    const cases: [boolean, number][] = [[false, 0], [false, 30000], [true, 30000]];
    for (const [straightThrough, steps] of cases) {
      const v = await make({ ...SMALL, latent: { type: "categorical", variables: 2, classes: 3, temperature: { initial: 1.5, min: 0.2, rate: 4e-5 }, straightThrough } });
      v.setWeights(Object.fromEntries(Object.entries(v.getWeights()).map(([n, t]) => [n, t.map((w, i) => w + Math.sin(i + n.length))])));
      v.steps = steps;
      const x = randomArray(B * D, 3, 0, 1), g = noiseOf(B * 6, 4);
      const r = v.computeGradients(x, { noise: g });
      const tau = 1.5 * Math.exp(-4e-5 * steps);
      const { logits, mean } = v.encode(x);
      const z = Float32Array.from(gumbelSoftmaxRef(logits!, g, B, 1, 2, 3, tau, straightThrough));
      const rec = -logLik(v.decode(z), x, B).reduce((a, b) => a + b) / B;
      let kl = 0;
      for (let i = 0; i < mean.length; i++) kl += mean[i] * (Math.log(mean[i]) + Math.log(3));
      expect(Math.abs(r.reconstruction - rec), `reconstruction, straight-through ${straightThrough}, t = ${steps}`).toBeLessThan(2e-5 * Math.abs(rec) + 1e-5);
      expect(Math.abs(r.kl - kl / B)).toBeLessThan(1e-5);
    }
  });

  it("straight-through: the decoder's gradients match finite differences of its (hard-forward) loss; the encoder gets the relaxed sample's gradient", async () => {
    const v = await make({ ...SMALL, latent: { type: "categorical", variables: 2, classes: 3, straightThrough: true } });
    const x = randomArray(B * D, 5, 0, 1), noise = noiseOf(B * 6, 6);
    const base = v.getWeights(), g = v.computeGradients(x, { noise }).gradients;
    const h = 1e-2;
    let checked = 0;
    for (const name of Object.keys(base).filter((n) => n.startsWith("decoder."))) {
      for (const i of [0, base[name].length - 1]) {
        const at = (d: number) => { const t = base[name].slice(); t[i] += d; v.setWeights({ [name]: t }); const l = v.computeGradients(x, { noise }).loss; v.setWeights({ [name]: base[name] }); return l; };
        const up = Math.fround(base[name][i] + h), dn = Math.fround(base[name][i] - h);
        const fd = (at(up - base[name][i]) - at(dn - base[name][i])) / (up - dn);
        expect(Math.abs(fd - g[name][i]), `${name}[${i}]`).toBeLessThan(1e-3 + 5e-3 * Math.abs(g[name][i]));
        checked++;
      }
    }
    expect(checked).toBe(8);
    // the encoder's gradient is not the KL's alone: with β = 0 the reconstruction reaches it through the relaxed sample
    const rec = v.computeGradients(x, { noise, beta: 0 }).gradients["encoder.1.bias"];
    expect(rec.filter((a) => Math.abs(a) > 1e-4).length).toBeGreaterThan(3);
  });

  it("iwae with samples: 1 is the ELBO bit for bit", async () => {
    const x = randomArray(20 * D, 7, 0, 1);
    const a = await make(SMALL), b = await make({ ...SMALL, objective: { type: "iwae", samples: 1 } });
    for (let s = 0; s < 5; s++) expect(b.trainStep(x).loss).toBe(a.trainStep(x).loss);
    expect(b.getWeights()).toEqual(a.getWeights());
  });
});

describe("iwae, k > 1, on the relaxed (concrete) densities", () => {
  const CAT = { type: "categorical", variables: 2, classes: 3, temperature: { initial: 1.4, min: 0.5, rate: 1e-4 } } as const;
  const S = 4;

  it("the loss is −log (1/k) Σ_s w_s recomputed in float64 from encode and decode, log w = log p(x|y) + β·(log p_τ(y) − log q_τ(y)), at τ0 and later", async () => {
    for (const [steps, beta] of [[0, 1], [5000, 0.5]] as [number, number][]) {
      const v = await make({ ...SMALL, latent: CAT, beta, objective: { type: "iwae", samples: S } });
      v.setWeights(Object.fromEntries(Object.entries(v.getWeights()).map(([n, t]) => [n, t.map((w, i) => w + 0.5 * Math.sin(i + n.length))])));
      v.steps = steps;
      const x = randomArray(B * D, 11, 0, 1), g = noiseOf(B * S * 6, 12);
      const r = v.computeGradients(x, { noise: g });
      const tau = Math.max(0.5, 1.4 * Math.exp(-1e-4 * steps));
      const { logits } = v.encode(x);
      const y = Float32Array.from(gumbelSoftmaxRef(logits!, g, B, S, 2, 3, tau, false));
      const xs = new Float32Array(B * S * D);
      for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) xs.set(x.subarray(b * D, (b + 1) * D), (b * S + s) * D);
      const ll = logLik(v.decode(y), xs, B * S);
      const lq = concreteLogDensityRef(logits!, g, B, S, 2, 3, tau, false), lp = concreteLogDensityRef(logits!, g, B, S, 2, 3, tau, true);
      let loss = 0;
      for (let b = 0; b < B; b++) {
        const lw = Array.from({ length: S }, (_, s) => ll[b * S + s] + beta * (lp[b * S + s] - lq[b * S + s]));
        const m = Math.max(...lw);
        loss += -(m + Math.log(lw.reduce((a, w) => a + Math.exp(w - m), 0) / S));
      }
      loss /= B;
      expect(Math.abs(r.loss - loss), `loss ${r.loss} vs ${loss}, t = ${steps}`).toBeLessThan(2e-5 * Math.abs(loss) + 2e-5);
    }
  });

  it("gradients match finite differences (noise fixed), β = 1 and 0.3", async () => {
    for (const beta of [1, 0.3]) {
      const v = await make({ ...SMALL, latent: CAT, beta, objective: { type: "iwae", samples: S } });
      const x = randomArray(B * D, 13, 0, 1);
      const { checked, nonzero } = finiteDifferenceCheck(v, x, noiseOf(B * S * 6, 14));
      expect(checked).toBeGreaterThanOrEqual(12);
      expect(nonzero).toBeGreaterThan(checked / 2);
    }
  });

  it("trains: on four prototype patterns the importance-weighted log-likelihood (discrete q, 100 samples) improves by > 1 nat in 600 steps; elbo's KL stays the discrete closed form", async () => {
    const v = await make({ ...SMALL, latent: CAT, objective: { type: "iwae", samples: S } });
    const protos = [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]];
    const x = new Float32Array(64 * D);
    for (let r = 0; r < 64; r++) x.set(protos[r % 4], r * D);
    const mean = (a: Float32Array) => a.reduce((p, q) => p + q, 0) / a.length;
    const before = mean(v.logLikelihood(x, { samples: 100 }));
    for (let s = 0; s < 600; s++) v.trainStep(x.subarray((s % 4) * 16 * D, ((s % 4) + 1) * 16 * D));
    expect(mean(v.logLikelihood(x, { samples: 100 }))).toBeGreaterThan(before + 1);
    const e = await make({ ...SMALL, latent: CAT });
    e.setWeights(v.getWeights());
    expect(Array.from(e.elbo(x).kl)).toEqual(Array.from(v.elbo(x).kl));
  });
});

/** Weights, moments and streams as bits. */
function stateBits(vae: VAE): Uint32Array {
  const s = vae.exportState(), parts: Uint32Array[] = [];
  for (const rec of [s.weights, s.m!, s.v!]) for (const a of Object.values(rec)) parts.push(new Uint32Array(a.buffer, a.byteOffset, a.length));
  parts.push(s.rngTrain!, s.rngEval!);
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const UNEVEN: VAEConfig = {
  inputDim: 61, encoder: [37], decoder: [29], activation: "tanh", seed: 11, maxBatch: 133,
  latent: { type: "categorical", variables: 7, classes: 5, temperature: { rate: 0.01 } },
};

describe("determinism", () => {
  it.each(["plain", "relaxed"] as const)("%s build: 30 steps on 1, 2 and 3 threads (every call split) give the same bits, relaxed and straight-through", async (build) => {
    const x = randomArray(300 * 61, 1, 0, 1);
    const ref: (Uint32Array | null)[] = [null, null];
    for (const t of [1, 2, 3]) {
      for (const st of [false, true]) {
        const v = await make({ ...UNEVEN, latent: { ...(UNEVEN.latent as object), straightThrough: st } as never }, t, build);
        (v.kernels.threadsHandle as ThreadPool | null)?.tune({ minWork: 0 });
        for (let s = 0; s < 30; s++) v.trainStep(x.subarray((s % 2) * 133 * 61, ((s % 2) + 1) * 133 * 61));
        v.dispose();
        const bits = stateBits(v), i = st ? 1 : 0;
        if (!ref[i]) ref[i] = bits;
        else expectSameBits(bits, ref[i]!, `${build}, straight-through ${st}, ${t} threads`);
      }
    }
  });

  it.each(["plain", "relaxed"] as const)("%s build: iwae k = 3 (concrete densities), 20 steps on 1, 2 and 3 threads give the same bits", async (build) => {
    const x = randomArray(300 * 61, 2, 0, 1);
    let ref: Uint32Array | null = null;
    for (const t of [1, 2, 3]) {
      const v = await make({ ...UNEVEN, objective: { type: "iwae", samples: 3 } }, t, build);
      (v.kernels.threadsHandle as ThreadPool | null)?.tune({ minWork: 0 });
      for (let s = 0; s < 20; s++) v.trainStep(x.subarray((s % 2) * 133 * 61, ((s % 2) + 1) * 133 * 61));
      v.dispose();
      const bits = stateBits(v);
      if (!ref) ref = bits;
      else expectSameBits(bits, ref, `${build}, iwae k = 3, ${t} threads`);
    }
  });

  it("exact resume: 20 steps = 10 steps, save, load, 10 steps (the temperature follows the saved step count)", async () => {
    const x = randomArray(400 * 61, 2, 0, 1);
    const batch = (s: number) => x.subarray((s % 3) * 100 * 61, ((s % 3) + 1) * 100 * 61);
    const a = await make(UNEVEN);
    for (let s = 0; s < 20; s++) a.trainStep(batch(s));
    const b = await make(UNEVEN);
    for (let s = 0; s < 10; s++) b.trainStep(batch(s));
    const c = await VAE.load(b.save(), { threads: 1 });
    created.push(c);
    expect(c.steps).toBe(10);
    for (let s = 10; s < 20; s++) c.trainStep(batch(s));
    expectSameBits(stateBits(c), stateBits(a), "resumed vs uninterrupted");
    // and the schedule matters: the same 10 steps replayed from step 0 differ
    const d = await VAE.load(b.save(), { threads: 1 });
    created.push(d);
    d.steps = 0;
    for (let s = 10; s < 20; s++) d.trainStep(batch(s));
    expect(d.getWeights()["encoder.0.weight"]).not.toEqual(a.getWeights()["encoder.0.weight"]);
  });

  it("vae.load takes a file that differs only in the schedule or straight-through (training settings), not one of another code shape", async () => {
    const src = await make(UNEVEN);
    src.trainStep(randomArray(20 * 61, 3, 0, 1));
    const other = await make({ ...UNEVEN, latent: { type: "categorical", variables: 7, classes: 5, temperature: { initial: 2, rate: 0 }, straightThrough: true } });
    other.load(src.save());
    expect(other.getWeights()).toEqual(src.getWeights());
    expect(other.config.latent.straightThrough).toBe(true); // its own settings stay
    const shape = await make({ ...UNEVEN, latent: { type: "categorical", variables: 5, classes: 7 } });
    expect(() => shape.load(src.save())).toThrow(/its architecture .* differs/);
  });
});

describe("inference on a small code (2 variables × 3 classes: 9 codes, enumerated)", () => {
  /** A trained-ish model, 3 rows, and every code with log p(x|z) and q(z|x). */
  async function setup() {
    const v = await make(SMALL);
    const x = randomArray(60 * D, 8, 0, 1).map((u) => (u > 0.5 ? 1 : 0));
    for (let s = 0; s < 150; s++) v.trainStep(x.subarray((s % 3) * 20 * D, ((s % 3) + 1) * 20 * D));
    const rows = 3, xr = x.subarray(0, rows * D);
    const codes: Float32Array[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) { const z = new Float32Array(6); z[a] = 1; z[3 + b] = 1; codes.push(z); }
    const all = new Float32Array(9 * 6);
    codes.forEach((z, i) => all.set(z, i * 6));
    const { mean } = v.encode(xr);
    const lik = (r: number) => logLik(v.decode(all), Array.from({ length: 9 * D }, (_, i) => xr[r * D + (i % D)]), 9);
    const q = (r: number, i: number) => { let p = 1; codes[i].forEach((zz, j) => { if (zz) p *= mean[r * 6 + j]; }); return p; };
    return { v, xr, rows, codes, mean, lik, q };
  }

  it("encode: mean = softmax of each variable (sums to 1), logits = log mean, logvar = log π(1 − π)", async () => {
    const { v, xr, rows } = await setup();
    const e = v.encode(xr);
    expect(e.mean.length).toBe(rows * 6);
    for (let r = 0; r < rows * 2; r++) expect(Math.abs(e.mean[r * 3] + e.mean[r * 3 + 1] + e.mean[r * 3 + 2] - 1)).toBeLessThan(1e-6);
    for (let i = 0; i < e.mean.length; i++) {
      expect(Math.abs(Math.exp(e.logits![i]) - e.mean[i])).toBeLessThan(1e-6);
      expect(Math.abs(Math.exp(e.logvar[i]) - e.mean[i] * (1 - e.mean[i]))).toBeLessThan(1e-6);
    }
  });

  it("encode stays finite and exact for a confident encoder (logit gaps of 50 and 800)", async () => {
    const { v, xr } = await setup();
    const head = "encoder.1";
    const W = v.getWeights()[`${head}.weight`];
    const bias = Float32Array.from([50, 0, -1, 800, 0, 0.5]);
    v.setWeights({ [`${head}.weight`]: new Float32Array(W.length), [`${head}.bias`]: bias });
    const e = v.encode(xr.subarray(0, D));
    for (let n = 0; n < 2; n++) {
      const l = Array.from(bias.subarray(n * 3, n * 3 + 3));
      const lse = (a: number[]) => { const m = Math.max(...a); return m + Math.log(a.reduce((s, x) => s + Math.exp(x - m), 0)); };
      for (let k = 0; k < 3; k++) {
        const want = l[k] - lse(l) + lse(l.filter((_, j) => j !== k)) - lse(l); // log π_k + log(1 − π_k)
        const got = e.logvar[n * 3 + k];
        expect(Number.isFinite(got), `logvar[${n * 3 + k}]`).toBe(true);
        expect(Math.abs(got - want), `logvar[${n * 3 + k}]: ${got} vs ${want}`).toBeLessThan(1e-6 * Math.abs(want) + 1e-6);
      }
    }
  });

  it("logLikelihood (k = 4000) is the exact log p(x) = log Σ_z p(x|z)·K^−N, within 0.02 nats; the ELBO's KL is the closed form", async () => {
    const { v, xr, rows, lik, q } = await setup();
    const ll = v.logLikelihood(xr, { samples: 4000 });
    const el = v.elbo(xr, { samples: 4000 });
    for (let r = 0; r < rows; r++) {
      const l = lik(r);
      const m = Math.max(...l);
      const exact = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0)) - 2 * Math.log(3);
      expect(Math.abs(ll[r] - exact), `row ${r}: ${ll[r]} vs exact ${exact}`).toBeLessThan(0.02);
      let kl = 0, rec = 0;
      for (let i = 0; i < 9; i++) { kl += q(r, i) * (Math.log(q(r, i)) + 2 * Math.log(3)); rec -= q(r, i) * l[i]; }
      expect(Math.abs(el.kl[r] - kl), `row ${r}: KL`).toBeLessThan(1e-5);
      // E_q[−log p(x|z)] from 4000 one-hot draws: within 4 standard errors of the exact sum
      let v2 = 0;
      for (let i = 0; i < 9; i++) v2 += q(r, i) * (l[i] + rec) ** 2;
      const se = Math.sqrt(v2 / 4000);
      expect(Math.abs(el.reconstruction[r] - rec), `row ${r}: reconstruction ${el.reconstruction[r]} vs ${rec} ± ${se}`).toBeLessThan(4 * se + 1e-4);
      expect(ll[r]).toBeGreaterThan(el.elbo[r] - 4 * se);
    }
  });

  it("sample: one-hot codes with uniform classes, decoded", async () => {
    const { v } = await setup();
    // the decoded rows are the decoder's outputs of one of the 9 codes
    const n = 900, out = v.sample(n);
    expect(out.length).toBe(n * D);
    const { codes } = await setup();
    const all = new Float32Array(9 * 6);
    codes.forEach((z, i) => all.set(z, i * 6));
    const dec = v.decode(all), count = new Array(9).fill(0);
    for (let r = 0; r < n; r++) {
      const i = [...Array(9).keys()].find((c) => dec.subarray(c * D, (c + 1) * D).every((p, d) => p === out[r * D + d]));
      expect(i, `row ${r} is a decoded one-hot code`).toBeDefined();
      count[i!]++;
    }
    for (const c of count) expect(Math.abs(c / n - 1 / 9)).toBeLessThan(4 * Math.sqrt((1 / 9) * (8 / 9) / n));
  });

  it("reconstruct decodes the one-hot mode; sample: true decodes a one-hot draw; interpolate is linear between the class probabilities", async () => {
    const { v, xr, rows, mean } = await setup();
    const mode = new Float32Array(rows * 6);
    for (let b = 0; b < rows * 2; b++) { const p = Array.from(mean.subarray(b * 3, b * 3 + 3)); mode[b * 3 + p.indexOf(Math.max(...p))] = 1; }
    expect(v.reconstruct(xr)).toEqual(v.decode(mode));
    expect(v.reconstruct(xr, { sample: true }).length).toBe(rows * D);
    const path = v.interpolate(xr.subarray(0, D), xr.subarray(D, 2 * D), 3);
    const mid = mean.subarray(0, 6).map((a, j) => 0.5 * a + 0.5 * mean[6 + j]);
    const want = v.decode(Float32Array.from([...mean.subarray(0, 6), ...mid, ...mean.subarray(6, 12)]));
    for (let i = 0; i < want.length; i++) expect(Math.abs(path[i] - want[i])).toBeLessThan(1e-6);
  });

  it("impute (miwae, metropolis, pseudo_gibbs) against the exact E[x_miss | x_obs] = Σ_z p(z)·p(x_obs|z)·E[x_miss|z] / Σ_z p(z)·p(x_obs|z) over the 9 codes", async () => {
    const { v, xr, rows, codes } = await setup();
    // a confident encoder that ignores x: q(z|x̂) is far from p(z|x_obs), so only correct weights recover the answer
    const W = v.getWeights()["encoder.1.weight"];
    v.setWeights({ "encoder.1.weight": new Float32Array(W.length), "encoder.1.bias": Float32Array.from([2, 0, -1, -1, 0, 1.5]) });
    const all = new Float32Array(9 * 6);
    codes.forEach((z, i) => all.set(z, i * 6));
    const px = v.decode(all); // E[x|z] per code
    const mask = Uint8Array.from({ length: D }, (_, d) => (d < 3 ? 1 : 0)); // the last 3 entries hidden
    const exact = new Float64Array(rows * D);
    for (let r = 0; r < rows; r++) {
      // the uniform prior is the same for every code: weights ∝ p(x_obs|z)
      const lw = codes.map((_, i) => {
        let l = 0;
        for (let d = 0; d < 3; d++) { const q = px[i * D + d], t = xr[r * D + d]; l += t * Math.log(q) + (1 - t) * Math.log(1 - q); }
        return l;
      });
      const m = Math.max(...lw), w = lw.map((l) => Math.exp(l - m)), W = w.reduce((a, b) => a + b, 0);
      for (let d = 0; d < D; d++) exact[r * D + d] = d < 3 ? xr[r * D + d] : w.reduce((a, wi, i) => a + wi * px[i * D + d], 0) / W;
    }
    const got = v.impute(xr, mask, { samples: 20000 });
    for (let i = 0; i < rows * D; i++) expect(Math.abs(got[i] - exact[i]), `miwae [${i}]: ${got[i]} vs ${exact[i]}`).toBeLessThan(0.01);
    // the observed entries are returned as given
    for (let r = 0; r < rows; r++) for (let d = 0; d < 3; d++) expect(got[r * D + d]).toBe(xr[r * D + d]);
    const mh = v.impute(xr, mask, { method: "metropolis", iterations: 4000, burnIn: 200 });
    for (let i = 0; i < rows * D; i++) expect(Math.abs(mh[i] - exact[i]), `metropolis [${i}]: ${mh[i]} vs ${exact[i]}`).toBeLessThan(0.05);
    const pg = v.impute(xr, mask, { method: "pseudo_gibbs", iterations: 5 });
    for (const a of pg) expect(a >= 0 && a <= 1).toBe(true);
  });

  it("refuses by name what it does not support, and changes nothing", async () => {
    const { v, xr } = await setup();
    const before = v.exportState();
    expect(() => v.interpolate(xr.subarray(0, D), xr.subarray(D, 2 * D), 3, { spherical: true })).toThrow(/^spherical: expected false: a spherical path leaves the simplex/);
    expect(() => v.sample(2, { temperature: 0.5 })).toThrow(/^temperature: expected 1 or nothing: codes from the uniform prior are one-hot/);
    // out of the Gaussian range too: the same reason, not "expected a finite number ≥ 0" (review of issue 18)
    for (const t of [-1, 1e7, NaN]) expect(() => v.sample(2, { temperature: t })).toThrow(/^temperature: expected 1 or nothing: codes from the uniform prior are one-hot/);
    await expect((async () => exportModel(v, "safetensors"))()).rejects.toThrow(/^vae: expected a model with a Gaussian latent/);
    expect(v.exportState()).toEqual(before);
  });
});
