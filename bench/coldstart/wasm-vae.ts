// Cold-start entry for wasm-vae (bundled by bench/coldstart.ts): create the
// 784-400-20-400-784 VAE and run its first training step.
import { VAE, type Build } from "../../src/index.js";

export async function firstStep(o: { B: number; build: Build; batch: Float32Array }) {
  const t0 = performance.now();
  const vae = await VAE.create({ inputDim: 784, encoder: [400], latentDim: 20, decoder: [400], maxBatch: o.B }, { build: o.build, threads: 1 });
  const t1 = performance.now();
  const r = vae.trainStep(o.batch);
  const t2 = performance.now();
  return { initMs: t1 - t0, stepMs: t2 - t1, loss: r.loss, detail: `build ${vae.build}` };
}
