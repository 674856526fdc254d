// `tsx bench/corun.ts [--rounds N]`: does one core's GEMM slow down when the
// other core works, with nothing shared between them? Two worker_threads,
// each its own instance of the ordinary (unthreaded) build on its own memory:
// worker 0 times the MLP step's large products (`gemm`, one thread, the
// library's code) while worker 1 is idle, runs the same product on its own
// operands, runs a small product whose operands stay in its L1, or runs the
// ceiling loop (multiply-adds on registers, no memory; bench/ceiling.ts).
// The step's Adam update (18 MB streamed) is timed the same way.
// Nothing is split and no memory is shared, so any slowdown is the machine's
// (caches, memory or clocks shared by the cores), not the split's: it bounds
// what a split product can gain on two threads (bench/split-efficiency.ts).
// Writes bench/results/corun.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { ceilingWasm } from "./ceiling.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const m0 = machine();
const ROUNDS = Number(flag("rounds") ?? 9);
const CALLS = 20;

/** C (M,N) = op(A)·op(B) as the step calls it; init 2 = + bias, 1 = accumulate; adam: instead an Adam
 *  update of M parameters (the step's 652,824: w, g, m, v read, w, m, v written, 18 MB). */
interface Shape { name: string; use: string; M: number; K: number; N: number; transA: 0 | 1; transB: 0 | 1; init: 0 | 1 | 2; adam?: boolean }
const SHAPES: Shape[] = [
  { name: "128×784×400 NN", use: "encoder forward x·W+b", M: 128, K: 784, N: 400, transA: 0, transB: 0, init: 2 },
  { name: "128×400×784 NN", use: "decoder forward h·W+b", M: 128, K: 400, N: 784, transA: 0, transB: 0, init: 2 },
  { name: "784×128×400 TN", use: "dW = xᵀ·g", M: 784, K: 128, N: 400, transA: 1, transB: 0, init: 1 },
  { name: "128×400×784 NT", use: "dx = g·Wᵀ", M: 128, K: 400, N: 784, transA: 0, transB: 1, init: 0 },
  { name: "32×784×400 NN", use: "encoder forward, B = 32", M: 32, K: 784, N: 400, transA: 0, transB: 0, init: 2 },
  { name: "adam_step 652,824", use: "the step's Adam update", M: 652824, K: 0, N: 0, transA: 0, transB: 0, init: 0, adam: true },
];
/** The partner's small product: A 30×96, B 96×32 (12 KiB each), C 4 KiB: all in L1. */
const SMALL: Shape = { name: "30×96×32 NN", use: "", M: 30, K: 96, N: 32, transA: 0, transB: 0, init: 0 };

const WORKER = `
const { parentPort } = require("node:worker_threads");
require("node:v8").setFlagsFromString("--experimental-wasm-relaxed-simd");
let gemm, calls = [], ceil, stop;
function setup(ex, shapes) {
  const mem = ex.memory;
  let p = (Number(ex.heap_base.value ?? ex.heap_base) + 63) & ~63;
  const take = (n) => { const q = p; p += (4 * n + 63) & ~63; return q; };
  const plan = shapes.map((s) => {
    if (s.adam) return { s, a: take(s.M), b: take(s.M), c: take(s.M), bias: take(s.M), scratch: 0 };
    const a = take(s.M * s.K), b = take(s.K * s.N), c = take(s.M * s.N), bias = take(s.N);
    const scratch = take(ex.gemm_scratch_bytes(s.M, s.K) / 4);
    return { s, a, b, c, bias, scratch };
  });
  const need = p + 65536 - mem.buffer.byteLength;
  if (need > 0) mem.grow(Math.ceil(need / 65536));
  const f = new Float32Array(mem.buffer);
  for (const { s, a, b, c, bias } of plan) {
    if (s.adam) {
      for (let i = 0; i < s.M; i++) { f[a / 4 + i] = Math.sin(i) * 0.05; f[b / 4 + i] = Math.cos(i) * 0.01; f[c / 4 + i] = 0; f[bias / 4 + i] = 0; }
      continue;
    }
    for (let i = 0; i < s.M * s.K; i++) f[a / 4 + i] = Math.sin(i);
    for (let i = 0; i < s.K * s.N; i++) f[b / 4 + i] = Math.cos(i) * 0.05;
    for (let i = 0; i < s.N; i++) f[bias / 4 + i] = 0.01 * i;
    f.fill(0, c / 4, c / 4 + s.M * s.N);
  }
  return plan.map(({ s, a, b, c, bias, scratch }) => s.adam
    ? () => ex.adam_step(a, b, c, bias, s.M, 1e-3, 0.9, 0.1, 0.999, 0.001, 1e-8, 1, 1.5, 1.7)
    : () => ex.gemm(c, a, b, bias, s.M, s.K, s.N, s.transA, s.transB, s.init, scratch));
}
parentPort.on("message", async (m) => {
  if (m.kernels) {
    const { instance } = await WebAssembly.instantiate(m.kernels, { env: { abort() { throw new Error("abort"); } } });
    calls = setup(instance.exports, m.shapes);
    const { instance: ci } = await WebAssembly.instantiate(m.ceiling);
    ceil = ci.exports.run;
    stop = new Int32Array(m.stop);
    // warm: TurboFan's code for every function before anything is timed
    const t = performance.now();
    while (performance.now() - t < 400) { for (const f of calls) f(); ceil(2000); }
    parentPort.postMessage("ok");
    return;
  }
  if (m.time !== undefined) {               // time CALLS calls of product m.time, one by one
    const ms = [];
    for (let i = 0; i < m.calls; i++) { const t = performance.now(); calls[m.time](); ms.push(performance.now() - t); }
    parentPort.postMessage(ms);
    return;
  }
  // m.loop: "gemm" i | "ceiling": run until stop[0] is set; say when started
  parentPort.postMessage("started");
  let n = 0;
  if (m.loop === "ceiling") while (Atomics.load(stop, 0) === 0) { ceil(2000); n++; }
  else while (Atomics.load(stop, 0) === 0) { calls[m.index](); n++; }
  parentPort.postMessage({ n });
});`;

function ask<T>(w: Worker, msg: unknown): Promise<T> {
  return new Promise((res, rej) => {
    const fail = (e: Error) => { w.off("message", ok); rej(e); };
    const ok = (v: T) => { w.off("error", fail); res(v); };
    w.once("message", ok);
    w.once("error", fail);
    w.postMessage(msg);
  });
}

type Partner = "idle" | "same product" | "small product (L1)" | "ceiling loop (registers)";
const PARTNERS: Partner[] = ["idle", "same product", "small product (L1)", "ceiling loop (registers)"];

const rows: (string | number)[][] = [];
for (const build of ["relaxed", "plain"] as const) {
  const kernels = readFileSync(join(ROOT, `build/vae.${build}.wasm`));
  const ceiling = ceilingWasm(build, 12).bytes;
  const stop = new SharedArrayBuffer(4), stopFlag = new Int32Array(stop);
  const w = [new Worker(WORKER, { eval: true }), new Worker(WORKER, { eval: true })];
  const shapes = [...SHAPES, SMALL];
  await Promise.all(w.map((x) => ask(x, { kernels, ceiling, shapes, stop })));
  for (let s = 0; s < SHAPES.length; s++) {
    const times: number[][] = PARTNERS.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [...PARTNERS.keys()].reverse() : [...PARTNERS.keys()];
      for (const p of order) {
        Atomics.store(stopFlag, 0, 0);
        let done: Promise<{ n: number }> | undefined;
        if (p > 0) {
          // the partner's loop message answers twice: "started", then its count
          await new Promise<void>((res) => {
            w[1].once("message", () => {
              done = new Promise((r2) => w[1].once("message", r2));
              res();
            });
            w[1].postMessage(p === 1 ? { loop: "gemm", index: s } : p === 2 ? { loop: "gemm", index: SHAPES.length } : { loop: "ceiling" });
          });
          await new Promise((r3) => setTimeout(r3, 5));
        }
        const ms = await ask<number[]>(w[0], { time: s, calls: CALLS });
        Atomics.store(stopFlag, 0, 1);
        if (done) await done;
        times[p].push(median(ms));
      }
    }
    const med = times.map(median);
    const sh = SHAPES[s];
    rows.push([build, sh.name, sh.use, ...med.map((x) => x.toFixed(3)), ...med.slice(1).map((x) => (x / med[0]).toFixed(2) + "×")]);
    console.log(rows[rows.length - 1].join("  "));
  }
  await Promise.all(w.map((x) => x.terminate()));
}

const md = `# One core's GEMM while the other core works (\`tsx bench/corun.ts\`)

Machine: ${describeMachine(m0)}; load average at end ${(await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" / ")}

Worker 0 times the library's one-thread \`gemm\` (the ordinary build, its own instance and memory) on the MLP step's
products; worker 1, with its own instance and memory, meanwhile is idle, runs the same product on its own
operands, runs a ${SMALL.name} product (operands in its L1), or runs the ceiling loop (multiply-adds on
registers only, bench/ceiling.ts). Nothing is split or shared, so a slowdown against "idle" is the machine's:
the second core's traffic through the shared caches and memory, or the clock both cores share. Medians over
${ROUNDS} interleaved rounds of the median of ${CALLS} calls, ms per call.

${mdTable(["build", "product", "use", ...PARTNERS.map((p) => `partner ${p} ms`), ...PARTNERS.slice(1).map((p) => `× idle (${p})`)], rows)}
`;
writeFileSync(join(ROOT, "bench/results/corun.md"), md);
console.log("wrote bench/results/corun.md");
process.exit(0);
