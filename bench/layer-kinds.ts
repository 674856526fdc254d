// `npx tsx bench/layer-kinds.ts`: what the activation and dropout layer kinds
// cost in the 784-400-20-400-784 MNIST VAE (B = 128, plain build, one
// thread, Bernoulli, ReLU, Adam). Variants, timed in alternating rounds so a
// change in the machine's load hits all alike (medians of per-step times):
//   fused     encoder [400], decoder [400] (ReLU fused into the dense kernel)
//   separate  dense 400 "identity" → { type: "activation", activation: "relu" }, both sides
//   dropout   dense 400 → { type: "dropout", rate: 0.2 }, both sides
// Before timing: "separate" trains bit-identically to "fused" (same weights
// after 3 steps), and "dropout" reconstructs like "fused" with the same weights
// (identity at inference). Also times reconstruct (B = 128).
// Writes bench/results/layer-kinds.md. Flags: --rounds N (default 5), --steps N (default 20).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadMnist, VAE, type VAEConfig } from "../src/index.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const ROUNDS = Number(flag("rounds") ?? 5), STEPS = Number(flag("steps") ?? 20), B = 128;
const base = { inputDim: 784, latentDim: 20, seed: 0, maxBatch: B } as const;
const VARIANTS: Record<string, VAEConfig> = {
  fused: { ...base, encoder: [400], decoder: [400] },
  separate: { ...base, encoder: [{ type: "dense", units: 400, activation: "identity" }, { type: "activation", activation: "relu" }],
    decoder: [{ type: "dense", units: 400, activation: "identity" }, { type: "activation", activation: "relu" }] },
  dropout: { ...base, encoder: [{ type: "dense", units: 400 }, { type: "dropout", rate: 0.2 }], decoder: [{ type: "dense", units: 400 }, { type: "dropout", rate: 0.2 }] },
};
const mnist = await loadMnist({ limit: 4096 });
const batch = (i: number) => { const s = (i * B) % (mnist.count - B); return mnist.images.subarray(s * 784, (s + B) * 784); };
const make = () => Promise.all(Object.values(VARIANTS).map((c) => VAE.create(c, { build: "plain", threads: 1 })));
const names = Object.keys(VARIANTS);

// gates
{
  const [fused, separate, dropout] = await make();
  for (let i = 0; i < 3; i++) { fused.trainStep(batch(i)); separate.trainStep(batch(i)); }
  const same = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) => Object.values(a).every((t, i) => {
    const u = Object.values(b)[i];
    return Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(u.buffer, u.byteOffset, u.byteLength));
  });
  const ws = separate.getWeights(), wf = fused.getWeights();
  const renamed = Object.fromEntries(Object.keys(ws).map((n, i) => [n, Object.values(wf)[i]]));
  if (!same(renamed, ws)) throw new Error("gate: separate activation layers did not train as the fused ones");
  dropout.setWeights(Object.fromEntries(Object.keys(dropout.parameterShapes()).map((n, i) => [n, Object.values(wf)[i]])));
  const a = fused.reconstruct(batch(9)), b = dropout.reconstruct(batch(9));
  if (!Buffer.from(a.buffer).equals(Buffer.from(b.buffer))) throw new Error("gate: dropout is not the identity at inference");
  console.log("gates passed: separate activation layers train bit-identically to fused ones; dropout reconstructs as no dropout");
}

const models = await make();
const step: number[][] = names.map(() => []), infer: number[][] = names.map(() => []);
let k = 0;
for (let r = 0; r < ROUNDS; r++) {
  models.forEach((m, v) => {
    for (let s = 0; s < STEPS; s++) {
      const x = batch(k++), t0 = performance.now();
      m.trainStep(x);
      step[v].push(performance.now() - t0);
    }
    for (let s = 0; s < 5; s++) {
      const x = batch(k++), t0 = performance.now();
      m.reconstruct(x);
      infer[v].push(performance.now() - t0);
    }
  });
}
const med = step.map(median), imed = infer.map(median);
const rows = names.map((n, v) => [n, med[v].toFixed(2), (med[v] / med[0]).toFixed(3), imed[v].toFixed(2), (imed[v] / imed[0]).toFixed(3)]);
const table = mdTable(["variant", "train step (ms)", "vs fused", "reconstruct B=128 (ms)", "vs fused"], rows, ["l", "r", "r", "r", "r"]);
const md = `# Layer kinds: activation and dropout (bench/layer-kinds.ts)\n\n784-400-20-400-784, B = ${B}, plain build, one thread, ${ROUNDS} rounds × ${STEPS} steps (medians).\n${describeMachine(machine())}\n\n${table}\n`;
writeFileSync(join(ROOT, "bench", "results", "layer-kinds.md"), md);
console.log(md);
