// `tsx bench/split-efficiency.ts`: where a split product's second thread
// loses. The MLP step's four large products and its dense_backward pairs, on
// 1 thread and on 2 threads with the workers spinning (the library's default)
// and not spinning (spin 0: the 2-thread CPU time is then the work both
// threads did plus their wakes, not their waits), in interleaved rounds.
// Work inflation = 2-thread CPU at spin 0 / 1-thread CPU: above 1 is work the
// split adds (packing a block twice, caches and memory shared by the cores);
// the spinning run's extra CPU over that is waiting. Writes
// bench/results/split-efficiency.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadThreadedKernels } from "../src/threads/threads.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { describeMachine, machine, mdTable, median, ROOT } from "./common.js";

const m0 = machine();
const ROUNDS = 11, CALLS = 20;
type Shape = { name: string; call: (k: Awaited<ReturnType<typeof loadThreadedKernels>>) => () => void };
// a dense layer's backward, identity activation: db, then dW = xᵀ·g and dx = g·Wᵀ as one job (gemm_pair)
const backward = (B: number, IN: number, OUT: number): Shape => ({
  name: `dense_backward ${B}×${IN}→${OUT} (dW + dx)`,
  call: (k) => {
    let p = k.base; const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; };
    const x = take(B * IN), w = take(IN * OUT), y = take(B * OUT), dy = take(B * OUT), dx = take(B * IN), dw = take(IN * OUT), db = take(OUT);
    const s = take(k.gemmScratchBytes(Math.max(IN, B), Math.max(IN, OUT)) / 4);
    k.reserve(p - k.base + 64);
    k.f32(x, B * IN).set(Float32Array.from({ length: B * IN }, (_, i) => Math.sin(i)));
    k.f32(w, IN * OUT).set(Float32Array.from({ length: IN * OUT }, (_, i) => Math.cos(i) * 0.05));
    k.f32(dy, B * OUT).set(Float32Array.from({ length: B * OUT }, (_, i) => Math.sin(i * 0.3) * 0.01));
    return () => k.raw.dense_backward(dx, dw, db, dy, x, w, y, B, IN, OUT, 0, 0, 0, s);
  },
});
const forward = (B: number, IN: number, OUT: number): Shape => ({
  name: `dense_forward ${B}×${IN}→${OUT}`,
  call: (k) => {
    let p = k.base; const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; };
    const x = take(B * IN), w = take(IN * OUT), b = take(OUT), y = take(B * OUT), s = take(k.gemmScratchBytes(B, IN) / 4);
    k.reserve(p - k.base + 64);
    k.f32(x, B * IN).set(Float32Array.from({ length: B * IN }, (_, i) => Math.sin(i)));
    k.f32(w, IN * OUT).set(Float32Array.from({ length: IN * OUT }, (_, i) => Math.cos(i) * 0.05));
    return () => k.raw.dense_forward(y, x, w, b, B, IN, OUT, 0, 0, s);
  },
});
const SHAPES = [forward(128, 784, 400), forward(128, 400, 784), backward(128, 400, 784), backward(128, 784, 400),
                forward(32, 784, 400), backward(32, 400, 784)];
const rows: (string | number)[][] = [];
for (const build of ["relaxed", "plain"] as const) {
  const one = await loadThreadedKernels({ build, threads: 1 });
  const spin = await loadThreadedKernels({ build, threads: 2 });
  const sleep = await loadThreadedKernels({ build, threads: 2 });
  (sleep.threadsHandle as ThreadPool).tune({ spinUs: 0 });
  for (const sh of SHAPES) {
    const fs = [one, spin, sleep].map((k) => sh.call(k));
    for (const f of fs) for (let i = 0; i < 30; i++) f();
    const wall = [[], [], []] as number[][], cpu = [[], [], []] as number[][];
    for (let r = 0; r < ROUNDS; r++) for (const j of r % 2 ? [2, 1, 0] : [0, 1, 2]) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let i = 0; i < CALLS; i++) fs[j]();
      const c = process.cpuUsage(c0);
      wall[j].push((performance.now() - t0) / CALLS); cpu[j].push((c.user + c.system) / 1e3 / CALLS);
    }
    const w = wall.map(median), c = cpu.map(median);
    rows.push([build, sh.name, w[0].toFixed(3), w[1].toFixed(3), w[2].toFixed(3), (w[0] / w[1]).toFixed(2) + "×",
               c[0].toFixed(3), c[1].toFixed(3), c[2].toFixed(3), (c[2] / c[0]).toFixed(2), (c[1] / c[0]).toFixed(2)]);
    console.log(rows[rows.length - 1].join("  "));
  }
}
const md = `# Where a split product's second thread loses (\`tsx bench/split-efficiency.ts\`)

Machine: ${describeMachine(m0)}

Each kernel call alone (operands hot), medians over ${ROUNDS} interleaved rounds of ${CALLS} calls; CPU is the
process's (all threads). "2t spin" is the library's default pool, "2t spin 0" workers that sleep as soon as
they find no task, so its CPU is the work both threads did plus their wakes. Work inflation = 2t spin 0 CPU /
1t CPU (above 1: work the split adds, e.g. blocks packed twice, caches and memory shared by the cores); the
spinning pool's CPU over 1t adds the waiting.

${mdTable(["build", "call", "1t ms", "2t spin ms", "2t spin 0 ms", "speedup (spin)", "1t CPU ms", "2t spin CPU ms", "2t spin 0 CPU ms", "work inflation", "CPU ratio (spin)"], rows)}
`;
writeFileSync(join(ROOT, "bench/results/split-efficiency.md"), md);
console.log("wrote bench/results/split-efficiency.md");
process.exit(0);
