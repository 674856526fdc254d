// Native PyTorch as a peer of bench/limit.ts: a persistent child process
// (`/usr/bin/python3 bench/torch-vae.py`, Debian's python3-torch; scripts/
// ensure-torch.mjs installs it) driven synchronously, so its rounds can sit
// inside limit.ts's interleave() between ours, jax-js's and tfjs's. One child
// per thread count (OMP_NUM_THREADS and torch.set_num_threads fixed for its
// life): one process switching OpenMP's team between 1 and 2 threads every
// round ran its 2-thread steps slower here (seen while this was written; no
// file kept).
//
// IPC: two named pipes (mkfifo) in a temporary directory. Commands go to the
// child as one JSON line each (fs.writeSync on the command FIFO, opened
// O_RDWR so the open never blocks); the child answers one JSON line on the
// reply FIFO, read with fs.readSync, which blocks this thread until the answer
// is there. The first answer (the child's `hello`, after `import torch`) is
// awaited on a non-blocking descriptor with a timeout and a check that the
// child is still alive, so a child that dies while starting is an error, not
// a hang; after it the reply FIFO is opened again, blocking, and a child that
// exits later is seen as end of file. Bulk arrays (weights, batches, ε,
// gradients) travel as raw float32 files in the same directory.
//
// Timing: `steps` runs n training steps and the child times them itself
// (time.perf_counter, time.process_time: the CPU time of all its threads), so
// the pipe round trip is not in PyTorch's figures. `gemm` and `reconstruct`
// set up one call in the child (operands / weights and batch sent once, kept
// there), run it once and hand back its result for the caller's check; `calls`
// then times n of it the same way (one command per round).
//
// The child's glibc malloc is told to keep freed memory (MALLOC_MMAP_THRESHOLD_
// 32 MiB, MALLOC_TRIM_THRESHOLD_ 1 GiB, unless set in the environment;
// TORCH_GLIBC_MALLOC=1 leaves glibc's defaults): with the defaults every step's
// larger tensors are mapped and unmapped again, and the page faults and unmaps
// slowed PyTorch's steps on this VM (bench/results/limit-torch-malloc-glibc.md
// against limit-eighth.md; what PyTorch's performance guides fix with jemalloc
// or tcmalloc).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./common.js";

export const TORCH_PYTHON = process.env.TORCH_PYTHON || "/usr/bin/python3";
/** Debian's OpenMP build of OpenBLAS (libopenblas0-openmp): first on the child's library path, so its libblas.so.3
 *  is the one torch loads even where the system's BLAS alternative is another (the pthread build keeps its own
 *  thread count, which torch.set_num_threads does not change). scripts/ensure-torch.mjs probes with the same path. */
export const OPENMP_BLAS_DIR = `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/openblas-openmp`;
const SCRIPT = join(ROOT, "bench", "torch-vae.py");

export interface TorchInfo {
  torch: string;
  config: string[];
  mkldnn: boolean;
  parallel: string[];
  blas: { libraries: string[]; openblas?: { config: string; core: string; threads: number } };
  python: string;
  executable: string;
  /** torch.get_num_threads() after the child set its thread count. */
  threads: number;
  env: Record<string, string>;
}

/** One `calls` command: wall and CPU ms per call (the child's clocks); idleCpuMs: the CPU the child used while it
 *  waited since its previous `steps` / `calls` (OpenMP's spin-wait after the last parallel region), null for the first. */
export interface TorchTimes { wallMs: number; cpuMs: number; idleCpuMs: number | null; threads: number }
/** One `steps` command: as TorchTimes, per training step, and the last step's loss. */
export interface TorchStep extends TorchTimes { loss: number }

/** The child's environment: the thread counts; the OpenMP OpenBLAS first on the library path; OpenMP's wait policy
 *  when given; glibc's malloc keeping freed memory (above) unless TORCH_GLIBC_MALLOC or the variables are set. */
function childEnv(threads: number, ompWait: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  if (existsSync(OPENMP_BLAS_DIR)) env.LD_LIBRARY_PATH = [OPENMP_BLAS_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  if (ompWait) env.OMP_WAIT_POLICY = ompWait;
  if (!process.env.TORCH_GLIBC_MALLOC) {
    env.MALLOC_MMAP_THRESHOLD_ ??= String(32 << 20);
    env.MALLOC_TRIM_THRESHOLD_ ??= String(1 << 30);
  }
  return env;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

export class TorchPeer {
  readonly info: TorchInfo;
  private readonly dir: string;
  private readonly child: ChildProcess;
  private readonly cmdFd: number;
  private replyFd: number;
  private pending = "";
  private files = 0;
  /** Array files of the command being sent: removed once the child has answered (it reads them into memory). */
  private sent: string[] = [];
  private closed = false;
  /** Every live peer, for the exit and signal handlers (installed with the first peer). */
  private static live = new Set<TorchPeer>();
  private static handlers = false;

  private constructor(readonly threads: number, timeoutMs: number, ompWait: string | undefined) {
    this.dir = mkdtempSync(join(tmpdir(), "wasm-vae-torch-"));
    const cmdPath = join(this.dir, "cmd"), replyPath = join(this.dir, "reply");
    const mk = spawnSync("mkfifo", [cmdPath, replyPath], { encoding: "utf8" });
    if (mk.status !== 0) throw new Error(`mkfifo failed: ${mk.error?.message ?? mk.stderr}`);
    // both ends open before the child starts: O_RDWR and O_NONBLOCK opens of a FIFO return at once
    this.cmdFd = openSync(cmdPath, constants.O_RDWR);
    const nb = openSync(replyPath, constants.O_RDONLY | constants.O_NONBLOCK);
    this.replyFd = nb;
    this.child = spawn(TORCH_PYTHON, [SCRIPT, cmdPath, replyPath], {
      stdio: ["ignore", "inherit", "inherit"],
      env: childEnv(threads, ompWait),
    });
    TorchPeer.live.add(this);
    if (!TorchPeer.handlers) {
      TorchPeer.handlers = true;
      process.on("exit", () => { for (const p of TorchPeer.live) p.cleanup(); });
      for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.once(sig, () => { for (const p of TorchPeer.live) p.cleanup(); process.exit(sig === "SIGINT" ? 130 : 143); });
      }
    }
    this.send({ cmd: "hello", threads });
    const t0 = Date.now();
    let line: string | null = null;
    const buf = Buffer.alloc(1 << 16);
    while (line === null) {
      let n = 0;
      try {
        n = readSync(nb, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      }
      if (n > 0) {
        this.pending += buf.toString("utf8", 0, n);
        const at = this.pending.indexOf("\n");
        if (at >= 0) { line = this.pending.slice(0, at); this.pending = this.pending.slice(at + 1); }
        continue;
      }
      if (!this.alive()) throw new Error(`the PyTorch peer (${TORCH_PYTHON} bench/torch-vae.py) exited while starting (its error is above)`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`the PyTorch peer did not answer within ${timeoutMs / 1e3} s`);
      sleep(10);
    }
    // the child holds the write end now: a blocking read end, end of file when it exits
    this.replyFd = openSync(replyPath, constants.O_RDONLY);
    closeSync(nb);
    this.info = this.parse(line) as unknown as TorchInfo;
    if (this.info.threads !== threads) throw new Error(`the PyTorch peer runs on ${this.info.threads} threads, asked for ${threads}`);
    // the BLAS must follow the thread count too: OpenBLAS's OpenMP build on `threads` (the pthread build keeps its own)
    const ob = this.info.blas.openblas;
    if (ob && (!/USE_OPENMP/.test(ob.config) || ob.threads !== threads)) {
      throw new Error(`the PyTorch peer's OpenBLAS (${ob.config}) runs on ${ob.threads} threads, asked for ${threads} (libopenblas0-openmp is the build that follows torch.set_num_threads)`);
    }
  }

  /** Starts a child running PyTorch on `threads` threads and waits for its `hello` (torch imported). ompWait: the
   *  child's OMP_WAIT_POLICY (libgomp reads it once, at start), or the environment's / libgomp's default. */
  static start(threads: number, ompWait?: "ACTIVE" | "PASSIVE", timeoutMs = 180_000): TorchPeer {
    return new TorchPeer(threads, timeoutMs, ompWait);
  }

  private alive(): boolean {
    const pid = this.child.pid;
    if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  }

  private send(cmd: object): void {
    const b = Buffer.from(JSON.stringify(cmd) + "\n");
    for (let at = 0; at < b.length;) at += writeSync(this.cmdFd, b, at);
  }

  private parse(line: string): Record<string, unknown> {
    const r = JSON.parse(line) as Record<string, unknown>;
    if (r.ok !== true) {
      if (process.env.TORCH_PEER_TRACE) process.stderr.write(String(r.trace));
      throw new Error(`PyTorch peer: ${r.error}`);
    }
    return r;
  }

  /** One command, its answer (blocks until it is there). */
  call(cmd: Record<string, unknown>): Record<string, unknown> {
    if (this.closed) throw new Error("PyTorch peer: closed");
    this.send(cmd);
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      const at = this.pending.indexOf("\n");
      if (at >= 0) {
        const line = this.pending.slice(0, at);
        this.pending = this.pending.slice(at + 1);
        for (const f of this.sent.splice(0)) rmSync(f, { force: true });
        return this.parse(line);
      }
      const n = readSync(this.replyFd, buf, 0, buf.length, null);
      if (n === 0) throw new Error(`the PyTorch peer exited during "${cmd.cmd}" (its error is above)`);
      this.pending += buf.toString("utf8", 0, n);
    }
  }

  private file(a: Float32Array): string {
    const p = join(this.dir, `a${this.files++}.f32`);
    writeFileSync(p, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    this.sent.push(p);
    return p;
  }

  /** The training images (count × dim); steps take batch i from row (i·B) mod (count − B), as limit.ts's batchOf. */
  images(images: Float32Array, count: number, dim: number): void {
    this.call({ cmd: "images", path: this.file(images.subarray(0, count * dim)), count, dim });
  }

  /** Our weights as one file and their [name, length] entries, in the order of the file. */
  private weights(weights: Record<string, Float32Array>): { weights: string; entries: [string, number][] } {
    const entries = Object.entries(weights).map(([n, a]) => [n, a.length] as [string, number]);
    const flat = new Float32Array(entries.reduce((s, [, n]) => s + n, 0));
    let at = 0;
    for (const a of Object.values(weights)) { flat.set(a, at); at += a.length; }
    return { weights: this.file(flat), entries };
  }

  /** The result file a set-up call wrote, as float32. */
  private result(cmd: Record<string, unknown>): Float32Array {
    const out = join(this.dir, `r${this.files++}.f32`);
    this.call({ ...cmd, out });
    const r = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
    unlinkSync(out);
    return r;
  }

  /** A model with our weights (VAE.getWeights names and layouts), its Adam, and ε (B, L) for every step. */
  create(id: string, model: { arch: "mlp"; spec: object } | { arch: "keras_conv"; latent: number }, B: number,
         weights: Record<string, Float32Array>, eps: Float32Array): void {
    this.call({ cmd: "create", id, ...model, B, ...this.weights(weights), eps: this.file(eps) });
  }

  /** A GEMM call kept in the child for `calls`, operands stored as ours (TN: a is (K, M); NT: b is (N, K)):
   *  NN torch.addmm(bias, a, b), TN torch.mm(a.t(), b), NT torch.mm(a, b.t()). Returns its (M, N) result. */
  gemm(id: string, variant: "NN" | "TN" | "NT", a: Float32Array, b: Float32Array, bias: Float32Array, M: number, K: number, N: number): Float32Array {
    return this.result({ cmd: "gemm", id, variant, M, K, N, a: this.file(a), b: this.file(b), bias: this.file(bias) });
  }

  /** The MLP VAE's reconstruct (torch.inference_mode, encoder → μ → decoder → sigmoid) on batch x (B, D), our
   *  weights, kept in the child for `calls`. Returns its (B, D) probabilities. */
  reconstruct(id: string, spec: { inputDim: number }, weights: Record<string, Float32Array>, x: Float32Array): Float32Array {
    return this.result({ cmd: "reconstruct", id, spec, ...this.weights(weights), x: this.file(x), B: x.length / spec.inputDim });
  }

  /** n calls of a set-up call (`gemm`, `reconstruct`), timed by the child: wall and CPU ms per call. */
  calls(id: string, n: number): TorchTimes {
    return this.call({ cmd: "calls", id, n }) as unknown as TorchTimes;
  }

  /** Loss and gradients (our names and layouts) of batch x with the model's ε, without a step; with `step`, one
   *  Adam step on them and the weights after it (in `gradients`). */
  grad(id: string, x: Float32Array, step = false): { loss: number; gradients: Record<string, Float32Array> } {
    const out = join(this.dir, `g${this.files++}.f32`);
    const r = this.call({ cmd: "grad", id, x: this.file(x), out, step }) as { loss: number; entries: [string, number][] };
    const all = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
    unlinkSync(out);
    const gradients: Record<string, Float32Array> = {};
    let at = 0;
    for (const [n, len] of r.entries) { gradients[n] = all.subarray(at, at + len); at += len; }
    return { loss: r.loss, gradients };
  }

  /** n training steps, timed by the child: wall and CPU ms per step. */
  steps(id: string, n: number): TorchStep {
    return this.call({ cmd: "steps", id, n }) as unknown as TorchStep;
  }

  drop(id: string): void {
    this.call({ cmd: "drop", id });
  }

  private cleanup(): void {
    if (!this.closed) {
      this.closed = true;
      try { this.send({ cmd: "quit" }); } catch { /* the child is gone */ }
      try { closeSync(this.cmdFd); closeSync(this.replyFd); } catch { /* closed */ }
      // a child that hangs (or has not read `quit` yet) does not outlive us
      if (this.alive()) this.child.kill("SIGKILL");
      TorchPeer.live.delete(this);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  close(): void {
    this.cleanup();
  }
}
