// GEMM throughput of both kernel builds at the VAE's layer shapes (batch 128),
// single thread, with tfjs-backend-wasm's matMul (one thread) as the
// peer measured in the same run. Every result is checked against the float64
// reference (tests/reference.ts) before it is timed; a wrong result exits 1.
// Timing is Benchmark.js; we report the median of its samples and GFLOP/s =
// 2·M·K·N / median, against targets of 25 (plain) and 36 (relaxed) GFLOP/s.
// Not here: the dense layer's activation and bias-gradient passes, threads.
// Writes what it prints to bench/results/gemm.md.
//
//   npm run bench:gemm [-- --max-time 2] [-- --no-peer]
import * as tf from "@tensorflow/tfjs-core";
import { loadKernels, type Build, type Kernels } from "../src/kernels/wasm.js";
import { gemmRef, randomArray } from "../tests/reference.js";
import Benchmark from "benchmark";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine, flag, machine, mdTable, median, ROOT, useBackend } from "./common.js";

type Variant = "NN" | "TN" | "NT";
interface Shape { name: string; v: Variant; M: number; K: number; N: number }

const SHAPES: Shape[] = [
  { name: "encoder forward x·W+b", v: "NN", M: 128, K: 784, N: 400 },
  { name: "decoder forward h·W+b", v: "NN", M: 128, K: 400, N: 784 },
  { name: "dW += xᵀ·g", v: "TN", M: 784, K: 128, N: 400 },
  { name: "dx = g·Wᵀ", v: "NT", M: 128, K: 400, N: 784 },
];
// NN: forward with bias; TN: weight gradient, accumulated; NT: input gradient.
const INIT = { NN: "bias", TN: "accumulate", NT: "zero" } as const;
const TARGET: Record<Build, number> = { plain: 25, relaxed: 36 };
// The kernel tests' bounds (tests/kernels/gemm.test.ts): plain in-order f32,
// relaxed fused or not at the engine's choice.
const TOL: Record<Build | "tfjs", number> = { plain: 1e-5, relaxed: 1e-4, tfjs: 1e-4 };
const WARMUP_CALLS = 30;

const maxTime = Number(flag("max-time") ?? 2);
const withPeer = !flag("no-peer");

/** Glorot-like data, as in the tests: A in [−1, 1], B in [−1, 1]/√K, bias and C₀ in [−1, 1]. */
function data(s: Shape) {
  const { M, K, N } = s, r = 1 / Math.sqrt(K);
  return {
    a: randomArray(M * K, 11), b: randomArray(K * N, 12, -r, r),
    bias: randomArray(N, 13), c0: randomArray(M * N, 14),
  };
}

function reference(s: Shape, d: ReturnType<typeof data>): Float64Array {
  return gemmRef(d.a, d.b, s.M, s.K, s.N, {
    transA: s.v === "TN", transB: s.v === "NT",
    c0: s.v === "TN" ? d.c0 : undefined, bias: s.v === "NN" ? d.bias : undefined,
  });
}

/** max |got − want| / (|want| + 1), NaN counting as ∞. */
function worstErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + 1);
    if (!(d <= e)) e = Number.isNaN(d) ? Infinity : d;
  }
  return e;
}

function check(what: string, got: ArrayLike<number>, want: Float64Array, tol: number): number {
  const e = worstErr(got, want);
  if (!(e <= tol)) {
    console.error(`FAIL ${what}: relative error ${e.toExponential(2)} > ${tol} against the float64 reference`);
    process.exit(1);
  }
  return e;
}

/** Places one shape in k's memory; returns the call to time, checked first. */
function prepareKernel(k: Kernels, s: Shape, d: ReturnType<typeof data>, want: Float64Array): { run: () => void; err: number } {
  const { M, K, N } = s;
  let p = k.base;
  const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; }; // 64-byte aligned
  const a = take(M * K), b = take(K * N), bias = take(N), c = take(M * N);
  const scratch = take(k.gemmScratchBytes(M, K) / 4);
  k.reserve(p - k.base);
  k.f32(a, M * K).set(d.a);
  k.f32(b, K * N).set(d.b);
  k.f32(bias, N).set(d.bias);
  k.f32(c, M * N).set(d.c0);
  const args = { c, a, b, bias, M, K, N, transA: s.v === "TN", transB: s.v === "NT", init: INIT[s.v], scratch };
  k.gemm(args);
  const err = check(`${k.build} ${s.v} ${M}×${K}×${N}`, k.f32(c, M * N), want, TOL[k.build]);
  // Time the raw export: the wrapper's checks are O(1) but not what we measure.
  const raw = k.raw;
  const tA = args.transA ? 1 : 0, tB = args.transB ? 1 : 0, init = { zero: 0, accumulate: 1, bias: 2 }[args.init];
  const run = () => raw.gemm(c, a, b, bias, M, K, N, tA, tB, init, scratch);
  return { run, err };
}

/** tfjs-backend-wasm (single thread): fused matMul with bias for NN, plain
 *  matMul otherwise (tfjs has no accumulate, so TN is C = AᵀB: less work). */
function preparePeer(s: Shape, d: ReturnType<typeof data>): { run: () => void; err: number } {
  const { M, K, N } = s;
  const a = s.v === "TN" ? tf.tensor2d(d.a, [K, M]) : tf.tensor2d(d.a, [M, K]);
  const b = s.v === "NT" ? tf.tensor2d(d.b, [N, K]) : tf.tensor2d(d.b, [K, N]);
  const bias = tf.tensor1d(d.bias);
  const call = () => s.v === "NN"
    ? tf.fused.matMul({ a, b, bias })
    : tf.matMul(a, b, s.v === "TN", s.v === "NT");
  const out = call();
  const want = gemmRef(d.a, d.b, M, K, N, { transA: s.v === "TN", transB: s.v === "NT", bias: s.v === "NN" ? d.bias : undefined });
  const err = check(`tfjs-wasm ${s.v} ${M}×${K}×${N}`, out.dataSync(), want, TOL.tfjs);
  out.dispose();
  return { run: () => call().dispose(), err };
}

interface Timing { median: number; best: number; rme: number; samples: number }

/** Seconds per call: the median and the fastest of Benchmark.js's samples
 *  (each sample is the mean of a cycle of calls), after a warm-up. */
function measure(name: string, run: () => void): Timing {
  for (let i = 0; i < WARMUP_CALLS; i++) run(); // let V8 tier the wasm up
  const b = new Benchmark(name, run, { maxTime, minSamples: 20, async: false });
  b.run({ async: false });
  if (b.error) throw b.error;
  const sample = b.stats.sample;
  return { median: median(sample), best: Math.min(...sample), rme: b.stats.rme, samples: sample.length };
}

const gflops = (s: Shape, sec: number) => (2 * s.M * s.K * s.N) / sec / 1e9;

/** What the run prints, also kept for bench/results/gemm.md. */
const printed: string[] = [];
function print(line = ""): void {
  console.log(line);
  printed.push(line);
}

async function main(): Promise<void> {
  const m = machine();
  print(`GEMM benchmark — ${describeMachine(m)}`);
  if (m.loadAverage[0] > 0.5 * m.cores) {
    print(`note: load average ${m.loadAverage[0]} on ${m.cores} cores: other processes share the CPU, so times are pessimistic.`);
  }
  const kernels: Partial<Record<Build, Kernels>> = {};
  for (const build of ["plain", "relaxed"] as const) {
    const k = await loadKernels({ build });
    if (k.build !== build) {
      console.error(`FAIL: asked for the ${build} build and got ${k.build} (relaxed SIMD unavailable in this runtime)`);
      process.exit(1);
    }
    kernels[build] = k;
  }
  if (withPeer) await useBackend("wasm");

  const rows: (string | number)[][] = [];
  let misses = 0;
  for (const s of SHAPES) {
    const d = data(s);
    const want = reference(s, d);
    const peer = withPeer ? preparePeer(s, d) : undefined;
    const peerT = peer ? measure(`tfjs-wasm ${s.name}`, peer.run) : undefined;
    const peerTime = peerT ? peerT.median : NaN;
    const times: Partial<Record<Build, number>> = {};
    for (const build of ["plain", "relaxed"] as const) {
      const { run, err } = prepareKernel(kernels[build]!, s, d, want);
      const m = measure(`${build} ${s.name}`, run);
      times[build] = m.median;
      const g = gflops(s, m.median);
      const pass = g >= TARGET[build];
      if (!pass) misses++;
      rows.push([
        `${s.M}×${s.K}×${s.N} ${s.v}`, s.name, build, (m.median * 1e3).toFixed(3), g.toFixed(1),
        gflops(s, m.best).toFixed(1), `≥ ${TARGET[build]}`, pass ? "pass" : "MISS",
        build === "relaxed" ? `${(times.plain! / m.median).toFixed(2)}×` : "1.00×",
        withPeer ? `${(peerTime / m.median).toFixed(2)}×` : "–",
        `±${m.rme.toFixed(1)}%`, m.samples, err.toExponential(1),
      ]);
    }
    if (withPeer) {
      rows.push([`${s.M}×${s.K}×${s.N} ${s.v}`, s.name, "tfjs-wasm", (peerTime * 1e3).toFixed(3),
        gflops(s, peerTime).toFixed(1), gflops(s, peerT!.best).toFixed(1), "", "", "", "1.00×",
        `±${peerT!.rme.toFixed(1)}%`, peerT!.samples, peer!.err.toExponential(1)]);
    }
  }
  print();
  print(mdTable(
    ["shape M×K×N", "use", "build", "median ms", "GFLOP/s", "best GFLOP/s", "target", "result", "vs plain", "vs tfjs-wasm", "rme", "samples", "max rel err"],
    rows, ["l", "l", "l", "r", "r", "r", "r", "l", "r", "r", "r", "r", "r"],
  ));
  print();
  print("GFLOP/s = 2·M·K·N / median time; best = the fastest sample; targets are judged on the median.");
  print("vs plain / vs tfjs-wasm: that median divided by this row's (> 1 means this row is faster).");
  print("tfjs-wasm rows: tfjs-backend-wasm, one thread; its TN row computes AᵀB without accumulating onto C.");
  print(misses === 0 ? "All targets met." : `${misses} of ${2 * SHAPES.length} targets missed.`);
  print(`load average at end: ${machine().loadAverage.join(" / ")}`);
  const md = ["# GEMM benchmark (`npm run bench:gemm`)", "", "Written by bench/gemm.ts: what the run printed.", "", ...printed];
  writeFileSync(join(ROOT, "bench", "results", "gemm.md"), md.join("\n") + "\n");
  console.log("wrote bench/results/gemm.md");
}

await main();
