// The kernel call clock of bench/limit.ts and bench/iwae-step.ts: every
// kernel export of a Kernels object wrapped with performance.now() and
// process.cpuUsage() around the call (the calling thread's view: a split
// kernel's time includes its wait for the other threads), keyed by kernel and
// shape, with the call's multiply-add flops where it has any.
import type { Kernels, RawExports } from "../src/kernels/wasm.js";

export interface KernelTime {
  ms: number; cpuMs: number; calls: number; flops: number;
  /** With a `busy` reader: ms each thread spent inside this kernel's tasks. */
  busyMs?: number[];
}
const FLOP_COUNTERS: Partial<Record<keyof RawExports, (a: number[]) => { key: string; flops: number }>> = {
  gemm: (a) => ({ key: `gemm ${a[4]}×${a[5]}×${a[6]}`, flops: 2 * a[4] * a[5] * a[6] }),
  dense_forward: (a) => ({ key: `dense_forward ${a[4]}×${a[5]}→${a[6]}`, flops: 2 * a[4] * a[5] * a[6] }),
  dense_backward: (a) => ({ key: `dense_backward ${a[7]}×${a[8]}→${a[9]}${a[0] ? "" : " (no dx)"}`, flops: 2 * a[7] * a[8] * a[9] * (a[0] ? 2 : 1) }),
  conv2d_forward: (a) => ({ key: `conv2d_forward ${a[5]}×${a[6]}×${a[7]}→${a[8]}×${a[9]}×${a[10]}`, flops: 2 * a[4] * a[8] * a[9] * a[10] * a[11] * a[12] * a[7] }),
  conv2d_backward: (a) => ({ key: `conv2d_backward ${a[8]}×${a[9]}×${a[10]}→${a[11]}×${a[12]}×${a[13]}${a[0] ? "" : " (no dx)"}`, flops: 2 * a[7] * a[11] * a[12] * a[13] * a[14] * a[15] * a[10] * (a[0] ? 2 : 1) }),
  conv2d_transpose_forward: (a) => ({ key: `conv2d_transpose_forward ${a[5]}×${a[6]}×${a[7]}→${a[8]}×${a[9]}×${a[10]}`, flops: 2 * a[4] * a[5] * a[6] * a[7] * a[11] * a[12] * a[10] }),
  conv2d_transpose_backward: (a) => ({ key: `conv2d_transpose_backward ${a[8]}×${a[9]}×${a[10]}→${a[11]}×${a[12]}×${a[13]}${a[0] ? "" : " (no dx)"}`, flops: 2 * a[7] * a[8] * a[9] * a[10] * a[14] * a[15] * a[13] * (a[0] ? 2 : 1) }),
};
const UNTIMED = new Set(["memory", "heap_base", "threads_configure", "threads_control", "thread_run", "threads_inject_fault", "threads_reset", "threads_profile", "threads_job_cap", "threads_leave_last", "dense_backward_scratch_bytes", "gemm_scratch_bytes", "gemm_tile_rows", "conv_scratch_bytes"]);

/** Wraps every kernel export of k with a clock; returns the table it fills
 *  and a function that removes the wrappers. `busy`, if given, reads each
 *  thread's ms inside tasks so far (ThreadPool.busy, with profile(true)). */
export function clockKernels(k: Kernels, busy?: () => number[]): { table: Map<string, KernelTime>; undo: () => void } {
  const raw = k.raw as unknown as Record<string, unknown>;
  const table = new Map<string, KernelTime>();
  const saved: [string, unknown][] = [];
  for (const name of Object.keys(raw)) {
    const fn = raw[name];
    if (typeof fn !== "function" || UNTIMED.has(name)) continue;
    const count = FLOP_COUNTERS[name as keyof RawExports];
    saved.push([name, fn]);
    raw[name] = (...a: number[]) => {
      const b0 = busy?.(), c = process.cpuUsage(), t = performance.now();
      const r = (fn as (...x: number[]) => unknown)(...a);
      const ms = performance.now() - t, cu = process.cpuUsage(c);
      const { key, flops } = count ? count(a) : { key: name, flops: 0 };
      const e = table.get(key) ?? { ms: 0, cpuMs: 0, calls: 0, flops: 0 };
      e.ms += ms; e.cpuMs += (cu.user + cu.system) / 1e3; e.calls++; e.flops += flops;
      if (b0) {
        const b1 = busy!();
        e.busyMs ??= b1.map(() => 0);
        b1.forEach((v, i) => { e.busyMs![i] += v - b0[i]; });
      }
      table.set(key, e);
      return r;
    };
  }
  return { table, undo: () => { for (const [n, f] of saved) raw[n] = f; } };
}

