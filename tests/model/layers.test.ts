// Layer lists (no-weight kinds and dense objects), the output-layer rule, the
// condition joining image inputs, the channel layout of a learned-σ image
// output, errors in layer lists, and version-2 files.
// - Dense objects and bare numbers give the same MLP bit for bit; a decoder
//   list ending in a dense layer of D units makes it the output layer (no
//   layer is appended), the same network as the bare list.
// - flatten / reshape copy nothing (no activation buffers in the plan) and do
//   not change the arithmetic: with them the losses equal the MLP's.
// - Central finite differences on an image model with a condition (the
//   internal condition layer) and on a gaussian_learned model whose output is
//   an image of 2 channels (means in channel 0, log σ in channel 1).
// - The interchange formats take layer lists (same weights back); conv
//   models are covered in tests/interop/conv.test.ts.
// Not here: convolutions (conv-vae.test.ts), pinned MLP results (pinned.test.ts).
import { describe, expect, it } from "vitest";
import { Adam, architectureOf, ArgumentError, exportModel, readModel, VAE, type VAEConfig } from "../../src/index.js";
import { decodeModel, planMemory } from "../../src/kernels.js";
import { resolveConfig } from "../../src/model/config.js";
import { randomArray, randomNormals } from "../reference.js";
import { finiteDifferenceCheck } from "./grad-check.js";

const D = 20, L = 3, B = 6;
const x = randomArray(B * D, 31, 0, 1);

async function losses(config: VAEConfig, steps = 4): Promise<{ vae: VAE; losses: number[] }> {
  const vae = await VAE.create(config, { build: "plain" });
  vae.optimizer = new Adam({ lr: 1e-2 });
  const out: number[] = [];
  for (let s = 0; s < steps; s++) out.push(vae.trainStep(x).loss);
  return { vae, losses: out };
}

const values = (w: Record<string, Float32Array>) => Object.values(w).map((t) => Array.from(t));

describe("layer lists of dense and no-weight layers", () => {
  it("dense objects are the bare numbers: same names, weights and losses, bit for bit", async () => {
    const a = await losses({ inputDim: D, encoder: [12, 7], decoder: [9], latentDim: L, seed: 4 });
    const b = await losses({ inputDim: D, encoder: [{ type: "dense", units: 12 }, { type: "dense", units: 7, activation: "relu" }], decoder: [{ type: "dense", units: 9 }], latentDim: L, seed: 4 });
    expect(Object.keys(b.vae.parameterShapes())).toEqual(Object.keys(a.vae.parameterShapes()));
    expect(b.losses).toEqual(a.losses);
    expect(b.vae.getWeights()).toEqual(a.vae.getWeights());
  });

  it("output-layer rule: a decoder list ending in a dense layer of D units is the output layer (identity), nothing is appended", async () => {
    const a = await losses({ inputDim: D, encoder: [8], decoder: [9], latentDim: L, seed: 5 });
    // the explicit list: decoder.0 (9, relu) and decoder.1 (D units) — the same network
    const b = await losses({ inputDim: D, encoder: [8], decoder: [{ type: "dense", units: 9 }, { type: "dense", units: D }], latentDim: L, seed: 5 });
    expect(b.vae.parameterShapes()).toEqual(a.vae.parameterShapes());
    expect(b.losses).toEqual(a.losses);
    const arch = architectureOf(resolveConfig(b.vae.config));
    expect(arch.decoder.map((l) => [l.name, l.activation])).toEqual([["decoder.0", "relu"], ["decoder.1", "identity"]]);
    // a bare number of D units is a hidden layer: an output layer is appended
    const c = architectureOf(resolveConfig({ inputDim: D, encoder: [8], decoder: [9, D], latentDim: L }));
    expect(c.decoder.map((l) => [l.name, l.activation, l.outShape[0]])).toEqual([["decoder.0", "relu", 9], ["decoder.1", "relu", D], ["decoder.2", "identity", D]]);
    // gaussian_learned: the output layer has 2·D units
    const d = architectureOf(resolveConfig({ inputDim: D, encoder: [8], decoder: [{ type: "dense", units: 2 * D }], latentDim: L, likelihood: "gaussian_learned" }));
    expect(d.decoder.map((l) => l.name)).toEqual(["decoder.0"]);
  });

  it("flatten and reshape are no-copy (no activation buffers) and leave the arithmetic unchanged", async () => {
    const a = await losses({ inputDim: D, encoder: [8], decoder: [9], latentDim: L, seed: 6 });
    const cfg: VAEConfig = {
      inputShape: [4, 5, 1], encoder: [{ type: "flatten" }, { type: "dense", units: 8 }], latentDim: L, seed: 6,
      decoder: [{ type: "dense", units: 9 }, { type: "reshape", shape: [3, 3, 1] }, { type: "flatten" }],
    } as VAEConfig;
    const b = await losses(cfg);
    expect(Object.keys(b.vae.parameterShapes())).toEqual(["encoder.1.weight", "encoder.1.bias", "encoder.2.weight", "encoder.2.bias", "decoder.0.weight", "decoder.0.bias", "decoder.3.weight", "decoder.3.bias"]);
    expect(b.losses).toEqual(a.losses);
    expect(values(b.vae.getWeights())).toEqual(values(a.vae.getWeights()));
    const arch = architectureOf(resolveConfig(cfg));
    const plan = planMemory({ layers: [...arch.encoder, ...arch.decoder], buffers: [], batch: 4 });
    expect(Object.keys(plan.tensors).filter((n) => n.startsWith("act:"))).toEqual(["act:encoder.1", "act:encoder.2", "act:decoder.0", "act:decoder.3"]);
  });

  it("image input with a condition: the condition joins the first dense layer's input (finite differences)", async () => {
    const vae = await VAE.create({
      inputShape: [2, 3, 2], conditionDim: 2, latentDim: 2, activation: "tanh", seed: 8,
      encoder: [{ type: "flatten" }, { type: "dense", units: 5 }], decoder: [4],
    });
    const arch = architectureOf(resolveConfig(vae.config));
    expect(arch.encoder.map((l) => [l.kind, l.inShape])).toEqual([["flatten", [2, 3, 2]], ["condition", [12]], ["dense", [14]], ["dense", [5]]]);
    expect(vae.parameterShapes()["encoder.1.weight"]).toEqual([14, 5]);
    const xb = randomArray(4 * 12, 3, 0, 1), cond = randomArray(4 * 2, 4, 0, 1);
    const r = finiteDifferenceCheck(vae, { x: xb, condition: cond }, Float32Array.from(randomNormals(4 * 2, 5)));
    expect(r.nonzero).toBeGreaterThan(r.checked / 2);
    // the condition matters: another condition, another loss
    const noise = Float32Array.from(randomNormals(4 * 2, 5));
    const l1 = vae.computeGradients({ x: xb, condition: cond }, { noise }).loss;
    const l2 = vae.computeGradients({ x: xb, condition: cond.map((v) => 1 - v) }, { noise }).loss;
    expect(l1).not.toBe(l2);
  });

  it("gaussian_learned with an image output of 2·C channels: means in channels [0, C), log σ in [C, 2C) (finite differences and the layout)", async () => {
    const cfg: VAEConfig = {
      inputShape: [2, 2, 2], latentDim: 2, activation: "tanh", likelihood: "gaussian_learned", seed: 9,
      encoder: [{ type: "flatten" }, { type: "dense", units: 5 }],
      decoder: [{ type: "dense", units: 16 }, { type: "reshape", shape: [2, 2, 4] }],
    } as VAEConfig;
    const vae = await VAE.create(cfg);
    const arch = architectureOf(resolveConfig(cfg));
    expect(arch.channelSplit).toBe(true);
    expect(arch.decoder.map((l) => [l.name, l.activation])).toEqual([["decoder.0", "identity"], ["decoder.1", "identity"]]);
    const xb = randomArray(3 * 8, 6, -1, 1);
    const r = finiteDifferenceCheck(vae, xb, Float32Array.from(randomNormals(3 * 2, 7)), { spread: 0.3 });
    expect(r.nonzero).toBeGreaterThan(r.checked / 2);
    // the layout: with w = 0, the output is the bias; decode gives channels 0..1 of each pixel
    const shapes = vae.parameterShapes();
    const b = Float32Array.from({ length: 16 }, (_, i) => i);
    vae.setWeights({ "decoder.0.weight": new Float32Array(shapes["decoder.0.weight"][0] * 16), "decoder.0.bias": b });
    expect(Array.from(vae.decode(new Float32Array(2)))).toEqual([0, 1, 4, 5, 8, 9, 12, 13]);
    // and the NLL uses log σ from channels 2..3: −log p(x|z) = Σ_d (x−m)²/(2σ²) + log σ + ½ log 2π
    const xr = new Float32Array(8).fill(0.5), eps = new Float32Array(2);
    vae.setWeights({ "encoder.2.weight": new Float32Array(5 * 4), "encoder.2.bias": new Float32Array(4) });
    const rec = vae.computeGradients(xr, { noise: eps }).reconstruction;
    const ls = [2, 3, 6, 7, 10, 11, 14, 15], m = [0, 1, 4, 5, 8, 9, 12, 13];
    let want = 0;
    for (let d = 0; d < 8; d++) want += 0.5 * (0.5 - m[d]) ** 2 * Math.exp(-2 * ls[d]) + ls[d] + 0.5 * Math.log(2 * Math.PI);
    expect(rec).toBeCloseTo(want, 3);
  });
});

describe("layer list errors name the entry and what was expected", () => {
  const base = { inputShape: [4, 5, 1], latentDim: 2 };
  const cases: [string, object, RegExp][] = [
    ["dense on an image", { ...base, encoder: [{ type: "dense", units: 4 }], decoder: [4] }, /config\.encoder\[0\]: expected a flat input for a dense layer \(add \{ type: "flatten" \}/],
    ["unknown type", { ...base, encoder: [{ type: "conv3d" }], decoder: [4] }, /config\.encoder\[0\]\.type: expected one of "dense"/],
    ["unknown setting", { ...base, encoder: [{ type: "flatten", units: 3 }], decoder: [4] }, /config\.encoder\[0\]\.units/],
    ["activation on flatten", { ...base, encoder: [{ type: "flatten", activation: "relu" }], decoder: [4] }, /config\.encoder\[0\]\.activation: expected no activation/],
    ["bad activation", { ...base, encoder: [{ type: "flatten" }, { type: "dense", units: 3, activation: "gelu" }], decoder: [4] }, /config\.encoder\[1\]\.activation/],
    ["encoder ends in an image", { ...base, encoder: [{ type: "reshape", shape: [20] }, { type: "reshape", shape: [2, 10, 1] }], decoder: [4] }, /Gaussian head.*flat output/],
    ["reshape size", { ...base, encoder: [{ type: "reshape", shape: [3, 3] }], decoder: [4] }, /config\.encoder\[0\]\.shape: expected a shape of 20 values/],
    ["decoder required", { ...base, encoder: [{ type: "flatten" }] }, /config\.decoder: expected a decoder layer list/],
    ["output layer activation", { ...base, encoder: [{ type: "flatten" }], decoder: [{ type: "dense", units: 20, activation: "sigmoid" }] }, /config\.decoder\[0\]\.activation: expected "identity" or nothing: this layer is the output layer/],
    ["decoder ends in an image of another shape", { ...base, encoder: [{ type: "flatten" }], decoder: [{ type: "dense", units: 40 }, { type: "reshape", shape: [4, 5, 2] }] }, /config\.decoder\[1\] \(its output.*\(4, 5, 1\)/],
    ["inputShape and inputDim disagree", { ...base, inputDim: 21, encoder: [4], decoder: [4] }, /config\.inputDim: expected 20/],
    ["inputShape of 2 axes", { inputShape: [4, 5], latentDim: 2 }, /config\.inputShape: expected \[D\] or NHWC/],
  ];
  for (const [name, config, msg] of cases) {
    it(name, async () => {
      const err = await VAE.create(config as VAEConfig).then(() => null, (e) => e);
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String(err.message)).toMatch(msg);
    });
  }
});

describe("interchange formats", () => {
  it("take layer lists (a flatten here; conv kinds in tests/interop/conv.test.ts); dense objects export as the MLP", async () => {
    const img = await VAE.create({ inputShape: [4, 5, 1], latentDim: 2, encoder: [{ type: "flatten" }, 6], decoder: [6] });
    expect(readModel(exportModel(img, "safetensors")).weights).toEqual(img.getWeights());
    const b = await VAE.create({ inputDim: D, latentDim: 2, encoder: [{ type: "dense", units: 6, activation: "tanh" }], decoder: [6], seed: 1 });
    const back = readModel(exportModel(b, "safetensors"));
    expect(back.config).toEqual(b.config);
    expect(back.weights).toEqual(b.getWeights());
  });
});

describe("model file version 2", () => {
  it("carries the layer list; save → load is exact; another layer list is another architecture", async () => {
    const cfg = { inputShape: [4, 5, 1], latentDim: 2, seed: 3, encoder: [{ type: "flatten" }, { type: "dense", units: 6, activation: "tanh" }], decoder: [7] } as VAEConfig;
    const vae = await VAE.create(cfg);
    vae.trainStep(x);
    const bytes = vae.save();
    const { header } = decodeModel(bytes);
    expect(header.version).toBe(2);
    expect(header.config.inputShape).toEqual([4, 5, 1]);
    expect(header.config.encoder).toEqual([{ type: "flatten" }, { type: "dense", units: 6, activation: "tanh" }]);
    expect(header.layers!.map((l) => [l.kind, l.name, l.activation])).toEqual([
      ["flatten", "encoder.0", "identity"], ["dense", "encoder.1", "tanh"], ["dense", "encoder.2", "identity"],
      ["dense", "decoder.0", "relu"], ["dense", "decoder.1", "identity"]]);
    const back = await VAE.load(bytes);
    expect(back.config).toEqual(vae.config);
    expect(Object.isFrozen(vae.config.encoder[1])).toBe(true); // a layer object of a model's config cannot drift from its networks
    expect(back.getWeights()).toEqual(vae.getWeights());
    expect(back.save()).toEqual(bytes);
    const other = await VAE.create({ ...cfg, encoder: [{ type: "flatten" }, { type: "dense", units: 6, activation: "relu" }] } as VAEConfig);
    expect(() => other.load(bytes)).toThrow(/architecture/);
  });
});
