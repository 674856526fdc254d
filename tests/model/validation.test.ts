// Bad input to every public entry point (VAE.create, Adam, trainStep,
// computeGradients, estimatorVariance, fit, encode, decode, sample,
// reconstruct, interpolate, elbo, logLikelihood, impute, setWeights, load)
// is rejected with an ArgumentError whose message names the argument, before
// any wasm runs: no "RuntimeError"/"unreachable" trap leaks out, and the model
// (its whole saved state: weights, moments, RNG states, counters) is unchanged.
// Not here: corrupted model files (persistence.test.ts, ModelFormatError).
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, VAE } from "../../src/index.js";

const D = 6, L = 2, C = 3;
let vae: VAE;   // unconditional, Bernoulli
let cvae: VAE;  // conditional (C = 3)
let gvae: VAE;  // Gaussian likelihood: targets may be any finite number
const x = new Float32Array(2 * D).fill(0.5);   // 2 good rows
const c = new Float32Array(2 * C).fill(0);     // 2 good condition rows

beforeAll(async () => {
  vae = await VAE.create({ inputDim: D, encoder: [4], latentDim: L, seed: 1 });
  cvae = await VAE.create({ inputDim: D, encoder: [4], latentDim: L, conditionDim: C, seed: 2 });
  gvae = await VAE.create({ inputDim: D, encoder: [4], latentDim: L, likelihood: "gaussian", seed: 3 });
  // take a step so the optimizer state is non-trivial (and check good calls pass)
  vae.trainStep(x);
  cvae.trainStep({ x, condition: c });
  gvae.trainStep(x.map((v) => v * 7 - 3));
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function checkError(err: unknown, name: string): void {
  expect(err, `expected an ArgumentError naming ${name}`).toBeInstanceOf(ArgumentError);
  const e = err as Error;
  expect(e.name).toBe("ArgumentError");
  expect(e.message).toContain(name);
  expect(e.message).not.toMatch(/RuntimeError|unreachable|kernel assertion/i);
}

/** fn() throws (or its promise rejects with) an ArgumentError naming `name`,
 *  and none of the models changed. */
async function rejects(fn: () => unknown, name: string): Promise<void> {
  const before = [vae.save(), cvae.save(), gvae.save()];
  let err: unknown;
  try {
    const r = fn();
    if (r instanceof Promise) await r;
  } catch (e) {
    err = e;
  }
  checkError(err, name);
  const after = [vae.save(), cvae.save(), gvae.save()];
  for (let i = 0; i < 3; i++) expect(sameBytes(after[i], before[i]), "model unchanged").toBe(true);
}

type Case = [label: string, fn: () => unknown, name: string];

async function runCases(cases: Case[]): Promise<void> {
  for (const [label, fn, name] of cases) {
    try {
      await rejects(fn, name);
    } catch (e) {
      (e as Error).message = `${label}: ${(e as Error).message}`;
      throw e;
    }
  }
}

/** A one-shot stream of the given batches (an array would be read as rows). */
function* stream(...batches: Float32Array[]): Generator<Float32Array> { yield* batches; }

const withNaN = (a: Float32Array, i = 3) => { const b = a.slice(); b[i] = NaN; return b; };
const withInf = (a: Float32Array, i = 3) => { const b = a.slice(); b[i] = -Infinity; return b; };

describe("ArgumentError naming the argument, model unchanged", () => {
  it("config (VAE.create)", async () => {
    const ok = { inputDim: D, latentDim: L };
    await runCases([
      ["not an object", () => VAE.create(null as never), "config"],
      ["unknown key", () => VAE.create({ ...ok, latent_dim: 3 } as never), "config.latent_dim"],
      ["inputDim missing", () => VAE.create({ latentDim: L } as never), "config.inputDim"],
      ["inputDim 0", () => VAE.create({ ...ok, inputDim: 0 }), "config.inputDim"],
      ["inputDim non-integer", () => VAE.create({ ...ok, inputDim: 6.5 }), "config.inputDim"],
      ["latentDim non-integer", () => VAE.create({ ...ok, latentDim: 1.5 }), "config.latentDim"],
      ["latentDim NaN", () => VAE.create({ ...ok, latentDim: NaN }), "config.latentDim"],
      ["encoder not an array", () => VAE.create({ ...ok, encoder: 4 as never }), "config.encoder"],
      ["encoder non-integer size", () => VAE.create({ ...ok, encoder: [4, 2.5] }), "config.encoder[1]"],
      ["decoder size 0", () => VAE.create({ ...ok, decoder: [0] }), "config.decoder[0]"],
      ["unknown activation", () => VAE.create({ ...ok, activation: "gelu" as never }), "config.activation"],
      ["negative activationAlpha", () => VAE.create({ ...ok, activation: "leaky_relu", activationAlpha: -0.1 }), "config.activationAlpha"],
      ["unknown likelihood", () => VAE.create({ ...ok, likelihood: "poisson" as never }), "config.likelihood"],
      ["sigma 0", () => VAE.create({ ...ok, likelihood: "gaussian", sigma: 0 }), "config.sigma"],
      ["sigma negative", () => VAE.create({ ...ok, likelihood: "gaussian", sigma: -1 }), "config.sigma"],
      ["sigma Infinity", () => VAE.create({ ...ok, likelihood: "gaussian", sigma: Infinity }), "config.sigma"],
      ["sigma NaN", () => VAE.create({ ...ok, likelihood: "gaussian", sigma: NaN }), "config.sigma"],
      ["beta negative", () => VAE.create({ ...ok, beta: -0.5 }), "config.beta"],
      ["beta NaN", () => VAE.create({ ...ok, beta: NaN }), "config.beta"],
      ["beta Infinity", () => VAE.create({ ...ok, beta: Infinity }), "config.beta"],
      ["conditionDim negative", () => VAE.create({ ...ok, conditionDim: -1 }), "config.conditionDim"],
      ["conditionDim non-integer", () => VAE.create({ ...ok, conditionDim: 0.5 }), "config.conditionDim"],
      ["seed negative", () => VAE.create({ ...ok, seed: -1 }), "config.seed"],
      ["seed non-integer", () => VAE.create({ ...ok, seed: 1.5 }), "config.seed"],
      ["unknown init", () => VAE.create({ ...ok, init: "lecun" as never }), "config.init"],
      ["maxBatch 0", () => VAE.create({ ...ok, maxBatch: 0 }), "config.maxBatch"],
      ["unknown build", () => VAE.create(ok, { build: "fast" as never }), "build"],
    ]);
  });

  it("Adam hyperparameters", async () => {
    await runCases([
      ["lr negative", () => new Adam({ lr: -1e-3 }), "lr"],
      ["lr NaN", () => new Adam({ lr: NaN }), "lr"],
      ["lr Infinity", () => new Adam({ lr: Infinity }), "lr"],
      ["beta1 = 1", () => new Adam({ beta1: 1 }), "beta1"],
      ["beta1 negative", () => new Adam({ beta1: -0.1 }), "beta1"],
      ["beta1 NaN", () => new Adam({ beta1: NaN }), "beta1"],
      ["beta2 > 1", () => new Adam({ beta2: 1.5 }), "beta2"],
      ["beta2 Infinity", () => new Adam({ beta2: Infinity }), "beta2"],
      ["eps 0", () => new Adam({ eps: 0 }), "eps"],
      ["eps negative", () => new Adam({ eps: -1e-8 }), "eps"],
      ["eps NaN", () => new Adam({ eps: NaN }), "eps"],
      ["weightDecay negative", () => new Adam({ weightDecay: -0.01 }), "weightDecay"],
      ["clipNorm 0", () => new Adam({ clipNorm: 0 }), "clipNorm"],
      ["clipNorm NaN", () => new Adam({ clipNorm: NaN }), "clipNorm"],
    ]);
    // a schedule that returns a bad rate fails at the step, before any update
    // (the forward pass has drawn its ε by then, so only weights, moments and
    // the step count are compared)
    const saved = vae.optimizer;
    try {
      for (const bad of [NaN, -1, Infinity, "0.1"]) {
        vae.optimizer = new Adam({ lr: () => bad as number });
        const w = vae.getWeights(), steps = vae.steps;
        let err: unknown;
        try { vae.trainStep(x); } catch (e) { err = e; }
        checkError(err, "lr schedule");
        const after = vae.getWeights();
        for (const n of Object.keys(w)) expect(sameBytes(new Uint8Array(after[n].buffer), new Uint8Array(w[n].buffer))).toBe(true);
        expect(vae.steps).toBe(steps);
        expect(vae.optimizer.step).toBe(0);
      }
    } finally {
      vae.optimizer = saved;
    }
  });

  it("trainStep and computeGradients: data, β, noise, estimator", async () => {
    await runCases([
      ["wrong length", () => vae.trainStep(new Float32Array(D + 1).fill(0.5)), "batch"],
      ["empty", () => vae.trainStep(new Float32Array(0)), "batch"],
      ["not an array", () => vae.trainStep("0.5" as never), "batch"],
      ["undefined", () => vae.trainStep(undefined as never), "batch"],
      ["NaN", () => vae.trainStep(withNaN(x)), "batch[3]"],
      ["−Infinity", () => vae.trainStep(withInf(x)), "batch[3]"],
      ["non-number in number[]", () => vae.trainStep([...x.slice(0, 5), "a" as never, ...x.slice(6)]), "batch[5]"],
      ["Bernoulli target > 1", () => vae.trainStep(x.map((v, i) => (i === 4 ? 1.01 : v))), "batch[4]"],
      ["Bernoulli target < 0", () => vae.trainStep(x.map((v, i) => (i === 7 ? -0.01 : v))), "batch[7]"],
      ["Gaussian target NaN", () => gvae.trainStep(withNaN(x, 0)), "batch[0]"],
      ["{x} with a wrong length", () => vae.trainStep({ x: x.subarray(1) }), "batch.x"],
      ["β negative", () => vae.trainStep(x, { beta: -1 }), "beta"],
      ["β NaN", () => vae.trainStep(x, { beta: NaN }), "beta"],
      ["condition given to an unconditional model", () => vae.trainStep({ x, condition: c }), "batch.condition"],
      ["condition missing (conditional model)", () => cvae.trainStep(x), "batch.condition"],
      ["condition of the wrong width", () => cvae.trainStep({ x, condition: new Float32Array(2 * (C + 1)) }), "batch.condition"],
      ["condition with too few rows", () => cvae.trainStep({ x, condition: c.subarray(0, C) }), "batch.condition"],
      ["condition NaN", () => cvae.trainStep({ x, condition: withNaN(c, 1) }), "batch.condition[1]"],
      ["computeGradients: wrong length", () => vae.computeGradients(x.subarray(2)), "batch"],
      ["computeGradients: noise wrong length", () => vae.computeGradients(x, { noise: new Float32Array(L) }), "noise"],
      ["computeGradients: noise not a multiple of L", () => vae.computeGradients(x, { noise: new Float32Array(2 * L + 1) }), "noise"],
      ["computeGradients: noise NaN", () => vae.computeGradients(x, { noise: withNaN(new Float32Array(2 * L), 1) }), "noise[1]"],
      ["computeGradients: β Infinity", () => vae.computeGradients(x, { beta: Infinity }), "beta"],
      ["computeGradients: unknown estimator", () => vae.computeGradients(x, { estimator: "reinforce" as never }), "estimator"],
      ["computeGradients: condition missing", () => cvae.computeGradients(x), "batch.condition"],
      ["estimatorVariance: samples 1", () => vae.estimatorVariance(x, { samples: 1 }), "samples"],
      ["estimatorVariance: samples non-integer", () => vae.estimatorVariance(x, { samples: 2.5 }), "samples"],
      ["estimatorVariance: NaN data", () => vae.estimatorVariance(withNaN(x)), "batch[3]"],
    ]);
  });

  it("fit: data, sizes, options", async () => {
    await runCases([
      ["empty data", () => vae.fit(new Float32Array(0), { epochs: 1 }), "data"],
      ["data of the wrong length", () => vae.fit(new Float32Array(D * 3 + 2).fill(0.5), { epochs: 1 }), "data"],
      ["data NaN", () => vae.fit(withNaN(x), { epochs: 1 }), "data[3]"],
      ["data Bernoulli target > 1", () => vae.fit(x.map((v) => v * 3), { epochs: 1 }), "data[0]"],
      ["data neither rows nor iterable", () => vae.fit(42 as never, { epochs: 1 }), "data"],
      ["options not an object", () => vae.fit(x, 5 as never), "options"],
      ["unknown option", () => vae.fit(x, { epochs: 1, batch_size: 4 } as never), "options.batch_size"],
      ["epochs 0", () => vae.fit(x, { epochs: 0 }), "epochs"],
      ["epochs non-integer", () => vae.fit(x, { epochs: 1.5 }), "epochs"],
      ["batchSize 0", () => vae.fit(x, { batchSize: 0 }), "batchSize"],
      ["batchSize negative", () => vae.fit(x, { batchSize: -8 }), "batchSize"],
      ["batchSize non-integer", () => vae.fit(x, { batchSize: 2.5 }), "batchSize"],
      ["batchSize NaN", () => vae.fit(x, { batchSize: NaN }), "batchSize"],
      ["yieldEvery negative", () => vae.fit(x, { yieldEvery: -1 }), "yieldEvery"],
      ["klWarmupSteps negative", () => vae.fit(x, { klWarmupSteps: -1 }), "klWarmupSteps"],
      ["klWarmupEpochs NaN", () => vae.fit(x, { klWarmupEpochs: NaN }), "klWarmupEpochs"],
      ["klWarmupEpochs with a stream", () => vae.fit(stream(x), { klWarmupEpochs: 1 }), "klWarmupEpochs"],
      ["onBatch not a function", () => vae.fit(x, { onBatch: 1 as never }), "onBatch"],
      ["signal not an AbortSignal", () => vae.fit(x, { signal: {} as never }), "signal"],
      ["optimizer not an Adam", () => vae.fit(x, { optimizer: { lr: 1 } as never }), "optimizer"],
      ["validation wrong length", () => vae.fit(x, { validation: x.subarray(1) }), "validation"],
      ["validation NaN", () => vae.fit(x, { validation: withNaN(x, 2) }), "validation[2]"],
      ["condition to an unconditional model", () => vae.fit(x, { condition: c }), "condition"],
      ["condition missing (conditional model)", () => cvae.fit(x, { epochs: 1 }), "condition"],
      ["condition with the wrong rows", () => cvae.fit(x, { condition: c.subarray(0, C) }), "condition"],
      ["validation condition missing", () => cvae.fit(x, { condition: c, validation: x }), "validation.condition"],
      ["a stream yielding no batches", () => vae.fit(stream(), { epochs: 1 }), "data"],
      ["a stream's first batch of the wrong length", () => vae.fit(stream(x.subarray(1)), { epochs: 1 }), "batch 0"],
    ]);
    // a streamed batch with a NaN is rejected before it is trained on: after
    // one good batch, the copy is where one trainStep on that batch leaves it
    const copy = await VAE.load(vae.save()), ref = await VAE.load(vae.save());
    let err: unknown;
    try { await copy.fit(stream(x, withNaN(x)), { epochs: 1 }); } catch (e) { err = e; }
    checkError(err, "batch 1[3]");
    ref.trainStep(x);
    expect(sameBytes(copy.save(), ref.save())).toBe(true);
  });

  it("inference: encode, decode, sample, reconstruct, interpolate, elbo, logLikelihood, impute", async () => {
    const z = new Float32Array(2 * L);
    const mask = new Float32Array(2 * D).fill(1).map((v, i) => (i % 2 ? 0 : 1));
    await runCases([
      ["encode: wrong length", () => vae.encode(x.subarray(1)), "x"],
      ["encode: NaN", () => vae.encode(withNaN(x)), "x[3]"],
      ["encode: empty", () => vae.encode([]), "x"],
      ["encode: condition to unconditional", () => vae.encode(x, { condition: c }), "condition"],
      ["encode: condition missing", () => cvae.encode(x), "condition"],
      ["decode: wrong length", () => vae.decode(new Float32Array(L + 1)), "z"],
      ["decode: Infinity", () => vae.decode(withInf(z, 0)), "z[0]"],
      ["decode: condition wrong rows", () => cvae.decode(z, { condition: new Float32Array(C) }), "condition"],
      ["sample: n 0", () => vae.sample(0), "n"],
      ["sample: n non-integer", () => vae.sample(2.5), "n"],
      ["sample: n NaN", () => vae.sample(NaN), "n"],
      ["sample: temperature negative", () => vae.sample(2, { temperature: -1 }), "temperature"],
      ["sample: temperature Infinity", () => vae.sample(2, { temperature: Infinity }), "temperature"],
      ["sample: condition missing", () => cvae.sample(2), "condition"],
      ["sample: condition of the wrong size", () => cvae.sample(2, { condition: new Float32Array(3 * C) }), "condition"],
      ["sample: condition to unconditional", () => vae.sample(2, { condition: c }), "condition"],
      ["reconstruct: wrong length", () => vae.reconstruct(x.subarray(3)), "x"],
      ["reconstruct: NaN", () => vae.reconstruct(withNaN(x)), "x[3]"],
      ["interpolate: xa two rows", () => vae.interpolate(x, x.subarray(0, D), 3), "xa"],
      ["interpolate: xb wrong length", () => vae.interpolate(x.subarray(0, D), x.subarray(0, D - 1), 3), "xb"],
      ["interpolate: xb NaN", () => vae.interpolate(x.subarray(0, D), withNaN(x.subarray(0, D)), 3), "xb[3]"],
      ["interpolate: steps 1", () => vae.interpolate(x.subarray(0, D), x.subarray(D), 1), "steps"],
      ["interpolate: steps non-integer", () => vae.interpolate(x.subarray(0, D), x.subarray(D), 2.5), "steps"],
      ["interpolate: condition missing", () => cvae.interpolate(x.subarray(0, D), x.subarray(D), 3), "condition"],
      ["elbo: Bernoulli target outside [0, 1]", () => vae.elbo(x.map((v, i) => (i === 2 ? 2 : v))), "x[2]"],
      ["elbo: samples 0", () => vae.elbo(x, { samples: 0 }), "samples"],
      ["elbo: samples non-integer", () => vae.elbo(x, { samples: 1.5 }), "samples"],
      ["logLikelihood: samples 0", () => vae.logLikelihood(x, { samples: 0 }), "samples"],
      ["logLikelihood: samples NaN", () => vae.logLikelihood(x, { samples: NaN }), "samples"],
      ["logLikelihood: NaN data", () => vae.logLikelihood(withNaN(x)), "x[3]"],
      ["logLikelihood: condition missing", () => cvae.logLikelihood(x), "condition"],
      ["impute: mask missing", () => vae.impute(x, undefined as never), "mask"],
      ["impute: mask of the wrong length", () => vae.impute(x, new Float32Array(D + 1)), "mask"],
      ["impute: mask value 2", () => vae.impute(x, mask.map((v, i) => (i === 5 ? 2 : v))), "mask[5]"],
      ["impute: mask value 0.5", () => vae.impute(x, mask.map((v, i) => (i === 3 ? 0.5 : v))), "mask[3]"],
      ["impute: mask NaN", () => vae.impute(x, mask.map((v, i) => (i === 1 ? NaN : v))), "mask[1]"],
      ["impute: iterations 0", () => vae.impute(x, mask, { iterations: 0 }), "iterations"],
      ["impute: initial NaN", () => vae.impute(x, mask, { initial: NaN }), "initial"],
      // mask = 1, 0, 1, 0, …: x[2] is observed (must be valid), x[3] is missing (NaN allowed there)
      ["impute: observed x NaN", () => vae.impute(withNaN(x, 2), mask), "x[2]"],
      ["impute: observed x outside [0, 1]", () => vae.impute(x.map((v, i) => (i === 4 ? 1.5 : v)), mask), "x[4]"],
      ["impute: condition missing", () => cvae.impute(x, mask), "condition"],
    ]);
  });

  it("setWeights: unknown name, wrong shape, non-finite; nothing written on failure", async () => {
    const w = vae.getWeights();
    const good = w["encoder.0.bias"].map((v) => v + 1);
    await runCases([
      ["not an object", () => vae.setWeights(null as never), "weights"],
      ["unknown name", () => vae.setWeights({ "encoder.9.weight": new Float32Array(4) }), "encoder.9.weight"],
      ["wrong length", () => vae.setWeights({ "encoder.0.weight": new Float32Array(D * 4 + 1) }), "encoder.0.weight"],
      ["transposed size matches but a bias given a weight's length", () => vae.setWeights({ "decoder.0.bias": new Float32Array(L * 4) }), "decoder.0.bias"],
      ["NaN", () => vae.setWeights({ "decoder.1.bias": withNaN(new Float32Array(D), 2) }), "decoder.1.bias"],
      ["not an array", () => vae.setWeights({ "decoder.1.bias": 3 as never }), "decoder.1.bias"],
      // a good tensor first, then a bad one: the good one must not be written either
      ["good then bad", () => vae.setWeights({ "encoder.0.bias": good, "decoder.0.weight": new Float32Array(3) }), "decoder.0.weight"],
      ["good then non-finite", () => vae.setWeights({ "encoder.0.bias": good, "decoder.1.weight": new Float32Array(4 * D).fill(Infinity) }), "decoder.1.weight"],
    ]);
    // …and the good tensor alone is accepted (so the test above can fail)
    vae.setWeights({ "encoder.0.bias": good });
    expect(vae.getWeights()["encoder.0.bias"]).toEqual(good);
    vae.setWeights({ "encoder.0.bias": w["encoder.0.bias"] });
  });

  it("load: not bytes", async () => {
    await runCases([
      ["string", () => vae.load("WVAE" as never), "bytes"],
      ["number[]", () => vae.load([1, 2, 3] as never), "bytes"],
      ["VAE.load of an ArrayBuffer", () => VAE.load(new ArrayBuffer(64) as never), "bytes"],
    ]);
  });
});
