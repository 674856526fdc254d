// The machine's wasm SIMD ceiling: a loop of independent f32x4 multiply-adds
// (acc ← acc·m + c on A accumulators, 8 flops per f32x4 multiply-add), with
// nothing else in it (no loads, no stores), plain (f32x4.mul then f32x4.add,
// as the plain build) and relaxed (f32x4.relaxed_madd, as the relaxed build).
// Written as WebAssembly text and assembled with binaryen (assemblyscript's
// own dependency), run on 1 … n worker_threads at once, each its own
// instance. No kernel of ours can exceed it per core: it is the rate at which
// V8's code for 128-bit wasm SIMD issues multiply-adds on this CPU.
// Not here: the benchmarks it is compared with (bench/limit.ts).
import binaryen from "binaryen";
import { Worker } from "node:worker_threads";

export type CeilingBuild = "plain" | "relaxed";
/** The loop's operation: a build's multiply-add, or one of plain's two halves
 *  alone (acc ← acc·m, acc ← acc + c), to see which one limits plain. */
export type CeilingOp = CeilingBuild | "mul" | "add";

/** Flops per loop iteration per accumulator: one f32x4 multiply-add. */
const FLOPS_PER_MADD = 8;
/** Accumulators tried (the chain latency needs about 2 × latency in flight;
 *  V8 has 16 xmm registers and the loop keeps m and c in two). */
export const ACCUMULATORS = [8, 12, 14];
/** Multiply-adds unrolled per loop trip, per accumulator. */
const UNROLL = 4;

function wat(op: CeilingOp, A: number): string {
  const acc = Array.from({ length: A }, (_, i) => `$a${i}`);
  const madd = (a: string) => op === "relaxed"
    ? `(local.set ${a} (f32x4.relaxed_madd (local.get ${a}) (local.get $m) (local.get $c)))`
    : op === "mul" ? `(local.set ${a} (f32x4.mul (local.get ${a}) (local.get $m)))`
    : op === "add" ? `(local.set ${a} (f32x4.add (local.get ${a}) (local.get $c)))`
    : `(local.set ${a} (f32x4.add (f32x4.mul (local.get ${a}) (local.get $m)) (local.get $c)))`;
  const body: string[] = [];
  for (let u = 0; u < UNROLL; u++) for (const a of acc) body.push(madd(a));
  let sum = `(local.get ${acc[0]})`;
  for (const a of acc.slice(1)) sum = `(f32x4.add ${sum} (local.get ${a}))`;
  return `(module
  (func $run (export "run") (param $n i32) (result f32)
    (local $m v128) (local $c v128) ${acc.map((a) => `(local ${a} v128)`).join(" ")}
    (local.set $m (f32x4.splat (f32.const 0.999)))
    (local.set $c (f32x4.splat (f32.const 0.001)))
    ${acc.map((a, i) => `(local.set ${a} (f32x4.splat (f32.const ${(i + 1) * 0.01})))`).join("\n    ")}
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      ${body.join("\n      ")}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (f32x4.extract_lane 0 ${sum})))`;
}

/** The ceiling loop as wasm bytes; `flopsPerTrip` flops per trip of its loop. */
export function ceilingWasm(op: CeilingOp, A: number): { bytes: Uint8Array; flopsPerTrip: number } {
  const mod = binaryen.parseText(wat(op, A));
  mod.setFeatures(binaryen.Features.SIMD128 | (op === "relaxed" ? binaryen.Features.RelaxedSIMD : 0));
  if (!mod.validate()) throw new Error(`ceiling ${op} A=${A}: binaryen rejected the module`);
  const bytes = mod.emitBinary();
  mod.dispose();
  // mul or add alone: 4 flops per f32x4 operation
  return { bytes, flopsPerTrip: A * UNROLL * (op === "mul" || op === "add" ? FLOPS_PER_MADD / 2 : FLOPS_PER_MADD) };
}

const WORKER = `
const { parentPort } = require("node:worker_threads");
const v8 = require("node:v8");
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
const fns = new Map();
parentPort.on("message", async (m) => {
  if (m.bytes) {
    // V8 runs a wasm function in its baseline compiler (Liftoff) until it is
    // hot, and a running call is never replaced: call it in short pieces
    // for a while so the measured calls run TurboFan's code.
    const { instance } = await WebAssembly.instantiate(m.bytes);
    const run = instance.exports.run;
    fns.set(m.key, run);
    const t = performance.now();
    while (performance.now() - t < 300) run(2000);
    parentPort.postMessage("ok");
    return;
  }
  const run = fns.get(m.key), t = performance.now();
  let r = 0;
  for (let done = 0; done < m.trips; done += 20000) r += run(Math.min(20000, m.trips - done));
  parentPort.postMessage({ ms: performance.now() - t, r });
});`;

export interface CeilingRun { build: CeilingOp; threads: number; accumulators: number; gflops: number; gflopsPerCpuSecond: number; cores: number }

/** A pool of `n` workers that run the ceiling loops. */
export class CeilingPool {
  private readonly workers: Worker[];
  private readonly loaded = new Set<string>();
  constructor(n: number) {
    this.workers = Array.from({ length: n }, () => new Worker(WORKER, { eval: true }));
  }

  private ask(w: Worker, msg: unknown): Promise<{ ms: number } | "ok"> {
    return new Promise((res, rej) => {
      const fail = (e: Error) => { w.off("message", ok); rej(e); };
      const ok = (v: { ms: number } | "ok") => { w.off("error", fail); res(v); };
      w.once("message", ok);
      w.once("error", fail);
      w.postMessage(msg);
    });
  }

  /** One measurement: `threads` workers each run `trips` loop trips at once;
   *  GFLOP/s over the wall time of the slowest, and per CPU-second of the process. */
  async run(build: CeilingOp, A: number, threads: number, trips: number): Promise<CeilingRun> {
    const key = `${build}:${A}`;
    const { bytes, flopsPerTrip } = ceilingWasm(build, A);
    if (!this.loaded.has(key)) {
      await Promise.all(this.workers.map((w) => this.ask(w, { key, bytes })));
      this.loaded.add(key);
    }
    const c0 = process.cpuUsage(), t0 = performance.now();
    await Promise.all(this.workers.slice(0, threads).map((w) => this.ask(w, { key, trips })));
    const wall = (performance.now() - t0) / 1e3, c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1e6;
    const flops = threads * trips * flopsPerTrip;
    return { build, threads, accumulators: A, gflops: flops / wall / 1e9, gflopsPerCpuSecond: flops / cpu / 1e9, cores: cpu / wall };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
