// Interop of conv models (conv2d, conv2d_transpose, flatten, reshape, the
// condition join after a flatten, image heads), in all three formats:
// - safetensors: PyTorch names and layouts (Conv2d (out, in, kh, kw),
//   ConvTranspose2d (in, out, kh, kw), Linear with (C, H, W)-ordered columns
//   after a flatten and rows before a reshape), checked element by element
//   against our weights, and by the README's nn.Module conventions run in
//   float64 on the file's tensors (torchModuleForward: F.pad + Conv2d,
//   ConvTranspose2d + crop, torch.flatten, view(-1, C, H, W)) against
//   vae.encode / vae.decode within 1e-5; a PyTorch-written file (sorted, no
//   metadata) imports with options.config.
// - TensorFlow.js layers: tf.loadLayersModel (real tfjs-layers, CPU) predicts
//   encode/decode within 1e-5 (x_log_sigma against the float64 module).
// - ONNX: onnxruntime-web (wasm, Node) runs encoder.onnx / decoder.onnx within 1e-5.
// - Round trip bit-identical in each format; fuzzed files → InteropFormatError
//   or the same config; tampered tensors → errors naming them.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, exportModel, importModel, InteropFormatError, readModel, type VAE, type VAEConfig } from "../../src/onnx.js";
import {
  CONFIGS, differingTensors, expectClose, fuzzFiles, inputs, parseSafetensors, randomModel, torchModuleForward, writeSafetensorsAsTorch,
} from "./helpers.js";

const ROWS = 3;

/** The Keras VAE example (keras.io/examples/generative/vae) at latent 2. */
const KERAS: VAEConfig = {
  inputShape: [28, 28, 1], latentDim: 2,
  encoder: [{ type: "conv2d", filters: 32, kernel: 3, stride: 2, padding: "same" }, { type: "conv2d", filters: 64, kernel: 3, stride: 2, padding: "same" },
    { type: "flatten" }, { type: "dense", units: 16 }],
  decoder: [{ type: "dense", units: 7 * 7 * 64 }, { type: "reshape", shape: [7, 7, 64] },
    { type: "conv2d_transpose", filters: 64, kernel: 3, stride: 2, padding: "same" }, { type: "conv2d_transpose", filters: 32, kernel: 3, stride: 2, padding: "same" },
    { type: "conv2d_transpose", filters: 1, kernel: 3, padding: "same" }],
};

export const CONV_CONFIGS: Record<string, VAEConfig> = {
  "flat bernoulli, tanh: batch_norm on the input, after dense layers (identity, then an activation layer), a batch_norm layer as the output": {
    inputDim: 9, latentDim: 2, activation: "tanh",
    encoder: [{ type: "batch_norm" }, { type: "dense", units: 7, activation: "identity" }, { type: "batch_norm", momentum: 0.9 }, { type: "activation" }],
    decoder: [{ type: "dense", units: 6 }, { type: "batch_norm", epsilon: 0.01 }, { type: "dense", units: 9 }, { type: "batch_norm" }],
  },
  "gaussian 6×6×2, relu: batch_norm per channel after conv2d and conv2d_transpose, on a flattened image ((C, H, W) features in PyTorch), before a reshape": {
    inputShape: [6, 6, 2], latentDim: 2, likelihood: "gaussian",
    encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "batch_norm" }, { type: "activation" },
      { type: "flatten" }, { type: "batch_norm", momentum: 0.5 }, { type: "dense", units: 5 }],
    decoder: [{ type: "dense", units: 18 }, { type: "batch_norm" }, { type: "reshape", shape: [3, 3, 2] },
      { type: "conv2d_transpose", filters: 2, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "batch_norm", epsilon: 1e-4 }, { type: "activation" },
      { type: "conv2d_transpose", filters: 2, kernel: 3, padding: "same" }],
  },
  "flat gaussian, elu, conditional: activation and dropout layers, an activation layer as the output": {
    inputDim: 9, latentDim: 2, conditionDim: 2, likelihood: "gaussian", activation: "elu",
    encoder: [{ type: "dense", units: 7, activation: "identity" }, { type: "activation", activation: "tanh" }, { type: "dropout", rate: 0.4 }],
    decoder: [{ type: "dense", units: 6 }, { type: "dropout", rate: 0.25 }, { type: "activation", activation: "softplus" }, { type: "dense", units: 9 }, { type: "activation" }],
  },

  "bernoulli 6×6×1: activation layers (leaky_relu, sigmoid) after identity convs, dropout on images and flat rows, a dropout layer as the output": {
    inputShape: [6, 6, 1], latentDim: 2, activation: "leaky_relu", activationAlpha: 0.1,
    encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "activation" }, { type: "dropout", rate: 0.5 },
      { type: "flatten" }, { type: "dense", units: 5 }, { type: "dropout", rate: 0.1 }],
    decoder: [{ type: "dense", units: 3 * 3 * 2 }, { type: "dropout", rate: 0.3 }, { type: "reshape", shape: [3, 3, 2] },
      { type: "conv2d_transpose", filters: 2, kernel: 3, stride: 2, padding: "same", activation: "identity" }, { type: "activation", activation: "sigmoid" },
      { type: "conv2d_transpose", filters: 1, kernel: 3, padding: "same" }, { type: "dropout", rate: 0.2 }],
  },
  "the Keras VAE example (28×28×1, 32/64 filters), bernoulli": KERAS,
  "gaussian_learned 6×6×3 conditional: explicit pads, kernel 3×2 stride 2×1, output padding, per-layer tanh, 2·C-channel output, leaky_relu": {
    inputShape: [6, 6, 3], latentDim: 2, conditionDim: 2, likelihood: "gaussian_learned", activation: "leaky_relu", activationAlpha: 0.2,
    encoder: [{ type: "conv2d", filters: 4, kernel: [3, 2], stride: [2, 1], padding: [1, 0, 0, 1], activation: "tanh" },
      { type: "conv2d", filters: 3, kernel: 2 }, { type: "flatten" }, { type: "dense", units: 7 }],
    decoder: [{ type: "dense", units: 3 * 3 * 4 }, { type: "reshape", shape: [3, 3, 4] },
      { type: "conv2d_transpose", filters: 5, kernel: 3, stride: 2, padding: "same", outputPadding: 1 },
      { type: "conv2d_transpose", filters: 6, kernel: 3, padding: "same" }],
  },
  "gaussian 4×4×2, softplus: reshape as flatten, dense output layer reshaped to the image": {
    inputShape: [4, 4, 2], latentDim: 3, likelihood: "gaussian", sigma: 0.5, activation: "softplus",
    encoder: [{ type: "conv2d", filters: 3, kernel: 3, padding: "same" }, { type: "reshape", shape: [48] }, { type: "dense", units: 5 }],
    decoder: [{ type: "dense", units: 6 }, { type: "dense", units: 32 }, { type: "reshape", shape: [4, 4, 2] }],
  },
  "bernoulli 5×5×1, elu: valid stride-2 conv, conv2d_transpose with kernel < stride, condition": {
    inputShape: [5, 5, 1], latentDim: 2, activation: "elu", conditionDim: 1,
    encoder: [{ type: "conv2d", filters: 2, kernel: 2, stride: 2 }, { type: "flatten" }, { type: "dense", units: 4 }],
    decoder: [{ type: "dense", units: 12 }, { type: "reshape", shape: [2, 2, 3] }, { type: "conv2d_transpose", filters: 2, kernel: 1, stride: 2 },
      { type: "conv2d_transpose", filters: 1, kernel: 2 }],
  },
  "gaussian 4×4×2, tanh: reshapes image → image and flatten → image, conv after a condition-free flatten": {
    inputShape: [4, 4, 2], latentDim: 2, likelihood: "gaussian", activation: "tanh",
    encoder: [{ type: "conv2d", filters: 3, kernel: 2, stride: 2 }, { type: "reshape", shape: [1, 4, 3] }, { type: "conv2d", filters: 2, kernel: [1, 2] },
      { type: "flatten" }, { type: "reshape", shape: [3, 1, 2] }, { type: "conv2d", filters: 3, kernel: 1 }, { type: "flatten" }, { type: "dense", units: 5 }],
    decoder: [{ type: "dense", units: 8 }, { type: "reshape", shape: [2, 2, 2] }, { type: "flatten" }, { type: "reshape", shape: [2, 1, 4] },
      { type: "conv2d_transpose", filters: 2, kernel: [2, 4], stride: [2, 1] }, { type: "flatten" }],
  },
};

beforeAll(async () => {
  await tf.setBackend("cpu");
  ort.env.wasm.numThreads = 1;
});

/** Our outputs: [z_mean, z_logvar] and [x_mean, x_log_sigma?] (log σ from the float64 module). */
function ours(vae: VAE, x: Float32Array, c: Float32Array | undefined, z: Float32Array, torch: (part: "encoder" | "decoder", input: Float32Array) => Float64Array[]) {
  const e = vae.encode(x, { condition: c });
  const dec: ArrayLike<number>[] = [vae.decode(z, { condition: c })];
  if (vae.config.likelihood === "gaussian_learned") dec.push(torch("decoder", z)[1]);
  return { enc: [e.mean, e.logvar], dec };
}

function torchOf(vae: VAE, c: Float32Array | undefined) {
  const st = parseSafetensors(exportModel(vae, "safetensors")["model.safetensors"]);
  const layers = JSON.parse(st.metadata.wasm_vae_layers);
  return (part: "encoder" | "decoder", input: Float32Array) => torchModuleForward(vae.config, layers, (n) => st.tensors.get(n)!, part, input, c, ROWS);
}

describe("conv models: the formats' own tools reproduce encode/decode", () => {
  for (const [label, config] of Object.entries(CONV_CONFIGS)) {
    describe(label, () => {
      let vae: VAE, x: Float32Array, c: Float32Array | undefined, z: Float32Array;
      beforeAll(async () => {
        vae = await randomModel(config, 31);
        ({ x, c, z } = inputs(vae.config, ROWS, 32));
      });

      it("safetensors: the README's nn.Module (float64) on the file's tensors", () => {
        const torch = torchOf(vae, c), want = ours(vae, x, c, z, torch);
        const [m, lv] = torch("encoder", x);
        expectClose("z_mean", m, want.enc[0]);
        expectClose("z_logvar", lv, want.enc[1]);
        expectClose("x_mean", torch("decoder", z)[0], want.dec[0]);
      });

      it("onnxruntime", async () => {
        const files = exportModel(vae, "onnx"), want = ours(vae, x, c, z, torchOf(vae, c));
        const run = async (bytes: Uint8Array, feeds: Record<string, [Float32Array, number]>) => {
          const s = await ort.InferenceSession.create(bytes);
          const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, [d, n]]) => [k, new ort.Tensor("float32", d, [ROWS, n])])));
          await s.release();
          return out;
        };
        const cond: Record<string, [Float32Array, number]> = c ? { c: [c, vae.config.conditionDim] } : {};
        const e = await run(files["encoder.onnx"], { x: [x, vae.config.inputDim], ...cond });
        expectClose("z_mean", e.z_mean.data as Float32Array, want.enc[0]);
        expectClose("z_logvar", e.z_logvar.data as Float32Array, want.enc[1]);
        const d = await run(files["decoder.onnx"], { z: [z, vae.config.latentDim], ...cond });
        expect(Object.keys(d)).toEqual(want.dec.length === 2 ? ["x_mean", "x_log_sigma"] : ["x_mean"]);
        expectClose("x_mean", d.x_mean.data as Float32Array, want.dec[0]);
        if (want.dec.length === 2) expectClose("x_log_sigma", d.x_log_sigma.data as Float32Array, want.dec[1]);
      });

      it("tf.loadLayersModel", async () => {
        const files = exportModel(vae, "tfjs"), want = ours(vae, x, c, z, torchOf(vae, c));
        const load = (part: string) => {
          const json = JSON.parse(Buffer.from(files[`${part}/model.json`]).toString("utf8"));
          const data = files[`${part}/group1-shard1of1.bin`].slice();
          return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: data.buffer }));
        };
        const predict = (m: tfl.LayersModel, a: Float32Array, n: number) => {
          const ins = [tf.tensor2d(a, [ROWS, n]), ...(c ? [tf.tensor2d(c, [ROWS, vae.config.conditionDim])] : [])];
          const out = m.predict(ins.length === 1 ? ins[0] : ins);
          const outs = Array.isArray(out) ? out : [out];
          const r = outs.map((t) => t.dataSync() as Float32Array);
          tf.dispose([...ins, ...outs]);
          return r;
        };
        const enc = await load("encoder"), dec = await load("decoder");
        const [m, lv] = predict(enc, x, vae.config.inputDim);
        expectClose("z_mean", m, want.enc[0]);
        expectClose("z_logvar", lv, want.enc[1]);
        const outs = predict(dec, z, vae.config.latentDim);
        expect(dec.outputNames).toEqual(want.dec.length === 2 ? ["x_mean", "x_log_sigma"] : ["x_mean"]);
        want.dec.forEach((w, i) => expectClose(dec.outputNames[i], outs[i], w));
        enc.dispose();
        dec.dispose();
      });

      it("round trip: bit-identical in each format, config included", async () => {
        for (const format of ["safetensors", "tfjs", "onnx"] as const) {
          const back = await importModel(exportModel(vae, format), format);
          expect(back.config, format).toEqual(vae.config);
          expect(differingTensors(back.getWeights(), vae.getWeights()), format).toEqual([]);
          expect(differingTensors(back.exportState().buffers ?? {}, vae.exportState().buffers ?? {}), `${format}: batch_norm's running statistics`).toEqual([]);
        }
      });
    });
  }
});

describe("ONNX batch size is symbolic for conv graphs (Reshape with −1)", () => {
  it("one encoder.onnx / decoder.onnx of the Keras example at batch 1 and 5", async () => {
    const vae = await randomModel(KERAS, 39);
    const files = exportModel(vae, "onnx");
    const enc = await ort.InferenceSession.create(files["encoder.onnx"]), dec = await ort.InferenceSession.create(files["decoder.onnx"]);
    for (const rows of [1, 5]) {
      const { x, z } = inputs(vae.config, rows, 40 + rows);
      const e = await enc.run({ x: new ort.Tensor("float32", x, [rows, 784]) });
      expectClose(`z_mean (${rows} rows)`, e.z_mean.data as Float32Array, vae.encode(x).mean);
      const d = await dec.run({ z: new ort.Tensor("float32", z, [rows, 2]) });
      expectClose(`x_mean (${rows} rows)`, d.x_mean.data as Float32Array, vae.decode(z));
    }
    await enc.release();
    await dec.release();
  });
});

describe("the README's module runs every MLP config too (one module for all models)", () => {
  for (const [label, config] of Object.entries(CONFIGS)) {
    it(label, async () => {
      const vae = await randomModel(config, 37);
      const { x, c, z } = inputs(vae.config, ROWS, 38);
      const torch = torchOf(vae, c), e = vae.encode(x, { condition: c });
      const [m, lv] = torch("encoder", x);
      expectClose("z_mean", m, e.mean);
      expectClose("z_logvar", lv, e.logvar);
      expectClose("x_mean", torch("decoder", z)[0], vae.decode(z, { condition: c }));
    });
  }
});

describe("safetensors layouts of the Keras example", () => {
  let vae: VAE;
  let st: ReturnType<typeof parseSafetensors>;
  beforeAll(async () => {
    vae = await randomModel(KERAS, 33);
    st = parseSafetensors(exportModel(vae, "safetensors")["model.safetensors"]);
  });

  it("names and shapes are PyTorch's, in module order", () => {
    expect(st.order.map((n) => [n, st.tensors.get(n)!.shape])).toEqual([
      ["encoder.0.weight", [32, 1, 3, 3]], ["encoder.0.bias", [32]], ["encoder.1.weight", [64, 32, 3, 3]], ["encoder.1.bias", [64]],
      ["encoder.3.weight", [16, 3136]], ["encoder.3.bias", [16]], ["encoder.4.weight", [4, 16]], ["encoder.4.bias", [4]],
      ["decoder.0.weight", [3136, 2]], ["decoder.0.bias", [3136]], ["decoder.2.weight", [64, 64, 3, 3]], ["decoder.2.bias", [64]],
      ["decoder.3.weight", [64, 32, 3, 3]], ["decoder.3.bias", [32]], ["decoder.4.weight", [32, 1, 3, 3]], ["decoder.4.bias", [1]],
    ]);
  });

  it("element by element: Conv2d (out, in, kh, kw), ConvTranspose2d (in, out, kh, kw), Linear columns/rows in (C, H, W) order", () => {
    const w = vae.getWeights();
    const t = (n: string) => st.tensors.get(n)!.data;
    // encoder.1: ours (3, 3, 32, 64)
    for (const [o, i, u, v] of [[0, 0, 0, 0], [63, 31, 2, 2], [5, 17, 1, 2], [40, 3, 2, 0]]) {
      expect(t("encoder.1.weight")[((o * 32 + i) * 3 + u) * 3 + v]).toBe(w["encoder.1.weight"][((u * 3 + v) * 32 + i) * 64 + o]);
    }
    // decoder.3: ours (3, 3, 32 out, 64 in); PyTorch (64 in, 32 out, 3, 3)
    for (const [i, o, u, v] of [[0, 0, 0, 0], [63, 31, 2, 2], [7, 30, 0, 1]]) {
      expect(t("decoder.3.weight")[((i * 32 + o) * 3 + u) * 3 + v]).toBe(w["decoder.3.weight"][((u * 3 + v) * 32 + o) * 64 + i]);
    }
    // encoder.3 after flatten of (7, 7, 64): PyTorch column c·49 + y·7 + x is our row (y·7 + x)·64 + c
    for (const [o, c, y, x] of [[0, 0, 0, 0], [15, 63, 6, 6], [3, 10, 2, 5]]) {
      expect(t("encoder.3.weight")[o * 3136 + c * 49 + y * 7 + x]).toBe(w["encoder.3.weight"][((y * 7 + x) * 64 + c) * 16 + o]);
    }
    // decoder.0 before view(-1, 64, 7, 7): PyTorch row c·49 + y·7 + x is our column (y·7 + x)·64 + c
    for (const [i, c, y, x] of [[0, 0, 0, 0], [1, 63, 6, 6], [1, 9, 4, 1]]) {
      expect(t("decoder.0.weight")[(c * 49 + y * 7 + x) * 2 + i]).toBe(w["decoder.0.weight"][i * 3136 + (y * 7 + x) * 64 + c]);
      expect(t("decoder.0.bias")[c * 49 + y * 7 + x]).toBe(w["decoder.0.bias"][(y * 7 + x) * 64 + c]);
    }
  });

  it("its layer list for the nn.Module: TensorFlow's pads, ConvTranspose2d output_padding and crops (as the README states)", () => {
    const layers = JSON.parse(st.metadata.wasm_vae_layers) as { name: string; kind: string; pads?: number[]; output_padding?: number[]; stride?: number[]; out: number[] }[];
    expect(layers.map((l) => [l.name, l.kind, l.out, l.stride ?? null, l.pads ?? null, l.output_padding ?? null])).toEqual([
      ["encoder.image", "reshape", [28, 28, 1], null, null, null],
      ["encoder.0", "conv2d", [14, 14, 32], [2, 2], [0, 1, 0, 1], null],
      ["encoder.1", "conv2d", [7, 7, 64], [2, 2], [0, 1, 0, 1], null],
      ["encoder.2", "flatten", [3136], null, null, null],
      ["encoder.3", "dense", [16], null, null, null],
      ["encoder.4", "dense", [4], null, null, null],
      ["decoder.0", "dense", [3136], null, null, null],
      ["decoder.1", "reshape", [7, 7, 64], null, null, null],
      ["decoder.2", "conv2d_transpose", [14, 14, 64], [2, 2], [0, 1, 0, 1], [0, 0]],
      ["decoder.3", "conv2d_transpose", [28, 28, 32], [2, 2], [0, 1, 0, 1], [0, 0]],
      ["decoder.4", "conv2d_transpose", [28, 28, 1], [1, 1], [1, 1, 1, 1], [0, 0]],
    ]);
  });

  it("a file PyTorch wrote (sorted names, no metadata) imports with options.config", async () => {
    const torch = Object.fromEntries([...st.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
    const back = await importModel(writeSafetensorsAsTorch(torch), "safetensors", { config: KERAS });
    expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
  });

  it("a misshapen conv tensor → InteropFormatError naming it", () => {
    const torch = Object.fromEntries([...st.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
    torch["decoder.3.weight"] = { ...torch["decoder.3.weight"], shape: [32, 64, 3, 3] };
    expect(() => readModel(writeSafetensorsAsTorch(torch), "safetensors", { config: KERAS }))
      .toThrow(/tensor "decoder\.3\.weight" has shape \[32, 64, 3, 3\], expected \[64, 32, 3, 3\]/);
  });
});

describe("conv models: named errors and fuzz", () => {
  const config = CONV_CONFIGS["gaussian_learned 6×6×3 conditional: explicit pads, kernel 3×2 stride 2×1, output padding, per-layer tanh, 2·C-channel output, leaky_relu"];
  let vae: VAE;
  beforeAll(async () => { vae = await randomModel(config, 34); });

  it("tfjs: a changed kernel size or padding → InteropFormatError naming the layer", () => {
    const files = exportModel(vae, "tfjs");
    const edit = (f: (j: any) => void) => {
      const j = JSON.parse(Buffer.from(files["encoder/model.json"]).toString("utf8"));
      f(j);
      return { ...files, "encoder/model.json": new TextEncoder().encode(JSON.stringify(j)) };
    };
    const layers = (j: any) => j.modelTopology.config.layers as { name: string; config: any }[];
    expect(() => readModel(edit((j) => { layers(j).find((l) => l.name === "encoder_1")!.config.kernel_size = [3, 3]; }), "tfjs"))
      .toThrow(/encoder\/model\.json: layer \d+ \("encoder_1"\) does not match/);
    expect(() => readModel(edit((j) => { layers(j).find((l) => l.name === "encoder_0_pad")!.config.padding = [[0, 0], [0, 1]]; }), "tfjs"))
      .toThrow(/layer \d+ \("encoder_0_pad"\) does not match/);
  });

  it("onnx: changed pads or a misshapen ConvTranspose weight → InteropFormatError naming them", async () => {
    const protobuf = (await import("protobufjs")).default;
    const { ONNX_SCHEMA } = await import("../../src/interop/onnx-schema.js");
    const Model = protobuf.Root.fromJSON(ONNX_SCHEMA as any).lookupType("onnx.ModelProto");
    const files = exportModel(vae, "onnx");
    const edit = (part: string, f: (m: any) => void) => {
      const m = Model.toObject(Model.decode(files[`${part}.onnx`]), { longs: Number, bytes: Uint8Array, arrays: true }) as any;
      f(m);
      return { ...files, [`${part}.onnx`]: Model.encode(Model.fromObject(m)).finish() };
    };
    expect(() => readModel(edit("encoder", (m) => { m.graph.node.find((n: any) => n.op_type === "Conv").attribute.find((a: any) => a.name === "pads").ints = [0, 0, 0, 0]; }), "onnx"))
      .toThrow(/encoder\.onnx: graph node \d+ is .*"Conv"/);
    expect(() => readModel(edit("decoder", (m) => { m.graph.initializer.find((t: any) => t.name === "decoder.2.weight").dims = [5, 4, 3, 3]; }), "onnx"))
      .toThrow(/initializer "decoder\.2\.weight" has dims \[5, 4, 3, 3\], expected \[4, 5, 3, 3\]/);
  });

  it("tfjs: two heads after a reshape of the output layer have no TensorFlow.js form: ArgumentError", async () => {
    const m = await randomModel({ ...CONV_CONFIGS["gaussian 4×4×2, softplus: reshape as flatten, dense output layer reshaped to the image"], likelihood: "gaussian_learned",
      decoder: [{ type: "dense", units: 6 }, { type: "dense", units: 64 }, { type: "reshape", shape: [4, 4, 4] }] }, 35);
    expect(() => exportModel(m, "tfjs")).toThrow(ArgumentError);
    expect(() => exportModel(m, "tfjs")).toThrow(/output layer decoder\.1 is followed by decoder\.2/);
    // the other formats take it, and onnxruntime agrees with decode
    const { z } = inputs(m.config, ROWS, 36);
    const s = await ort.InferenceSession.create(exportModel(m, "onnx")["decoder.onnx"]);
    const out = await s.run({ z: new ort.Tensor("float32", z, [ROWS, 3]) });
    expectClose("x_mean", out.x_mean.data as Float32Array, m.decode(z));
    await s.release();
  });

  for (const format of ["safetensors", "tfjs", "onnx"] as const) {
    it(`fuzz ${format}: corrupted files → InteropFormatError or the same config`, () => {
      const [refused, tried] = fuzzFiles(exportModel(vae, format), (f) => readModel(f, format), vae.config, 51);
      expect(refused).toBeGreaterThan(tried / 2);
    });
  }

  it("InteropFormatError is what the readers throw", () => {
    expect(() => readModel({ "encoder.onnx": new Uint8Array([1]), "decoder.onnx": new Uint8Array([1]) }, "onnx")).toThrow(InteropFormatError);
  });
});
