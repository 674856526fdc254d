// The activation and dropout kinds in whole models, and the declared output
// layer (issue 16, items 2 and 3):
// - output layer: the decoder list's last layer is the output whatever its
//   kind (a parameter-free activation or dropout layer too: the dense before
//   it is then a hidden layer with its activation), an explicit activation
//   there is refused by name, a trailing flatten / reshape views the layer
//   before it (the existing rule), a decoder with no layer with parameters is
//   refused naming its last entry;
// - dropout is the identity at inference: encode, decode, ELBO, IWAE and
//   impute equal those of the same weights without the dropout layers, bit
//   for bit; rate 0 trains bit-identically to no dropout layer; rate > 0
//   changes the training loss;
// - central finite differences of the training loss (fixed ε, the kernel
//   stream put back before every evaluation, so the masks are the same)
//   against computeGradients, through activation and dropout layers on flat
//   rows and images, and under the IWAE objective (k sample rows per row);
// - training is bit-identical on 1 and 2 threads (calls forced to split), and
//   save → load continues bit-identically (the stream is saved);
// - in a WorkerTrainer, training equals training in-process.
import { sourceWorker } from "../helpers.js";
import { describe, expect, it } from "vitest";
import { architectureOf, ArgumentError, VAE, type VAEConfig } from "../../src/index.js";
import { resolveConfig } from "../../src/model/config.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { WorkerTrainer } from "../../src/worker/worker.js";
import { randomArray, randomNormals } from "../reference.js";
import { finiteDifferenceCheck } from "./grad-check.js";

const D = 12, L = 3, B = 6;
const x = randomArray(B * D, 41, 0, 1);

describe("the output layer is the decoder list's last layer", () => {
  const arch = (decoder: VAEConfig["decoder"], more: Partial<VAEConfig> = {}) => architectureOf(resolveConfig({ inputDim: D, latentDim: L, encoder: [8], decoder, ...more }));

  it("a parameter-free activation or dropout layer there is the output; the dense layer before it is hidden", () => {
    const a = arch([{ type: "dense", units: 8 }, { type: "dense", units: D }, { type: "activation" }]);
    expect(a.decoder.map((l) => [l.kind, l.activation])).toEqual([["dense", "relu"], ["dense", "relu"], ["activation", "identity"]]);
    expect(a.outputLayer).toBe(2);
    const b = arch([{ type: "dense", units: D, activation: "tanh" }, { type: "dropout", rate: 0.5 }]);
    expect(b.decoder.map((l) => [l.kind, l.activation])).toEqual([["dense", "tanh"], ["dropout", "identity"]]);
    expect(b.outputLayer).toBe(1);
  });

  it("an explicit activation on the output layer is refused by name, whatever its kind", () => {
    expect(() => arch([{ type: "dense", units: D }, { type: "activation", activation: "sigmoid" }]))
      .toThrow(/^config\.decoder\[1\]\.activation: expected "identity" or nothing: this layer is the output layer \(its output \(12\) is the likelihood's\), got "sigmoid"/);
    expect(() => arch([{ type: "dense", units: D }, { type: "activation", activation: "relu" }])).toThrow(ArgumentError);
    expect(arch([{ type: "dense", units: D }, { type: "activation", activation: "identity" }]).outputLayer).toBe(1);
  });

  it("unchanged: a trailing flatten / reshape views the layer before it; bare numbers and other flat outputs get the appended dense layer", () => {
    const img = { inputShape: [2, 3, 2], encoder: [{ type: "flatten" as const }] };
    const a = arch([{ type: "dense", units: D }, { type: "reshape", shape: [2, 3, 2] }], img);
    expect(a.outputLayer).toBe(0);
    expect(a.decoder[0].activation).toBe("identity");
    const b = arch([8, D]);
    expect(b.decoder.map((l) => l.name)).toEqual(["decoder.0", "decoder.1", "decoder.2"]);
    expect(b.outputLayer).toBe(2);
    const c = arch([{ type: "dense", units: 8 }, { type: "activation", activation: "tanh" }]);
    expect(c.decoder.map((l) => [l.kind, l.activation])).toEqual([["dense", "relu"], ["activation", "tanh"], ["dense", "identity"]]);
    expect(c.outputLayer).toBe(2);
  });

  it("a decoder without a layer with parameters is refused, naming its last entry", () => {
    expect(() => architectureOf(resolveConfig({ inputDim: L, latentDim: L, encoder: [4], decoder: [{ type: "activation" }, { type: "dropout", rate: 0.2 }] })))
      .toThrow(/^config\.decoder\[1\]: expected a decoder with a layer with parameters/);
  });
});

// The same network with and without dropout layers: parameters in the same order.
const WITH: VAEConfig = {
  inputDim: D, latentDim: L, seed: 9, conditionDim: 2, activation: "elu",
  encoder: [{ type: "dense", units: 10, activation: "identity" }, { type: "activation", activation: "tanh" }, { type: "dropout", rate: 0.5 }, { type: "dense", units: 7 }, { type: "dropout", rate: 0.25 }],
  decoder: [{ type: "dense", units: 9 }, { type: "dropout", rate: 0.4 }, { type: "dense", units: D }],
};
const dropRate = (c: VAEConfig, rate: number | null): VAEConfig => {
  const edit = (list: VAEConfig["encoder"]) => list!.flatMap((e) => typeof e === "object" && e.type === "dropout" ? (rate === null ? [] : [{ ...e, rate }]) : [e]);
  return { ...c, encoder: edit(c.encoder), decoder: edit(c.decoder) };
};
const cond = randomArray(B * 2, 43, 0, 1);

/** Copies a's weights into b by position (the names' indices differ). */
function copyWeights(a: VAE, b: VAE): void {
  const wa = Object.values(a.getWeights()), names = Object.keys(b.parameterShapes());
  expect(names.length).toBe(wa.length);
  b.setWeights(Object.fromEntries(names.map((n, i) => [n, wa[i]])));
}

describe("dropout in a model", () => {
  it("is the identity at inference: every inference method equals the same weights without dropout, bit for bit", async () => {
    const a = await VAE.create(WITH, { build: "plain", threads: 1 });
    a.trainStep({ x, condition: cond }); // weights off their init
    const b = await VAE.create(dropRate(WITH, null), { build: "plain", threads: 1 });
    copyWeights(a, b);
    const o = { condition: cond };
    expect(a.encode(x, o)).toEqual(b.encode(x, o));
    const z = randomArray(B * L, 44, -1, 1);
    expect(a.decode(z, o)).toEqual(b.decode(z, o));
    expect(a.elbo(x, { ...o, samples: 3 })).toEqual(b.elbo(x, { ...o, samples: 3 }));
    expect(a.logLikelihood(x, { ...o, samples: 8 })).toEqual(b.logLikelihood(x, { ...o, samples: 8 }));
    const mask = new Uint8Array(B * D).map((_, i) => (i % D < 6 ? 1 : 0));
    expect(a.impute(x, mask, { ...o, method: "metropolis", iterations: 6 })).toEqual(b.impute(x, mask, { ...o, method: "metropolis", iterations: 6 }));
    expect(a.impute(x, mask, { ...o, samples: 50 })).toEqual(b.impute(x, mask, { ...o, samples: 50 }));
    expect(a.sample(4, { condition: cond.subarray(0, 8) })).toEqual(b.sample(4, { condition: cond.subarray(0, 8) }));
  });

  it("rate 0 trains bit-identically to no dropout layer; rate > 0 changes the loss", async () => {
    const noise = Float32Array.from(randomNormals(B * L, 45));
    const zero = await VAE.create(dropRate(WITH, 0), { build: "plain", threads: 1 });
    const none = await VAE.create(dropRate(WITH, null), { build: "plain", threads: 1 });
    copyWeights(zero, none);
    for (let s = 0; s < 5; s++) expect(zero.trainStep({ x, condition: cond }).loss).toBe(none.trainStep({ x, condition: cond }).loss);
    expect(Object.values(zero.getWeights())).toEqual(Object.values(none.getWeights()));
    const half = await VAE.create(WITH, { build: "plain", threads: 1 });
    copyWeights(none, half);
    const g0 = none.computeGradients({ x, condition: cond }, { noise }).loss, g1 = half.computeGradients({ x, condition: cond }, { noise }).loss;
    expect(g1).not.toBe(g0);
  });
});

/** The kernel stream's state, read and written through the model's memory. */
function stream(vae: VAE): { get(): Uint32Array; set(s: Uint32Array): void } {
  const ptr = (vae as unknown as { net: { ptr: Record<string, number> } }).net.ptr["rng.train"];
  return {
    get: () => new Uint32Array(vae.kernels.memory.buffer, ptr, 4).slice(),
    set: (s) => new Uint32Array(vae.kernels.memory.buffer, ptr, 4).set(s),
  };
}

describe("finite differences through activation and dropout layers", () => {
  const check = async (config: VAEConfig, rows: Float32Array, c?: Float32Array, samples = 1) => {
    const vae = await VAE.create(config, { build: "plain", threads: 1 });
    const s = stream(vae), saved = s.get();
    // every evaluation draws the same dropout masks: the stream is put back first
    const compute = vae.computeGradients.bind(vae);
    vae.computeGradients = ((batch, o) => { s.set(saved); return compute(batch, o); }) as VAE["computeGradients"];
    const noise = Float32Array.from(randomNormals((rows.length / vae.config.inputDim) * samples * vae.config.latentDim, 46));
    const r = finiteDifferenceCheck(vae, c ? { x: rows, condition: c } : rows, noise, { spread: 0.5 });
    expect(r.nonzero).toBeGreaterThan(r.checked / 2);
    // and the masks drop: a different stream state gives a different loss
    s.set(new Uint32Array([1, 2, 3, 4]));
    expect(compute(c ? { x: rows, condition: c } : rows, { noise }).loss).not.toBe(vae.computeGradients(c ? { x: rows, condition: c } : rows, { noise }).loss);
  };

  it("flat rows, conditional, elu: dense → tanh → dropout → dense → dropout | dense → dropout → dense", async () => {
    await check(WITH, x, cond);
  });

  it("the IWAE objective (k = 3: the decoder and its dropout layers run on B·k sample rows)", async () => {
    await check({ ...WITH, objective: { type: "iwae", samples: 3 } }, x, cond, 3);
  });

  it("images, gaussian: conv2d → activation → dropout → flatten → dense | dense → dropout → reshape → conv2d_transpose → softplus → conv2d_transpose → dropout (the output)", async () => {
    const img: VAEConfig = {
      // smooth activations: finite differences across a ReLU kink would not match (ggml keeps inputs off kinks)
      inputShape: [4, 4, 1], latentDim: 2, seed: 3, likelihood: "gaussian", activation: "tanh",
      encoder: [{ type: "conv2d", filters: 2, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "activation" }, { type: "dropout", rate: 0.3 },
        { type: "flatten" }, { type: "dense", units: 5 }],
      decoder: [{ type: "dense", units: 8 }, { type: "dropout", rate: 0.5 }, { type: "reshape", shape: [2, 2, 2] },
        { type: "conv2d_transpose", filters: 2, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "activation", activation: "softplus" },
        { type: "conv2d_transpose", filters: 1, kernel: 3, padding: "same" }, { type: "dropout", rate: 0.2 }],
    };
    await check(img, randomArray(5 * 16, 47, 0, 1));
  });
});

describe("threads, save/load and the worker", () => {
  it("training is bit-identical on 1 and 2 threads (every call split)", async () => {
    const run = async (threads: number) => {
      const vae = await VAE.create(WITH, { build: "plain", threads });
      expect(vae.threads).toBe(threads);
      const pool = vae.kernels.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      for (let s = 0; s < 6; s++) vae.trainStep({ x, condition: cond });
      if (pool) expect(pool.stats().splitCalls).toBeGreaterThan(0);
      const w = vae.getWeights();
      vae.dispose();
      return w;
    };
    expect(await run(2)).toEqual(await run(1));
  });

  it("save → load continues training bit-identically (the masks' stream is saved)", async () => {
    const a = await VAE.create(WITH, { build: "plain", threads: 1 });
    for (let s = 0; s < 3; s++) a.trainStep({ x, condition: cond });
    const b = await VAE.load(a.save(), { build: "plain", threads: 1 });
    expect(b.config).toEqual(a.config);
    for (let s = 0; s < 3; s++) expect(b.trainStep({ x, condition: cond }).loss).toBe(a.trainStep({ x, condition: cond }).loss);
    expect(b.getWeights()).toEqual(a.getWeights());
  });

  it("a WorkerTrainer trains it as in-process, bit for bit", async () => {
    const t = new WorkerTrainer(sourceWorker());
    try {
      await t.create(WITH, { build: "plain", threads: 1 });
      await t.fit(x, { epochs: 3, batchSize: 3, condition: cond });
      const local = await VAE.create(WITH, { build: "plain", threads: 1 });
      await local.fit(x, { epochs: 3, batchSize: 3, condition: cond, yieldEvery: 0 });
      expect(await t.getWeights()).toEqual(local.getWeights());
      expect(await t.elbo(x, { condition: cond })).toEqual(local.elbo(x, { condition: cond }));
    } finally {
      await t.dispose();
    }
  });
});
