// Keras / TensorFlow.js spellings in layer entries (issue 16, item 6):
// kernelSize for kernel and strides for stride (conv2d, conv2d_transpose),
// activation "linear" for "identity" (any kind that takes an activation) are
// accepted and normalized to our names, so the resolved config, the layers
// and the trained weights are those of our spelling; dense's width is already
// Keras' `units`, filters is both libraries' name. An entry with both
// spellings of one setting, an unknown key or an unknown activation is
// refused with an ArgumentError naming config.<list>[i].<key>, and VAE.create
// then creates nothing.
import { describe, expect, it } from "vitest";
import { architectureOf, ArgumentError, VAE, type VAEConfig } from "../../src/index.js";
import { resolveConfig } from "../../src/model/config.js";
import { randomArray } from "../reference.js";

const image = (encoder: VAEConfig["encoder"], decoder?: VAEConfig["decoder"]): VAEConfig => ({
  inputShape: [6, 6, 1], latentDim: 2, encoder, decoder: decoder ?? [{ type: "dense", units: 36 }], seed: 5,
});

describe("Keras spellings are accepted and normalized", () => {
  it("kernelSize → kernel, strides → stride (conv2d and conv2d_transpose); the resolved entry holds our names only", () => {
    const c = resolveConfig(image(
      [{ type: "conv2d", filters: 3, kernelSize: 3, strides: 2, padding: "same" }, { type: "flatten" }],
      [{ type: "dense", units: 27 }, { type: "reshape", shape: [3, 3, 3] }, { type: "conv2d_transpose", filters: 1, kernelSize: [3, 3], strides: [2, 2], padding: "same" }]));
    expect(c.encoder[0]).toEqual({ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same" });
    expect(c.decoder[2]).toEqual({ type: "conv2d_transpose", filters: 1, kernel: [3, 3], stride: [2, 2], padding: "same" });
    const a = architectureOf(c);
    expect(a.encoder[0].outShape).toEqual([3, 3, 3]);
    expect(a.decoder[2].outShape).toEqual([6, 6, 1]);
  });

  it("activation \"linear\" is \"identity\" (dense, conv2d, a standalone activation, and the decoder's output layer)", () => {
    const c = resolveConfig(image(
      [{ type: "conv2d", filters: 2, kernel: 3, activation: "linear" }, { type: "flatten" }, { type: "dense", units: 5, activation: "linear" }, { type: "activation", activation: "linear" }],
      [{ type: "dense", units: 36, activation: "linear" }]));
    expect([c.encoder[0], c.encoder[2], c.encoder[3], c.decoder[0]].map((e) => typeof e === "object" && "activation" in e ? e.activation : null))
      .toEqual(["identity", "identity", "identity", "identity"]);
    expect(architectureOf(c).encoder.slice(0, 4).map((l) => l.activation)).toEqual(["identity", "identity", "identity", "identity"]);
  });

  it("the model-wide hidden activation takes \"linear\" too (config.activation)", () => {
    const c = resolveConfig({ inputDim: 6, encoder: [4], latentDim: 2, activation: "linear" });
    expect(c.activation).toBe("identity");
    expect(architectureOf(c).encoder[0].activation).toBe("identity");
    expect(() => resolveConfig({ inputDim: 6, encoder: [4], latentDim: 2, activation: "lineal" as never })).toThrow(/^config\.activation: expected /);
  });

  it("a model written with Keras' names trains bit-identically to one written with ours", async () => {
    const ours = image([{ type: "conv2d", filters: 2, kernel: 3, stride: 1 }, { type: "flatten" }, { type: "dense", units: 4, activation: "identity" }]);
    const keras = image([{ type: "conv2d", filters: 2, kernelSize: 3, strides: 1 }, { type: "flatten" }, { type: "dense", units: 4, activation: "linear" }]);
    const x = randomArray(4 * 36, 7, 0, 1);
    const [a, b] = await Promise.all([VAE.create(ours), VAE.create(keras)]);
    try {
      expect(b.config).toEqual(a.config);
      for (let i = 0; i < 2; i++) expect(b.trainStep(x)).toEqual(a.trainStep(x));
      const wa = a.getWeights(), wb = b.getWeights();
      for (const k of Object.keys(wa)) expect(Array.from(wb[k]), k).toEqual(Array.from(wa[k]));
    } finally {
      a.dispose(); b.dispose();
    }
  });

  it("dense's width is Keras' `units` already (no other name); `filters` is both libraries' name", () => {
    expect(resolveConfig({ inputDim: 4, latentDim: 2, encoder: [{ type: "dense", units: 3 }], decoder: [4] }).encoder[0]).toEqual({ type: "dense", units: 3 });
  });
});

describe("refused by name", () => {
  const refuses = (cfg: VAEConfig, name: string, more?: RegExp) => {
    let err: unknown;
    try { resolveConfig(cfg); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message.startsWith(`${name}:`), (err as Error).message).toBe(true);
    if (more) expect((err as Error).message).toMatch(more);
  };

  it("both spellings of one setting", () => {
    refuses(image([{ type: "conv2d", filters: 2, kernel: 3, kernelSize: 3 } as never]), "config.encoder[0].kernelSize", /either kernel or kernelSize/);
    refuses(image([{ type: "conv2d", filters: 2, kernel: 3, stride: 1, strides: 1 }]), "config.encoder[0].strides", /either stride or strides/);
    refuses(image([{ type: "flatten" }], [{ type: "dense", units: 9 }, { type: "reshape", shape: [3, 3, 1] }, { type: "conv2d_transpose", filters: 1, kernelSize: 2, kernel: 2, strides: 2 } as never]),
      "config.decoder[2].kernelSize");
  });

  it("an unknown key (a snake_case Keras name included), naming it and the known ones", () => {
    refuses(image([{ type: "conv2d", filters: 2, kernel_size: 3 } as never]), "config.encoder[0].kernel_size", /kernel \(or kernelSize\).*stride \(or strides\)/);
    refuses(image([{ type: "dense", width: 3 } as never]), "config.encoder[0].width", /units/);
    refuses(image([{ type: "flatten" }], [{ type: "dense", units: 36, use_bias: true } as never]), "config.decoder[0].use_bias");
  });

  it("a missing kernel names both spellings; an unknown activation lists \"linear\"", () => {
    refuses(image([{ type: "conv2d", filters: 2 } as never]), "config.encoder[0].kernel", /kernelSize/);
    refuses(image([{ type: "conv2d", filters: 2, kernel: 3, activation: "softmax" } as never]), "config.encoder[0].activation", /"linear"/);
  });

  it("VAE.create with a refused entry creates nothing and rejects with the ArgumentError", async () => {
    await expect(VAE.create(image([{ type: "conv2d", filters: 2, kernel: 3, kernelSize: 3 } as never]))).rejects.toThrow(/config\.encoder\[0\]\.kernelSize/);
  });
});
