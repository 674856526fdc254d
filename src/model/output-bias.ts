// The output layer's bias started at the data's mean, as Burda et al.'s IWAE
// code starts it (yburda/iwae: the Bernoulli output's bias from
// get_train_bias_np): before any training the decoder then outputs the mean
// image instead of gray 0.5. bench/results/hierarchy-gap.md and paper.md
// measure what it buys (two stochastic layers: 113.82 → 96.19 nats after 10
// epochs). Per output unit u (a dimension, or a channel for a layer whose
// bias is per channel), m_u = the mean of x over the rows (and positions):
//   bernoulli         b_u = log(p / (1 − p)),  p = m_u clipped to [0.001, 0.999]
//   gaussian          b_u = m_u
//   gaussian_learned  the μ half of the bias = m_u; the log σ half is kept
import { fail } from "../base/validate.js";
import { size } from "../base/shape.js";
import type { Architecture } from "./architecture.js";
import type { ResolvedConfig } from "./config.js";

/** Clip of the Bernoulli mean (the IWAE code's). */
export const OUTPUT_BIAS_CLIP = 0.001;

/**
 * The output layer's bias tensor name and its values at the mean of `x`
 * (rows × D, each value times `scale`: 1/255 for gray levels). `current` is
 * the tensor's present values (their log σ half is kept for gaussian_learned).
 */
export function outputBiasAtMean(arch: Architecture, config: Readonly<ResolvedConfig>, x: ArrayLike<number>, rows: number,
                                 scale: number, current: (name: string) => Float32Array | undefined): { name: string; values: Float32Array } {
  const layer = arch.decoder[arch.outputLayer];
  const name = `${layer.name}.bias`;
  const now = current(name);
  if (!now) {
    fail("initOutputBias", `a model whose output layer has a bias (${layer.name}, a ${layer.kind} layer, has none)`);
  }
  const D = config.inputDim, out = layer.outShape, learned = config.likelihood === "gaussian_learned";
  const units = learned ? now.length / 2 : now.length;
  // a bias per output element (dense), or per channel of an NHWC image output
  const perChannel = units !== D;
  const C = config.inputShape.length === 3 ? config.inputShape[2] : 0;
  if (perChannel && !(out.length === 3 && C > 0 && units === C && size(out) === (learned ? 2 : 1) * D)) {
    fail("initOutputBias", `an output layer whose bias has one value per output dimension (${D}) or per image channel`, `${now.length} values`);
  }
  const sum = new Float64Array(units);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    for (let i = 0; i < D; i++) sum[perChannel ? i % C : i] += x[o + i] * scale;
  }
  const count = perChannel ? rows * (D / C) : rows;
  const values = Float32Array.from(now);
  for (let u = 0; u < units; u++) {
    const m = sum[u] / count;
    if (config.likelihood === "bernoulli") {
      const p = Math.min(1 - OUTPUT_BIAS_CLIP, Math.max(OUTPUT_BIAS_CLIP, m));
      values[u] = Math.log(p / (1 - p));
    } else values[u] = m;
  }
  return { name, values };
}
