// `tsx bench/gemv-ab.ts --base <dir> [--build plain|relaxed] [--rounds 31]`: the
// batch-1 dense forward (one-row GEMM, gemm.ts rowTimesB) of this checkout's
// kernels against another build's (<dir>/vae.<build>.wasm), at the MLP VAE's
// four layer shapes, in one process: each round times 400 calls of each
// shape on each build (the order alternates per round), the weights hot in
// L3 (1.25 MB for the two large layers: more than this CPU's 1 MiB L2 per
// core). Prints CPU µs per call (medians), the median of the per-round ratios
// base/this, and this build's weight bytes per second.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadKernels } from "../src/kernels/wasm.js";
import { flag } from "./common.js";
const build = String(flag("build") ?? "plain") as "plain" | "relaxed";
const baseDir = String(flag("base") ?? "");
if (!baseDir) throw new Error("usage: tsx bench/gemv-ab.ts --base <dir with vae.plain.wasm, vae.relaxed.wasm> [--build plain|relaxed]");
const ROUNDS = Number(flag("rounds") ?? 31);
const ks = [await loadKernels({ build, wasm: { [build]: readFileSync(join(baseDir, `vae.${build}.wasm`)) } }), await loadKernels({ build })];
const shapes = [[784, 400], [400, 784], [400, 40], [20, 400]];
const ptrs = ks.map((k) => {
  k.reserve(8 << 20);
  const H = new Float32Array(k.memory.buffer);
  const base = k.base;
  const ps = shapes.map(([IN, OUT], i) => {
    const off = base + i * (2 << 20);
    const w = off, x = off + IN * OUT * 4, b = x + IN * 4 + 64, y = b + OUT * 4 + 64;
    for (let j = 0; j < IN * OUT; j++) H[(w >> 2) + j] = Math.sin(j);
    for (let j = 0; j < IN; j++) H[(x >> 2) + j] = Math.cos(j);
    return { w, x, b, y, IN, OUT };
  });
  return ps;
});
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e3; };
const res: number[][][] = shapes.map(() => [[], []]);
for (let r = 0; r < ROUNDS; r++) {
  for (const j of r % 2 ? [1, 0] : [0, 1]) {
    const k = ks[j];
    ptrs[j].forEach((p, si) => {
      const n = 400, c0 = cpu();
      for (let i = 0; i < n; i++) k.raw.dense_forward(p.y, p.x, p.w, p.b, 1, p.IN, p.OUT, 0, 0, k.base + (7 << 20));
      res[si][j].push((cpu() - c0) / n * 1000);
    });
  }
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
shapes.forEach(([IN, OUT], si) => console.log(`${build} 1×${IN}→${OUT}: base ${med(res[si][0]).toFixed(2)} µs, this ${med(res[si][1]).toFixed(2)} µs; ratio med ${med(res[si][0].map((b, i) => b / res[si][1][i])).toFixed(3)}; ${(IN * OUT * 4 / med(res[si][1]) / 1e3).toFixed(1)} GB/s, ${(2 * IN * OUT / med(res[si][1]) / 1e3).toFixed(1)} GFLOP/s`));
