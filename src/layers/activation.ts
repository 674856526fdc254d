// activation: a standalone activation, y = f(x), on any shape (e.g. after a
// layer listed with activation "identity"). f is the layer's `activation`
// (default: the config's). Kernels: assembly/activation.ts, split by ranges.
import { fail } from "../base/validate.js";
import { identityInterop } from "./interop-kit.js";
import { size, type LayerActivation, type LayerKind } from "./kind.js";

export const activation: LayerKind<ActivationLayerConfig> = {
  activates: true,
  alias: false,
  settings(e, at) {
    for (const k of Object.keys(e)) fail(`${at}.${k}`, "no such setting of an activation layer (known: type, activation)");
    return {};
  },
  outputShape: (inShape) => [...inShape],
  params: () => [],
  scratchBytes: () => 0,
  forward(c, l, B) {
    c.k.activation_forward(l.y, l.x, B * size(l.inShape), l.act, c.alpha);
  },
  // dx = dy ⊙ f'(y)
  backward(c, l, B) {
    if (l.dx !== 0) c.k.activation_backward(l.dx, l.dy, l.y, B * size(l.inShape), l.act, c.alpha);
  },
  // no parameters, the layout kept. Keras Activation (the activation goes in
  // its config, or, for leaky_relu, a LeakyReLU after it); ONNX: the
  // activation's op alone (the interop adds it for every layer)
  interop: identityInterop((_l, name) => [{ className: "Activation", name, config: { activation: "linear" } }]),
};

/** { type: "activation" }: y = f(x) on any shape. */
export interface ActivationLayerConfig {
  /** A standalone activation (Keras Activation), any shape → the same shape. */
  type: "activation";
  /** f (default: the config's `activation`); "identity" (or "linear") as the output layer. */
  activation?: LayerActivation;
}
