// `tsx bench/spin-ab.ts [--rounds N] [--batches 128,32] [--builds relaxed,plain] [--spins 0,50,200,500,2000]` (µs):
// the MLP step on 1 thread and on 2 threads with the workers spinning each
// given amount before they sleep between jobs (PoolSettings.spinUs), in
// interleaved rounds in one process: wall and CPU per step, and the worker's
// sleeps and wake delay per step (ThreadPool.profile). Writes
// bench/results/spin-ab.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { VAE } from "../src/index.js";
import { mlpConfig, mnistBatches } from "./mlp.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { cpuSince, cpuSnap, describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const m0 = machine();
const ROUNDS = Number(flag("rounds") ?? 11);
const BATCHES = String(flag("batches") ?? "128,32").split(",").map(Number);
const BUILDS = String(flag("builds") ?? "relaxed,plain").split(",") as ("relaxed" | "plain")[];
const SPINS = String(flag("spins") ?? "0,50,200,500,2000").split(",").map(Number);
const batchOf = await mnistBatches();
const mlp = mlpConfig;
const f2 = (x: number) => x.toFixed(2);
const QUIET = 0.15, TRIES = 5;
const rows: (string | number)[][] = [];
for (const B of BATCHES) for (const build of BUILDS) {
  const vs = [await VAE.create(mlp(B), { build, threads: 1 })];
  for (const spin of SPINS) {
    const v = await VAE.create(mlp(B), { build, threads: 2 });
    (v.kernels.threadsHandle as ThreadPool).tune({ spinUs: spin });
    vs.push(v);
  }
  const n = B === 32 ? 40 : 15;
  let i = 0;
  for (const v of vs) for (let w = 0; w < 2 * n; w++) v.trainStep(batchOf(B, i++));
  const wall = vs.map(() => [] as number[]), cpu = vs.map(() => [] as number[]);
  const sleeps = vs.map(() => 0), wakeMs = vs.map(() => 0), joined = vs.map(() => 0), redone = vs.map(() => 0);
  const noise = vs.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...vs.keys()].reverse() : [...vs.keys()];
    for (const j of order) {
      const v = vs[j], pool = v.kernels.threadsHandle as ThreadPool | null;
      // a batch during which other processes or the hypervisor took more than
      // QUIET of a core is measured again (up to TRIES times)
      let m;
      for (let tries = 0; ; tries++) {
        pool?.profile(true);
        const s0 = cpuSnap();
        for (let s = 0; s < n; s++) v.trainStep(batchOf(B, i++));
        m = cpuSince(s0);
        if (!m.busy || tries + 1 >= TRIES) break;
        redone[j]++;
      }
      wall[j].push(m.wall / n); cpu[j].push(m.cores * m.wall / n); noise[j].push(m.others + m.stolen);
      if (pool) {
        const p = pool.busy();
        sleeps[j] += p.sleeps[1] / n / ROUNDS; wakeMs[j] += p.wakeMs[1]; joined[j] += p.joined[1];
        pool.profile(false);
      }
    }
  }
  const one = median(wall[0]);
  vs.forEach((v, j) => {
    const ms = median(wall[j]);
    rows.push([build, B, j ? 2 : 1, j ? SPINS[j - 1] : "", f2(ms), f2(median(cpu[j])), f2(one / ms) + "×",
               j ? f2(sleeps[j]) : "", j ? (1e3 * wakeMs[j] / Math.max(1, joined[j])).toFixed(1) : "",
               f2(median(noise[j])), redone[j]]);
    console.log(rows[rows.length - 1].join("  "));
    v.dispose();
  });
}
writeFileSync(join(ROOT, "bench/results/spin-ab.md"), `# How long the workers spin between jobs (\`tsx bench/spin-ab.ts\`)

Machine: ${describeMachine(m0)}; load at end ${(await import("node:os")).loadavg().map(f2).join(" / ")}

MLP step (784-400-20-400-784, Bernoulli, Adam, real MNIST), ${ROUNDS} interleaved rounds, medians; spin = the
PoolSettings.spinUs the 2-thread pool ran with; sleeps and wake delay: the worker's per step, and the mean time
from a job's publication until the worker saw it (ThreadPool.profile). "others": cores used by other processes
plus cores the hypervisor took (steal, /proc/stat) during the batch, median; a batch with more than ${QUIET} of them
(beyond the error of /proc/stat's 10 ms ticks)
was measured again, up to ${TRIES} times ("redone").

${mdTable(["build", "B", "threads", "spin", "ms / step", "CPU ms / step", "speedup over 1 thread", "worker sleeps / step", "wake delay µs", "others (cores)", "redone"], rows)}
`);
console.log("wrote bench/results/spin-ab.md");
process.exit(0);
