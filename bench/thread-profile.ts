// `tsx bench/thread-profile.ts [--rounds N] [--batches 128,32] [--builds relaxed,plain] [--conv] [--infer] [--spin µs] [--out name]`:
// where the MLP step's second thread goes (--conv: the Keras conv VAE's;
// --infer: reconstruct's). Every kernel call of a 1-thread
// and a 2-thread step is clocked (bench/clock.ts), and on 2 threads each
// thread's time inside tasks is read around the call (ThreadPool.profile:
// two clock reads per task). Per kernel and step:
//   in tasks = both threads' ms inside the kernel's tasks;
//   task inflation = in tasks / the 1-thread kernel's ms: the split's extra
//     work (blocks packed twice, operands crossing cores, smaller blocks);
//   outside tasks = 2 × the 2-thread kernel's ms − in tasks: thread time
//     spent publishing, waking, waiting for the last task, or in the parts
//     the calling thread runs alone (a kernel that never splits: all of it).
// Writes bench/results/thread-profile.md (-conv, -infer; --out: bench/results/<name>.md instead).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { presetLayers } from "../cli/src/presets.js";
import { VAE } from "../src/index.js";
import { mlpConfig, mnistBatches } from "./mlp.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { clockKernels, type KernelTime } from "./clock.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const m0 = machine();
const ROUNDS = Number(flag("rounds") ?? 9);
const BATCHES = String(flag("batches") ?? (flag("conv") === true ? "128" : "128,32")).split(",").map(Number);
const BUILDS = String(flag("builds") ?? "relaxed,plain").split(",") as ("relaxed" | "plain")[];
const batchOf = await mnistBatches();
// --conv: the Keras convolutional VAE (B = 128) instead of the MLP
const CONV = flag("conv") === true;
const config = (B: number) => CONV ? { ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: 2, seed: 3, maxBatch: B } : mlpConfig(B);
const MODEL = CONV ? "Keras conv VAE" : "MLP";
// --infer: VAE.reconstruct calls (the encoder mean through the decoder) instead of training steps
const INFER = flag("infer") === true;
const WHAT = INFER ? "reconstruct call" : "step";
const work = (v: VAE, x: Float32Array) => { if (INFER) v.reconstruct(x); else v.trainStep(x); };

const f2 = (x: number) => x.toFixed(2), f3 = (x: number) => x.toFixed(3);
let md = `# Where the ${MODEL} ${WHAT}'s second thread goes (\`tsx bench/thread-profile.ts\`)

Machine: ${describeMachine(m0)}

Every kernel call of the ${WHAT} clocked on 1 thread and on 2 (the library's default pool, workers spinning
between jobs), ${ROUNDS} interleaved rounds; on 2 threads each thread's time inside the kernel's tasks is read
around the call (ThreadPool.profile). Per ${WHAT}: **in tasks** = both threads' ms inside the kernel's tasks;
**task inflation** = in tasks / the 1-thread kernel's ms (work the split adds: blocks packed twice, operands
crossing cores, smaller blocks); **outside tasks** = 2 × the 2-thread ms − in tasks (thread time spent
publishing, waking, waiting for the last task, or in parts the calling thread runs alone). The ${WHAT} ms in the
last rows are unclocked medians; the clocked sums are a little higher (two clock reads per call, and per task).
`;
for (const B of BATCHES) for (const build of BUILDS) {
  const one = await VAE.create(config(B) as never, { build, threads: 1 });
  const two = await VAE.create(config(B) as never, { build, threads: 2 });
  const pool = two.kernels.threadsHandle as ThreadPool | null;
  if (!pool || two.threads !== 2) throw new Error(`asked for 2 threads, got ${two.threads}`);
  if (flag("spin") !== undefined) pool.tune({ spinUs: Number(flag("spin")) });
  const n = (CONV ? 2 : B === 32 ? 60 : 20) * (INFER ? 3 : 1);
  let i = 0;
  for (let w = 0; w < 3 * n; w++) { work(one, batchOf(B, i++)); work(two, batchOf(B, i++)); }
  const tables = [new Map<string, KernelTime>(), new Map<string, KernelTime>()];
  const plainMs: number[][] = [[], []];
  pool.profile(true);
  const jobs0 = pool.stats().splitCalls;
  for (let r = 0; r < ROUNDS; r++) {
    for (const j of r % 2 ? [1, 0] : [0, 1]) {
      const v = j ? two : one;
      // unclocked
      const t0 = performance.now();
      for (let s = 0; s < n; s++) work(v, batchOf(B, i++));
      plainMs[j].push((performance.now() - t0) / n);
      // clocked
      const { table, undo } = clockKernels(v.kernels, j ? () => pool.busy().ms : undefined);
      for (let s = 0; s < n; s++) work(v, batchOf(B, i++));
      undo();
      for (const [k, e] of table) {
        const a = tables[j].get(k) ?? { ms: 0, cpuMs: 0, calls: 0, flops: 0, busyMs: [0, 0] };
        a.ms += e.ms / n; a.cpuMs += e.cpuMs / n; a.calls += e.calls / n;
        e.busyMs?.forEach((b, t) => { a.busyMs![t] += b / n; });
        tables[j].set(k, a);
      }
    }
  }
  const prof = pool.busy(), jobs = pool.stats().splitCalls - jobs0, steps = ROUNDS * 2 * n;
  pool.profile(false);
  const rows: (string | number)[][] = [];
  const keys = [...tables[0].keys()].sort((a, b) => tables[0].get(b)!.ms - tables[0].get(a)!.ms);
  const tot = { one: 0, two: 0, busy: [0, 0] };
  for (const k of keys) {
    const a = tables[0].get(k)!, b = tables[1].get(k);
    if (!b) continue;
    const one1 = a.ms / ROUNDS, two1 = b.ms / ROUNDS, busy = b.busyMs!.map((x) => x / ROUNDS), inTasks = busy[0] + busy[1];
    tot.one += one1; tot.two += two1; tot.busy[0] += busy[0]; tot.busy[1] += busy[1];
    if (one1 < 0.02) continue;
    rows.push([k, f2(a.calls / ROUNDS), f3(one1), f3(two1), f2(one1 / two1) + "×", f3(busy[0]), f3(busy[1]),
               inTasks > 0 ? f2(inTasks / one1) : "not split", f3(2 * two1 - inTasks)]);
  }
  const inTasks = tot.busy[0] + tot.busy[1];
  rows.push(["**all kernels (clocked)**", "", f3(tot.one), f3(tot.two), f2(tot.one / tot.two) + "×", f3(tot.busy[0]), f3(tot.busy[1]),
             f2(inTasks / tot.one), f3(2 * tot.two - inTasks)]);
  const s1 = median(plainMs[0]), s2 = median(plainMs[1]);
  rows.push([`**${WHAT} (unclocked median)**`, "", f3(s1), f3(s2), f2(s1 / s2) + "×", "", "", "", ""]);
  const wake = `Per ${WHAT}: ${f2(jobs / steps)} split jobs; the worker saw ${f2(prof.joined[1] / steps)}, slept ${f2(prof.sleeps[1] / steps)} ` +
    `times between jobs, and saw a job ${(1e3 * prof.wakeMs[1] / Math.max(1, prof.joined[1])).toFixed(1)} µs after its publication on average ` +
    `(${f3(prof.wakeMs[1] / steps)} ms per ${WHAT}).`;
  console.log(wake);
  md += `\n## ${build}, B = ${B}\n\n${wake}\n\n` + mdTable([`kernel (ms per ${WHAT})`, "calls", "1t ms", "2t ms", "speedup", "2t caller in tasks", "2t worker in tasks",
    "task inflation", "2t outside tasks (both threads)"], rows) + "\n";
  console.log(`${build} B=${B}: ${WHAT} ${f3(s1)} / ${f3(s2)} ms; in tasks ${f3(inTasks)} vs 1t kernels ${f3(tot.one)}; outside ${f3(2 * tot.two - inTasks)}`);
  one.dispose(); two.dispose();
}
const out = typeof flag("out") === "string" ? `${flag("out")}.md` : `thread-profile${CONV ? "-conv" : ""}${INFER ? "-infer" : ""}.md`;
writeFileSync(join(ROOT, "bench/results", out), md);
console.log(`wrote bench/results/${out}`);
process.exit(0);
