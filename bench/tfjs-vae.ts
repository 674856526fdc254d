// The same VAE written in TensorFlow.js (tfjs-core 4.22), the way a tfjs
// user would write it, for the benchmarks in bench/run.ts: the loss of
// src/vae.ts (Bernoulli NLL on logits summed over pixels + closed-form KL,
// batch mean), gradients from the tape (optimizer.minimize /
// tf.variableGrads), tf.train.adam, everything inside tf.tidy.
//
// Gradient variants of the dense layer y = act(x·W + b):
//   "stock"          tf.matMul + tf.add + tf.relu, tfjs-core's own gradients:
//                      dX = g·Wᵀ via matMul(g, W, false, true)
//                      dW = xᵀ·g via matMul(x, g, true, false)
//                    (lazy: the first layer's unused dX is never computed).
//   "stock-fused"    tf.fused.matMul (bias and ReLU fused, the path
//                    tf.layers.dense takes), tfjs-core's own gradient, which
//                    computes dX and dW eagerly, the first layer's dX too.
//   "transpose-free" tf.fused.matMul forward; tf.customGrad backward that
//                    transposes each operand once with tf.transpose and then
//                    uses plain matMul (tfjs-wasm's transposed matMul is far
//                    slower than its plain one); the first layer closes over
//                    x, so its dX is never computed.
// All three give the same loss and gradients (checked by the gate in run.ts).
// Weights come from VAE.getWeights() ((in, out) row-major, as here).
// Not here: timing, backend selection, data loading (bench/run.ts).
import * as tf from "@tensorflow/tfjs-core";
// Gradients must be registered by the importer (tfjs-core alone registers
// none): bench/common.ts initTfjs(), or a static import of
// "@tensorflow/tfjs-core/dist/register_all_gradients" in a bundle.

export type GradVariant = "stock" | "stock-fused" | "transpose-free";
type Act = "relu" | "linear";

export interface TfVAESpec {
  inputDim: number;
  encoder: number[];
  latentDim: number;
  decoder: number[];
}

interface DenseParams {
  name: string;
  w: tf.Variable;
  b: tf.Variable;
  act: Act;
}

/** g = dy ⊙ act'(y), from the layer output y as the kernels do (ReLU: y > 0). */
function dyActivation(dy: tf.Tensor, y: tf.Tensor, act: Act): tf.Tensor {
  return act === "relu" ? tf.mul(dy, tf.step(y)) : dy;
}

type Dense = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** A dense layer whose backward uses only plain (untransposed) matMul. */
function denseTransposeFree(act: Act): Dense {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, b] = args as tf.Tensor2D[];
    const save = args[3] as tf.GradSaveFunc;
    const y = tf.fused.matMul({ a: x, b: w, bias: b, activation: act });
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, ys] = saved as tf.Tensor2D[];
        const g = dyActivation(dy, ys, act) as tf.Tensor2D;
        return [
          tf.matMul(g, tf.transpose(ws)),   // dX = g·Wᵀ
          tf.matMul(tf.transpose(xs), g),   // dW = xᵀ·g
          tf.sum(g, 0),                     // db = Σ_b g
        ];
      },
    };
  });
}

/** The first layer: x is data, not a parameter, so only dW and db flow. */
function denseFirstTransposeFree(act: Act, x: tf.Tensor2D): (w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [w, b] = args as tf.Tensor2D[];
    const save = args[2] as tf.GradSaveFunc;
    const y = tf.fused.matMul({ a: x, b: w, bias: b, activation: act });
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = dyActivation(dy, saved[0], act) as tf.Tensor2D;
        return [tf.matMul(tf.transpose(x), g), tf.sum(g, 0)];   // dW, db
      },
    };
  });
}

let instances = 0;

/** "encoder.0.weight#3" → "encoder.0.weight". */
function baseName(name: string): string {
  const i = name.lastIndexOf("#");
  return i < 0 ? name : name.slice(0, i);
}

export class TfVAE {
  readonly spec: TfVAESpec;
  readonly variant: GradVariant;
  readonly enc: DenseParams[] = [];
  readonly dec: DenseParams[] = [];
  readonly optimizer: tf.AdamOptimizer;
  private readonly varList: tf.Variable[];
  private readonly tfDense = new Map<Act, Dense>();

  /** Variables on the current backend, initialised from `weights`. */
  constructor(spec: TfVAESpec, weights: Record<string, Float32Array>, variant: GradVariant,
              adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }) {
    this.spec = spec;
    this.variant = variant;
    // tfjs variable names are global: make them unique per instance
    const id = ++instances;
    const encDims = [spec.inputDim, ...spec.encoder, 2 * spec.latentDim];
    const decDims = [spec.latentDim, ...spec.decoder, spec.inputDim];
    const mk = (prefix: string, dims: number[], out: DenseParams[]) => {
      for (let i = 0; i + 1 < dims.length; i++) {
        const name = `${prefix}.${i}`;
        const w = weights[`${name}.weight`], b = weights[`${name}.bias`];
        if (!w || w.length !== dims[i] * dims[i + 1]) throw new Error(`TfVAE: weights["${name}.weight"] should hold ${dims[i]}×${dims[i + 1]} floats`);
        if (!b || b.length !== dims[i + 1]) throw new Error(`TfVAE: weights["${name}.bias"] should hold ${dims[i + 1]} floats`);
        out.push({
          name,
          w: tf.variable(tf.tensor2d(w, [dims[i], dims[i + 1]]), true, `${name}.weight#${id}`),
          b: tf.variable(tf.tensor1d(b), true, `${name}.bias#${id}`),
          act: i + 2 === dims.length ? "linear" : "relu",
        });
      }
    };
    mk("encoder", encDims, this.enc);
    mk("decoder", decDims, this.dec);
    this.varList = [...this.enc, ...this.dec].flatMap((l) => [l.w, l.b]);
    this.optimizer = tf.train.adam(adam.lr, adam.beta1, adam.beta2, adam.eps);
    this.tfDense.set("relu", denseTransposeFree("relu"));
    this.tfDense.set("linear", denseTransposeFree("linear"));
  }

  private dense(x: tf.Tensor, l: DenseParams, first: boolean, infer: boolean): tf.Tensor {
    if (infer || this.variant === "stock-fused") {
      return tf.fused.matMul({ a: x as tf.Tensor2D, b: l.w as tf.Tensor2D, bias: l.b, activation: l.act });
    }
    if (this.variant === "stock") {
      const y = tf.add(tf.matMul(x, l.w), l.b);
      return l.act === "relu" ? tf.relu(y) : y;
    }
    if (first) return denseFirstTransposeFree(l.act, x as tf.Tensor2D)(l.w, l.b);
    return this.tfDense.get(l.act)!(x, l.w, l.b);
  }

  /** h (B, 2L) = [μ | logvar]. `infer`: no gradient will be taken, so every
   *  layer is one tf.fused.matMul (bias and ReLU fused), the fastest forward. */
  encoderForward(x: tf.Tensor2D, infer = false): tf.Tensor2D {
    let h: tf.Tensor = x;
    this.enc.forEach((l, i) => { h = this.dense(h, l, i === 0, infer); });
    return h as tf.Tensor2D;
  }

  /** Decoder logits (B, D). */
  decoderForward(z: tf.Tensor2D, infer = false): tf.Tensor2D {
    let h: tf.Tensor = z;
    for (const l of this.dec) h = this.dense(h, l, false, infer);
    return h as tf.Tensor2D;
  }

  /** −ELBO batch mean with the given ε (B, L): Bernoulli NLL on logits summed
   *  over pixels, max(l,0) − l·x + log1p(e^−|l|), plus the closed-form KL. */
  loss(x: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar {
    const B = x.shape[0], L = this.spec.latentDim;
    const h = this.encoderForward(x);
    const mu = tf.slice(h, [0, 0], [B, L]);
    const logvar = tf.slice(h, [0, L], [B, L]);
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps)) as tf.Tensor2D;
    const logits = this.decoderForward(z);
    const nll = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.exp(logvar), tf.square(mu)), 1), logvar)), 0.5);
    return tf.div(tf.add(nll, kl), B) as tf.Scalar;
  }

  /** One training step (new ε ~ N(0, I), forward, backward, Adam) on a batch
   *  given as a Float32Array (B × D), like VAE.trainStep; returns the loss. */
  trainStep(batch: Float32Array, eps?: Float32Array): number {
    const D = this.spec.inputDim, L = this.spec.latentDim, B = batch.length / D;
    return tf.tidy(() => {
      const x = tf.tensor2d(batch, [B, D]);
      const e = eps ? tf.tensor2d(eps, [B, L]) : tf.randomNormal([B, L]) as tf.Tensor2D;
      const cost = this.optimizer.minimize(() => this.loss(x, e), true, this.varList)!;
      return cost.dataSync()[0];
    });
  }

  /** Loss and gradients for a fixed ε, without updating (the correctness gate). */
  computeGradients(batch: Float32Array, eps: Float32Array): { loss: number; gradients: Record<string, Float32Array> } {
    const D = this.spec.inputDim, L = this.spec.latentDim, B = batch.length / D;
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor2d(batch, [B, D]);
      const e = tf.tensor2d(eps, [B, L]);
      return tf.variableGrads(() => this.loss(x, e), this.varList);
    });
    const gradients: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) gradients[baseName(name)] = g.dataSync() as Float32Array;
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, gradients };
  }

  /** encode: Float32Array rows → {mean, logvar} Float32Arrays (like VAE.encode). */
  encode(x: Float32Array): { mean: Float32Array; logvar: Float32Array } {
    const D = this.spec.inputDim, L = this.spec.latentDim, B = x.length / D;
    const [mu, logvar] = tf.tidy(() => {
      const h = this.encoderForward(tf.tensor2d(x, [B, D]), true);
      return [tf.slice(h, [0, 0], [B, L]), tf.slice(h, [0, L], [B, L])];
    });
    const out = { mean: mu.dataSync() as Float32Array, logvar: logvar.dataSync() as Float32Array };
    tf.dispose([mu, logvar]);
    return out;
  }

  /** decode: z rows → Bernoulli probabilities (like VAE.decode). */
  decode(z: Float32Array): Float32Array {
    const L = this.spec.latentDim, B = z.length / L;
    const p = tf.tidy(() => tf.sigmoid(this.decoderForward(tf.tensor2d(z, [B, L]), true)));
    const out = p.dataSync() as Float32Array;
    p.dispose();
    return out;
  }

  /** reconstruct: rows → Bernoulli probabilities of decode(encoder mean), in
   *  one tidy with one read-back (like VAE.reconstruct). */
  reconstruct(x: Float32Array): Float32Array {
    const D = this.spec.inputDim, L = this.spec.latentDim, B = x.length / D;
    const p = tf.tidy(() => {
      const h = this.encoderForward(tf.tensor2d(x, [B, D]), true);
      return tf.sigmoid(this.decoderForward(tf.slice(h, [0, 0], [B, L]) as tf.Tensor2D, true));
    });
    const out = p.dataSync() as Float32Array;
    p.dispose();
    return out;
  }

  /** sample: n draws z ~ N(0, I), decoded (like VAE.sample). */
  sample(n: number): Float32Array {
    const p = tf.tidy(() => tf.sigmoid(this.decoderForward(tf.randomNormal([n, this.spec.latentDim]), true)));
    const out = p.dataSync() as Float32Array;
    p.dispose();
    return out;
  }

  /** Copies of the parameters, by the names of VAE.getWeights(). */
  getWeights(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const v of this.varList) out[baseName(v.name)] = v.dataSync() as Float32Array;
    return out;
  }

  /** One Adam update from gradients named as in VAE.getWeights() (tensors on
   *  the current backend, or arrays). */
  applyGradients(grads: Record<string, tf.Tensor | Float32Array>): void {
    tf.tidy(() => {
      const named = this.varList.map((v) => {
        const g = grads[baseName(v.name)];
        if (!g) throw new Error(`TfVAE.applyGradients: no gradient for ${baseName(v.name)}`);
        return { name: v.name, tensor: g instanceof Float32Array ? tf.tensor(g, v.shape) : g };
      });
      this.optimizer.applyGradients(named);
    });
  }

  dispose(): void {
    for (const v of this.varList) v.dispose();
    this.optimizer.dispose();
  }
}
