// The CLI on a model with activation and dropout layers (issue 16, item 2):
// a file saved by the library is described by `info`, evaluated by `eval`
// (dropout is the identity there: the CLI's −ELBO equals the library's on the
// same images), sampled, exported in the three formats and imported back
// with the same weights.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { expectEvalAndSample, runCli, savedModel } from "./helpers.js";

const CONFIG: VAEConfig = {
  inputDim: 784, latentDim: 4, seed: 2,
  encoder: [{ type: "dense", units: 32, activation: "identity" }, { type: "activation", activation: "tanh" }, { type: "dropout", rate: 0.3 }],
  decoder: [{ type: "dense", units: 32 }, { type: "dropout", rate: 0.2 }, { type: "dense", units: 784 }, { type: "activation" }],
};

describe("wasm-vae on a model with activation and dropout layers", () => {
  it("info, eval, sample, export (safetensors, tfjs, onnx) and import", async () => {
    const { dir, model, vae } = await savedModel(CONFIG, "wvae-cli-kinds-");

    const info = await runCli(["info", "--model", model, "--json"]);
    expect(info.stderr).toBe("");
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout);
    expect(j.config.encoder).toEqual(CONFIG.encoder);
    expect(j.config.decoder).toEqual(CONFIG.decoder);
    expect(Object.keys(j.parameterShapes)).toEqual(["encoder.0.weight", "encoder.0.bias", "encoder.3.weight", "encoder.3.bias",
      "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias"]);

    await expectEvalAndSample(model, vae, dir);

    for (const format of ["safetensors", "tfjs", "onnx"]) {
      const out = join(dir, format);
      const ex = await runCli(["export", "--model", model, "--format", format, "--out", out]);
      expect(ex.stderr, format).toBe("");
      expect(ex.code, format).toBe(0);
      const back = join(dir, `${format}.wvae`);
      const im = await runCli(["import", "--from", out, "--out", back]);
      expect(im.stderr, format).toBe("");
      expect(im.code, format).toBe(0);
      const loaded = await VAE.load(new Uint8Array(readFileSync(back)));
      expect(loaded.config.decoder, format).toEqual(CONFIG.decoder);
      expect(loaded.getWeights(), format).toEqual(vae.getWeights());
    }
  }, 240_000);
});
