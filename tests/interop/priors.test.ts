// Learned priors in the interchange formats: safetensors carries the prior's
// tensors as they are ("prior.means", "prior.logvars", "prior.logits";
// "prior.pseudo_inputs" (K, D)), so export → import gives the same model bit
// for bit; the network-only formats (TensorFlow.js layers, ONNX) refuse such
// a model by name, on export and on import; a model with the N(0, I) prior
// exports exactly the tensors it did before (the encoder and decoder only).
import { describe, expect, it } from "vitest";
import { ArgumentError, exportModel, importModel, readModel, VAE, type VAEConfig } from "../../src/index.js";
import * as onnx from "../../src/onnx.js";
import { readSafetensors } from "../../src/interop/safetensors.js";
import { randomArray } from "../reference.js";

const BASE: VAEConfig = { inputDim: 10, encoder: [8], latentDim: 3, decoder: [8], seed: 4 };
const x = randomArray(5 * 10, 3, 0, 1);

describe.each([
  ["mixture", { ...BASE, prior: { type: "mixture", components: 4 } }, ["prior.means", "prior.logvars", "prior.logits"]],
  ["vamp", { ...BASE, prior: { type: "vamp", components: 6 } }, ["prior.pseudo_inputs"]],
] as [string, VAEConfig, string[]][])("prior %s", (_n, cfg, names) => {
  it("safetensors carries its tensors: export → import is the same model", async () => {
    const vae = await VAE.create(cfg);
    for (let s = 0; s < 3; s++) vae.trainStep(x);
    const files = exportModel(vae, "safetensors");
    const st = readSafetensors(files["model.safetensors"]);
    for (const n of names) expect(st.tensors.get(n)?.shape).toEqual(vae.parameterShapes()[n]);
    const back = await importModel(files);
    expect(back.config.prior).toEqual(vae.config.prior);
    const a = vae.getWeights(), b = back.getWeights();
    for (const n of Object.keys(a)) expect(Array.from(b[n]), n).toEqual(Array.from(a[n]));
    expect(Object.keys(readModel(files).weights).sort()).toEqual(Object.keys(a).sort());
  });

  it("tfjs and onnx refuse it by name, on export and on import", async () => {
    const vae = await VAE.create(cfg);
    for (const [fmt, ex] of [["tfjs", exportModel], ["onnx", onnx.exportModel]] as const) {
      expect(() => ex(vae, fmt)).toThrow(ArgumentError);
      expect(() => ex(vae, fmt)).toThrow(new RegExp(`^vae: the "${fmt}" format holds the encoder and decoder networks only, and the model's "${cfg.prior!.type}" prior \\(config\\.prior\\) has learned tensors`));
    }
    // files of a normal-prior model read with this config
    const plain = await VAE.create(BASE);
    for (const [fmt, mod] of [["tfjs", { exportModel, readModel }], ["onnx", onnx]] as const) {
      const files = mod.exportModel(plain, fmt);
      expect(() => mod.readModel(files, fmt, { config: cfg })).toThrow(ArgumentError);
      expect(() => mod.readModel(files, fmt, { config: cfg })).toThrow(new RegExp(`^options\\.config: the "${fmt}" format`));
    }
  });
});

it("the N(0, I) prior's safetensors export holds the encoder and decoder tensors only, as before", async () => {
  const vae = await VAE.create(BASE);
  const st = readSafetensors(exportModel(vae, "safetensors")["model.safetensors"]);
  expect([...st.tensors.keys()].every((n) => n.startsWith("encoder.") || n.startsWith("decoder."))).toBe(true);
  expect(st.tensors.size).toBe(Object.keys(vae.parameterShapes()).length);
});
