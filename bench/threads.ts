// `npm run bench:threads`: issue 12's figures. Training step time on 1 … the
// available cores (at least 1 and 2) for B = 32, 128, 512, plain and relaxed,
// for the 784-400-20-400-784 VAE and the deeper 784-512-256-32-256-512-784
// one (ReLU, Bernoulli, Adam, real MNIST); inference (reconstruct) at
// B = 1, 128, 1024; and the split threshold (minWork) swept at small batches.
// Before timing, every threaded model's weights after 3 steps are checked
// bit-identical to the one-thread model's. Thread counts alternate within
// each round, so a change in the machine's load hits all of them alike; the
// load average is printed with the figures (other processes share the cores).
// Writes bench/results/threads.md. The last line printed is
//   train step B=128 plain: 1 thread A ms, 2 threads B ms, speedup C×
// Flags: --rounds N (default 5), --quick (B = 128 only, small VAE, 3 rounds).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { loadMnist, VAE, type Build, type VAEConfig } from "../src/index.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { DEFAULT_MIN_WORK, DEFAULT_SPIN_US } from "../src/threads/threads.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const quick = flag("quick") === true;
const ROUNDS = Number(flag("rounds") ?? (quick ? 3 : 5));
const CORES = os.availableParallelism();
const THREADS = Array.from({ length: Math.max(2, CORES) }, (_, i) => i + 1);
const BUILDS: Build[] = ["plain", "relaxed"];
const ARCHS: Record<string, { encoder: number[]; latentDim: number; decoder: number[] }> = {
  "784-400-20-400-784": { encoder: [400], latentDim: 20, decoder: [400] },
  "784-512-256-32-256-512-784": { encoder: [512, 256], latentDim: 32, decoder: [256, 512] },
};
const TRAIN_B = quick ? [128] : [32, 128, 512];
const INFER_B = quick ? [1, 128] : [1, 128, 1024];
const SMALL = "784-400-20-400-784";

const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
const config = (arch: string, maxBatch: number): VAEConfig => ({
  inputDim: 784, ...ARCHS[arch], activation: "relu", likelihood: "bernoulli", seed: 0, maxBatch,
});

const mnist = await loadMnist({ limit: 4096 });
const batchOf = (B: number, i: number) => {
  const start = (i * B) % (mnist.count - B);
  return mnist.images.subarray(start * 784, (start + B) * 784);
};

function bits(v: VAE): Uint32Array {
  const w = Object.values(v.getWeights());
  const out = new Uint32Array(w.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of w) { out.set(new Uint32Array(a.buffer, a.byteOffset, a.length), o); o += a.length; }
  return out;
}

async function models(arch: string, build: Build, maxBatch: number, threads = THREADS): Promise<VAE[]> {
  const out: VAE[] = [];
  for (const t of threads) {
    const v = await VAE.create(config(arch, maxBatch), { build, threads: t });
    if (v.threads !== t) throw new Error(`asked for ${t} threads, got ${v.threads}`);
    out.push(v);
  }
  return out;
}

/** CPU time this process got per wall time in the last timeAlternating call
 *  (median round), per fn: about n for n busy threads; less when other
 *  processes took the cores or threads waited. */
let lastCores: number[] = [];

/** Median over rounds of the mean ms per call; fns run alternately. */
function timeAlternating(fns: (() => void)[], perRound: number, warmup: number): number[] {
  for (const f of fns) for (let i = 0; i < warmup; i++) f();
  const samples = fns.map(() => [] as number[]);
  const cores = fns.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) {
    fns.forEach((f, j) => {
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let i = 0; i < perRound; i++) f();
      const wall = performance.now() - t0, c = process.cpuUsage(c0);
      samples[j].push(wall / perRound);
      cores[j].push((c.user + c.system) / 1000 / wall);
    });
  }
  lastCores = cores.map((c) => median(c));
  return samples.map((s) => median(s));
}

/** timeAlternating, repeated (after a pause) up to ATTEMPTS times while the
 *  2-thread model got less than 1.5 cores, i.e. while another process held a
 *  core: the table is about what threads give on the cores this machine has.
 *  Keeps the attempt where the 2-thread model got the most CPU; the row
 *  records the attempts and the cores used, so a contended row shows. */
const ATTEMPTS = quick ? 1 : 4;
let lastAttempts = 1;
async function timeOnFreeCores(fns: (() => void)[], perRound: number): Promise<number[]> {
  let best: { times: number[]; cores: number[] } | null = null;
  for (let a = 1; a <= ATTEMPTS; a++) {
    const times = timeAlternating(fns, perRound, a === 1 ? perRound : 2);
    if (!best || lastCores[1] > best.cores[1]) best = { times, cores: lastCores };
    lastAttempts = a;
    if (best.cores[1] >= 1.5) break;
    if (a < ATTEMPTS) await new Promise((r) => setTimeout(r, 5000));
  }
  lastCores = best!.cores;
  return best!.times;
}

const loadBefore = uptime();
console.log(`machine: ${describeMachine(machine())}`);
console.log(`load before: ${loadBefore}`);

// ---------------------------------------------------------------- training
interface Row { arch: string; build: Build; B: number; ms: number[]; cores: number[]; attempts: number }
const train: Row[] = [];
for (const arch of quick ? [SMALL] : Object.keys(ARCHS)) {
  for (const build of BUILDS) {
    for (const B of TRAIN_B) {
      const ms = await models(arch, build, B);
      // correctness gate: 3 steps, weights bit-identical to one thread
      for (const v of ms) for (let i = 0; i < 3; i++) v.trainStep(batchOf(B, i));
      const ref = bits(ms[0]);
      for (const v of ms.slice(1)) {
        const b = bits(v);
        if (b.length !== ref.length || b.some((x, i) => x !== ref[i])) throw new Error(`${arch} ${build} B=${B}: ${v.threads} threads differ from one thread`);
      }
      let step = 0;
      const perRound = Math.max(3, Math.round(1200 / B));
      const times = await timeOnFreeCores(ms.map((v) => () => { v.trainStep(batchOf(B, step++)); }), perRound);
      train.push({ arch, build, B, ms: times, cores: lastCores, attempts: lastAttempts });
      console.log(`train ${arch} ${build} B=${B}: ${times.map((t, i) => `${THREADS[i]}t ${t.toFixed(2)} ms (${lastCores[i].toFixed(2)} cores)`).join(", ")}`);
      ms.forEach((v) => v.dispose());
    }
  }
}

// ---------------------------------------------------------------- inference
const infer: Row[] = [];
for (const arch of quick ? [SMALL] : Object.keys(ARCHS)) {
  for (const build of BUILDS) {
    const ms = await models(arch, build, Math.max(...INFER_B));
    for (const B of INFER_B) {
      const x = mnist.images.subarray(0, B * 784);
      const outs = ms.map((v) => v.reconstruct(x));
      for (const o of outs.slice(1)) if (o.some((y, i) => y !== outs[0][i])) throw new Error(`inference ${arch} ${build} B=${B}: threads differ`);
      const perRound = Math.max(3, Math.round(4000 / B));
      const times = await timeOnFreeCores(ms.map((v) => () => { v.reconstruct(x); }), perRound);
      infer.push({ arch, build, B, ms: times, cores: lastCores, attempts: lastAttempts });
      console.log(`reconstruct ${arch} ${build} B=${B}: ${times.map((t, i) => `${THREADS[i]}t ${t.toFixed(3)} ms (${lastCores[i].toFixed(2)} cores)`).join(", ")}`);
    }
    ms.forEach((v) => v.dispose());
  }
}

// ---------------------------------------------------------------- threshold
// 2 threads with minWork from 0 (split everything) to never, against 1 thread.
const MIN_WORKS = [0, 1 << 16, 1 << 18, 1 << 20, 2 ** 31 - 1];
const sweep: { what: string; one: number; two: number[] }[] = [];
if (!quick) {
  const [one, two] = await models(SMALL, "plain", 64, [1, 2]);
  const pool = two.kernels.threadsHandle as ThreadPool;
  for (const B of [2, 4, 8, 16, 32, 64]) {
    for (const kind of ["reconstruct", "train"] as const) {
      const x = mnist.images.subarray(0, B * 784);
      const run = (v: VAE) => () => { if (kind === "train") v.trainStep(x); else v.reconstruct(x); };
      const perRound = Math.max(5, Math.round((kind === "train" ? 600 : 3000) / B));
      const fns = [run(one), ...MIN_WORKS.map((mw) => () => { pool.tune({ minWork: mw }); run(two)(); })];
      // tune() per call costs one wasm call: negligible next to a step
      const times = timeAlternating(fns.map((f, i) => i === 0 ? f : () => f()), perRound, perRound);
      sweep.push({ what: `${kind} B=${B}`, one: times[0], two: times.slice(1) });
      console.log(`minWork sweep ${kind} B=${B}: 1t ${times[0].toFixed(3)} ms; 2t ${times.slice(1).map((t, i) => `${MIN_WORKS[i]}: ${t.toFixed(3)}`).join(", ")}`);
    }
  }
  pool.tune({ minWork: DEFAULT_MIN_WORK });
  one.dispose(); two.dispose();
}

// ---------------------------------------------------------------- breakdown
// Where a 2-thread step's time goes (the calling thread's view): inside split
// calls (its own tasks + waiting for the others' last tasks) and outside them
// (the serial kernels and the host), at the default settings and with the
// workers polling 0 / 50 / 500 / 2,000 µs before they sleep.
const SPINS = [0, 50, 500, 2000];
const breakdown: { build: Build; spin: number; step: number; split: number; wait: number; calls: number }[] = [];
for (const build of BUILDS) {
  const [two] = await models(SMALL, build, 128, [2]);
  const pool = two.kernels.threadsHandle as ThreadPool;
  let step = 0;
  for (let i = 0; i < 20; i++) two.trainStep(batchOf(128, step++));
  for (const spin of SPINS) {
    pool.tune({ spinUs: spin });
    const rounds: { step: number; split: number; wait: number; calls: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const n = 20, s0 = pool.stats(), t0 = performance.now();
      for (let i = 0; i < n; i++) two.trainStep(batchOf(128, step++));
      const t = (performance.now() - t0) / n, s1 = pool.stats();
      rounds.push({ step: t, split: (s1.splitMs - s0.splitMs) / n, wait: (s1.waitMs - s0.waitMs) / n, calls: (s1.splitCalls - s0.splitCalls) / n });
    }
    const mid = rounds.sort((a, b) => a.step - b.step)[rounds.length >> 1];
    breakdown.push({ build, spin, ...mid });
    console.log(`breakdown ${build} B=128 2 threads spin ${spin} µs: step ${mid.step.toFixed(2)} ms, in ${mid.calls} split calls ${mid.split.toFixed(2)} ms (waiting ${mid.wait.toFixed(2)}), outside ${(mid.step - mid.split).toFixed(2)} ms`);
  }
  two.dispose();
}

const loadAfter = uptime();
console.log(`load after: ${loadAfter}`);

// ---------------------------------------------------------------- report
const f2 = (x: number) => x.toFixed(2);
const speed = (r: Row) => THREADS.slice(1).map((_, i) => `${(r.ms[0] / r.ms[i + 1]).toFixed(2)}×`);
const head = ["VAE", "build", "B", ...THREADS.map((t) => `${t} thread${t > 1 ? "s" : ""} (ms)`), ...THREADS.slice(1).map((t) => `speedup ${t}`),
  ...THREADS.map((t) => `cores used, ${t}`), "attempts"];
const cores = (r: Row) => r.cores.map((c) => c.toFixed(2));
const md = [
  "# Threads (issue 12)",
  "",
  "Written by `npm run bench:threads` (bench/threads.ts). Median over rounds of the mean time per call; thread counts",
  "alternate within each round. Every threaded model was checked bit-identical to one thread before timing.",
  `One thread is the ordinary (non-shared) build; n threads the shared-memory build with n − 1 workers. minWork = ${DEFAULT_MIN_WORK}.`,
  "",
  `Machine: ${describeMachine(machine())}`,
  "",
  `Load before: \`${loadBefore}\``,
  "",
  `Load after: \`${loadAfter}\``,
  "",
  "The cores are shared with other processes: a load average above the core count means other work competed",
  "for the same cores during the run, and the threaded figures are then a lower bound on what an idle machine gives.",
  "\"cores used\" is this process's CPU time over wall time while timing (median round): about n for n busy threads;",
  "well below n means other processes held the cores (or threads waited). A row whose 2-thread model got under 1.5 cores",
  `was measured again after a 5 s pause, up to ${ATTEMPTS} attempts, keeping the attempt with the most cores ("attempts").`,
  "",
  "## Training step (trainStep: forward, backward, Adam)",
  "",
  mdTable(head, train.map((r) => [r.arch, r.build, r.B, ...r.ms.map(f2), ...speed(r), ...cores(r), r.attempts])),
  "",
  "## Inference (reconstruct: encoder means → decoder → sigmoid)",
  "",
  mdTable(head, infer.map((r) => [r.arch, r.build, r.B, ...r.ms.map((x) => x.toFixed(3)), ...speed(r), ...cores(r), r.attempts])),
  "",
];
md.push(`## Where a 2-thread step goes, ${SMALL}, B = 128 (the calling thread's view, median round)`, "",
  "In split calls: the calling thread's own tasks plus its wait for the other thread's last tasks (barrier wait and",
  "imbalance); outside: the kernels that stay on one thread (KL, sampler, ReLU, bias sums, gradient norm) and the host.",
  "`spin`: µs a thread polls before it sleeps (default " + DEFAULT_SPIN_US + ").", "",
  mdTable(["build", "spin", "step (ms)", "split calls", "in split calls (ms)", "of which waiting (ms)", "outside (ms)"],
    breakdown.map((b) => [b.build, b.spin, f2(b.step), b.calls, f2(b.split), f2(b.wait), f2(b.step - b.split)])), "");
if (sweep.length) {
  md.push("## Split threshold (minWork, multiply-adds), 784-400-20-400-784 plain, 2 threads vs 1 (ms)", "",
    mdTable(["call", "1 thread", ...MIN_WORKS.map((m) => m === 2 ** 31 - 1 ? "never split" : `minWork ${m}`)],
      sweep.map((s) => [s.what, s.one.toFixed(3), ...s.two.map((t) => t.toFixed(3))])), "");
}
writeFileSync(join(ROOT, "bench", "results", "threads.md"), md.join("\n"));
console.log("wrote bench/results/threads.md");
const main = train.find((r) => r.arch === SMALL && r.build === "plain" && r.B === 128)!;
console.log(`train step B=128 plain: 1 thread ${f2(main.ms[0])} ms, 2 threads ${f2(main.ms[1])} ms, speedup ${(main.ms[0] / main.ms[1]).toFixed(2)}×`);
