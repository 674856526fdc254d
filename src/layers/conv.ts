// conv2d and conv2d_transpose layers on NHWC images: settings, shapes and
// parameters from src/kernels/conv-shape.ts (Keras / TF conventions), kernels from
// assembly/conv.ts (activation fused, the batch run in chunks that fit the
// planned scratch). The two kinds differ only in their geometry's `kind`.
//   conv2d           x (B, H, W, C) → y (B, Ho, Wo, filters), w (kh, kw, C, filters)
//   conv2d_transpose x (B, H, W, C) → y (B, Ho, Wo, filters), w (kh, kw, filters, C)
import { convChunkImages, convGeometry, convParamShapes, convScratchBytes, type ConvGeometry, type ConvKind, type ConvSettings } from "../kernels/conv-shape.js";
import { fail } from "../base/validate.js";
import type { LayerKind } from "./kind.js";

const geometry = (l: { derived?: unknown }) => l.derived as ConvGeometry;

function convKind(kind: ConvKind): LayerKind {
  const known = kind === "conv2d" ? ["filters", "kernel", "stride", "padding"] : ["filters", "kernel", "stride", "padding", "outputPadding"];
  const geo = (inShape: readonly number[], s: Record<string, unknown>, at: string): ConvGeometry => {
    if (inShape.length !== 3) fail(at, `an image input (H, W, C) for a ${kind} layer (add { type: "reshape", shape: [H, W, C] } before it)`, `shape (${inShape.join(", ")})`);
    return convGeometry(kind, inShape as [number, number, number], s as unknown as ConvSettings, at);
  };
  return {
    activates: true,
    alias: false,
    settings(e, at) {
      for (const k of Object.keys(e)) if (!known.includes(k)) fail(`${at}.${k}`, `no such setting of a ${kind} layer (known: type, ${known.join(", ")}, activation)`);
      if (e.filters === undefined) fail(`${at}.filters`, "an integer ≥ 1 (the output channels)");
      if (e.kernel === undefined) fail(`${at}.kernel`, "an integer ≥ 1 or a pair [rows, columns]");
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
        { name: `${l.name}.weight`, shape: p.w, role: "weight", fanIn: p.fanIn, fanOut: p.fanOut },
        { name: `${l.name}.bias`, shape: p.b, role: "bias", fanIn: p.fanIn, fanOut: p.fanOut },
      ];
    },
    scratchBytes(l, B) {
      const g = geometry(l);
      return convScratchBytes(g, chunkImages(g, B, 2));   // the larger of the two chunks
    },
    forward(c, l, B) {
      const g = geometry(l), f = kind === "conv2d" ? c.k.conv2d_forward : c.k.conv2d_transpose_forward;
      f(l.y, l.x, l.p[0], l.p[1], B, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw,
        g.strideH, g.strideW, g.padTop, g.padLeft, l.act, c.alpha, chunkImages(g, B, c.k.threads_count?.() ?? 1), c.scratch);
    },
    // g = dy ⊙ act'(y); dw = (conv: colsᵀ·g | transpose: im2col(g)ᵀ·x); db = Σ g; dx = the adjoint of forward (unless 0)
    backward(c, l, B) {
      const g = geometry(l), f = kind === "conv2d" ? c.k.conv2d_backward : c.k.conv2d_transpose_backward;
      f(l.dx, l.g[0], l.g[1], l.dy, l.x, l.p[0], l.y, B, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw,
        g.strideH, g.strideW, g.padTop, g.padLeft, l.act, c.alpha, 0, chunkImages(g, B, c.k.threads_count?.() ?? 1), c.scratch);
    },
  };
}

/** Floats of im2col per batch chunk in a layer's kernels: 256 KiB on one
 *  thread, 512 KiB (so a chunk's cols and the GEMM's packed panels still fit
 *  one core's L2, 1 MiB here) when the kernels split over threads, where a
 *  chunk twice as large halves the fork-joins of a Keras conv step (683 → 344
 *  per step) and cut its CPU time by 17% (plain) and 3% (relaxed), while on
 *  one thread it was 10% slower for the plain build (relaxed: no difference;
 *  bench/conv-chunk.ts, bench/results/conv-chunk.md, measured at load 15–19).
 *  No result depends on the chunk. */
export const LAYER_CHUNK_FLOATS = 1 << 16;
export const THREADED_CHUNK_FLOATS = 1 << 17;
let chunkFloats: number | null = null;
/** @internal For bench/conv-chunk.ts: one budget for every thread count from
 *  now on (null: the defaults). A model's scratch is planned with the budget
 *  at its creation, so it must run with that same budget. */
export function setChunkFloats(n: number | null): void { chunkFloats = n; }
function chunkImages(g: ConvGeometry, B: number, threads: number): number {
  return convChunkImages(g, B, chunkFloats ?? (threads > 1 ? THREADED_CHUNK_FLOATS : LAYER_CHUNK_FLOATS));
}

export const conv2d = convKind("conv2d");
export const conv2dTranspose = convKind("conv2d_transpose");
