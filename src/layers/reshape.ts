// reshape: any shape → `shape` of the same size, no copy (the row's floats
// are reinterpreted, e.g. (7·7·64) → (7, 7, 64) NHWC). Backward: dy is dx.
import { checkInt, fail } from "../base/validate.js";
import { IMAGE, kerasLayersOnly, onnxToOurs, type LayerInterop, type OnnxPart } from "./interop-kit.js";
import { size, type LayerKind } from "./kind.js";

/** { type: "reshape", shape }: any shape → `shape` of the same size, no copy. */
export interface ReshapeLayerConfig {
  /** Keras Reshape. */
  type: "reshape";
  /** The output shape per row: (D) or NHWC (H, W, C), 1 to 3 integers ≥ 1. */
  shape: number[];
}

export const reshape: LayerKind<ReshapeLayerConfig> = {
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
  interop: reshapeInterop(false),
};

/** flatten and reshape in the interchange formats: no parameters. Keras
 *  (NHWC like ours) reshapes as we do; PyTorch flattens NCHW images
 *  (torch.flatten(h, 1)) and views flat rows it laid out as (C, H, W) as
 *  images (h.view(-1, C, H, W)); anything else goes through our NHWC order. */
export function reshapeInterop(flatten: boolean): LayerInterop {
  return {
    params: () => [],
    torch: () => ({}),
    torchOut: (l, t) => l.outShape.length === 3 ? IMAGE : t.image ? { image: false, chw: l.inShape as [number, number, number] } : t,
    keras: kerasLayersOnly((l, name) => [flatten
      ? { className: "Flatten", name, config: { data_format: "channels_last" } }
      : { className: "Reshape", name, config: { target_shape: [...l.outShape] } }]),
    onnx: (l, input) => {
      const n = size(l.outShape), out = l.outShape;
      if (out.length === 1) {
        if (!l.torchIn.image) return { nodes: [], consts: [], output: input };
        return { nodes: [{ opType: "Flatten", name: `${l.name}/Flatten`, inputs: [input], outputs: [`${l.name}/out`], attributes: { axis: 1 } }], consts: [], output: `${l.name}/out` };
      }
      const [H, W, C] = out;
      const t = l.torchIn;
      const direct = !t.image && t.chw !== null && t.chw.every((d, i) => d === out[i]);
      const part: OnnxPart = direct ? { nodes: [], consts: [], output: input } : onnxToOurs(l.name, input, t, n, false);
      const shape = `${l.name}/shape`;
      part.consts.push({ name: shape, dims: [4], int64: direct ? [-1, C, H, W] : [-1, H, W, C] });
      part.nodes.push({ opType: "Reshape", name: `${l.name}/Reshape`, inputs: [part.output, shape], outputs: [`${l.name}/out`] });
      part.output = `${l.name}/out`;
      if (!direct) {
        part.nodes.push({ opType: "Transpose", name: `${l.name}/Transpose`, inputs: [part.output], outputs: [`${l.name}/nchw`], attributes: { perm: [0, 3, 1, 2] } });
        part.output = `${l.name}/nchw`;
      }
      return part;
    },
  };
}
