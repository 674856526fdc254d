// flatten: (H, W, C) → (H·W·C), no copy (the output is the input's memory:
// NHWC rows are already flat). Backward is the identity, so dy is dx.
import { fail } from "../base/validate.js";
import { size, type LayerKind } from "./kind.js";
import { reshapeInterop } from "./reshape.js";

/** { type: "flatten" }: (H, W, C) → (H·W·C), no copy (the rows are already flat, NHWC). */
export interface FlattenLayerConfig {
  /** Keras Flatten. */
  type: "flatten";
}

export const flatten: LayerKind<FlattenLayerConfig> = {
  activates: false,
  alias: true,
  settings(e, at) {
    for (const k of Object.keys(e)) fail(`${at}.${k}`, "no such setting of a flatten layer (it takes none)");
    return {};
  },
  outputShape: (inShape) => [size(inShape)],
  params: () => [],
  scratchBytes: () => 0,
  forward() {},
  backward() {},
  interop: reshapeInterop(true),
};
