// The model as the interchange formats see it: two networks, each an ordered
// list of layers, plus the table of layer kinds (KINDS) and of activations
// (ACTS) that every format walks. safetensors.ts, tfjs-layers.ts and onnx.ts
// never test a layer's kind themselves: they ask its KINDS entry for the
// tensor names and layouts (PyTorch, Keras), the Keras layers and the ONNX
// nodes. A new layer kind is a new KINDS entry.
//
//   network    inputs       layers                                        heads (of the final output)
//   encoder    x (D) [, c]  [encoder.image] encoder.0 … [condition] … n   z_mean [0, L), z_logvar [L, 2L)
//   decoder    z (L) [, c]  decoder.0 … decoder.m                         x_mean [, x_log_sigma]: columns of a
//                                                                          flat output, channels of an image
//
// x is always flat rows (rows, H·W·C) in NHWC order: an image encoder starts
// with a reshape "encoder.image". The condition joins at the input (flat
// data, first layer dense) or at a `condition` layer before the first dense
// layer. Hidden layers apply their own activation; the output layers (the
// encoder's last, the decoder's by the output-layer rule: Network.output) are linear and a head
// applies the output activation (sigmoid for Bernoulli means). Every output
// is flat rows in our NHWC order.
//
// PyTorch (safetensors, and the ONNX graph, which computes as the README's
// nn.Module) holds images as NCHW; a flatten of an image gives (C, H, W)
// order, so a dense layer after it has its weight's input columns permuted,
// and a dense layer before a reshape to an image its output rows: PyTorch
// code then uses plain torch.flatten(h, 1) and h.view(-1, C, H, W) (TorchLayout).
// Not here: the bytes of any format (one file per format), the model itself.
import { architectureKey, architectureOf as layerListsOf, describeArchitecture } from "../model/architecture.js";
import { resolveConfig, type ResolvedConfig, type VAEConfig } from "../model/config.js";
import type { ConvGeometry } from "../kernels/conv-shape.js";
import type { LayerSpec } from "../layers/index.js";
import type { Activation } from "../kernels/wasm.js";
import { ModelFormatError } from "../persistence/io.js";
import { ArgumentError } from "../base/validate.js";
import { size } from "../base/shape.js";

/** A file in an interchange format is malformed or does not fit the model;
 *  the message names the file and the tensor or field. */
export class InteropFormatError extends ModelFormatError {
  /** "InteropFormatError". */
  override name = "InteropFormatError";
}

/** A file name (or path inside a folder of files) → its bytes. */
export type ModelFiles = Record<string, Uint8Array>;

/** A model as read from interchange files: its config and its parameters,
 *  with wasm-vae's names and layouts (those of VAE.getWeights). */
export interface ModelContents {
  /** The configuration, every default filled in. */
  config: ResolvedConfig;
  /** Parameter name → values, e.g. "encoder.0.weight" (in, out) row-major. */
  weights: Record<string, Float32Array>;
}

/** How PyTorch holds an activation (and the ONNX graph, which computes as the
 *  README's nn.Module does): images as NCHW; flat rows in our order, or, after
 *  a flatten of an (H, W, C) image, with its H·W·C values in (C, H, W) order
 *  (torch.flatten of NCHW) and any further values (a condition) after them. */
export type TorchLayout = { image: true } | { image: false; chw: [number, number, number] | null };
const FLAT: TorchLayout = { image: false, chw: null };
const IMAGE: TorchLayout = { image: true };

/** The layer kinds of src/layers, plus the internal `condition`. */
export type KindName = "dense" | "flatten" | "reshape" | "conv2d" | "conv2d_transpose" | "condition" | "activation" | "dropout";

export interface NetLayer {
  kind: KindName;
  /** Our name and PyTorch module name: "encoder.0", "decoder.2", … */
  name: string;
  /** Per row: (D) flat or NHWC (H, W, C). */
  inShape: number[];
  outShape: number[];
  /** Applied to the layer's output ("identity" for the output layers and the kinds without one). */
  activation: Activation;
  alpha: number;
  /** The layer's settings as resolved from the config (conv padding, …). */
  settings: Record<string, unknown>;
  /** conv2d / conv2d_transpose: the geometry (TensorFlow's pads). */
  geometry?: ConvGeometry;
  /** PyTorch's layout of the input and of the output. */
  torchIn: TorchLayout;
  torchOut: TorchLayout;
}

export interface Head {
  /** Output name (ONNX graph output, Keras output layer). */
  name: string;
  /** Range [from, to) of the last axis of the network's final output:
   *  columns of a flat output, channels of an image output. */
  from: number;
  to: number;
  activation: "identity" | "sigmoid";
  /** Values per row of this output (always flat rows in our NHWC order). */
  size: number;
}

export interface Network {
  part: "encoder" | "decoder";
  inputs: { name: string; dim: number }[];
  /** The inputs are concatenated before the first layer (else the
   *  condition joins later, at a `condition` layer). */
  concatInputs: boolean;
  layers: NetLayer[];
  /** Index in `layers` of the output layer (linear; the heads split it):
   *  the encoder's last, the decoder's by the output-layer rule (only
   *  flatten / reshape may follow it). */
  output: number;
  heads: Head[];
}

/** The two networks of a model, layer by layer. The encoder of an image
 *  model starts with a reshape "encoder.image" of the flat rows (x is always
 *  (rows, H·W·C)); the heads split the final output. */
export function networksOf(c: ResolvedConfig): { encoder: Network; decoder: Network } {
  // issue 18: the formats' encoder outputs are [z_mean, z_logvar]; a categorical head (logits) is not covered yet
  if (c.latent.type !== "gaussian") throw new ArgumentError(`model: expected a model with a Gaussian latent (the interchange formats write the encoder's outputs as z_mean and z_logvar; a ${c.latent.type} latent's head is not covered), got a ${c.latent.type} latent`);
  const a = layerListsOf(c);
  const cond = c.conditionDim > 0 ? [{ name: "c", dim: c.conditionDim }] : [];
  const L = c.latentDim, D = c.inputDim;
  const mk = (specs: LayerSpec[], first: NetLayer[]): NetLayer[] => {
    const layers: NetLayer[] = [...first, ...specs.map((l): NetLayer => ({
      kind: l.kind as KindName, name: l.name, inShape: [...l.inShape], outShape: [...l.outShape], activation: l.activation,
      alpha: c.activationAlpha, settings: l.settings, geometry: l.kind.startsWith("conv") ? l.derived as ConvGeometry : undefined,
      torchIn: FLAT, torchOut: FLAT,
    }))];
    let t = FLAT;
    layers.forEach((l, i) => {
      if (!KINDS[l.kind]) throw new ArgumentError(`model: layer ${l.name} is a ${l.kind}, which the interchange formats do not cover`);
      l.torchIn = t;
      t = l.torchOut = KINDS[l.kind].torchOut(l, t, layers[i + 1]);
    });
    return layers;
  };
  const image: NetLayer[] = c.inputShape.length === 1 ? [] : [{
    kind: "reshape", name: "encoder.image", inShape: [D], outShape: [...c.inputShape], activation: "identity",
    alpha: c.activationAlpha, settings: { shape: [...c.inputShape] }, torchIn: FLAT, torchOut: FLAT,
  }];
  const out = a.outputShape;
  const decHeads: Head[] = out.length === 3
    ? (a.channelSplit
      ? [{ name: "x_mean", from: 0, to: out[2] / 2, activation: "identity", size: D }, { name: "x_log_sigma", from: out[2] / 2, to: out[2], activation: "identity", size: D }]
      : [{ name: "x_mean", from: 0, to: out[2], activation: c.likelihood === "bernoulli" ? "sigmoid" : "identity", size: D }])
    : c.likelihood === "gaussian_learned"
      ? [{ name: "x_mean", from: 0, to: D, activation: "identity", size: D }, { name: "x_log_sigma", from: D, to: 2 * D, activation: "identity", size: D }]
      : [{ name: "x_mean", from: 0, to: D, activation: c.likelihood === "bernoulli" ? "sigmoid" : "identity", size: D }];
  return {
    encoder: {
      part: "encoder", inputs: [{ name: "x", dim: D }, ...cond], concatInputs: cond.length > 0 && a.conditionAtInput, layers: mk(a.encoder, image),
      output: image.length + a.encoder.length - 1,
      heads: [{ name: "z_mean", from: 0, to: L, activation: "identity", size: L }, { name: "z_logvar", from: L, to: 2 * L, activation: "identity", size: L }],
    },
    decoder: { part: "decoder", inputs: [{ name: "z", dim: L }, ...cond], concatInputs: cond.length > 0, layers: mk(a.decoder, []), output: a.outputLayer, heads: decHeads },
  };
}

// ------------------------------------------------------------ layer kinds

/** One parameter of a layer in our layout and in PyTorch's. */
export interface ParamMap {
  /** Suffix of our name and of the PyTorch state_dict key: `${layer}.${suffix}`. */
  suffix: string;
  shape: number[];
  torchShape: number[];
  toTorch(a: Float32Array): Float32Array;
  fromTorch(a: Float32Array): Float32Array;
}

/** A Keras weight of one Keras layer: `${kerasLayer}/${suffix}`. */
export interface KerasWeight {
  suffix: string;
  shape: number[];
  data: Float32Array;
}

/** A Keras layer before it is wired: its input is the previous layer's
 *  output, plus `also` (other model inputs, for Concatenate). */
export interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  also?: string[];
}

/** An ONNX node before encoding (attributes: ints, floats or int lists). */
export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[]>;
  /** Which attributes are floats (the rest are ints). */
  floats?: string[];
}

/** An int64 constant initializer (Reshape shapes, Split sizes). */
export interface OnnxConst {
  name: string;
  dims: number[];
  int64: number[];
}

/** ONNX nodes of one layer and the name of the tensor they leave. */
export interface OnnxPart {
  nodes: OnnxNode[];
  consts: OnnxConst[];
  output: string;
}

export interface LayerKind {
  params(l: NetLayer): ParamMap[];
  /** What the README's nn.Module needs beyond kind, shapes and activation
   *  (conv: kernel, stride, pads [top, bottom, left, right] for F.pad or the
   *  crop, ConvTranspose2d's output_padding). */
  torch(l: NetLayer): Record<string, unknown>;
  /** PyTorch's layout of the output, from the input's (and the next layer). */
  torchOut(l: NetLayer, input: TorchLayout, next: NetLayer | undefined): TorchLayout;
  keras: {
    /** The Keras layers for output channels [from, to) (the last axis); the
     *  one named `name` holds the weights and gets the activation. */
    layers(l: NetLayer, name: string, from: number, to: number): KerasLayer[];
    /** Names (suffixes) and shapes of the Keras weights for output channels [from, to). */
    shapes(l: NetLayer, from: number, to: number): { suffix: string; shape: number[] }[];
    /** Keras weights for output channels [from, to), from our parameters (in `shapes` order). */
    weights(l: NetLayer, ours: Record<string, Float32Array>, from: number, to: number): KerasWeight[];
    /** Our parameters from the Keras weights of channel ranges that cover the output. */
    read(l: NetLayer, parts: { from: number; to: number; weights: KerasWeight[] }[]): Record<string, Float32Array>;
  };
  /** Nodes computing the layer from `input` (PyTorch layout torchIn) in
   *  PyTorch's layout torchOut; initializers are the PyTorch-named parameters. */
  onnx(l: NetLayer, input: string): OnnxPart;
}

/** (R, C) row-major → (C, R). */
export function transpose2d(a: Float32Array, R: number, C: number): Float32Array {
  return permuteAxes(a, [R, C], [1, 0]);
}

/** out = a with its axes permuted: out's axis i is a's axis axes[i]. */
export function permuteAxes(a: Float32Array, shape: readonly number[], axes: readonly number[]): Float32Array {
  const n = shape.length, outShape = axes.map((x) => shape[x]);
  const stride = new Array<number>(n);
  for (let i = n - 1, s = 1; i >= 0; i--) { stride[i] = s; s *= shape[i]; }
  const st = axes.map((x) => stride[x]);
  const out = new Float32Array(a.length), idx = new Array<number>(n).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < n; i++) src += idx[i] * st[i];
    out[o] = a[src];
    for (let i = n - 1; i >= 0; i--) { if (++idx[i] < outShape[i]) break; idx[i] = 0; }
  }
  return out;
}

/** Indices [from, to) of `axis` of a row-major tensor. */
function sliceAxis(a: Float32Array, shape: readonly number[], axis: number, from: number, to: number): Float32Array {
  const outer = size(shape.slice(0, axis)), n = shape[axis], inner = size(shape.slice(axis + 1)), w = (to - from) * inner;
  const out = new Float32Array(outer * w);
  for (let o = 0; o < outer; o++) out.set(a.subarray((o * n + from) * inner, (o * n + to) * inner), o * w);
  return out;
}

/** Writes `part` (sliceAxis's output) back at indices [from, to) of `axis`. */
function setAxis(dst: Float32Array, shape: readonly number[], axis: number, from: number, to: number, part: Float32Array): void {
  const outer = size(shape.slice(0, axis)), n = shape[axis], inner = size(shape.slice(axis + 1)), w = (to - from) * inner;
  for (let o = 0; o < outer; o++) dst.set(part.subarray(o * w, (o + 1) * w), (o * n + from) * inner);
}

/** The flat order of PyTorch for a layout of `n` values: perm[t] is our index
 *  of PyTorch's value t (the identity unless the layout is a flattened CHW). */
function torchOrder(t: TorchLayout, n: number): Int32Array | null {
  if (t.image || !t.chw) return null;
  const [H, W, C] = t.chw, perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) perm[(c * H + h) * W + w] = (h * W + w) * C + c;
  return perm;
}

const GLOROT = { class_name: "GlorotUniform", config: { seed: null } };
const KERAS_PARAM_CONFIG = {
  use_bias: true, kernel_initializer: GLOROT, bias_initializer: { class_name: "Zeros", config: {} },
  kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
};

/** A kind with a kernel and a bias whose Keras kernel is our weight itself
 *  (Dense (in, out), Conv2D (kh, kw, in, out), Conv2DTranspose (kh, kw, out, in));
 *  `axis` is the kernel's output-channel axis. */
function kerasParams(axis: (l: NetLayer) => number, layers: LayerKind["keras"]["layers"]): LayerKind["keras"] {
  const kshape = (l: NetLayer, from: number, to: number) => { const s = ourWeightShape(l); s[axis(l)] = to - from; return s; };
  return {
    layers,
    shapes: (l, from, to) => [{ suffix: "kernel", shape: kshape(l, from, to) }, { suffix: "bias", shape: [to - from] }],
    weights: (l, ours, from, to) => [
      { suffix: "kernel", shape: kshape(l, from, to), data: sliceAxis(ours[`${l.name}.weight`], ourWeightShape(l), axis(l), from, to) },
      { suffix: "bias", shape: [to - from], data: ours[`${l.name}.bias`].slice(from, to) },
    ],
    read: (l, parts) => {
      const shape = ourWeightShape(l), w = new Float32Array(size(shape)), b = new Float32Array(outChannels(l));
      for (const { from, to, weights: [k, bias] } of parts) {
        setAxis(w, shape, axis(l), from, to, k.data);
        b.set(bias.data, from);
      }
      return { [`${l.name}.weight`]: w, [`${l.name}.bias`]: b };
    },
  };
}

const outChannels = (l: NetLayer) => l.outShape[l.outShape.length - 1];

/** Our weight's shape: dense (in, out); conv2d (kh, kw, in, out); conv2d_transpose (kh, kw, out, in). */
function ourWeightShape(l: NetLayer): number[] {
  if (l.kind === "dense") return [l.inShape[0], l.outShape[0]];
  const g = l.geometry!;
  return l.kind === "conv2d" ? [g.kh, g.kw, g.inC, g.outC] : [g.kh, g.kw, g.outC, g.inC];
}

const noWeights: Omit<LayerKind["keras"], "layers"> = { shapes: () => [], weights: () => [], read: () => ({}) };

const bias = (l: NetLayer): ParamMap => ({
  suffix: "bias", shape: [outChannels(l)], torchShape: [outChannels(l)], toTorch: (a) => a.slice(), fromTorch: (a) => a.slice(),
});

const dense: LayerKind = {
  // nn.Linear: weight (out, in), y = x Wᵀ + b; ours (in, out), y = x W + b.
  // PyTorch's input and output orders (torchOrder) permute its rows and columns:
  // W_torch[o][i] = W[inPerm[i]][outPerm[o]], b_torch[o] = b[outPerm[o]]
  params: (l) => {
    const IN = l.inShape[0], OUT = l.outShape[0];
    const ip = torchOrder(l.torchIn, IN), op = torchOrder(l.torchOut, OUT);
    const at = (i: number, o: number) => (ip ? ip[i] : i) * OUT + (op ? op[o] : o);
    return [
      { suffix: "weight", shape: [IN, OUT], torchShape: [OUT, IN],
        toTorch: (a) => { const t = new Float32Array(a.length); for (let o = 0; o < OUT; o++) for (let i = 0; i < IN; i++) t[o * IN + i] = a[at(i, o)]; return t; },
        fromTorch: (t) => { const a = new Float32Array(t.length); for (let o = 0; o < OUT; o++) for (let i = 0; i < IN; i++) a[at(i, o)] = t[o * IN + i]; return a; } },
      { ...bias(l),
        toTorch: (a) => op ? Float32Array.from(op, (j) => a[j]) : a.slice(),
        fromTorch: (t) => { if (!op) return t.slice(); const a = new Float32Array(t.length); op.forEach((j, o) => { a[j] = t[o]; }); return a; } },
    ];
  },
  torch: () => ({}),
  // its output feeds a reshape to an image: PyTorch's columns are that image's (C, H, W)
  torchOut: (_l, _in, next) => next?.kind === "reshape" && next.outShape.length === 3 ? { image: false, chw: next.outShape as [number, number, number] } : FLAT,
  keras: kerasParams(() => 1, (_l, name, from, to) => [{ className: "Dense", name, config: { units: to - from, ...KERAS_PARAM_CONFIG } }]),
  // Gemm(A, B, C, transB = 1) = A Bᵀ + C with B the PyTorch (out, in) weight, as torch.onnx.export writes nn.Linear
  onnx: (l, input) => ({
    nodes: [{ opType: "Gemm", name: `${l.name}/Gemm`, inputs: [input, `${l.name}.weight`, `${l.name}.bias`], outputs: [`${l.name}/out`], attributes: { transB: 1 } }],
    consts: [], output: `${l.name}/out`,
  }),
};

/** conv2d and conv2d_transpose. PyTorch: Conv2d.weight (out, in, kh, kw) from
 *  ours (kh, kw, in, out); ConvTranspose2d.weight (in, out, kh, kw) from ours
 *  (kh, kw, out, in): both are axes (3, 2, 0, 1) of ours. */
function convKind(transpose: boolean): LayerKind {
  const TO_TORCH = [3, 2, 0, 1], FROM_TORCH = [2, 3, 1, 0];
  return {
    params: (l) => {
      const s = ourWeightShape(l), ts = TO_TORCH.map((a) => s[a]);
      return [
        { suffix: "weight", shape: s, torchShape: ts, toTorch: (a) => permuteAxes(a, s, TO_TORCH), fromTorch: (a) => permuteAxes(a, ts, FROM_TORCH) },
        bias(l),
      ];
    },
    // nn.Conv2d(padding=0) after F.pad(h, (left, right, top, bottom)); nn.ConvTranspose2d(padding=0,
    // output_padding) then the crop [top, top + Ho) × [left, left + Wo) of its (H − 1)·s + k + op rows
    torch: (l) => {
      const g = l.geometry!;
      const op = (n: number, s: number, k: number, top: number, out: number) => Math.max(0, top + out - ((n - 1) * s + k));
      return {
        kernel: [g.kh, g.kw], stride: [g.strideH, g.strideW], pads: [g.padTop, g.padBottom, g.padLeft, g.padRight],
        ...(transpose ? { output_padding: [op(g.inH, g.strideH, g.kh, g.padTop, g.outH), op(g.inW, g.strideW, g.kw, g.padLeft, g.outW)] } : {}),
      };
    },
    torchOut: () => IMAGE,
    // Keras' "same" and "valid" are TensorFlow's pads; other pads: a ZeroPadding2D
    // before a valid Conv2D, a Cropping2D after a valid Conv2DTranspose
    keras: kerasParams((l) => transpose ? 2 : 3, (l, name, from, to) => {
      const g = l.geometry!, pad = l.settings.padding ?? "valid";
      const keras = (padding: string): KerasLayer => ({
        className: transpose ? "Conv2DTranspose" : "Conv2D", name,
        config: { filters: to - from, kernel_size: [g.kh, g.kw], strides: [g.strideH, g.strideW], padding, data_format: "channels_last", dilation_rate: [1, 1], ...KERAS_PARAM_CONFIG },
      });
      if ((pad === "same" || pad === "valid") && l.settings.outputPadding === undefined) return [keras(pad)];
      if (!transpose) {
        return [{ className: "ZeroPadding2D", name: `${name}_pad`, config: { padding: [[g.padTop, g.padBottom], [g.padLeft, g.padRight]], data_format: "channels_last" } }, keras("valid")];
      }
      // Keras' valid Conv2DTranspose gives H·s + max(k − s, 0) rows: rows [top, top + Ho) are ours
      const fullH = g.inH * g.strideH + Math.max(g.kh - g.strideH, 0), fullW = g.inW * g.strideW + Math.max(g.kw - g.strideW, 0);
      const bottom = fullH - g.padTop - g.outH, right = fullW - g.padLeft - g.outW;
      if (bottom < 0 || right < 0) throw new ArgumentError(`vae: layer ${l.name} (padding ${JSON.stringify(pad)}, output padding ${JSON.stringify(l.settings.outputPadding ?? 0)}) has no TensorFlow.js layers form (its output reaches past Keras' valid Conv2DTranspose); export it as safetensors or ONNX`);
      return [keras("valid"), { className: "Cropping2D", name: `${name}_crop`, config: { cropping: [[g.padTop, bottom], [g.padLeft, right]], data_format: "channels_last" } }];
    }),
    // NCHW in and out. pads [top, left, bottom, right] are TensorFlow's; for
    // ConvTranspose, output_padding makes the output size ours
    // (Ho = s·(H − 1) + op + kh − top − bottom)
    onnx: (l, input) => {
      const g = l.geometry!, out = `${l.name}/out`;
      const attributes: Record<string, number[]> = { kernel_shape: [g.kh, g.kw], strides: [g.strideH, g.strideW], pads: [g.padTop, g.padLeft, g.padBottom, g.padRight] };
      if (transpose) {
        attributes.output_padding = [g.outH - (g.strideH * (g.inH - 1) + g.kh - g.padTop - g.padBottom), g.outW - (g.strideW * (g.inW - 1) + g.kw - g.padLeft - g.padRight)];
      }
      const op = transpose ? "ConvTranspose" : "Conv";
      return { nodes: [{ opType: op, name: `${l.name}/${op}`, inputs: [input, `${l.name}.weight`, `${l.name}.bias`], outputs: [out], attributes }], consts: [], output: out };
    },
  };
}

/** ONNX nodes turning `input` (PyTorch layout t) into our NHWC order,
 *  flattened to (N, n) when `flat`. */
export function onnxToOurs(prefix: string, input: string, t: TorchLayout, n: number, flat: boolean): OnnxPart {
  const nodes: OnnxNode[] = [], consts: OnnxConst[] = [];
  let h = input;
  const step = (opType: string, extra: string[], attributes?: Record<string, number[]>) => {
    const out = `${prefix}/${opType}${nodes.length}`;
    nodes.push({ opType, name: out, inputs: [h, ...extra], outputs: [out], attributes });
    h = out;
  };
  const reshape = (shape: number[]) => {
    const name = `${prefix}/shape${consts.length}`;
    consts.push({ name, dims: [shape.length], int64: shape });
    step("Reshape", [name]);
  };
  if (!t.image && t.chw) {
    const [H, W, C] = t.chw;
    if (H * W * C !== n) throw new Error(`onnx: ${prefix}: a flattened image with further columns cannot be reordered (a bug)`);
    reshape([-1, C, H, W]);
  }
  if (t.image || t.chw) {
    step("Transpose", [], { perm: [0, 2, 3, 1] });
    if (flat) reshape([-1, n]);
  }
  return { nodes, consts, output: h };
}

/** flatten and reshape: no parameters. Keras (NHWC like ours) reshapes as
 *  we do; PyTorch flattens NCHW images (torch.flatten(h, 1)) and views flat
 *  rows it laid out as (C, H, W) as images (h.view(-1, C, H, W)); anything
 *  else goes through our NHWC order. */
function reshapeKind(flatten: boolean): LayerKind {
  return {
    params: () => [],
    torch: () => ({}),
    torchOut: (l, t) => l.outShape.length === 3 ? IMAGE : t.image ? { image: false, chw: l.inShape as [number, number, number] } : t,
    keras: { ...noWeights, layers: (l, name) => [flatten
      ? { className: "Flatten", name, config: { data_format: "channels_last" } }
      : { className: "Reshape", name, config: { target_shape: [...l.outShape] } }] },
    onnx: (l, input) => {
      const n = size(l.outShape), out = l.outShape;
      if (out.length === 1) {
        if (!l.torchIn.image) return { nodes: [], consts: [], output: input };
        return { nodes: [{ opType: "Flatten", name: `${l.name}/Flatten`, inputs: [input], outputs: [`${l.name}/out`], attributes: { axis: 1 } }], consts: [], output: `${l.name}/out` };
      }
      const [H, W, C] = out;
      const t = l.torchIn;
      const direct = !t.image && t.chw !== null && t.chw.every((d, i) => d === out[i]);
      const part: OnnxPart = direct ? { nodes: [], consts: [], output: input } : onnxToOurs(l.name, input, t, n, false);
      const shape = `${l.name}/shape`;
      part.consts.push({ name: shape, dims: [4], int64: direct ? [-1, C, H, W] : [-1, H, W, C] });
      part.nodes.push({ opType: "Reshape", name: `${l.name}/Reshape`, inputs: [part.output, shape], outputs: [`${l.name}/out`] });
      part.output = `${l.name}/out`;
      if (!direct) {
        part.nodes.push({ opType: "Transpose", name: `${l.name}/Transpose`, inputs: [part.output], outputs: [`${l.name}/nchw`], attributes: { perm: [0, 3, 1, 2] } });
        part.output = `${l.name}/nchw`;
      }
      return part;
    },
  };
}

/** The condition joins a flat activation: torch.cat([h, c], 1). */
const condition: LayerKind = {
  params: () => [],
  torch: () => ({}),
  torchOut: (_l, t) => t,
  keras: { ...noWeights, layers: (_l, name) => [{ className: "Concatenate", name, config: { axis: -1 }, also: ["c"] }] },
  onnx: (l, input) => ({
    nodes: [{ opType: "Concat", name: `${l.name}/Concat`, inputs: [input, "c"], outputs: [`${l.name}/out`], attributes: { axis: 1 } }],
    consts: [], output: `${l.name}/out`,
  }),
};

/** A standalone activation: no parameters, the layout kept. Keras
 *  Activation (the activation goes in its config, or, for leaky_relu, a
 *  LeakyReLU after it); ONNX: the activation's op alone (added for every layer). */
const activation: LayerKind = {
  params: () => [],
  torch: () => ({}),
  torchOut: (_l, t) => t,
  keras: { ...noWeights, layers: (_l, name) => [{ className: "Activation", name, config: { activation: "linear" } }] },
  onnx: (_l, input) => ({ nodes: [], consts: [], output: input }),
};

/** Dropout, exported for inference: the identity. Keras Dropout with the
 *  rate (identity in predict); PyTorch nn.Dropout(rate) (identity in eval);
 *  ONNX: no node. */
const dropout: LayerKind = {
  params: () => [],
  torch: (l) => ({ rate: l.settings.rate }),
  torchOut: (_l, t) => t,
  keras: { ...noWeights, layers: (l, name) => [{ className: "Dropout", name, config: { rate: l.settings.rate, noise_shape: null, seed: null } }] },
  onnx: (_l, input) => ({ nodes: [], consts: [], output: input }),
};

export const KINDS: Record<KindName, LayerKind> = {
  dense, conv2d: convKind(false), conv2d_transpose: convKind(true), flatten: reshapeKind(true), reshape: reshapeKind(false), condition,
  activation, dropout,
};

// ------------------------------------------------------------ activations

export interface ActivationMap {
  /** Keras: an `activation` string of the layer, or a separate layer after
   *  it; null when TensorFlow.js layers cannot express it. */
  keras(alpha: number): { activation: string } | { className: string; config: Record<string, unknown> } | null;
  /** ONNX: the op (null for identity) and its attributes. */
  onnx(alpha: number): { opType: string; attributes?: Record<string, number>; floats?: string[] } | null;
  /** PyTorch, for the README: f(h, a). */
  torch: string;
}

export const ACTS: Record<Activation, ActivationMap> = {
  identity: { keras: () => ({ activation: "linear" }), onnx: () => null, torch: "h" },
  relu: { keras: () => ({ activation: "relu" }), onnx: () => ({ opType: "Relu" }), torch: "F.relu(h)" },
  leaky_relu: {
    keras: (alpha) => ({ className: "LeakyReLU", config: { alpha } }),
    onnx: (alpha) => ({ opType: "LeakyRelu", attributes: { alpha }, floats: ["alpha"] }),
    torch: "F.leaky_relu(h, a)",
  },
  tanh: { keras: () => ({ activation: "tanh" }), onnx: () => ({ opType: "Tanh" }), torch: "torch.tanh(h)" },
  sigmoid: { keras: () => ({ activation: "sigmoid" }), onnx: () => ({ opType: "Sigmoid" }), torch: "torch.sigmoid(h)" },
  softplus: { keras: () => ({ activation: "softplus" }), onnx: () => ({ opType: "Softplus" }), torch: "F.softplus(h)" },
  // Keras' "elu" activation string has α = 1; tfjs-layers' ELU layer refuses
  // any other α (NotImplementedError), so such a model has no tfjs export
  elu: {
    keras: (alpha) => alpha === 1 ? { activation: "elu" } : null,
    onnx: (alpha) => ({ opType: "Elu", attributes: { alpha }, floats: ["alpha"] }),
    torch: "F.elu(h, a)",
  },
};

// ------------------------------------------------------------ tensors

/** The parameters of one network in PyTorch names and layouts, in order. */
export function paramsOf(net: Network): { name: string; map: ParamMap }[] {
  return net.layers.flatMap((l) => KINDS[l.kind].params(l).map((map) => ({ name: `${l.name}.${map.suffix}`, map })));
}

/** The layer list as the README's nn.Module reads it (safetensors
 *  __metadata__.wasm_vae_layers): per layer its name, kind, per-row shapes
 *  in and out ((D) or (H, W, C)), activation and KINDS[kind].torch. */
export function torchLayers(c: ResolvedConfig): Record<string, unknown>[] {
  return Object.values(networksOf(c)).flatMap((net) => net.layers.map((l) => ({
    name: l.name, kind: l.kind, in: l.inShape, out: l.outShape, activation: l.activation, ...KINDS[l.kind].torch(l),
  })));
}

/** Every parameter of the model in PyTorch names and layouts, in order; a
 *  learned prior's tensors (e.g. "prior.pseudo_inputs") last, as they are. */
export function torchParams(c: ResolvedConfig): { name: string; map: ParamMap }[] {
  const { encoder, decoder } = networksOf(c);
  return [...paramsOf(encoder), ...paramsOf(decoder), ...priorParams(c)]; // [priors]
}

// [priors] a learned prior's tensors: no network holds them
/** A learned prior's tensors (none for N(0, I)) with identity layouts. */
export function priorParams(c: ResolvedConfig): { name: string; map: ParamMap }[] {
  const id = (a: Float32Array) => a;
  return layerListsOf(c).extra.flatMap((l) => l.params).map((q) => ({
    name: q.name, map: { suffix: q.name.slice(q.name.indexOf(".") + 1), shape: [...q.shape], torchShape: [...q.shape], toTorch: id, fromTorch: id },
  }));
}

/** Formats that hold the encoder and decoder networks only refuse a model
 *  whose prior has learned tensors (they would be lost). */
export function refuseLearnedPrior(c: ResolvedConfig, format: string): void {
  const names = priorParams(c).map((p) => p.name);
  if (names.length === 0) return;
  throw new ArgumentError(`config.prior: the "${format}" format holds the encoder and decoder networks only, and this model's "${c.prior.type}" prior has learned tensors (${names.join(", ")}) it cannot express: use the "safetensors" format (it carries them) or VAE.save`);
}

/** Checks a tensor's float values are finite; names the tensor and index. */
export function checkFiniteTensor(file: string, name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new InteropFormatError(`${file}: tensor "${name}" holds a non-finite value (${a[i]}) at index ${i}`);
  }
}

/** The config a file's weights are read with: the one carried in the file
 *  (`carried`, JSON text, or undefined) and/or the one the caller gives. When
 *  both are there their architectures must agree, and the given one is used.
 *  `check` refuses a config the format cannot hold (a learned prior in tfjs
 *  or ONNX): it sees the given one before the comparison, so that refusal is
 *  named rather than reported as a different architecture, and the result. */
export function configFor(file: string, carried: string | undefined, given: VAEConfig | undefined, check: (c: ResolvedConfig) => void = () => {}): ResolvedConfig {
  const mine = given === undefined ? undefined : resolveConfig(given);
  if (mine) check(mine);
  let theirs: ResolvedConfig | undefined;
  if (carried !== undefined) {
    try {
      theirs = resolveConfig(JSON.parse(carried));
    } catch (e) {
      throw new InteropFormatError(`${file}: the wasm-vae config it carries is invalid (${(e as Error).message})`);
    }
  }
  if (mine && theirs && architectureKey(mine) !== architectureKey(theirs)) {
    throw new InteropFormatError(`${file}: its architecture (${describeArchitecture(theirs)}) differs from options.config's (${describeArchitecture(mine)})`);
  }
  const c = mine ?? theirs;
  if (!c) throw new InteropFormatError(`${file}: carries no wasm-vae config; pass options.config with the architecture (inputDim, encoder, latentDim, decoder, activation, likelihood, conditionDim, …)`);
  if (c !== mine) check(c);
  return c;
}

/** configFor over the encoder's and the decoder's files, which must carry the same config. */
export function configForPair(parts: { file: string; carried: string | undefined }[], given: VAEConfig | undefined, check?: (c: ResolvedConfig) => void): ResolvedConfig {
  if (parts[0].carried !== parts[1].carried) throw new InteropFormatError(`${parts[0].file} and ${parts[1].file} carry different wasm-vae configs`);
  return configFor(parts[0].file, parts[0].carried, given, check);
}
