// `tsx bench/conv-chunk.ts`: the conv layers' batch-chunk budget (src/kernels/conv-shape.ts)
// against the step time and the fork-joins of a threaded step. Writes bench/results/conv-chunk.md.
import { presetLayers } from "../cli/src/presets.js";
import { loadMnist, VAE } from "../src/index.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { setChunkFloats } from "../src/kernels/conv-shape.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine, flag, machine, ROOT } from "./common.js";
const mnist = await loadMnist({ limit: 2048 });
const cfg = { ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: 2, seed: 3, maxBatch: 128 };
const B = 128; let i = 0;
const batch = () => { const s = (i++ * B) % (mnist.count - B); return mnist.images.subarray(s * 784, (s + B) * 784); };
// --sizes 65536,131072,...: the budgets to compare (floats); --threads 1,2; --rounds N
const SIZES = String(flag("sizes") ?? `${1 << 16},${1 << 17},${1 << 18}`).split(",").map(Number);
const THREADS = String(flag("threads") ?? "1,2").split(",").map(Number);
const ROUNDS = Number(flag("rounds") ?? 5);
const out: string[] = [];
const bits = (v: VAE) => Object.values(v.getWeights()).flatMap((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));
for (const build of ["plain", "relaxed"] as const) for (const threads of THREADS) {
  const vs = [];
  for (const f of SIZES) { setChunkFloats(f); const v = await VAE.create(cfg, { build, threads }); vs.push(v); }
  const b0 = batch(), b1 = batch();
  // a model's chunk must be the one its scratch was planned with: set it before each of its calls
  for (const [j, v] of vs.entries()) { setChunkFloats(SIZES[j]); v.trainStep(b0); v.trainStep(b1); }
  const ref = bits(vs[0]); const same = vs.every((v) => { const b = bits(v); return b.every((x, k) => x === ref[k]); });
  const cpu = vs.map(() => [] as number[]), wall = vs.map(() => [] as number[]), calls = vs.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) for (const [j, v] of (r % 2 ? [...vs.entries()].reverse() : [...vs.entries()])) {
    setChunkFloats(SIZES[j]);
    const pool = v.kernels.threadsHandle as ThreadPool | null; const s0 = pool?.stats();
    const x = batch(); const c0 = process.cpuUsage(), t0 = performance.now(); v.trainStep(x);
    wall[j].push(performance.now() - t0); const c = process.cpuUsage(c0); cpu[j].push((c.user + c.system) / 1e3);
    if (pool) calls[j] = pool.stats().splitCalls - s0!.splitCalls;
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
  out.push(`| ${build} | ${threads} | ${same ? "same" : "DIFFER"} | ${SIZES.map((f, j) => `${med(wall[j]).toFixed(0)} / ${med(cpu[j]).toFixed(0)} ms, ${calls[j]}`).join(" | ")} | ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")} |`);
  console.log(build, threads, same ? "same bits" : "DIFFER", SIZES.map((f, j) => `${f >> 10}K: wall ${med(wall[j]).toFixed(0)} cpu ${med(cpu[j]).toFixed(0)} ms, ${calls[j]} splits`).join(" | "), "load", (await import("node:os")).loadavg()[0].toFixed(1));
  vs.forEach((v) => v.dispose());
}
const md = ["# Conv batch chunk (`tsx bench/conv-chunk.ts`)", "",
  "The Keras conv VAE step (B = 128) with each im2col chunk budget (floats): the weights after 2 steps",
  `(bits), then the medians over ${ROUNDS} interleaved rounds of the wall and the process's CPU time per step (all threads,`,
  "spinning included) and the split calls (fork-joins) per step.", "", `Machine: ${describeMachine(machine())}`, "",
  `| build | threads | bits | ${SIZES.map((f) => `${f >> 10}K floats: wall / CPU ms, splits`).join(" | ")} | load |`,
  `| :-- | --: | :-- | ${SIZES.map(() => "--:").join(" | ")} | :-- |`, ...out, ""];
writeFileSync(join(ROOT, "bench", "results", "conv-chunk.md"), md.join("\n"));
console.log("wrote bench/results/conv-chunk.md");
setChunkFloats(null);
