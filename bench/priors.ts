// `npm run bench:priors`: what a learned prior costs per training step. The
// IWAE paper's one-stochastic-layer model (784-200-200-50, tanh, Bernoulli,
// Adam, ELBO) at batch 20 on real MNIST, one thread, with the N(0, I) prior,
// a learned mixture of K = 500 Gaussians and a VampPrior with K = 500
// pseudo-inputs (the encoder then runs on 20 + 500 rows every step). The
// three models alternate within each round, so a change in the machine's
// load hits all of them alike; figures are medians over rounds with the
// ratio to the N(0, I) step of the same run. Before timing, the mixture's
// log p kernel is checked against the float64 reference (tests/reference.ts)
// at K = 500, L = 50. Writes bench/results/priors.md.
// Flags: --rounds N (default 7), --steps N per round and model (default 20),
// --build plain|relaxed (default plain).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadMnist, VAE, type Build, type VAEConfig } from "../src/index.js";
import { loadKernels } from "../src/kernels/wasm.js";
import { mixtureLogpRef, randomArray } from "../tests/reference.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const ROUNDS = Number(flag("rounds") ?? 7), STEPS = Number(flag("steps") ?? 20);
const BUILD = (flag("build") ?? "plain") as Build;
const B = 20, K = 500, L = 50;
const m = machine();

// ---- check: the mixture's log p at the benchmark's size vs float64
{
  const k = await loadKernels({ build: BUILD });
  const n = B, z = randomArray(n * L, 1, -2, 2), mu = randomArray(K * L, 2, -1, 1), lv = randomArray(K * L, 3, -1, 1), logits = randomArray(K, 4);
  k.reserve(4 * (2 * n * L + 3 * K * L + 2 * K + n + n * K) + 1024);
  let at = k.base;
  const put = (a: Float32Array) => { const p = at; k.f32(p, a.length).set(a); at += 4 * a.length; return p; };
  const zp = put(z), mp = put(mu), lp = put(lv), gp = put(logits), logp = put(new Float32Array(n)), resp = put(new Float32Array(n * K)), prep = put(new Float32Array(K * (L + 1)));
  k.mixtureLogpForward({ logp, resp, prep, z: zp, means: mp, logvars: lp, ld: L, logits: gp, n, K, L });
  const ref = mixtureLogpRef(z, mu, lv, L, logits, n, K, L).logp, got = k.f32(logp, n);
  for (let r = 0; r < n; r++) {
    if (!(Math.abs(got[r] - ref[r]) <= 2e-5 * (Math.abs(ref[r]) + 1))) throw new Error(`mixture log p row ${r}: ${got[r]} vs float64 ${ref[r]}`);
  }
  console.log(`check: mixture log p (K = ${K}, L = ${L}, ${n} rows) matches float64`);
}

const base: VAEConfig = { inputDim: 784, encoder: [200, 200], latentDim: L, decoder: [200, 200], activation: "tanh", likelihood: "bernoulli", seed: 1, maxBatch: B };
const MODELS: [string, VAEConfig][] = [
  ["N(0, I)", base],
  [`mixture, K = ${K}`, { ...base, prior: { type: "mixture", components: K } }],
  [`vamp, K = ${K}`, { ...base, prior: { type: "vamp", components: K } }],
];
const mnist = await loadMnist({ limit: 2000 });
const batch = (i: number) => mnist.images.subarray(((i * B) % (2000 - B)) * 784, (((i * B) % (2000 - B)) + B) * 784);
const vaes: VAE[] = [];
for (const [, cfg] of MODELS) {
  const v = await VAE.create(cfg, { build: BUILD, threads: 1 });
  for (let i = 0; i < 10; i++) if (!Number.isFinite(v.trainStep(batch(i)).loss)) throw new Error("warm-up loss is not finite");
  vaes.push(v);
}
const ms: number[][] = MODELS.map(() => []);
let step = 10;
for (let r = 0; r < ROUNDS; r++) {
  vaes.forEach((v, i) => {
    const t0 = performance.now();
    for (let s = 0; s < STEPS; s++) v.trainStep(batch(step + s));
    ms[i].push((performance.now() - t0) / STEPS);
  });
  step += STEPS;
}
const med = ms.map(median);
const rows = MODELS.map(([name], i) => [name, med[i].toFixed(2), `${(med[i] / med[0]).toFixed(2)}×`, Object.values(vaes[i].parameterShapes()).reduce((a, s) => a + s.reduce((p, q) => p * q, 1), 0)]);
const table = mdTable(["prior", "ms / step (median)", "vs N(0, I)", "parameters"], rows);
const md = `# Learned priors: cost per training step

\`npm run bench:priors\` (bench/priors.ts): 784-200-200-50 tanh, Bernoulli, ELBO, Adam, batch ${B}, real MNIST, ${BUILD} build, one thread; ${ROUNDS} rounds × ${STEPS} steps per model, the models alternating within each round; medians.

${table}

Machine: ${describeMachine(m)}
`;
writeFileSync(join(ROOT, "bench", "results", "priors.md"), md);
console.log(table);
for (const v of vaes) v.dispose();
