// `npm run bench:iwae-step`: what an importance-weighted step costs against the
// VAE's, and where the difference goes (issue 18's target: an IWAE k = 5 step
// at most 2.5× a VAE step). The IWAE paper's one-stochastic-layer model
// (784-200-200-50, tanh, Bernoulli, Adam lr 1e-3, ε 1e-4, batch 20, one
// thread: bench:paper's recipe) on dynamically binarized MNIST batches.
//   1. Step time: the VAE and each IWAE variant in interleaved rounds in one
//      process (the order rotates per round), median wall and CPU ms per
//      step, both builds, and the ratio to the VAE's in the same rounds.
//   2. The arithmetic: the multiply-add flops of one step of each, counted
//      from its kernel calls, and their ratio (what the step ratio would be if
//      every flop cost the same).
//   3. Where each step goes (bench/clock.ts: every kernel call timed), grouped:
//      the dense GEMMs by layer with GFLOP/s against the per-core ceiling
//      measured in this run (bench/ceiling.ts), Adam, the likelihood, the
//      latent/objective kernels, and the host (TypeScript between calls).
// Writes bench/results/iwae-step.md and .json.
//
//   npm run bench:iwae-step [-- --rounds 15] [-- --steps 40] [-- --k50]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Adam, binarize, loadMnist, VAE, type VAEConfig } from "../src/index.js";
import { ACCUMULATORS, CeilingPool, type CeilingBuild } from "./ceiling.js";
import { clockKernels } from "./clock.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const ROUNDS = Number(flag("rounds") ?? 15), STEPS = Number(flag("steps") ?? 40);
const D = 784, BATCH = 20;
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const RUNS: { name: string; fragment: Record<string, unknown> }[] = [
  { name: "VAE (elbo)", fragment: {} },
  { name: "IWAE k = 5", fragment: { objective: { type: "iwae", samples: 5 } } },
  { name: "IWAE k = 5, DReG", fragment: { objective: { type: "iwae", samples: 5, gradient: "dreg" } } },
  ...(flag("k50") === true ? [{ name: "IWAE k = 50", fragment: { objective: { type: "iwae", samples: 50 } } }] : []),
];
const configOf = (fragment: Record<string, unknown>): VAEConfig => ({
  inputDim: D, encoder: [200, 200], latentDim: 50, decoder: [200, 200], activation: "tanh", likelihood: "bernoulli",
  seed: 0, maxBatch: BATCH, ...fragment,
} as unknown as VAEConfig);

const m0 = machine();
const mnist = await loadMnist({ limit: 16 * BATCH });
const batches = Array.from({ length: 16 }, (_, i) => binarize(mnist.images.subarray(i * BATCH * D, (i + 1) * BATCH * D), 1000 + i));

// the per-core ceiling, one thread, per CPU-second (best accumulator count)
const pool = new CeilingPool(1);
const CORE: Record<CeilingBuild, number> = { plain: 0, relaxed: 0 };
for (const build of ["plain", "relaxed"] as const) {
  for (const A of ACCUMULATORS) {
    const rs = [];
    for (let r = 0; r < 5; r++) rs.push((await pool.run(build, A, 1, 4_000_000)).gflopsPerCpuSecond);
    CORE[build] = Math.max(CORE[build], median(rs));
  }
  console.log(`ceiling ${build}: ${CORE[build].toFixed(1)} GFLOP per CPU-second`);
}
await pool.dispose();

interface Group { what: string; ms: number; flops: number }
interface Row { build: CeilingBuild; run: string; ms: number; cpuMs: number; ratio: number; cpuRatio: number; flops: number; flopRatio: number; groups: Group[]; kernelsMs: number; load: string }
const rows: Row[] = [];

/** Groups a clocked step's kernel calls: dense GEMMs by shape, then the rest by family. */
function groupOf(key: string): string {
  if (key.startsWith("dense_")) return key;
  if (key.startsWith("adam")) return "Adam";
  if (key === "sum_squares") return "gradient norm (sum_squares)";
  if (key.startsWith("bernoulli")) return "Bernoulli likelihood (loss + gradient)";
  return "latent, prior and objective kernels (sampler, log q, log p, weights, noise)";
}

for (const build of ["plain", "relaxed"] as const) {
  const vs: VAE[] = [];
  for (const r of RUNS) {
    const v = await VAE.create(configOf(r.fragment), { threads: 1, build });
    v.optimizer = new Adam({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-4 });
    for (let s = 0; s < 30; s++) v.trainStep(batches[s % 16]);
    vs.push(v);
  }
  const wall = RUNS.map(() => [] as number[]), cpu = RUNS.map(() => [] as number[]);
  const l = load();
  for (let round = 0; round < ROUNDS; round++) {
    for (let j0 = 0; j0 < RUNS.length; j0++) {
      const j = (j0 + round) % RUNS.length;
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let s = 0; s < STEPS; s++) vs[j].trainStep(batches[(round * STEPS + s) % 16]);
      const w = performance.now() - t0, c = process.cpuUsage(c0);
      wall[j].push(w / STEPS);
      cpu[j].push((c.user + c.system) / 1e3 / STEPS);
    }
  }
  // one clocked pass per run: flops and where the time goes
  const clocked = vs.map((v) => {
    const { table, undo } = clockKernels(v.kernels);
    const n = STEPS, t0 = performance.now();
    for (let s = 0; s < n; s++) v.trainStep(batches[s % 16]);
    const stepMs = (performance.now() - t0) / n;
    undo();
    const groups = new Map<string, Group>();
    let flops = 0, kernelsMs = 0;
    for (const [key, e] of table) {
      const what = groupOf(key), g = groups.get(what) ?? { what, ms: 0, flops: 0 };
      g.ms += e.ms / n; g.flops += e.flops / n; groups.set(what, g);
      flops += e.flops / n; kernelsMs += e.ms / n;
    }
    const gs = [...groups.values()].sort((a, b) => b.ms - a.ms);
    gs.push({ what: "host (TypeScript between kernel calls, and the clock itself)", ms: Math.max(0, stepMs - kernelsMs), flops: 0 });
    return { flops, groups: gs, kernelsMs };
  });
  const vaeMs = median(wall[0]), vaeCpu = median(cpu[0]);
  RUNS.forEach((r, j) => {
    const ms = median(wall[j]), cpuMs = median(cpu[j]);
    rows.push({ build, run: r.name, ms, cpuMs, ratio: ms / vaeMs, cpuRatio: cpuMs / vaeCpu, flops: clocked[j].flops,
      flopRatio: clocked[j].flops / clocked[0].flops, groups: clocked[j].groups, kernelsMs: clocked[j].kernelsMs, load: l });
    console.log(`${build} ${r.name}: ${ms.toFixed(3)} ms (cpu ${cpuMs.toFixed(3)}), ${(ms / vaeMs).toFixed(2)}× the VAE; arithmetic ${(clocked[j].flops / clocked[0].flops).toFixed(2)}×`);
  });
  vs.forEach((v) => v.dispose());
}

const f = (x: number, d = 2) => x.toFixed(d);
const stepTable = mdTable(["build", "run", "ms / step", "CPU ms / step", "× VAE (wall)", "× VAE (CPU)", "MFLOP / step", "× VAE (arithmetic)", "GFLOP per CPU-second", "of the core's ceiling", "load"],
  rows.map((r) => [r.build, r.run, f(r.ms, 3), f(r.cpuMs, 3), `${f(r.ratio)}×`, `${f(r.cpuRatio)}×`, f(r.flops / 1e6, 1), `${f(r.flopRatio)}×`,
    f(r.flops / r.cpuMs / 1e6, 1), `${Math.round(100 * r.flops / r.cpuMs / 1e6 / CORE[r.build])}%`, r.load]));
const detail = rows.filter((r) => r.run === "VAE (elbo)" || r.run === "IWAE k = 5").map((r) => {
  const t = mdTable(["part", "ms / step", "share", "GFLOP/s", "of the core's ceiling"],
    r.groups.map((g) => [g.what, f(g.ms, 3), `${Math.round(100 * g.ms / (r.kernelsMs + r.groups[r.groups.length - 1].ms))}%`,
      g.flops ? f(g.flops / g.ms / 1e6, 1) : "", g.flops ? `${Math.round(100 * g.flops / g.ms / 1e6 / CORE[r.build])}%` : ""]));
  return `### ${r.run}, ${r.build} (clocked step ${f(r.kernelsMs + r.groups[r.groups.length - 1].ms, 3)} ms)\n\n${t}\n`;
}).join("\n");

const md = `# IWAE step cost against the VAE's (\`npm run bench:iwae-step\`)

Written by bench/iwae-step.ts. bench:paper's recipe: 784-200-200-50, tanh, Bernoulli, Adam (lr 1e-3, ε 1e-4),
batch 20, dynamically binarized MNIST batches, one thread, seed 0. Step times: median over ${ROUNDS} interleaved rounds
(the order rotates each round) of the mean over ${STEPS} steps, every run in the same process; "CPU" is the process's
CPU time per step, the figure least disturbed by other processes. Arithmetic: the multiply-add flops of one step
counted from its kernel calls (2 per multiply-add). Ceiling: one thread's f32x4 multiply-add loop per CPU-second,
measured in this run (plain ${f(CORE.plain, 1)}, relaxed ${f(CORE.relaxed, 1)} GFLOP/s). The plain loop (a multiply, then a
dependent add) has measured 20–38 GFLOP/s on this machine from run to run while the relaxed one stays near 52–54;
where a plain GEMM row shows more than 100%, the plain loop measured low in that run: read the ratios, and the
relaxed percentages.

Machine: ${describeMachine(m0)}.

${stepTable}

## Where the steps go (one clocked pass: every kernel call timed)

A GEMM row is one dense layer call, \`dense_forward M×K→N\` or \`dense_backward M×K→N\` (dW, db and, unless
"no dx", dx). The VAE's decoder runs on 20 rows, the IWAE k = 5 decoder on 100.

${detail}`;
writeFileSync(join(ROOT, "bench", "results", "iwae-step.md"), md);
writeFileSync(join(ROOT, "bench", "results", "iwae-step.json"), JSON.stringify({ machine: m0, ceiling: CORE, rounds: ROUNDS, steps: STEPS, rows }, null, 2) + "\n");
console.log(md);
