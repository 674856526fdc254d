// batch_norm in the interchange files, read with this test's own parsers
// (the formats' tools run the models in conv.test.ts: the README's nn.Module
// in float64, onnxruntime-web, tfjs-layers):
// - safetensors: PyTorch's BatchNorm names, (C) vectors, an I64 scalar
//   num_batches_tracked (0); after a flatten of an image the features in
//   PyTorch's (C, H, W) order; the layer list gives PyTorch's momentum
//   (1 − ours) and eps;
// - a file PyTorch wrote (sorted names, no metadata; num_batches_tracked any
//   I64, or absent) imports with options.config, statistics included; a
//   num_batches_tracked that is not an I64 scalar is refused by name;
// - tfjs: Keras BatchNormalization (axis −1, momentum, epsilon) with gamma,
//   beta, moving_mean, moving_variance; ONNX: a BatchNormalization node with
//   epsilon, the statistics as initializers.
import { describe, expect, it } from "vitest";
import { exportModel, importModel, InteropFormatError, readModel, type VAE, type VAEConfig } from "../../src/onnx.js";
import { differingTensors, parseSafetensors, randomModel, writeSafetensorsAsTorch } from "./helpers.js";

const CONFIG: VAEConfig = {
  inputShape: [2, 2, 3], latentDim: 2, likelihood: "gaussian",
  encoder: [{ type: "conv2d", filters: 2, kernel: 1 }, { type: "batch_norm", momentum: 0.9, epsilon: 1e-4 }, { type: "flatten" }, { type: "batch_norm" }, { type: "dense", units: 4 }],
  decoder: [{ type: "dense", units: 5 }, { type: "batch_norm" }],
};

const state = (v: VAE) => ({ w: v.getWeights(), b: v.exportState().buffers! });

describe("batch_norm in safetensors (PyTorch)", () => {
  it("BatchNorm names, shapes and layouts; num_batches_tracked an I64 0; momentum 1 − ours in the layer list", async () => {
    const vae = await randomModel(CONFIG, 3), { w, b } = state(vae);
    const st = parseSafetensors(exportModel(vae, "safetensors")["model.safetensors"]);
    expect(st.order.filter((n) => n.startsWith("encoder.1.") || n.startsWith("encoder.3."))).toEqual([
      "encoder.1.weight", "encoder.1.bias", "encoder.1.running_mean", "encoder.1.running_var", "encoder.1.num_batches_tracked",
      "encoder.3.weight", "encoder.3.bias", "encoder.3.running_mean", "encoder.3.running_var", "encoder.3.num_batches_tracked",
    ]);
    const nbt = st.tensors.get("encoder.1.num_batches_tracked")!;
    expect([nbt.dtype, nbt.shape, Array.from(nbt.data)]).toEqual(["I64", [], [0]]);
    // per channel after the conv: as ours
    expect(Array.from(st.tensors.get("encoder.1.running_var")!.data)).toEqual(Array.from(b["encoder.1.running_var"]));
    expect(Array.from(st.tensors.get("encoder.1.weight")!.data)).toEqual(Array.from(w["encoder.1.weight"]));
    // after the flatten of a (2, 2, 2) image: PyTorch's feature t = (c, h, x) is our (h, x, c)
    const ours = b["encoder.3.running_mean"], theirs = st.tensors.get("encoder.3.running_mean")!.data;
    for (let c = 0; c < 2; c++) for (let h = 0; h < 2; h++) for (let x = 0; x < 2; x++) expect(theirs[(c * 2 + h) * 2 + x]).toBe(ours[(h * 2 + x) * 2 + c]);
    const layers = JSON.parse(st.metadata.wasm_vae_layers) as { name: string; momentum?: number; eps?: number }[];
    const bn = layers.find((l) => l.name === "encoder.1")!;
    expect(bn.momentum).toBeCloseTo(0.1, 12);
    expect(bn.eps).toBe(1e-4);
  });

  it("a file PyTorch wrote (sorted names, no metadata) imports with options.config; num_batches_tracked any I64 or absent", async () => {
    const vae = await randomModel(CONFIG, 4);
    const st = parseSafetensors(exportModel(vae, "safetensors")["model.safetensors"]);
    const torch = Object.fromEntries([...st.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data, dtype: t.dtype }]));
    for (const n of Object.keys(torch)) if (n.endsWith("num_batches_tracked")) torch[n] = { ...torch[n], data: [37] };
    const back = await importModel(writeSafetensorsAsTorch(torch), "safetensors", { config: CONFIG });
    expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
    expect(differingTensors(back.exportState().buffers!, vae.exportState().buffers!)).toEqual([]);
    expect(back.encode(new Float32Array(24).fill(0.3))).toEqual(vae.encode(new Float32Array(24).fill(0.3)));
    const without = Object.fromEntries(Object.entries(torch).filter(([n]) => !n.endsWith("num_batches_tracked")));
    const back2 = await importModel(writeSafetensorsAsTorch(without), "safetensors", { config: CONFIG });
    expect(differingTensors(back2.exportState().buffers!, vae.exportState().buffers!)).toEqual([]);
    const f32 = { ...torch, "encoder.1.num_batches_tracked": { shape: [], data: [0] } };
    expect(() => readModel(writeSafetensorsAsTorch(f32), "safetensors", { config: CONFIG }))
      .toThrow(/tensor "encoder\.1\.num_batches_tracked" has dtype F32 and shape \[\], expected an I64 scalar/);
    const missing = Object.fromEntries(Object.entries(torch).filter(([n]) => n !== "decoder.1.running_var"));
    expect(() => readModel(writeSafetensorsAsTorch(missing), "safetensors", { config: CONFIG })).toThrow(InteropFormatError);
    expect(() => readModel(writeSafetensorsAsTorch(missing), "safetensors", { config: CONFIG })).toThrow(/tensor "decoder\.1\.running_var" is missing/);
  });
});

describe("batch_norm in TensorFlow.js layers and ONNX", () => {
  it("Keras BatchNormalization: axis −1, momentum, epsilon; gamma, beta, moving_mean, moving_variance", async () => {
    const vae = await randomModel(CONFIG, 5), { w, b } = state(vae);
    const files = exportModel(vae, "tfjs");
    const json = JSON.parse(Buffer.from(files["encoder/model.json"]).toString("utf8"));
    const layer = json.modelTopology.config.layers.find((l: { class_name: string }) => l.class_name === "BatchNormalization");
    expect([layer.config.axis, layer.config.momentum, layer.config.epsilon]).toEqual([-1, 0.9, 1e-4]);
    const specs = json.weightsManifest[0].weights as { name: string; shape: number[] }[];
    const mine = specs.filter((s) => s.name.startsWith(`${layer.name}/`));
    expect(mine.map((s) => [s.name.slice(layer.name.length + 1), s.shape])).toEqual([["gamma", [2]], ["beta", [2]], ["moving_mean", [2]], ["moving_variance", [2]]]);
    // their values, read from the shard at the manifest's offsets
    const data = new Float32Array(files["encoder/group1-shard1of1.bin"].slice().buffer);
    let o = 0;
    const at: Record<string, Float32Array> = {};
    for (const s of specs) { const n = s.shape.reduce((p, q) => p * q, 1); at[s.name] = data.slice(o, o + n); o += n; }
    expect(at[`${layer.name}/gamma`]).toEqual(w["encoder.1.weight"]);
    expect(at[`${layer.name}/moving_variance`]).toEqual(b["encoder.1.running_var"]);
    const back = await importModel(files, "tfjs");
    expect(differingTensors(back.exportState().buffers!, b)).toEqual([]);
  });

  it("ONNX: a BatchNormalization node (epsilon) on the statistics' initializers; they read back bit for bit", async () => {
    const vae = await randomModel(CONFIG, 6);
    const files = exportModel(vae, "onnx");
    const text = Buffer.from(files["encoder.onnx"]).toString("latin1");
    expect(text).toContain("BatchNormalization");
    expect(text).toContain("encoder.1.running_var");
    expect(text).not.toContain("num_batches_tracked");
    const back = await importModel(files, "onnx");
    expect(differingTensors(back.exportState().buffers!, vae.exportState().buffers!)).toEqual([]);
    expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
  });
});
