// Gradient parity with TensorFlow.js (tfjs-core + the CPU backend, float32):
// the same VAE built in tfjs from vae.getWeights(), fed the same ε, must give
// the same loss and the same gradient for EVERY parameter tensor as
// vae.computeGradients, within a relative error of 1e-4 per tensor
// (‖a − b‖ / ‖b‖). The tfjs side is written from the definition of the loss:
//   loss = (1/B) Σ_b [ −log p(x_b | z_b) + β·KL_b ],  z = μ + exp(½·lv)·ε,
//   KL_b = ½ Σ_j (exp(lv) + μ² − 1 − lv),
//   Bernoulli −log p = Σ softplus(l) − l·x;  Gaussian −log p = Σ (x−μ)²/(2σ²) + log σ + ½log 2π.
// Configurations: Bernoulli 784-64-8-64-784 relu on MNIST, gaussian_learned,
// gaussian fixed σ, a conditional VAE, a 2-hidden-layer tanh model, β ≠ 1.
// Not here: finite differences of the model's own loss (finite-diff.test.ts).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core alone registers no gradient functions; the full tfjs package imports this
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import { beforeAll, describe, expect, it } from "vitest";
import { loadMnist, VAE, type VAEConfig } from "../../src/index.js";
import { randomArray, randomNormals } from "../reference.js";

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const REL_TOL = 1e-4;
const B = 16;

let images: Float32Array, labels: Uint8Array;

beforeAll(async () => {
  await tf.setBackend("cpu");
  expect(tf.getBackend()).toBe("cpu");
  const m = await loadMnist({ split: "train", limit: B });
  images = m.images;
  labels = m.labels;
});

function act(t: tf.Tensor, name: string, alpha: number): tf.Tensor {
  switch (name) {
    case "identity": return t;
    case "relu": return tf.relu(t);
    case "leaky_relu": return tf.leakyRelu(t, alpha);
    case "tanh": return tf.tanh(t);
    case "sigmoid": return tf.sigmoid(t);
    case "softplus": return tf.softplus(t);
    case "elu": if (alpha !== 1) throw new Error("tf.elu has α = 1 only"); return tf.elu(t);
    default: throw new Error(`no tfjs activation for ${name}`);
  }
}

/** The tfjs loss of `vae`'s architecture as a function of its parameter tensors
 *  (in parameterShapes() order). */
function tfLoss(vae: VAE, x: Float32Array, cond: Float32Array | null, eps: Float32Array, beta: number) {
  const c = vae.config, D = c.inputDim, L = c.latentDim, C = c.conditionDim, rows = x.length / D;
  const names = Object.keys(vae.parameterShapes());
  const nEnc = c.encoder.length + 1, nDec = c.decoder.length + 1;
  return (...params: tf.Tensor[]): tf.Scalar => {
    const P = (n: string) => params[names.indexOf(n)];
    const xt = tf.tensor2d(x, [rows, D]);
    const ct = cond ? tf.tensor2d(cond, [rows, C]) : null;
    let h: tf.Tensor = ct ? tf.concat([xt, ct], 1) : xt;
    for (let i = 0; i < nEnc; i++) {
      h = tf.add(tf.matMul(h as tf.Tensor2D, P(`encoder.${i}.weight`) as tf.Tensor2D), P(`encoder.${i}.bias`));
      if (i < nEnc - 1) h = act(h, c.activation, c.activationAlpha);
    }
    const mu = tf.slice(h, [0, 0], [rows, L]), lv = tf.slice(h, [0, L], [rows, L]);
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), tf.tensor2d(eps, [rows, L])));
    let y: tf.Tensor = ct ? tf.concat([z, ct], 1) : z;
    for (let i = 0; i < nDec; i++) {
      y = tf.add(tf.matMul(y as tf.Tensor2D, P(`decoder.${i}.weight`) as tf.Tensor2D), P(`decoder.${i}.bias`));
      if (i < nDec - 1) y = act(y, c.activation, c.activationAlpha);
    }
    let nll: tf.Tensor;
    if (c.likelihood === "bernoulli") {
      nll = tf.sum(tf.sub(tf.softplus(y), tf.mul(y, xt)), 1);
    } else if (c.likelihood === "gaussian") {
      const r = tf.sub(xt, y);
      nll = tf.add(tf.div(tf.sum(tf.square(r), 1), 2 * c.sigma * c.sigma), D * (Math.log(c.sigma) + HALF_LOG_2PI));
    } else {
      const m = tf.slice(y, [0, 0], [rows, D]), s = tf.slice(y, [0, D], [rows, D]);
      const r = tf.sub(xt, m);
      nll = tf.sum(tf.add(tf.add(tf.mul(tf.mul(tf.square(r), 0.5), tf.exp(tf.mul(s, -2))), s), HALF_LOG_2PI), 1);
    }
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.exp(lv), tf.square(mu)), 1), lv), 1), 0.5);
    return tf.mean(tf.add(nll, tf.mul(kl, beta))) as tf.Scalar;
  };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num) / Math.sqrt(den);
}

function oneHot(lab: Uint8Array, C: number): Float32Array {
  const out = new Float32Array(lab.length * C);
  lab.forEach((l, i) => { out[i * C + l] = 1; });
  return out;
}

interface Case {
  name: string;
  config: VAEConfig;
  data: () => Float32Array;
  beta?: number;
}

/** Pixels shifted/scaled off [0, 1] for the Gaussian likelihoods (any real data is fine there). */
const gaussianData = () => images.map((v, i) => 2 * v - 1 + 0.1 * randomArray(1, i)[0]);

const CASES: Case[] = [
  { name: "bernoulli 784-64-8-64-784 relu, MNIST", config: { inputDim: 784, encoder: [64], latentDim: 8, activation: "relu", seed: 1 }, data: () => images },
  { name: "gaussian_learned 784-32-4-32-784 softplus", config: { inputDim: 784, encoder: [32], latentDim: 4, activation: "softplus", likelihood: "gaussian_learned", seed: 2 }, data: gaussianData },
  { name: "gaussian fixed σ = 0.7, 784-32-4-32-784 leaky_relu", config: { inputDim: 784, encoder: [32], latentDim: 4, activation: "leaky_relu", activationAlpha: 0.2, likelihood: "gaussian", sigma: 0.7, seed: 3 }, data: gaussianData },
  { name: "conditional (C = 10, one-hot labels) 784-48-6-48-784 elu", config: { inputDim: 784, encoder: [48], latentDim: 6, activation: "elu", conditionDim: 10, seed: 4 }, data: () => images },
  { name: "2 hidden layers, tanh, 784-64-32-5-24-48-784", config: { inputDim: 784, encoder: [64, 32], latentDim: 5, decoder: [24, 48], activation: "tanh", seed: 5 }, data: () => images },
  { name: "β = 3.5 (config), sigmoid 784-40-7-40-784", config: { inputDim: 784, encoder: [40], latentDim: 7, activation: "sigmoid", beta: 3.5, seed: 6 }, data: () => images },
  { name: "β = 0.25 (per call), relu", config: { inputDim: 784, encoder: [40], latentDim: 7, activation: "relu", seed: 7 }, data: () => images, beta: 0.25 },
];

describe("gradient parity with tfjs-core (cpu backend)", () => {
  for (const cs of CASES) {
    it(cs.name, async () => {
      const vae = await VAE.create(cs.config);
      // Move the weights off their initial values (a step of training, with
      // its own noise) so the check does not rest on the init's symmetries.
      const x = cs.data();
      const cond = vae.config.conditionDim ? oneHot(labels, 10) : null;
      vae.trainStep(cond ? { x, condition: cond } : x);
      const L = vae.config.latentDim;
      const eps = Float32Array.from(randomNormals(B * L, 100 + (cs.config.seed ?? 0)));
      const beta = cs.beta ?? vae.config.beta;
      const mine = vae.computeGradients(cond ? { x, condition: cond } : x, { noise: eps, beta: cs.beta });
      const w = vae.getWeights(), shapes = vae.parameterShapes(), names = Object.keys(shapes);
      const params = names.map((n) => tf.tensor(w[n], shapes[n]));
      const { value, grads } = tf.valueAndGrads(tfLoss(vae, x, cond, eps, beta))(params);
      const ref = value.dataSync()[0];
      expect(Math.abs(mine.loss - ref) / Math.abs(ref), `loss ${mine.loss} vs tfjs ${ref}`).toBeLessThan(REL_TOL);
      expect(Object.keys(mine.gradients).sort()).toEqual([...names].sort());
      for (let i = 0; i < names.length; i++) {
        const g = grads[i].dataSync();
        expect(mine.gradients[names[i]].length).toBe(g.length);
        const e = relErr(mine.gradients[names[i]], g);
        expect(e, `${names[i]}: ‖Δ‖/‖ref‖ = ${e}`).toBeLessThan(REL_TOL);
      }
      // the gradient of the last computeGradients is also what getGradients reports
      const again = vae.getGradients();
      for (const n of names) expect(Buffer.from(again[n].buffer).equals(Buffer.from(mine.gradients[n].buffer)), n).toBe(true);
      tf.dispose([value, ...grads, ...params]);
    });
  }

  it("β matters: the encoder gradient differs between β = 1 and β = 3 (so the β cases can fail)", async () => {
    const vae = await VAE.create({ inputDim: 784, encoder: [16], latentDim: 3, seed: 9 });
    const eps = Float32Array.from(randomNormals(B * 3, 5));
    const g1 = vae.computeGradients(images, { noise: eps, beta: 1 }).gradients["encoder.1.bias"];
    const g3 = vae.computeGradients(images, { noise: eps, beta: 3 }).gradients["encoder.1.bias"];
    expect(relErr(g1, g3)).toBeGreaterThan(1e-3);
  });
});
