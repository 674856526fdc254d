// What the interchange formats cannot hold is refused naming the argument the
// caller passed, the same way on every path: exportModel's `vae`, readModel's
// and importModel's `options.config`, and (InteropFormatError) the file whose
// carried config it is. Each refusal changes nothing.
import { describe, expect, it } from "vitest";
import { ArgumentError, exportModel, importModel, INTEROP_FORMATS, InteropFormatError, readModel, VAE, type VAEConfig } from "../../src/index.js";
import * as onnx from "../../src/onnx.js";
import { exportOnnx } from "../../src/onnx.js";
import { resolveConfig } from "../../src/model/config.js";

const BASE: VAEConfig = { inputDim: 10, encoder: [8], latentDim: 3, decoder: [8], seed: 4 };
const CATEGORICAL: VAEConfig = { inputDim: 10, encoder: [8], decoder: [8], latent: { type: "categorical", variables: 2, classes: 3 }, seed: 4 };
const TWO_LEVELS: VAEConfig = { inputDim: 10, seed: 4, latents: [{ encoder: [8], size: 3, decoder: [8] }, { encoder: [6], size: 2, decoder: [6] }] };
const VAMP: VAEConfig = { ...BASE, prior: { type: "vamp", components: 4 } };
const ELU: VAEConfig = { ...BASE, likelihood: "gaussian", activation: "elu", activationAlpha: 0.7 };

/** Every refusal of a model, with the formats that refuse it and the reason's start. */
const REFUSED: [string, VAEConfig, readonly string[], string][] = [
  ["a categorical latent", CATEGORICAL, INTEROP_FORMATS, "expected a model with a Gaussian latent"],
  ["two stochastic layers", TWO_LEVELS, INTEROP_FORMATS, "a model with stochastic layers above the first \\(config\\.latents\\)"],
  ["a learned prior", VAMP, ["tfjs", "onnx"], `the "(tfjs|onnx)" format holds the encoder and decoder networks only, and the model's "vamp" prior \\(config\\.prior\\)`],
  ["elu with α ≠ 1", ELU, ["tfjs"], "its activation elu with α = 0\\.7 has no TensorFlow\\.js layers form"],
];

/** exportModel of the entry that has the format. */
const exporter = (f: string) => (f === "onnx" ? onnx.exportModel : exportModel);

describe.each(REFUSED)("%s", (_name, cfg, formats, reason) => {
  it("exportModel names its argument, vae, for every format that refuses it, and changes nothing", async () => {
    const vae = await VAE.create(cfg);
    const before = vae.exportState();
    for (const f of formats) {
      const ex = exporter(f);
      expect(() => ex(vae, f as never), f).toThrow(ArgumentError);
      expect(() => ex(vae, f as never), f).toThrow(new RegExp(`^vae: ${reason}`));
    }
    expect(vae.exportState()).toEqual(before);
  });

  it("readModel and importModel name options.config", async () => {
    const plain = await VAE.create(cfg === ELU ? { ...ELU, activationAlpha: 1 } : BASE);
    for (const f of formats) {
      const m = f === "onnx" ? onnx : { readModel, importModel, exportModel };
      const files = m.exportModel(plain, f as never);
      expect(() => m.readModel(files, f as never, { config: cfg }), f).toThrow(ArgumentError);
      expect(() => m.readModel(files, f as never, { config: cfg }), f).toThrow(new RegExp(`^options\\.config: ${reason}`));
      await expect(m.importModel(files, f as never, { config: cfg }), f).rejects.toThrow(new RegExp(`^options\\.config: ${reason}`));
      // what no format holds is refused before the files are looked at (none at all here)
      if (formats === INTEROP_FORMATS) expect(() => m.readModel({}, f as never, { config: cfg }), f).toThrow(new RegExp(`^options\\.config: ${reason}`));
    }
  });
});

it.each(REFUSED.filter(([, , formats]) => formats.includes("onnx")))("exportOnnx, called directly, names its argument config: %s", (_name, cfg, _f, reason) => {
  expect(() => exportOnnx(resolveConfig(cfg), {})).toThrow(ArgumentError);
  expect(() => exportOnnx(resolveConfig(cfg), {})).toThrow(new RegExp(`^config: ${reason}`));
});

describe("a file whose carried config no format holds", () => {
  it("is an InteropFormatError naming the file (tfjs: a categorical latent written into both model.json)", async () => {
    const files = exportModel(await VAE.create(BASE), "tfjs");
    const edited = { ...files };
    for (const part of ["encoder", "decoder"]) {
      const j = JSON.parse(new TextDecoder().decode(files[`${part}/model.json`]));
      j.userDefinedMetadata.wasm_vae.config = JSON.stringify(resolveConfig(CATEGORICAL));
      edited[`${part}/model.json`] = new TextEncoder().encode(JSON.stringify(j));
    }
    expect(() => readModel(edited, "tfjs")).toThrow(InteropFormatError);
    expect(() => readModel(edited, "tfjs")).toThrow(/^encoder\/model\.json: its wasm-vae config: expected a model with a Gaussian latent/);
  });
});

it("a model every format holds exports in each of them (the checks refuse nothing else)", async () => {
  const vae = await VAE.create(BASE);
  for (const f of INTEROP_FORMATS) expect(Object.keys(exporter(f)(vae, f)).length, f).toBeGreaterThan(0);
});
