// Which learned priors collapse in the IWAE paper's recipe? One epoch of
// 784-200-200-50 (Bernoulli, Adam lr 1e-3, ε 1e-4, batch 20, dynamically
// binarized MNIST, no KL warm-up) on the first 20,000 training images, per
// prior and hidden activation; the −ELBO and the KL on the first 1,000
// training images binarized with seed 0. A KL near 0 is posterior collapse:
// q(z|x) ≈ p(z), the decoder ignores z. Writes bench/results/prior-collapse.md.
//   npx tsx bench/prior-collapse.ts
// Not here: the paper's table (bench/paper.ts), the priors' arithmetic (tests/).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, binarize, loadMnist, VAE, type VAEConfig } from "../src/index.js";
import { describeMachine, machine, mdTable, ROOT } from "./common.js";

const m = machine();
const train = (await loadMnist({ split: "train", limit: 20000 })).images;
const probe = binarize(new Float32Array(train.subarray(0, 1000 * 784)), 0);
const CASES: [string, VAEConfig["prior"], "tanh" | "relu"][] = [
  ["N(0, I)", undefined, "tanh"],
  ["mixture, K = 500", { type: "mixture", components: 500 }, "tanh"],
  ["vamp, K = 500", { type: "vamp", components: 500 }, "tanh"],
  ["vamp, K = 500", { type: "vamp", components: 500 }, "relu"],
];
const rows: (string | number)[][] = [];
for (const [name, prior, activation] of CASES) {
  const vae = await VAE.create({ inputDim: 784, encoder: [200, 200], latentDim: 50, activation, seed: 0, ...(prior ? { prior } : {}) }, { threads: 1 });
  vae.optimizer = new Adam({ lr: 1e-3, eps: 1e-4 });
  const h = await vae.fit(train, { epochs: 1, batchSize: 20, binarize: "dynamic" });
  const e = vae.elbo(probe);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  rows.push([name, activation, h.epochs[0].loss.toFixed(2), (-mean(e.elbo)).toFixed(2), mean(e.kl).toFixed(2)]);
  console.log(rows[rows.length - 1].join("  "));
  vae.dispose();
}
const md = `# Posterior collapse of the learned priors in the IWAE paper's recipe (\`npx tsx bench/prior-collapse.ts\`)

One epoch, 784-200-200-50, Bernoulli, Adam lr 1e-3, ε = 1e-4, batch 20, dynamically binarized MNIST (first 20,000
training images), no KL warm-up, seed 0, one thread. −ELBO and KL: the first 1,000 training images binarized with seed 0.
A KL near 0 is posterior collapse (q(z|x) ≈ p(z)). The VampPrior paper trains with a KL warm-up (\`fit\`'s
\`klWarmupEpochs\`), which this recipe does not.

${mdTable(["prior", "activation", "epoch loss", "−ELBO", "KL"], rows, ["l", "l", "r", "r", "r"])}

Machine: ${describeMachine(m)}
`;
writeFileSync(join(ROOT, "bench", "results", "prior-collapse.md"), md);
