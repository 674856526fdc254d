// What a layer kind tells the interchange formats (LayerInterop, the
// `interop` member of a LayerKind), and the helpers the kinds build their
// mappings from: tensor layout changes (permuteAxes, slices of an axis),
// PyTorch's flat order of a flattened image, Keras' kernel-and-bias weights,
// ONNX nodes back to our NHWC order. src/interop/ walks
// kindOf(layer.kind).interop and never tests a kind itself.
//
// PyTorch (safetensors, and the ONNX graph, which computes as the README's
// nn.Module) holds images as NCHW; a flatten of an image gives (C, H, W)
// order, so a dense layer after it has its weight's input columns permuted,
// and a dense layer before a reshape to an image its output rows: PyTorch
// code then uses plain torch.flatten(h, 1) and h.view(-1, C, H, W) (TorchLayout).
// Not here: the bytes of any format (src/interop/, one file per format), the
// networks and heads (src/interop/network.ts).
import type { Activation } from "../kernels/wasm.js";
import { size } from "../base/shape.js";

/** How PyTorch holds an activation (and the ONNX graph, which computes as the
 *  README's nn.Module does): images as NCHW; flat rows in our order, or, after
 *  a flatten of an (H, W, C) image, with its H·W·C values in (C, H, W) order
 *  (torch.flatten of NCHW) and any further values (a condition) after them. */
export type TorchLayout = { image: true } | { image: false; chw: [number, number, number] | null };
export const FLAT: TorchLayout = { image: false, chw: null };
export const IMAGE: TorchLayout = { image: true };

/** One layer of a network as the interchange formats see it. */
export interface NetLayer {
  /** Its kind's name in the table (layers/index.ts). */
  kind: string;
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
  /** What the kind derived from shapes and settings (LayerSpec.derived: a
   *  convolution's geometry, with TensorFlow's pads). */
  derived?: unknown;
  /** PyTorch's layout of the input and of the output. */
  torchIn: TorchLayout;
  torchOut: TorchLayout;
}

/** One parameter of a layer in our layout and in PyTorch's. */
export interface ParamMap {
  /** Suffix of our name and of the PyTorch state_dict key: `${layer}.${suffix}`. */
  suffix: string;
  shape: number[];
  torchShape: number[];
  toTorch(a: Float32Array): Float32Array;
  fromTorch(a: Float32Array): Float32Array;
  /** A PyTorch int64 scalar buffer we do not hold (BatchNorm's
   *  num_batches_tracked): safetensors writes 0 and reads it from a
   *  PyTorch file without keeping it; ONNX has no such initializer. */
  int64?: true;
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

/** A kind's Keras (TensorFlow.js layers) mapping. */
export interface KerasMap {
  /** The Keras layers for output channels [from, to) (the last axis); the
   *  one named `name` holds the weights and gets the activation. */
  layers(l: NetLayer, name: string, from: number, to: number): KerasLayer[];
  /** Names (suffixes) and shapes of the Keras weights for output channels [from, to). */
  shapes(l: NetLayer, from: number, to: number): { suffix: string; shape: number[] }[];
  /** Keras weights for output channels [from, to), from our parameters (in `shapes` order). */
  weights(l: NetLayer, ours: Record<string, Float32Array>, from: number, to: number): KerasWeight[];
  /** Output channel c reads input channel c alone (batch_norm): the layer
   *  cannot be cut into heads by output channels, so as the output layer it
   *  is emitted whole, and the heads' activation after it. */
  perChannel?: true;
  /** Our parameters from the Keras weights of channel ranges that cover the output. */
  read(l: NetLayer, parts: { from: number; to: number; weights: KerasWeight[] }[]): Record<string, Float32Array>;
}

/** A layer kind in the interchange formats (PyTorch names and layouts,
 *  Keras layers and weights, ONNX nodes): LayerKind.interop. */
export interface LayerInterop {
  /** Its parameters in PyTorch names and layouts, in arena order. */
  params(l: NetLayer): ParamMap[];
  /** What the README's nn.Module needs beyond kind, shapes and activation
   *  (conv: kernel, stride, pads [top, bottom, left, right] for F.pad or the
   *  crop, ConvTranspose2d's output_padding). */
  torch(l: NetLayer): Record<string, unknown>;
  /** PyTorch's layout of the output, from the input's (and the next layer). */
  torchOut(l: NetLayer, input: TorchLayout, next: NetLayer | undefined): TorchLayout;
  keras: KerasMap;
  /** Nodes computing the layer from `input` (PyTorch layout torchIn) in
   *  PyTorch's layout torchOut; initializers are the PyTorch-named parameters. */
  onnx(l: NetLayer, input: string): OnnxPart;
}

// ------------------------------------------------------------ tensors


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
export function sliceAxis(a: Float32Array, shape: readonly number[], axis: number, from: number, to: number): Float32Array {
  const outer = size(shape.slice(0, axis)), n = shape[axis], inner = size(shape.slice(axis + 1)), w = (to - from) * inner;
  const out = new Float32Array(outer * w);
  for (let o = 0; o < outer; o++) out.set(a.subarray((o * n + from) * inner, (o * n + to) * inner), o * w);
  return out;
}

/** Writes `part` (sliceAxis's output) back at indices [from, to) of `axis`. */
export function setAxis(dst: Float32Array, shape: readonly number[], axis: number, from: number, to: number, part: Float32Array): void {
  const outer = size(shape.slice(0, axis)), n = shape[axis], inner = size(shape.slice(axis + 1)), w = (to - from) * inner;
  for (let o = 0; o < outer; o++) dst.set(part.subarray(o * w, (o + 1) * w), (o * n + from) * inner);
}

/** The flat order of PyTorch for a layout of `n` values: perm[t] is our index
 *  of PyTorch's value t (the identity unless the layout is a flattened CHW). */
export function torchOrder(t: TorchLayout, n: number): Int32Array | null {
  if (t.image || !t.chw) return null;
  const [H, W, C] = t.chw, perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) perm[(c * H + h) * W + w] = (h * W + w) * C + c;
  return perm;
}

/** Channels of a layer's output (its last axis). */
export const outChannels = (l: NetLayer): number => l.outShape[l.outShape.length - 1];

/** A bias (outChannels) with the same layout in PyTorch. */
export const torchBias = (l: NetLayer): ParamMap => ({
  suffix: "bias", shape: [outChannels(l)], torchShape: [outChannels(l)], toTorch: (a) => a.slice(), fromTorch: (a) => a.slice(),
});

// ------------------------------------------------------------ Keras

const GLOROT = { class_name: "GlorotUniform", config: { seed: null } };
/** The config fields of a Keras layer with a kernel and a bias. */
export const KERAS_PARAM_CONFIG = {
  use_bias: true, kernel_initializer: GLOROT, bias_initializer: { class_name: "Zeros", config: {} },
  kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
};

/** The Keras map of a kind with a kernel and a bias whose Keras kernel is our
 *  weight itself (Dense (in, out), Conv2D (kh, kw, in, out), Conv2DTranspose
 *  (kh, kw, out, in)): `weightShape` is our weight's shape, `axis` its
 *  output-channel axis. */
export function kerasKernelBias(weightShape: (l: NetLayer) => number[], axis: number, layers: KerasMap["layers"]): KerasMap {
  const kshape = (l: NetLayer, from: number, to: number) => { const s = weightShape(l); s[axis] = to - from; return s; };
  return {
    layers,
    shapes: (l, from, to) => [{ suffix: "kernel", shape: kshape(l, from, to) }, { suffix: "bias", shape: [to - from] }],
    weights: (l, ours, from, to) => [
      { suffix: "kernel", shape: kshape(l, from, to), data: sliceAxis(ours[`${l.name}.weight`], weightShape(l), axis, from, to) },
      { suffix: "bias", shape: [to - from], data: ours[`${l.name}.bias`].slice(from, to) },
    ],
    read: (l, parts) => {
      const shape = weightShape(l), w = new Float32Array(size(shape)), b = new Float32Array(outChannels(l));
      for (const { from, to, weights: [k, bias] } of parts) {
        setAxis(w, shape, axis, from, to, k.data);
        b.set(bias.data, from);
      }
      return { [`${l.name}.weight`]: w, [`${l.name}.bias`]: b };
    },
  };
}

/** The Keras map of a kind without weights: these layers only. */
export const kerasLayersOnly = (layers: KerasMap["layers"]): KerasMap => ({ layers, shapes: () => [], weights: () => [], read: () => ({}) });

/** The mapping of a kind that is the identity in every format, the layout
 *  kept, no parameters: the given Keras layers, `torch` for the README's
 *  nn.Module, and no ONNX node. */
export function identityInterop(keras: KerasMap["layers"], torch: (l: NetLayer) => Record<string, unknown> = () => ({})): LayerInterop {
  return {
    params: () => [],
    torch,
    torchOut: (_l, t) => t,
    keras: kerasLayersOnly(keras),
    onnx: (_l, input) => ({ nodes: [], consts: [], output: input }),
  };
}

// ------------------------------------------------------------ ONNX

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

/** One ONNX node `${l.name}/${opType}` from `inputs` to `${l.name}/out`. */
export function onnxNode(l: NetLayer, opType: string, inputs: string[], attributes?: Record<string, number | number[]>): OnnxPart {
  return { nodes: [{ opType, name: `${l.name}/${opType}`, inputs, outputs: [`${l.name}/out`], attributes }], consts: [], output: `${l.name}/out` };
}
