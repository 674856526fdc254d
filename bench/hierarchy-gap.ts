// `npm run bench:hierarchy-gap`: why the two-stochastic-layer VAE trails the
// one-layer VAE in bench:paper (10 epochs: NLL 113.82 vs 98.27) while the
// IWAE paper, after 3,280 epochs, has it ahead (85.33 vs 86.76). The IWAE
// paper's recipe (tanh, Bernoulli, Adam lr 1e-3, β = (0.9, 0.999), ε = 1e-4,
// batch 20, dynamically binarized MNIST), one thread, for
//   one      784-200-200-50 | 50-200-200-784
//   one-100  the same with a 100-unit latent (the width of the two-layer model's z₁)
//   two      784-200-200-100 → 100-100-50 | 50-100-100-100 → 100-200-200-784
// each with the decoder's output bias at 0 (the library's init) and at the
// log-odds of the training images' mean pixel, clipped to [0.001, 0.999] (what
// the IWAE authors' code does: yburda/iwae, iwae.py random_iwae →
// BernoulliSampler.random(bias = dataset.get_train_bias_np())). After every
// epoch, on the first --test test images binarized once with seed 0: the
// −ELBO (one z sample, the library's VAE.elbo), its reconstruction and KL
// terms, and per stochastic layer (float64 here, from getWeights, with z₁ ~
// q(z₁|x) sampled as the model does): KL₁ = E[log q(z₁|x) − log p(z₁|z₂)],
// KL₂ = E[log q(z₂|z₁) − log N(z₂; 0, I)], the active units by the paper's
// criterion (Var_x E_q[z_i] > 0.01; z₂'s mean taken at a sampled z₁, as
// yburda/iwae get_units_variances does), and the mean σ of p(z₁|z₂).
// Part 2 (--sigma-rows, --sigma-epochs; 0 skips it): the σ head. Ours is
// log σ² = a linear layer; the IWAE code's σ = exp(linear), i.e. log σ =
// linear. Both are the same function class; under Adam they differ (a step
// moves log σ twice as far under theirs). The two-layer model, output bias at
// the data mean, is trained by a float64 Adam here on VAE.computeGradients,
// once with the library's parameterization and once with every Gaussian head's
// log-variance columns held as 2θ (θ the optimized parameter, dL/dθ = 2·dL/dw),
// the same data order and noise for both.
// Writes bench/results/hierarchy-gap.md and bench/results/hierarchy-gap.json.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, binarize, loadMnist, VAE, type VAEConfig } from "../src/index.js";
import { describeMachine, flag, machine, mdTable, ROOT } from "./common.js";

const D = 784, BATCH = 20, LOG2PI = Math.log(2 * Math.PI);
const epochs = Number(flag("epochs") ?? 5), rows = Number(flag("rows") ?? 60000), testN = Number(flag("test") ?? 2000);
const sigmaRows = Number(flag("sigma-rows") ?? 20000), sigmaEpochs = Number(flag("sigma-epochs") ?? 2);
const ONE = { encoder: [200, 200], latentDim: 50, decoder: [200, 200] };
const MODELS: Record<string, Record<string, unknown>> = {
  one: ONE,
  "one-100": { ...ONE, latentDim: 100 },
  two: { latents: [{ encoder: [200, 200], size: 100, decoder: [200, 200] }, { encoder: [100, 100], size: 50, decoder: [100, 100] }] },
};
const names = typeof flag("models") === "string" ? (flag("models") as string).split(",") : Object.keys(MODELS);

const m = machine();
const command = `npm run bench:hierarchy-gap -- ${process.argv.slice(2).join(" ")}`;
const gray = (await loadMnist({ split: "train", limit: rows })).images; // gray levels in [0, 1]
const test = binarize((await loadMnist({ split: "test", limit: testN })).images, 0);
const configOf = (model: string) => ({ inputDim: D, activation: "tanh", likelihood: "bernoulli", seed: 0, maxBatch: 500, ...MODELS[model] }) as unknown as VAEConfig;

const lastIndex = (shapes: Record<string, number[]>, p: string) => { let j = 0; while (shapes[`${p}.${j + 1}.weight`]) j++; return j; };

// seeded uniform (mulberry32) and normal (Box–Muller) numbers for this file's sampling
let state = 20260;
const uniform = () => { state = (state + 0x6d2b79f5) | 0; let t = Math.imul(state ^ (state >>> 15), 1 | state); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296; };
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

type Lin = { W: Float32Array; b: Float32Array; IN: number; OUT: number; tanh: boolean };
/** A dense network in float64 (weights (in, out), tanh on every layer but the last). */
function mlp(x: Float64Array, n: number, ls: Lin[]): Float64Array {
  let h = x;
  for (const l of ls) {
    const y = new Float64Array(n * l.OUT);
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < l.OUT; o++) {
        let s = l.b[o];
        for (let i = 0; i < l.IN; i++) s += h[r * l.IN + i] * l.W[i * l.OUT + o];
        y[r * l.OUT + o] = l.tanh ? Math.tanh(s) : s;
      }
    }
    h = y;
  }
  return h;
}
/** Units j with Var over rows of mu[r, j] above 0.01 (the IWAE paper's active units). */
function activeUnits(mu: ArrayLike<number>, n: number, L: number): number {
  let c = 0;
  for (let j = 0; j < L; j++) {
    let s = 0, s2 = 0;
    for (let r = 0; r < n; r++) { s += mu[r * L + j]; s2 += mu[r * L + j] ** 2; }
    if (s2 / n - (s / n) ** 2 > 0.01) c++;
  }
  return c;
}
const mean = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length; };

interface Stats { negElbo: number; reconstruction: number; kl: number; active1: number; kl1?: number; kl2?: number; active2?: number; sigmaP1?: number }
function evaluate(vae: VAE, two: boolean): Stats {
  const n = testN, e = vae.elbo(test), { mean: mu1, logvar: lv1 } = vae.encode(test), L1 = mu1.length / n;
  const out: Stats = { negElbo: -mean(e.elbo), reconstruction: mean(e.reconstruction), kl: mean(e.kl), active1: activeUnits(mu1, n, L1) };
  if (!two) return out;
  const w = vae.getWeights(), sh = vae.parameterShapes();
  const net = (p: string): Lin[] => Array.from({ length: lastIndex(sh, p) + 1 }, (_, j) => {
    const [IN, OUT] = sh[`${p}.${j}.weight`];
    return { W: w[`${p}.${j}.weight`], b: w[`${p}.${j}.bias`], IN, OUT, tanh: j < lastIndex(sh, p) };
  });
  const z1 = new Float64Array(n * L1);
  let logq1 = 0, logq2 = 0, logp2 = 0, logp1 = 0, sigma = 0;
  for (let i = 0; i < n * L1; i++) {
    const eps = normal();
    z1[i] = mu1[i] + Math.exp(0.5 * lv1[i]) * eps;
    logq1 -= 0.5 * (LOG2PI + lv1[i] + eps * eps);
  }
  const h2 = mlp(z1, n, net("level2.encoder")), L2 = h2.length / n / 2;
  const mu2 = new Float64Array(n * L2), z2 = new Float64Array(n * L2);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < L2; j++) {
      const mu = h2[r * 2 * L2 + j], lv = h2[r * 2 * L2 + L2 + j], eps = normal(), z = mu + Math.exp(0.5 * lv) * eps;
      mu2[r * L2 + j] = mu; z2[r * L2 + j] = z;
      logq2 -= 0.5 * (LOG2PI + lv + eps * eps);
      logp2 -= 0.5 * (LOG2PI + z * z);
    }
  }
  const hp = mlp(z2, n, net("level2.decoder"));
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < L1; j++) {
      const mu = hp[r * 2 * L1 + j], lv = hp[r * 2 * L1 + L1 + j], z = z1[r * L1 + j];
      logp1 -= 0.5 * (LOG2PI + lv + (z - mu) ** 2 / Math.exp(lv));
      sigma += Math.exp(0.5 * lv);
    }
  }
  return { ...out, kl1: (logq1 - logp1) / n, kl2: (logq2 - logp2) / n, active2: activeUnits(mu2, n, L2), sigmaP1: sigma / (n * L1) };
}

// ------------------------------------------------ part 1: models × output bias
interface Row { model: string; bias: "zero" | "data mean"; epoch: number; trainLoss: number; seconds: number; stats: Stats }
const results: Row[] = [];
for (const model of names) {
  for (const bias of ["zero", "data mean"] as const) {
    const vae = await VAE.create(configOf(model), { threads: 1 });
    if (bias === "data mean") vae.initOutputBias(gray);
    vae.optimizer = new Adam({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-4 });
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const h = await vae.fit(gray, { epochs: 1, batchSize: BATCH, binarize: "dynamic", yieldEvery: 0 });
      const r: Row = { model, bias, epoch, trainLoss: h.epochs[0].loss, seconds: h.epochs[0].seconds, stats: evaluate(vae, model === "two") };
      results.push(r);
      console.log(JSON.stringify(r));
    }
    vae.dispose();
  }
}

// ------------------------------------------------ part 2: the σ head's parameterization
interface SigmaRow { parameterization: string; epoch: number; trainLoss: number; stats: Stats }
const sigmaResults: SigmaRow[] = [];
if (sigmaRows > 0 && sigmaEpochs > 0) {
  for (const logSigma of [false, true]) {
    state = 777; // the same data order, binarization and noise for both
    const vae = await VAE.create(configOf("two"), { threads: 1 });
    const shapes = vae.parameterShapes();
    const heads = [`encoder.${lastIndex(shapes, "encoder")}`, `level2.encoder.${lastIndex(shapes, "level2.encoder")}`, `level2.decoder.${lastIndex(shapes, "level2.decoder")}`];
    // the log-variance columns (the second half of a Gaussian head's outputs) of a head's weight or bias
    const scaleLogvar = (name: string, a: ArrayLike<number>, f: number): Float64Array => {
      const out = Float64Array.from(a), layer = name.replace(/\.(weight|bias)$/, "");
      if (!logSigma || !heads.includes(layer)) return out;
      const OUT = shapes[`${layer}.bias`][0];
      for (let i = 0; i < out.length; i++) if (i % OUT >= OUT / 2) out[i] *= f;
      return out;
    };
    vae.initOutputBias(gray.subarray(0, sigmaRows * D));
    // θ: what Adam moves; the model's weights are θ, log-variance columns × 2 under log σ = linear
    const theta: Record<string, Float64Array> = {}, mo: Record<string, Float64Array> = {}, vo: Record<string, Float64Array> = {};
    for (const [n, a] of Object.entries(vae.getWeights())) {
      theta[n] = scaleLogvar(n, a, 0.5);
      mo[n] = new Float64Array(a.length); vo[n] = new Float64Array(a.length);
    }
    const push = () => { const w: Record<string, Float32Array> = {}; for (const [n, t] of Object.entries(theta)) w[n] = Float32Array.from(scaleLogvar(n, t, 2)); vae.setWeights(w); };
    const NW = 150, perm = Uint32Array.from({ length: sigmaRows }, (_, i) => i), x = new Float32Array(BATCH * D), noise = new Float32Array(BATCH * NW);
    let t = 0;
    for (let epoch = 1; epoch <= sigmaEpochs; epoch++) {
      for (let i = sigmaRows - 1; i > 0; i--) { const j = Math.floor(uniform() * (i + 1)); [perm[i], perm[j]] = [perm[j], perm[i]]; }
      let loss = 0, steps = 0;
      for (let s = 0; s + BATCH <= sigmaRows; s += BATCH) {
        for (let b = 0; b < BATCH; b++) for (let d = 0; d < D; d++) x[b * D + d] = uniform() < gray[perm[s + b] * D + d] ? 1 : 0;
        for (let i = 0; i < noise.length; i++) noise[i] = normal();
        const g = vae.computeGradients(x, { noise });
        loss += g.loss; steps++; t++;
        const bc1 = 1 / (1 - 0.9 ** t), bc2 = 1 / (1 - 0.999 ** t);
        for (const [n, th] of Object.entries(theta)) {
          const gr = scaleLogvar(n, g.gradients[n], 2), m1 = mo[n], m2 = vo[n];
          for (let i = 0; i < th.length; i++) {
            m1[i] = 0.9 * m1[i] + 0.1 * gr[i];
            m2[i] = 0.999 * m2[i] + 0.001 * gr[i] * gr[i];
            th[i] -= 1e-3 * bc1 * m1[i] / (Math.sqrt(m2[i] * bc2) + 1e-4);
          }
        }
        push();
      }
      const r: SigmaRow = { parameterization: logSigma ? "log σ = linear (yburda/iwae)" : "log σ² = linear (the library)", epoch, trainLoss: loss / steps, stats: evaluate(vae, true) };
      sigmaResults.push(r);
      console.log(JSON.stringify(r));
    }
    vae.dispose();
  }
}

// ------------------------------------------------ report
const f2 = (x: number | undefined) => (x === undefined ? "" : x.toFixed(2));
const label = (r: { model: string; bias: string }) => `${r.model}, output bias ${r.bias}`;
const keys = [...new Set(results.map(label))];
const byEpoch = mdTable(["model", ...Array.from({ length: epochs }, (_, i) => `epoch ${i + 1}`)],
  keys.map((k) => [k, ...Array.from({ length: epochs }, (_, i) => f2(results.find((r) => label(r) === k && r.epoch === i + 1)?.stats.negElbo))]));
const gapRows = (["zero", "data mean"] as const).flatMap((bias) => {
  const one = results.filter((r) => r.model === "one" && r.bias === bias), two = results.filter((r) => r.model === "two" && r.bias === bias);
  return one.length && two.length ? [[`two − one, output bias ${bias}`, ...Array.from({ length: epochs }, (_, i) => f2(two[i].stats.negElbo - one[i].stats.negElbo))]] : [];
});
const gaps = gapRows.length ? mdTable(["−ELBO difference", ...Array.from({ length: epochs }, (_, i) => `epoch ${i + 1}`)], gapRows) : "";
const detailCols = ["model", "epoch", "−ELBO", "reconstruction", "KL", "KL₁", "KL₂", "active z₁", "active z₂", "mean σ of p(z₁ ∣ z₂)"];
const detailRow = (name: string, r: { epoch: number; stats: Stats }) => [name, r.epoch, f2(r.stats.negElbo), f2(r.stats.reconstruction), f2(r.stats.kl), f2(r.stats.kl1), f2(r.stats.kl2), r.stats.active1, r.stats.active2 ?? "", f2(r.stats.sigmaP1)];
const detail = mdTable(detailCols, results.filter((r) => r.epoch === 1 || r.epoch === epochs).map((r) => detailRow(label(r), r)));
const sigma = sigmaResults.length ? mdTable(detailCols, sigmaResults.map((r) => detailRow(r.parameterization, r))) : "";
const md = `# Two stochastic layers vs one: where the gap comes from

\`${command}\` (bench/hierarchy-gap.ts): the IWAE paper's recipe (tanh, Bernoulli, Adam lr 1e-3,
β = (0.9, 0.999), ε = 1e-4, batch 20, dynamically binarized MNIST, ${rows} training rows, seed 0, one thread).
Models: one = 784-200-200-50; one-100 = the same with a 100-unit latent (the width of the two-layer model's z₁);
two = 784-200-200-100 → 100-100-50 and back. Output bias: the decoder's last bias at 0 (the library's
init) or at the log-odds of the training images' mean pixel, clipped to [0.001, 0.999], as the IWAE authors'
code starts it (yburda/iwae: \`random_iwae(…, bias=dataset.get_train_bias_np())\`).
Evaluated after each epoch on the first ${testN} test images binarized once with seed 0: −ELBO (one z sample),
its reconstruction and KL terms; for the two-layer model KL₁ = E[log q(z₁|x) − log p(z₁|z₂)] and
KL₂ = E[log q(z₂|z₁) − log N(z₂; 0, I)] (float64 from the weights, one sample); active units: Var_x E_q[z_i] > 0.01
(the paper's criterion; z₂'s mean at a sampled z₁). For z₁ of the two-layer model the count says little: its prior
p(z₁|z₂) is learned (σ ≠ 1), so the scale of z₁ is not pinned.

## Test −ELBO after each epoch

${byEpoch}

${gaps}

## Per level, after the first and the last epoch

${detail}
${sigma ? `
## The σ head: log σ² = linear (ours) vs log σ = linear (the IWAE authors' code)

The two-layer model, output bias at the data mean, ${sigmaRows} training rows, ${sigmaEpochs} epochs, trained by a float64 Adam
(the same hyperparameters) on \`VAE.computeGradients\` with the same data order, binarization and noise for both rows;
under "log σ = linear" every Gaussian head's log-variance columns are held as 2θ and Adam moves θ.

${sigma}
` : ""}
Machine: ${describeMachine(m)}.
`;
const outDir = join(ROOT, "bench", "results");
writeFileSync(join(outDir, "hierarchy-gap.md"), md);
writeFileSync(join(outDir, "hierarchy-gap.json"), JSON.stringify({ machine: m, command, epochs, rows, testImages: testN, results, sigmaRows, sigmaEpochs, sigmaResults }, null, 2) + "\n");
console.log("\n" + md);
