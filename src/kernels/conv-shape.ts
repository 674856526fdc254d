// Shapes of the convolution layers (pure; no wasm): from an input (H, W, C)
// and a layer's settings, the output shape, the pads, the parameter shapes,
// the FLOPs, the batch chunk and the scratch bytes of assembly/conv.ts.
// Layout NHWC: an image row of the arena is H·W·C floats, channels last.
//
// conv2d (Keras Conv2D / tfjs conv2d), w (kh, kw, C, filters):
//   "valid"  Ho = ⌊(H − kh)/sh⌋ + 1, no pads
//   "same"   Ho = ⌈H/sh⌉, pad total = max((Ho − 1)·sh + kh − H, 0), top = ⌊total/2⌋,
//            the extra row at the bottom (as TensorFlow)
//   explicit Ho = ⌊(H + top + bottom − kh)/sh⌋ + 1
// conv2d_transpose (Keras Conv2DTranspose / tfjs conv2dTranspose), w (kh, kw, filters, C):
//   the adjoint of the conv2d that maps (Ho, Wo, filters) → (H, W, C); the
//   pads below are that conv2d's pads (tfjs computes them the same way):
//   "same"   Ho = H·sh, or with output padding op: (H − 1)·sh + kh − 2⌊kh/2⌋ + op;
//            pads as conv2d "same" from Ho (total = max((H − 1)·sh + kh − Ho, 0))
//   "valid"  Ho = H·sh + max(kh − sh, 0), or (H − 1)·sh + kh + op; no pads
//   explicit Ho = (H − 1)·sh + kh − top − bottom + op
//   (Keras' deconv_output_length; op < stride, so the adjoint conv2d maps Ho back to H.)
//
// For a layer kind (planner and training step):
//   g = convGeometry(kind, [H, W, C], settings, name)     output [g.outH, g.outW, g.outC]
//   params: convParamShapes(g) (w, b, Glorot fans); activations: x and y
//   (backward reads x and the post-activation y, and overwrites dy in place)
//   chunk = convChunkImages(g, maxBatch); scratch = convScratchBytes(g, chunk)
//   (enough for any batch ≤ maxBatch at convChunkImages(g, batch))
//   kernels.convForward / convBackward({..., geometry: g, scratch}) in wasm.ts.
// Not here: dilation, groups (not supported by the kernels).
import { gemmScratchBytes } from "../base/scratch.js";
import { ArgumentError, checkInt, describe, fail } from "../base/validate.js";

/** The two convolution kinds: conv2d (Keras Conv2D) and conv2d_transpose
 *  (Keras Conv2DTranspose, the adjoint of a conv2d). */
export type ConvKind = "conv2d" | "conv2d_transpose";
/** "same", "valid", p on every side, or [top, bottom, left, right]. */
export type Padding = "same" | "valid" | number | readonly [number, number, number, number];
export type Pair = number | readonly [number, number];

export interface ConvSettings {
  filters: number;
  /** kh × kw, or one number for a square kernel. */
  kernel: Pair;
  /** Default 1. */
  stride?: Pair;
  /** Default "valid" (as Keras). */
  padding?: Padding;
  /** conv2d_transpose only: extra rows/columns at the bottom/right (< stride). */
  outputPadding?: Pair;
}

/** Everything a kernel call needs about one layer, per image. For conv2d the
 *  pads apply to the input; for conv2d_transpose to the output (the pads of
 *  the adjoint conv2d, Ho → H). */
export interface ConvGeometry {
  /** conv2d or conv2d_transpose. */
  kind: ConvKind;
  /** Input image height. */
  inH: number;
  /** Input image width. */
  inW: number;
  /** Input channels. */
  inC: number;
  /** Output image height. */
  outH: number;
  /** Output image width. */
  outW: number;
  /** Output channels (the layer's filters). */
  outC: number;
  /** Kernel height. */
  kh: number;
  /** Kernel width. */
  kw: number;
  /** Stride along rows. */
  strideH: number;
  /** Stride along columns. */
  strideW: number;
  /** Rows of zeros above the padded image (≥ 0). */
  padTop: number;
  /** Rows of zeros below it (≥ 0). */
  padBottom: number;
  /** Columns of zeros left of it (≥ 0). */
  padLeft: number;
  /** Columns of zeros right of it (≥ 0). */
  padRight: number;
}

function pair(name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === "number") { checkInt(name, v, min); return [v, v]; }
  if (!Array.isArray(v) || v.length !== 2) fail(name, `an integer ≥ ${min} or a pair [rows, columns]`, v);
  return [checkInt(`${name}[0]`, v[0], min), checkInt(`${name}[1]`, v[1], min)];
}

/** The geometry of a conv2d or conv2d_transpose layer on (H, W, C) images;
 *  `name` prefixes every error ("decoder.1.kernel: expected …"). */
export function convGeometry(kind: ConvKind, inShape: readonly [number, number, number], s: ConvSettings,
  name = "layer"): ConvGeometry {
  if (kind !== "conv2d" && kind !== "conv2d_transpose") fail(`${name}.type`, `"conv2d" or "conv2d_transpose"`, kind);
  if (!Array.isArray(inShape) || inShape.length !== 3) fail(`${name} input shape`, "[H, W, C]", inShape);
  const [H, W, C] = inShape.map((v, i) => checkInt(`${name} input shape[${i}]`, v));
  const filters = checkInt(`${name}.filters`, s.filters);
  const [kh, kw] = pair(`${name}.kernel`, s.kernel, 1, 1);
  const [sh, sw] = pair(`${name}.stride`, s.stride, 1, 1);
  const padding = s.padding ?? "valid";
  const transpose = kind === "conv2d_transpose";
  if (!transpose && s.outputPadding !== undefined) fail(`${name}.outputPadding`, "no output padding on a conv2d (only conv2d_transpose)", s.outputPadding);
  const op = s.outputPadding === undefined ? undefined : pair(`${name}.outputPadding`, s.outputPadding, 0, 0);
  if (op && (op[0] >= sh || op[1] >= sw)) {
    fail(`${name}.outputPadding`, `values smaller than the stride [${sh}, ${sw}]`, op.join("×"));
  }
  let pads: [number, number, number, number];
  if (padding === "same" || padding === "valid") pads = [0, 0, 0, 0];
  else if (typeof padding === "number") { checkInt(`${name}.padding`, padding, 0); pads = [padding, padding, padding, padding]; }
  else if (Array.isArray(padding) && padding.length === 4) {
    pads = padding.map((p, i) => checkInt(`${name}.padding[${i}]`, p, 0)) as [number, number, number, number];
  } else {
    fail(`${name}.padding`, `"same", "valid", an integer ≥ 0 or [top, bottom, left, right]`, padding);
  }
  // One spatial axis: (input length, kernel, stride, pad before, pad after, output padding) → [out, before, after]
  const axis = (axisName: string, n: number, k: number, st: number, before: number, after: number, o: number | undefined): [number, number, number] => {
    if (!transpose) {
      if (padding === "same") {
        const out = Math.ceil(n / st), total = Math.max((out - 1) * st + k - n, 0);
        return [out, Math.floor(total / 2), total - Math.floor(total / 2)];
      }
      if (n + before + after < k) {
        throw new ArgumentError(`${name}.kernel: the ${axisName} kernel size ${k} is larger than the padded input (${n + before + after})`);
      }
      return [Math.floor((n + before + after - k) / st) + 1, before, after];
    }
    if (padding === "same") {
      const out = o === undefined ? n * st : (n - 1) * st + k - 2 * Math.floor(k / 2) + o;
      const total = Math.max((n - 1) * st + k - out, 0);
      return [out, Math.floor(total / 2), total - Math.floor(total / 2)];
    }
    if (padding === "valid" && o === undefined) return [n * st + Math.max(k - st, 0), 0, 0];
    const out = (n - 1) * st + k - before - after + (o ?? 0);
    if (out < 1) throw new ArgumentError(`${name}.padding: pads ${before} + ${after} leave no ${axisName} output (${out})`);
    return [out, before, after];
  };
  const [outH, padTop, padBottom] = axis("rows", H, kh, sh, pads[0], pads[1], op?.[0]);
  const [outW, padLeft, padRight] = axis("columns", W, kw, sw, pads[2], pads[3], op?.[1]);
  const g: ConvGeometry = { kind, inH: H, inW: W, inC: C, outH, outW, outC: filters, kh, kw,
    strideH: sh, strideW: sw, padTop, padBottom, padLeft, padRight };
  checkConvGeometry(g, name);
  return g;
}

/** Throws unless g is a geometry the kernels can run: positive sizes, pads
 *  ≥ 0, and output sizes that agree with the stride and pads. */
export function checkConvGeometry(g: ConvGeometry, name = "geometry"): void {
  if (typeof g !== "object" || g === null) fail(name, "a ConvGeometry (from convGeometry)", g);
  if (g.kind !== "conv2d" && g.kind !== "conv2d_transpose") fail(`${name}.kind`, `"conv2d" or "conv2d_transpose"`, g.kind);
  for (const k of ["inH", "inW", "inC", "outH", "outW", "outC", "kh", "kw", "strideH", "strideW"] as const) checkInt(`${name}.${k}`, g[k]);
  for (const k of ["padTop", "padBottom", "padLeft", "padRight"] as const) checkInt(`${name}.${k}`, g[k], 0);
  // The conv2d side: image (Hi, Wi) → patch rows (Hp, Wp) = ⌊(Hi + pads − k)/s⌋ + 1
  const t = g.kind === "conv2d_transpose";
  const [Hi, Wi, Hp, Wp] = t ? [g.outH, g.outW, g.inH, g.inW] : [g.inH, g.inW, g.outH, g.outW];
  const rows = Math.floor((Hi + g.padTop + g.padBottom - g.kh) / g.strideH) + 1;
  const cols = Math.floor((Wi + g.padLeft + g.padRight - g.kw) / g.strideW) + 1;
  if (rows !== Hp || cols !== Wp) {
    fail(name, `${t ? "input" : "output"} ${rows}×${cols} for a ${Hi}×${Wi} image, kernel ${g.kh}×${g.kw}, stride ${g.strideH}×${g.strideW}, ` +
      `pads ${g.padTop},${g.padBottom},${g.padLeft},${g.padRight}`, `${Hp}×${Wp}`);
  }
  if (4 * Math.max(g.inH * g.inW * g.inC, g.outH * g.outW * g.outC, g.kh * g.kw * g.inC * g.outC) > 2 ** 31) {
    fail(name, "an image and a kernel of fewer than 2^29 floats each", describe(g.kind));
  }
}

/** [H, W, C] of one output image. */
export function convOutputShape(g: ConvGeometry): [number, number, number] {
  return [g.outH, g.outW, g.outC];
}

/** Parameter shapes and Glorot fans: w (kh, kw, C, filters) for conv2d,
 *  (kh, kw, filters, C) for conv2d_transpose (as Keras and tfjs), b (filters). */
export function convParamShapes(g: ConvGeometry): { w: number[]; b: number[]; fanIn: number; fanOut: number } {
  const r = g.kh * g.kw;
  return g.kind === "conv2d"
    ? { w: [g.kh, g.kw, g.inC, g.outC], b: [g.outC], fanIn: r * g.inC, fanOut: r * g.outC }
    // Keras computes fans from the kernel's last two axes: (filters, C)
    : { w: [g.kh, g.kw, g.outC, g.inC], b: [g.outC], fanIn: r * g.outC, fanOut: r * g.inC };
}

/** Multiply-adds ×2 of the layer's GEMMs for `batch` images (padding taps
 *  included, as im2col computes them); forward = each backward GEMM. */
export function convFlops(g: ConvGeometry, batch: number): number {
  const pixels = g.kind === "conv2d" ? g.outH * g.outW : g.inH * g.inW;
  return 2 * batch * pixels * g.kh * g.kw * g.inC * g.outC;
}

/** Floats of one image's im2col matrix: the conv2d side's output pixels ×
 *  the patch length (kh·kw·channels of the image side). */
function colsPerImage(g: ConvGeometry): number {
  return g.kind === "conv2d" ? g.outH * g.outW * g.kh * g.kw * g.inC : g.inH * g.inW * g.kh * g.kw * g.outC;
}

/** Floats of im2col per batch chunk (a layer's, and the kernels' default), on
 *  any thread count: 512 KiB. On threads each task runs whole chunks in a slot
 *  of its own (assembly/conv.ts), so the chunk no longer sets the fork-joins;
 *  from 128 KiB to 1 MiB the 2-thread Keras conv step moved within ±5%,
 *  512 KiB and 1 MiB fastest (`tsx bench/conv-chunk.ts --sizes
 *  32768,65536,131072,262144 --threads 2`, bench/results/conv-chunk.md). No
 *  result depends on the chunk. */
export const CONV_CHUNK_FLOATS = 1 << 17;

/** Images per chunk for a batch: as many as fit `floats` (default
 *  CONV_CHUNK_FLOATS) of im2col, at least 1, at most `batch`. Results do not
 *  depend on it; scratch does. */
export function convChunkImages(g: ConvGeometry, batch: number, floats = CONV_CHUNK_FLOATS): number {
  checkInt("batch", batch);
  return Math.max(1, Math.min(batch, Math.floor(floats / colsPerImage(g))));
}

let chunkFloats: number | null = null;
/** @internal For bench/conv-chunk.ts: this budget from now on (null: the
 *  default). A model's scratch is planned with the budget at its creation,
 *  so it must run with that same budget. */
export function setChunkFloats(n: number | null): void { chunkFloats = n; }
/** Images per chunk of a conv layer's kernel calls on B rows. */
export function convLayerChunk(g: ConvGeometry, B: number): number {
  return convChunkImages(g, B, chunkFloats ?? CONV_CHUNK_FLOATS);
}

/** Slots of a conv call's scratch at most (assembly/conv.ts CONV_SLOTS): tasks of one call at most;
 *  fewer where the slots would pass SLOTS_BYTES (at least one: the call is then one task, whose kernels split). */
export const CONV_SLOTS = 4;
const SLOTS_BYTES = 8 << 20;
/** Slots of a layer's scratch whose slot is `slot` bytes (assembly/conv.ts convSlots). */
export function convSlots(slot: number): number {
  return Math.max(1, Math.min(CONV_SLOTS, Math.floor(SLOTS_BYTES / slot)));
}
/** Batch groups of a conv backward at most, and floats of all their partials at most (assembly/conv.ts). */
const GROUPS_MAX = 16, PARTIAL_FLOATS = 1 << 20;

const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;

/** Batch groups a conv backward cuts B images into (its dw and db are summed
 *  per group, then over the groups in order): depends on B and the layer
 *  only; mirrors conv_groups in assembly/conv.ts. */
export function convGroups(g: ConvGeometry, B: number): number {
  const t = g.kind === "conv2d_transpose";
  const kc = g.kh * g.kw * (t ? g.outC : g.inC), n = t ? g.inC : g.outC;
  return Math.max(1, Math.min(B, GROUPS_MAX, Math.floor(PARTIAL_FLOATS / (n * kc + g.outC))));
}

/** Bytes of scratch for forward and backward at `chunk` images per chunk;
 *  mirrors conv_scratch_bytes in assembly/conv.ts. */
export function convScratchBytes(g: ConvGeometry, chunk: number): number {
  const t = g.kind === "conv2d_transpose";
  const rows = chunk * (t ? g.inH * g.inW : g.outH * g.outW);
  const kc = g.kh * g.kw * (t ? g.outC : g.inC);
  // the backward's dwᵀ (n, kc), n = conv2d filters / conv2d_transpose input channels
  const n = t ? g.inC : g.outC;
  // a slot: cols (rows, kc), then the largest GEMM's scratch; one channel on
  // the patch side (conv2d inC = 1, conv2d_transpose outC = 1): one padded
  // image ((Hp−1)·sh + kh) × ((Wp−1)·sw + kw) over the patch grid (Hp, Wp)
  // and kh·kw tap offsets, at any chunk
  const [Hp, Wp] = t ? [g.inH, g.inW] : [g.outH, g.outW];
  const padded = ((Hp - 1) * g.strideH + g.kh) * ((Wp - 1) * g.strideW + g.kw);
  const slot = (t ? g.outC : g.inC) === 1 ? align64(padded * 4) + align64(g.kh * g.kw * 4)
    : align64(rows * kc * 4) + Math.max(gemmScratchBytes(rows, t ? g.inC : kc), gemmScratchBytes(n, rows), gemmScratchBytes(rows, t ? kc : g.outC));
  // each group's partials: dwᵀ, then db (outC)
  const groups = convGroups(g, Infinity);
  return convSlots(slot) * slot + groups * (align64(n * kc * 4) + align64(g.outC * 4));
}
