// `tsx bench/ab.ts --base <dir>`: this checkout's kernels against another
// build of them (the four build/vae.*.wasm files of, say, main, copied to
// <dir>), in the same process and interleaved rounds, so a change's effect is
// measured on a shared machine: the training step's wall and CPU time per
// step, both builds, 1 and 2 threads, the MLP VAE at B = 128 and 32 and (with
// --conv) the Keras conv VAE. Before timing, the weights after 3 steps are
// compared bit for bit between the two builds (a change that should keep
// the bits must show "same bits"). Prints a Markdown table; writes
// bench/results/ab.md (with --no-mlp: ab-conv.md; --spin N: ab-spinN.md). --spin N: workers spin N
// µs before sleeping (0: 2-thread CPU time is work, not spinning); --batches
// 32,128; --no-infer: no reconstruct rows.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { presetLayers } from "../cli/src/presets.js";
import { loadMnist, VAE, type Build } from "../src/index.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { setChunkFloats } from "../src/kernels/conv-shape.js";
import { DEFAULT_SPIN_US } from "../src/threads/threads.js";
import { cpuSince, cpuSnap, describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const baseDir = String(flag("base") ?? "");
if (!baseDir) throw new Error("usage: tsx bench/ab.ts --base <dir with vae.plain.wasm, vae.relaxed.wasm, vae.plain.shared.wasm, vae.relaxed.shared.wasm>");
const ROUNDS = Number(flag("rounds") ?? 9);
const withConv = flag("conv") === true;
// --conv-rounds N: rounds of the conv model (one step each; default min(rounds, 5))
const CONV_ROUNDS = Number(flag("conv-rounds") ?? Math.min(ROUNDS, 5));
// --spin 0: workers sleep as soon as they find no task, so 2-thread CPU time is the work both threads did (plus
// wakes), not spinning: the split's efficiency, readable when other processes hold the cores. --batches 32,128
const SPIN = flag("spin") === undefined ? undefined : Number(flag("spin"));
// --base-spin N: the base pool's spin setting alone (a base built before the setting became µs reads it as
// atomic loads: --base-spin 20000 gives such a base its own default)
const BASE_SPIN = flag("base-spin") === undefined ? undefined : Number(flag("base-spin"));
// --base-threaded-chunk N: the base's conv layers run chunks of N floats of im2col on 2 threads (its own
// default before conv calls became one job per call: 262144; this checkout's TypeScript plans one chunk size)
const BASE_THREADED_CHUNK = flag("base-threaded-chunk") === undefined ? null : Number(flag("base-threaded-chunk"));
const BATCHES = flag("batches") ? String(flag("batches")).split(",").map(Number) : [128, 32];
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const base = {
  plain: readFileSync(join(baseDir, "vae.plain.wasm")), relaxed: readFileSync(join(baseDir, "vae.relaxed.wasm")),
  "plain.shared": readFileSync(join(baseDir, "vae.plain.shared.wasm")), "relaxed.shared": readFileSync(join(baseDir, "vae.relaxed.shared.wasm")),
};
const mnist = await loadMnist({ limit: 4096 });
const batchOf = (B: number, i: number) => {
  const s = (i * B) % (mnist.count - B);
  return mnist.images.subarray(s * 784, (s + B) * 784);
};
const bits = (v: VAE) => Object.values(v.getWeights()).flatMap((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));

interface Row { model: string; build: Build; threads: number; B: number; base: number; ours: number; baseCpu: number; oursCpu: number; same: boolean; load: string }
const rows: Row[] = [];
let redone = 0;
const models: [string, object, number[]][] = flag("no-mlp") === true ? [] : [
  ["MLP 784-400-20-400-784", { inputDim: 784, encoder: [400], latentDim: 20, seed: 0 }, BATCHES],
];
if (withConv) models.push(["keras-conv", { ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: 2, seed: 3 }, [128]]);
for (const [model, cfg, Bs] of models) {
  for (const B of Bs) {
    for (const build of ["plain", "relaxed"] as const) {
      for (const threads of [1, 2]) {
        // the base's chunk is read when its scratch is planned (create) and at each call
        const baseChunk = threads > 1 ? BASE_THREADED_CHUNK : null;
        const chunkFor = (v: VAE) => setChunkFloats(v === a ? baseChunk : null);
        setChunkFloats(baseChunk);
        const a = await VAE.create({ ...cfg, maxBatch: B } as never, { build, threads, wasm: base });
        setChunkFloats(null);
        const b = await VAE.create({ ...cfg, maxBatch: B } as never, { build, threads });
        if (SPIN !== undefined) for (const v of [a, b]) (v.kernels.threadsHandle as ThreadPool | null)?.tune({ spinUs: SPIN });
        if (BASE_SPIN !== undefined) (a.kernels.threadsHandle as ThreadPool | null)?.tune({ spinUs: BASE_SPIN });
        for (let i = 0; i < 3; i++) { chunkFor(a); a.trainStep(batchOf(B, i)); chunkFor(b); b.trainStep(batchOf(B, i)); }
        const ba = bits(a), bb = bits(b);
        const same = ba.length === bb.length && ba.every((x, i) => x === bb[i]);
        const per = model === "keras-conv" ? 1 : Math.max(3, Math.round(600 / B));
        const wall = [[], []] as number[][], cpu = [[], []] as number[][];
        let step = 3;
        const l = load();
        for (let r = 0; r < (model === "keras-conv" ? CONV_ROUNDS : ROUNDS); r++) {
          // alternate which goes first, so a load change mid-round hits both alike
          const order = r % 2 ? [1, 0] : [0, 1];
          for (const j of order) {
            const v = j === 0 ? a : b;
            chunkFor(v);
            // measured again (up to 4 times) while other processes or the
            // hypervisor took more than 0.15 of a core (/proc/stat)
            for (let tries = 0; ; tries++) {
              const s0 = cpuSnap();
              for (let i = 0; i < per; i++) v.trainStep(batchOf(B, step + i));
              const m = cpuSince(s0);
              if (m.busy && tries < 3) { redone++; continue; }
              wall[j].push(m.wall / per); cpu[j].push(m.cores * m.wall / per);
              break;
            }
          }
          step += per;
        }
        const row = { model, build, threads, B, base: median(wall[0]), ours: median(wall[1]), baseCpu: median(cpu[0]), oursCpu: median(cpu[1]), same, load: l };
        rows.push(row);
        console.log(`${model} ${build} ${threads}t B=${B}: base ${row.base.toFixed(2)} ms (cpu ${row.baseCpu.toFixed(2)}), this ${row.ours.toFixed(2)} ms (cpu ${row.oursCpu.toFixed(2)}), ${same ? "same bits" : "BITS DIFFER"}; load ${l}`);
        a.dispose(); b.dispose();
        setChunkFloats(null);
      }
    }
  }
}
// batch-1 and batch-2 inference (reconstruct: the one/two-row GEMM path), outputs compared bit for bit
if (flag("no-mlp") !== true && flag("no-infer") !== true) {
  for (const B of [1, 2]) {
    for (const build of ["plain", "relaxed"] as const) {
      const cfg = { inputDim: 784, encoder: [400], latentDim: 20, seed: 0, maxBatch: 128 };
      const a = await VAE.create(cfg, { build, threads: 1, wasm: base }), b = await VAE.create(cfg, { build, threads: 1 });
      const x = batchOf(B, 5), ra = a.reconstruct(x), rb = b.reconstruct(x);
      const same = ra.every((v, i) => Object.is(v, rb[i]));
      const wall = [[], []] as number[][], cpu = [[], []] as number[][];
      const l = load();
      for (let r = 0; r < ROUNDS; r++) {
        for (const j of r % 2 ? [1, 0] : [0, 1]) {
          const v = j === 0 ? a : b, per = 300;
          const c0 = process.cpuUsage(), t0 = performance.now();
          for (let i = 0; i < per; i++) v.reconstruct(x);
          const w = performance.now() - t0, c = process.cpuUsage(c0);
          wall[j].push(w / per); cpu[j].push((c.user + c.system) / 1e3 / per);
        }
      }
      const row = { model: `reconstruct (784-400-20-400-784)`, build, threads: 1, B, base: median(wall[0]), ours: median(wall[1]), baseCpu: median(cpu[0]), oursCpu: median(cpu[1]), same, load: l };
      rows.push(row);
      console.log(`reconstruct ${build} B=${B}: base ${row.base.toFixed(4)} ms (cpu ${row.baseCpu.toFixed(4)}), this ${row.ours.toFixed(4)} ms (cpu ${row.oursCpu.toFixed(4)}), ${same ? "same bits" : "BITS DIFFER"}; load ${l}`);
      a.dispose(); b.dispose();
    }
  }
}
const md = ["# This checkout's kernels against a base build (`tsx bench/ab.ts`)", "",
  `Base: the wasm files in \`${baseDir}\`. Machine: ${describeMachine(machine())}`, "",
  "Interleaved rounds in one process (the order alternates per round); medians over rounds of the mean per step.",
  "\"CPU\" is the process's CPU time per step (all threads, spinning included), the figure least disturbed by other",
  `processes on the shared cores. Training rounds during which other processes or the hypervisor (steal) took more than 0.15 of a core (beyond /proc/stat's 10 ms ticks) were measured again, up to 3 times (${redone} were).`,
  "\"bits\": the weights after 3 steps (reconstruct: its output) compared between the two builds." +
    (BASE_THREADED_CHUNK !== null ? ` The base's conv layers ran chunks of ${BASE_THREADED_CHUNK} floats of im2col on 2 threads (--base-threaded-chunk).` : "") +
    (BASE_SPIN !== undefined ? ` The base's pool ran with spin setting ${BASE_SPIN} (--base-spin).` : "") +
    (SPIN !== undefined ? ` Workers poll ${SPIN} µs before they sleep (--spin; default ${DEFAULT_SPIN_US}), so 2-thread CPU time counts ${SPIN === 0 ? "no" : "less"} spinning.` : ""),
  "The TypeScript is this checkout's on both sides: only the kernels differ" +
    (WebAssembly.Module.exports(new WebAssembly.Module(base.plain)).some((e) => e.name === "first_outside") ? "." :
      "; the base build has no `first_outside`, so its trainStep checks the batch in TypeScript and copies it again (the row check before this change): the MLP rows compare the whole step before and after it."), "",
  mdTable(["model", "build", "threads", "B", "base ms", "this ms", "base CPU ms", "this CPU ms", "CPU ratio base/this", "bits", "load"],
    rows.map((r) => [r.model, r.build, r.threads, r.B, r.base.toFixed(r.B <= 2 ? 4 : 2), r.ours.toFixed(r.B <= 2 ? 4 : 2), r.baseCpu.toFixed(r.B <= 2 ? 4 : 2), r.oursCpu.toFixed(r.B <= 2 ? 4 : 2), (r.baseCpu / r.oursCpu).toFixed(3), r.same ? "same" : "differ", r.load])), ""];
const out = flag("no-mlp") === true ? "ab-conv.md" : SPIN !== undefined ? `ab-spin${SPIN}.md` : "ab.md";
writeFileSync(join(ROOT, "bench", "results", out), md.join("\n"));
console.log(`wrote bench/results/${out}`);
process.exit(0);
