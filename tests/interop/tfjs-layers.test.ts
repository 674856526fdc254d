// TensorFlow.js layers export/import (src/interop/tfjs-layers.ts), checked by
// the real @tensorflow/tfjs-layers 4.22 (CPU backend):
// - tf.loadLayersModel reads our model.json + shards through tfjs's own HTTP
//   handler (its manifest and shard-path code; fetch served from memory) and
//   through tf.io.fromMemory; its predict() on the encoder (→ z_mean, z_logvar)
//   and the decoder (→ x_mean, x_log_sigma) matches vae.encode / vae.decode
//   (and the float64 module for log σ) within 1e-5, for every activation,
//   likelihood and a condition, and on MNIST at 784-400-20.
// - A model over 4 MiB is cut into shards that tfjs reassembles.
// - Round trip: export → import is bit-identical, config included.
// - Fuzz: corrupted bytes of any file → InteropFormatError or the same config.
// - Tampered files (activation, missing shard, shape, dtype, extra weight,
//   configs that differ) → InteropFormatError naming the file and field.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import { exportModel, importModel, InteropFormatError, loadMnist, readModel, VAE, type ModelFiles, type VAEConfig } from "../../src/index.js";
import { asTorchStateDict, CONFIGS, differingTensors, expectClose, inputs, fuzzFiles, randomModel, torchForward } from "./helpers.js";

const ROWS = 6;

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** tf.loadLayersModel through tfjs's HTTP handler, fetch answered from `files`. */
async function loadViaHttp(files: ModelFiles, part: string): Promise<tfl.LayersModel> {
  const fetchFunc = async (url: string) => {
    const name = String(url).replace(/^mem:\/\/model\//, "");
    const f = files[name];
    return f ? new Response(f, { status: 200 }) : new Response("not found", { status: 404 });
  };
  return tfl.loadLayersModel(tf.io.http(`mem://model/${part}/model.json`, { fetchFunc }));
}

/** tf.loadLayersModel on tf.io.fromMemory(artifacts) (one weights group, shards concatenated). */
async function loadViaMemory(files: ModelFiles, part: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(Buffer.from(files[`${part}/model.json`]).toString("utf8"));
  const group = json.weightsManifest[0];
  const weightData = Buffer.concat(group.paths.map((p: string) => Buffer.from(files[`${part}/${p}`])));
  return tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: group.weights,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  }));
}

function predict(model: tfl.LayersModel, a: Float32Array, aDim: number, c: Float32Array | undefined, C: number, rows: number): Float32Array[] {
  const ins = [tf.tensor2d(a, [rows, aDim]), ...(c ? [tf.tensor2d(c, [rows, C])] : [])];
  const out = model.predict(ins.length === 1 ? ins[0] : ins);
  const outs = Array.isArray(out) ? out : [out];
  const r = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([...ins, ...outs]);
  return r;
}

async function checkAgainstTfjs(vae: VAE, x: Float32Array, c: Float32Array | undefined, z: Float32Array, rows: number,
                                load = loadViaHttp): Promise<void> {
  const config = vae.config;
  const files = exportModel(vae, "tfjs");
  const enc = await load(files, "encoder"), dec = await load(files, "decoder");
  expect(enc.outputNames).toEqual(["z_mean", "z_logvar"]);
  const [mean, logvar] = predict(enc, x, config.inputDim, c, config.conditionDim, rows);
  const ours = vae.encode(x, { condition: c });
  expectClose("z_mean", mean, ours.mean);
  expectClose("z_logvar", logvar, ours.logvar);
  const outs = predict(dec, z, config.latentDim, c, config.conditionDim, rows);
  expectClose("x_mean", outs[0], vae.decode(z, { condition: c }));
  if (config.likelihood === "gaussian_learned") {
    expect(dec.outputNames).toEqual(["x_mean", "x_log_sigma"]);
    const sd = asTorchStateDict(vae);
    expectClose("x_log_sigma", outs[1], torchForward(config, (n) => sd[n], "decoder", z, c, rows)[1]);
  } else {
    expect(dec.outputNames).toEqual(["x_mean"]);
  }
  enc.dispose();
  dec.dispose();
}

/** tfjs-layers' ELU layer supports α = 1 only: such models have no tfjs export. */
const TFJS_CONFIGS = Object.entries(CONFIGS).filter(([, c]) => c.activation !== "elu" || (c.activationAlpha ?? 1) === 1);

describe("tf.loadLayersModel reproduces encode/decode", () => {
  for (const [label, config] of TFJS_CONFIGS) {
    it(label, async () => {
      const vae = await randomModel(config, 11);
      const { x, c, z } = inputs(config, ROWS, 12);
      await checkAgainstTfjs(vae, x, c, z, ROWS);
    });
  }

  it("through tf.io.fromMemory too (conditional, leaky_relu)", async () => {
    const config = CONFIGS["gaussian_learned leaky_relu conditional"];
    const vae = await randomModel(config, 13);
    const { x, c, z } = inputs(config, ROWS, 14);
    await checkAgainstTfjs(vae, x, c, z, ROWS, loadViaMemory);
  });

  it("MNIST 784-400-20 Bernoulli", async () => {
    const vae = await VAE.create({ inputDim: 784, encoder: [400], latentDim: 20, init: "pytorch", seed: 3 }, { build: "plain" });
    const x = (await loadMnist({ split: "test", limit: 8 })).images;
    await checkAgainstTfjs(vae, x, undefined, vae.encode(x).mean, 8);
  });

  it("a model over 4 MiB is split into shards that tfjs reassembles", async () => {
    const config: VAEConfig = { inputDim: 784, encoder: [1400], latentDim: 4, decoder: [16] };
    const vae = await randomModel(config, 15);
    const files = exportModel(vae, "tfjs");
    expect(Object.keys(files).filter((n) => n.startsWith("encoder/")).sort()).toEqual(["encoder/group1-shard1of2.bin", "encoder/group1-shard2of2.bin", "encoder/model.json"]);
    expect(files["encoder/group1-shard1of2.bin"].length).toBe(4 * 1024 * 1024);
    const { x, z } = inputs(config, 3, 16);
    await checkAgainstTfjs(vae, x, undefined, z, 3);
    expect(differingTensors((await importModel(files, "tfjs")).getWeights(), vae.getWeights())).toEqual([]);
  });
});

describe("round trip", () => {
  for (const [label, config] of TFJS_CONFIGS) {
    it(`bit-identical: ${label}`, async () => {
      const vae = await randomModel({ ...config, beta: 2, seed: 5 }, 17);
      const back = await importModel(exportModel(vae, "tfjs"));
      expect(back.config).toEqual(vae.config);
      expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
    });
  }
});

describe("named errors", () => {
  const config = CONFIGS["gaussian_learned leaky_relu conditional"];
  let files: ModelFiles;
  beforeAll(async () => { files = exportModel(await randomModel(config, 18), "tfjs"); });
  const edit = (part: string, f: (j: any) => void): ModelFiles => {
    const j = JSON.parse(Buffer.from(files[`${part}/model.json`]).toString("utf8"));
    f(j);
    return { ...files, [`${part}/model.json`]: new TextEncoder().encode(JSON.stringify(j)) };
  };
  const rejects = (f: ModelFiles, re: RegExp, given?: VAEConfig) => {
    let err: unknown;
    try { readModel(f, "tfjs", { config: given }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InteropFormatError);
    expect((err as Error).message).toMatch(re);
  };

  it("a changed activation", () => rejects(edit("encoder", (j) => { j.modelTopology.config.layers[3].config.activation = "tanh"; }), /encoder\/model\.json: layer 3 \("encoder_0"\) does not match/));
  it("a changed LeakyReLU α", () => rejects(edit("decoder", (j) => { j.modelTopology.config.layers[4].config.alpha = 0.3; }), /decoder\/model\.json: layer 4 \("decoder_0_leaky_relu"\)/));
  it("a missing shard", () => {
    const { ["decoder/group1-shard1of1.bin"]: _, ...rest } = files;
    rejects(rest, /decoder\/model\.json: weight shard "group1-shard1of1\.bin" is missing/);
  });
  it("a truncated shard", () => rejects({ ...files, "encoder/group1-shard1of1.bin": files["encoder/group1-shard1of1.bin"].slice(0, 40) }, /encoder\/model\.json: the weight shards of group 0 hold 40 bytes/));
  it("a misshapen weight", () => rejects(edit("encoder", (j) => { j.weightsManifest[0].weights[0].shape = [8, 12]; }), /weight "encoder_0\/kernel" has shape \[8, 12\], expected \[12, 8\]/));
  it("a float16 weight", () => rejects(edit("encoder", (j) => { j.weightsManifest[0].weights[1].dtype = "float16"; }), /weight "encoder_0\/bias" is float16/));
  it("an unknown weight", () => rejects(edit("decoder", (j) => { j.weightsManifest[0].weights[0].name = "decoder_7/kernel"; }), /unknown weight "decoder_7\/kernel"/));
  it("configs that differ between the two files", () => rejects(edit("decoder", (j) => { j.userDefinedMetadata.wasm_vae.config = JSON.stringify({ ...JSON.parse(j.userDefinedMetadata.wasm_vae.config), beta: 3 }); }), /carry different wasm-vae configs/));
  it("a missing model.json", () => rejects({ "encoder/model.json": files["encoder/model.json"] }, /decoder\/model\.json: missing/));
  it("not JSON", () => rejects({ ...files, "encoder/model.json": new Uint8Array([1, 2, 3]) }, /encoder\/model\.json: not valid JSON/));
  it("elu with α ≠ 1 has no tfjs form: ArgumentError on export", async () => {
    const vae = await randomModel(CONFIGS["gaussian σ=0.5 elu α=0.7"], 19);
    expect(() => exportModel(vae, "tfjs")).toThrow(/activation elu with α = 0\.7 has no TensorFlow\.js layers form/);
  });
  it("a different architecture in options.config", () => rejects(files, /differs from options\.config/, { ...config, latentDim: 3 }));
});

describe("fuzz: corrupted files", () => {
  it("each file: bit flips, truncations, extra and random bytes → InteropFormatError or the same config", async () => {
    const vae = await randomModel(CONFIGS["gaussian_learned leaky_relu conditional"], 41);
    const [refused, tried] = fuzzFiles(exportModel(vae, "tfjs"), (f) => readModel(f, "tfjs"), vae.config, 41);
    expect(refused).toBeGreaterThan(tried / 2);
  });
});
