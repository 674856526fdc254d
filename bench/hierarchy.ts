// `npm run bench:hierarchy`: the cost of a training step with two stochastic
// layers against one, in the same run. The IWAE paper's two architectures
// (Burda et al. 2015, §5), tanh, Bernoulli on real MNIST pixels/255, Adam,
// batch 20, plain build, one thread:
//   one level   784-200-200-50 | 50-200-200-784
//   two levels  784-200-200-100 → 100-100-50 | 50-100-100-100 → 100-200-200-784
// each with the ELBO and with IWAE k = 5 (k = 50 with --k50). The models are
// timed in interleaved rounds (each round: `--steps` VAE.trainStep calls per
// model, default 50, after a warm-up), so load on a shared machine hits every
// model alike; the table gives the median over rounds of ms per step and the
// ratio to the one-level model with the same objective, in wall time and in
// CPU time of this process (process.cpuUsage: on an oversubscribed machine
// the wall time includes waiting for a core, the CPU time does not), and the
// dense layers' multiply-adds per data row (forward; backward is twice that
// for every model alike) as the expected ratio.
// Writes bench/results/hierarchy.md and bench/results/hierarchy.json.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, loadMnist, VAE, type VAEConfig } from "../src/index.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const BATCH = 20;
const steps = Number(flag("steps") ?? 50), rounds = Number(flag("rounds") ?? 7);
const ks = flag("k50") ? [1, 5, 50] : [1, 5];

const ONE: VAEConfig = { inputDim: 784, encoder: [200, 200], latentDim: 50, decoder: [200, 200] };
const TWO: VAEConfig = { inputDim: 784, latents: [{ encoder: [200, 200], size: 100, decoder: [200, 200] }, { encoder: [100, 100], size: 50, decoder: [100, 100] }] };

const m = machine();
const { images } = await loadMnist({ split: "train", limit: 2000 });
const rows: { model: string; k: number; vae: VAE; ms: number[]; cpu: number[] }[] = [];
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
/** Forward multiply-adds per data row of every dense layer (k sample rows for the levels after the first encoder). */
function macsPerRow(vae: VAE, k: number): number {
  let n = 0;
  for (const [name, shape] of Object.entries(vae.parameterShapes())) {
    if (!name.endsWith(".weight")) continue;
    n += shape[0] * shape[1] * (name.startsWith("encoder.") ? 1 : k);
  }
  return n;
}
for (const k of ks) {
  for (const [model, c] of [["one level", ONE], ["two levels", TWO]] as const) {
    const objective = k === 1 ? { type: "elbo" as const } : { type: "iwae" as const, samples: k };
    const vae = await VAE.create({ ...c, activation: "tanh", likelihood: "bernoulli", seed: 1, maxBatch: BATCH, objective }, { build: "plain", threads: 1 });
    vae.optimizer = new Adam({ lr: 1e-3, eps: 1e-4 });
    rows.push({ model, k, vae, ms: [], cpu: [] });
  }
}
let at = 0;
const step = (vae: VAE) => {
  const start = (at = (at + BATCH) % (2000 - BATCH));
  vae.trainStep(images.subarray(start * 784, (start + BATCH) * 784));
};
for (const r of rows) for (let i = 0; i < 20; i++) step(r.vae); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const r of rows) {
    const t0 = performance.now(), c0 = cpuMs();
    for (let i = 0; i < steps; i++) step(r.vae);
    r.ms.push((performance.now() - t0) / steps);
    r.cpu.push((cpuMs() - c0) / steps);
  }
}
const results = rows.map((r) => {
  const peer = rows.find((p) => p.k === r.k && p.model === "one level")!;
  return { model: r.model, objective: r.k === 1 ? "elbo" : `iwae k = ${r.k}`, k: r.k, parameters: r.vae.parameterCount,
    msPerStep: median(r.ms), ratio: median(r.ms) / median(peer.ms),
    cpuMsPerStep: median(r.cpu), cpuRatio: median(r.cpu) / median(peer.cpu),
    macsPerRow: macsPerRow(r.vae, r.k), macsRatio: macsPerRow(r.vae, r.k) / macsPerRow(peer.vae, r.k), rounds: r.ms, cpuRounds: r.cpu };
});
const table = mdTable(["model", "objective", "parameters", "wall ms per step", "× one level", "CPU ms per step", "× one level", "dense MACs × one level"],
  results.map((r) => [r.model, r.objective, r.parameters, r.msPerStep.toFixed(2), r.ratio.toFixed(2), r.cpuMsPerStep.toFixed(2), r.cpuRatio.toFixed(2), r.macsRatio.toFixed(2)]));
const md = `# Two stochastic layers: cost per training step

\`npm run bench:hierarchy\` (bench/hierarchy.ts): batch ${BATCH}, tanh, Bernoulli, plain build, one thread,
${rounds} interleaved rounds of ${steps} steps per model on 2,000 MNIST rows; median ms per step over rounds
(wall time, and this process's CPU time); the last column is the ratio of the dense layers' multiply-adds per data row.

${table}

Machine: ${describeMachine(m)}
`;
writeFileSync(join(ROOT, "bench", "results", "hierarchy.md"), md);
writeFileSync(join(ROOT, "bench", "results", "hierarchy.json"), JSON.stringify({ machine: m, batch: BATCH, steps, rounds, results }, null, 2) + "\n");
console.log(md);
for (const r of rows) r.vae.dispose();
