// conv2d and conv2d_transpose layers on NHWC images: settings, shapes and
// parameters from src/kernels/conv-shape.ts (Keras / TF conventions), kernels from
// assembly/conv.ts (activation fused, the batch run in chunks that fit the
// planned scratch, conv-shape.ts convLayerChunk; threads are the kernels'
// business). The two kinds differ only in their geometry's `kind`.
//   conv2d           x (B, H, W, C) → y (B, Ho, Wo, filters), w (kh, kw, C, filters)
//   conv2d_transpose x (B, H, W, C) → y (B, Ho, Wo, filters), w (kh, kw, filters, C)
import {
  convGeometry, convLayerChunk, convParamShapes, convScratchBytes, type ConvGeometry, type ConvKind, type ConvSettings, type Padding,
} from "../kernels/conv-shape.js";
import { ArgumentError, fail } from "../base/validate.js";
import { IMAGE, kerasKernelBias, KERAS_PARAM_CONFIG, permuteAxes, torchBias, type KerasLayer, type LayerInterop, type NetLayer } from "./interop-kit.js";
import { fanInit } from "./init.js";
import type { LayerActivation, LayerKind } from "./kind.js";
import { renameSynonyms } from "./settings.js";

const geometry = (l: { derived?: unknown }) => l.derived as ConvGeometry;

/** Keras / TensorFlow.js spellings of our settings. */
const SYNONYMS = { kernelSize: "kernel", strides: "stride" };

function convKind<Config>(kind: ConvKind): LayerKind<Config> {
  const known = kind === "conv2d" ? ["filters", "kernel", "stride", "padding"] : ["filters", "kernel", "stride", "padding", "outputPadding"];
  const spelled = known.map((k) => Object.entries(SYNONYMS).find(([, ours]) => ours === k)?.[0] ?? null).map((theirs, i) => theirs ? `${known[i]} (or ${theirs})` : known[i]);
  const geo = (inShape: readonly number[], s: Record<string, unknown>, at: string): ConvGeometry => {
    if (inShape.length !== 3) fail(at, `an image input (H, W, C) for a ${kind} layer (add { type: "reshape", shape: [H, W, C] } before it)`, `shape (${inShape.join(", ")})`);
    return convGeometry(kind, inShape as [number, number, number], s as unknown as ConvSettings, at);
  };
  return {
    activates: true,
    alias: false,
    settings(entry, at) {
      for (const k of Object.keys(entry)) if (!known.includes(k) && !(k in SYNONYMS)) fail(`${at}.${k}`, `no such setting of a ${kind} layer (known: type, ${spelled.join(", ")}, activation)`);
      const e = renameSynonyms(entry, at, SYNONYMS);
      if (e.filters === undefined) fail(`${at}.filters`, "an integer ≥ 1 (the output channels)");
      if (e.kernel === undefined) fail(`${at}.kernel`, "an integer ≥ 1 or a pair [rows, columns] (also spelled kernelSize)");
      // the values are checked against the input shape by convGeometry (outputShape)
      const s: Record<string, unknown> = {};
      for (const k of known) if (e[k] !== undefined) s[k] = e[k];
      return s;
    },
    outputShape(inShape, s, at) {
      const g = geo(inShape, s, at);
      return [g.outH, g.outW, g.outC];
    },
    derive: geo,
    params(l) {
      const p = convParamShapes(geometry(l));
      return [
        { name: `${l.name}.weight`, shape: p.w, init: fanInit("weight", p.fanIn, p.fanOut) },
        { name: `${l.name}.bias`, shape: p.b, init: fanInit("bias", p.fanIn, p.fanOut) },
      ];
    },
    scratchBytes(l, B) {
      const g = geometry(l);
      return convScratchBytes(g, convLayerChunk(g, B));
    },
    forward(c, l, B) {
      const g = geometry(l), f = kind === "conv2d" ? c.k.conv2d_forward : c.k.conv2d_transpose_forward;
      f(l.y, l.x, l.p[0], l.p[1], B, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw,
        g.strideH, g.strideW, g.padTop, g.padLeft, l.act, c.alpha, convLayerChunk(g, B), c.scratch);
    },
    // g = dy ⊙ act'(y); dw = (conv: colsᵀ·g | transpose: im2col(g)ᵀ·x); db = Σ g; dx = the adjoint of forward (unless 0)
    backward(c, l, B) {
      const g = geometry(l), f = kind === "conv2d" ? c.k.conv2d_backward : c.k.conv2d_transpose_backward;
      f(l.dx, l.g[0], l.g[1], l.dy, l.x, l.p[0], l.y, B, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw,
        g.strideH, g.strideW, g.padTop, g.padLeft, l.act, c.alpha, 0, convLayerChunk(g, B), c.scratch);
    },
    interop: convInterop(kind === "conv2d_transpose"),
  };
}

/** Our weight's shape: conv2d (kh, kw, in, out); conv2d_transpose (kh, kw, out, in). */
function weightShape(l: NetLayer): number[] {
  const g = geometry(l);
  return g.kind === "conv2d" ? [g.kh, g.kw, g.inC, g.outC] : [g.kh, g.kw, g.outC, g.inC];
}

/** conv2d and conv2d_transpose in the interchange formats. PyTorch:
 *  Conv2d.weight (out, in, kh, kw) from ours (kh, kw, in, out);
 *  ConvTranspose2d.weight (in, out, kh, kw) from ours (kh, kw, out, in): both
 *  are axes (3, 2, 0, 1) of ours. */
function convInterop(transpose: boolean): LayerInterop {
  const TO_TORCH = [3, 2, 0, 1], FROM_TORCH = [2, 3, 1, 0];
  return {
    params: (l) => {
      const s = weightShape(l), ts = TO_TORCH.map((a) => s[a]);
      return [
        { suffix: "weight", shape: s, torchShape: ts, toTorch: (a) => permuteAxes(a, s, TO_TORCH), fromTorch: (a) => permuteAxes(a, ts, FROM_TORCH) },
        torchBias(l),
      ];
    },
    // nn.Conv2d(padding=0) after F.pad(h, (left, right, top, bottom)); nn.ConvTranspose2d(padding=0,
    // output_padding) then the crop [top, top + Ho) × [left, left + Wo) of its (H − 1)·s + k + op rows
    torch: (l) => {
      const g = geometry(l);
      const op = (n: number, s: number, k: number, top: number, out: number) => Math.max(0, top + out - ((n - 1) * s + k));
      return {
        kernel: [g.kh, g.kw], stride: [g.strideH, g.strideW], pads: [g.padTop, g.padBottom, g.padLeft, g.padRight],
        ...(transpose ? { output_padding: [op(g.inH, g.strideH, g.kh, g.padTop, g.outH), op(g.inW, g.strideW, g.kw, g.padLeft, g.outW)] } : {}),
      };
    },
    torchOut: () => IMAGE,
    // Keras' "same" and "valid" are TensorFlow's pads; other pads: a ZeroPadding2D
    // before a valid Conv2D, a Cropping2D after a valid Conv2DTranspose
    keras: kerasKernelBias(weightShape, transpose ? 2 : 3, (l, name, from, to) => {
      const g = geometry(l), pad = l.settings.padding ?? "valid";
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
      const g = geometry(l), out = `${l.name}/out`;
      const attributes: Record<string, number[]> = { kernel_shape: [g.kh, g.kw], strides: [g.strideH, g.strideW], pads: [g.padTop, g.padLeft, g.padBottom, g.padRight] };
      if (transpose) {
        attributes.output_padding = [g.outH - (g.strideH * (g.inH - 1) + g.kh - g.padTop - g.padBottom), g.outW - (g.strideW * (g.inW - 1) + g.kw - g.padLeft - g.padRight)];
      }
      const op = transpose ? "ConvTranspose" : "Conv";
      return { nodes: [{ opType: op, name: `${l.name}/${op}`, inputs: [input, `${l.name}.weight`, `${l.name}.bias`], outputs: [out], attributes }], consts: [], output: out };
    },
  };
}

/** The kernel size of a convolution, by either name (Keras / tfjs: kernelSize). */
export type KernelSize =
  | {
    /** Kernel size: kh = kw, or [kh, kw]. */
    kernel: number | readonly [number, number];
    /** Not with `kernel`. */
    kernelSize?: never;
  }
  | {
    /** Kernel size: kh = kw, or [kh, kw] (the Keras / tfjs name of `kernel`). */
    kernelSize: number | readonly [number, number];
    /** Not with `kernelSize`. */
    kernel?: never;
  };

/** The settings both convolutions take (and a kernel size, KernelSize). */
export interface ConvLayerSettings {
  /** Output channels (an integer ≥ 1). */
  filters: number;
  /** Stride: one for both axes, or [rows, columns]. Default 1. */
  stride?: number | readonly [number, number];
  /** The Keras / tfjs name of `stride` (give one of the two). */
  strides?: number | readonly [number, number];
  /** Default "valid" (as Keras). */
  padding?: Padding;
  /** Fused activation (default: the config's `activation`). */
  activation?: LayerActivation;
}

/** { type: "conv2d", filters, kernel, … }: a 2-D convolution on (H, W, C)
 *  images (Keras Conv2D), weights (kh, kw, C, filters). */
export type Conv2dLayerConfig = {
  /** Keras Conv2D. */
  type: "conv2d";
} & ConvLayerSettings & KernelSize;

/** { type: "conv2d_transpose", filters, kernel, … }: a transposed 2-D
 *  convolution on (H, W, C) images (Keras Conv2DTranspose), weights (kh, kw, filters, C). */
export type Conv2dTransposeLayerConfig = {
  /** Keras Conv2DTranspose. */
  type: "conv2d_transpose";
} & ConvLayerSettings & KernelSize & {
  /** Extra output rows / columns at the bottom / right, each smaller than
   *  the stride (Keras output_padding). Default none. */
  outputPadding?: number | readonly [number, number];
};

export const conv2d = convKind<Conv2dLayerConfig>("conv2d");
export const conv2dTranspose = convKind<Conv2dTransposeLayerConfig>("conv2d_transpose");
