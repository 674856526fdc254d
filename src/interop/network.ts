// The model as the interchange formats see it: two networks, each an ordered
// list of layers, plus the table of layer kinds (KINDS) and of activations
// (ACTS) that every format walks. safetensors.ts, tfjs-layers.ts and onnx.ts
// never test a layer's kind themselves: they ask its KINDS entry for the
// tensor names and layouts (PyTorch, Keras) and the ONNX nodes. A new layer
// kind (conv2d, conv2d_transpose, flatten, reshape) is a new KINDS entry.
//
//   network    inputs (concatenated)   layers                      heads (column ranges of the last output)
//   encoder    x (D) [, c (C)]         encoder.0 … encoder.n       z_mean [0, L), z_logvar [L, 2L)
//   decoder    z (L) [, c (C)]         decoder.0 … decoder.m       x_mean [0, D) (σ(·) for Bernoulli) [, x_log_sigma [D, 2D)]
//
// Every layer but the last applies the hidden activation; the last is linear
// and a head applies the output activation (sigmoid for Bernoulli means).
// Not here: the bytes of any format (one file per format), the model itself.
import { architectureOf as layerListsOf } from "../architecture.js";
import { resolveConfig, type ResolvedConfig, type VAEConfig } from "../config.js";
import type { Activation } from "../wasm.js";
import { ModelFormatError } from "../io.js";
import { ArgumentError } from "../validate.js";

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

export interface NetLayer {
  kind: "dense";
  /** Our name and PyTorch module name: "encoder.0", "decoder.2", … */
  name: string;
  inDim: number;
  outDim: number;
  /** Applied to the layer's output ("identity" for the last layer). */
  activation: Activation;
  alpha: number;
}

export interface Head {
  /** Output name (ONNX graph output, Keras output layer). */
  name: string;
  /** Columns [from, to) of the last layer's output. */
  from: number;
  to: number;
  activation: "identity" | "sigmoid";
}

export interface Network {
  part: "encoder" | "decoder";
  inputs: { name: string; dim: number }[];
  layers: NetLayer[];
  heads: Head[];
}

/** The two networks of a dense (MLP) model. The formats here cover dense
 *  layers only: a model with another layer kind (conv2d, flatten, …) is an
 *  ArgumentError naming the layer. */
export function networksOf(c: ResolvedConfig): { encoder: Network; decoder: Network } {
  const { encoder, decoder } = layerListsOf(c);
  const cond = c.conditionDim > 0 ? [{ name: "c", dim: c.conditionDim }] : [];
  const mk = (specs: typeof encoder): NetLayer[] => specs.map((l) => {
    if (l.kind !== "dense") throw new ArgumentError(`model: the interchange formats (safetensors, tfjs-layers, ONNX) cover dense layers only; layer ${l.name} is a ${l.kind}`);
    return { kind: "dense", name: l.name, inDim: l.inShape[0], outDim: l.outShape[0], activation: l.activation, alpha: c.activationAlpha };
  });
  const L = c.latentDim, D = c.inputDim;
  const decHeads: Head[] = c.likelihood === "gaussian-learned"
    ? [{ name: "x_mean", from: 0, to: D, activation: "identity" }, { name: "x_log_sigma", from: D, to: 2 * D, activation: "identity" }]
    : [{ name: "x_mean", from: 0, to: D, activation: c.likelihood === "bernoulli" ? "sigmoid" : "identity" }];
  return {
    encoder: {
      part: "encoder", inputs: [{ name: "x", dim: D }, ...cond], layers: mk(encoder),
      heads: [{ name: "z_mean", from: 0, to: L, activation: "identity" }, { name: "z_logvar", from: L, to: 2 * L, activation: "identity" }],
    },
    decoder: { part: "decoder", inputs: [{ name: "z", dim: L }, ...cond], layers: mk(decoder), heads: decHeads },
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

export interface LayerKind {
  params(l: NetLayer): ParamMap[];
  keras: {
    className: string;
    /** The Keras layer config for output columns [from, to) (name, activation added by the caller). */
    config(l: NetLayer, from: number, to: number): Record<string, unknown>;
    /** Names (suffixes) and shapes of the Keras weights for output columns [from, to). */
    shapes(l: NetLayer, from: number, to: number): { suffix: string; shape: number[] }[];
    /** Keras weights for output columns [from, to), from our parameters (in `shapes` order). */
    weights(l: NetLayer, ours: Record<string, Float32Array>, from: number, to: number): KerasWeight[];
    /** Our parameters from the Keras weights of column ranges that cover the output. */
    read(l: NetLayer, parts: { from: number; to: number; weights: KerasWeight[] }[]): Record<string, Float32Array>;
  };
  /** Nodes computing `output` from `input`; initializers are the PyTorch-named parameters. */
  onnx(l: NetLayer, input: string, output: string): OnnxNode[];
}

/** (R, C) row-major → (C, R). */
export function transpose2d(a: Float32Array, R: number, C: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = a[r * C + c];
  return out;
}

/** Columns [from, to) of an (R, C) row-major matrix. */
function columns(a: Float32Array, R: number, C: number, from: number, to: number): Float32Array {
  const W = to - from, out = new Float32Array(R * W);
  for (let r = 0; r < R; r++) out.set(a.subarray(r * C + from, r * C + to), r * W);
  return out;
}

const dense: LayerKind = {
  // nn.Linear: weight (out, in), y = x Wᵀ + b; ours (in, out), y = x W + b
  params: (l) => [
    { suffix: "weight", shape: [l.inDim, l.outDim], torchShape: [l.outDim, l.inDim],
      toTorch: (a) => transpose2d(a, l.inDim, l.outDim), fromTorch: (a) => transpose2d(a, l.outDim, l.inDim) },
    { suffix: "bias", shape: [l.outDim], torchShape: [l.outDim], toTorch: (a) => a.slice(), fromTorch: (a) => a.slice() },
  ],
  keras: {
    className: "Dense",
    config: (_l, from, to) => ({
      units: to - from, use_bias: true,
      kernel_initializer: { class_name: "GlorotUniform", config: { seed: null } },
      bias_initializer: { class_name: "Zeros", config: {} },
      kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null,
      kernel_constraint: null, bias_constraint: null,
    }),
    shapes: (l, from, to) => [{ suffix: "kernel", shape: [l.inDim, to - from] }, { suffix: "bias", shape: [to - from] }],
    // Keras Dense kernel is (in, units) like ours: no transpose, only a column range
    weights: (l, ours, from, to) => [
      { suffix: "kernel", shape: [l.inDim, to - from], data: columns(ours[`${l.name}.weight`], l.inDim, l.outDim, from, to) },
      { suffix: "bias", shape: [to - from], data: ours[`${l.name}.bias`].slice(from, to) },
    ],
    read: (l, parts) => {
      const w = new Float32Array(l.inDim * l.outDim), b = new Float32Array(l.outDim);
      for (const { from, to, weights: [k, bias] } of parts) {
        const W = to - from;
        for (let r = 0; r < l.inDim; r++) w.set(k.data.subarray(r * W, (r + 1) * W), r * l.outDim + from);
        b.set(bias.data, from);
      }
      return { [`${l.name}.weight`]: w, [`${l.name}.bias`]: b };
    },
  },
  // Gemm(A, B, C, transB = 1) = A Bᵀ + C with B the PyTorch (out, in) weight, as torch.onnx.export writes nn.Linear
  onnx: (l, input, output) => [{
    opType: "Gemm", name: `${l.name}/Gemm`, inputs: [input, `${l.name}.weight`, `${l.name}.bias`], outputs: [output],
    attributes: { transB: 1 },
  }],
};

export const KINDS: Record<NetLayer["kind"], LayerKind> = { dense };

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

/** Every parameter of the model in PyTorch names and layouts, in order. */
export function torchParams(c: ResolvedConfig): { name: string; map: ParamMap }[] {
  const { encoder, decoder } = networksOf(c);
  return [...paramsOf(encoder), ...paramsOf(decoder)];
}

/** Checks a tensor's float values are finite; names the tensor and index. */
export function checkFiniteTensor(file: string, name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new InteropFormatError(`${file}: tensor "${name}" holds a non-finite value (${a[i]}) at index ${i}`);
  }
}

/** Same shape? */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The config a file's weights are read with: the one carried in the file
 *  (`carried`, JSON text, or undefined) and/or the one the caller gives. When
 *  both are there their architectures must agree, and the given one is used. */
export function configFor(file: string, carried: string | undefined, given: VAEConfig | undefined): ResolvedConfig {
  const mine = given === undefined ? undefined : resolveConfig(given);
  let theirs: ResolvedConfig | undefined;
  if (carried !== undefined) {
    try {
      theirs = resolveConfig(JSON.parse(carried));
    } catch (e) {
      throw new InteropFormatError(`${file}: the wasm-vae config it carries is invalid (${(e as Error).message})`);
    }
  }
  if (mine && theirs && architectureOf(mine) !== architectureOf(theirs)) {
    throw new InteropFormatError(`${file}: its architecture ${architectureOf(theirs)} differs from options.config's ${architectureOf(mine)}`);
  }
  const c = mine ?? theirs;
  if (!c) throw new InteropFormatError(`${file}: carries no wasm-vae config; pass options.config with the architecture (inputDim, encoder, latentDim, decoder, activation, likelihood, conditionDim, …)`);
  return c;
}

/** configFor over the encoder's and the decoder's files, which must carry the same config. */
export function configForPair(parts: { file: string; carried: string | undefined }[], given: VAEConfig | undefined): ResolvedConfig {
  if (parts[0].carried !== parts[1].carried) throw new InteropFormatError(`${parts[0].file} and ${parts[1].file} carry different wasm-vae configs`);
  return configFor(parts[0].file, parts[0].carried, given);
}

/** The architecture-defining part of a config (what the weights' meaning depends on). */
export function architectureOf(c: ResolvedConfig): string {
  return JSON.stringify({
    inputDim: c.inputDim, inputShape: c.inputShape, encoder: c.encoder, latentDim: c.latentDim, decoder: c.decoder,
    activation: c.activation, activationAlpha: c.activationAlpha, likelihood: c.likelihood,
    sigma: c.sigma, conditionDim: c.conditionDim,
  });
}
