// `tsx bench/subnormal.ts [-- --steps 60]`: issue 19 asks why the plain
// one-thread Keras conv step once went from 142 to 245 ms between rounds
// while the relaxed step did not. Two measurements:
//   1. The GEMM (128×400·400×400) on data whose products are normal, whose
//      products are subnormal (operands ~1e-20: products ~1e-40), and whose
//      inputs are subnormal, both builds, by CPU time. The plain build
//      multiplies, rounds, then adds (f32x4.mul + f32x4.add): a subnormal
//      product goes through the CPU's slow path; the relaxed build's fused
//      multiply-add never rounds the product.
//   2. The Keras conv VAE trained for --steps steps (B = 128, real MNIST,
//      both builds interleaved): the CPU time per step and the subnormal
//      values in the whole arena (parameters, moments, activations,
//      gradients, scratch) every 6 steps, to see whether training reaches
//      such values.
// Writes bench/results/subnormal.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { presetLayers } from "../cli/src/presets.js";
import { loadMnist, VAE } from "../src/index.js";
import { loadKernels } from "../src/kernels/wasm.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const STEPS = Number(flag("steps") ?? 60);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const md: string[] = ["# Subnormal numbers and the plain build (`tsx bench/subnormal.ts`)", "", `Machine: ${describeMachine(machine())}`, ""];

// 1. the GEMM on normal and subnormal data
const CASES = [["normal", 1, 1], ["subnormal products (operands ~1e-20)", 1e-20, 1e-20], ["subnormal inputs (A ~1e-39)", 1e-39, 1]] as const;
const rows: (string | number)[][] = [];
for (const build of ["plain", "relaxed"] as const) {
  const k = await loadKernels({ build });
  const M = 128, K = 400, N = 400;
  let p = k.base;
  const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; };
  const a = take(M * K), b = take(K * N), c = take(M * N), s = take(k.gemmScratchBytes(M, K) / 4);
  k.reserve(p - k.base);
  const times: number[][] = CASES.map(() => []);
  for (const [j, [, sa, sb]] of CASES.entries()) {
    k.f32(a, M * K).set(Float32Array.from({ length: M * K }, (_, i) => sa * (0.5 + ((i * 7) % 13) / 13)));
    k.f32(b, K * N).set(Float32Array.from({ length: K * N }, (_, i) => sb * (0.5 + ((i * 5) % 11) / 11)));
    for (let i = 0; i < 20; i++) k.raw.gemm(c, a, b, 0, M, K, N, 0, 0, 0, s);
    for (let r = 0; r < 7; r++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 20; i++) k.raw.gemm(c, a, b, 0, M, K, N, 0, 0, 0, s);
      const cu = process.cpuUsage(c0);
      times[j].push((cu.user + cu.system) / 20e3);
    }
  }
  CASES.forEach(([name], j) => rows.push([build, name, median(times[j]).toFixed(3), (median(times[j]) / median(times[0])).toFixed(2) + "×", load()]));
  console.log(rows.slice(-3).map((r) => r.join(" ")).join("\n"));
}
md.push("## GEMM 128×400·400×400 (CPU ms per call, median of 7 × 20 calls)", "",
  mdTable(["build", "data", "CPU ms", "vs normal", "load"], rows), "");

// 2. training: does the conv VAE reach subnormal values?
const mnist = await loadMnist({ limit: 8192 });
const cfg = { ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: 2, seed: 3, maxBatch: 128 };
const vs = { plain: await VAE.create(cfg, { build: "plain", threads: 1 }), relaxed: await VAE.create(cfg, { build: "relaxed", threads: 1 }) };
const B = 128;
let at = 0;
const batch = () => { const s = (at++ * B) % (mnist.count - B); return mnist.images.subarray(s * 784, (s + B) * 784); };
function scan(v: VAE): { subnormal: number; tiny: number } {
  const mem = new Float32Array(v.kernels.memory.buffer);
  let subnormal = 0, tiny = 0;
  for (let j = v.kernels.base / 4; j < mem.length; j++) {
    const x = Math.abs(mem[j]);
    if (x > 0 && x < 1.1754943508222875e-38) subnormal++;
    else if (x > 0 && x < 1e-19) tiny++;
  }
  return { subnormal, tiny };
}
const train: (string | number)[][] = [];
for (let r = 0; r * 3 < STEPS; r++) {
  const row: (string | number)[] = [3 * (r + 1)];
  for (const v of Object.values(vs)) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 3; i++) v.trainStep(batch());
    const c = process.cpuUsage(c0);
    row.push(((c.user + c.system) / 3e3).toFixed(0));
    if (r % 2 === 1) { const s = scan(v); row.push(s.subnormal, s.tiny); } else row.push("", "");
  }
  row.push(load());
  train.push(row);
  console.log(row.join(" "));
}
md.push(`## The Keras conv VAE, ${STEPS} steps (seed 3, B = 128, real MNIST), both builds interleaved`, "",
  "CPU ms per step (mean of 3 steps); every 6 steps, the subnormal values (|x| < 2⁻¹²⁶) and the values below 1e-19 in the",
  "whole arena after the step.", "",
  mdTable(["steps", "plain CPU ms", "plain subnormal", "plain < 1e-19", "relaxed CPU ms", "relaxed subnormal", "relaxed < 1e-19", "load"], train), "");
writeFileSync(join(ROOT, "bench", "results", "subnormal.md"), md.join("\n"));
console.log("wrote bench/results/subnormal.md");
process.exit(0);
