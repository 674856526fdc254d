// dense: y (B, OUT) = act(x (B, IN)·w (IN, OUT) + b (OUT)), on a flat input.
// Kernels: assembly/dense.ts (the activation is fused).
import { gemmScratchBytes } from "../base/scratch.js";
import { checkInt, fail } from "../base/validate.js";
import type { LayerKind } from "./kind.js";

const units = (s: Record<string, unknown>) => s.units as number;

export const dense: LayerKind = {
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
      { name: `${l.name}.weight`, shape: [IN, OUT], role: "weight", fanIn: IN, fanOut: OUT },
      { name: `${l.name}.bias`, shape: [OUT], role: "bias", fanIn: IN, fanOut: OUT },
    ];
  },
  scratchBytes(l, B) {
    const IN = l.inShape[0], OUT = l.outShape[0];
    return Math.max(gemmScratchBytes(B, IN), gemmScratchBytes(IN, B), gemmScratchBytes(B, OUT));
  },
  forward(c, l, B) {
    c.k.dense_forward(l.y, l.x, l.p[0], l.p[1], B, l.inShape[0], l.outShape[0], l.act, c.alpha, c.scratch);
  },
  // dy ← dy ⊙ act'(y); dw = xᵀ·dy; db = Σ_b dy; dx = dy·wᵀ
  backward(c, l, B) {
    c.k.dense_backward(l.dx, l.g[0], l.g[1], l.dy, l.x, l.p[0], l.y, B, l.inShape[0], l.outShape[0], l.act, c.alpha, 0, c.scratch);
  },
};
