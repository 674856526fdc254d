// The thread control block's layout (assembly/threads.ts), read from the
// source: every field inside CTRL_BYTES, none overlapping another, each
// aligned to its size; the per-thread profile counters (MAX_THREADS of them:
// f64 BUSY_MS and WAKE_MS, i32 BUSY_TASKS, JOINED, SLEEPS) included, for the
// MAX_THREADS the host allows (src/threads/threads.ts). And the host's
// copies of the offsets (src/threads/pool.ts, which reads the counters and
// marks DEAD / SHUTDOWN) are the assembly's.
// Not here: the counters' values (profile.test.ts).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_THREADS } from "../../src/threads/threads.js";

const text = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** `@inline [export] const NAME: usize|i32 = <n or n << m>;` of assembly/threads.ts. */
function asmConstants(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text("assembly/threads.ts").matchAll(/^@inline (?:export )?const ([A-Z_]+): (?:usize|i32) = (\d+)(?: << (\d+))?;/gm)) {
    out.set(m[1], Number(m[2]) * 2 ** Number(m[3] ?? 0));
  }
  return out;
}

/** The `const NAME = n, …;` lines of src/threads/pool.ts. */
function poolConstants(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text("src/threads/pool.ts").matchAll(/^const ((?:[A-Z_]+ = \d+(?:, )?)+);$/gm)) {
    for (const m of line[1].matchAll(/([A-Z_]+) = (\d+)/g)) out.set(m[1], Number(m[2]));
  }
  return out;
}

// Bytes of each field: one word, or one per thread
const I32 = ["SEQ", "DONE", "NTASKS", "TASK", "FLAG", "DEAD", "THREADS", "CANWAIT", "MINWORK", "DEADLINE", "SPIN", "FAULT",
  "FAULTMODE", "SHUTDOWN", "JOBS", "WORKER_TASKS", "LEAVE", "PROFILE", "JOB_BASE", "JOB_CAP", "WORK"];
const WORD8 = ["NEXT", "SPLIT_MS", "WAIT_MS", "JOB_AT"];
const ARGS = 48;
const PER_THREAD8 = ["BUSY_MS", "WAKE_MS"], PER_THREAD4 = ["BUSY_TASKS", "JOINED", "SLEEPS"];

describe("thread control block", () => {
  const c = asmConstants();

  it("MAX_THREADS is the host's", () => {
    expect(c.get("MAX_THREADS")).toBe(MAX_THREADS);
  });

  it("every field inside CTRL_BYTES, aligned, none overlapping", () => {
    const T = c.get("MAX_THREADS")!, ctrl = c.get("CTRL_BYTES")!;
    const fields: [string, number, number, number][] = [ // name, start, bytes, alignment
      ...I32.map((n) => [n, c.get(n)!, 4, 4] as [string, number, number, number]),
      ...WORD8.map((n) => [n, c.get(n)!, 8, 8] as [string, number, number, number]),
      ["ARGS", c.get("ARGS")!, 8 * ARGS, 8],
      ...PER_THREAD8.map((n) => [n, c.get(n)!, 8 * T, 8] as [string, number, number, number]),
      ...PER_THREAD4.map((n) => [n, c.get(n)!, 4 * T, 4] as [string, number, number, number]),
    ];
    for (const [name, at] of fields) expect(at, `${name} is declared`).toBeTypeOf("number");
    for (const [name, at, bytes, align] of fields) {
      expect(at % align, `${name} at ${at} aligned to ${align}`).toBe(0);
      expect(at + bytes, `${name} (${bytes} bytes at ${at}) inside CTRL_BYTES`).toBeLessThanOrEqual(ctrl);
    }
    const sorted = [...fields].sort((a, b) => a[1] - b[1]);
    for (let i = 1; i < sorted.length; i++) {
      const [pn, pa, pb] = sorted[i - 1], [n, a] = sorted[i];
      expect(pa + pb, `${pn} (${pb} bytes at ${pa}) ends before ${n} at ${a}`).toBeLessThanOrEqual(a);
    }
    // per-thread scratch follows the block, 64-aligned
    expect(ctrl % 64).toBe(0);
  });

  it("the host's offsets (pool.ts) are the assembly's", () => {
    const p = poolConstants();
    expect([...p.keys()].sort()).toEqual(["BUSY_MS", "BUSY_TASKS", "DEAD", "DONE", "JOBS", "JOINED", "SEQ", "SHUTDOWN", "SLEEPS", "SPLIT_MS", "WAIT_MS", "WAKE_MS", "WORKER_TASKS"]);
    for (const [name, at] of p) expect(at, name).toBe(c.get(name));
  });
});
