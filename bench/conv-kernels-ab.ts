// `tsx bench/conv-kernels-ab.ts --base <dir>`: the Keras conv VAE's training
// step at B = 128, this checkout's kernels against a base build (the wasm
// files in <dir>, as bench/ab.ts), per kernel call: every export clocked
// (bench/clock.ts) in interleaved rounds in one process, medians over rounds
// of each kernel's CPU ms and wall ms per step, and the whole step's. Both
// builds, 1 and 2 threads (--threads 1,2; --builds plain,relaxed; --rounds 7;
// --steps 2 per round; --spin 0 makes the 2-thread CPU time the work, not
// spinning). Weights after 3 steps compared bit for bit first. Writes
// bench/results/conv-kernels-ab.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { presetLayers } from "../cli/src/presets.js";
import { loadMnist, VAE } from "../src/index.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { clockKernels } from "./clock.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const baseDir = String(flag("base") ?? "");
if (!baseDir) throw new Error("usage: tsx bench/conv-kernels-ab.ts --base <dir with the four vae.*.wasm>");
const ROUNDS = Number(flag("rounds") ?? 7);
const STEPS = Number(flag("steps") ?? 2);
const SPIN = flag("spin") === undefined ? undefined : Number(flag("spin"));
const THREADS = String(flag("threads") ?? "1,2").split(",").map(Number);
const BUILDS = String(flag("builds") ?? "plain,relaxed").split(",") as ("plain" | "relaxed")[];
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const base = {
  plain: readFileSync(join(baseDir, "vae.plain.wasm")), relaxed: readFileSync(join(baseDir, "vae.relaxed.wasm")),
  "plain.shared": readFileSync(join(baseDir, "vae.plain.shared.wasm")), "relaxed.shared": readFileSync(join(baseDir, "vae.relaxed.shared.wasm")),
};
const B = 128;
const mnist = await loadMnist({ limit: 4096 });
const batchOf = (i: number) => { const s = (i * B) % (mnist.count - B); return mnist.images.subarray(s * 784, (s + B) * 784); };
const bits = (v: VAE) => Object.values(v.getWeights()).flatMap((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));
const cfg = { ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: 2, seed: 3, maxBatch: B };
const md: string[] = ["# Conv kernels of the Keras conv VAE step, this checkout against a base build (`tsx bench/conv-kernels-ab.ts`)", "",
  `Base: the wasm files in \`${baseDir}\`. Machine: ${describeMachine(machine())}; load at start ${load()}.`, "",
  `Interleaved rounds in one process (${ROUNDS} rounds × ${STEPS} steps each, the order alternating), every kernel export clocked`,
  "(bench/clock.ts: the calling thread's wall time and the process's CPU time around each call); medians over rounds",
  "of the per-step sums. GFLOP/s = the call's multiply-adds × 2 / CPU ms (per CPU-second)." +
    (SPIN !== undefined ? ` Workers poll ${SPIN} µs before sleeping (--spin).` : ""), ""];
for (const build of BUILDS) {
  for (const threads of THREADS) {
    const a = await VAE.create(cfg as never, { build, threads, wasm: base });
    const b = await VAE.create(cfg as never, { build, threads });
    if (SPIN !== undefined) for (const v of [a, b]) (v.kernels.threadsHandle as ThreadPool | null)?.tune({ spinUs: SPIN });
    for (let i = 0; i < 3; i++) { a.trainStep(batchOf(i)); b.trainStep(batchOf(i)); }
    const ba = bits(a), bb = bits(b);
    const same = ba.length === bb.length && ba.every((x, i) => x === bb[i]);
    const clocks = [clockKernels(a.kernels), clockKernels(b.kernels)];
    const per: Map<string, { ms: number[][]; cpu: number[][]; flops: number }> = new Map();
    const stepMs = [[], []] as number[][], stepCpu = [[], []] as number[][];
    let step = 3;
    const l = load();
    for (let r = 0; r < ROUNDS; r++) {
      for (const j of r % 2 ? [1, 0] : [0, 1]) {
        const v = j ? b : a, { table } = clocks[j];
        table.clear();
        const c0 = process.cpuUsage(), t0 = performance.now();
        for (let i = 0; i < STEPS; i++) v.trainStep(batchOf(step + i));
        const w = performance.now() - t0, c = process.cpuUsage(c0);
        stepMs[j].push(w / STEPS); stepCpu[j].push((c.user + c.system) / 1e3 / STEPS);
        for (const [key, e] of table) {
          if (!per.has(key)) per.set(key, { ms: [[], []], cpu: [[], []], flops: 0 });
          const p = per.get(key)!;
          p.ms[j].push(e.ms / STEPS); p.cpu[j].push(e.cpuMs / STEPS); p.flops = e.flops / e.calls * (e.calls / STEPS);
        }
      }
      step += STEPS;
    }
    clocks.forEach((c) => c.undo());
    const rows = [...per.entries()].filter(([k]) => k.startsWith("conv2d"))
      .map(([key, p]) => {
        const bc = median(p.cpu[0]), oc = median(p.cpu[1]);
        return { key, bc, oc, bw: median(p.ms[0]), ow: median(p.ms[1]), flops: p.flops };
      }).sort((x, y) => y.bc - x.bc);
    const head = `## ${build}, ${threads} thread${threads > 1 ? "s" : ""}: ${same ? "same bits" : "BITS DIFFER"} (load ${l} → ${load()})`;
    console.log(head);
    const t = [["kernel call", "base CPU ms", "this CPU ms", "this / base", "base wall ms", "this wall ms", "base GFLOP/CPU-s", "this GFLOP/CPU-s"],
      ...rows.map((r) => [r.key, r.bc.toFixed(2), r.oc.toFixed(2), (r.oc / r.bc).toFixed(3), r.bw.toFixed(2), r.ow.toFixed(2),
        r.flops ? (r.flops / r.bc / 1e6).toFixed(1) : "", r.flops ? (r.flops / r.oc / 1e6).toFixed(1) : ""]),
      ["whole step (unclocked figures are bench/ab.ts's)", median(stepCpu[0]).toFixed(2), median(stepCpu[1]).toFixed(2),
        (median(stepCpu[1]) / median(stepCpu[0])).toFixed(3), median(stepMs[0]).toFixed(2), median(stepMs[1]).toFixed(2), "", ""]];
    const table = mdTable(t[0], t.slice(1));
    console.log(table);
    md.push(head, "", table, "");
    a.dispose(); b.dispose();
  }
}
writeFileSync(join(ROOT, "bench/results/conv-kernels-ab.md"), md.join("\n") + "\n");
console.log("wrote bench/results/conv-kernels-ab.md");
