// The learned priors through the public API (objectives/prior-mixture.ts,
// prior-vamp.ts): config validation with named errors; exact resume (2 steps,
// save, load, 1 step == 3 steps, bit for bit, both priors, ELBO and IWAE);
// inference against independent routes to the same numbers: a mixture with
// one standard component is the N(0, I) model (logLikelihood with the same
// draws), and a VampPrior equals the learned mixture whose components are set
// to the encoder's posteriors at its pseudo-inputs (logLikelihood, elbo,
// sample); impute works with both methods; a batch larger than maxBatch
// grows the arena for the prior's rows.
// Not here: gradients (finite-diff.test.ts), kernels (tests/kernels), threads
// (tests/threads/priors.test.ts), MNIST (priors-mnist.test.ts).
import { describe, expect, it } from "vitest";
import { ArgumentError, VAE, type VAEConfig } from "../../src/index.js";
import { randomArray } from "../reference.js";
import { expectSameBits } from "../kernels/helpers.js";
import { stateBits } from "../helpers.js";

const D = 12, L = 3, B = 6;
const BASE: VAEConfig = { inputDim: D, encoder: [10], latentDim: L, decoder: [10], activation: "tanh", seed: 21, maxBatch: 16 };
const x = randomArray(B * D, 31, 0, 1);

describe("config", () => {
  it("resolves the entries with their defaults and parameters", async () => {
    const m = await VAE.create({ ...BASE, prior: { type: "mixture" } });
    expect(m.config.prior).toEqual({ type: "mixture", components: 10 });
    expect(m.parameterShapes()).toMatchObject({ "prior.means": [10, L], "prior.logvars": [10, L], "prior.logits": [10] });
    const w = m.getWeights();
    expect(w["prior.means"].every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(new Set(w["prior.means"]).size).toBe(10 * L);
    expect(w["prior.logvars"].every((v) => v === 0) && w["prior.logits"].every((v) => v === 0)).toBe(true);
    const v = await VAE.create({ ...BASE, prior: { type: "vamp", components: 7 } });
    expect(v.parameterShapes()["prior.pseudo_inputs"]).toEqual([7, D]);
    const p = v.getWeights()["prior.pseudo_inputs"];
    const mean = p.reduce((a, b) => a + b, 0) / p.length;
    expect(Math.abs(mean - 0.05)).toBeLessThan(0.005); // N(0.05, 0.01²)
    expect((await VAE.create({ ...BASE, prior: { type: "vamp" } })).config.prior).toEqual({ type: "vamp", components: 500 });
  });

  it("bad entries are named ArgumentErrors", async () => {
    const bad: [VAEConfig, RegExp][] = [
      [{ ...BASE, prior: { type: "mixture", components: 0 } }, /^config\.prior\.components: expected an integer/],
      [{ ...BASE, prior: { type: "vamp", components: 2.5 } }, /^config\.prior\.components: expected an integer/],
      [{ ...BASE, prior: { type: "mixture", k: 3 } as never }, /config\.prior/],
      [{ ...BASE, prior: { type: "vamp", components: 3 }, conditionDim: 2 }, /^config\.prior: expected a prior without encoder rows of its own when conditionDim > 0/],
      [{ ...BASE, prior: { type: "mixture", components: 3 }, objective: { type: "iwae", samples: 3, gradient: "dreg" } }, /^config\.objective\.gradient/],
    ];
    for (const [cfg, re] of bad) {
      await expect(VAE.create(cfg)).rejects.toThrow(ArgumentError);
      await expect(VAE.create(cfg)).rejects.toThrow(re);
    }
  });
});

describe.each([
  ["mixture K = 4, ELBO", { ...BASE, prior: { type: "mixture", components: 4 } }],
  ["mixture K = 4, IWAE k = 3", { ...BASE, prior: { type: "mixture", components: 4 }, objective: { type: "iwae", samples: 3 } }],
  ["vamp K = 5, ELBO", { ...BASE, prior: { type: "vamp", components: 5 } }],
  ["vamp K = 5, IWAE k = 3", { ...BASE, prior: { type: "vamp", components: 5 }, objective: { type: "iwae", samples: 3 } }],
] as [string, VAEConfig][])("%s", (_name, cfg) => {
  it("exact resume: 2 steps, save, VAE.load, 1 step == 3 steps (bit for bit)", async () => {
    const a = await VAE.create(cfg);
    for (let s = 0; s < 3; s++) a.trainStep(x);
    const b = await VAE.create(cfg);
    for (let s = 0; s < 2; s++) b.trainStep(x);
    const c = await VAE.load(b.save());
    expect(c.config.prior).toEqual(a.config.prior);
    c.trainStep(x);
    expectSameBits(stateBits(c), stateBits(a), "resumed vs in one go");
    // and the prior's tensors moved
    const w0 = (await VAE.create(cfg)).getWeights();
    for (const n of Object.keys(w0).filter((k) => k.startsWith("prior."))) expect(Array.from(a.getWeights()[n])).not.toEqual(Array.from(w0[n]));
  });

  it("inference: elbo, logLikelihood, sample, reconstruct and impute (both methods) give finite results", async () => {
    const vae = await VAE.create(cfg);
    for (let s = 0; s < 5; s++) vae.trainStep(x);
    const e = vae.elbo(x, { samples: 3 });
    const ll = vae.logLikelihood(x, { samples: 40 });
    for (let r = 0; r < B; r++) {
      expect(Number.isFinite(e.elbo[r]) && Number.isFinite(ll[r])).toBe(true);
      expect(e.elbo[r]).toBeCloseTo(-(e.reconstruction[r] + e.kl[r]), 4);
    }
    // the importance-weighted bound is above the ELBO on average
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((p, q) => p + q, 0) / a.length;
    expect(mean(ll)).toBeGreaterThan(mean(e.elbo) - 0.5);
    const s = vae.sample(7);
    expect(s.length).toBe(7 * D);
    expect(s.every((v) => v >= 0 && v <= 1)).toBe(true);
    const mask = Uint8Array.from({ length: D }, (_, i) => (i < D / 2 ? 1 : 0));
    for (const method of ["metropolis", "pseudo_gibbs"] as const) {
      const im = vae.impute(x, mask, { method, iterations: 6 });
      for (let r = 0; r < B; r++) for (let d = 0; d < D; d++) {
        if (d < D / 2) expect(im[r * D + d]).toBe(Math.fround(x[r * D + d]));
        else expect(im[r * D + d] >= 0 && im[r * D + d] <= 1).toBe(true);
      }
    }
    expect(vae.reconstruct(x).every(Number.isFinite)).toBe(true);
  });

  it("a batch larger than maxBatch grows the arena (data rows, the prior's rows, B·k sample rows)", async () => {
    const vae = await VAE.create(cfg);
    const big = randomArray(40 * D, 5, 0, 1);
    expect(Number.isFinite(vae.trainStep(big).loss)).toBe(true);
    expect(vae.logLikelihood(big, { samples: 7 }).every(Number.isFinite)).toBe(true);
  });
});

describe("inference against an equivalent model", () => {
  it("a mixture with one component N(0, I) is the N(0, I) model: logLikelihood with the same draws", async () => {
    const n = await VAE.create(BASE);
    const m = await VAE.create({ ...BASE, prior: { type: "mixture", components: 1 } });
    m.setWeights({ ...n.getWeights(), "prior.means": new Float32Array(L), "prior.logvars": new Float32Array(L), "prior.logits": new Float32Array(1) });
    const a = n.logLikelihood(x, { samples: 30 }), b = m.logLikelihood(x, { samples: 30 });
    for (let r = 0; r < B; r++) expect(Math.abs(a[r] - b[r])).toBeLessThan(1e-4 * Math.abs(a[r]) + 1e-4);
    // the sampled KL of the ELBO averages to the closed form
    const kn = n.elbo(x).kl, km = m.elbo(x, { samples: 4000 }).kl;
    for (let r = 0; r < B; r++) expect(Math.abs(kn[r] - km[r])).toBeLessThan(0.05 + 0.05 * kn[r]);
  });

  it("a VampPrior is the mixture whose components are the encoder's posteriors at its pseudo-inputs", async () => {
    const K = 5;
    const v = await VAE.create({ ...BASE, prior: { type: "vamp", components: K } });
    for (let s = 0; s < 10; s++) v.trainStep(x); // pseudo-inputs and encoder moved
    const vs = await VAE.load(v.save()); // for sample, with the evaluation stream as it is now
    const m = await VAE.create({ ...BASE, prior: { type: "mixture", components: K } });
    const w = v.getWeights();
    const u = w["prior.pseudo_inputs"].map((p) => Math.min(1, Math.max(0, p))); // hardtanh(0, 1) (Bernoulli data)
    const q = v.encode(u);
    const { "prior.pseudo_inputs": _p, ...nets } = w;
    m.setWeights({ ...nets, "prior.means": q.mean, "prior.logvars": q.logvar, "prior.logits": new Float32Array(K) });
    // sample: a component (u uniform), then z ~ q(z|u_k): the same draws give
    // the same rows (the evaluation stream is drawn in chunks of the arena's
    // rows, so the mixture gets the VampPrior's arena: maxBatch + K rows)
    const m2 = await VAE.create({ ...BASE, maxBatch: BASE.maxBatch! + K, prior: { type: "mixture", components: K } });
    m2.setWeights(m.getWeights());
    const sa = vs.sample(40), sb = m2.sample(40);
    let same = 0;
    for (let i = 0; i < 40 * D; i++) if (Math.abs(sa[i] - sb[i]) < 1e-5) same++;
    expect(same).toBeGreaterThanOrEqual(38 * D); // a uniform on a component boundary may round either way
    const a = v.logLikelihood(x, { samples: 30 }), b = m.logLikelihood(x, { samples: 30 });
    for (let r = 0; r < B; r++) expect(Math.abs(a[r] - b[r])).toBeLessThan(1e-4 * Math.abs(a[r]) + 1e-4);
    const ea = v.elbo(x, { samples: 2 }), eb = m.elbo(x, { samples: 2 });
    for (let r = 0; r < B; r++) expect(Math.abs(ea.kl[r] - eb.kl[r])).toBeLessThan(1e-3);
  });
});
