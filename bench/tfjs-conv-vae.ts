// A VAE of any layer list written in TensorFlow.js (tfjs-core 4.22) the way a
// tfjs user writes one: tf.conv2d / tf.conv2dTranspose / tf.fused.matMul with
// tfjs-core's own gradients (tf.variableGrads), tf.train.adam, everything in
// tf.tidy. It is the peer of wasm-vae's layered VAE in bench/train.ts
// (--arch keras-conv) and bench/run.ts: the same loss (Bernoulli NLL on
// logits summed over pixels + closed-form KL, batch mean).
//
// Layouts are tfjs's, NHWC activations:
//   dense            weight (in, out), bias (out)
//   conv2d           filter (kh, kw, Cin, Cout), bias (Cout)
//   conv2d_transpose filter (kh, kw, Cout, Cin), bias (Cout)
// Padding "same" / "valid" as tfjs (and Keras); conv2d_transpose "same"
// gives out = in·stride, "valid" gives out = (in − 1)·stride + k.
// tfjs-backend-wasm has no Conv2DBackpropFilter, so only tfjs-cpu trains this.
import * as tf from "@tensorflow/tfjs-core";

export type TfAct = "relu" | "linear";

export type TfLayer =
  | { type: "dense"; name: string; units: number; act: TfAct }
  | { type: "conv2d"; name: string; filters: number; kernel: number; stride: number; padding: "same" | "valid"; act: TfAct }
  | { type: "conv2d_transpose"; name: string; filters: number; kernel: number; stride: number; padding: "same" | "valid"; act: TfAct }
  | { type: "flatten" }
  | { type: "reshape"; shape: number[] };

export interface TfLayerVAESpec {
  /** Input shape without the batch: [H, W, C] or [D]. */
  inputShape: number[];
  latentDim: number;
  /** Encoder layers; the last must output 2·latentDim values ([μ | logvar]). */
  encoder: TfLayer[];
  /** Decoder layers; the last outputs the logits, of the input's shape. */
  decoder: TfLayer[];
}

/** The Keras VAE example (keras.io/examples/generative/vae), logits out. */
export function kerasConvSpec(latentDim: number): TfLayerVAESpec {
  return {
    inputShape: [28, 28, 1],
    latentDim,
    encoder: [
      { type: "conv2d", name: "encoder.0", filters: 32, kernel: 3, stride: 2, padding: "same", act: "relu" },
      { type: "conv2d", name: "encoder.1", filters: 64, kernel: 3, stride: 2, padding: "same", act: "relu" },
      { type: "flatten" },
      { type: "dense", name: "encoder.3", units: 16, act: "relu" },
      { type: "dense", name: "encoder.4", units: 2 * latentDim, act: "linear" },
    ],
    decoder: [
      { type: "dense", name: "decoder.0", units: 7 * 7 * 64, act: "relu" },
      { type: "reshape", shape: [7, 7, 64] },
      { type: "conv2d_transpose", name: "decoder.2", filters: 64, kernel: 3, stride: 2, padding: "same", act: "relu" },
      { type: "conv2d_transpose", name: "decoder.3", filters: 32, kernel: 3, stride: 2, padding: "same", act: "relu" },
      { type: "conv2d_transpose", name: "decoder.4", filters: 1, kernel: 3, stride: 1, padding: "same", act: "linear" },
    ],
  };
}

interface Bound { layer: TfLayer; w?: tf.Variable; b?: tf.Variable; inShape: number[]; outShape: number[] }

let instances = 0;
const baseName = (n: string) => (n.includes("#") ? n.slice(0, n.lastIndexOf("#")) : n);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Output shape of a layer (no batch). */
function outShapeOf(l: TfLayer, s: number[]): number[] {
  switch (l.type) {
    case "dense": return [l.units];
    case "flatten": return [size(s)];
    case "reshape": return l.shape;
    case "conv2d": {
      const o = (n: number) => (l.padding === "same" ? Math.ceil(n / l.stride) : Math.floor((n - l.kernel) / l.stride) + 1);
      return [o(s[0]), o(s[1]), l.filters];
    }
    case "conv2d_transpose": {
      const o = (n: number) => (l.padding === "same" ? n * l.stride : (n - 1) * l.stride + l.kernel);
      return [o(s[0]), o(s[1]), l.filters];
    }
  }
}

/** Parameter shapes in tfjs layout. */
function paramShapes(l: TfLayer, s: number[]): { w: number[]; b: number[] } | null {
  switch (l.type) {
    case "dense": return { w: [size(s), l.units], b: [l.units] };
    case "conv2d": return { w: [l.kernel, l.kernel, s[2], l.filters], b: [l.filters] };
    case "conv2d_transpose": return { w: [l.kernel, l.kernel, l.filters, s[2]], b: [l.filters] };
    default: return null;
  }
}

export class TfLayerVAE {
  readonly optimizer: tf.AdamOptimizer;
  private readonly enc: Bound[];
  private readonly dec: Bound[];
  private readonly varList: tf.Variable[] = [];

  /** Variables on the current backend from `weights` (tfjs layouts, named
   *  "<layer name>.weight" / ".bias"). */
  constructor(readonly spec: TfLayerVAESpec, weights: Record<string, Float32Array>,
              adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }) {
    const id = ++instances;
    const bind = (layers: TfLayer[], shape: number[]): Bound[] => layers.map((layer) => {
      const inShape = shape;
      shape = outShapeOf(layer, shape);
      const ps = paramShapes(layer, inShape);
      const bound: Bound = { layer, inShape, outShape: shape };
      if (ps && "name" in layer) {
        for (const [k, sh] of [["weight", ps.w], ["bias", ps.b]] as const) {
          const v = weights[`${layer.name}.${k}`];
          if (!v || v.length !== size(sh)) throw new Error(`TfLayerVAE: weights["${layer.name}.${k}"] should hold ${size(sh)} floats (${sh.join("×")})`);
          const variable = tf.variable(tf.tensor(v, sh), true, `${layer.name}.${k}#${id}`);
          if (k === "weight") bound.w = variable; else bound.b = variable;
          this.varList.push(variable);
        }
      }
      return bound;
    });
    this.enc = bind(spec.encoder, spec.inputShape);
    this.dec = bind(spec.decoder, [spec.latentDim]);
    this.optimizer = tf.train.adam(adam.lr, adam.beta1, adam.beta2, adam.eps);
  }

  private run(layers: Bound[], x: tf.Tensor): tf.Tensor {
    let h = x;
    for (const { layer: l, w, b, outShape } of layers) {
      const B = h.shape[0];
      switch (l.type) {
        case "flatten": h = tf.reshape(h, [B, -1]); break;
        case "reshape": h = tf.reshape(h, [B, ...l.shape]); break;
        case "dense": h = tf.fused.matMul({ a: h as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: l.act }); break;
        case "conv2d":
          h = tf.fused.conv2d({ x: h as tf.Tensor4D, filter: w as tf.Tensor4D, strides: l.stride, pad: l.padding, bias: b, activation: l.act });
          break;
        case "conv2d_transpose": {
          const y = tf.add(tf.conv2dTranspose(h as tf.Tensor4D, w as tf.Tensor4D, [B, ...outShape] as [number, number, number, number], l.stride, l.padding), b!);
          h = l.act === "relu" ? tf.relu(y) : y;
          break;
        }
      }
    }
    return h;
  }

  /** −ELBO batch mean with the given ε (B, L). */
  loss(x: tf.Tensor, eps: tf.Tensor2D): tf.Scalar {
    const B = x.shape[0], L = this.spec.latentDim;
    const h = tf.reshape(this.run(this.enc, tf.reshape(x, [B, ...this.spec.inputShape])), [B, 2 * L]);
    const mu = tf.slice(h, [0, 0], [B, L]);
    const logvar = tf.slice(h, [0, L], [B, L]);
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps));
    const logits = tf.reshape(this.run(this.dec, z), [B, -1]);
    const xf = tf.reshape(x, [B, -1]);
    const nll = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, xf)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.exp(logvar), tf.square(mu)), 1), logvar)), 0.5);
    return tf.div(tf.add(nll, kl), B) as tf.Scalar;
  }

  /** One training step (forward, backward, Adam) on B × size(inputShape) rows. */
  trainStep(batch: Float32Array, eps?: Float32Array): number {
    const D = size(this.spec.inputShape), L = this.spec.latentDim, B = batch.length / D;
    return tf.tidy(() => {
      const x = tf.tensor2d(batch, [B, D]);
      const e = eps ? tf.tensor2d(eps, [B, L]) : tf.randomNormal([B, L]) as tf.Tensor2D;
      return this.optimizer.minimize(() => this.loss(x, e), true, this.varList)!.dataSync()[0];
    });
  }

  /** Loss and gradients (tfjs layouts) for a fixed ε, without updating. */
  computeGradients(batch: Float32Array, eps: Float32Array): { loss: number; gradients: Record<string, Float32Array> } {
    const D = size(this.spec.inputShape), L = this.spec.latentDim, B = batch.length / D;
    const { value, grads } = tf.tidy(() => tf.variableGrads(() => this.loss(tf.tensor2d(batch, [B, D]), tf.tensor2d(eps, [B, L])), this.varList));
    const gradients: Record<string, Float32Array> = {};
    for (const [name, g] of Object.entries(grads)) gradients[baseName(name)] = g.dataSync() as Float32Array;
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, gradients };
  }

  dispose(): void {
    for (const v of this.varList) v.dispose();
    this.optimizer.dispose();
  }
}
