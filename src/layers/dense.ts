// dense: y (B, OUT) = act(x (B, IN)·w (IN, OUT) + b (OUT)), on a flat input.
// Kernels: assembly/dense.ts (the activation is fused).
import { denseBackwardScratchBytes, gemmScratchBytes } from "../base/scratch.js";
import { checkInt, fail } from "../base/validate.js";
import { FLAT, kerasKernelBias, KERAS_PARAM_CONFIG, onnxNode, torchBias, torchOrder, type NetLayer } from "./interop-kit.js";
import { fanInit } from "./init.js";
import type { LayerActivation, LayerKind } from "./kind.js";

const units = (s: Record<string, unknown>) => s.units as number;

/** { type: "dense", units }: a fully connected layer on a flat input, (IN) → (units). */
export interface DenseLayerConfig {
  /** A fully connected layer (Keras Dense). */
  type: "dense";
  /** Output width (an integer ≥ 1; Keras' name too). */
  units: number;
  /** Fused activation (default: the config's `activation`). */
  activation?: LayerActivation;
}

export const dense: LayerKind<DenseLayerConfig> = {
  activates: true,
  alias: false,
  settings(e, at) {
    for (const k of Object.keys(e)) if (k !== "units") fail(`${at}.${k}`, `no such setting of a dense layer (known: type, units, activation)`);
    return { units: checkInt(`${at}.units`, e.units, 1, 1 << 24) };
  },
  outputShape(inShape, s, at) {
    if (inShape.length !== 1) fail(at, `a flat input for a dense layer (add { type: "flatten" } before it)`, `shape (${inShape.join(", ")})`);
    return [units(s)];
  },
  params(l) {
    const IN = l.inShape[0], OUT = l.outShape[0];
    return [
      { name: `${l.name}.weight`, shape: [IN, OUT], init: fanInit("weight", IN, OUT) },
      { name: `${l.name}.bias`, shape: [OUT], init: fanInit("bias", IN, OUT) },
    ];
  },
  scratchBytes(l, B) {
    const IN = l.inShape[0], OUT = l.outShape[0];
    return Math.max(gemmScratchBytes(B, IN), denseBackwardScratchBytes(B, IN, OUT));
  },
  forward(c, l, B) {
    c.k.dense_forward(l.y, l.x, l.p[0], l.p[1], B, l.inShape[0], l.outShape[0], l.act, c.alpha, c.scratch);
  },
  // dy ← dy ⊙ act'(y); dw = xᵀ·dy; db = Σ_b dy; dx = dy·wᵀ
  backward(c, l, B) {
    c.k.dense_backward(l.dx, l.g[0], l.g[1], l.dy, l.x, l.p[0], l.y, B, l.inShape[0], l.outShape[0], l.act, c.alpha, 0, c.scratch);
  },
  interop: {
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
        { ...torchBias(l),
          toTorch: (a) => op ? Float32Array.from(op, (j) => a[j]) : a.slice(),
          fromTorch: (t) => { if (!op) return t.slice(); const a = new Float32Array(t.length); op.forEach((j, o) => { a[j] = t[o]; }); return a; } },
      ];
    },
    torch: () => ({}),
    // its output feeds a reshape to an image: PyTorch's columns are that image's (C, H, W)
    torchOut: (_l, _in, next) => next?.kind === "reshape" && next.outShape.length === 3 ? { image: false, chw: next.outShape as [number, number, number] } : FLAT,
    // Keras Dense: kernel (in, out) is our weight
    keras: kerasKernelBias((l: NetLayer) => [l.inShape[0], l.outShape[0]], 1, (_l, name, from, to) => [{ className: "Dense", name, config: { units: to - from, ...KERAS_PARAM_CONFIG } }]),
    // Gemm(A, B, C, transB = 1) = A Bᵀ + C with B the PyTorch (out, in) weight, as torch.onnx.export writes nn.Linear
    onnx: (l, input) => onnxNode(l, "Gemm", [input, `${l.name}.weight`, `${l.name}.bias`], { transB: 1 }),
  },
};
