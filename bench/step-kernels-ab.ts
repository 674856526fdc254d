// `tsx bench/step-kernels-ab.ts --base <dir>`: the MLP step's elementwise
// kernels (Bernoulli loss + gradient, the gradient norm, Adam) of this
// checkout against a base build (the four build/vae.*.wasm of, say, main, in
// <dir>), on the step's sizes (B × 784 logits; the 652,824 parameters of
// 784-400-20-400-784), 1 thread and 2 threads with the worker sleeping between
// jobs (spin 0: CPU time is work, not spinning), in interleaved rounds, CPU
// time per call. Each output is compared bit for bit between the two builds
// first. Writes bench/results/step-kernels-ab.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";
import { loadKernels, type Kernels } from "../src/kernels/wasm.js";
import { loadThreadedKernels } from "../src/threads/threads.js";
import type { ThreadPool } from "../src/threads/pool.js";

const baseDir = String(flag("base") ?? "");
if (!baseDir) throw new Error("usage: tsx bench/step-kernels-ab.ts --base <dir with the four vae.*.wasm>");
const ROUNDS = Number(flag("rounds") ?? 15);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const m0 = machine();
const P = 652_824, D = 784;
const rows: (string | number)[][] = [];

// fills [p, p + 4n) with a deterministic pattern in [lo, hi), never 0
function fill(k: Kernels, p: number, n: number, lo: number, hi: number): void {
  const a = k.f32(p, n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * (((i * 7919) % 1009) + 0.5) / 1009;
}

interface Case { name: string; setup: (k: Kernels) => { run: () => void; out: () => Uint32Array } }
const cases: Case[] = [];
for (const B of [128, 32]) {
  cases.push({ name: `bernoulli_nll_forward_backward ${B}×${D}`, setup: (k) => {
    const n = B * D, l = k.base, x = l + 4 * n, dl = x + 4 * n, nll = dl + 4 * n;
    k.reserve(16 * n + 4 * B);
    fill(k, l, n, -12, 6); fill(k, x, n, 0, 1);
    return { run: () => k.raw.bernoulli_nll_forward_backward(nll, dl, l, x, B, D, 1 / B),
      out: () => new Uint32Array(k.raw.memory.buffer.slice(dl, nll + 4 * B)) }; // dl then nll
  } });
}
cases.push({ name: `sum_squares ${P}`, setup: (k) => {
  const g = k.base; k.reserve(4 * P); fill(k, g, P, -0.01, 0.01);
  let s = 0;
  return { run: () => { s = k.raw.sum_squares(g, P); }, out: () => new Uint32Array(new Float64Array([s]).buffer) };
} });
cases.push({ name: `adam_step ${P}`, setup: (k) => {
  const p = k.base, g = p + 4 * P, m = g + 4 * P, v = m + 4 * P;
  k.reserve(16 * P);
  fill(k, p, P, -0.1, 0.1); fill(k, g, P, -0.01, 0.01); fill(k, m, P, -0.001, 0.001); fill(k, v, P, 1e-6, 1e-5);
  const init = new Float32Array(k.f32(p, 4 * P)); // out() restores p, g, m, v after reading them
  return { run: () => { k.raw.adam_step(p, g, m, v, P, 1e-3, 0.9, 0.1, 0.999, 0.001, 1e-8, 1, 10, 1000); },
    out: () => { const o = new Uint32Array(k.f32(p, 4 * P).slice().buffer); k.f32(p, 4 * P).set(init); return o; } };
} });

// the same update on 16,384 parameters (256 KiB for p, g, m, v: in L2), called 40 times (655,360 updates): if
// Adam were memory-bound, this would cost much less than one call on the step's 652,824 (10.4 MB)
const S = 16_384;
cases.push({ name: `adam_step ${S} × 40 (in L2)`, setup: (k) => {
  const p = k.base, g = p + 4 * S, m = g + 4 * S, v = m + 4 * S;
  k.reserve(16 * S);
  fill(k, p, S, -0.1, 0.1); fill(k, g, S, -0.01, 0.01); fill(k, m, S, -0.001, 0.001); fill(k, v, S, 1e-6, 1e-5);
  const init = new Float32Array(k.f32(p, 4 * S));
  return { run: () => { for (let i = 0; i < 40; i++) k.raw.adam_step(p, g, m, v, S, 1e-3, 0.9, 0.1, 0.999, 0.001, 1e-8, 1, 10, 1000); },
    out: () => { const o = new Uint32Array(k.f32(p, 4 * S).slice().buffer); k.f32(p, 4 * S).set(init); return o; } };
} });

for (const build of ["plain", "relaxed"] as const) {
  const wasm = { [build]: readFileSync(join(baseDir, `vae.${build}.wasm`)), [`${build}.shared`]: readFileSync(join(baseDir, `vae.${build}.shared.wasm`)) } as never;
  for (const threads of [1, 2]) {
    const mk = (w?: never) => threads === 1 ? loadKernels({ build, wasm: w }) : loadThreadedKernels({ build, threads, wasm: w });
    const ks = [await mk(wasm), await mk()];
    for (const k of ks) (k.threadsHandle as ThreadPool | null)?.tune({ spinUs: 0 });
    for (const c of cases) {
      const s = ks.map((k) => c.setup(k));
      for (const x of s) x.run();
      const [ob, oo] = s.map((x) => x.out());
      const same = ob.length === oo.length && ob.every((v, i) => v === oo[i]);
      for (const x of s) x.run(); // warm after the state reset
      const cpu = [[], []] as number[][], l = load();
      const per = c.name.startsWith("bernoulli") && c.name.includes(" 32×") ? 40 : 10;
      for (let r = 0; r < ROUNDS; r++) for (const j of r % 2 ? [1, 0] : [0, 1]) {
        const c0 = process.cpuUsage();
        for (let i = 0; i < per; i++) s[j].run();
        const cu = process.cpuUsage(c0);
        cpu[j].push((cu.user + cu.system) / 1e3 / per);
      }
      const [cb, co] = [median(cpu[0]), median(cpu[1])];
      rows.push([build, threads, c.name, cb.toFixed(4), co.toFixed(4), (cb / co).toFixed(3), same ? "same" : "DIFFER", l]);
      console.log(`${build} ${threads}t ${c.name}: CPU ms base ${cb.toFixed(4)}, this ${co.toFixed(4)} (${(cb / co).toFixed(3)}), ${same ? "same bits" : "BITS DIFFER"}; load ${l}`);
    }
    for (const k of ks) k.dispose();
  }
}
writeFileSync(join(ROOT, "bench", "results", "step-kernels-ab.md"), [
  "# The MLP step's elementwise kernels against a base build (`tsx bench/step-kernels-ab.ts`)", "",
  `Base: the wasm files in \`${baseDir}\`. Machine: ${describeMachine(m0)}`, "",
  `Medians over ${ROUNDS} interleaved rounds (order alternating); CPU ms per call of the whole process (2 threads: the worker`,
  "sleeps between jobs, spin 0, so this is the work of both threads plus the wakes). Ratio = base / this (> 1: this is",
  "cheaper). bits: the outputs of one call on the same inputs compared between the builds.", "",
  mdTable(["build", "threads", "kernel", "base CPU ms", "this CPU ms", "ratio", "bits", "load"], rows), ""].join("\n"));
console.log("wrote bench/results/step-kernels-ab.md");
process.exit(0);
