// The helper threads of one shared-memory kernel instance: T − 1 workers
// (worker_threads in Node, Web Workers in browsers), each instantiating the
// same compiled module on the same WebAssembly.Memory and sleeping in the
// module's thread_run (assembly/threads.ts) until the calling thread
// publishes a job. Nothing here runs per kernel call: splitting, waking and
// waiting happen inside wasm with atomics.
//
// Death: a worker that traps or throws marks DEAD in the control block and
// wakes the caller, which ends the call with thread_fail → ThreadError; a
// worker that stops without a word is caught by the caller's no-progress
// deadline (the same error). After either, the kernels run on the calling
// thread while every worker is replaced; a worker that exits between calls
// (it held no task) is replaced silently. Workers are unref'd in Node, so
// they never keep a process alive; dispose() stops them.

/** A helper thread died or stopped answering during a kernel call. */
export class ThreadError extends Error {
  /** "ThreadError". */
  override name = "ThreadError";
}

import type { RawExports } from "../kernels/wasm.js";

// Byte offsets of control words (assembly/threads.ts).
const DEAD = 32, SHUTDOWN = 64, SEQ = 0, DONE = 16, JOBS = 68, WORKER_TASKS = 72, SPLIT_MS = 80, WAIT_MS = 88;
const BUSY_MS = 512, BUSY_TASKS = 640, WAKE_MS = 704, JOINED = 832, SLEEPS = 896;

/** The worker script, plain JS (no bundler helpers): instantiate, say ready,
 *  run thread_run(id); on a trap mark DEAD (id + 1) and wake the caller. */
const THREAD_MAIN = `
function threadMain(post, data) {
  var memory = data.memory, id = data.id, ctrl = data.ctrl;
  var env = {
    memory: memory,
    thread_now: function () { return performance.timeOrigin + performance.now(); },
    thread_fail: function () { throw new Error("thread_fail on a worker"); },
    abort: function () { throw new Error("kernel assertion failed on a worker"); }
  };
  WebAssembly.instantiate(data.module, { env: env }).then(function (inst) {
    post({ type: "ready", id: id });
    try {
      inst.exports.thread_run(id);
      post({ type: "exit", id: id });
    } catch (e) {
      var w = new Int32Array(memory.buffer, ctrl, 32);
      Atomics.store(w, ${DEAD / 4}, id + 1);
      Atomics.notify(w, ${DONE / 4});
      post({ type: "error", id: id, message: String(e && e.message || e) });
    }
  }, function (e) { post({ type: "error", id: id, message: String(e && e.message || e) }); });
}`;

const NODE_SOURCE = `${THREAD_MAIN}
const { parentPort } = require("node:worker_threads");
parentPort.once("message", (d) => threadMain((m) => parentPort.postMessage(m), d));`;

const BROWSER_SOURCE = `${THREAD_MAIN}
self.onmessage = function (e) { self.onmessage = null; threadMain(function (m) { self.postMessage(m); }, e.data); };`;

const isNode = typeof process !== "undefined" && !!process.versions?.node;

interface Thread {
  id: number;
  terminate(): void;
  post(msg: unknown): void;
  /** Set by the pool: called with "ready", "exit" or "error" messages and on exit. */
  on(fn: (m: { type: string; id: number; message?: string }) => void): void;
  /** Node: stop keeping the process alive. */
  unref(): void;
}

async function spawn(id: number): Promise<Thread> {
  let handler: (m: { type: string; id: number; message?: string }) => void = () => {};
  if (isNode) {
    const { Worker } = await import("node:worker_threads");
    const w = new Worker(NODE_SOURCE, { eval: true, name: `wasm-vae thread ${id}` } as ConstructorParameters<typeof Worker>[1]);
    w.on("message", (m) => handler(m));
    w.on("error", (e) => handler({ type: "error", id, message: e.message }));
    w.on("exit", (code) => handler({ type: "exit", id, message: `exit code ${code}` }));
    // unref only once ready (before, nothing else may keep the process alive
    // while it waits), and after the listeners: adding one refs again
    return { id, terminate: () => void w.terminate(), post: (m) => w.postMessage(m), on: (fn) => { handler = fn; }, unref: () => w.unref() };
  }
  const url = URL.createObjectURL(new Blob([BROWSER_SOURCE], { type: "text/javascript" }));
  const w = new Worker(url, { name: `wasm-vae thread ${id}` });
  URL.revokeObjectURL(url);
  w.onmessage = (e) => handler(e.data);
  w.onerror = (e) => { e.preventDefault?.(); handler({ type: "error", id, message: e.message }); };
  return { id, terminate: () => w.terminate(), post: (m) => w.postMessage(m), on: (fn) => { handler = fn; }, unref: () => {} };
}

export interface PoolSettings {
  canWait: boolean;
  minWork: number;
  deadlineMs: number;
  /** µs a thread polls before it sleeps (0: sleep at once). */
  spinUs: number;
}

/** @internal */
export class ThreadPool {
  /** Threads taking part now (the caller included); 1 while workers are
   *  being replaced or after the pool gave up. */
  threads = 1;
  /** Workers replaced after dying (the pool gives up after MAX_RESTARTS). */
  restarts = 0;
  note: string | null = null;
  private workers: (Thread | null)[] = [];
  private disposed = false;
  private restarting: Promise<void> | null = null;
  static readonly MAX_RESTARTS = 8;

  constructor(private readonly module: WebAssembly.Module, private readonly memory: WebAssembly.Memory,
              private readonly raw: Pick<RawExports, "threads_configure" | "threads_control" | "threads_reset" | "threads_inject_fault" | "threads_profile" | "threads_leave_last">,
              readonly size: number, private readonly settings: PoolSettings) {
  }

  /** Spawns the size − 1 workers and waits until each has instantiated. */
  async start(): Promise<void> {
    const started = await Promise.allSettled(Array.from({ length: this.size - 1 }, (_, i) => this.startWorker(i + 1)));
    const failed = started.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) {
      this.dispose();
      throw failed.reason;
    }
    if (!this.disposed) this.configure(this.size);
  }

  private startWorker(id: number): Promise<void> {
    return spawn(id).then((t) => new Promise<void>((resolve, reject) => {
      let ready = false;
      t.on((m) => {
        if (m.type === "ready") {
          ready = true;
          t.unref();
          resolve();
          return;
        }
        if (!ready) {
          reject(new ThreadError(`wasm-vae: thread ${id} could not start: ${m.message ?? m.type}`));
          return;
        }
        this.lost(id, t, m.message ?? m.type);
      });
      this.workers[id] = t;
      t.post({ module: this.module, memory: this.memory, id, ctrl: this.raw.threads_control() });
    }));
  }

  /** Sets the threads taking part (≤ size) and the split settings in wasm. */
  configure(threads: number): void {
    this.threads = Math.max(1, Math.min(threads, this.size));
    const s = this.settings;
    this.raw.threads_configure(this.threads, s.canWait ? 1 : 0, s.minWork, s.deadlineMs, s.spinUs);
  }

  /** Changes minWork, deadlineMs or spinUs (bench and tests). */
  tune(s: Partial<PoolSettings>): void {
    Object.assign(this.settings, s);
    this.configure(this.threads);
  }

  /** A worker exited or failed outside a kernel call: it held no task, so
   *  nothing is lost; replace it. */
  private lost(id: number, t: Thread, why: string): void {
    if (this.disposed || this.workers[id] !== t) return;
    t.terminate();
    this.workers[id] = null;
    this.note = `thread ${id} stopped (${why})`;
    this.restart();
  }

  /** thread_fail from wasm (on the calling thread, inside a kernel call):
   *  run on one thread from now on, replace the workers, throw. */
  fail(code: number, worker: number): never {
    const what = code === 1 ? `thread ${worker} died` : `a thread made no progress for ${this.settings.deadlineMs} ms`;
    this.note = what;
    this.configure(1);
    for (const [id, w] of this.workers.entries()) if (w) { w.terminate(); this.workers[id] = null; }
    this.restart();
    throw new ThreadError(`wasm-vae: ${what} during a kernel call; the call's outputs (and, during a training step, ` +
      "the weights and optimizer state) are incomplete: reload a checkpoint or re-create the model. " +
      "The kernels now run on the calling thread while the threads restart.");
  }

  /** Replaces missing workers (in the background), then splits again. */
  private restart(): void {
    if (this.restarting || this.disposed) return;
    this.configure(1);
    if (++this.restarts > ThreadPool.MAX_RESTARTS) {
      this.note = `threads kept dying (${this.restarts - 1} restarts): running on one thread`;
      this.dispose();
      return;
    }
    this.restarting = (async () => {
      this.raw.threads_reset();
      const missing = [];
      for (let id = 1; id < this.size; id++) if (!this.workers[id]) missing.push(this.startWorker(id));
      await Promise.all(missing);
      if (!this.disposed) this.configure(this.size);
    })().catch((e: Error) => {
      this.note = `threads could not restart (${e.message}): running on one thread`;
      this.dispose();
    }).finally(() => { this.restarting = null; });
  }

  /** Resolves once no restart is under way. */
  async settled(): Promise<void> {
    while (this.restarting) await this.restarting;
  }

  /** Counters since the start: kernel calls split over threads, tasks the
   *  workers (not the calling thread) ran, the calling thread's ms in split
   *  calls and the part of it spent waiting for the others' last tasks. */
  stats(): { splitCalls: number; workerTasks: number; splitMs: number; waitMs: number } {
    const c = new Int32Array(this.memory.buffer, this.raw.threads_control(), 32);
    const f = new Float64Array(this.memory.buffer, this.raw.threads_control(), 16);
    return { splitCalls: Atomics.load(c, JOBS / 4), workerTasks: Atomics.load(c, WORKER_TASKS / 4),
      splitMs: f[SPLIT_MS / 8], waitMs: f[WAIT_MS / 8] };
  }

  /** Starts (clearing the sums) or stops timing each task on each thread:
   *  two clock reads per task, for bench/ (bench/thread-profile.ts). */
  profile(on: boolean): void {
    this.raw.threads_profile(on ? 1 : 0);
  }

  /** Per thread (0 = the calling thread, then the workers), since
   *  profile(true): ms inside the tasks of split calls and tasks run (a
   *  kernel call below minWork runs without tasks and counts nowhere); per
   *  worker, ms from each job's publication until it saw the job, jobs seen,
   *  and sleeps taken between jobs. */
  busy(): { ms: number[]; tasks: number[]; wakeMs: number[]; joined: number[]; sleeps: number[] } {
    const base = this.raw.threads_control(), buf = this.memory.buffer, n = this.size;
    const f64 = (at: number) => Array.from(new Float64Array(buf, base + at, n));
    const i32 = (at: number) => Array.from(new Int32Array(buf, base + at, n));
    return { ms: f64(BUSY_MS), tasks: i32(BUSY_TASKS), wakeMs: f64(WAKE_MS), joined: i32(JOINED), sleeps: i32(SLEEPS) };
  }

  /** Test hook: terminates worker `id` as an outside kill would (between
   *  kernel calls); the pool replaces it. */
  kill(id: number): void {
    const t = this.workers[id];
    if (t) this.lost(id, t, "killed");
  }

  /** Test hook: the worker `id` traps (mode 1) or hangs (mode 2) at its next task. */
  injectFault(id: number, mode: 1 | 2): void {
    this.raw.threads_inject_fault(id, mode);
  }

  /** Test hook: the calling thread leaves the last task of every split job
   *  to the workers and waits for it (on) or claims every task it can (off),
   *  so tests that ask whether workers ran tasks hold on a busy machine. */
  leaveLastTask(on: boolean): void {
    this.raw.threads_leave_last(on ? 1 : 0);
  }

  /** Stops every worker; the kernels keep running on the calling thread. */
  dispose(): void {
    if (this.disposed) return;
    this.configure(1);
    this.disposed = true;
    const c = new Int32Array(this.memory.buffer, this.raw.threads_control(), 32);
    Atomics.store(c, SHUTDOWN / 4, 1);
    Atomics.add(c, SEQ / 4, 0);
    Atomics.notify(c, SEQ / 4);
    for (const w of this.workers) w?.terminate();
    this.workers = [];
  }
}
