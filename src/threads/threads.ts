// Kernels on several threads: the `threads` option of VAE.create.
//
// threads > 1 loads the shared-memory twin of the build (build/vae.<build>
// .shared.wasm, the same kernels plus assembly/threads.ts), instantiates it
// on a WebAssembly.Memory({ shared: true }) and starts a ThreadPool (pool.ts)
// of threads − 1 workers on that memory. The GEMM, the activations, the
// Bernoulli likelihood and Adam then split their outputs by tiles / ranges
// inside wasm, each part computed with the one-thread loop, so every result
// is bit-identical for any thread count (the plain build's weights too).
// Work below `minWork` multiply-adds stays on the calling thread.
//
// Where threads cannot run (a browser page that is not cross-origin
// isolated: no SharedArrayBuffer), the ordinary build runs on one thread and
// `kernels.threads` is 1, with the reason in `kernels.threadsHandle.note`.
// A browser's main thread may not block: there the calling thread spins for
// the last tasks of each call; in workers (WorkerTrainer) and in Node it
// sleeps in Atomics.wait.
import { ThreadPool } from "./pool.js";
import { checkLoadOptions, compile, instantiateKernels, loadKernels, resolveBuild, type Kernels, type LoadOptions, type Variant } from "../kernels/wasm.js";
import { fail } from "../base/validate.js";

export { ThreadError } from "./pool.js";

/** Hard limit (the per-thread scratch slots in assembly/threads.ts). */
export const MAX_THREADS = 16;
/** "auto" uses the reported cores up to this many. */
export const AUTO_THREADS_CAP = 8;
/** Splitting starts at this many multiply-adds (an exp counts 8): measured
 *  with bench/threads.ts (see bench/results/threads.md). */
export const DEFAULT_MIN_WORK = 1 << 18;
/** µs a worker polls for the next job before it sleeps, and the caller for
 *  the others' last tasks: a sleeping worker takes ~0.1 ms to wake here, and
 *  the gaps between a training step's split calls are mostly shorter
 *  (bench/thread-profile.ts, bench/results/spin-ab.md). */
export const DEFAULT_SPIN_US = 500;
/** No progress for this long during a kernel call means a thread died. */
export const DEFAULT_DEADLINE_MS = 10_000;

/** Threads asked for (LoadOptions.threads): an integer in [1, MAX_THREADS],
 *  or "auto" for the cores the runtime reports, at most AUTO_THREADS_CAP. */
export type ThreadsRequest = number | "auto";

export function checkThreads(name: string, v: unknown): ThreadsRequest {
  if (v === "auto") return v;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_THREADS) {
    fail(name, `"auto" or an integer in [1, ${MAX_THREADS}]`, v);
  }
  return v;
}

const isNode = typeof process !== "undefined" && !!process.versions?.node;

/** Cores the runtime reports (Node: os.availableParallelism; browsers:
 *  navigator.hardwareConcurrency). */
export async function availableCores(): Promise<number> {
  if (isNode) {
    const os = await import("node:os");
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
}

/** Whether this runtime can run kernels on threads, and if not why. */
export function threadSupport(): {
  /** Whether threads can run (SharedArrayBuffer and workers available). */
  ok: boolean;
  /** Why not (e.g. a page that is not cross-origin isolated), or null when ok. */
  reason: string | null;
} {
  if (typeof SharedArrayBuffer === "undefined" || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return { ok: false, reason: "SharedArrayBuffer is unavailable (a browser page must be cross-origin isolated: " +
      "serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); running on one thread" };
  }
  if (!isNode && typeof Worker === "undefined") return { ok: false, reason: "this runtime has no Worker; running on one thread" };
  return { ok: true, reason: null };
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canWaitHere(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

const dropped = new FinalizationRegistry<ThreadPool>((pool) => pool.dispose());

/** How many threads a request means here. */
export async function resolveThreads(req: ThreadsRequest): Promise<number> {
  return req === "auto" ? Math.min(await availableCores(), AUTO_THREADS_CAP) : req;
}

/** Like loadKernels, with `options.threads` (default "auto"): more than one
 *  thread loads the shared build and starts its pool. */
export async function loadThreadedKernels(opts?: LoadOptions): Promise<Kernels> {
  const options = checkLoadOptions(opts);   // named errors before anything is loaded
  const n = await resolveThreads(checkThreads("threads", options.threads === undefined ? "auto" : options.threads));
  if (n <= 1) return loadKernels(options);
  const build = await resolveBuild(options);
  const variant: Variant = `${build}.shared`;
  // bytes given for the build but not for its shared twin: run them, on one thread
  const support = options.wasm?.[build] !== undefined && options.wasm?.[variant] === undefined
    ? { ok: false, reason: `options.wasm gives the "${build}" build but not its shared-memory twin "${variant}", so it runs on one thread` }
    : threadSupport();
  if (!support.ok) {
    const k = await loadKernels(options);
    k.threadsHandle = { threads: 1, size: 1, note: support.reason ?? null, configure() {}, dispose() {} };
    return k;
  }
  const module = await compile(variant, options.wasm?.[variant]);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  let pool: ThreadPool | undefined;
  const kernels = await instantiateKernels(variant, build, options.wasm?.[variant], {
    memory,
    thread_now: () => performance.timeOrigin + performance.now(), // one clock on every thread (profile's wake times)
    thread_fail: (code: number, worker: number) => pool!.fail(code, worker),
  });
  kernels.reserve(0); // the control block and per-thread scratch lie below base
  pool = new ThreadPool(module, memory, kernels.raw, n, {
    canWait: canWaitHere(), minWork: DEFAULT_MIN_WORK, deadlineMs: DEFAULT_DEADLINE_MS, spinUs: DEFAULT_SPIN_US,
  });
  kernels.threadsHandle = pool;
  // a model dropped without dispose(): its workers (which hold the memory)
  // stop when its kernels are collected (the pool does not reference them)
  dropped.register(kernels, pool);
  try {
    await pool.start();
  } catch (e) {
    pool.note = `threads could not start (${(e as Error).message}); running on one thread`;
  }
  return kernels;
}
