// The thread tests' kernel modules: one-thread (the ordinary build) and the
// shared build on each given thread count, every call split (minWork 0) and
// each job's last task left to the workers (so they run tasks however busy
// the machine is), each with an arena; loaded before the suite's tests, disposed after them.
import { afterAll, beforeAll } from "vitest";
import type { ThreadPool } from "../../src/threads/pool.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import type { Build, Kernels } from "../../src/kernels/wasm.js";
import { Arena, load } from "../kernels/helpers.js";

export interface Mod { k: Kernels; arena: Arena; pool: ThreadPool | null }

/** Modules by thread count (1 and each of `threads`); `beforeDispose` runs
 *  on each threaded one before it is disposed (e.g. to check its stats). */
export function threadedMods(build: Build, threads: readonly number[], arenaBytes: number,
                             beforeDispose?: (t: number, m: Mod) => void): Map<number, Mod> {
  const mods = new Map<number, Mod>();
  beforeAll(async () => {
    for (const t of [1, ...threads]) {
      const k = t === 1 ? await load(build) : await loadThreadedKernels({ build, threads: t });
      const pool = k.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      pool?.leaveLastTask(true);
      mods.set(t, { k, arena: new Arena(k, arenaBytes), pool });
    }
  });
  afterAll(() => {
    for (const t of threads) {
      const m = mods.get(t)!;
      beforeDispose?.(t, m);
      m.k.dispose();
    }
  });
  return mods;
}
