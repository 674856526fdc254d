// `npx tsx bench/iwae-subnormals.ts`: subnormal floats in the IWAE backward.
// A sample whose normalized importance weight underflows scales its rows of the
// decoder's output gradient (and everything back from it) below 2⁻¹²⁶; the
// plain build's GEMM slows on subnormal operands (bench/results/subnormal.md).
// bench:paper's model (784-200-200-50, tanh, batch 20, Adam 1e-3, ε 1e-4),
// one thread, plain; after each of a few step counts, every gradient tensor of
// the arena ("dact:*", "dz*") is scanned and the subnormal values counted.
// Writes bench/results/iwae-subnormals.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, binarize, loadMnist, VAE } from "../src/index.js";
import { describeMachine, machine, mdTable, ROOT } from "./common.js";

const D = 784, B = 20, AT = [30, 300, 3000];
const mnist = await loadMnist({ limit: 64 * B });
const batches = Array.from({ length: 64 }, (_, i) => binarize(mnist.images.subarray(i * B * D, (i + 1) * B * D), 1000 + i));
const rows: (string | number)[][] = [];
for (const gradient of ["iwae", "dreg"] as const) {
  const v = await VAE.create({ inputDim: D, encoder: [200, 200], latentDim: 50, decoder: [200, 200], activation: "tanh", seed: 0, maxBatch: B,
    objective: { type: "iwae", samples: 5, gradient } }, { threads: 1, build: "plain" });
  v.optimizer = new Adam({ lr: 1e-3, eps: 1e-4 });
  // the arena's tensors (internal: plan names and byte offsets)
  const net = (v as unknown as { net: { ptr: Record<string, number>; plan: { tensors: Record<string, { size: number }> } } }).net;
  let step = 0;
  for (const at of AT) {
    while (step < at) v.trainStep(batches[step++ % batches.length]);
    const H = new Float32Array(v.kernels.memory.buffer);
    for (const name of Object.keys(net.ptr).filter((n) => n.startsWith("dact:") || n.startsWith("dz")).sort()) {
      const t = net.plan.tensors[name];
      if (!t) continue;
      const o = net.ptr[name] >>> 2;
      let sub = 0;
      for (let i = 0; i < t.size; i++) { const a = Math.abs(H[o + i]); if (a !== 0 && a < 1.1754943508222875e-38) sub++; }
      rows.push([gradient, at, name, t.size, sub, `${(100 * sub / t.size).toFixed(2)}%`]);
    }
  }
  v.dispose();
}
const md = `# Subnormal floats in the IWAE backward (\`npx tsx bench/iwae-subnormals.ts\`)

bench:paper's model (784-200-200-50, tanh, Bernoulli, batch 20, Adam lr 1e-3, ε 1e-4), IWAE k = 5, plain build, one
thread, seed 0, dynamically binarized MNIST batches. After the given number of training steps, the gradient tensors
of the last step's backward ("dact:<layer>": the gradient at a layer's output, k·B = 100 rows for the decoder;
"dz": the latent sample's) scanned for subnormal values (0 < |x| < 2⁻¹²⁶). A row of a sample whose normalized
importance weight underflows is subnormal throughout (784 values in dact:decoder.2).

Machine: ${describeMachine(machine())}.

${mdTable(["gradient", "steps", "tensor", "values", "subnormal", "share"], rows)}
`;
writeFileSync(join(ROOT, "bench", "results", "iwae-subnormals.md"), md);
console.log(md);
