// condition: the internal layer where a conditional VAE's condition joins a
// flat activation: y (B, F + C) = [x (B, F) | c (B, C)] (a copy). Backward
// passes dy's first F columns to dx; the condition takes no gradient.
// The architecture inserts it before the encoder's first dense layer when
// that layer is not the first of the network on flat data (there the rows are
// loaded as [x | c] directly, no copy). Users do not list it.
import { kerasLayersOnly, onnxNode } from "./interop-kit.js";
import type { LayerKind } from "./kind.js";

export const condition: LayerKind = {
  activates: false,
  alias: false,
  settings: () => ({}),
  outputShape: (inShape, s) => [inShape[0] + (s.conditionDim as number)],
  params: () => [],
  scratchBytes: () => 0,
  forward(c, l, B) {
    const F = l.inShape[0], W = l.outShape[0], C = W - F;
    for (let b = 0; b < B; b++) {
      c.k.copy(l.y + 4 * b * W, l.x + 4 * b * F, F);
      c.k.copy(l.y + 4 * (b * W + F), c.condition + 4 * b * C, C);
    }
  },
  // dx[b] = dy[b, 0:F]
  backward(c, l, B) {
    if (l.dx === 0) return;
    const F = l.inShape[0], W = l.outShape[0];
    for (let b = 0; b < B; b++) c.k.copy(l.dx + 4 * b * F, l.dy + 4 * b * W, F);
  },
  // torch.cat([h, c], 1); Keras Concatenate with the input "c"; ONNX Concat (axis 1)
  interop: {
    params: () => [],
    torch: () => ({}),
    torchOut: (_l, t) => t,
    keras: kerasLayersOnly((_l, name) => [{ className: "Concatenate", name, config: { axis: -1 }, also: ["c"] }]),
    onnx: (l, input) => onnxNode(l, "Concat", [input, "c"], { axis: 1 }),
  },
};
