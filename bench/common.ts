// Shared pieces of the benchmark scripts (bench/run.ts, bench/train.ts):
// the machine description, statistics, a Benchmark.js runner that returns
// the median and the relative margin of error, tfjs backend set-up (cpu and
// single-threaded wasm, checked), relative-error helpers for the correctness
// gates, and Markdown table formatting.
// Not here: any timing policy (each script picks its own options).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Benchmark from "benchmark";
import * as tf from "@tensorflow/tfjs-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

// ------------------------------------------------------------------ machine

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  v8: string;
  platform: string;
  loadAverage: number[];
  date: string;
  /** The code measured: git commit, and whether src/ or assembly/ had uncommitted changes. */
  code: string;
}

function codeVersion(): string {
  try {
    const git = (args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const head = git(["rev-parse", "--short", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--", "src", "assembly"]) !== "";
    return `commit ${head}${dirty ? " + uncommitted changes in src/ or assembly/" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() || "unknown",
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
    code: codeVersion(),
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (V8 ${m.v8}), ${m.platform}; ` +
    `load average at start ${m.loadAverage.join(" / ")}; ${m.date}; code: ${m.code}`;
}

// ------------------------------------------------- who else used the CPUs

/** A point in time: wall ms, this process's CPU ms, and (Linux, /proc/stat)
 *  the whole machine's busy and stolen CPU ms (steal: time the hypervisor gave
 *  our virtual CPUs to someone else). */
export interface CpuSnap { wall: number; own: number; busy?: number; steal?: number }

function procStat(): { busy: number; steal: number } | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const tick = 1000 / 100; // USER_HZ: 100 on every Linux ABI Node runs on
    // user nice system idle iowait irq softirq steal
    return { busy: (f[0] + f[1] + f[2] + f[5] + f[6]) * tick, steal: f[7] * tick };
  } catch {
    return undefined;
  }
}

export function cpuSnap(): CpuSnap {
  const c = process.cpuUsage(), p = procStat();
  return { wall: performance.now(), own: (c.user + c.system) / 1e3, busy: p?.busy, steal: p?.steal };
}

/** Since `s`: wall ms, this process's cores (CPU / wall), other processes'
 *  cores and stolen cores (NaN where /proc/stat is missing; /proc/stat
 *  counts in 10 ms ticks, so intervals under ~0.5 s are coarse); busy: the
 *  interval was disturbed (others + stolen over 0.15 of a core beyond the
 *  ticks' error). */
export function cpuSince(s: CpuSnap): { wall: number; cores: number; others: number; stolen: number; busy: boolean } {
  const e = cpuSnap(), wall = e.wall - s.wall;
  const others = e.busy !== undefined && s.busy !== undefined ? Math.max(0, e.busy - s.busy - (e.own - s.own)) / wall : NaN;
  const stolen = e.steal !== undefined && s.steal !== undefined ? (e.steal - s.steal) / wall : NaN;
  // busy: others + stolen above 0.15 of a core, beyond what the ticks can misread (two 10 ms ticks per CPU)
  return { wall, cores: (e.own - s.own) / wall, others, stolen, busy: others + stolen > 0.15 + 40 / wall };
}

// --------------------------------------------------------------- statistics

export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

/** Median wall time (ms) of fn over `reps` calls after `warmup` calls. */
export function timeMedian(fn: () => unknown, reps: number, warmup = Math.ceil(reps / 5)): { median: number; min: number; samples: number[] } {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return { median: median(samples), min: Math.min(...samples), samples };
}

// -------------------------------------------------------------- Benchmark.js

export interface BenchOptions {
  /** Seconds Benchmark.js keeps sampling (default 1.5). */
  maxTime?: number;
  /** Fewest samples (default 5). */
  minSamples?: number;
}

export interface Measured {
  /** Median seconds per call over Benchmark.js's samples. */
  median: number;
  mean: number;
  /** Relative margin of error of the mean, percent (stats.rme). */
  rme: number;
  samples: number;
  /** Calls in all. */
  calls: number;
}

/** Runs one Benchmark.js benchmark synchronously; throws what fn threw. */
export function runBenchmark(name: string, fn: () => unknown, o: BenchOptions = {}): Measured {
  const b = new Benchmark(name, fn, {
    maxTime: o.maxTime ?? 1.5,
    minSamples: o.minSamples ?? 5,
    async: false,
  });
  b.run({ async: false });
  if (b.error) throw b.error;
  const s = b.stats;
  return { median: median(s.sample), mean: s.mean, rme: s.rme, samples: s.sample.length, calls: b.count * s.sample.length };
}

// --------------------------------------------------------------------- tfjs

let tfReady: Promise<TfInfo> | null = null;

export interface TfInfo {
  version: string;
  wasmBinary: string;
  wasmThreads: number;
  wasmSimd: boolean;
}

/** Registers the cpu and wasm backends (wasm: single thread, wasm files from
 *  node_modules), registers tfjs-core's gradients, and checks that the wasm
 *  backend really initialises with one thread and the SIMD binary. */
export function initTfjs(): Promise<TfInfo> {
  tfReady ??= (async () => {
    // tfjs-core alone registers no gradient functions (the union package
    // @tensorflow/tfjs imports this file). Its ESM dist uses extensionless
    // imports that Node's ESM resolver rejects, so it is required (tsx
    // compiles it to CommonJS); the registry it fills is tfjs's global one.
    require("@tensorflow/tfjs-core/dist/register_all_gradients.js");
    await import("@tensorflow/tfjs-backend-cpu");
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const dir = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/";
    wasm.setWasmPaths(dir);
    wasm.setThreadsCount(1);
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") as boolean;
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT") as boolean;
    if (!(await tf.setBackend("wasm")) || tf.getBackend() !== "wasm") {
      throw new Error(`tfjs-backend-wasm did not initialise from ${dir}`);
    }
    // a real kernel call through the backend
    const t = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
    const v = t.dataSync();
    tf.dispose(t);
    if (v[0] !== 3) throw new Error(`tfjs-backend-wasm computed ${v[0]} for a 2×3·3×2 matMul of ones (expected 3)`);
    const n = wasm.getThreadsCount();
    if (n !== 1) throw new Error(`tfjs-backend-wasm runs ${n} threads; the comparison is single-threaded`);
    if (!(await tf.setBackend("cpu")) || tf.getBackend() !== "cpu") throw new Error("tfjs-backend-cpu did not initialise");
    const binary = simd ? (threads ? "tfjs-backend-wasm-threaded-simd.wasm" : "tfjs-backend-wasm-simd.wasm") : "tfjs-backend-wasm.wasm";
    return { version: tf.version_core, wasmBinary: binary, wasmThreads: n, wasmSimd: simd };
  })();
  return tfReady;
}

export type TfBackend = "cpu" | "wasm";

export async function useBackend(b: TfBackend): Promise<void> {
  await initTfjs();
  if (tf.getBackend() !== b && !(await tf.setBackend(b))) throw new Error(`tfjs backend ${b} failed to start`);
}

// ------------------------------------------------------------------ checking

/** ‖a − b‖ / ‖b‖ (b the reference); 0 when both are 0. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relError: lengths ${a.length} and ${b.length} differ`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  if (!Number.isFinite(num)) return Infinity;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

export class GateError extends Error {
  override name = "GateError";
}

// ---------------------------------------------------------------- formatting

export function fmtMs(sec: number): string {
  const ms = sec * 1000;
  if (!Number.isFinite(ms)) return "–";
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  if (ms >= 0.01) return ms.toFixed(3);
  return ms.toPrecision(2);
}

export function fmtNum(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  const top = 1 - 0.5 * 10 ** -digits;   // 999.6 would print as "1.00e+3"
  if (a >= 1e9 * top) return `${(x / 1e9).toPrecision(digits)} G`;
  if (a >= 1e6 * top) return `${(x / 1e6).toPrecision(digits)} M`;
  if (a >= 1e3 * top) return `${(x / 1e3).toPrecision(digits)} k`;
  return x.toPrecision(digits);
}

export function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "–";
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}

export function fmtBytes(n: number): string {
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A Markdown table (also readable as plain text). */
export function mdTable(header: string[], rows: (string | number)[][], align?: ("l" | "r")[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? "").length)));
  const al = align ?? header.map((_, j) => (j === 0 ? "l" : "r"));
  const line = (r: string[]) => "| " + r.map((c, j) => (al[j] === "l" ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join(" | ") + " |";
  const sep = "| " + widths.map((w, j) => (al[j] === "l" ? ":" + "-".repeat(Math.max(1, w - 1)) : "-".repeat(Math.max(1, w - 1)) + ":")).join(" | ") + " |";
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join("\n");
}

/** Value of `--name=value` / `--name value`, true for a bare `--name`. */
export function flag(name: string, argv = process.argv.slice(2)): string | boolean | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) {
      const next = argv[i + 1];
      return next !== undefined && !next.startsWith("--") ? next : true;
    }
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}
