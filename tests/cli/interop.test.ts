// `wasm-vae export` / `wasm-vae import` as a user runs them: a model file to
// each interchange format and back gives the same weights bit for bit; bad
// input gets a one-line message and a non-zero exit.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { runCli, tempDir } from "./helpers.js";

const dir = tempDir("wvae-cli-interop-");
const model = join(dir, "m.wvae");
let weights: Record<string, Float32Array>;

beforeAll(async () => {
  const vae = await VAE.create({ inputDim: 12, encoder: [7], latentDim: 3, conditionDim: 2, likelihood: "gaussian_learned", activation: "tanh", seed: 5 });
  for (let i = 0; i < 3; i++) vae.trainStep({ x: new Float32Array(24).map((_, j) => Math.sin(j + i)), condition: new Float32Array([1, 0, 0, 1]) });
  weights = vae.getWeights();
  writeFileSync(model, vae.save());
});

describe("export → import", () => {
  for (const format of ["safetensors", "tfjs", "onnx"]) {
    it(`${format}: the imported model file has the same weights, bit for bit`, async () => {
      const out = join(dir, `ex-${format}`), back = join(dir, `back-${format}.wvae`);
      const e = await runCli(["export", "--model", model, "--format", format, "--out", out]);
      expect(e.stderr).toBe("");
      expect(e.code).toBe(0);
      const i = await runCli(["import", "--from", out, "--out", back]);
      expect(i.stderr).toBe("");
      expect(i.code).toBe(0);
      const got = (await VAE.load(new Uint8Array(readFileSync(back)))).getWeights();
      expect(Object.keys(got)).toEqual(Object.keys(weights));
      for (const [k, w] of Object.entries(weights)) expect(Buffer.from(got[k].buffer).equals(Buffer.from(w.buffer)), k).toBe(true);
    });
  }
});

describe("export → import of a conv model", () => {
  it("safetensors, tfjs, onnx: the same weights, bit for bit", async () => {
    const vae = await VAE.create({
      inputShape: [6, 6, 1], latentDim: 2, seed: 6,
      encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, { type: "dense", units: 5 }],
      decoder: [{ type: "dense", units: 18 }, { type: "reshape", shape: [3, 3, 2] }, { type: "conv2d_transpose", filters: 1, kernel: 3, stride: 2, padding: "same" }],
    });
    vae.trainStep(new Float32Array(72).map((_, j) => (Math.sin(j) + 1) / 2));
    const conv = join(dir, "conv.wvae"), want = vae.getWeights();
    writeFileSync(conv, vae.save());
    for (const format of ["safetensors", "tfjs", "onnx"]) {
      const out = join(dir, `conv-${format}`), back = join(dir, `conv-back-${format}.wvae`);
      expect((await runCli(["export", "--model", conv, "--format", format, "--out", out])).code, format).toBe(0);
      expect((await runCli(["import", "--from", out, "--out", back])).code, format).toBe(0);
      const got = (await VAE.load(new Uint8Array(readFileSync(back)))).getWeights();
      expect(Object.keys(got)).toEqual(Object.keys(want));
      for (const [k, w] of Object.entries(want)) expect(Buffer.from(got[k].buffer).equals(Buffer.from(w.buffer)), `${format} ${k}`).toBe(true);
    }
  });
});

describe("errors", () => {
  it("an existing --out is kept unless --force", async () => {
    const target = join(dir, "exists.wvae");
    writeFileSync(target, "keep me");
    await runCli(["export", "--model", model, "--format", "safetensors", "--out", join(dir, "ex-f")]);
    const r = await runCli(["import", "--from", join(dir, "ex-f"), "--out", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exists\.wvae: exists \(add --force/);
    expect(readFileSync(target, "utf8")).toBe("keep me");
    const f = await runCli(["import", "--from", join(dir, "ex-f", "model.safetensors"), "--out", target, "--force"]);
    expect(f.code).toBe(0);
  });

  it("a missing --from, a bad format and a format mismatch: one line each, no stack", async () => {
    const cases: [string[], RegExp, number][] = [
      [["import", "--from", join(dir, "nowhere"), "--out", join(dir, "n.wvae")], /--from: .*nowhere/, 1],
      [["export", "--model", model, "--format", "pt", "--out", join(dir, "x")], /--format: expected one of safetensors, tfjs, onnx/, 2],
      [["import", "--from", join(dir, "ex-f"), "--format", "onnx", "--out", join(dir, "o.wvae")], /holds safetensors files, not onnx/, 1],
      [["import", "--from", model, "--out", join(dir, "p.wvae")], /--from: /, 1],
    ];
    for (const [args, msg, code] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(code);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(dir, "o.wvae"))).toBe(false);
  });

  it("a model the format cannot hold: the message names --model and the file, not the library's argument, and writes nothing", async () => {
    const cases: [string, VAEConfig, string, RegExp][] = [
      ["vamp", { inputDim: 12, encoder: [7], latentDim: 3, prior: { type: "vamp", components: 4 }, seed: 1 }, "tfjs",
        /^wasm-vae export: error: --model \S*vamp\.wvae: the "tfjs" format holds the encoder and decoder networks only, .*use the "safetensors" format \(it carries them\) or keep the \.wvae model file\n$/],
      ["categorical", { inputDim: 12, encoder: [7], latent: { type: "categorical", variables: 2, classes: 3 }, seed: 1 }, "onnx",
        /^wasm-vae export: error: --model \S*categorical\.wvae: expected a model with a Gaussian latent .*got a categorical latent\n$/],
      ["two-levels", { inputDim: 12, seed: 1, latents: [{ encoder: [7], size: 3, decoder: [7] }, { encoder: [5], size: 2, decoder: [5] }] }, "safetensors",
        /^wasm-vae export: error: --model \S*two-levels\.wvae: a model with stochastic layers above the first .*; keep the \.wvae model file\n$/],
    ];
    for (const [name, cfg, format, msg] of cases) {
      const path = join(dir, `${name}.wvae`);
      writeFileSync(path, (await VAE.create(cfg)).save());
      const r = await runCli(["export", "--model", path, "--format", format, "--out", join(dir, `out-${name}`)]);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(msg);
      expect(r.stderr).not.toMatch(/\bvae: /);
      expect(existsSync(join(dir, `out-${name}`)), name).toBe(false);
    }
  });
});

