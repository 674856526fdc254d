// `npm run bench:categorical`: the discrete VAE of Jang, Gu & Poole 2017 (the
// authors' notebook: 784-512-256-(20 × 10)-256-512-784, relu, Bernoulli) on
// real MNIST, plain build, one thread, batch 100, Adam 1e-3:
//   speed    median trainStep time of the categorical model and of its peer,
//            the same networks with a Gaussian latent of 20 dimensions, in the
//            same run; and the categorical latent's own kernels (Gumbel noise,
//            sampler forward and backward, KL forward and backward) timed alone
//            on the step's shapes.
//   quality  `--epochs E` (default 3) on `--limit N` training images (default
//            60,000), binarized once with a fixed seed (x ~ Bernoulli(pixel)),
//            the temperature annealed as in the authors' code (τ0 1, τ_min
//            0.5, rate 3e-5); per epoch the mean training loss (the relaxed
//            −ELBO) and the temperature; at the end the discrete model's test
//            −ELBO (one-hot z ~ q, closed-form KL) on 1,000 binarized test
//            images and −log p(x) (importance-weighted, k = `--k`, default 100)
//            on the first 500.
// `--gray` trains on pixels / 255 as the authors' notebook does, `--variables N`
// sets N (their "Categorical VAE.ipynb" uses 30), `--straight-through` trains
// the straight-through variant. Writes bench/results/categorical-<N>x10[-gray][-st].md
// and .json.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, loadMnist, VAE, type VAEConfig } from "../src/index.js";
import { temperatureAt } from "../src/objectives/latent-categorical.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const B = 100, D = 784;
const epochs = Number(flag("epochs") ?? 3), limit = Number(flag("limit") ?? 60000), K_IW = Number(flag("k") ?? 100);
const STEPS = Number(flag("steps") ?? 40);
// --gray: Bernoulli on pixels / 255 as the authors' notebook feeds them (default: binarized once);
// --variables N (default 20; the notebook "Categorical VAE.ipynb" uses 30)
// --straight-through: the straight-through variant
const gray = flag("gray") === true, variables = Number(flag("variables") ?? 20), st = flag("straight-through") === true;
const tag = `${variables}x10${gray ? "-gray" : ""}${st ? "-st" : ""}`;
const NET: VAEConfig = { inputDim: D, encoder: [512, 256], decoder: [256, 512], activation: "relu", seed: 1 };
const CAT: VAEConfig = { ...NET, latent: { type: "categorical", variables, classes: 10, straightThrough: st } };
const GAUSS: VAEConfig = { ...NET, latentDim: 20 };

/** x ~ Bernoulli(pixel), once, from a seeded mulberry32 stream. */
function binarize(x: Float32Array, seed: number): Float32Array {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  return x.map((p) => (u() < p ? 1 : 0));
}
/** CPU time of the process in ms (user + system): the machine is shared, so
 *  wall time measures the neighbours as much as us; with one thread this is the work. */
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const mean = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length; };

async function stepTimes(config: VAEConfig, x: Float32Array): Promise<{ wall: number[]; cpu: number[] }> {
  const v = await VAE.create(config, { build: "plain", threads: 1 });
  v.optimizer = new Adam({ lr: 1e-3 });
  const wall: number[] = [], cpu: number[] = [];
  for (let s = 0; s < STEPS + 5; s++) {
    const b = x.subarray((s % 10) * B * D, ((s % 10) + 1) * B * D);
    const t0 = performance.now(), c0 = cpuMs();
    v.trainStep(b);
    if (s >= 5) { wall.push(performance.now() - t0); cpu.push(cpuMs() - c0); }
  }
  v.dispose();
  return { wall, cpu };
}

/** The categorical latent's kernels alone on a step's shapes (B rows, 20 × 10). */
async function latentKernelTimes(): Promise<{ wall: number[]; cpu: number[] }> {
  const v = await VAE.create(CAT, { build: "plain", threads: 1 });
  const k = v.kernels.raw, base = v.kernels.base, N = variables, Kc = 10, W = N * Kc;
  v.kernels.reserve(16 * B * W * 4);
  const h = base, eps = h + B * W * 4, z = eps + B * W * 4, dz = z + B * W * 4, dh = dz + B * W * 4, kl = dh + B * W * 4, st = kl + B * 4;
  k.rng_seed(st, 1, 0);
  const wall: number[] = [], cpu: number[] = [];
  for (let s = 0; s < 200 + 20; s++) {
    const t0 = performance.now(), c0 = cpuMs();
    k.rng_uniform(st, eps, B * W);
    k.gumbel_from_uniform(eps, B * W);
    k.categorical_sample_forward(z, h, eps, B, 1, N, Kc, 0.7, 0);
    k.categorical_kl_forward(kl, h, B, N, Kc);
    k.categorical_kl_backward(dh, h, B, N, Kc, 0.01);
    k.categorical_sample_backward(dh, dz, h, eps, B, 1, N, Kc, 0.7);
    if (s >= 20) { wall.push(performance.now() - t0); cpu.push(cpuMs() - c0); }
  }
  v.dispose();
  return { wall, cpu };
}

const m = machine();
const rawTrain = (await loadMnist({ split: "train", limit })).images, rawTest = (await loadMnist({ split: "test", limit: 1000 })).images;
const train = gray ? rawTrain : binarize(rawTrain, 1);
const test = gray ? rawTest : binarize(rawTest, 2);

const cat = await stepTimes(CAT, train), gauss = await stepTimes(GAUSS, train), lat = await latentKernelTimes();
const speed = {
  categoricalStepMs: median(cat.wall), gaussianStepMs: median(gauss.wall), latentKernelsMs: median(lat.wall),
  categoricalStepCpuMs: median(cat.cpu), gaussianStepCpuMs: median(gauss.cpu), latentKernelsCpuMs: mean(lat.cpu),
};
console.log(speed);

const vae = await VAE.create(CAT, { build: "plain", threads: 1 });
vae.optimizer = new Adam({ lr: 1e-3 });
const perEpoch: { epoch: number; loss: number; reconstruction: number; kl: number; temperature: number; seconds: number }[] = [];
await vae.fit(train, {
  epochs, batchSize: B,
  onEpoch: (e) => {
    const rec = { epoch: e.epoch, loss: e.loss, reconstruction: e.reconstruction, kl: e.kl, temperature: temperatureAt(vae.config.latent, vae.steps), seconds: e.seconds };
    perEpoch.push(rec);
    console.log(rec);
  },
});
const negElbo = -mean(vae.elbo(test).elbo);
const nll = -mean(vae.logLikelihood(test.subarray(0, 500 * D), { samples: K_IW }));
console.log({ negElbo, nll });

const result = { machine: m, data: gray ? "pixels / 255" : "binarized once (seed 1 train, seed 2 test)", config: vae.config, epochs, limit, batch: B, lr: 1e-3, speed, perEpoch, test: { negElbo, nllRows: 500, k: K_IW, nll, elboRows: 1000 } };
writeFileSync(join(ROOT, "bench", "results", `categorical-${tag}.json`), JSON.stringify(result, null, 2) + "\n");
const md = `# Categorical latent (Gumbel-softmax, ${variables} × 10) on MNIST

${describeMachine(m)}

Command: \`npm run bench:categorical -- --epochs ${epochs} --limit ${limit} --k ${K_IW} --variables ${variables}${gray ? " --gray" : ""}${st ? " --straight-through" : ""}\` (plain build, one thread, batch ${B}, Adam 1e-3).
Network 784-512-256-(${variables} × 10)-256-512-784, relu, Bernoulli; MNIST ${result.data}.

## Speed (median of ${STEPS} steps after 5 warm-up steps; CPU time is the process's, which on a shared machine is the better measure)

${mdTable(["", "wall ms", "CPU ms"], [
  [`trainStep, categorical ${variables} × 10`, speed.categoricalStepMs.toFixed(2), speed.categoricalStepCpuMs.toFixed(2)],
  ["trainStep, Gaussian latentDim 20 (peer, same networks)", speed.gaussianStepMs.toFixed(2), speed.gaussianStepCpuMs.toFixed(2)],
  ["ratio categorical / Gaussian", (speed.categoricalStepMs / speed.gaussianStepMs).toFixed(3), (speed.categoricalStepCpuMs / speed.gaussianStepCpuMs).toFixed(3)],
  ["the latent's kernels alone (noise, sampler fwd + bwd, KL fwd + bwd; CPU: mean of 200)", speed.latentKernelsMs.toFixed(3), speed.latentKernelsCpuMs.toFixed(3)],
])}

## Training (${limit} images, ${epochs} epochs)

${mdTable(["epoch", st ? "train loss (−ELBO, one-hot forward)" : "train loss (relaxed −ELBO)", "reconstruction", "KL", "τ at the end", "s"], perEpoch.map((e) => [e.epoch, e.loss.toFixed(2), e.reconstruction.toFixed(2), e.kl.toFixed(2), e.temperature.toFixed(3), e.seconds.toFixed(1)]))}

Test, discrete model: −ELBO ${negElbo.toFixed(2)} nats (1,000 images), −log p(x) ≈ ${nll.toFixed(2)} nats (IWAE bound under the discrete posterior, k = ${K_IW}, 500 images).
`;
writeFileSync(join(ROOT, "bench", "results", `categorical-${tag}.md`), md);
console.log(md);
vae.dispose();
