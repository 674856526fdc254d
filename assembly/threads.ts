// Threads on one shared memory (the *.shared.wasm builds; in the plain and
// relaxed builds ASC_FEATURE_THREADS is false and everything here folds to
// "run on the calling thread").
//
// A kernel that can split its output calls parallelFor(task, ntasks): task t
// writes one disjoint part of the output with exactly the loop it would run on
// one thread, so the result does not depend on which thread ran which task or
// on how many threads there are. The calling thread publishes the job in the
// control block, wakes the workers (memory.atomic.notify), claims tasks from
// the front while the workers claim from the back, then waits for the last one
// to finish. Workers (host Web Workers / worker_threads, one instance each of
// this module on the same memory) poll for the next job for SPIN µs after
// their last task, then sleep in memory.atomic.wait32 in thread_run.
//
// Control block at CTRL (64-aligned, after static data; never in a data
// segment, so a worker instantiating later cannot clobber it):
//   i32 SEQ       job generation; workers sleep on it
//   i64 NEXT      (seq << 32) | (back << 16) | front: the unclaimed tasks
//                 are [front, back); the calling thread claims from the front,
//                 workers from the back (so with two threads each keeps the
//                 same half of a job's output from call to call, and the data
//                 it last wrote stays in its own caches); claims CAS it, so a
//                 claim made with a stale seq always fails
//   i32 DONE      tasks finished in the current job
//   i32 NTASKS, TASK (function pointer of the job), FLAG (OR of task results)
//   i32 DEAD      id + 1 of a worker that died (set by the host), else 0
//   i32 THREADS   threads taking part (1 = never split), set by the host
//   i32 CANWAIT   1 if the calling thread may memory.atomic.wait (not a
//                 browser's main thread: it spins for the tail instead)
//   i32 MINWORK   below this many multiply-adds (or elements ×16), run inline
//   i32 DEADLINE  ms without progress after which the caller gives up
//   i32 SPIN      µs a thread spins (polls) before it sleeps: a worker after
//                 its last task, the caller waiting for the others' last
//   i32 FAULT, FAULTMODE  test hook: worker FAULT-1 traps (1) or hangs (2)
//   i32 SHUTDOWN  workers return from thread_run
//   i32 JOBS, WORKER_TASKS  counters: split calls, tasks run by workers
//   i32 LEAVE     test hook: 1 = the calling thread leaves each job's last
//                 task to the workers, so workers run tasks in every split
//                 call however the OS schedules the threads
//   f64 SPLIT_MS, WAIT_MS  the caller's time in split calls, and the part of
//                 it spent waiting for other threads after its own tasks
//   i32 PROFILE   1: each thread adds its tasks' time to BUSY_MS[id] (two
//                 clock reads per task, so off unless a bench asks)
//   f64 ARGS[48]  the job's arguments (pointers, counts, scalars)
//   i32 JOB_BASE  the first task number of the current job (a parallelFor of
//                 more than MAX_JOB tasks runs as several jobs)
//   i32 JOB_CAP   test hook: jobs of at most this many tasks (0: MAX_JOB)
//   i32 WORK      a job's own work counter (workReset / workNext): tasks that
//                 claim units of work in turn (conv.ts: one task per slot)
//   f64 JOB_AT    when the current job was published
//   f64 BUSY_MS[MAX_THREADS], i32 BUSY_TASKS[MAX_THREADS]  per thread (0 =
//                 the calling thread): ms inside tasks and tasks run, while
//                 PROFILE is on
//   f64 WAKE_MS[MAX_THREADS], i32 JOINED[MAX_THREADS], SLEEPS[MAX_THREADS]
//                 per worker, PROFILE on: ms from a job's publication to the
//                 worker seeing it, jobs seen, and sleeps (futex waits) taken
//                 between jobs (the host's clock is epoch ms on every thread)
// Per-thread scratch: THREAD_SCRATCH bytes per thread after the block.

// @ts-ignore: decorator
@inline export const MAX_THREADS: i32 = 16;
// @ts-ignore: decorator
@inline export const THREAD_SCRATCH: usize = 64 << 10;
// @ts-ignore: decorator
@inline const CTRL_BYTES: usize = 1024;

// @ts-ignore: decorator
@inline const SEQ: usize = 0;
// @ts-ignore: decorator
@inline const NEXT: usize = 8;
// @ts-ignore: decorator
@inline const DONE: usize = 16;
// @ts-ignore: decorator
@inline const NTASKS: usize = 20;
// @ts-ignore: decorator
@inline const TASK: usize = 24;
// @ts-ignore: decorator
@inline const FLAG: usize = 28;
// @ts-ignore: decorator
@inline const DEAD: usize = 32;
// @ts-ignore: decorator
@inline const THREADS: usize = 36;
// @ts-ignore: decorator
@inline const CANWAIT: usize = 40;
// @ts-ignore: decorator
@inline const MINWORK: usize = 44;
// @ts-ignore: decorator
@inline const DEADLINE: usize = 48;
// @ts-ignore: decorator
@inline const SPIN: usize = 52;
// @ts-ignore: decorator
@inline const FAULT: usize = 56;
// @ts-ignore: decorator
@inline const FAULTMODE: usize = 60;
// @ts-ignore: decorator
@inline const SHUTDOWN: usize = 64;
// @ts-ignore: decorator
@inline const JOBS: usize = 68;
// @ts-ignore: decorator
@inline const WORKER_TASKS: usize = 72;
// @ts-ignore: decorator
@inline const LEAVE: usize = 76;
// @ts-ignore: decorator
@inline const SPLIT_MS: usize = 80;
// @ts-ignore: decorator
@inline const WAIT_MS: usize = 88;
// @ts-ignore: decorator
@inline const PROFILE: usize = 96;
// @ts-ignore: decorator
@inline const JOB_AT: usize = 104;
// @ts-ignore: decorator
@inline const JOB_BASE: usize = 100;
// @ts-ignore: decorator
@inline const ARGS: usize = 128;
// @ts-ignore: decorator
@inline const BUSY_MS: usize = 512;
// @ts-ignore: decorator
@inline const BUSY_TASKS: usize = 640;
// @ts-ignore: decorator
@inline const WAKE_MS: usize = 704;
// @ts-ignore: decorator
@inline const JOINED: usize = 832;
// @ts-ignore: decorator
@inline const SLEEPS: usize = 896;

/** Host clock in ms (performance.now) and the host's error for a dead worker
 *  (throws; code 1: a worker died, 2: no progress within the deadline). */
// @ts-ignore: decorator
@external("env", "thread_now") declare function thread_now(): f64;
// @ts-ignore: decorator
@external("env", "thread_fail") declare function thread_fail(code: i32, worker: i32): void;

/** A task: writes part t of the job's output; returns flags to OR together. */
export type Task = (t: i32, scratch: usize) => i32;

// Per instance (so per thread): wasm globals are not shared.
let isWorker = false;
let myScratch: usize = 0;
// The calling thread is running tasks of a job it published: a kernel called
// from one of them runs on this thread alone (as on a worker).
let inJob = false;
// workNext's counter where there is no control block (unshared builds).
let workLocal: i32 = 0;

// @ts-ignore: decorator
@inline function ctrl(): usize {
  return (__heap_base + 63) & ~<usize>63;
}

/** First byte after the control block and the per-thread scratch. */
export function threads_end(): usize {
  if (!ASC_FEATURE_THREADS) return ctrl();
  return ctrl() + CTRL_BYTES + <usize>MAX_THREADS * THREAD_SCRATCH;
}

function scratchOf(id: i32): usize {
  return ctrl() + CTRL_BYTES + <usize>id * THREAD_SCRATCH;
}

/** Whether work of this size should be split: threads are on, this is the
 *  calling thread (a task never splits again) and the work is big enough. */
export function shouldSplit(work: f64): bool {
  if (!ASC_FEATURE_THREADS) return false;
  if (isWorker || inJob) return false;
  const c = ctrl();
  return load<i32>(c + THREADS) > 1 && work >= <f64>load<i32>(c + MINWORK);
}

/** Threads taking part (for choosing a task count). */
export function threadCount(): i32 {
  if (!ASC_FEATURE_THREADS) return 1;
  return max(1, load<i32>(ctrl() + THREADS));
}

/** Bytes of scratch each task may use (the caller's own scratch is not used
 *  by split work). */
export function taskScratchBytes(): usize {
  return THREAD_SCRATCH;
}

// Where a job's arguments live: the control block's ARGS, or (unshared
// builds, which have no control block: threads_end() is the heap's start)
// 48 words of static data.
const LOCAL_ARGS: usize = ASC_FEATURE_THREADS ? 0 : memory.data(48 << 3, 8);
// @ts-ignore: decorator
@inline function args(): usize {
  return ASC_FEATURE_THREADS ? ctrl() + ARGS : LOCAL_ARGS;
}

export function setArg(i: i32, v: f64): void {
  store<f64>(args() + (<usize>i << 3), v);
}

// @ts-ignore: decorator
@inline export function arg(i: i32): f64 {
  return load<f64>(args() + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function argPtr(i: i32): usize {
  return <usize>load<f64>(args() + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function argInt(i: i32): i32 {
  return <i32>load<f64>(args() + (<usize>i << 3));
}

/** Sets the job's work counter to 0: call before parallelFor, whose tasks
 *  then take units of work in turn with workNext. */
export function workReset(): void {
  if (ASC_FEATURE_THREADS) atomic.store<i32>(ctrl() + WORK, 0);
  else workLocal = 0;
}

/** The next unit of work of the job (0, 1, 2, … across all its tasks). */
export function workNext(): i32 {
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(ctrl() + WORK, 1);
  return workLocal++;
}

/** Cuts [0, n) into about four ranges per thread, each a multiple of `align`
 *  long (so SIMD loops see the same alignment); returns the task count.
 *  Task t covers [rangeStart(t), rangeEnd(t)). Uses ARGS 22 and 23. */
export function rangeTasks(n: i32, align: i32): i32 {
  let chunk = (n + 4 * threadCount() - 1) / (4 * threadCount());
  chunk = max(align, (chunk + align - 1) / align * align); // n = 0: one empty task
  setArg(22, n);
  setArg(23, chunk);
  return (n + chunk - 1) / chunk;
}

// @ts-ignore: decorator
@inline export function rangeStart(t: i32): i32 {
  return t * argInt(23);
}

// @ts-ignore: decorator
@inline export function rangeEnd(t: i32): i32 {
  return min(argInt(22), (t + 1) * argInt(23));
}

/** Claims a task of job `seq` (the calling thread from the front of the
 *  unclaimed range, workers from the back), or returns −1 when none is left
 *  (or the job is no longer `seq`; or, for the calling thread, only `keep`
 *  are left). Task numbers are within the job's piece (parallelFor adds
 *  JOB_BASE). */
function claim(c: usize, seq: i32, fromBack: bool, keep: i32 = 0): i32 {
  if (ASC_FEATURE_THREADS) {
    for (;;) {
      const v = atomic.load<i64>(c + NEXT);
      if (<i32>(v >>> 32) != seq) return -1;
      const front = <i32>(v & 0xffff), back = <i32>((v >>> 16) & 0xffff);
      if (front >= back - keep) return -1;
      if (fromBack) {
        if (atomic.cmpxchg<i64>(c + NEXT, v, v - 0x10000) == v) return back - 1;
      } else if (atomic.cmpxchg<i64>(c + NEXT, v, v + 1) == v) return front;
    }
  }
  return -1;
}

/** Tasks one published job holds at most (NEXT's 16-bit fields); parallelFor
 *  runs a larger count as consecutive jobs of at most this many (or of
 *  JOB_CAP, a test hook's smaller cap, when set). */
// @ts-ignore: decorator
@inline const MAX_JOB: i32 = 0xffff;
// @ts-ignore: decorator
@inline const JOB_CAP: usize = 112;
// @ts-ignore: decorator
@inline const WORK: usize = 116;

// Task t on thread `id`, timed into BUSY_MS[id] when PROFILE is on.
// @ts-ignore: decorator
@inline function runTask(c: usize, id: i32, task: Task, t: i32, scratch: usize): i32 {
  if (!load<i32>(c + PROFILE)) return task(t, scratch);
  const t0 = thread_now();
  const f = task(t, scratch);
  const at = c + BUSY_MS + (<usize>id << 3);
  store<f64>(at, load<f64>(at) + (thread_now() - t0));
  addI32(c + BUSY_TASKS + (<usize>id << 2), 1);
  return f;
}

// @ts-ignore: decorator
@inline function addI32(at: usize, v: i32): void {
  store<i32>(at, load<i32>(at) + v);
}

/** Runs tasks 0..ntasks-1 of `task`, split over the threads when they are on;
 *  returns the OR of the tasks' results. Args must be set (setArg) first. */
export function parallelFor(task: Task, ntasks: i32): i32 {
  if (!ASC_FEATURE_THREADS || ntasks <= 1 || isWorker || inJob || load<i32>(ctrl() + THREADS) <= 1) {
    let flag = 0;
    const s = !ASC_FEATURE_THREADS ? 0 : isWorker ? myScratch : scratchOf(0);
    // the calling thread's inline tasks count in its profile; nested calls (inside a task) do not
    const timed = ASC_FEATURE_THREADS && !isWorker && !inJob;
    for (let t = 0; t < ntasks; t++) flag |= timed ? runTask(ctrl(), 0, task, t, s) : task(t, s);
    return flag;
  }
  let flag = 0;
  const c0 = ctrl();
  const cap = load<i32>(c0 + JOB_CAP) > 0 ? min(MAX_JOB, load<i32>(c0 + JOB_CAP)) : MAX_JOB;
  for (let base = 0; base < ntasks; base += cap) flag |= runJob(task, base, min(cap, ntasks - base));
  return flag;
}

// Tasks base … base+count-1 of `task` as one job on the threads.
function runJob(task: Task, base: i32, count: i32): i32 {
  const c = ctrl();
  // Publish: invalidate the old job's counter first, so that a worker still
  // holding the old seq cannot claim a task of this one.
  const seq = atomic.load<i32>(c + SEQ) + 1;
  atomic.store<i64>(c + NEXT, <i64>(seq - 1) << 32); // front = back = 0: nothing to claim
  store<i32>(c + NTASKS, count);
  store<i32>(c + JOB_BASE, base);
  store<i32>(c + TASK, <i32>changetype<usize>(task));
  atomic.store<i32>(c + FLAG, 0);
  atomic.store<i32>(c + DONE, 0);
  atomic.store<i64>(c + NEXT, (<i64>seq << 32) | (<i64>count << 16));
  const t0 = thread_now();
  store<f64>(c + JOB_AT, t0);
  atomic.store<i32>(c + SEQ, seq);
  atomic.notify(c + SEQ); // all: with fewer THREADS than workers, a count could wake only idle ones
  atomic.add<i32>(c + JOBS, 1);
  const s0 = scratchOf(0);
  const keep = load<i32>(c + LEAVE);
  inJob = true;
  for (;;) {
    const t = claim(c, seq, false, keep);
    if (t < 0) break;
    const f = runTask(c, 0, task, base + t, s0);
    if (f) atomic.or<i32>(c + FLAG, f);
    atomic.add<i32>(c + DONE, 1);
  }
  inJob = false;
  const t1 = thread_now();
  waitDone(c, seq, count);
  const t2 = thread_now();
  store<f64>(c + SPLIT_MS, load<f64>(c + SPLIT_MS) + (t2 - t0));
  store<f64>(c + WAIT_MS, load<f64>(c + WAIT_MS) + (t2 - t1));
  return atomic.load<i32>(c + FLAG);
}

// Waits until every task of job `seq` is done: polls for SPIN µs, then sleeps
// in 5 ms waits (or keeps polling where the thread may not wait). A worker
// that died (DEAD) or no progress for DEADLINE ms ends the job with
// thread_fail, after making sure no further task of it can be claimed.
// The clock (a host call) is read every POLLS polls.
function waitDone(c: usize, seq: i32, ntasks: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const canWait = load<i32>(c + CANWAIT);
  const start = thread_now(), spinMs = <f64>load<i32>(c + SPIN) / 1000;
  let n = 0;
  let last = -1;
  let since: f64 = 0;
  for (;;) {
    const d = atomic.load<i32>(c + DONE);
    if (d >= ntasks) return;
    const dead = atomic.load<i32>(c + DEAD);
    if (dead) {
      atomic.store<i64>(c + NEXT, <i64>seq << 32); // nothing left to claim
      thread_fail(1, dead - 1);
      return;
    }
    if (++n < POLLS) continue;
    n = 0;
    const now = thread_now();
    if (d != last) { last = d; since = now; }
    else if (now - since > <f64>load<i32>(c + DEADLINE)) {
      atomic.store<i64>(c + NEXT, <i64>seq << 32); // nothing left to claim
      thread_fail(2, -1);
      return;
    }
    if (canWait && now - start >= spinMs) atomic.wait<i32>(c + DONE, d, 5_000_000);
  }
}

/** Polls between two looks at the clock while spinning (about a µs). */
// @ts-ignore: decorator
@inline const POLLS: i32 = 1024;

/** The worker loop of thread `id` (1 … MAX_THREADS-1): sleeps until a job is
 *  published, claims and runs its tasks, and returns only at shutdown. */
export function thread_run(id: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl();
  isWorker = true;
  myScratch = scratchOf(id);
  // The host hears "ready" before this line runs, so a job may already be
  // out: take it as unseen (claims carry its seq, so joining a job that has
  // ended claims nothing), or with LEAVE on its caller would wait forever.
  const first = atomic.load<i32>(c + SEQ);
  let seen = first - 1;
  for (;;) {
    if (atomic.load<i32>(c + SHUTDOWN)) return;
    let s = atomic.load<i32>(c + SEQ);
    if (s == seen) {
      // poll for SPIN µs (the next job of a step usually comes sooner than a
      // sleeping thread wakes: bench/results/spin-ab.md), then sleep
      const spinMs = <f64>load<i32>(c + SPIN) / 1000;
      if (spinMs > 0) {
        const until = thread_now() + spinMs;
        for (let i = 1; s == seen; i++) {
          s = atomic.load<i32>(c + SEQ);
          if ((i & (POLLS - 1)) == 0 && thread_now() > until) break;
        }
      }
      if (s == seen) {
        if (load<i32>(c + PROFILE)) addI32(c + SLEEPS + (<usize>id << 2), 1);
        atomic.wait<i32>(c + SEQ, seen, -1);
        continue;
      }
    }
    seen = s;
    if (id >= load<i32>(c + THREADS)) continue;
    if (load<i32>(c + PROFILE)) {
      // the job out at the start was published before this thread ran: no wake time
      if (s != first) {
        const at = c + WAKE_MS + (<usize>id << 3);
        store<f64>(at, load<f64>(at) + (thread_now() - load<f64>(c + JOB_AT)));
      }
      addI32(c + JOINED + (<usize>id << 2), 1);
    }
    const ntasks = load<i32>(c + NTASKS), base = load<i32>(c + JOB_BASE);
    const task = changetype<Task>(<usize>load<i32>(c + TASK));
    for (;;) {
      const t = claim(c, s, true);
      if (t < 0) break;
      if (atomic.load<i32>(c + FAULT) == id + 1) {
        if (atomic.load<i32>(c + FAULTMODE) == 1) unreachable();
        atomic.wait<i32>(c + FAULT, id + 1, -1); // hang until woken by a shutdown
        return;
      }
      const f = runTask(c, id, task, base + t, myScratch);
      if (f) atomic.or<i32>(c + FLAG, f);
      atomic.add<i32>(c + WORKER_TASKS, 1);
      if (atomic.add<i32>(c + DONE, 1) + 1 == ntasks) atomic.notify(c + DONE, 1);
    }
  }
}

/** Host settings (see the control block). threads ≤ 1 turns splitting off. */
export function threads_configure(threads: i32, canWait: i32, minWork: i32, deadlineMs: i32, spinUs: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl();
  atomic.store<i32>(c + CANWAIT, canWait);
  atomic.store<i32>(c + MINWORK, minWork);
  atomic.store<i32>(c + DEADLINE, deadlineMs);
  atomic.store<i32>(c + SPIN, spinUs);
  atomic.store<i32>(c + THREADS, min(threads, MAX_THREADS));
}

/** Threads taking part in split calls (1 in the non-shared builds): layers
 *  that pick a work size per thread count read it (src/layers/conv.ts). */
export function threads_count(): i32 {
  return threadCount();
}

/** Byte offset of the control block (the host marks DEAD and SHUTDOWN there). */
export function threads_control(): usize {
  return ctrl();
}

/** Test hook: worker `id` traps (mode 1) or hangs (mode 2) when it next
 *  claims a task; mode 0 clears it. */
export function threads_inject_fault(id: i32, mode: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl();
  atomic.store<i32>(c + FAULTMODE, mode);
  atomic.store<i32>(c + FAULT, mode ? id + 1 : 0);
}

/** Turns per-thread timing (BUSY_*, WAKE_MS, JOINED, SLEEPS) on (1) or off (0);
 *  turning it on clears the sums. */
export function threads_profile(on: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl();
  if (on) for (let i = 0; i < MAX_THREADS; i++) {
    store<f64>(c + BUSY_MS + (<usize>i << 3), 0);
    store<f64>(c + WAKE_MS + (<usize>i << 3), 0);
    store<i32>(c + BUSY_TASKS + (<usize>i << 2), 0);
    store<i32>(c + JOINED + (<usize>i << 2), 0);
    store<i32>(c + SLEEPS + (<usize>i << 2), 0);
  }
  atomic.store<i32>(c + PROFILE, on);
}

/** Test hook: a parallelFor of more than `n` tasks runs as consecutive jobs
 *  of at most n (0: the normal cap, 65,535), so tests reach that path. */
export function threads_job_cap(n: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  store<i32>(ctrl() + JOB_CAP, n);
}

/** Test hook: 1 = the calling thread leaves the last task of every split
 *  job to the workers (and waits for it), so a test that asks whether the
 *  workers ran tasks does not depend on how busy the machine is; 0 = off. */
export function threads_leave_last(on: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  atomic.store<i32>(ctrl() + LEAVE, on ? 1 : 0);
}

/** Clears a dead mark and the job state after the host replaced its workers. */
export function threads_reset(): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl();
  atomic.store<i32>(c + DEAD, 0);
  atomic.store<i32>(c + FAULT, 0);
  atomic.store<i32>(c + SHUTDOWN, 0);
  inJob = false; // a job that ended in thread_fail (or a trap in the caller's task) left it set
}
