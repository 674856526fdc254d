import { VAE } from "../src/index.js";
for (const build of ["plain", "relaxed"] as const) {
  const vae = await VAE.create({ inputDim: 784, encoder: [400], latentDim: 20, activation: "relu", likelihood: "bernoulli", maxBatch: 128 }, { build });
  const x = new Float32Array(128 * 784).map(() => Math.random());
  for (let i = 0; i < 30; i++) vae.trainStep(x);
  const ts: number[] = [];
  for (let i = 0; i < 100; i++) { const t = performance.now(); vae.trainStep(x); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(build, vae.build, ts[50].toFixed(2), ts[5].toFixed(2));
}
