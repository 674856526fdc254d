// ONNX export/import (src/interop/onnx.ts via the "wasm-vae/onnx" entry),
// checked by the real onnxruntime (onnxruntime-web's wasm backend in Node:
// onnxruntime-node's install downloads binaries, which this machine cannot):
// - encoder.onnx / decoder.onnx load in an InferenceSession; their outputs
//   (z_mean, z_logvar; x_mean [, x_log_sigma]) match vae.encode / vae.decode
//   (and the float64 module for log σ) within 1e-5, for every activation,
//   likelihood and a condition, and on MNIST at 784-400-20, batch symbolic.
// - The files, decoded by protobufjs with the vendored onnx.proto: opset 13,
//   initializers named and laid out as the safetensors file (PyTorch).
// - The committed onnx-schema.ts is what scripts/gen-onnx-schema.mjs makes.
// - Round trip: export → import is bit-identical, config included (and −0,
//   subnormals and ±3.4e38 in all three formats).
// - Fuzz: corrupted bytes of any file → InteropFormatError or the same config.
// - Tampered files → InteropFormatError naming file and field.
// - The main entry refuses "onnx" with an ArgumentError pointing at
//   "wasm-vae/onnx", and its module graph holds no protobufjs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import * as ort from "onnxruntime-web";
import protobuf from "protobufjs";
import { beforeAll, describe, expect, it } from "vitest";
import * as main from "../../src/index.js";
import { loadMnist, VAE, type VAEConfig } from "../../src/index.js";
import { exportModel, importModel, InteropFormatError, readModel, type ModelFiles } from "../../src/onnx.js";
import { asTorchStateDict, CONFIGS, differingTensors, expectClose, inputs, fuzzFiles, randomModel, torchForward } from "./helpers.js";
// @ts-expect-error: a .mjs script without types
import { onnxSchemaSource } from "../../scripts/gen-onnx-schema.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const ROWS = 6;

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

async function run(bytes: Uint8Array, feeds: Record<string, [Float32Array, number]>, rows: number): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const input: Record<string, ort.Tensor> = {};
  for (const [name, [data, dim]] of Object.entries(feeds)) input[name] = new ort.Tensor("float32", data, [rows, dim]);
  const out = await session.run(input);
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

async function checkAgainstOrt(vae: VAE, x: Float32Array, c: Float32Array | undefined, z: Float32Array, rows: number): Promise<void> {
  const config = vae.config;
  const files = exportModel(vae, "onnx");
  expect(Object.keys(files).sort()).toEqual(["decoder.onnx", "encoder.onnx"]);
  const cond: Record<string, [Float32Array, number]> = c ? { c: [c, config.conditionDim] } : {};
  const enc = await run(files["encoder.onnx"], { x: [x, config.inputDim], ...cond }, rows);
  const ours = vae.encode(x, { condition: c });
  expectClose("z_mean", enc.z_mean, ours.mean);
  expectClose("z_logvar", enc.z_logvar, ours.logvar);
  const dec = await run(files["decoder.onnx"], { z: [z, config.latentDim], ...cond }, rows);
  expectClose("x_mean", dec.x_mean, vae.decode(z, { condition: c }));
  if (config.likelihood === "gaussian_learned") {
    const sd = asTorchStateDict(vae);
    expectClose("x_log_sigma", dec.x_log_sigma, torchForward(config, (n) => sd[n], "decoder", z, c, rows)[1]);
  } else {
    expect(Object.keys(dec)).toEqual(["x_mean"]);
  }
}

describe("onnxruntime reproduces encode/decode", () => {
  for (const [label, config] of Object.entries(CONFIGS)) {
    it(label, async () => {
      const vae = await randomModel(config, 21);
      const { x, c, z } = inputs(config, ROWS, 22);
      await checkAgainstOrt(vae, x, c, z, ROWS);
    });
  }

  it("MNIST 784-400-20 Bernoulli, two batch sizes on one file", async () => {
    const vae = await VAE.create({ inputDim: 784, encoder: [400], latentDim: 20, init: "pytorch", seed: 4 }, { build: "plain" });
    const x = (await loadMnist({ split: "test", limit: 9 })).images;
    await checkAgainstOrt(vae, x, undefined, vae.encode(x).mean, 9);
    await checkAgainstOrt(vae, x.subarray(0, 784), undefined, vae.encode(x.subarray(0, 784)).mean, 1);
  });
});

describe("the files", () => {
  const Model = protobuf.parse(readFileSync(join(ROOT, "src", "interop", "onnx.proto"), "utf8"), { keepCase: true }).root.lookupType("onnx.ModelProto");

  it("opset 13, PyTorch-named (out, in) initializers equal to the safetensors tensors, config in metadata", async () => {
    const config: VAEConfig = { inputDim: 9, encoder: [8], latentDim: 2, conditionDim: 3, likelihood: "gaussian_learned" };
    const vae = await randomModel(config, 23);
    const files = exportModel(vae, "onnx");
    const sd = asTorchStateDict(vae);
    for (const part of ["encoder", "decoder"]) {
      const m = Model.toObject(Model.decode(files[`${part}.onnx`]), { longs: Number }) as any;
      expect(m.opset_import).toEqual([{ domain: "", version: 13 }]);
      expect(m.graph.input.map((i: any) => i.name)).toEqual(part === "encoder" ? ["x", "c"] : ["z", "c"]);
      expect(m.graph.output.map((i: any) => i.name)).toEqual(part === "encoder" ? ["z_mean", "z_logvar"] : ["x_mean", "x_log_sigma"]);
      const props = Object.fromEntries(m.metadata_props.map((p: any) => [p.key, p.value]));
      expect(JSON.parse(props.wasm_vae_config)).toEqual(vae.config);
      const floats = m.graph.initializer.filter((t: any) => t.data_type === 1);
      expect(floats.map((t: any) => t.name)).toEqual([`${part}.0.weight`, `${part}.0.bias`, `${part}.1.weight`, `${part}.1.bias`]);
      for (const t of floats) {
        expect(t.dims).toEqual(sd[t.name].shape);
        const got = new Float32Array(new Uint8Array(t.raw_data).buffer);
        expect(differingTensors({ [t.name]: got }, { [t.name]: sd[t.name].data })).toEqual([]);
      }
      expect(m.graph.node.filter((n: any) => n.op_type === "Gemm").length).toBe(2);
    }
  });

  it("onnx-schema.ts is what scripts/gen-onnx-schema.mjs generates from onnx.proto", () => {
    expect(readFileSync(join(ROOT, "src", "interop", "onnx-schema.ts"), "utf8")).toBe(onnxSchemaSource());
  });
});

describe("round trip", () => {
  for (const [label, config] of Object.entries(CONFIGS)) {
    it(`bit-identical: ${label}`, async () => {
      const vae = await randomModel({ ...config, beta: 0.1, seed: 8, init: "pytorch" }, 24);
      const back = await importModel(exportModel(vae, "onnx"));
      expect(back.config).toEqual(vae.config);
      expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
    });
  }
  it("−0, subnormals and ±3.4e38 survive every format bit for bit", async () => {
    const vae = await randomModel(CONFIGS["bernoulli tanh"], 25);
    const w = vae.getWeights();
    const special = [-0, 1.4e-45, -1.4e-45, 1.1754942e-38, 3.4028234e38, -3.4028234e38, 0];
    w["encoder.0.weight"].set(special);
    w["decoder.2.bias"].set(special);
    vae.setWeights(w);
    expect(Object.is(vae.getWeights()["encoder.0.weight"][0], -0)).toBe(true);
    for (const f of ["safetensors", "tfjs", "onnx"] as const) {
      expect(differingTensors((await importModel(exportModel(vae, f), f)).getWeights(), vae.getWeights()), f).toEqual([]);
    }
  });
});

describe("named errors", () => {
  const config = CONFIGS["gaussian_learned leaky_relu conditional"];
  const Model = protobuf.parse(readFileSync(join(ROOT, "src", "interop", "onnx.proto"), "utf8"), { keepCase: true }).root.lookupType("onnx.ModelProto");
  let files: ModelFiles;
  beforeAll(async () => { files = exportModel(await randomModel(config, 26), "onnx"); });
  const edit = (part: string, f: (m: any) => void): ModelFiles => {
    const m = Model.toObject(Model.decode(files[`${part}.onnx`]), { longs: Number }) as any;
    f(m);
    return { ...files, [`${part}.onnx`]: Model.encode(Model.fromObject(m)).finish() };
  };
  const rejects = (f: ModelFiles, re: RegExp) => {
    let err: unknown;
    try { readModel(f, "onnx"); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InteropFormatError);
    expect((err as Error).message).toMatch(re);
  };

  it("an edited graph", () => rejects(edit("encoder", (m) => { m.graph.node[2].op_type = "Relu"; }), /encoder\.onnx: graph node 2 is \["Relu".*; this architecture exports \["LeakyRelu"/));
  it("a changed LeakyRelu α", () => rejects(edit("decoder", (m) => { m.graph.node.find((n: any) => n.op_type === "LeakyRelu").attribute[0].f = 0.3; }), /decoder\.onnx: graph node \d is \["LeakyRelu".*0\.3/));
  it("misshapen initializer", () => rejects(edit("encoder", (m) => { m.graph.initializer[0].dims = [12, 8]; }), /encoder\.onnx: initializer "encoder\.0\.weight" has dims \[12, 8\], expected \[8, 12\]/));
  it("a double initializer", () => rejects(edit("decoder", (m) => { m.graph.initializer[1].data_type = 11; }), /initializer "decoder\.0\.bias" has data_type 11/));
  it("a missing initializer", () => rejects(edit("encoder", (m) => { m.graph.initializer.splice(1, 1); }), /initializer "encoder\.0\.bias" is missing/));
  it("an unknown initializer", () => rejects(edit("encoder", (m) => { m.graph.initializer.push({ ...m.graph.initializer[1], name: "extra" }); }), /unknown initializer "extra"/));
  it("short raw_data", () => rejects(edit("encoder", (m) => { m.graph.initializer[1].raw_data = m.graph.initializer[1].raw_data.slice(0, 4); }), /initializer "encoder\.0\.bias" holds 4 bytes of raw_data, expected 32/));
  it("another opset", () => rejects(edit("encoder", (m) => { m.opset_import[0].version = 11; }), /encoder\.onnx: default-domain opset is 11/));
  it("garbage bytes", () => rejects({ ...files, "decoder.onnx": new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]) }, /decoder\.onnx: not a valid ONNX ModelProto/));
  it("a missing file", () => rejects({ "encoder.onnx": files["encoder.onnx"] }, /decoder\.onnx: missing/));
});

describe("the main entry stays free of protobufjs", () => {
  it("refuses format \"onnx\" with an ArgumentError pointing at wasm-vae/onnx", async () => {
    const vae = await randomModel(CONFIGS["bernoulli tanh"], 27);
    expect(() => main.exportModel(vae, "onnx")).toThrow(main.ArgumentError);
    expect(() => main.exportModel(vae, "onnx")).toThrow(/"wasm-vae\/onnx"/);
    await expect(main.importModel(exportModel(vae, "onnx"))).rejects.toThrow(/"wasm-vae\/onnx"/);
  });

  it("src/index.ts and src/browser.ts bundle without protobufjs; src/onnx.ts with it", async () => {
    const inputs = async (entry: string) => {
      const r = await build({ entryPoints: [join(ROOT, "src", entry)], bundle: true, write: false, metafile: true, platform: "neutral", format: "esm", external: ["node:*", "@assemblyscript/loader"], logLevel: "silent", mainFields: ["module", "main"] });
      return Object.keys(r.metafile!.inputs);
    };
    for (const entry of ["index.ts", "browser.ts"]) expect((await inputs(entry)).filter((p) => p.includes("protobufjs"))).toEqual([]);
    expect((await inputs("onnx.ts")).some((p) => p.includes("protobufjs"))).toBe(true);
  });
});

describe("fuzz: corrupted files", () => {
  it("each file: bit flips, truncations, extra and random bytes → InteropFormatError or the same config", async () => {
    const vae = await randomModel(CONFIGS["gaussian_learned leaky_relu conditional"], 42);
    const [refused, tried] = fuzzFiles(exportModel(vae, "onnx"), (f) => readModel(f, "onnx"), vae.config, 42);
    expect(refused).toBeGreaterThan(tried / 2);
  });
});
