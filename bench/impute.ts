// `npm run bench:impute`: completion of hidden bottom halves of MNIST test
// digits by every vae.impute method, beside the per-pixel training mean (the
// best constant fill in mean squared error) and an unconditional sample.
// The model is the one `npm start` trains (784-400-20-400-784, ReLU,
// Bernoulli on pixels / 255, Adam 1e-3, batch 128, 10 epochs, seed 0), or a
// model file given with --model (e.g. runs/<name>/model.wvae).
// Flags: --model <file>, --images N (first N test images, default 500),
// --epochs N (when training, default 10), --threads N.
// Writes bench/results/impute-mnist.md and bench/results/impute-mnist.json.
// Not here: the exactness of the estimators (tests/model/linear-gaussian.test.ts,
// conditional.test.ts).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, loadMnist, VAE, type ImputeOptions } from "../src/index.js";
import { describeMachine, flag, machine, mdTable, ROOT } from "./common.js";

const D = 784;
const OUT = join(ROOT, "bench", "results");

interface Row { method: string; setting: string; mse: number; vsMean: number; seconds: number }

async function main(): Promise<void> {
  const images = Number(flag("images") ?? 500);
  const epochs = Number(flag("epochs") ?? 10);
  const threads = flag("threads") !== undefined ? Number(flag("threads")) : 1;
  const modelPath = flag("model");
  const train = await loadMnist({ split: "train" });
  const test = await loadMnist({ split: "test", limit: images });
  let vae: VAE, source: string;
  if (typeof modelPath === "string") {
    vae = await VAE.load(new Uint8Array(readFileSync(modelPath)), { threads });
    source = `model file ${modelPath} (${vae.epochs} epochs)`;
  } else {
    vae = await VAE.create({ inputDim: D, encoder: [400], latentDim: 20, activation: "relu", likelihood: "bernoulli", seed: 0, maxBatch: 128 }, { threads });
    vae.optimizer = new Adam({ lr: 1e-3 });
    const t0 = performance.now();
    await vae.fit(train.images, { epochs, batchSize: 128, onEpoch: (e) => console.log(`epoch ${e.epoch}: train −ELBO ${e.loss.toFixed(2)}`) });
    source = `trained here: the npm start recipe, ${epochs} epochs, seed 0 (${((performance.now() - t0) / 1000).toFixed(0)} s)`;
  }
  const n = test.images.length / D;
  const x = test.images;
  const mask = new Uint8Array(D).map((_, i) => (i < 14 * 28 ? 1 : 0)); // 1 = observed: the top 14 rows
  const pixelMean = new Float64Array(D);
  const N = train.images.length / D;
  for (let r = 0; r < N; r++) for (let d = 0; d < D; d++) pixelMean[d] += train.images[r * D + d] / N;
  const mseOf = (done: ArrayLike<number>) => {
    let se = 0, count = 0;
    for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) if (!mask[d]) { se += (done[r * D + d] - x[r * D + d]) ** 2; count++; }
    return se / count;
  };
  const meanFill = new Float32Array(n * D);
  for (let r = 0; r < n; r++) meanFill.set(Float32Array.from(pixelMean), r * D);
  const mseMean = mseOf(meanFill);
  const rows: Row[] = [{ method: "per-pixel training mean", setting: "", mse: mseMean, vsMean: 0, seconds: 0 }];
  const t0 = performance.now();
  const prior = vae.sample(n);
  rows.push({ method: "prior sample", setting: "z ~ N(0, I), decoded", mse: mseOf(prior), vsMean: 0, seconds: (performance.now() - t0) / 1000 });
  const runs: [string, string, ImputeOptions][] = [
    ["miwae (default)", "k = 1000 over 10 rounds, proposal σ × 2", {}],
    ["miwae", "k = 100 over 10 rounds, σ × 2", { samples: 100 }],
    ["miwae", "k = 3000 over 10 rounds, σ × 2", { samples: 3000 }],
    ["miwae", "k = 1000 over 10 rounds, σ × 1", { proposalScale: 1 }],
    ["miwae", "k = 1000, 1 round, σ × 2", { rounds: 1 }],
    ["miwae", "k = 1000 from the encoder's q itself (1 round, σ × 1)", { rounds: 1, proposalScale: 1 }],
    ["miwae", "k = 1000, 1 round, σ × 1, 20% prior draws", { rounds: 1, proposalScale: 1, defensive: 0.2 }],
    ["metropolis", "100 iterations, burn-in 20", { method: "metropolis" }],
    ["pseudo_gibbs", "20 iterations", { method: "pseudo_gibbs" }],
  ];
  for (const [method, setting, o] of runs) {
    const t = performance.now();
    const done = vae.impute(x, mask, o);
    const r = { method, setting, mse: mseOf(done), vsMean: 0, seconds: (performance.now() - t) / 1000 };
    rows.push(r);
    console.log(`${method} (${setting}): MSE ${r.mse.toFixed(4)} (per-pixel mean ${mseMean.toFixed(4)}), ${r.seconds.toFixed(1)} s`);
  }
  for (const r of rows) r.vsMean = r.mse / mseMean - 1;
  const m = machine();
  const table = mdTable(["method", "setting", "MSE on hidden half", "vs per-pixel mean", "seconds"],
    rows.map((r) => [r.method, r.setting, r.mse.toFixed(4), r.method.startsWith("per-pixel") ? "—" : `${r.vsMean > 0 ? "+" : ""}${(100 * r.vsMean).toFixed(1)}%`, r.seconds ? r.seconds.toFixed(1) : ""]),
    ["l", "l", "r", "r", "r"]);
  const md = `# Imputation of hidden bottom halves (MNIST test digits)

\`npm run bench:impute\` (bench/impute.ts). Model: ${source}; 784-400-20-400-784, ReLU, Bernoulli.
The first ${n} MNIST test images with their bottom 14 rows hidden (392 values each, the missing
entries start at 0 in the encoder's input); MSE over the hidden values, pixels in [0, 1].
${vae.build} build, ${vae.threads} thread${vae.threads === 1 ? "" : "s"}; ${describeMachine(m)}.
Seconds are wall time on this machine at the load average above (the methods' costs: miwae decodes
rows × k latent rows, metropolis encodes and decodes rows × iterations, pseudo_gibbs likewise).

${table}
`;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "impute-mnist.md"), md);
  writeFileSync(join(OUT, "impute-mnist.json"), JSON.stringify({ machine: m, model: source, images: n, rows }, null, 2) + "\n");
  console.log("\n" + md);
  vae.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
