// Item 4 of issue 10: options are checked like arguments. Every options
// object refuses unknown keys and null values (null is an error, not the
// default), booleans must be booleans, and the error names the option the
// user passed. A call that throws leaves weights, optimizer, random streams
// and counters as they were, including when the error is found late (a
// non-finite loss or result after a random draw).
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, fit, NonFiniteLossError, VAE } from "../../src/index.js";
import { loadKernels, resolveBuild } from "../../src/kernels.js";
import { expectThrows, sameBytes } from "./harden-helpers.js";

const D = 6, L = 2;
const cfg = { inputDim: D, encoder: [4], latentDim: L, seed: 3 };
let vae: VAE;
const x = new Float32Array(2 * D).fill(0.5);
const xa = x.subarray(0, D), xb = Float32Array.from({ length: D }, (_, i) => (i % 3) / 2);

beforeAll(async () => {
  vae = await VAE.create(cfg);
  vae.trainStep(x);
  vae.sample(2); // move the evaluation stream off its seed
});

/** Each public call with an options object `o`. */
const calls: [label: string, keys: string[], call: (o: object) => unknown][] = [
  ["VAE.create", ["build", "deterministic", "wasm"], (o) => VAE.create(cfg, o)],
  ["VAE.load", ["build", "deterministic", "wasm", "schedule"], (o) => VAE.load(vae.save(), o)],
  ["vae.load", ["schedule"], (o) => vae.load(vae.save(), o)],
  ["loadKernels", ["build", "deterministic", "wasm"], (o) => loadKernels(o)],
  ["resolveBuild", ["build", "deterministic", "wasm"], (o) => resolveBuild(o)],
  ["new Adam", ["lr", "beta1", "beta2", "eps", "weightDecay", "clipNorm"], (o) => new Adam(o)],
  ["trainStep", ["beta", "out"], (o) => vae.trainStep(x, o)],
  ["computeGradients", ["noise", "beta", "estimator", "baseline"], (o) => vae.computeGradients(x, o)],
  ["estimatorVariance", ["samples", "baseline"], (o) => vae.estimatorVariance(x, o)],
  ["fit", ["epochs", "batchSize", "shuffle", "condition", "klWarmupSteps", "klWarmupEpochs", "validation", "optimizer", "onBatch", "onEpoch", "signal", "yieldEvery"], (o) => vae.fit(x, o)],
  ["fit()", ["epochs", "shuffle"], (o) => fit(vae, x, o)],
  ["encode", ["condition"], (o) => vae.encode(x, o)],
  ["decode", ["condition"], (o) => vae.decode(new Float32Array(L), o)],
  ["sample", ["temperature", "condition"], (o) => vae.sample(2, o)],
  ["reconstruct", ["condition", "sample"], (o) => vae.reconstruct(x, o)],
  ["interpolate", ["spherical", "condition"], (o) => vae.interpolate(xa, xb, 3, o)],
  ["elbo", ["condition", "samples"], (o) => vae.elbo(x, o)],
  ["logLikelihood", ["samples", "condition"], (o) => vae.logLikelihood(x, o)],
  ["impute", ["method", "samples", "rounds", "proposalScale", "defensive", "iterations", "burnIn", "condition", "initial"], (o) => vae.impute(x, new Uint8Array(D).fill(1), o)],
  ["save", ["optimizer"], (o) => vae.save(o)],
];

describe("every options object", () => {
  it("refuses an unknown (or misspelt) key, naming it", async () => {
    for (const [label, , call] of calls) {
      try {
        await expectThrows(() => call({ temprature: 1 }), ArgumentError, ["options.temprature", "unknown option"], [vae]);
      } catch (e) { (e as Error).message = `${label}: ${(e as Error).message}`; throw e; }
    }
    await expectThrows(() => new Adam({ learningRate: 0.1 } as never), ArgumentError, "options.learningRate");
    await expectThrows(() => VAE.create({ ...cfg, latent: 2 } as never), ArgumentError, "config.latent");
  });

  it("refuses null for every option (null is not the default)", async () => {
    for (const [label, keys, call] of calls) {
      for (const k of keys) {
        try {
          await expectThrows(() => call({ [k]: null }), ArgumentError, [`options.${k}`, "null"], [vae]);
        } catch (e) { (e as Error).message = `${label} ${k}: ${(e as Error).message}`; throw e; }
      }
    }
    for (const k of ["encoder", "decoder", "activation", "activationAlpha", "likelihood", "sigma", "conditionDim", "beta", "seed", "init", "maxBatch"]) {
      await expectThrows(() => VAE.create({ ...cfg, [k]: null }), ArgumentError, `config.${k}`);
    }
  });

  it("refuses a non-object options argument", async () => {
    for (const [label, , call] of calls) {
      for (const bad of [null, 5, "x", [1], new Float32Array(1)]) {
        try {
          await expectThrows(() => call(bad as never), ArgumentError, "options", [vae]);
        } catch (e) { (e as Error).message = `${label} ${String(bad)}: ${(e as Error).message}`; throw e; }
      }
    }
  });
});

describe("booleans must be booleans", () => {
  const cases: [string, () => unknown, string][] = [
    ["fit shuffle", () => vae.fit(x, { shuffle: "no" as never, epochs: 1 }), "shuffle"],
    ["reconstruct sample", () => vae.reconstruct(x, { sample: "no" as never }), "sample"],
    ["interpolate spherical", () => vae.interpolate(xa, xb, 3, { spherical: "no" as never }), "spherical"],
    ["save optimizer", () => vae.save({ optimizer: "false" as never }), "optimizer"],
    ["create deterministic", () => VAE.create(cfg, { deterministic: "no" as never }), "deterministic"],
    ["computeGradients baseline", () => vae.computeGradients(x, { estimator: "score", baseline: 1 as never }), "baseline"],
    ["estimatorVariance baseline", () => vae.estimatorVariance(x, { baseline: "yes" as never }), "baseline"],
  ];
  it.each(cases)("%s", async (_label, call, name) => {
    const e = await expectThrows(call, ArgumentError, [name, "true or false"], [vae]);
    expect(e.message.startsWith(`${name}:`)).toBe(true);
  });

  it("a real boolean still works (the controls)", async () => {
    const w = vae.save({ optimizer: false }), full = vae.save({ optimizer: true });
    expect(w.length).toBeLessThan(full.length);
    const lin = vae.interpolate(xa, xb, 5, { spherical: false }), sph = vae.interpolate(xa, xb, 5, { spherical: true });
    expect(sameBytes(new Uint8Array(lin.buffer), new Uint8Array(sph.buffer))).toBe(false);
  });
});

describe("errors name the user's argument, and a throw changes nothing", () => {
  it("sample temperature 1e300 names temperature (not z[0]) before the evaluation stream moves", async () => {
    await expectThrows(() => vae.sample(4, { temperature: 1e300 }), ArgumentError, "temperature", [vae]);
  });

  it("fit refuses a bad option after a good optimizer option without attaching the optimizer", async () => {
    const before = vae.optimizer;
    await expectThrows(() => vae.fit(x, { optimizer: new Adam({ lr: 0.5 }), validation: new Float32Array(3) }), ArgumentError, "validation", [vae]);
    await expectThrows(() => vae.fit(x, { optimizer: new Adam({ lr: 0.5 }), shuffle: 0 as never }), ArgumentError, "shuffle", [vae]);
    expect(vae.optimizer).toBe(before);
  });

  it("fit resuming with other settings fails before the optimizer is replaced", async () => {
    const m = await VAE.create(cfg);
    const ctl = new AbortController();
    await m.fit(new Float32Array(8 * D).fill(0.5), { epochs: 1, batchSize: 2, onBatch: (b) => { if (b.batch === 1) ctl.abort(); }, signal: ctl.signal });
    expect(m.epochCursor).not.toBe(null);
    const before = m.optimizer;
    await expectThrows(() => m.fit(new Float32Array(8 * D).fill(0.5), { batchSize: 4, optimizer: new Adam() }), ArgumentError, "data", [m]);
    expect(m.optimizer).toBe(before);
  });

  it("a non-finite loss in trainStep puts the training stream back (weights, moments, counters unchanged)", async () => {
    const m = await VAE.create(cfg);
    m.trainStep(x);
    const w = m.getWeights();
    w["encoder.0.weight"] = w["encoder.0.weight"].map(() => 3e38);
    m.setWeights(w);
    await expectThrows(() => m.trainStep(x), NonFiniteLossError, "loss", [m]);
    await expectThrows(() => m.computeGradients(x), NonFiniteLossError, "loss", [m]);
    await expectThrows(() => m.fit(x, { epochs: 1 }), NonFiniteLossError, "loss");
  });

  it("a non-finite result of inference puts the evaluation stream back", async () => {
    const m = await VAE.create(cfg);
    m.sample(1);
    const w = m.getWeights();
    w["encoder.1.bias"] = w["encoder.1.bias"].map((_, i) => (i < L ? 0 : 3e38)); // logvar overflows σ = e^(logvar/2)
    m.setWeights(w);
    for (const [name, call] of [
      ["elbo", () => m.elbo(x)],
      ["logLikelihood", () => m.logLikelihood(x, { samples: 3 })],
      ["reconstruct", () => m.reconstruct(x, { sample: true })],
      ["estimatorVariance", () => m.estimatorVariance(x, { samples: 2 })],
      ["impute", () => m.impute(x, new Uint8Array(D).fill(1).fill(0, 0, 2), { samples: 3 })],
      ["impute metropolis", () => m.impute(x, new Uint8Array(D).fill(1).fill(0, 0, 2), { method: "metropolis", iterations: 3 })],
      ["impute pseudo_gibbs", () => m.impute(x, new Uint8Array(D).fill(1).fill(0, 0, 2), { method: "pseudo_gibbs", iterations: 3 })],
    ] as const) {
      const e = await expectThrows(call, NonFiniteLossError, "", [m]);
      expect(e.message, name).toMatch(/non-finite|became|Infinity|NaN/);
    }
    expect(Array.from(m.encode(x).mean).every(Number.isFinite)).toBe(true); // the means stay finite: the control
  });
});

describe("fit that fails before its first step changes nothing", () => {
  it("a non-finite first loss with a new optimizer: optimizer, moments, cursor and streams put back", async () => {
    const m = await VAE.create(cfg);
    m.trainStep(x);
    const opt = m.optimizer;
    const w = m.getWeights();
    w["encoder.0.weight"] = w["encoder.0.weight"].map(() => 3e38);
    m.setWeights(w);
    await expectThrows(() => m.fit(new Float32Array(4 * D).fill(0.5), { epochs: 1, batchSize: 2, optimizer: new Adam({ lr: 0.1 }) }), NonFiniteLossError, "loss", [m]);
    expect(m.optimizer).toBe(opt);
    expect(m.epochCursor).toBe(null);
  });

  it("a bad first streamed batch", async () => {
    const m = await VAE.create(cfg);
    m.trainStep(x); // non-zero moments, which attaching a fresh Adam would zero
    function* batches() { yield new Float32Array(D).fill(2); }
    await expectThrows(() => m.fit(batches, { epochs: 1, optimizer: new Adam() }), ArgumentError, "batch 0", [m]);
  });
});

describe("data loaders and Node helpers check their options and arguments", () => {
  it("loadIdxPair, pairFromIdx, parseMnist, loadMnist, saveModelFile, loadModelFile", async () => {
    const { loadIdxPair, loadMnist, parseMnist } = await import("../../src/index.js");
    const { pairFromIdx } = await import("../../src/data/idx.js");
    const { saveModelFile, loadModelFile, writeFileAtomic } = await import("../../src/node.js");
    await expectThrows(() => loadIdxPair("a", "b", null as never), ArgumentError, "opts");
    await expectThrows(() => loadIdxPair("a", "b", { limt: 3 } as never), ArgumentError, "opts.limt");
    await expectThrows(() => loadMnist({ split: "test", limt: 3 } as never), ArgumentError, "opts.limt");
    await expectThrows(() => loadMnist(null as never), ArgumentError, "opts");
    await expectThrows(() => parseMnist(new Uint8Array(8), new Uint8Array(8), null as never), ArgumentError, "opts");
    await expectThrows(() => pairFromIdx(null as never, null as never), ArgumentError, "images");
    await expectThrows(() => saveModelFile(null as never, "/tmp/x.wvae"), ArgumentError, "model");
    await expectThrows(() => saveModelFile(vae, 5 as never), ArgumentError, "path", [vae]);
    await expectThrows(() => saveModelFile(vae, "/tmp/x.wvae", { optimizer: "no" as never }), ArgumentError, "optimizer", [vae]);
    await expectThrows(() => loadModelFile(null as never), ArgumentError, "path");
    await expectThrows(() => writeFileAtomic("/tmp/x", null as never), ArgumentError, "bytes");
  });
});
