// `tsx bench/forkjoin.ts [--rounds 9]`: what one split call costs beyond its
// work, on 2 threads (the shared build, one worker) against 1: sum_squares
// over 65,536 floats, 8 tasks of 8,192 (its chunk size is fixed by n), about
// 10 µs of work, so the call is mostly fork-join: publish, wake, claim, wait
// for the last task. Back to back (the
// worker still spinning from the previous call) and with the calling thread
// busy for 50 µs … 2 ms between calls (as in a training step, where unsplit
// kernels and TypeScript run between split calls; the worker sleeps after
// its default polling time, DEFAULT_SPIN_US). Wall and CPU time per call, medians over interleaved
// rounds, the load with each row. Writes bench/results/forkjoin.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadKernels, type Build, type Kernels } from "../src/kernels/wasm.js";
import { loadThreadedKernels } from "../src/threads/threads.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { loadMnist, VAE } from "../src/index.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const ROUNDS = Number(flag("rounds") ?? 9);
const N = 8 * 8192, CALLS = 200;
const GAPS_US = [0, 50, 200, 1000, 2000];
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const busy = (us: number) => { const t = performance.now() + us / 1000; while (performance.now() < t); };

interface Row { build: Build; gap: number; wall1: number; wall2: number; cpu1: number; cpu2: number; load: string }
const rows: Row[] = [];
for (const build of ["plain", "relaxed"] as const) {
  const one = await loadKernels({ build }), two = await loadThreadedKernels({ build, threads: 2 });
  (two.threadsHandle as ThreadPool).tune({ minWork: 0 });
  const ptr = (k: Kernels) => { k.reserve(4 * N); k.f32(k.base, N).fill(0.5); return k.base; };
  const p1 = ptr(one), p2 = ptr(two);
  if (one.sumSquares(p1, N) !== two.sumSquares(p2, N)) throw new Error("sum_squares: 2 threads differ from 1");
  for (const gap of GAPS_US) {
    const w = [[], []] as number[][], c = [[], []] as number[][];
    const l = load();
    for (let r = 0; r < ROUNDS; r++) {
      for (const j of r % 2 ? [1, 0] : [0, 1]) {
        const k = j ? two : one, p = j ? p2 : p1;
        let wall = 0;
        const c0 = process.cpuUsage();
        for (let i = 0; i < CALLS; i++) {
          if (gap) busy(gap);
          const t = performance.now();
          k.sumSquares(p, N);
          wall += performance.now() - t;
        }
        const cu = process.cpuUsage(c0);
        w[j].push(wall / CALLS * 1000);
        c[j].push((cu.user + cu.system) / CALLS); // µs per call, gaps included
      }
    }
    const row = { build, gap, wall1: median(w[0]), wall2: median(w[1]), cpu1: median(c[0]), cpu2: median(c[1]), load: l };
    rows.push(row);
    console.log(`${build} gap ${gap} µs: 1 thread ${row.wall1.toFixed(1)} µs, 2 threads ${row.wall2.toFixed(1)} µs, overhead ${(row.wall2 - row.wall1 / 2).toFixed(1)} µs; CPU per call + gap ${row.cpu1.toFixed(1)} / ${row.cpu2.toFixed(1)} µs; load ${l}`);
  }
  one.dispose(); two.dispose();
}
// Part 2: the MLP step's CPU time on 2 threads with the workers never spinning
// (spin 0: a worker sleeps as soon as it finds no task, so the process's CPU
// time is the work both threads did plus the wakes) against 1 thread: how much
// more work a split step does, a figure other processes' load barely moves.
const mnist = await loadMnist({ limit: 4096 });
const batchOf = (B: number, i: number) => { const s = (i * B) % (mnist.count - B); return mnist.images.subarray(s * 784, (s + B) * 784); };
interface StepRow { build: Build; B: number; cpu1: number; cpu2: number; wall1: number; wall2: number; calls: number; load: string }
const stepRows: StepRow[] = [];
for (const B of [32, 128]) {
  for (const build of ["plain", "relaxed"] as const) {
    const cfg = { inputDim: 784, encoder: [400], latentDim: 20, seed: 0, maxBatch: B };
    const one = await VAE.create(cfg, { build, threads: 1 }), two = await VAE.create(cfg, { build, threads: 2 });
    const pool = two.kernels.threadsHandle as ThreadPool;
    pool.tune({ spinUs: 0 });
    for (let i = 0; i < 5; i++) { one.trainStep(batchOf(B, i)); two.trainStep(batchOf(B, i)); }
    const per = Math.round(600 / B), c = [[], []] as number[][], w = [[], []] as number[][];
    let step = 5, calls = 0;
    const l = load();
    for (let r = 0; r < ROUNDS; r++) {
      for (const j of r % 2 ? [1, 0] : [0, 1]) {
        const v = j ? two : one, s0 = pool.stats();
        const c0 = process.cpuUsage(), t0 = performance.now();
        for (let i = 0; i < per; i++) v.trainStep(batchOf(B, step + i));
        const t = performance.now() - t0, cu = process.cpuUsage(c0);
        w[j].push(t / per); c[j].push((cu.user + cu.system) / 1000 / per);
        if (j) calls = (pool.stats().splitCalls - s0.splitCalls) / per;
      }
      step += per;
    }
    const row = { build, B, cpu1: median(c[0]), cpu2: median(c[1]), wall1: median(w[0]), wall2: median(w[1]), calls, load: l };
    stepRows.push(row);
    console.log(`step B=${B} ${build}: CPU 1 thread ${row.cpu1.toFixed(2)} ms, 2 threads (spin 0) ${row.cpu2.toFixed(2)} ms (×${(row.cpu2 / row.cpu1).toFixed(2)}), ${calls} split calls; load ${l}`);
    one.dispose(); two.dispose();
  }
}
const md = ["# What a split call costs (`tsx bench/forkjoin.ts`)", "",
  `Machine: ${describeMachine(machine())}`, "",
  `sum_squares over ${N} floats (8 tasks of 8,192, minWork 0), ${CALLS} calls per round, ${ROUNDS} interleaved rounds, medians.`,
  "\"gap\": the calling thread busy (a JavaScript spin) for that long before each call, as between a step's split calls.",
  "Wall: the call alone (performance.now around it). Fork-join cost of one split call = wall(2 threads) − wall(1 thread)/2",
  "(what it takes beyond a perfect halving of the work). CPU: the process's CPU time per call and its gap, all threads:",
  "on 2 threads it includes the worker's spinning (polling up to the default µs after each job, then it sleeps).", "",
  mdTable(["build", "gap µs", "1 thread µs", "2 threads µs", "fork-join µs", "CPU µs per call + gap, 1 thread", "2 threads", "load"],
    rows.map((r) => [r.build, r.gap, r.wall1.toFixed(1), r.wall2.toFixed(1), (r.wall2 - r.wall1 / 2).toFixed(1), r.cpu1.toFixed(1), r.cpu2.toFixed(1), r.load])), "",
  "## The MLP step's work on 2 threads", "",
  "784-400-20-400-784, Adam, real MNIST; CPU time per step of the whole process, 1 thread against 2 threads with the",
  "worker never spinning (spin 0), so 2-thread CPU time is both threads' work plus the wakes: the ratio is the extra work",
  "splitting costs (packing repeated per task, cache misses, the wake and claim path), measured without needing two free",
  `cores. Wall times are given for completeness: with other processes on the cores they are not a speedup. ${ROUNDS} interleaved rounds.`, "",
  mdTable(["B", "build", "CPU ms, 1 thread", "CPU ms, 2 threads (spin 0)", "2 / 1", "split calls", "wall ms 1 / 2 threads", "load"],
    stepRows.map((r) => [r.B, r.build, r.cpu1.toFixed(2), r.cpu2.toFixed(2), (r.cpu2 / r.cpu1).toFixed(3), r.calls, `${r.wall1.toFixed(2)} / ${r.wall2.toFixed(2)}`, r.load])), ""];
writeFileSync(join(ROOT, "bench", "results", "forkjoin.md"), md.join("\n"));
console.log("wrote bench/results/forkjoin.md");
process.exit(0);
