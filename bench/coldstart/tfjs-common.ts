// Cold-start body shared by the tfjs entries (bench/coldstart/tfjs-*.ts):
// Glorot-uniform weights (as wasm-vae's default init), the TfVAE of
// bench/tfjs-vae.ts with the stock gradient, and its first training step.
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core alone registers no gradients; a bundle imports this statically
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { TfVAE } from "../tfjs-vae.js";

export async function firstStepTf(backend: string, o: { B: number; batch: Float32Array }) {
  const t0 = performance.now();
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`tfjs backend ${backend} did not start`);
  const spec = { inputDim: 784, encoder: [400], latentDim: 20, decoder: [400] };
  const weights: Record<string, Float32Array> = {};
  let s = 1;
  const dims = [["encoder.0", 784, 400], ["encoder.1", 400, 40], ["decoder.0", 20, 400], ["decoder.1", 400, 784]] as const;
  for (const [name, i, n] of dims) {
    const a = Math.sqrt(6 / (i + n));
    const w = new Float32Array(i * n);
    for (let k = 0; k < w.length; k++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; w[k] = ((s >>> 8) / 8388608 - 1) * a; }
    weights[`${name}.weight`] = w;
    weights[`${name}.bias`] = new Float32Array(n);
  }
  const m = new TfVAE(spec, weights, "stock");
  const t1 = performance.now();
  const loss = m.trainStep(o.batch);
  const t2 = performance.now();
  return { initMs: t1 - t0, stepMs: t2 - t1, loss, detail: `backend ${tf.getBackend()}` };
}
