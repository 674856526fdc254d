// reshape: any shape → `shape` of the same size, no copy (the row's floats
// are reinterpreted, e.g. (7·7·64) → (7, 7, 64) NHWC). Backward: dy is dx.
import { checkInt, fail } from "../base/validate.js";
import { size, type LayerKind } from "./kind.js";

export const reshape: LayerKind = {
  activates: false,
  alias: true,
  settings(e, at) {
    for (const k of Object.keys(e)) if (k !== "shape") fail(`${at}.${k}`, "no such setting of a reshape layer (known: type, shape)");
    if (!Array.isArray(e.shape) || e.shape.length < 1 || e.shape.length > 3) fail(`${at}.shape`, "an array of 1 to 3 integers ≥ 1 ((D) or NHWC (H, W, C))", e.shape);
    return { shape: (e.shape as unknown[]).map((d, i) => checkInt(`${at}.shape[${i}]`, d, 1, 1 << 24)) };
  },
  outputShape(inShape, s, at) {
    const shape = s.shape as number[];
    if (size(shape) !== size(inShape)) fail(`${at}.shape`, `a shape of ${size(inShape)} values (its input is (${inShape.join(", ")}))`, `(${shape.join(", ")})`);
    return [...shape];
  },
  params: () => [],
  scratchBytes: () => 0,
  forward() {},
  backward() {},
};
