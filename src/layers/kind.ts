// What a layer kind is. A kind is a table entry (layers/index.ts) that says,
// from its input shape and settings, everything the planner and the training
// step need; a layer is plain data: the kind's name, its resolved settings and
// shapes, and (once the arena is laid out) its pointers. The step walks a list
// of layers calling kind.forward / kind.backward and never asks which kind.
//
// Shapes are per row: (D) for flat rows, NHWC (H, W, C) for images; a batch
// of B rows is B·size(shape) floats, row-major.
// Not here: the kinds themselves (one file each), the layout (plan.ts), the
// arena (network.ts).
import type { Activation, RawExports } from "../kernels/wasm.js";

export type Shape = readonly number[];

/** One parameter tensor of a layer. */
export interface ParamSpec {
  /** Full name: "<layer name>.weight" / ".bias". */
  name: string;
  /** Its shape (dense weight (in, out); conv2d (kh, kw, in, filters);
   *  conv2d_transpose (kh, kw, filters, in); bias (out)). */
  shape: number[];
  /** "weight": U(±a) with a from the fans (Glorot / He / PyTorch); "bias":
   *  zero, or U(±1/√fanIn) under the PyTorch init. */
  role: "weight" | "bias";
  /** Fan-in of the initialisation: a dense layer's input width; a
   *  convolution's kh·kw times its weight's third axis (Keras' fans). */
  fanIn: number;
  /** Fan-out of the initialisation: a dense layer's output width; a
   *  convolution's kh·kw times its weight's last axis. */
  fanOut: number;
  /** Its own initialisation, instead of the role's: U(lo, hi) or
   *  N(mean, std²) from the training stream, or a constant (learned priors' tensors). */
  init?: {
    /** U(lo, hi): [lo, hi]. */
    uniform: [number, number];
  } | {
    /** Every entry this value. */
    constant: number;
  } | {
    /** N(mean, std²): [mean, std]. */
    normal: [number, number];
  };
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

export interface LayerKind {
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
}

export { size } from "../base/shape.js";
