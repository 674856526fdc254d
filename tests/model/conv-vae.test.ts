// Convolutional VAEs through the library (layer kinds conv2d and
// conv2d_transpose over assembly/conv.ts):
// - central finite differences of the whole loss on small conv VAEs (stride 2
//   "same", "valid", explicit pads, output padding; a condition joining at the
//   dense layer; a learned-σ output of 2 channels);
// - gradient parity with tfjs-cpu (tf.conv2d / tf.conv2dTranspose, tfjs's own
//   gradients) on whole conv VAEs with the same weights and noise; the tfjs
//   side is written out layer by layer from the config below, not from the
//   library's architecture code;
// - a Keras-shaped conv VAE trains on real MNIST (its held-out −ELBO falls
//   far below its value at initialisation), saves to a version-2 file and
//   resumes bit-identically; IWAE, imputation and the score-function
//   estimator run on it (IWAE above the ELBO; imputation keeps the observed
//   values; the score estimator changes the encoder's gradient only).
// - The Keras VAE example's layer list has the parameter counts of its Keras
//   model.summary() and the Keras layer names' order.
// Not here: the conv kernels alone (tests/kernels/conv.test.ts).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, loadMnist, VAE, type VAEConfig } from "../../src/index.js";
import { decodeModel } from "../../src/kernels.js";
import { randomArray, randomNormals } from "../reference.js";
import { finiteDifferenceCheck } from "./grad-check.js";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

let train: Float32Array, test: Float32Array, labels: Uint8Array;
beforeAll(async () => {
  await tf.setBackend("cpu");
  const m = await loadMnist({ split: "train", limit: 1024 });
  train = m.images; labels = m.labels;
  test = (await loadMnist({ split: "test", limit: 256 })).images;
});

/** The Keras VAE example's shape (keras.io/examples/generative/vae) on
 *  28×28×1 images: conv2d f1, f2 (3×3, stride 2, "same") → flatten → dense
 *  `units` | dense 7·7·f2 → reshape → conv2d_transpose f2, f1 (stride 2) → 1. */
function kerasShaped(f1: number, f2: number, units: number, latentDim: number, seed = 0): VAEConfig {
  const conv = (type: "conv2d" | "conv2d_transpose", filters: number, stride: number) => ({ type, filters, kernel: 3, stride, padding: "same" as const });
  return {
    inputShape: [28, 28, 1], latentDim, seed,
    encoder: [conv("conv2d", f1, 2), conv("conv2d", f2, 2), { type: "flatten" }, { type: "dense", units }],
    decoder: [{ type: "dense", units: 7 * 7 * f2 }, { type: "reshape", shape: [7, 7, f2] },
      conv("conv2d_transpose", f2, 2), conv("conv2d_transpose", f1, 2), conv("conv2d_transpose", 1, 1)],
  };
}

describe("conv VAE: central finite differences of the whole loss", () => {
  const cases: { name: string; config: VAEConfig; x: Float32Array; cond?: Float32Array }[] = [
    {
      name: "bernoulli 6×6×1: conv2d s2 same → flatten → dense | dense → reshape → conv2d_transpose s2 same (1 filter: the output layer), tanh",
      config: {
        inputShape: [6, 6, 1], latentDim: 2, activation: "tanh", seed: 1,
        encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, { type: "dense", units: 5 }],
        decoder: [{ type: "dense", units: 18 }, { type: "reshape", shape: [3, 3, 2] }, { type: "conv2d_transpose", filters: 1, kernel: 3, stride: 2, padding: "same" }],
      },
      x: randomArray(3 * 36, 11, 0, 1),
    },
    {
      name: "gaussian_learned 5×5×2, conditional: conv2d valid + explicit pads, conv2d_transpose output padding, 2·C-channel output, softplus",
      config: {
        inputShape: [5, 5, 2], latentDim: 2, activation: "softplus", likelihood: "gaussian_learned", conditionDim: 2, seed: 2,
        encoder: [
          { type: "conv2d", filters: 3, kernel: 2, stride: 1, padding: "valid" },              // 4×4×3
          { type: "conv2d", filters: 2, kernel: [3, 2], stride: 2, padding: [1, 0, 1, 1] },     // 2×3×2
          { type: "flatten" }, { type: "dense", units: 4 },
        ],
        decoder: [
          { type: "dense", units: 12 }, { type: "reshape", shape: [2, 2, 3] },
          { type: "conv2d_transpose", filters: 3, kernel: 3, stride: 2, padding: "valid" },    // 5×5×3
          { type: "conv2d_transpose", filters: 4, kernel: 3, stride: 1, padding: "same" },     // 5×5×4 = [means | log σ]
        ],
      },
      x: randomArray(3 * 50, 12, -1, 1), cond: randomArray(3 * 2, 13, 0, 1),
    },
    {
      name: "gaussian σ = 0.5, 4×4×3: conv2d s2 same, conv2d_transpose s2 same with outputPadding 1 (no hidden dense in the decoder list), elu",
      config: {
        inputShape: [4, 4, 3], latentDim: 3, activation: "elu", likelihood: "gaussian", sigma: 0.5, seed: 3,
        encoder: [{ type: "conv2d", filters: 5, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }],
        decoder: [{ type: "dense", units: 8 }, { type: "reshape", shape: [2, 2, 2] },
          { type: "conv2d_transpose", filters: 3, kernel: 3, stride: 2, padding: "same", outputPadding: 1 }],
      },
      x: randomArray(3 * 48, 14, -1, 1),
    },
  ];
  for (const cs of cases) {
    it(cs.name, async () => {
      const vae = await VAE.create(cs.config);
      const L = vae.config.latentDim, rows = cs.x.length / vae.config.inputDim;
      const noise = Float32Array.from(randomNormals(rows * L, 5));
      const r = finiteDifferenceCheck(vae, cs.cond ? { x: cs.x, condition: cs.cond } : cs.x, noise, { spread: 0.6 });
      expect(r.checked).toBeGreaterThanOrEqual(2 * Object.keys(vae.parameterShapes()).length);
      expect(r.nonzero).toBeGreaterThan(r.checked / 2);
    });
  }
});

// ---------------------------------------------------------------- tfjs parity

type Act = "relu" | "tanh" | "identity";
const act = (t: tf.Tensor, a: Act) => (a === "relu" ? tf.relu(t) : a === "tanh" ? tf.tanh(t) : t);

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num) / Math.sqrt(den);
}

describe("conv VAE: gradient parity with tfjs-cpu", () => {
  const B = 8;

  it("Keras-shaped Bernoulli VAE on MNIST (conv2d 4, 8 s2 same → dense 16 | dense → conv2d_transpose 8, 4 s2 same → 1), relu", async () => {
    const L = 4;
    const vae = await VAE.create(kerasShaped(4, 8, 16, L, 21));
    const x = train.subarray(0, B * 784);
    vae.optimizer = new Adam({ lr: 1e-2 });
    vae.trainStep(x); // off the init
    const eps = Float32Array.from(randomNormals(B * L, 22));
    const loss = (P: (n: string) => tf.Tensor) => {
      const xt = tf.tensor4d(x, [B, 28, 28, 1]);
      const conv = (h: tf.Tensor, n: string, s: number, a: Act) => act(tf.add(tf.conv2d(h as tf.Tensor4D, P(`${n}.weight`) as tf.Tensor4D, s, "same"), P(`${n}.bias`)), a);
      const dense = (h: tf.Tensor, n: string, a: Act) => act(tf.add(tf.matMul(h as tf.Tensor2D, P(`${n}.weight`) as tf.Tensor2D), P(`${n}.bias`)), a);
      const convT = (h: tf.Tensor4D, n: string, s: number, filters: number, a: Act) => {
        const [b, hh, ww] = h.shape;
        return act(tf.add(tf.conv2dTranspose(h, P(`${n}.weight`) as tf.Tensor4D, [b, hh * s, ww * s, filters], s, "same"), P(`${n}.bias`)), a) as tf.Tensor4D;
      };
      let h = conv(xt, "encoder.0", 2, "relu");
      h = conv(h, "encoder.1", 2, "relu");
      h = tf.reshape(h, [B, 7 * 7 * 8]);
      h = dense(h, "encoder.3", "relu");
      h = dense(h, "encoder.4", "identity");
      const mu = tf.slice(h, [0, 0], [B, L]), lv = tf.slice(h, [0, L], [B, L]);
      const z = tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), tf.tensor2d(eps, [B, L])));
      let y = dense(z, "decoder.0", "relu");
      let im = tf.reshape(y, [B, 7, 7, 8]) as tf.Tensor4D;
      im = convT(im, "decoder.2", 2, 8, "relu");
      im = convT(im, "decoder.3", 2, 4, "relu");
      im = convT(im, "decoder.4", 1, 1, "identity");
      y = tf.reshape(im, [B, 784]);
      const nll = tf.sum(tf.sub(tf.softplus(y), tf.mul(y, tf.reshape(xt, [B, 784]))), 1);
      const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.exp(lv), tf.square(mu)), 1), lv), 1), 0.5);
      return tf.mean(tf.add(nll, kl)) as tf.Scalar;
    };
    parity(vae, x, undefined, eps, loss);
  });

  it("gaussian_learned, conditional (one-hot labels), valid + explicit pads, 2-channel output, tanh", async () => {
    const L = 3, C = 10;
    const vae = await VAE.create({
      inputShape: [28, 28, 1], latentDim: L, seed: 23, activation: "tanh", likelihood: "gaussian_learned", conditionDim: C,
      encoder: [
        { type: "conv2d", filters: 3, kernel: 4, stride: 3, padding: "valid" },          // 9×9×3
        { type: "conv2d", filters: 5, kernel: 3, stride: 2, padding: [1, 1, 1, 1] },     // 5×5×5
        { type: "flatten" }, { type: "dense", units: 12 },
      ],
      decoder: [
        { type: "dense", units: 7 * 7 * 3 }, { type: "reshape", shape: [7, 7, 3] },
        { type: "conv2d_transpose", filters: 4, kernel: 4, stride: 2, padding: [1, 1, 1, 1] },   // 14×14×4
        { type: "conv2d_transpose", filters: 2, kernel: 2, stride: 2, padding: "valid" },        // 28×28×2
      ],
    });
    const x = train.subarray(0, B * 784).map((v, i) => 2 * v - 1 + 0.1 * randomArray(1, i)[0]);
    const cond = new Float32Array(B * C);
    for (let b = 0; b < B; b++) cond[b * C + labels[b]] = 1;
    vae.optimizer = new Adam({ lr: 1e-3 });
    vae.trainStep({ x, condition: cond });
    const eps = Float32Array.from(randomNormals(B * L, 24));
    const loss = (P: (n: string) => tf.Tensor) => {
      const xt = tf.tensor4d(x, [B, 28, 28, 1]), ct = tf.tensor2d(cond, [B, C]);
      const pad = (p: number): [[0, 0], [number, number], [number, number], [0, 0]] => [[0, 0], [p, p], [p, p], [0, 0]];
      const dense = (h: tf.Tensor, n: string, a: Act) => act(tf.add(tf.matMul(h as tf.Tensor2D, P(`${n}.weight`) as tf.Tensor2D), P(`${n}.bias`)), a);
      let h: tf.Tensor = act(tf.add(tf.conv2d(xt, P("encoder.0.weight") as tf.Tensor4D, 3, "valid"), P("encoder.0.bias")), "tanh");
      h = act(tf.add(tf.conv2d(h as tf.Tensor4D, P("encoder.1.weight") as tf.Tensor4D, 2, pad(1)), P("encoder.1.bias")), "tanh");
      h = tf.concat([tf.reshape(h, [B, 125]), ct], 1);                     // the condition joins the first dense layer
      h = dense(h, "encoder.3", "tanh");
      h = dense(h, "encoder.4", "identity");
      const mu = tf.slice(h, [0, 0], [B, L]), lv = tf.slice(h, [0, L], [B, L]);
      const z = tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), tf.tensor2d(eps, [B, L])));
      let im = tf.reshape(dense(tf.concat([z, ct], 1), "decoder.0", "tanh"), [B, 7, 7, 3]) as tf.Tensor4D;
      // conv2d_transpose with pads 1: out = (7 − 1)·2 + 4 − 2 = 14 (tfjs takes the pads of the adjoint conv2d)
      im = act(tf.add(tf.conv2dTranspose(im, P("decoder.2.weight") as tf.Tensor4D, [B, 14, 14, 4], 2, 1), P("decoder.2.bias")), "tanh") as tf.Tensor4D;
      im = tf.add(tf.conv2dTranspose(im, P("decoder.3.weight") as tf.Tensor4D, [B, 28, 28, 2], 2, "valid"), P("decoder.3.bias")) as tf.Tensor4D;
      const m = tf.reshape(tf.slice(im, [0, 0, 0, 0], [B, 28, 28, 1]), [B, 784]);   // channel 0: means
      const s = tf.reshape(tf.slice(im, [0, 0, 0, 1], [B, 28, 28, 1]), [B, 784]);   // channel 1: log σ
      const r = tf.sub(tf.reshape(xt, [B, 784]), m);
      const nll = tf.sum(tf.add(tf.add(tf.mul(tf.mul(tf.square(r), 0.5), tf.exp(tf.mul(s, -2))), s), HALF_LOG_2PI), 1);
      const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.exp(lv), tf.square(mu)), 1), lv), 1), 0.5);
      return tf.mean(tf.add(nll, kl)) as tf.Scalar;
    };
    parity(vae, x, cond, eps, loss);
  });

  /** Loss and every parameter's gradient of `vae` against tfjs's, ‖Δ‖/‖ref‖ < 1e-4. */
  function parity(vae: VAE, x: Float32Array, cond: Float32Array | undefined, eps: Float32Array,
                  loss: (P: (n: string) => tf.Tensor) => tf.Scalar): void {
    const mine = vae.computeGradients(cond ? { x, condition: cond } : x, { noise: eps });
    const w = vae.getWeights(), shapes = vae.parameterShapes(), names = Object.keys(shapes);
    const params = names.map((n) => tf.tensor(w[n], shapes[n]));
    const { value, grads } = tf.valueAndGrads((...p: tf.Tensor[]) => loss((n) => {
      const i = names.indexOf(n);
      if (i < 0) throw new Error(`no parameter ${n} (have ${names.join(", ")})`);
      return p[i];
    }))(params);
    const ref = value.dataSync()[0];
    expect(Math.abs(mine.loss - ref) / Math.abs(ref), `loss ${mine.loss} vs tfjs ${ref}`).toBeLessThan(1e-4);
    for (let i = 0; i < names.length; i++) {
      const g = grads[i].dataSync();
      expect(mine.gradients[names[i]].length).toBe(g.length);
      const e = relErr(mine.gradients[names[i]], g);
      expect(e, `${names[i]}: ‖Δ‖/‖ref‖ = ${e}`).toBeLessThan(1e-4);
    }
    tf.dispose([value, ...grads, ...params]);
  }
});

describe("conv layer errors name the entry and what was expected", () => {
  const img = { inputShape: [6, 6, 1], latentDim: 2 };
  const cases: [string, object, RegExp][] = [
    ["conv2d on flat data", { inputDim: 36, latentDim: 2, encoder: [{ type: "conv2d", filters: 2, kernel: 3 }], decoder: [4] }, /config\.encoder\[0\]: expected an image input \(H, W, C\) for a conv2d layer/],
    ["kernel larger than the image", { ...img, encoder: [{ type: "conv2d", filters: 2, kernel: 7 }, { type: "flatten" }], decoder: [4] }, /config\.encoder\[0\]\.kernel: the rows kernel size 7 is larger than the padded input \(6\)/],
    ["outputPadding on a conv2d", { ...img, encoder: [{ type: "conv2d", filters: 2, kernel: 3, outputPadding: 1 }], decoder: [4] }, /config\.encoder\[0\]\.outputPadding: expected no such setting of a conv2d layer/],
    ["no filters", { ...img, encoder: [{ type: "conv2d", kernel: 3 }], decoder: [4] }, /config\.encoder\[0\]\.filters: expected an integer ≥ 1/],
    ["bad padding", { ...img, encoder: [{ type: "conv2d", filters: 2, kernel: 3, padding: "full" }], decoder: [4] }, /config\.encoder\[0\]\.padding: expected "same", "valid"/],
    ["outputPadding ≥ stride", { ...img, encoder: [{ type: "flatten" }], decoder: [{ type: "dense", units: 9 }, { type: "reshape", shape: [3, 3, 1] }, { type: "conv2d_transpose", filters: 1, kernel: 3, stride: 2, padding: "same", outputPadding: 2 }] }, /config\.decoder\[2\]\.outputPadding: expected values smaller than the stride/],
    ["an output conv with a sigmoid", { ...img, encoder: [{ type: "flatten" }], decoder: [{ type: "dense", units: 9 }, { type: "reshape", shape: [3, 3, 1] }, { type: "conv2d_transpose", filters: 1, kernel: 3, stride: 2, padding: "same", activation: "sigmoid" }] }, /config\.decoder\[2\]\.activation: expected "identity" or nothing: this layer is the output layer/],
  ];
  for (const [name, config, msg] of cases) {
    it(name, async () => {
      const err = await VAE.create(config as VAEConfig).then(() => null, (e) => e);
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String(err.message)).toMatch(msg);
    });
  }
});

describe("the Keras VAE example as a layer list", () => {
  it("has the Keras example's parameter counts (encoder 69,076 and decoder 65,089 at latent 2, from its model.summary())", async () => {
    const vae = await VAE.create({ ...kerasShaped(32, 64, 16, 2), activation: "relu" });
    const shapes = vae.parameterShapes();
    const count = (part: string) => Object.entries(shapes).filter(([n]) => n.startsWith(part)).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
    expect(count("encoder.")).toBe(69_076);
    expect(count("decoder.")).toBe(65_089);
    expect(shapes["encoder.0.weight"]).toEqual([3, 3, 1, 32]);
    expect(shapes["decoder.2.weight"]).toEqual([3, 3, 64, 64]);
    expect(shapes["decoder.4.weight"]).toEqual([3, 3, 1, 32]);   // the output layer: no dense appended
    expect(Object.keys(shapes).filter((n) => n.endsWith(".weight"))).toEqual(
      ["encoder.0.weight", "encoder.1.weight", "encoder.3.weight", "encoder.4.weight", "decoder.0.weight", "decoder.2.weight", "decoder.3.weight", "decoder.4.weight"]);
  });
});

// ---------------------------------------------------------------- training

describe("conv VAE trains on MNIST through the library", () => {
  const config = kerasShaped(8, 16, 32, 8, 31);
  const negElbo = (vae: VAE) => { const e = vae.elbo(test).elbo; return -e.reduce((a, b) => a + b, 0) / e.length; };

  it("fit lowers the held-out −ELBO far below its initial value; save → load → continue is bit-identical", async () => {
    const vae = await VAE.create(config, { build: "plain" });
    const before = negElbo(vae);
    vae.optimizer = new Adam({ lr: 2e-3 });
    const h = await vae.fit(train, { epochs: 3, batchSize: 64, klWarmupSteps: 10, yieldEvery: 0 });
    const after = negElbo(vae);
    console.log(`conv VAE −ELBO on 256 test images: ${before.toFixed(1)} at init, ${after.toFixed(1)} after 3 epochs of 1024 (epoch losses ${h.epochs.map((e) => e.loss.toFixed(1)).join(", ")})`);
    expect(h.epochs[2].loss).toBeLessThan(h.epochs[0].loss);
    expect(after).toBeLessThan(0.5 * before);
    // a version-2 file with the layer list; the copy continues bit-identically
    const bytes = vae.save();
    expect(decodeModel(bytes).header.layers!.map((l) => l.kind)).toEqual(
      ["conv2d", "conv2d", "flatten", "dense", "dense", "dense", "reshape", "conv2d_transpose", "conv2d_transpose", "conv2d_transpose"]);
    const copy = await VAE.load(bytes, { build: "plain" });
    const batch = train.subarray(0, 32 * 784);
    const a = vae.trainStep(batch), b = copy.trainStep(batch);
    expect(b.loss).toBe(a.loss);
    expect(copy.getWeights()).toEqual(vae.getWeights());
  });

  it("IWAE, imputation and the score-function estimator run on a conv network", async () => {
    const vae = await VAE.create(config, { build: "plain" });
    vae.optimizer = new Adam({ lr: 2e-3 });
    await vae.fit(train, { epochs: 2, batchSize: 64, yieldEvery: 0 });
    const x = test.subarray(0, 8 * 784);
    // the importance-weighted bound (k = 64) is above the one-sample ELBO on average
    const iwae = vae.logLikelihood(x, { samples: 64 }), elbo = vae.elbo(x, { samples: 16 }).elbo;
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((p, q) => p + q, 0) / a.length;
    console.log(`conv VAE on 8 test images: IWAE (k = 64) ${mean(iwae).toFixed(2)}, ELBO ${mean(elbo).toFixed(2)}`);
    expect(mean(iwae)).toBeGreaterThan(mean(elbo));
    // imputation keeps the observed half and fills the other with probabilities
    const mask = new Uint8Array(784).map((_, i) => (i < 392 ? 1 : 0));
    const filled = vae.impute(x, mask, { samples: 50 });
    for (let r = 0; r < 8; r++) for (let i = 0; i < 784; i++) {
      const v = filled[r * 784 + i];
      if (i < 392) expect(v).toBe(x[r * 784 + i]);
      else expect(v >= 0 && v <= 1).toBe(true);
    }
    // with the same ε, the score-function estimator changes the encoder's gradient only
    const eps = Float32Array.from(randomNormals(8 * 8, 41));
    const rep = vae.computeGradients(x, { noise: eps }).gradients, sf = vae.computeGradients(x, { noise: eps, estimator: "score" }).gradients;
    for (const n of Object.keys(rep)) {
      if (n.startsWith("decoder.")) expect(sf[n], n).toEqual(rep[n]);
      else expect(sf[n].some((v, i) => v !== rep[n][i]), n).toBe(true);
    }
  });
});
