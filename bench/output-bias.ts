// The decoder's output bias started as the IWAE authors' code starts it
// (yburda/iwae: iwae.py random_iwae → BernoulliSampler.random(bias =
// datasets.py get_train_bias_np())): b_d = log(p_d / (1 − p_d)), p_d the
// training images' mean of pixel d clipped to [0.001, 0.999]. The library's
// own init leaves it at 0. Used by bench/paper.ts (runs "…-databias") and
// bench/hierarchy-gap.ts.
import type { VAE } from "../src/index.js";

/** log(p/(1 − p)) of each column's mean over the rows of `x` (rows × D; a
 *  Uint8Array is read as gray levels /255), p clipped to [0.001, 0.999]. */
export function dataMeanLogOdds(x: ArrayLike<number>, D: number): Float32Array {
  const rows = x.length / D, scale = x instanceof Uint8Array ? 1 / 255 : 1, sum = new Float64Array(D);
  for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) sum[d] += x[r * D + d];
  return Float32Array.from(sum, (s) => { const p = Math.min(0.999, Math.max(0.001, (s * scale) / rows)); return Math.log(p / (1 - p)); });
}

/** The name of the x-decoder's output bias ("decoder.<last>.bias"). */
export function outputBiasName(vae: VAE): string {
  const shapes = vae.parameterShapes();
  let j = 0;
  while (shapes[`decoder.${j + 1}.bias`]) j++;
  return `decoder.${j}.bias`;
}

/** Sets the x-decoder's output bias to dataMeanLogOdds of the training rows. */
export function setOutputBiasAtDataMean(vae: VAE, train: ArrayLike<number>): void {
  vae.setWeights({ [outputBiasName(vae)]: dataMeanLogOdds(train, vae.config.inputDim) });
}
