// `tsx bench/gemm-split-ab.ts --base <dir>`: the split GEMMs of the MLP step on
// 2 threads, this checkout's kernels against a base build's (the four
// build/vae.*.wasm of, say, main, in <dir>), in interleaved rounds, in CPU time
// per call with the workers sleeping between jobs (spin 0), so the figure is
// the work both threads did (packing included) and the least disturbed by
// other processes on shared cores. Written for issue 19's "pack op(A) once"
// split plan (assembly/gemm.ts gemmSplitPacked). Writes bench/results/gemm-split-ab.md.
// --narrow: the narrow products instead (the 20- and 40-wide layers' forward
// and dx, B = 128 and 32; gemmPlan's narrow branch), into gemm-narrow-ab.md;
// --dw: the wide layers' shallow dW products (K = B), into gemm-dw-ab.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine, flag, machine, mdTable, ROOT } from "./common.js";
import { loadThreadedKernels } from "../src/threads/threads.js";
import type { ThreadPool } from "../src/threads/pool.js";
const baseDir = String(flag("base") ?? "");
if (!baseDir) throw new Error("usage: tsx bench/gemm-split-ab.ts --base <dir with the four vae.*.wasm>");
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const m0 = machine();
const rows: (string | number)[][] = [];
const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1];
const NARROW = flag("narrow") === true, DW = flag("dw") === true;
// [name, M, K, N, transA, transB]
const SH: readonly (readonly [string, number, number, number, number, number])[] = DW
  ? [["pair: dW 400×32×784 + dx 32×784×400 (dense_backward of 400→784, B = 32)", 400, 32, 784, 1, 0], ["TN 784×32×400 (dW of 784→400, B = 32)", 784, 32, 400, 1, 0],
     ["pair: dW 400×128×784 + dx 128×784×400 (dense_backward of 400→784, B = 128)", 400, 128, 784, 1, 0], ["TN 784×128×400 (dW of 784→400, B = 128)", 784, 128, 400, 1, 0]]
  : NARROW
  ? [["NN 128×400×40 (head forward)", 128, 400, 40, 0, 0], ["NT 128×400×20 (dx of 20→400)", 128, 400, 20, 0, 1],
     ["NN 32×400×40 (head forward)", 32, 400, 40, 0, 0], ["NT 32×400×20 (dx of 20→400)", 32, 400, 20, 0, 1]]
  : [["NN 128×784×400", 128, 784, 400, 0, 0], ["NN 128×400×784", 128, 400, 784, 0, 0], ["NN 128×20×400", 128, 20, 400, 0, 0], ["TN 784×128×400", 784, 128, 400, 1, 0]];
const OUT = DW ? "gemm-dw-ab.md" : NARROW ? "gemm-narrow-ab.md" : "gemm-split-ab.md";
for (const build of ["plain", "relaxed"] as const) {
  const base = await loadThreadedKernels({ build, threads: 2, wasm: { [`${build}.shared`]: readFileSync(`${baseDir}/vae.${build}.shared.wasm`), [build]: readFileSync(`${baseDir}/vae.${build}.wasm`) } as never });
  const ours = await loadThreadedKernels({ build, threads: 2 });
  for (const k of [base, ours]) (k.threadsHandle as ThreadPool).tune({ spinUs: 0 });
  for (const [name, M, K, N, tA, tB] of SH) {
    const run = [base, ours].map((k) => {
      let p = k.base; const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; };
      const pa = take(M * K), pb = take(K * N), pbias = take(N), pc = take(M * N), ps = take(k.gemmScratchBytes(M, K) / 4);
      k.reserve(p - k.base + 64);
      k.f32(pa, M * K).set(Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)));
      k.f32(pb, K * N).set(Float32Array.from({ length: K * N }, (_, i) => Math.cos(i) * 0.05));
      if (name.startsWith("pair")) {
        // dW (M, N) = xᵀ·g with x (K, M), g (K, N); dx (K, M) = g·Wᵀ with W (M, N): a dense layer's backward
        const pdx = take(K * M), pw = take(M * N), ps2 = take(k.gemmScratchBytes(Math.max(M, K), Math.max(M, N)) / 4);
        k.reserve(p - k.base + 64);
        k.f32(pw, M * N).set(Float32Array.from({ length: M * N }, (_, i) => Math.cos(i) * 0.05));
        k.f32(pb, K * N).set(Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.7)));
        const pdb = take(N);
        k.reserve(p - k.base + 64);
        // dense_backward with the identity activation: db, then dW and dx as one gemm_pair job
        return () => k.raw.dense_backward(pdx, pc, pdb, pb, pa, pw, pb, K, M, N, 0, 0, 0, ps2);
      }
      return () => k.raw.gemm(pc, pa, pb, pbias, M, K, N, tA, tB, tA ? 0 : 2, ps);
    });
    const cpu = [[], []] as number[][], wall = [[], []] as number[][], l = load();
    for (const f of run) for (let i = 0; i < 5; i++) f();
    for (let r = 0; r < 15; r++) for (const j of r % 2 ? [1, 0] : [0, 1]) {
      const c0 = process.cpuUsage(), t0 = performance.now(); for (let i = 0; i < 20; i++) run[j](); const c = process.cpuUsage(c0);
      cpu[j].push((c.user + c.system) / 1e3 / 20); wall[j].push((performance.now() - t0) / 20);
    }
    const [cb, co, wb, wo] = [med(cpu[0]), med(cpu[1]), med(wall[0]), med(wall[1])];
    rows.push([build, name, cb.toFixed(3), co.toFixed(3), (cb / co).toFixed(3), wb.toFixed(3), wo.toFixed(3), l]);
    console.log(`${build} ${name}: CPU ms per call base ${cb.toFixed(3)}, this ${co.toFixed(3)} (ratio ${(cb / co).toFixed(3)}); wall ${wb.toFixed(3)} / ${wo.toFixed(3)}; load ${l}`);
  }
  base.dispose(); ours.dispose();
}
writeFileSync(join(ROOT, "bench", "results", OUT), [
  `# Split GEMMs of the MLP step on 2 threads, against a base build (\`tsx bench/gemm-split-ab.ts${DW ? " --dw" : NARROW ? " --narrow" : ""}\`)`, "",
  `Base: the wasm files in \`${baseDir}\`. Machine: ${describeMachine(m0)}`, "",
  "Medians over 15 interleaved rounds (order alternating) of 20 calls; workers sleep between jobs (spin 0), so CPU ms",
  "is the work of both threads, packing included. Ratio = base CPU / this CPU (> 1: this does less work).", "",
  mdTable(["build", "product", "base CPU ms", "this CPU ms", "ratio", "base wall ms", "this wall ms", "load"], rows), ""].join("\n"));
console.log(`wrote bench/results/${OUT}`);
process.exit(0);
