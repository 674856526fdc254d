// The CLI on a model with batch_norm layers (issue 16, item 2): a file saved
// by the library is described by `info` (γ, β are parameters, the running
// statistics are not), evaluated by `eval` (inference uses the running
// statistics: the CLI's −ELBO equals the library's on the same images),
// sampled, exported in the three formats and imported back with the same
// weights and statistics.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { expectEvalAndSample, runCli, savedModel } from "./helpers.js";

const CONFIG: VAEConfig = {
  inputDim: 784, latentDim: 4, seed: 3,
  encoder: [{ type: "dense", units: 32, activation: "identity" }, { type: "batch_norm" }, { type: "activation", activation: "tanh" }],
  decoder: [{ type: "dense", units: 32 }, { type: "batch_norm", momentum: 0.9, epsilon: 1e-5 }, { type: "dense", units: 784 }],
};

describe("wasm-vae on a model with batch_norm layers", () => {
  it("info, eval, sample, export (safetensors, tfjs, onnx) and import", async () => {
    const { dir, model, vae } = await savedModel(CONFIG, "wvae-cli-bn-");

    const info = await runCli(["info", "--model", model, "--json"]);
    expect(info.stderr).toBe("");
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout);
    // the resolved config: Keras' defaults filled in
    expect(j.config.encoder[1]).toEqual({ type: "batch_norm", momentum: 0.99, epsilon: 1e-3 });
    expect(Object.keys(j.parameterShapes)).toEqual(["encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias", "encoder.3.weight", "encoder.3.bias",
      "decoder.0.weight", "decoder.0.bias", "decoder.1.weight", "decoder.1.bias", "decoder.2.weight", "decoder.2.bias"]);

    await expectEvalAndSample(model, vae, dir);

    const stats = vae.exportState().buffers!;
    expect(Object.keys(stats)).toEqual(["encoder.1.running_mean", "encoder.1.running_var", "decoder.1.running_mean", "decoder.1.running_var"]);
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
      expect(loaded.exportState().buffers, format).toEqual(stats);
    }
  }, 240_000);
});
