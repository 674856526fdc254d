// Record and replay of a call's kernel calls (bench/infer-host.ts and the
// inference breakdown of bench/limit.ts): every kernel export a function
// calls is recorded with its arguments; replaying them calls the same
// exports on the same memory with nothing between them, so the time of the
// call minus the time of its replay is the host's (validation, copies,
// allocation, the TypeScript between kernels), without a clock around every
// kernel call. Replays only make sense for calls whose kernels read and write
// the arena alone (inference: the same inputs give the same work).
import type { Kernels } from "../src/kernels/wasm.js";

export interface RecordedCall { name: string; args: number[]; run: () => unknown }

/** Runs fn once with every kernel export of k recorded; returns the calls in order. */
export function recordKernelCalls(k: Kernels, fn: () => unknown): RecordedCall[] {
  const raw = k.raw as unknown as Record<string, (...a: number[]) => unknown>;
  const calls: RecordedCall[] = [];
  const saved = Object.entries(raw).filter(([n, f]) => typeof f === "function" && !n.startsWith("threads_") && n !== "heap_base");
  for (const [name, f] of saved) {
    raw[name] = (...args: number[]) => {
      calls.push({ name, args, run: () => f(...args) });
      return f(...args);
    };
  }
  try { fn(); } finally { for (const [n, f] of saved) raw[n] = f; }
  return calls;
}
