// The batch_norm kind in whole models (issue 16, item 2):
// - config: bad momentum / epsilon refused by name; refused where the rows
//   are not one batch (the stochastic layers above the first, an encoder that
//   runs a VampPrior's pseudo-inputs);
// - the running statistics are not parameters: outside the Adam blocks, a
//   training step moves them as the float64 formula on the batch says (AdamW's
//   decay and the update never touch them), computeGradients and a step that
//   throws leave them (and the weights and streams) unchanged;
// - inference uses them: every row's encoding is the same alone or in a batch;
//   training uses the batch statistics: a row's loss depends on its batch;
// - central finite differences of the training loss (batch statistics
//   included) against computeGradients, MLP and conv;
// - MLP and conv models with batch_norm in the encoder and the decoder train,
//   save → load (the statistics in the file, weights-only files too) and
//   resume bit-identically, give the same bits on 1, 2 and 4 threads, and
//   train in a WorkerTrainer as in-process.
import { sourceWorker } from "../helpers.js";
import { describe, expect, it } from "vitest";
import { Adam, ArgumentError, VAE, type VAEConfig } from "../../src/index.js";
import { ModelFormatError } from "../../src/persistence/io.js";
import { architectureOf } from "../../src/model/architecture.js";
import { resolveConfig } from "../../src/model/config.js";
import { planMemory } from "../../src/model/plan.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { WorkerTrainer } from "../../src/worker/worker.js";
import { randomArray, randomNormals } from "../reference.js";
import { finiteDifferenceCheck } from "./grad-check.js";

const D = 12, L = 3, B = 6;
const x = randomArray(B * D, 51, 0, 1);

const MLP: VAEConfig = {
  inputDim: D, latentDim: L, seed: 5, activation: "tanh",
  encoder: [{ type: "batch_norm" }, { type: "dense", units: 10 }, { type: "batch_norm", momentum: 0.9 }, 7],
  decoder: [{ type: "dense", units: 9, activation: "identity" }, { type: "batch_norm", epsilon: 1e-2 }, { type: "activation" }, { type: "dense", units: D }],
};
const CONV: VAEConfig = {
  inputShape: [4, 4, 2], latentDim: 2, seed: 3, likelihood: "gaussian", activation: "tanh",
  encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "batch_norm", momentum: 0.8 }, { type: "activation" },
    { type: "flatten" }, { type: "dense", units: 5 }],
  decoder: [{ type: "dense", units: 12 }, { type: "reshape", shape: [2, 2, 3] },
    { type: "conv2d_transpose", filters: 3, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "batch_norm" }, { type: "activation" },
    { type: "conv2d_transpose", filters: 2, kernel: 3, padding: "same" }],
};
const xImg = randomArray(5 * 32, 52, 0, 1);

const buffers = (v: VAE) => v.exportState().buffers!;

describe("batch_norm in a config", () => {
  it("refuses bad momentum and epsilon by name, in the encoder and the decoder", async () => {
    const mk = (enc: unknown, dec: unknown = 8) => VAE.create({ inputDim: D, latentDim: L, encoder: [8, enc as number], decoder: [dec as number] }, { build: "plain", threads: 1 });
    await expect(mk({ type: "batch_norm", momentum: 1.5 })).rejects.toThrow(/^config\.encoder\[1\]\.momentum: expected/);
    await expect(mk({ type: "batch_norm", momentum: "0.9" })).rejects.toThrow(ArgumentError);
    await expect(mk({ type: "batch_norm", epsilon: 0 })).rejects.toThrow(/^config\.encoder\[1\]\.epsilon: expected/);
    await expect(mk(8, { type: "batch_norm", epsilon: -1 })).rejects.toThrow(/^config\.decoder\[0\]\.epsilon: expected/);
    await expect(mk({ type: "batch_norm", rate: 0.1 })).rejects.toThrow(/^config\.encoder\[1\]\.rate: .*no such setting of a batch_norm layer/);
    await expect(mk({ type: "batch_norm", activation: "relu" })).rejects.toThrow(/^config\.encoder\[1\]\.activation/);
  });

  it("is refused in the stochastic layers above the first and in an encoder that runs a VampPrior's pseudo-inputs", async () => {
    await expect(VAE.create({ inputDim: D, latentDim: L, encoder: [8, { type: "batch_norm" }], decoder: [8], prior: { type: "vamp", components: 3 } }, { build: "plain", threads: 1 }))
      .rejects.toThrow(/^config\.encoder\[1\]: expected no batch_norm layer in the encoder with the "vamp" prior/);
    await expect(VAE.create({ inputDim: D, latents: [{ encoder: [5], size: L, decoder: [4] }, { encoder: [4, { type: "batch_norm" }], size: 2, decoder: [4] }] } as VAEConfig, { build: "plain", threads: 1 }))
      .rejects.toThrow(/^config\.latents\[1\]\.encoder\[1\]\.type: expected a layer kind without batch statistics/);
  });
});

describe("the plan", () => {
  it("lays the saved statistics out right after the four Adam blocks, then the working ones; a malformed buffers list is refused by name", () => {
    const a = architectureOf(resolveConfig(MLP));
    const layers = [...a.encoder, ...a.decoder];
    const plan = planMemory({ layers, buffers: [], batch: 8 });
    const v = plan.blocks.v;
    expect(plan.blocks.buffers).toEqual({ offset: v.offset + 4 * v.floats, floats: plan.blocks.buffers.floats });
    expect(plan.tensors["encoder.0.running_mean"].offset).toBe(plan.blocks.buffers.offset);
    const saved = ["encoder.0", "encoder.2", "decoder.1"].flatMap((n) => [`${n}.running_mean`, `${n}.running_var`]);
    for (const n of saved) {
      const t = plan.tensors[n];
      expect(t.offset >= plan.blocks.buffers.offset && t.offset + 4 * t.size <= plan.blocks.buffers.offset + 4 * plan.blocks.buffers.floats, n).toBe(true);
    }
    expect(plan.tensors["encoder.0.batch_mean"].offset).toBeGreaterThanOrEqual(plan.blocks.buffers.offset + 4 * plan.blocks.buffers.floats);
    expect(plan.tensors["rng.train"].offset).toBeGreaterThan(plan.tensors["decoder.1.batch_invstd"].offset);
    // without batch_norm the block is empty and nothing moves
    const b = architectureOf(resolveConfig({ inputDim: D, latentDim: L, encoder: [10], decoder: [9] }));
    const plain = planMemory({ layers: [...b.encoder, ...b.decoder], buffers: [], batch: 8 });
    expect(plain.blocks.buffers.floats).toBe(0);
    expect(plain.tensors["rng.train"].offset).toBe(plain.blocks.v.offset + 4 * plain.blocks.v.floats);
    const bad = layers.map((l, i) => (i === 0 ? { ...l, buffers: "no" as unknown as [] } : l));
    expect(() => planMemory({ layers: bad, buffers: [], batch: 8 })).toThrow(/^spec\.layers\[0\]\.buffers: expected an array/);
  });
});

describe("the running statistics", () => {
  it("are γ, β parameters plus buffers outside the Adam blocks; a step moves them by the float64 formula, AdamW's decay does not", async () => {
    const vae = await VAE.create(MLP, { build: "plain", threads: 1 });
    vae.optimizer = new Adam({ lr: 0.05, weightDecay: 0.5 });
    const shapes = vae.parameterShapes();
    expect(shapes["encoder.0.weight"]).toEqual([D]);
    expect(shapes["encoder.0.bias"]).toEqual([D]);
    expect(Object.keys(shapes).some((n) => n.includes("running"))).toBe(false);
    const w0 = vae.getWeights();
    expect(Array.from(w0["encoder.0.weight"])).toEqual(new Array(D).fill(1));   // γ = 1
    expect(Array.from(w0["encoder.0.bias"])).toEqual(new Array(D).fill(0));     // β = 0
    expect(Object.keys(buffers(vae))).toEqual(["encoder.0.running_mean", "encoder.0.running_var", "encoder.2.running_mean", "encoder.2.running_var", "decoder.1.running_mean", "decoder.1.running_var"]);
    expect(Array.from(buffers(vae)["encoder.0.running_var"])).toEqual(new Array(D).fill(1));
    const plan = (vae as unknown as { net: { plan: { blocks: Record<string, { offset: number; floats: number }>; tensors: Record<string, { offset: number }> } } }).net.plan;
    const v = plan.blocks.v, at = plan.tensors["encoder.0.running_mean"].offset;
    expect(at, "after the four twin blocks").toBeGreaterThanOrEqual(v.offset + 4 * v.floats);
    // the first layer normalizes x itself: its running statistics after steps on x are known
    let rm = new Float64Array(D), rv = new Float64Array(D).fill(1);
    for (let s = 0; s < 3; s++) {
      vae.trainStep(x);
      for (let d = 0; d < D; d++) {
        let mu = 0, q = 0;
        for (let b = 0; b < B; b++) mu += x[b * D + d] / B;
        for (let b = 0; b < B; b++) q += (x[b * D + d] - mu) ** 2;
        rm[d] = 0.99 * rm[d] + 0.01 * mu;
        rv[d] = 0.99 * rv[d] + 0.01 * q / (B - 1);   // unbiased, as PyTorch
      }
      const got = buffers(vae);
      got["encoder.0.running_mean"].forEach((g, d) => expect(Math.abs(g - rm[d]), `mean[${d}] after step ${s + 1}`).toBeLessThan(1e-6));
      got["encoder.0.running_var"].forEach((g, d) => expect(Math.abs(g - rv[d]), `var[${d}] after step ${s + 1}`).toBeLessThan(1e-6));
    }
    // the parameters did move (and decay)
    expect(vae.getWeights()["encoder.0.weight"]).not.toEqual(w0["encoder.0.weight"]);
  });

  it("computeGradients, a step that throws (1 row; a non-finite loss) leave them, the weights and the streams unchanged", async () => {
    const vae = await VAE.create(MLP, { build: "plain", threads: 1 });
    vae.trainStep(x);
    const s0 = vae.exportState();
    vae.computeGradients(x);
    expect(buffers(vae)).toEqual(s0.buffers);
    const sA = vae.exportState();
    expect(() => vae.trainStep(x.subarray(0, D))).toThrow(/^batch: expected at least 2 rows to train a model with a batch_norm layer \(config\.encoder\[0\]/);
    const s1 = vae.exportState();
    expect(s1.buffers).toEqual(sA.buffers);
    expect(s1.weights).toEqual(sA.weights);
    expect(s1.rngTrain).toEqual(sA.rngTrain);
    // logits of 3e38: the loss overflows to ∞ after every forward ran
    vae.setWeights({ "decoder.3.bias": new Float32Array(D).fill(3e38) });
    const s2 = vae.exportState();
    expect(() => vae.trainStep(x)).toThrow(/loss became/);
    expect(buffers(vae)).toEqual(s2.buffers);
    expect(vae.exportState().weights).toEqual(s2.weights);
  });

  it("fit refuses, before any step, a batchSize that leaves a 1-row batch (nothing changes); one that does not trains", async () => {
    const vae = await VAE.create(MLP, { build: "plain", threads: 1 });
    const s0 = vae.exportState();
    // B = 6 rows: batches of 5 end with 1 row; batches of 1 are all 1-row
    await expect(vae.fit(x, { epochs: 1, batchSize: 5 })).rejects.toThrow(/^batchSize: expected a size that leaves no 1-row batch \(encoder\.0 is a batch_norm layer.*6 rows in batches of 5 end with a 1-row batch; e\.g\. batchSize 6/);
    await expect(vae.fit(x, { epochs: 1, batchSize: 1 })).rejects.toThrow(/^batchSize: expected a size that leaves no 1-row batch/);
    expect(vae.exportState()).toEqual(s0);
    expect(vae.steps).toBe(0);
    await vae.fit(x, { epochs: 1, batchSize: 4 }); // 4 + 2
    expect(vae.steps).toBe(2);
  });

  it("inference uses them: a row encodes, decodes and scores the same alone as in its batch; a training loss depends on the batch", async () => {
    const vae = await VAE.create(MLP, { build: "plain", threads: 1 });
    for (let s = 0; s < 4; s++) vae.trainStep(x);
    const all = vae.encode(x), one = vae.encode(x.subarray(D, 2 * D));
    expect(all.mean.subarray(L, 2 * L)).toEqual(one.mean);
    expect(vae.decode(all.mean).subarray(D, 2 * D)).toEqual(vae.decode(one.mean));
    expect(vae.reconstruct(x).subarray(2 * D, 3 * D)).toEqual(vae.reconstruct(x.subarray(2 * D, 3 * D)));
    const noise = Float32Array.from(randomNormals(2 * L, 53));
    const a = vae.computeGradients(x.subarray(0, 2 * D), { noise }).loss;
    const b = vae.computeGradients(Float32Array.from([...x.subarray(0, D), ...x.subarray(3 * D, 4 * D)]), { noise }).loss;
    const c = vae.computeGradients(Float32Array.from([...x.subarray(0, D), ...x.subarray(D, 2 * D)]), { noise }).loss;
    expect(c).toBe(a);
    expect(b).not.toBe(a);
  });
});

describe("every inference method uses the running statistics", () => {
  it("with statistics that make each batch_norm the identity, encode, decode, ELBO, IWAE, impute and sample equal the network without them, bit for bit", async () => {
    const a = await VAE.create(MLP, { build: "plain", threads: 1 });
    for (let s = 0; s < 3; s++) a.trainStep(x); // weights off their init; batch statistics far from (0, 1)
    // γ = 1, β = 0, running mean 0 and running variance 1 − ε: 1/√(σ² + ε) rounds to 1, so y = x exactly
    const st = a.exportState(), w = { ...st.weights };
    const eps: Record<string, number> = { "encoder.0": 1e-3, "encoder.2": 1e-3, "decoder.1": 1e-2 };
    for (const [n, e] of Object.entries(eps)) {
      w[`${n}.weight`] = w[`${n}.weight`].map(() => 1);
      w[`${n}.bias`] = w[`${n}.bias`].map(() => 0);
    }
    const buffers = Object.fromEntries(Object.entries(st.buffers!).map(([n, t]) => [n, t.map(() => (n.endsWith("running_var") ? 1 - eps[n.slice(0, n.lastIndexOf("."))] : 0))]));
    a.importState({ weights: w, buffers });
    const drop = (list: VAEConfig["encoder"]) => list!.filter((e) => typeof e === "number" || e.type !== "batch_norm");
    const b = await VAE.create({ ...MLP, encoder: drop(MLP.encoder), decoder: drop(MLP.decoder) }, { build: "plain", threads: 1 });
    const names = Object.keys(b.parameterShapes()), mine = Object.keys(w).filter((n) => !(n.slice(0, n.lastIndexOf(".")) in eps));
    expect(mine.length).toBe(names.length);
    b.setWeights(Object.fromEntries(names.map((n, i) => [n, w[mine[i]]])));
    expect(a.encode(x)).toEqual(b.encode(x));
    const z = randomArray(B * L, 56, -1, 1);
    expect(a.decode(z)).toEqual(b.decode(z));
    expect(a.elbo(x, { samples: 3 })).toEqual(b.elbo(x, { samples: 3 }));
    expect(a.logLikelihood(x, { samples: 8 })).toEqual(b.logLikelihood(x, { samples: 8 }));
    const mask = new Uint8Array(B * D).map((_, i) => (i % D < 6 ? 1 : 0));
    expect(a.impute(x, mask, { samples: 40 })).toEqual(b.impute(x, mask, { samples: 40 }));
    expect(a.impute(x, mask, { method: "metropolis", iterations: 5 })).toEqual(b.impute(x, mask, { method: "metropolis", iterations: 5 }));
    expect(a.sample(4)).toEqual(b.sample(4));
    // a training forward uses the batch's statistics instead: the losses differ
    const noise = Float32Array.from(randomNormals(B * L, 57));
    expect(a.computeGradients(x, { noise }).loss).not.toBe(b.computeGradients(x, { noise }).loss);
  });
});

describe("finite differences through batch_norm (training mode: the batch statistics are differentiated too)", () => {
  it("MLP: batch_norm on x, after a dense layer, and in the decoder", async () => {
    const vae = await VAE.create(MLP, { build: "plain", threads: 1 });
    const noise = Float32Array.from(randomNormals(B * L, 54));
    const r = finiteDifferenceCheck(vae, x, noise, { spread: 0.5 });
    expect(r.nonzero).toBeGreaterThan(r.checked / 2);
  });

  it("conv: per channel after conv2d and conv2d_transpose", async () => {
    const vae = await VAE.create(CONV, { build: "plain", threads: 1 });
    const noise = Float32Array.from(randomNormals(5 * 2, 55));
    const r = finiteDifferenceCheck(vae, xImg, noise, { spread: 0.5 });
    expect(r.nonzero).toBeGreaterThan(r.checked / 2);
  });
});

describe.each([["MLP", MLP, x, 3], ["conv", CONV, xImg, 5]] as const)("%s with batch_norm in the encoder and the decoder", (_name, config, data, rows) => {
  it("trains (the loss falls), save → load resumes bit-identically; a weights-only file carries the statistics", async () => {
    const a = await VAE.create(config, { build: "plain", threads: 1 });
    a.optimizer = new Adam({ lr: 0.01 });
    const first = a.trainStep(data).loss;
    let last = first;
    for (let s = 0; s < 30; s++) last = a.trainStep(data).loss;
    expect(last).toBeLessThan(first);
    const b = await VAE.load(a.save(), { build: "plain", threads: 1 });
    expect(b.exportState().buffers).toEqual(a.exportState().buffers);
    for (let s = 0; s < 3; s++) expect(b.trainStep(data).loss).toBe(a.trainStep(data).loss);
    expect(b.getWeights()).toEqual(a.getWeights());
    expect(b.exportState().buffers).toEqual(a.exportState().buffers);
    expect(b.elbo(data)).toEqual(a.elbo(data));
    const c = await VAE.load(a.save({ optimizer: false }), { build: "plain", threads: 1 });
    expect(c.exportState().buffers).toEqual(a.exportState().buffers);
    expect(c.encode(data)).toEqual(a.encode(data));
    // fit with batches of `rows`, resumed from a file mid-way: the same as straight through
    const d = await VAE.create(config, { build: "plain", threads: 1 }), e = await VAE.create(config, { build: "plain", threads: 1 });
    await d.fit(data, { epochs: 4, batchSize: rows, yieldEvery: 0 });
    await e.fit(data, { epochs: 2, batchSize: rows, yieldEvery: 0 });
    const f = await VAE.load(e.save(), { build: "plain", threads: 1 });
    await f.fit(data, { epochs: 2, batchSize: rows, yieldEvery: 0 });
    expect(f.exportState().buffers).toEqual(d.exportState().buffers);
    expect(f.getWeights()).toEqual(d.getWeights());
  });

  it("a file whose running variance is negative is refused by name", async () => {
    const a = await VAE.create(config, { build: "plain", threads: 1 });
    const st = a.exportState(), name = Object.keys(st.buffers!)[1];
    expect(name).toMatch(/running_var$/);
    const bad = { ...st, buffers: { ...st.buffers!, [name]: st.buffers![name].map((v, i) => (i === 0 ? -1 : v)) } };
    expect(() => a.importState(bad)).toThrow(new RegExp(`^state buffers:${name.replace(/\./g, "\\.")}\\[0\\]: expected a finite number ≥ 0`));
    // and in a file: flip the first float of that tensor to −1 (the checksum recomputed)
    const bytes = a.save({ optimizer: false }), dv = new DataView(bytes.buffer);
    const H = dv.getUint32(8, true), header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + H)));
    let o = 12 + H;
    for (const t of header.tensors as { name: string; shape: number[] }[]) { if (t.name === name) break; o += 4 * t.shape.reduce((p, q) => p * q, 1); }
    dv.setFloat32(o, -1, true);
    const { crc32 } = await import("../../src/persistence/io.js");
    dv.setUint32(bytes.length - 4, crc32(bytes, bytes.length - 4), true);
    await expect(VAE.load(bytes, { build: "plain", threads: 1 })).rejects.toThrow(ModelFormatError);
    await expect(VAE.load(bytes, { build: "plain", threads: 1 })).rejects.toThrow(/\(a variance\) holds a negative value/);
  });

  it("training gives the same bits on 1, 2 and 4 threads (every call split)", async () => {
    const run = async (threads: number) => {
      const vae = await VAE.create(config, { build: "plain", threads });
      expect(vae.threads).toBe(threads);
      const pool = vae.kernels.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      for (let s = 0; s < 5; s++) vae.trainStep(data);
      if (pool) expect(pool.stats().splitCalls).toBeGreaterThan(0);
      const out = { w: vae.getWeights(), b: buffers(vae), e: vae.elbo(data) };
      vae.dispose();
      return out;
    };
    const one = await run(1);
    expect(await run(2)).toEqual(one);
    expect(await run(4)).toEqual(one);
  });

  it("a WorkerTrainer trains it as in-process, bit for bit", async () => {
    const t = new WorkerTrainer(sourceWorker());
    try {
      await t.create(config, { build: "plain", threads: 1 });
      await t.fit(data, { epochs: 3, batchSize: rows });
      const local = await VAE.create(config, { build: "plain", threads: 1 });
      await local.fit(data, { epochs: 3, batchSize: rows, yieldEvery: 0 });
      expect(await t.getWeights()).toEqual(local.getWeights());
      expect((await t.exportState()).buffers).toEqual(buffers(local));
      expect(await t.elbo(data)).toEqual(local.elbo(data));
    } finally {
      await t.dispose();
    }
  });
});
