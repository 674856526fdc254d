// Which learned priors collapse in the IWAE paper's recipe, and why the
// VampPrior does? One epoch of 784-200-200-50 (Bernoulli, Adam lr 1e-3,
// ε 1e-4, batch 20, dynamically binarized MNIST, no KL warm-up unless the row
// says so) on the first 20,000 training images, per prior, hidden activation
// and variant; the −ELBO and the KL on the first 1,000 training images
// binarized with seed 0. A KL near 0 is posterior collapse: q(z|x) ≈ p(z), the
// decoder ignores z. Also what the encoder does (active units: latent
// dimensions whose E[z|x] varies over the probe images with variance > 0.01,
// Burda et al.; log σ² at the data and at the pseudo-inputs; the spread of the
// components' means) and a trace over the epoch's steps.
// Writes bench/results/prior-collapse.md.
//   npx tsx bench/prior-collapse.ts
// Not here: the paper's table (bench/paper.ts), the priors' arithmetic and
// gradients (tests/: finite differences, the VampPrior at the paper's size).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, binarize, loadMnist, VAE, type VAEConfig } from "../src/index.js";
import { describeMachine, machine, mdTable, ROOT } from "./common.js";

const m = machine();
const train = (await loadMnist({ split: "train", limit: 20000 })).images;
const probe = binarize(new Float32Array(train.subarray(0, 1000 * 784)), 0);
const VAMP = { type: "vamp", components: 500 } as const;
/** Steps of one epoch of the full 60,000 images at batch 20: the warm-ups are in those epochs. */
const PAPER_EPOCH = 3000;
interface Case {
  prior: string; cfg: VAEConfig["prior"]; activation: "tanh" | "relu"; variant: string;
  /** KL weight for the whole epoch (config.beta, default 1), or a linear warm-up from 0 over this many steps. */
  beta?: number; warmupSteps?: number;
  /** Pseudo-inputs: 500 training images (rows 10,000..10,499), or the parameter −0.05 ± 0.01 (u = hardtanh(P) = 0). */
  pseudo?: "data" | "zero";
  trace?: boolean;
}
const CASES: Case[] = [
  { prior: "N(0, I)", cfg: undefined, activation: "tanh", variant: "IWAE recipe", trace: true },
  { prior: "mixture, K = 500", cfg: { type: "mixture", components: 500 }, activation: "tanh", variant: "IWAE recipe" },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "tanh", variant: "IWAE recipe", trace: true },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "relu", variant: "IWAE recipe", trace: true },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "tanh", variant: "β = 0 (reconstruction only; KL reported)", beta: 0, trace: true },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "tanh", variant: "β = 0.01", beta: 0.01 },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "tanh", variant: "pseudo-inputs: 500 training images", pseudo: "data" },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "tanh", variant: "pseudo-inputs all 0 (P ~ N(−0.05, 0.01²): hardtanh stops their gradient)", pseudo: "zero" },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "tanh", variant: "KL warm-up 1 paper epoch (3,000 steps)", warmupSteps: PAPER_EPOCH, trace: true },
  { prior: "vamp, K = 500", cfg: VAMP, activation: "tanh", variant: "KL warm-up 10 paper epochs (30,000 steps)", warmupSteps: 10 * PAPER_EPOCH, trace: true },
];
const TRACE_AT = [100, 200, 400, 600, 1000];

const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
/** Mean over the latent dimensions of the standard deviation of column j over the rows, and the active units. */
function spread(mu: Float32Array, L: number): { sd: number; active: number } {
  const n = mu.length / L;
  let sd = 0, active = 0;
  for (let j = 0; j < L; j++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const v = mu[i * L + j]; s += v; s2 += v * v; }
    const varj = Math.max(0, s2 / n - (s / n) ** 2);
    sd += Math.sqrt(varj) / L;
    if (varj > 0.01) active++;
  }
  return { sd, active };
}
function probeStats(vae: VAE) {
  const e = vae.elbo(probe), q = vae.encode(probe), s = spread(q.mean, 50);
  const P = vae.getWeights()["prior.pseudo_inputs"];
  let lvU = NaN, sdU = NaN;
  if (P) {
    const qu = vae.encode(P.map((v) => Math.min(1, Math.max(0, v)))); // the pseudo-inputs as the encoder sees them (Bernoulli: hardtanh(0, 1))
    lvU = mean(qu.logvar);
    sdU = spread(qu.mean, 50).sd;
  }
  return { nelbo: -mean(e.elbo), kl: mean(e.kl), active: s.active, sdX: s.sd, lvX: mean(q.logvar), lvU, sdU };
}

const rows: (string | number)[][] = [];
const traces: (string | number)[][] = [];
const f2 = (x: number) => Number.isNaN(x) ? "—" : x.toFixed(2);
for (const cs of CASES) {
  const vae = await VAE.create({ inputDim: 784, encoder: [200, 200], latentDim: 50, activation: cs.activation, seed: 0, ...(cs.beta !== undefined ? { beta: cs.beta } : {}), ...(cs.cfg ? { prior: cs.cfg } : {}) }, { threads: 1 });
  if (cs.pseudo === "data") vae.setWeights({ "prior.pseudo_inputs": train.subarray(10000 * 784, 10500 * 784) });
  if (cs.pseudo === "zero") vae.setWeights({ "prior.pseudo_inputs": vae.getWeights()["prior.pseudo_inputs"].map((v) => v - 0.1) });
  vae.optimizer = new Adam({ lr: 1e-3, eps: 1e-4 });
  let loss = 0, n = 0;
  const h = await vae.fit(train, {
    epochs: 1, batchSize: 20, binarize: "dynamic",
    ...(cs.warmupSteps ? { klWarmupSteps: cs.warmupSteps } : {}),
    onBatch: cs.trace ? (info) => {
      loss += info.loss; n++;
      if (TRACE_AT.includes(info.step)) {
        const s = probeStats(vae);
        traces.push([cs.prior, cs.activation, cs.variant, info.step, info.beta.toFixed(3), (loss / n).toFixed(1), f2(s.nelbo), f2(s.kl), s.active, s.sdX.toFixed(3), f2(s.lvX), f2(s.lvU), Number.isNaN(s.sdU) ? "—" : s.sdU.toFixed(3)]);
        console.log(traces[traces.length - 1].join("  "));
        loss = 0; n = 0;
      }
    } : undefined,
  });
  const s = probeStats(vae);
  rows.push([cs.prior, cs.activation, cs.variant, h.epochs[0].loss.toFixed(2), f2(s.nelbo), f2(s.kl), s.active, s.sdX.toFixed(3), f2(s.lvX), f2(s.lvU), Number.isNaN(s.sdU) ? "—" : s.sdU.toFixed(3)]);
  console.log(rows[rows.length - 1].join("  "));
  vae.dispose();
}

const md = `# Posterior collapse of the learned priors in the IWAE paper's recipe (\`npx tsx bench/prior-collapse.ts\`)

One epoch, 784-200-200-50, Bernoulli, Adam lr 1e-3, ε = 1e-4, batch 20, dynamically binarized MNIST (first 20,000
training images, 1,000 steps), no KL warm-up unless the variant says so (a "paper epoch" is the 3,000 steps of an
epoch of all 60,000 images), seed 0, one thread. −ELBO and KL: the first 1,000 training images binarized with seed 0
(the KL of a learned prior is the single-sample log q(z|x) − log p(z), as in training). A KL near 0 is posterior
collapse (q(z|x) ≈ p(z)). Active units: latent dimensions whose E[z|x] has variance > 0.01 over those images (of 50);
sd μ(x): the standard deviation of E[z|x] over the images, averaged over the dimensions; log σ²: the mean
posterior log-variance at the images and at the VampPrior's pseudo-inputs (its components); sd μ(u): the spread of
the components' means.

${mdTable(["prior", "activation", "variant", "epoch loss", "−ELBO", "KL", "active units", "sd μ(x)", "log σ² (x)", "log σ² (u)", "sd μ(u)"], rows,
  ["l", "l", "l", "r", "r", "r", "r", "r", "r", "r", "r"])}

Trace within the epoch (train loss: the mean training loss of the steps since the previous row, β-weighted; the
other columns on the probe images after that step):

${mdTable(["prior", "activation", "variant", "step", "β", "train loss", "−ELBO", "KL", "active units", "sd μ(x)", "log σ² (x)", "log σ² (u)", "sd μ(u)"], traces,
  ["l", "l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"])}

Machine: ${describeMachine(m)}
`;
writeFileSync(join(ROOT, "bench", "results", "prior-collapse.md"), md);
