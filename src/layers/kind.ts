// What a layer kind is. A kind is a table entry (layers/index.ts) that says,
// from its input shape and settings, everything the planner and the training
// step need; a layer is plain data: the kind's name, its resolved settings and
// shapes, and (once the arena is laid out) its pointers. The step walks a list
// of layers calling kind.forward / kind.backward and never asks which kind.
//
// Shapes are per row: (D) for flat rows, NHWC (H, W, C) for images; a batch
// of B rows is B·size(shape) floats, row-major.
// A kind also owns its interchange mapping (`interop`, interop-kit.ts) and
// its parameters' initialisation (ParamSpec.init, init.ts).
// Not here: the kinds themselves (one file each), the layout (plan.ts), the
// arena (network.ts).
import type { Activation, RawExports } from "../kernels/wasm.js";
import type { ParamInit } from "./init.js";
import type { LayerInterop } from "./interop-kit.js";

export type Shape = readonly number[];

/** One parameter tensor of a layer. */
export interface ParamSpec {
  /** Full name: "<layer name>.weight" / ".bias". */
  name: string;
  /** Its shape (dense weight (in, out); conv2d (kh, kw, in, filters);
   *  conv2d_transpose (kh, kw, filters, in); bias (out)). */
  shape: number[];
  /** How it starts: a draw or a constant, or a rule that picks one from
   *  the config's `init` scheme (fanInit, init.ts: Glorot / He / PyTorch). */
  init: ParamInit;
}

/** A non-trainable tensor of a layer (PyTorch's buffers, Keras'
 *  non-trainable weights): batch_norm's running statistics. The optimizer
 *  never sees it (it lives outside the four twin blocks); a `saved` one is
 *  part of the model's state (model files, exportState), the others live
 *  from a training forward to its backward and commit. */
export interface BufferSpec {
  /** Full name: "<layer name>.running_mean", … */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Every entry's initial value. */
  init: number;
  /** Saved with the model (else working memory of the layer). */
  saved: boolean;
  /** Smallest value a loaded one may hold (a variance: 0). */
  min?: number;
}

/** A resolved layer, pure data (no pointers): what the planner lays out. */
export interface LayerSpec {
  /** The kind's name in the table: "dense", "flatten", … */
  kind: string;
  /** "encoder.0", "decoder.3", … (its place in the user's list). */
  name: string;
  /** Shape of one input row: (D) or NHWC (H, W, C). */
  inShape: number[];
  /** Shape of one output row: (D) or NHWC (H, W, C). */
  outShape: number[];
  /** The kind's settings, validated and normalized (plain JSON). */
  settings: Record<string, unknown>;
  /** Activation fused into the kind's kernels ("identity" for none). */
  activation: Activation;
  /** Its parameter tensors, in arena order (none for flatten, reshape and condition). */
  params: ParamSpec[];
  /** Its non-trainable tensors (none for most kinds), in arena order. */
  buffers?: BufferSpec[];
  /** The output is the input itself (no buffer, no copy: flatten, reshape);
   *  its gradient is then the input's gradient too. */
  alias: boolean;
  /** What the kind computed once from the shapes and settings for its kernel
   *  calls (e.g. a convolution's geometry), so a step allocates nothing. */
  derived?: unknown;
}

/** A layer bound to the arena: absolute byte pointers. dx is 0 when no
 *  gradient flows to the input (the first layer of the encoder). */
export interface Layer extends LayerSpec {
  x: number; y: number; dx: number; dy: number;
  /** Pointers of params[i] and of its gradient. */
  p: number[]; g: number[];
  /** Pointers of buffers[i]. */
  b: number[];
  /** Kernel code of `activation`. */
  act: number;
}

/** What forward and backward get besides the layer. */
export interface StepContext {
  k: RawExports;
  /** GEMM / im2col scratch (planned: the max of every layer's scratchBytes). */
  scratch: number;
  /** α of leaky_relu / elu (config.activationAlpha). */
  alpha: number;
  /** (B, conditionDim) condition rows, for the condition-joining layer. */
  condition: number;
  /** The kernel (training) random stream's state (4 × u32), for kinds that
   *  draw while training (dropout). */
  rng: number;
  /** A training forward (its backward follows) rather than inference:
   *  dropout drops only then. */
  train: boolean;
}

/** A layer's `activation` in a config: ours, or Keras' "linear" for "identity". */
export type LayerActivation = Activation | "linear";

/** A kind of layer. `Config` is the type of its entry in a config's
 *  encoder / decoder list (`{ type, …settings, activation? }`); the public
 *  LayerConfig is derived from the table's kinds (layers/index.ts). */
export interface LayerKind<Config = unknown> {
  /** Type only, never set: the kind's public config entry (`Config`), read by
   *  the LayerConfig type. */
  readonly config?: Config;
  /** Validates the user's entry (`at` names it in errors, e.g.
   *  "config.encoder[1]") and returns its settings: plain JSON, no `type`,
   *  no `activation` (those are handled by the architecture). */
  settings(entry: Record<string, unknown>, at: string): Record<string, unknown>;
  /** Whether the kind takes an `activation` (fused into its kernels). */
  activates: boolean;
  /** The output shape for this input shape; throws an ArgumentError naming `at`
   *  when the input shape does not suit the kind. */
  outputShape(inShape: Shape, settings: Record<string, unknown>, at: string): number[];
  /** Values the kernel calls need, computed once per layer (LayerSpec.derived). */
  derive?(inShape: Shape, settings: Record<string, unknown>, at: string): unknown;
  /** Non-trainable tensors (name = `${layerName}.${…}`), in arena order. */
  buffers?(layer: Omit<LayerSpec, "params" | "alias">): BufferSpec[];
  /** Its output depends on the other rows of the batch while training
   *  (batch statistics): refused where the rows are not one batch (the
   *  stochastic layers above the first, an encoder that also runs a prior's rows). */
  batchStatistics?: boolean;
  /** Parameter tensors (name = `${layerName}.${…}`), in arena order. */
  params(layer: Omit<LayerSpec, "params" | "alias">): ParamSpec[];
  alias: boolean;
  /** Scratch bytes forward and backward need for B rows. */
  scratchBytes(layer: LayerSpec, B: number): number;
  /** Writes y from x (and the parameters). */
  forward(c: StepContext, l: Layer, B: number): void;
  /** From dy (which it may overwrite): writes dx (unless 0) and the
   *  gradients of its parameters (written, not accumulated: every parameter
   *  belongs to one layer, so no zeroing pass is needed). */
  backward(c: StepContext, l: Layer, B: number): void;
  /** After a training step succeeded (its update applied): what its training
   *  forward changes in the model (batch_norm's running statistics). A step
   *  that throws never commits, so it changes nothing. */
  commit?(c: StepContext, l: Layer): void;
  /** Its PyTorch, Keras and ONNX mapping (interop-kit.ts); absent for a kind
   *  the interchange formats do not cover (the internal `params`). */
  interop?: LayerInterop;
}

export { size } from "../base/shape.js";
