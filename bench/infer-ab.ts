// `tsx bench/infer-ab.ts --base <wasm dir> [--base-src <dir>]`: VAE.reconstruct
// of this checkout against a base, in one process and interleaved rounds
// (the order alternates per round), on the PyTorch-example MLP VAE
// (784-400-20-400-784, Bernoulli). The base runs the four build/vae.*.wasm
// files in <wasm dir> under the library in <dir> (another checkout's src/,
// say main's: then the whole change, TypeScript and kernels, is measured;
// without --base-src this checkout's TypeScript runs on both sides and only
// the kernels differ, as in bench/ab.ts). Before timing, both outputs are
// compared bit for bit. Reports wall and CPU time per call (medians over
// rounds of the mean); writes bench/results/infer-ab.md (with --base-src) or
// infer-ab-kernels.md (without).
//   --batches 1,128   --threads 1,2   --rounds 9   --builds plain,relaxed
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadMnist, VAE } from "../src/index.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const baseDir = String(flag("base") ?? "");
if (!baseDir) throw new Error("usage: tsx bench/infer-ab.ts --base <dir with the four vae.*.wasm> [--base-src <a checkout's src/>]");
const baseSrc = flag("base-src") === undefined ? null : resolve(String(flag("base-src")));
const ROUNDS = Number(flag("rounds") ?? 9);
const list = (name: string, dflt: string) => String(flag(name) ?? dflt).split(",");
const BATCHES = list("batches", "1,128").map(Number), THREADS = list("threads", "1,2").map(Number);
const BUILDS = list("builds", "plain,relaxed") as ("plain" | "relaxed")[];
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const wasm = {
  plain: readFileSync(join(baseDir, "vae.plain.wasm")), relaxed: readFileSync(join(baseDir, "vae.relaxed.wasm")),
  "plain.shared": readFileSync(join(baseDir, "vae.plain.shared.wasm")), "relaxed.shared": readFileSync(join(baseDir, "vae.relaxed.shared.wasm")),
};
const BaseVAE: typeof VAE = baseSrc ? (await import(pathToFileURL(join(baseSrc, "index.ts")).href)).VAE : VAE;
const mnist = await loadMnist({ limit: 1024 });

interface Row { build: string; threads: number; B: number; base: number; ours: number; baseCpu: number; oursCpu: number; same: boolean; load: string }
const rows: Row[] = [];
const cfg = { inputDim: 784, encoder: [400], latentDim: 20, seed: 0, maxBatch: 128 };
for (const B of BATCHES) {
  for (const build of BUILDS) {
    for (const threads of THREADS) {
      const a = await BaseVAE.create(cfg, { build, threads, wasm }), b = await VAE.create(cfg, { build, threads });
      const x = mnist.images.subarray(5 * 784, (5 + B) * 784);
      const ra = a.reconstruct(x), rb = b.reconstruct(x);
      const same = ra.length === rb.length && ra.every((v, i) => Object.is(v, rb[i]));
      const per = Math.max(4, Math.round(600 / B));
      const wall = [[], []] as number[][], cpu = [[], []] as number[][];
      const l = load();
      for (let r = 0; r < ROUNDS; r++) {
        for (const j of r % 2 ? [1, 0] : [0, 1]) {
          const v = j === 0 ? a : b;
          const c0 = process.cpuUsage(), t0 = performance.now();
          for (let i = 0; i < per; i++) v.reconstruct(x);
          const w = performance.now() - t0, c = process.cpuUsage(c0);
          wall[j].push(w / per); cpu[j].push((c.user + c.system) / 1e3 / per);
        }
      }
      const row = { build, threads, B, base: median(wall[0]), ours: median(wall[1]), baseCpu: median(cpu[0]), oursCpu: median(cpu[1]), same, load: l };
      rows.push(row);
      const d = B <= 2 ? 4 : 2;
      console.log(`reconstruct ${build} ${threads}t B=${B}: base ${row.base.toFixed(d)} ms (cpu ${row.baseCpu.toFixed(d)}), this ${row.ours.toFixed(d)} ms (cpu ${row.oursCpu.toFixed(d)}), ${same ? "same bits" : "BITS DIFFER"}; load ${l}`);
      a.dispose(); b.dispose();
    }
  }
}
const d = (r: Row, x: number) => x.toFixed(r.B <= 2 ? 4 : 2);
const md = ["# VAE.reconstruct: this checkout against a base (`tsx bench/infer-ab.ts`)", "",
  `Base: the wasm files in \`${baseDir}\` under ${baseSrc ? `the library in \`${baseSrc}\` (TypeScript and kernels both differ)` : "this checkout's TypeScript (only the kernels differ)"}.`,
  `Machine: ${describeMachine(machine())}`, "",
  "MLP VAE 784-400-20-400-784 (Bernoulli), maxBatch 128. Interleaved rounds in one process (the order alternates per",
  "round); medians over rounds of the mean per call. \"CPU\": the process's CPU time per call (all threads, spinning",
  "included), the figure least disturbed by other processes on the shared cores. \"bits\": the two outputs compared.", "",
  mdTable(["build", "threads", "B", "base ms", "this ms", "base CPU ms", "this CPU ms", "wall ratio base/this", "CPU ratio base/this", "bits", "load"],
    rows.map((r) => [r.build, r.threads, r.B, d(r, r.base), d(r, r.ours), d(r, r.baseCpu), d(r, r.oursCpu), (r.base / r.ours).toFixed(3), (r.baseCpu / r.oursCpu).toFixed(3), r.same ? "same" : "differ", r.load])), ""];
const out = baseSrc ? "infer-ab.md" : "infer-ab-kernels.md";
writeFileSync(join(ROOT, "bench", "results", out), md.join("\n"));
console.log(`wrote bench/results/${out}`);
process.exit(0);
