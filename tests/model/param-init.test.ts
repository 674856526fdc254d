// Initialisation per parameter (issue 16, item 1): each ParamSpec carries its
// own `init` (layers/init.ts), plain data; the config's scheme resolves the
// fan rule (drawOf), and the arena (model/network.ts) performs whatever Draw a
// tensor asks for without knowing its kind or role.
// - drawOf against the schemes' definitions (Glorot & Bengio 2010, He et al.
//   2015, PyTorch's nn.Linear default), with the bounds written out here;
// - every listable kind's ParamSpecs are plain data (a JSON round trip keeps them);
// - a tensor that starts at 1 (a batch-norm γ, say) needs no edit of the arena:
//   an extra parameter layer with { constant: 1 } beside a fan-rule weight is
//   initialised as asked, and the networks' weights before it are those of the
//   same model without it, bit for bit (the pinned results are
//   tests/model/pinned.test.ts).
import { describe, expect, it } from "vitest";
import { architectureOf } from "../../src/model/architecture.js";
import { resolveConfig, type VAEConfig } from "../../src/model/config.js";
import { Network } from "../../src/model/network.js";
import { drawOf, fanInit } from "../../src/layers/init.js";
import type { LayerSpec } from "../../src/layers/index.js";
import { loadKernels } from "../../src/kernels/wasm.js";
import { HostRng } from "../../src/base/random.js";

describe("drawOf: the fan rule under each scheme", () => {
  // fanIn 6, fanOut 2: Glorot √(6/8), He √(6/6), PyTorch 1/√6
  it("weights: U(±a) with a from the scheme", () => {
    expect(drawOf(fanInit("weight", 6, 2), "glorot")).toEqual({ symmetric: 0.8660254037844386 });
    expect(drawOf(fanInit("weight", 6, 2), "he")).toEqual({ symmetric: 1 });
    expect(drawOf(fanInit("weight", 6, 2), "pytorch")).toEqual({ symmetric: 0.4082482904638631 });
  });
  it("biases: 0, or U(±1/√fanIn) under the PyTorch scheme", () => {
    expect(drawOf(fanInit("bias", 6, 2), "glorot")).toEqual({ constant: 0 });
    expect(drawOf(fanInit("bias", 6, 2), "he")).toEqual({ constant: 0 });
    expect(drawOf(fanInit("bias", 6, 2), "pytorch")).toEqual({ symmetric: 0.4082482904638631 });
  });
  it("a tensor's own Draw is kept under every scheme", () => {
    for (const d of [{ constant: 1 }, { uniform: [-1, 1] as [number, number] }, { normal: [0.05, 0.01] as [number, number] }]) {
      for (const s of ["glorot", "he", "pytorch"] as const) expect(drawOf(d, s)).toEqual(d);
    }
  });
});

const CONV: VAEConfig = {
  inputShape: [6, 6, 2], latentDim: 2, seed: 3,
  encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same" }, { type: "activation" }, { type: "dropout", rate: 0.1 }, { type: "flatten" }, { type: "dense", units: 5 }],
  decoder: [{ type: "dense", units: 18 }, { type: "reshape", shape: [3, 3, 2] }, { type: "conv2d_transpose", filters: 2, kernel: 3, stride: 2, padding: "same" }],
};

describe("ParamSpec.init is plain data", () => {
  it("every layer's specs survive a JSON round trip (dense, conv2d, conv2d_transpose; the parameter-free kinds list none)", () => {
    const a = architectureOf(resolveConfig(CONV));
    const specs = [...a.encoder, ...a.decoder].flatMap((l) => l.params);
    expect(specs.length).toBe(10); // conv2d, dense, the head, dense, conv2d_transpose: a weight and a bias each
    expect(JSON.parse(JSON.stringify(specs))).toEqual(specs);
    // conv2d (3, 3, 2, 3): Keras' fans kh·kw·in and kh·kw·filters
    expect(specs[0]).toEqual({ name: "encoder.0.weight", shape: [3, 3, 2, 3], init: { fans: { role: "weight", fanIn: 18, fanOut: 27 } } });
    expect(specs[1].init).toEqual({ fans: { role: "bias", fanIn: 18, fanOut: 27 } });
  });
});

describe("the arena performs any Draw, whatever the kind", () => {
  it("a parameter that starts at 1 beside a fan-rule weight, with no edit of network.ts", async () => {
    const k = await loadKernels();
    const c = resolveConfig({ inputDim: 6, encoder: [4], decoder: [4], latentDim: 2, seed: 11 });
    const dims = { inputDim: 6, latentDim: 2, conditionDim: 0, outputDim: 6, noiseWidth: 2 };
    const plain = architectureOf(c);
    const extra: LayerSpec = {
      kind: "params", name: "test", inShape: [1], outShape: [1], settings: {}, activation: "identity", alias: true,
      params: [{ name: "test.gamma", shape: [5], init: { constant: 1 } }, { name: "test.w", shape: [3, 4], init: fanInit("weight", 3, 4) }],
    };
    const nets = [plain, { ...plain, extra: [extra] }].map((arch) => {
      const net = new Network(k, arch, dims, c.activationAlpha, 4, new HostRng(c.seed, 1));
      net.initialize(c.seed, "glorot");
      return net.readTensors("");
    });
    const [without, withExtra] = nets;
    expect(Array.from(withExtra["test.gamma"])).toEqual([1, 1, 1, 1, 1]);
    const a = Math.sqrt(6 / 7); // Glorot for fans 3 and 4
    const w = Array.from(withExtra["test.w"]);
    expect(w.every((v) => Math.abs(v) <= a)).toBe(true);
    expect(new Set(w).size).toBe(12);  // drawn, not filled
    for (const name of Object.keys(without)) expect(Array.from(withExtra[name]), name).toEqual(Array.from(without[name]));
  });
});
