// dropout: during training y = x ⊙ keep / (1 − rate), keep_i = [u_i ≥ rate]
// with u uniform from the model's kernel (training) stream, drawn on the
// calling thread, so the mask is the same for any thread count; at inference
// (encode, decode, sample, ELBO, IWAE, impute) y = x. Any shape.
// Backward needs the forward's mask: the forward saves the stream's state
// before drawing, and the backward draws the same uniforms again from a copy
// of that state in scratch, so nothing of size B·n outlives a step.
// Kernel: assembly/dropout.ts (the apply, split by ranges).
import { checkF32Range, fail } from "../base/validate.js";
import { identityInterop } from "./interop-kit.js";
import { size, type LayerKind } from "./kind.js";

const STATE_BYTES = 16; // xoshiro128** state: 4 × u32

/** The stream state saved by the forward, per layer (LayerSpec.derived). */
interface Saved { state: Uint32Array }

export const dropout: LayerKind<DropoutLayerConfig> = {
  activates: false,
  alias: false,
  settings(e, at) {
    for (const k of Object.keys(e)) if (k !== "rate") fail(`${at}.${k}`, "no such setting of a dropout layer (known: type, rate)");
    const rate = checkF32Range(`${at}.rate`, e.rate, 0, 1, "the probability of dropping a value");
    if (rate >= 1) fail(`${at}.rate`, "a number in [0, 1) (the probability of dropping a value)", rate);
    return { rate };
  },
  outputShape: (inShape) => [...inShape],
  derive: (): Saved => ({ state: new Uint32Array(4) }),
  params: () => [],
  scratchBytes: (l, B) => STATE_BYTES + 4 * B * size(l.inShape),
  forward(c, l, B) {
    const n = B * size(l.inShape), rate = l.settings.rate as number;
    if (!c.train || rate === 0) {
      c.k.copy(l.y, l.x, n);
      return;
    }
    const saved = (l.derived as Saved).state, u = c.scratch + STATE_BYTES;
    saved.set(new Uint32Array(c.k.memory.buffer, c.rng, 4));
    c.k.rng_uniform(c.rng, u, n);
    c.k.dropout_apply(l.y, l.x, u, n, rate, Math.fround(1 / (1 - rate)));
  },
  // dx = dy ⊙ keep / (1 − rate), keep from the forward's uniforms drawn again
  backward(c, l, B) {
    if (l.dx === 0) return;
    const n = B * size(l.inShape), rate = l.settings.rate as number;
    if (rate === 0) {
      c.k.copy(l.dx, l.dy, n);
      return;
    }
    const u = c.scratch + STATE_BYTES;
    new Uint32Array(c.k.memory.buffer, c.scratch, 4).set((l.derived as Saved).state);
    c.k.rng_uniform(c.scratch, u, n);
    c.k.dropout_apply(l.dx, l.dy, u, n, rate, Math.fround(1 / (1 - rate)));
  },
  // exported for inference: the identity. Keras Dropout with the rate
  // (identity in predict); PyTorch nn.Dropout(rate) (identity in eval); ONNX: no node
  interop: identityInterop(
    (l, name) => [{ className: "Dropout", name, config: { rate: l.settings.rate, noise_shape: null, seed: null } }],
    (l) => ({ rate: l.settings.rate })),
};

/** { type: "dropout", rate }: inverted dropout while training, the identity at inference. */
export interface DropoutLayerConfig {
  /** Dropout (Keras Dropout): any shape → the same shape. */
  type: "dropout";
  /** Probability of dropping each value while training, in [0, 1). */
  rate: number;
}
