// The model as the interchange formats see it: two networks, each an ordered
// list of layers, plus the table of activations (ACTS) that every format
// walks. safetensors.ts, tfjs-layers.ts and onnx.ts never test a layer's kind
// themselves: they ask its kind module (interopOf(l) = kindOf(l.kind).interop,
// src/layers/interop-kit.ts) for the tensor names and layouts (PyTorch,
// Keras), the Keras layers and the ONNX nodes. A new layer kind brings its
// own mapping; nothing here changes.
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
// PyTorch holds images as NCHW (TorchLayout, interop-kit.ts): each layer
// records PyTorch's layout of its input and output, which its kind's mapping reads.
// Not here: the bytes of any format (one file per format), the model itself.
import { architectureKey, architectureOf as layerListsOf, describeArchitecture } from "../model/architecture.js";
import { resolveConfig, type ResolvedConfig, type VAEConfig } from "../model/config.js";
import { kindOf, type LayerSpec } from "../layers/index.js";
import { FLAT, type LayerInterop, type NetLayer, type ParamMap } from "../layers/interop-kit.js";
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
 *  with wasm-vae's names and layouts (those of VAE.getWeights), batch_norm
 *  layers' running statistics among them (those of exportState().buffers). */
export interface ModelContents {
  /** The configuration, every default filled in. */
  config: ResolvedConfig;
  /** Parameter name → values, e.g. "encoder.0.weight" (in, out) row-major. */
  weights: Record<string, Float32Array>;
}

export type {
  KerasLayer, KerasWeight, LayerInterop, NetLayer, OnnxConst, OnnxNode, OnnxPart, ParamMap, TorchLayout,
} from "../layers/interop-kit.js";
export { onnxToOurs, permuteAxes, transpose2d } from "../layers/interop-kit.js";

/** Whom a refusal names: the argument the caller passed (exportModel's
 *  `vae`, readModel's and importModel's `options.config`: an ArgumentError),
 *  or the file whose carried config is refused (an InteropFormatError). */
export interface InteropSubject {
  /** What the message starts with: "vae", "options.config", "config", or a file name. */
  name: string;
  /** A file's carried config (an InteropFormatError), not an argument (an ArgumentError). */
  file?: boolean;
}

/** exportModel's model argument. */
export const VAE_ARGUMENT: InteropSubject = { name: "vae" };
/** The config argument of exportOnnx (called directly, not through exportModel). */
export const CONFIG_ARGUMENT: InteropSubject = { name: "config" };
/** readModel's and importModel's config option. */
export const CONFIG_OPTION: InteropSubject = { name: "options.config" };

/** Throws the refusal of `who`'s model: "<argument>: <msg>". */
export function refuse(who: InteropSubject, msg: string): never {
  throw who.file ? new InteropFormatError(`${who.name}: ${msg}`) : new ArgumentError(`${who.name}: ${msg}`);
}

/** The interchange mapping of a layer's kind (its module's `interop`);
 *  networksOf has refused, by the caller's argument, a kind without one. */
export function interopOf(l: NetLayer): LayerInterop {
  const m = kindOf(l.kind).interop;
  if (!m) throw new Error(`interop: layer ${l.name} (${l.kind}) has no interchange mapping (networksOf checks this first)`);
  return m;
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
 *  (rows, H·W·C)); the heads split the final output. A model the formats
 *  cannot hold (stochastic layers above the first, a non-Gaussian latent, a
 *  layer kind without an interchange mapping) is refused naming `who`. */
export function networksOf(c: ResolvedConfig, who: InteropSubject): { encoder: Network; decoder: Network } {
  if (c.latents) refuse(who, "a model with stochastic layers above the first (config.latents) has networks the interchange formats do not carry (they hold one encoder and one decoder); save it with vae.save()");
  // issue 18: the formats' encoder outputs are [z_mean, z_logvar]; a categorical head (logits) is not covered yet
  if (c.latent.type !== "gaussian") refuse(who, `expected a model with a Gaussian latent (the interchange formats write the encoder's outputs as z_mean and z_logvar; a ${c.latent.type} latent's head is not covered), got a ${c.latent.type} latent`);
  const a = layerListsOf(c);
  for (const l of [...a.encoder, ...a.decoder]) {
    if (!kindOf(l.kind).interop) refuse(who, `its layer ${l.name} is a ${l.kind}, which the interchange formats do not cover`);
  }
  const cond = c.conditionDim > 0 ? [{ name: "c", dim: c.conditionDim }] : [];
  const L = c.latentDim, D = c.inputDim;
  const mk = (specs: LayerSpec[], first: NetLayer[]): NetLayer[] => {
    const layers: NetLayer[] = [...first, ...specs.map((l): NetLayer => ({
      kind: l.kind, name: l.name, inShape: [...l.inShape], outShape: [...l.outShape], activation: l.activation,
      alpha: c.activationAlpha, settings: l.settings, derived: l.derived,
      torchIn: FLAT, torchOut: FLAT,
    }))];
    let t = FLAT;
    layers.forEach((l, i) => {
      l.torchIn = t;
      t = l.torchOut = interopOf(l).torchOut(l, t, layers[i + 1]);
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
export function paramsOf(net: Network, int64 = false): { name: string; map: ParamMap }[] {
  return net.layers.flatMap((l) => interopOf(l).params(l).filter((m) => int64 || !m.int64).map((map) => ({ name: `${l.name}.${map.suffix}`, map })));
}

/** The layer list as the README's nn.Module reads it (safetensors
 *  __metadata__.wasm_vae_layers): per layer its name, kind, per-row shapes
 *  in and out ((D) or (H, W, C)), activation and its kind's interop.torch. */
export function torchLayers(c: ResolvedConfig, who: InteropSubject): Record<string, unknown>[] {
  return Object.values(networksOf(c, who)).flatMap((net) => net.layers.map((l) => ({
    name: l.name, kind: l.kind, in: l.inShape, out: l.outShape, activation: l.activation, ...interopOf(l).torch(l),
  })));
}

/** Every parameter (and batch_norm buffer, its int64 num_batches_tracked
 *  included) of the model in PyTorch names and layouts, in order; a
 *  learned prior's tensors (e.g. "prior.pseudo_inputs") last, as they are. */
export function torchParams(c: ResolvedConfig, who: InteropSubject): { name: string; map: ParamMap }[] {
  const { encoder, decoder } = networksOf(c, who);
  return [...paramsOf(encoder, true), ...paramsOf(decoder, true), ...priorParams(c)]; // [priors]
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
 *  whose prior has learned tensors (they would be lost), naming `who`. */
export function refuseLearnedPrior(c: ResolvedConfig, format: string, who: InteropSubject): void {
  const names = priorParams(c).map((p) => p.name);
  if (names.length === 0) return;
  refuse(who, `the "${format}" format holds the encoder and decoder networks only, and the model's "${c.prior.type}" prior (config.prior) has learned tensors (${names.join(", ")}) it cannot express: use the "safetensors" format (it carries them) or VAE.save`);
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
 *  or ONNX), after networksOf's checks, naming `who`: options.config when it
 *  was given (checked before the comparison, so that the refusal is named
 *  rather than reported as a different architecture), else the file. Returns
 *  the config and whom a later refusal of it names. */
export function configFor(file: string, carried: string | undefined, given: VAEConfig | undefined,
                          check: (c: ResolvedConfig, who: InteropSubject) => void = () => {}): { config: ResolvedConfig; who: InteropSubject } {
  const covered = (c: ResolvedConfig, who: InteropSubject) => { networksOf(c, who); check(c, who); };
  const mine = given === undefined ? undefined : resolveConfig(given);
  if (mine) covered(mine, CONFIG_OPTION);
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
  if (mine) return { config: mine, who: CONFIG_OPTION };
  if (!theirs) throw new InteropFormatError(`${file}: carries no wasm-vae config; pass options.config with the architecture (inputDim, encoder, latentDim, decoder, activation, likelihood, conditionDim, …)`);
  const who: InteropSubject = { name: `${file}: its wasm-vae config`, file: true };
  covered(theirs, who);
  return { config: theirs, who };
}

/** configFor over the encoder's and the decoder's files, which must carry the same config. */
export function configForPair(parts: { file: string; carried: string | undefined }[], given: VAEConfig | undefined,
                              check?: (c: ResolvedConfig, who: InteropSubject) => void): { config: ResolvedConfig; who: InteropSubject } {
  if (parts[0].carried !== parts[1].carried) throw new InteropFormatError(`${parts[0].file} and ${parts[1].file} carry different wasm-vae configs`);
  return configFor(parts[0].file, parts[0].carried, given, check);
}
