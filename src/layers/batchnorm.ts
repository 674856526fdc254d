// batch_norm (Keras BatchNormalization, PyTorch BatchNorm1d/2d): per feature
// of flat rows (D), per channel of NHWC images (H, W, C); the N = B (or
// B·H·W) values of a channel are normalized together.
//   training (trainStep, fit, computeGradients): batch statistics,
//     y = γ·(x − μ_B)/√(σ²_B + ε) + β, σ²_B biased; after a step succeeded
//     (commit) the running statistics move with the momentum m, the variance
//     unbiased as PyTorch does: μ_run ← m·μ_run + (1 − m)·μ_B,
//     σ²_run ← m·σ²_run + (1 − m)·σ²_B·N/(N − 1). computeGradients and a step
//     that throws leave them as they were.
//   inference (encode, decode, sample, ELBO, IWAE, impute): y with μ_run, σ²_run.
// Parameters: weight γ (init 1) and bias β (init 0), (C) each, Adam-trained.
// Buffers (non-trainable, saved with the model): running_mean (init 0),
// running_var (init 1); kept from a training forward for its backward and
// commit: the batch's mean, variance and 1/√(σ² + ε).
// Kernels: assembly/batchnorm.ts, split by channels.
import { ArgumentError, checkFinite, fail } from "../base/validate.js";
import { outChannels, torchOrder, type LayerInterop, type ParamMap } from "./interop-kit.js";
import { size, type Layer, type LayerKind, type LayerSpec } from "./kind.js";

const KNOWN = ["momentum", "epsilon"];

/** Rows a training forward normalized over (N), for its commit. */
interface Derived { rows: number }

const channels = (l: Pick<LayerSpec, "inShape">) => l.inShape[l.inShape.length - 1];
// indices of buffers()
const B_ = { runMean: 0, runVar: 1, mean: 2, vari: 3, invstd: 4 } as const;

/** "encoder.2" → "config.encoder[2]" (the layer's entry, for errors). */
const entryOf = (name: string) => {
  const m = /^(encoder|decoder)\.(\d+)$/.exec(name);
  return m ? `config.${m[1]}[${m[2]}]` : name;
};

// batch_norm: per feature of flat rows, per channel of images; γ ("weight"), β
// ("bias") and the running statistics, (C) vectors in every format. PyTorch
// BatchNorm1d / BatchNorm2d (eval): momentum = 1 − ours, eps = ours; the
// buffers running_mean, running_var (and num_batches_tracked, written 0: the
// step count per layer is not kept; PyTorch reads it only when momentum is
// None). After a flatten of an image the features are in PyTorch's (C, H, W)
// order (torchOrder), as a dense layer's bias. Keras BatchNormalization (axis
// −1, NHWC as ours): gamma, beta, moving_mean, moving_variance. ONNX
// BatchNormalization (opset 9–13 form: X, scale, B, mean, var; epsilon) on the
// PyTorch layout, channels on axis 1 (NCHW images or (N, C) rows). Inference
// is y = γ·(x − mean)/√(var + ε) + β in all three, as ours.
const BN_TENSORS = ["weight", "bias", "running_mean", "running_var"] as const;
const BN_KERAS = ["gamma", "beta", "moving_mean", "moving_variance"] as const;
const batchNormInterop: LayerInterop = {
  params: (l) => {
    const C = outChannels(l), op = torchOrder(l.torchIn, C);
    const vec = (suffix: string): ParamMap => ({
      suffix, shape: [C], torchShape: [C],
      toTorch: (a) => op ? Float32Array.from(op, (j) => a[j]) : a.slice(),
      fromTorch: (t) => { if (!op) return t.slice(); const a = new Float32Array(t.length); op.forEach((j, o) => { a[j] = t[o]; }); return a; },
    });
    const count: ParamMap = { suffix: "num_batches_tracked", shape: [], torchShape: [], toTorch: () => new Float32Array(0), fromTorch: () => new Float32Array(0), int64: true };
    return [...BN_TENSORS.map(vec), count];
  },
  torch: (l) => ({ momentum: 1 - (l.settings.momentum as number), eps: l.settings.epsilon }),
  torchOut: (_l, t) => t,
  keras: {
    perChannel: true,
    layers: (l, name) => [{ className: "BatchNormalization", name, config: {
      axis: -1, momentum: l.settings.momentum, epsilon: l.settings.epsilon, center: true, scale: true,
      beta_initializer: { class_name: "Zeros", config: {} }, gamma_initializer: { class_name: "Ones", config: {} },
      moving_mean_initializer: { class_name: "Zeros", config: {} }, moving_variance_initializer: { class_name: "Ones", config: {} },
      beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
    } }],
    shapes: (_l, from, to) => BN_KERAS.map((suffix) => ({ suffix, shape: [to - from] })),
    weights: (l, ours, from, to) => BN_KERAS.map((suffix, i) => ({ suffix, shape: [to - from], data: ours[`${l.name}.${BN_TENSORS[i]}`].slice(from, to) })),
    read: (l, parts) => {
      const C = outChannels(l), out = Object.fromEntries(BN_TENSORS.map((t) => [`${l.name}.${t}`, new Float32Array(C)]));
      for (const { from, weights } of parts) weights.forEach((w, i) => out[`${l.name}.${BN_TENSORS[i]}`].set(w.data, from));
      return out;
    },
  },
  onnx: (l, input) => ({
    nodes: [{ opType: "BatchNormalization", name: `${l.name}/BatchNormalization`, inputs: [input, ...BN_TENSORS.map((t) => `${l.name}.${t}`)],
      outputs: [`${l.name}/out`], attributes: { epsilon: l.settings.epsilon as number, momentum: 1 - (l.settings.momentum as number) }, floats: ["epsilon", "momentum"] }],
    consts: [], output: `${l.name}/out`,
  }),
};

export const batchNorm: LayerKind<BatchNormLayerConfig> = {
  activates: false,
  alias: false,
  batchStatistics: true,
  settings(e, at) {
    for (const k of Object.keys(e)) if (!KNOWN.includes(k)) fail(`${at}.${k}`, "no such setting of a batch_norm layer (known: type, momentum, epsilon)");
    const momentum = e.momentum === undefined ? 0.99 : checkFinite(`${at}.momentum`, e.momentum, { min: 0, max: 1, why: "the running statistics' decay per step (Keras' momentum; PyTorch's is 1 − it)" });
    const epsilon = e.epsilon === undefined ? 1e-3 : checkFinite(`${at}.epsilon`, e.epsilon, { min: 0, minExclusive: true, max: 1, why: "added to the variance before its square root" });
    return { momentum, epsilon };
  },
  outputShape: (inShape) => [...inShape],
  derive: (): Derived => ({ rows: 0 }),
  params: (l) => {
    const C = channels(l);
    return [
      { name: `${l.name}.weight`, shape: [C], init: { constant: 1 } },
      { name: `${l.name}.bias`, shape: [C], init: { constant: 0 } },
    ];
  },
  buffers: (l) => {
    const C = channels(l);
    return [
      { name: `${l.name}.running_mean`, shape: [C], init: 0, saved: true },
      { name: `${l.name}.running_var`, shape: [C], init: 1, saved: true, min: 0 },
      { name: `${l.name}.batch_mean`, shape: [C], init: 0, saved: false },
      { name: `${l.name}.batch_var`, shape: [C], init: 0, saved: false },
      { name: `${l.name}.batch_invstd`, shape: [C], init: 0, saved: false },
    ];
  },
  // f64 sums: C for the statistics, 2·C for the backward
  scratchBytes: (l) => 16 * channels(l),
  forward(c, l, B) {
    const C = channels(l), N = (B * size(l.inShape)) / C, eps = l.settings.epsilon as number;
    const b = l.b;
    if (!c.train) {
      // the running statistics: 1/√(σ²_run + ε) into the invstd slot
      c.k.batchnorm_invstd(b[B_.invstd], b[B_.runVar], C, eps);
      c.k.batchnorm_forward(l.y, l.x, l.p[0], l.p[1], b[B_.runMean], b[B_.invstd], N, C);
      return;
    }
    if (N < 2) {
      throw new ArgumentError(`batch: expected at least 2 rows to train a model with a batch_norm layer (${entryOf(l.name)} normalizes each ${l.inShape.length === 1 ? "feature" : "channel"} over the batch's ${l.inShape.length === 1 ? "rows" : "pixels"}), got ${N} value per channel (fit: a batchSize that leaves no 1-row last batch)`);
    }
    c.k.batchnorm_stats(b[B_.mean], b[B_.vari], b[B_.invstd], c.scratch, l.x, N, C, eps);
    c.k.batchnorm_forward(l.y, l.x, l.p[0], l.p[1], b[B_.mean], b[B_.invstd], N, C);
    (l.derived as Derived).rows = N;
  },
  // dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂))
  backward(c, l, B) {
    const C = channels(l), N = (B * size(l.inShape)) / C, b = l.b;
    c.k.batchnorm_backward(l.dx, l.g[0], l.g[1], c.scratch, l.dy, l.x, l.p[0], b[B_.mean], b[B_.invstd], N, C);
  },
  commit(c, l: Layer) {
    const N = (l.derived as Derived).rows;
    if (N < 2) return;
    c.k.batchnorm_update(l.b[B_.runMean], l.b[B_.runVar], l.b[B_.mean], l.b[B_.vari], channels(l), l.settings.momentum as number, N);
    (l.derived as Derived).rows = 0;
  },
  interop: batchNormInterop,
};

/** { type: "batch_norm", momentum?, epsilon? }: batch normalization per
 *  feature (flat rows) or per channel (images). */
export interface BatchNormLayerConfig {
  /** Batch normalization (Keras BatchNormalization, PyTorch BatchNorm1d/2d): any shape → the same shape. */
  type: "batch_norm";
  /** Keras' momentum in [0, 1] (default 0.99): running = momentum·running +
   *  (1 − momentum)·batch. PyTorch's momentum is 1 − this. */
  momentum?: number;
  /** ε > 0 added to the variance (default 1e-3, Keras'; PyTorch's eps). */
  epsilon?: number;
}
