// The one module that loads and instantiates the wasm kernels (the only user
// of @assemblyscript/loader). It picks the build, wires every export once with
// labelled arguments, and checks pointers and counts before each call so a
// wasm trap never reaches a user.
//
// Builds: "plain" (f32x4 mul + add, bit-reproducible, the default) and
// "relaxed" (f32x4.relaxed_madd: fused, faster, last-bit differences). The
// relaxed build runs only where the runtime validates it; otherwise the plain
// build runs and `Kernels.build` says so.
import * as loader from "@assemblyscript/loader";
import { checkAdamHyperparameters, checkLearningRate } from "../optim/adam.js";
import type { WasmBytes, WasmMemory } from "../base/host-types.js";
import { ArgumentError, checkBool, checkInt, checkOptions, describe, fail } from "../base/validate.js";
import { checkConvGeometry, convChunkImages, convScratchBytes as planScratchBytes, type ConvGeometry } from "./conv-shape.js";

/** A kernel build: "plain" (f32x4 multiply then add: bit-reproducible across
 *  runtimes, the default) or "relaxed" (f32x4.relaxed_madd: fused, faster,
 *  results may differ in the last bits between runtimes). */
export type Build = "plain" | "relaxed";
/** The build asked for in LoadOptions.build: a {@link Build}, or "auto" for
 *  "relaxed" where the runtime validates it and "plain" elsewhere. */
export type BuildRequest = Build | "auto";
/** A compiled file (build/vae.<variant>.wasm): a build, or its shared-memory
 *  twin that runs the kernels on several threads. */
export type Variant = Build | "plain.shared" | "relaxed.shared";
/** Where each variant's wasm comes from: bytes or a URL. */
export type Sources = Partial<Record<Variant, WasmBytes | URL | string>>;

/** The raw exports of assembly/index.ts (pointers are byte offsets). */
export interface RawExports {
  memory: WasmMemory;
  heap_base(): number;
  gemm_scratch_bytes(M: number, K: number): number;
  dense_backward_scratch_bytes(B: number, IN: number, OUT: number): number;
  gemm_tile_rows(): number;
  gemm(c: number, a: number, b: number, bias: number, M: number, K: number, N: number,
       transA: number, transB: number, init: number, scratch: number): void;
  dense_forward(y: number, x: number, w: number, b: number, B: number, IN: number, OUT: number,
                act: number, alpha: number, scratch: number): void;
  dense_backward(dx: number, dw: number, db: number, dy: number, x: number, w: number, y: number,
                 B: number, IN: number, OUT: number, act: number, alpha: number, accumulate: number, scratch: number): void;
  conv_scratch_bytes(transpose: number, H: number, W: number, C: number, Ho: number, Wo: number, Co: number,
                     kh: number, kw: number, sh: number, sw: number, nb: number): number;
  conv2d_forward(y: number, x: number, w: number, b: number, B: number, H: number, W: number, C: number,
                 Ho: number, Wo: number, Co: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
                 act: number, alpha: number, nb: number, scratch: number): void;
  conv2d_backward(dx: number, dw: number, db: number, dy: number, x: number, w: number, y: number,
                  B: number, H: number, W: number, C: number, Ho: number, Wo: number, Co: number,
                  kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
                  act: number, alpha: number, accumulate: number, nb: number, scratch: number): void;
  conv2d_transpose_forward(y: number, x: number, w: number, b: number, B: number, H: number, W: number, C: number,
                           Ho: number, Wo: number, Co: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
                           act: number, alpha: number, nb: number, scratch: number): void;
  conv2d_transpose_backward(dx: number, dw: number, db: number, dy: number, x: number, w: number, y: number,
                            B: number, H: number, W: number, C: number, Ho: number, Wo: number, Co: number,
                            kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
                            act: number, alpha: number, accumulate: number, nb: number, scratch: number): void;
  conv_im2col(cols: number, img: number, nb: number, Hi: number, Wi: number, Ci: number, Hp: number, Wp: number,
              kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void;
  conv_col2im_acc(img: number, cols: number, nb: number, Hi: number, Wi: number, Ci: number, Hp: number, Wp: number,
                  kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void;
  activation_forward(y: number, x: number, n: number, act: number, alpha: number): void;
  activation_backward(dx: number, dy: number, y: number, n: number, act: number, alpha: number): void;
  dropout_apply(out: number, inp: number, u: number, n: number, rate: number, scale: number): void;
  batchnorm_stats(mean: number, vari: number, invstd: number, sums: number, x: number, N: number, C: number, eps: number): void;
  batchnorm_invstd(invstd: number, vari: number, C: number, eps: number): void;
  batchnorm_forward(y: number, x: number, gamma: number, beta: number, mean: number, invstd: number, N: number, C: number): void;
  batchnorm_backward(dx: number, dgamma: number, dbeta: number, sums: number, dy: number, x: number, gamma: number,
                     mean: number, invstd: number, N: number, C: number): void;
  batchnorm_update(rmean: number, rvar: number, mean: number, vari: number, C: number, momentum: number, N: number): void;
  rng_seed(state: number, seedLo: number, seedHi: number): void;
  rng_uniform(state: number, out: number, n: number): void;
  rng_normal(state: number, out: number, n: number): void;
  gaussian_sample_forward(z: number, h: number, eps: number, B: number, L: number): void;
  gaussian_sample_backward(dh: number, dz: number, h: number, eps: number, B: number, L: number): void;
  gaussian_sample_k_forward(z: number, h: number, eps: number, B: number, S: number, L: number): void;
  gaussian_sample_k_backward(dh: number, dz: number, h: number, eps: number, B: number, S: number, L: number): void;
  gaussian_logq_forward(logq: number, h: number, eps: number, B: number, S: number, L: number): void;
  gaussian_logq_backward(dh: number, dz: number, h: number, eps: number, c: number, B: number, S: number, L: number, stopped: number): void;
  normal_logp_forward(logp: number, z: number, n: number, L: number): void;
  normal_logp_backward(dz: number, z: number, c: number, n: number, L: number): void;
  // learned priors (assembly/prior-mixture.ts, prior-vamp.ts)
  prior_mixture_logp_forward(logp: number, resp: number, prep: number, z: number, means: number, logvars: number, ld: number,
                             logits: number, n: number, K: number, L: number): void;
  prior_mixture_logp_backward(dz: number, dmeans: number, dlogvars: number, dlogits: number, z: number, means: number,
                              prep: number, ld: number, logits: number, resp: number, c: number, n: number, K: number, L: number): void;
  vamp_pseudo_forward(x: number, P: number, n: number, clamp: number): void;
  vamp_pseudo_backward(dP: number, dx: number, P: number, n: number, clamp: number): void;
  iwae_forward(loss: number, wts: number, nll: number, logp: number, logq: number, B: number, S: number, beta: number): void;
  iwae_backward(a: number, c: number, wts: number, n: number, beta: number, scale: number, dreg: number): void;
  rows_scale(y: number, coef: number, rows: number, D: number): void;
  // categorical latent (assembly/categorical.ts)
  gumbel_from_uniform(g: number, n: number): void;
  categorical_sample_forward(z: number, h: number, eps: number, B: number, S: number, N: number, K: number, tau: number, hard: number): void;
  categorical_sample_backward(dh: number, dz: number, h: number, eps: number, B: number, S: number, N: number, K: number, tau: number): void;
  categorical_kl_forward(kl: number, h: number, B: number, N: number, K: number): void;
  categorical_kl_backward(dh: number, h: number, B: number, N: number, K: number, w: number): void;
  categorical_logq_forward(logq: number, h: number, z: number, B: number, S: number, N: number, K: number): void;
  concrete_log_density_forward(out: number, h: number, eps: number, B: number, S: number, N: number, K: number, tau: number, cK: number, uniform: number): void;
  concrete_log_density_backward(dh: number, h: number, eps: number, c: number, B: number, S: number, N: number, K: number, tau: number, uniform: number, w: number): void;
  gaussian_cond_logp_forward(logp: number, z: number, h: number, n: number, L: number): void;
  gaussian_cond_logp_backward(dz: number, dh: number, z: number, h: number, c: number, n: number, L: number): void;
  hierarchy_logp_combine(out: number, cond: number, logp: number, logq: number, n: number): void;
  kl_normal_forward(kl: number, h: number, B: number, L: number): void;
  kl_normal_backward(dh: number, h: number, B: number, L: number, w: number): void;
  bernoulli_nll_forward(nll: number, logits: number, x: number, B: number, D: number): void;
  bernoulli_nll_backward(dlogits: number, logits: number, x: number, B: number, D: number, w: number): void;
  bernoulli_nll_forward_backward(nll: number, dlogits: number, logits: number, x: number, B: number, D: number, w: number): void;
  gaussian_nll_forward(nll: number, mean: number, x: number, B: number, D: number, sigma: number): void;
  gaussian_nll_backward(dmean: number, mean: number, x: number, B: number, D: number, sigma: number, w: number): void;
  gaussian_learned_nll_forward(nll: number, out: number, x: number, B: number, D: number): void;
  gaussian_learned_nll_backward(dout: number, out: number, x: number, B: number, D: number, w: number): void;
  adam_step(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, b1c: number,
            beta2: number, b2c: number, eps: number, decay: number, bc1: number, bc2: number): number;
  fill(x: number, n: number, value: number): void;
  copy(dst: number, src: number, n: number): void;
  axpy(y: number, x: number, n: number, a: number): void;
  scale(x: number, n: number, s: number): void;
  sum_squares(x: number, n: number): number;
  all_finite(x: number, n: number): number;
  /** Absent from builds before it was added (trainStep then checks rows in TypeScript). */
  first_outside?(x: number, n: number, lo: number, hi: number): number;
  // threads (assembly/threads.ts; no-ops in the non-shared builds)
  thread_run(id: number): void;
  threads_configure(threads: number, canWait: number, minWork: number, deadlineMs: number, spinUs: number): void;
  threads_control(): number;
  threads_inject_fault(id: number, mode: number): void;
  threads_reset(): void;
  /** Threads taking part (absent from builds before it was added: 1). */
  threads_count?(): number;
  /** Per-thread task timing on (1, sums cleared) or off (0): bench/ only. */
  threads_profile(on: number): void;
  /** Test hook: split calls of more than n tasks run as jobs of at most n (0: 65,535). */
  threads_job_cap(n: number): void;
  /** Test hook: 1 = the calling thread leaves each split job's last task to the workers (0: off). */
  threads_leave_last(n: number): void;
}

/** Every activation the kernels implement, in the order of their kernel
 *  codes (an activation's code is its index here). leaky_relu and elu take a
 *  parameter α (VAEConfig.activationAlpha; the `alpha` of the kernel calls). */
export const ACTIVATIONS = ["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "elu"] as const;
/** An activation name: one of {@link ACTIVATIONS}. */
export type Activation = (typeof ACTIVATIONS)[number];
/** Activation → the kernel's code: its index in ACTIVATIONS, the one TypeScript table
 *  (tests/kernels/codes.test.ts compares it with assembly/activation.ts ACT_*). */
export function activationCode(a: Activation): number {
  const i = ACTIVATIONS.indexOf(a);
  if (i < 0) fail("activation", `one of ${ACTIVATIONS.join(", ")}`, a);
  return i;
}

export const GEMM_INIT = { zero: 0, accumulate: 1, bias: 2 } as const;

/** Options of loadKernels, loadThreadedKernels, VAE.create and VAE.load:
 *  which kernel build runs, where its wasm comes from, and on how many threads. */
export interface LoadOptions {
  /** "plain" (default), "relaxed", or "auto" (relaxed where available). */
  build?: BuildRequest;
  /** Forces the plain build whatever `build` says. */
  deterministic?: boolean;
  /** Override where the wasm comes from (bytes or a URL), per build. */
  wasm?: Sources;
  /** Threads for the kernels: a count, or "auto" for the cores
   *  the runtime reports (capped). Only VAE.create / loadThreadedKernels
   *  read it; loadKernels always runs on the calling thread. */
  threads?: number | "auto";
}

/** The wasm of a build could not be fetched, compiled or instantiated; the
 *  message names the build and the source, `cause` holds the runtime's error. */
export class WasmLoadError extends Error {
  /** "WasmLoadError". */
  override name = "WasmLoadError";
}

type WasmSource = WasmBytes | URL | string;

function describeSource(src: WasmSource | undefined, build: Variant): string {
  if (src === undefined) {
    const d = defaultSources[build];
    return d === undefined ? `the default ${new URL(`../../build/vae.${build}.wasm`, import.meta.url).href}` : `the default source (${describeSource(d, build)})`;
  }
  if (src instanceof URL) return src.href;
  if (typeof src === "string") return JSON.stringify(src.length > 200 ? src.slice(0, 200) + "…" : src);
  return `${describe(src)} of bytes`;
}

/** @internal  Checks LoadOptions (a known-keys object; build one of the requests,
 *  deterministic a boolean, wasm an object of per-build sources). */
export function checkLoadOptions(opts: LoadOptions | undefined): LoadOptions {
  const o = checkOptions("options", opts, ["build", "deterministic", "wasm", "threads"]);
  if (o.build !== undefined && !["plain", "relaxed", "auto"].includes(o.build)) fail("build", `"plain", "relaxed" or "auto"`, o.build);
  checkBool("deterministic", o.deterministic, false);
  if (o.wasm !== undefined) {
    const w = checkOptions("options.wasm", o.wasm, ["plain", "relaxed", "plain.shared", "relaxed.shared"]);
    for (const [k, v] of Object.entries(w)) {
      if (!(typeof v === "string" || v instanceof URL || v instanceof ArrayBuffer || ArrayBuffer.isView(v))) {
        fail(`options.wasm.${k}`, "the build's bytes (ArrayBuffer or a view) or its URL (URL or string)", v);
      }
    }
  }
  return o;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();
let relaxedAvailable: Promise<boolean> | undefined;

const isNode = typeof process !== "undefined" && !!process.versions?.node;

/** Sources used when LoadOptions.wasm names none (set by the single-file
 *  browser bundle, which inlines the bytes of both builds). */
let defaultSources: Sources = {};

/** Sets where each build's wasm comes from when LoadOptions.wasm does not say
 *  (bytes or a URL); {} restores `new URL("../../build/vae.<build>.wasm", import.meta.url)`. */
export function setDefaultWasm(sources: Sources): void {
  defaultSources = { ...sources };
  compiled.clear();
  defaultBytes.clear();
  relaxedAvailable = undefined;
}

function defaultUrl(build: Variant): WasmBytes | URL | string {
  return defaultSources[build] ?? new URL(`../../build/vae.${build}.wasm`, import.meta.url);
}

/** Bytes of the default sources, fetched once per build (validation and
 *  compilation of the relaxed build share them). */
const defaultBytes = new Map<Variant, Promise<WasmBytes>>();

function defaultBytesOf(build: Variant): Promise<WasmBytes> {
  let p = defaultBytes.get(build);
  if (!p) {
    p = fetchBytes(defaultUrl(build));
    defaultBytes.set(build, p);
    p.catch(() => defaultBytes.delete(build));
  }
  return p;
}

async function fetchBytes(src: WasmBytes | URL | string): Promise<WasmBytes> {
  if (typeof src !== "string" && !(src instanceof URL)) return src;
  const url = typeof src === "string" ? new URL(src, isNode ? `file://${process.cwd()}/` : globalThis.location?.href) : src;
  if (url.protocol === "file:" && isNode) {
    const { readFile } = await import("node:fs/promises");
    const { fileURLToPath } = await import("node:url");
    return readFile(fileURLToPath(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`wasm-vae: could not fetch ${url.href}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** Whether this runtime validates the relaxed-SIMD build. In Node 20 this
 *  turns on V8's --experimental-wasm-relaxed-simd first (it cannot be set in
 *  NODE_OPTIONS). */
export function relaxedSimdAvailable(bytes?: WasmBytes | URL | string): Promise<boolean> {
  if (!relaxedAvailable || bytes) {
    relaxedAvailable = (async () => {
      if (isNode) {
        try {
          const v8 = await import("node:v8");
          v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
        } catch { /* not Node's v8: rely on the runtime's default */ }
      }
      try {
        return WebAssembly.validate(await (bytes ? fetchBytes(bytes) : defaultBytesOf("relaxed")) as BufferSource);
      } catch {
        return false;
      }
    })();
  }
  return relaxedAvailable;
}

/** @internal Compiles a variant (once per default source; `src` overrides it). */
export async function compile(build: Variant, src: WasmBytes | URL | string | undefined): Promise<WebAssembly.Module> {
  const key = src === undefined ? build : "";
  if (key && compiled.has(key)) return compiled.get(key)!;
  const p = (async () => WebAssembly.compile(await (src ? fetchBytes(src) : defaultBytesOf(build)) as BufferSource))();
  if (key) {
    compiled.set(key, p);
    p.catch(() => compiled.delete(key));
  }
  return p;
}

/** Which build a request resolves to on this runtime. */
export async function resolveBuild(options?: LoadOptions): Promise<Build> {
  const opts = checkLoadOptions(options);
  const req = opts.build ?? "plain";
  if (req === "plain" || opts.deterministic) return "plain";
  return (await relaxedSimdAvailable(opts.wasm?.relaxed)) ? "relaxed" : "plain";
}

/** Instantiates a fresh kernel module (own memory) of the resolved build. */
export async function loadKernels(options?: LoadOptions): Promise<Kernels> {
  const opts = checkLoadOptions(options);
  const build = await resolveBuild(opts);
  const src = opts.wasm?.[build];
  return instantiateKernels(build, build, src, {});
}

/** @internal Compiles and instantiates `variant` (of `build`) with `env`
 *  imports added (threads.ts passes the shared memory and its thread
 *  imports); any failure is a WasmLoadError naming the variant and source. */
export async function instantiateKernels(variant: Variant, build: Build, src: WasmBytes | URL | string | undefined,
                                         env: Record<string, unknown>): Promise<Kernels> {
  try {
    const module = await compile(variant, src);
    const { exports } = await loader.instantiate<Record<string, unknown>>(module, {
      env: {
        abort(_msg: number, _file: number, line: number, col: number) {
          throw new Error(`wasm-vae: kernel assertion failed at ${line}:${col} (a bug: please report it)`);
        },
        ...env,
      },
    });
    for (const name of ["heap_base", "gemm_tile_rows", "dense_forward"]) {
      if (typeof exports[name] !== "function") throw new Error(`it does not export ${name}() (not a wasm-vae kernel module)`);
    }
    if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error("it does not export its memory (not a wasm-vae kernel module)");
    return new Kernels(exports as unknown as RawExports, build);
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : describe(e);
    throw new WasmLoadError(`wasm-vae: could not load the "${variant}" build from ${describeSource(src, variant)}: ${why.slice(0, 500)}`, { cause: e });
  }
}

/** What Kernels knows of the threads running its kernels (threads.ts). */
export interface ThreadsHandle {
  /** Threads taking part, the calling one included (1: none split). */
  readonly threads: number;
  /** Threads the pool has (the most `configure` takes). */
  readonly size: number;
  /** Why fewer threads run than were asked for, or null. */
  readonly note: string | null;
  /** Uses this many threads (at most the pool's size) from the next call on. */
  configure(threads: number): void;
  /** Stops the helper threads. */
  dispose(): void;
}

/**
 * A kernel module with its own memory. Every method checks its pointers
 * (inside memory, 4-byte aligned) and counts, then calls the raw export.
 * Memory grows only through `reserve`; views must be re-created afterwards
 * (`f32` does it on every call).
 *
 * Pointers are byte offsets ≥ `base`, 4-byte aligned; shapes below are in
 * floats, row-major (B: rows, L: latent dimension, D: data dimension). A bad
 * pointer, count or setting throws an ArgumentError naming the argument
 * before the kernel runs, so nothing is written. Made by loadKernels or
 * loadThreadedKernels (the constructor is not public).
 */
export class Kernels {
  /** @internal The unchecked exports (the wrappers below check every call). */
  readonly raw: RawExports;
  /** The build these kernels are ("plain" or "relaxed"; "plain" when
   *  "relaxed" or "auto" was asked for on a runtime without relaxed SIMD). */
  readonly build: Build;
  /** First arena byte (64-aligned), after the module's static data. */
  readonly base: number;
  /** Rows of the GEMM register tile in this build. */
  readonly tileRows: number;
  /** @internal Set by threads.ts when the kernels run on a shared memory with helpers. */
  threadsHandle: ThreadsHandle | null = null;

  /** @internal Kernels are made by loadKernels / loadThreadedKernels. */
  constructor(raw: RawExports, build: Build) {
    this.raw = raw;
    this.build = build;
    this.base = raw.heap_base();
    this.tileRows = raw.gemm_tile_rows();
  }

  /** The module's memory (pointers are byte offsets into it). Its buffer is
   *  replaced when memory grows (`reserve`): take views after growing. */
  get memory(): WasmMemory { return this.raw.memory; }
  /** Threads the kernels split work over (1 unless created with threads). */
  get threads(): number { return this.threadsHandle?.threads ?? 1; }
  /** Stops helper threads (the kernels keep working on the calling thread). */
  dispose(): void { this.threadsHandle?.dispose(); }
  /** Current size of the memory in bytes (a multiple of 64 KiB). */
  get byteLength(): number { return this.raw.memory.buffer.byteLength; }

  /** Grows memory (once, up front) so that [base, base + bytes) exists. */
  reserve(bytes: number): void {
    checkInt("bytes", bytes, 0);
    const need = this.base + bytes;
    const have = this.byteLength;
    if (need > have) {
      const pages = Math.ceil((need - have) / 65536);
      if (need > 4 * 1024 ** 3) throw new ArgumentError(`bytes: the arena needs ${need} bytes, more than the 4 GiB a wasm32 memory can hold`);
      this.raw.memory.grow(pages);
    }
  }

  /** A fresh Float32Array view of n floats at byte offset ptr. Never cache it
   *  across `reserve`. */
  f32(ptr: number, n: number): Float32Array {
    this.span("ptr", ptr, n);
    return new Float32Array(this.raw.memory.buffer, ptr, n);
  }

  /** A fresh Uint32Array view of n u32s at byte offset ptr (e.g. a random
   *  stream's 4-word state). Never cache it across `reserve`. */
  u32(ptr: number, n: number): Uint32Array {
    this.span("ptr", ptr, n);
    return new Uint32Array(this.raw.memory.buffer, ptr, n);
  }

  /** Checks that n floats at byte offset ptr lie inside memory. */
  span(name: string, ptr: number, n: number): void {
    if (!Number.isInteger(ptr) || ptr < this.base || ptr % 4 !== 0) {
      fail(name, `a 4-byte-aligned offset ≥ ${this.base} inside the arena`, ptr);
    }
    if (!Number.isInteger(n) || n < 0) fail(`${name} length`, "an integer ≥ 0", n);
    if (ptr + 4 * n > this.byteLength) {
      fail(name, `${n} floats inside memory of ${this.byteLength} bytes (ends at ${ptr + 4 * n})`, ptr);
    }
  }

  /** Bytes of scratch `gemm` needs for an (M, K) left operand (a u32, so
   *  exact past 2 GiB). */
  gemmScratchBytes(M: number, K: number): number {
    checkInt("M", M); checkInt("K", K);
    return this.raw.gemm_scratch_bytes(M, K) >>> 0;   // u32 from wasm: unsigned past 2 GiB
  }

  /** Bytes of scratch `denseBackward` needs for a batch × inDim → outDim
   *  layer (its two products packed side by side when they split over threads). */
  denseBackwardScratchBytes(batch: number, inDim: number, outDim: number): number {
    checkInt("batch", batch); checkInt("inDim", inDim); checkInt("outDim", outDim);
    return this.raw.dense_backward_scratch_bytes(batch, inDim, outDim) >>> 0;
  }

  /** C (M,N) = op(A)·op(B), overwritten, accumulated or with bias (N) added. */
  gemm(a: {
    c: number; a: number; b: number; bias?: number; M: number; K: number; N: number;
    transA?: boolean; transB?: boolean; init?: keyof typeof GEMM_INIT; scratch: number;
  }): void {
    const M = checkInt("M", a.M), K = checkInt("K", a.K), N = checkInt("N", a.N);
    const init = a.init ?? "zero";
    if (!(init in GEMM_INIT)) fail("init", `"zero", "accumulate" or "bias"`, init);
    this.span("c", a.c, M * N);
    this.span("a", a.a, M * K);
    this.span("b", a.b, K * N);
    if (init === "bias") this.span("bias", a.bias ?? -1, N);
    this.span("scratch", a.scratch, (this.raw.gemm_scratch_bytes(M, K) >>> 0) / 4);
    this.raw.gemm(a.c, a.a, a.b, a.bias ?? 0, M, K, N, a.transA ? 1 : 0, a.transB ? 1 : 0, GEMM_INIT[init], a.scratch);
  }

  /** y (B,OUT) = act(x (B,IN)·w (IN,OUT) + b (OUT)). */
  denseForward(a: { y: number; x: number; w: number; b: number; batch: number; inDim: number; outDim: number;
    activation?: Activation; alpha?: number; scratch: number }): void {
    const B = checkInt("batch", a.batch), IN = checkInt("inDim", a.inDim), OUT = checkInt("outDim", a.outDim);
    const act = activationCode(a.activation ?? "identity");
    const alpha = checkAlpha(a.activation ?? "identity", a.alpha ?? 0);
    this.span("y", a.y, B * OUT); this.span("x", a.x, B * IN);
    this.span("w", a.w, IN * OUT); this.span("b", a.b, OUT);
    this.span("scratch", a.scratch, this.raw.gemm_scratch_bytes(B, IN) / 4);
    this.raw.dense_forward(a.y, a.x, a.w, a.b, B, IN, OUT, act, alpha, a.scratch);
  }

  /** dy ← dy ⊙ act'(y); dw += xᵀ·dy; db += Σ dy (or written, with
   *  `accumulate: false`); dx = dy·wᵀ (unless dx is null); scratch:
   *  denseBackwardScratchBytes(batch, inDim, outDim) bytes. */
  denseBackward(a: { dx: number | null; dw: number; db: number; dy: number; x: number; w: number; y: number;
    batch: number; inDim: number; outDim: number; activation?: Activation; alpha?: number; accumulate?: boolean; scratch: number }): void {
    const B = checkInt("batch", a.batch), IN = checkInt("inDim", a.inDim), OUT = checkInt("outDim", a.outDim);
    const act = activationCode(a.activation ?? "identity");
    const alpha = checkAlpha(a.activation ?? "identity", a.alpha ?? 0);
    if (a.dx !== null) this.span("dx", a.dx, B * IN);
    this.span("dw", a.dw, IN * OUT); this.span("db", a.db, OUT); this.span("dy", a.dy, B * OUT);
    this.span("x", a.x, B * IN); this.span("w", a.w, IN * OUT); this.span("y", a.y, B * OUT);
    this.span("scratch", a.scratch, (this.raw.dense_backward_scratch_bytes(B, IN, OUT) >>> 0) / 4);
    this.raw.dense_backward(a.dx ?? 0, a.dw, a.db, a.dy, a.x, a.w, a.y, B, IN, OUT, act, alpha, a.accumulate === false ? 0 : 1, a.scratch);
  }

  /** Bytes of scratch convForward and convBackward need at `chunk` images
   *  per chunk (convScratchBytes in conv-shape.ts mirrors it). */
  convScratchBytes(geometry: ConvGeometry, chunk: number): number {
    checkConvGeometry(geometry, "geometry"); checkInt("chunk", chunk);
    const g = geometry;
    // the kernel's figure is a u32: past 4 GiB it would wrap
    const bytes = planScratchBytes(g, chunk);
    if (bytes > 2 ** 32 - 1) {
      throw new ArgumentError(`chunk: ${chunk} images of a ${g.kind} ${g.inH}×${g.inW}×${g.inC} → ${g.outH}×${g.outW}×${g.outC} ` +
        `(kernel ${g.kh}×${g.kw}) need ${bytes} bytes of scratch, more than the 4 GiB a wasm32 memory can hold; use a smaller chunk or geometry`);
    }
    return this.raw.conv_scratch_bytes(g.kind === "conv2d_transpose" ? 1 : 0, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw, g.strideH, g.strideW, chunk) >>> 0;
  }

  /** Checks a conv call's shared arguments; returns the chunk and the
   *  activation code. x (batch, inH, inW, inC), y (batch, outH, outW, outC),
   *  w per convParamShapes, the batch run `chunk` images at a time. */
  private convArgs(a: { x: number; w: number; y: number; batch: number; geometry: ConvGeometry; activation?: Activation;
    alpha?: number; chunk?: number; scratch: number }): { nb: number; act: number; alpha: number } {
    const g = a.geometry;
    checkConvGeometry(g, "geometry");
    const B = checkInt("batch", a.batch);
    const nb = a.chunk === undefined ? convChunkImages(g, B) : checkInt("chunk", a.chunk, 1, B);
    // the default chunk is one image when one image's im2col passes its budget: then the geometry is too large
    const need = a.chunk === undefined ? planScratchBytes(g, nb) : 0;
    if (need > 2 ** 32 - 1) {
      throw new ArgumentError(`geometry: a ${g.kind} ${g.inH}×${g.inW}×${g.inC} → ${g.outH}×${g.outW}×${g.outC} (kernel ` +
        `${g.kh}×${g.kw}) needs ${need} bytes of scratch for ${nb} image(s), more than the 4 GiB a wasm32 memory can hold`);
    }
    const act = activationCode(a.activation ?? "identity");
    const alpha = checkAlpha(a.activation ?? "identity", a.alpha ?? 0);
    this.span("x", a.x, B * g.inH * g.inW * g.inC);
    this.span("y", a.y, B * g.outH * g.outW * g.outC);
    this.span("w", a.w, g.kh * g.kw * g.inC * g.outC);
    this.span("scratch", a.scratch, this.convScratchBytes(g, nb) / 4);
    return { nb, act, alpha };
  }

  /** y = act(conv2d(x, w) + b), or act(conv2d_transpose(x, w) + b), NHWC,
   *  per geometry.kind (assembly/conv.ts). */
  convForward(a: { y: number; x: number; w: number; b: number; batch: number; geometry: ConvGeometry;
    activation?: Activation; alpha?: number; chunk?: number; scratch: number }): void {
    const { nb, act, alpha } = this.convArgs(a);
    const g = a.geometry;
    this.span("b", a.b, g.outC);
    const f = g.kind === "conv2d" ? this.raw.conv2d_forward : this.raw.conv2d_transpose_forward;
    f(a.y, a.x, a.w, a.b, a.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw,
      g.strideH, g.strideW, g.padTop, g.padLeft, act, alpha, nb, a.scratch);
  }

  /** dy ← dy ⊙ act'(y); dw += ∂/∂w, db += ∂/∂b (or written, with
   *  `accumulate: false`); dx = ∂/∂x (unless dx is null). */
  convBackward(a: { dx: number | null; dw: number; db: number; dy: number; x: number; w: number; y: number;
    batch: number; geometry: ConvGeometry; activation?: Activation; alpha?: number; accumulate?: boolean;
    chunk?: number; scratch: number }): void {
    const { nb, act, alpha } = this.convArgs(a);
    const g = a.geometry;
    if (a.dx !== null) this.span("dx", a.dx, a.batch * g.inH * g.inW * g.inC);
    this.span("dw", a.dw, g.kh * g.kw * g.inC * g.outC); this.span("db", a.db, g.outC);
    this.span("dy", a.dy, a.batch * g.outH * g.outW * g.outC);
    const f = g.kind === "conv2d" ? this.raw.conv2d_backward : this.raw.conv2d_transpose_backward;
    f(a.dx ?? 0, a.dw, a.db, a.dy, a.x, a.w, a.y, a.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kh, g.kw,
      g.strideH, g.strideW, g.padTop, g.padLeft, act, alpha, a.accumulate === false ? 0 : 1, nb, a.scratch);
  }

  /** y (n) = f(x (n)) elementwise (y may be x); `alpha` is α of leaky_relu /
   *  elu (finite, ≥ 0 for those two; default 0). */
  activationForward(y: number, x: number, n: number, activation: Activation, alpha = 0): void {
    checkInt("n", n, 0); this.span("y", y, n); this.span("x", x, n);
    const act = activationCode(activation);
    this.raw.activation_forward(y, x, n, act, checkAlpha(activation, alpha));
  }

  /** dx (n) = dy (n) ⊙ f'(x), with f' read from the forward output y (n)
   *  (dx may be dy); `alpha` as in activationForward. */
  activationBackward(dx: number, dy: number, y: number, n: number, activation: Activation, alpha = 0): void {
    checkInt("n", n, 0); this.span("dx", dx, n); this.span("dy", dy, n); this.span("y", y, n);
    const act = activationCode(activation);
    this.raw.activation_backward(dx, dy, y, n, act, checkAlpha(activation, alpha));
  }

  /** Seeds the 4 × u32 state at `state` from a 53-bit integer seed. */
  rngSeed(state: number, seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0) fail("seed", "an integer in [0, 2^53)", seed);
    this.span("state", state, 4);
    this.raw.rng_seed(state, seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0);
  }

  /** Writes out (n) with uniforms on [0, 1) (24-bit resolution) from the
   *  xoshiro128** stream at `state`, and advances it by n draws. */
  rngUniform(state: number, out: number, n: number): void {
    checkInt("n", n, 0); this.span("state", state, 4); this.span("out", out, n);
    this.raw.rng_uniform(state, out, n);
  }

  /** Writes out (n) with standard normals (Box–Muller on pairs of draws)
   *  from the stream at `state`, and advances it by 2·⌈n/2⌉ draws. */
  rngNormal(state: number, out: number, n: number): void {
    checkInt("n", n, 0); this.span("state", state, 4); this.span("out", out, n);
    this.raw.rng_normal(state, out, n);
  }

  /** Reparameterized sample: z (B, L) = μ + exp(½·logvar)·ε from h (B, 2L),
   *  rows [μ (L) | logvar (L)], and eps (B, L). */
  sampleForward(z: number, h: number, eps: number, B: number, L: number): void {
    checkInt("batch", B); checkInt("latentDim", L);
    this.span("z", z, B * L); this.span("h", h, 2 * B * L); this.span("eps", eps, B * L);
    this.raw.gaussian_sample_forward(z, h, eps, B, L);
  }

  /** Adds to dh (B, 2L) the sampler's gradient from dz (B, L): dμ += dz,
   *  dlogvar += ½·dz·ε·exp(½·logvar) (h and eps as in sampleForward). */
  sampleBackward(dh: number, dz: number, h: number, eps: number, B: number, L: number): void {
    checkInt("batch", B); checkInt("latentDim", L);
    this.span("dh", dh, 2 * B * L); this.span("dz", dz, B * L); this.span("h", h, 2 * B * L); this.span("eps", eps, B * L);
    this.raw.gaussian_sample_backward(dh, dz, h, eps, B, L);
  }

  /** Writes kl (B): KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ_j (σ² + μ² − 1 − log σ²)
   *  of each row of h (B, 2L), rows [μ | logvar = log σ²]. */
  klForward(kl: number, h: number, B: number, L: number): void {
    checkInt("batch", B); checkInt("latentDim", L);
    this.span("kl", kl, B); this.span("h", h, 2 * B * L);
    this.raw.kl_normal_forward(kl, h, B, L);
  }

  /** Writes dh (B, 2L) = w·∂KL/∂h: dμ = w·μ, dlogvar = w·½·(exp(logvar) − 1)
   *  (w finite, e.g. β/B for a batch mean). */
  klBackward(dh: number, h: number, B: number, L: number, w: number): void {
    checkInt("batch", B); checkInt("latentDim", L); finite("w", w);
    this.span("dh", dh, 2 * B * L); this.span("h", h, 2 * B * L);
    this.raw.kl_normal_backward(dh, h, B, L, w);
  }

  /** S samples per row: z (B·S, L) = μ_b + σ_b·ε_bs from h (B, 2L) and eps (B·S, L). */
  sampleKForward(z: number, h: number, eps: number, B: number, S: number, L: number): void {
    checkInt("batch", B); checkInt("samples", S); checkInt("latentDim", L);
    this.span("z", z, B * S * L); this.span("h", h, 2 * B * L); this.span("eps", eps, B * S * L);
    this.raw.gaussian_sample_k_forward(z, h, eps, B, S, L);
  }

  /** Adds to dh (B, 2L) the gradient of S samples per row from dz (B·S, L). */
  sampleKBackward(dh: number, dz: number, h: number, eps: number, B: number, S: number, L: number): void {
    checkInt("batch", B); checkInt("samples", S); checkInt("latentDim", L);
    this.span("dh", dh, 2 * B * L); this.span("dz", dz, B * S * L); this.span("h", h, 2 * B * L); this.span("eps", eps, B * S * L);
    this.raw.gaussian_sample_k_backward(dh, dz, h, eps, B, S, L);
  }

  /** Writes logq (B·S) = log q(z_bs|x_b) = −½Σε² − ½Σlogvar − (L/2)·log 2π. */
  logqForward(logq: number, h: number, eps: number, B: number, S: number, L: number): void {
    checkInt("batch", B); checkInt("samples", S); checkInt("latentDim", L);
    this.span("logq", logq, B * S); this.span("h", h, 2 * B * L); this.span("eps", eps, B * S * L);
    this.raw.gaussian_logq_forward(logq, h, eps, B, S, L);
  }

  /** The log q term's gradient with coefficients c (B·S): into dh (B, 2L)
   *  (reparameterized), or into dz (B·S, L) with q's parameters held fixed (`stopped`, DReG). */
  logqBackward(a: { dh: number; dz: number; h: number; eps: number; c: number; batch: number; samples: number; latentDim: number; stopped: boolean }): void {
    const B = checkInt("batch", a.batch), S = checkInt("samples", a.samples), L = checkInt("latentDim", a.latentDim);
    this.span("h", a.h, 2 * B * L); this.span("eps", a.eps, B * S * L); this.span("c", a.c, B * S);
    if (a.stopped) this.span("dz", a.dz, B * S * L); else this.span("dh", a.dh, 2 * B * L);
    this.raw.gaussian_logq_backward(a.stopped ? 0 : a.dh, a.stopped ? a.dz : 0, a.h, a.eps, a.c, B, S, L, a.stopped ? 1 : 0);
  }

  /** Writes logp (n) = log N(z; 0, I) for z (n, L). */
  normalLogpForward(logp: number, z: number, n: number, L: number): void {
    checkInt("n", n); checkInt("latentDim", L);
    this.span("logp", logp, n); this.span("z", z, n * L);
    this.raw.normal_logp_forward(logp, z, n, L);
  }

  /** dz (n, L) += c_r·z_r (the gradient of −c·log N(z; 0, I)). */
  normalLogpBackward(dz: number, z: number, c: number, n: number, L: number): void {
    checkInt("n", n); checkInt("latentDim", L);
    this.span("dz", dz, n * L); this.span("z", z, n * L); this.span("c", c, n);
    this.raw.normal_logp_backward(dz, z, c, n, L);
  }

  /** Writes logp (n) = log Σ_k π_k·N(z; μ_k, e^(lv_k)), the
   *  responsibilities resp (n, K) and prep (K·(L + 1): e^(−lv), Σ lv), for
   *  z (n, L), components μ_k at means + k·ld and lv_k at logvars + k·ld
   *  (floats; ld ≥ L), π = softmax(logits (K)), or 1/K when logits is 0. */
  mixtureLogpForward(a: { logp: number; resp: number; prep: number; z: number; means: number; logvars: number; ld: number; logits: number; n: number; K: number; L: number }): void {
    const n = checkInt("n", a.n, 0), K = checkInt("K", a.K), L = checkInt("latentDim", a.L), ld = checkInt("ld", a.ld, L);
    this.span("logp", a.logp, n); this.span("resp", a.resp, n * K); this.span("z", a.z, n * L); this.span("prep", a.prep, K * (L + 1));
    this.span("means", a.means, (K - 1) * ld + L); this.span("logvars", a.logvars, (K - 1) * ld + L);
    if (a.logits !== 0) this.span("logits", a.logits, K);
    this.raw.prior_mixture_logp_forward(a.logp, a.resp, a.prep, a.z, a.means, a.logvars, ld, a.logits, n, K, L);
  }

  /** dz (n, L) += c_r·(−∂log p/∂z_r); writes dmeans, dlogvars (K rows at
   *  stride ld) and, with logits, dlogits (K): gradients of Σ_r −c_r·log p(z_r).
   *  resp and prep are the forward's. */
  mixtureLogpBackward(a: { dz: number; dmeans: number; dlogvars: number; dlogits: number; z: number; means: number; prep: number;
                           ld: number; logits: number; resp: number; c: number; n: number; K: number; L: number }): void {
    const n = checkInt("n", a.n, 0), K = checkInt("K", a.K), L = checkInt("latentDim", a.L), ld = checkInt("ld", a.ld, L);
    this.span("dz", a.dz, n * L); this.span("z", a.z, n * L); this.span("resp", a.resp, n * K); this.span("c", a.c, n);
    this.span("prep", a.prep, K * (L + 1));
    for (const k of ["means", "dmeans", "dlogvars"] as const) this.span(k, a[k], (K - 1) * ld + L);
    if (a.logits !== 0) { this.span("logits", a.logits, K); this.span("dlogits", a.dlogits, K); }
    this.raw.prior_mixture_logp_backward(a.dz, a.dmeans, a.dlogvars, a.dlogits, a.z, a.means, a.prep, ld, a.logits, a.resp, a.c, n, K, L);
  }

  /** x (n) = the pseudo-inputs from their parameter P (n): clamped to [0, 1] with `clamp`. */
  vampPseudoForward(x: number, P: number, n: number, clamp: boolean): void {
    checkInt("n", n); this.span("x", x, n); this.span("P", P, n);
    this.raw.vamp_pseudo_forward(x, P, n, clamp ? 1 : 0);
  }

  /** dP (n) = dx (n) where the clamp passes it (everywhere without `clamp`), else 0. */
  vampPseudoBackward(dP: number, dx: number, P: number, n: number, clamp: boolean): void {
    checkInt("n", n); this.span("dP", dP, n); this.span("dx", dx, n); this.span("P", P, n);
    this.raw.vamp_pseudo_backward(dP, dx, P, n, clamp ? 1 : 0);
  }

  /** loss (B) = −log (1/S) Σ_s exp(−nll + β·(logp − logq)) and the normalized
   *  weights wts (B·S), from nll, logp, logq (B·S). */
  iwaeForward(a: { loss: number; wts: number; nll: number; logp: number; logq: number; batch: number; samples: number; beta: number }): void {
    const B = checkInt("batch", a.batch), S = checkInt("samples", a.samples);
    finite("beta", a.beta, 0);
    this.span("loss", a.loss, B);
    for (const k of ["wts", "nll", "logp", "logq"] as const) this.span(k, a[k], B * S);
    this.raw.iwae_forward(a.loss, a.wts, a.nll, a.logp, a.logq, B, S, a.beta);
  }

  /** a (n) = w̃·scale, c (n) = β·w̃·scale (β·w̃²·scale with `dreg`). */
  iwaeBackward(a: { a: number; c: number; wts: number; n: number; beta: number; scale: number; dreg: boolean }): void {
    const n = checkInt("n", a.n, 0);
    finite("beta", a.beta, 0); finite("scale", a.scale);
    this.span("a", a.a, n); this.span("c", a.c, n); this.span("wts", a.wts, n);
    this.raw.iwae_backward(a.a, a.c, a.wts, n, a.beta, a.scale, a.dreg ? 1 : 0);
  }

  /** y (rows, D): row r *= coef[r]. */
  rowsScale(y: number, coef: number, rows: number, D: number): void {
    checkInt("rows", rows, 0); checkInt("dim", D);
    this.span("y", y, rows * D); this.span("coef", coef, rows);
    this.raw.rows_scale(y, coef, rows, D);
  }

  // ---- categorical latent (assembly/categorical.ts): N variables × K classes, rows of N·K

  /** In place: uniforms u (n) from rng_uniform → Gumbel(0, 1) noise −log(−log(u + 2⁻²⁵)). */
  gumbelFromUniform(g: number, n: number): void {
    checkInt("n", n, 0);
    this.span("g", g, n);
    this.raw.gumbel_from_uniform(g, n);
  }

  /** Writes z (B·S, N·K): softmax((l + g)/τ) per variable from logits h
   *  (B, N·K) and Gumbel noise eps (B·S, N·K), or with `hard` the one-hot
   *  argmax of l + g. */
  categoricalSampleForward(a: { z: number; h: number; eps: number; batch: number; samples: number; variables: number; classes: number; tau: number; hard: boolean }): void {
    const B = checkInt("batch", a.batch), S = checkInt("samples", a.samples), N = checkInt("variables", a.variables), K = checkInt("classes", a.classes);
    finite("tau", a.tau); if (!(a.tau > 0)) fail("tau", "a finite number > 0", a.tau);
    this.span("z", a.z, B * S * N * K); this.span("h", a.h, B * N * K); this.span("eps", a.eps, B * S * N * K);
    this.raw.categorical_sample_forward(a.z, a.h, a.eps, B, S, N, K, a.tau, a.hard ? 1 : 0);
  }

  /** Adds to dh (B, N·K) the gradient through the relaxed sample from dz (B·S, N·K). */
  categoricalSampleBackward(a: { dh: number; dz: number; h: number; eps: number; batch: number; samples: number; variables: number; classes: number; tau: number }): void {
    const B = checkInt("batch", a.batch), S = checkInt("samples", a.samples), N = checkInt("variables", a.variables), K = checkInt("classes", a.classes);
    finite("tau", a.tau); if (!(a.tau > 0)) fail("tau", "a finite number > 0", a.tau);
    this.span("dh", a.dh, B * N * K); this.span("dz", a.dz, B * S * N * K); this.span("h", a.h, B * N * K); this.span("eps", a.eps, B * S * N * K);
    this.raw.categorical_sample_backward(a.dh, a.dz, a.h, a.eps, B, S, N, K, a.tau);
  }

  /** Writes kl (B) = Σ_n Σ_k q_nk·(log q_nk + log K), q = softmax of each variable's logits in h (B, N·K). */
  categoricalKlForward(kl: number, h: number, B: number, N: number, K: number): void {
    checkInt("batch", B); checkInt("variables", N); checkInt("classes", K);
    this.span("kl", kl, B); this.span("h", h, B * N * K);
    this.raw.categorical_kl_forward(kl, h, B, N, K);
  }

  /** Writes dh (B, N·K) = w·∂KL/∂h = w·q·(log q − Σ q log q) per variable. */
  categoricalKlBackward(dh: number, h: number, B: number, N: number, K: number, w: number): void {
    checkInt("batch", B); checkInt("variables", N); checkInt("classes", K); finite("w", w);
    this.span("dh", dh, B * N * K); this.span("h", h, B * N * K);
    this.raw.categorical_kl_backward(dh, h, B, N, K, w);
  }

  /** Writes logq (B·S) = Σ z·log softmax(l) for codes z (B·S, N·K) and logits h (B, N·K). */
  categoricalLogqForward(logq: number, h: number, z: number, B: number, S: number, N: number, K: number): void {
    checkInt("batch", B); checkInt("samples", S); checkInt("variables", N); checkInt("classes", K);
    this.span("logq", logq, B * S); this.span("h", h, B * N * K); this.span("z", z, B * S * N * K);
    this.raw.categorical_logq_forward(logq, h, z, B, S, N, K);
  }

  /** Writes out (B·S) = Σ_n log density of the relaxed sample softmax((l + g)/τ) of each
   *  sample row, from logits h (B, N·K) and Gumbel noise eps (B·S, N·K): under the
   *  posterior concrete(e^l, τ), or with `uniform` the uniform prior's concrete(1, τ). */
  concreteLogDensityForward(a: { out: number; h: number; eps: number; batch: number; samples: number; variables: number; classes: number; tau: number; uniform: boolean }): void {
    const B = checkInt("batch", a.batch), S = checkInt("samples", a.samples), N = checkInt("variables", a.variables), K = checkInt("classes", a.classes, 2);
    finite("tau", a.tau); if (!(a.tau > 0)) fail("tau", "a finite number > 0", a.tau);
    this.span("out", a.out, B * S); this.span("h", a.h, B * N * K); this.span("eps", a.eps, B * S * N * K);
    this.raw.concrete_log_density_forward(a.out, a.h, a.eps, B, S, N, K, a.tau, concreteConstant(K, a.tau), a.uniform ? 1 : 0);
  }

  /** dh (B, N·K) += w·Σ_s c_r·∂(log density_r)/∂l: the total derivative through the
   *  reparameterized sample (c: B·S coefficients). */
  concreteLogDensityBackward(a: { dh: number; h: number; eps: number; c: number; batch: number; samples: number; variables: number; classes: number; tau: number; uniform: boolean; w: number }): void {
    const B = checkInt("batch", a.batch), S = checkInt("samples", a.samples), N = checkInt("variables", a.variables), K = checkInt("classes", a.classes, 2);
    finite("tau", a.tau); if (!(a.tau > 0)) fail("tau", "a finite number > 0", a.tau);
    finite("w", a.w);
    this.span("dh", a.dh, B * N * K); this.span("h", a.h, B * N * K); this.span("eps", a.eps, B * S * N * K); this.span("c", a.c, B * S);
    this.raw.concrete_log_density_backward(a.dh, a.h, a.eps, a.c, B, S, N, K, a.tau, a.uniform ? 1 : 0, a.w);
  }

  /** Writes logp (n) = log N(z; μ, diag e^v) for z (n, L) and h (n, 2L) rows [μ | v]. */
  condLogpForward(logp: number, z: number, h: number, n: number, L: number): void {
    checkInt("n", n, 0); checkInt("latentDim", L);
    this.span("logp", logp, n); this.span("z", z, n * L); this.span("h", h, 2 * n * L);
    this.raw.gaussian_cond_logp_forward(logp, z, h, n, L);
  }

  /** dz (n, L) += c_r·(z − μ)/σ²; writes dh (n, 2L), the gradient of −Σ c_r·log N(z_r; μ_r, σ_r²). */
  condLogpBackward(a: { dz: number; dh: number; z: number; h: number; c: number; n: number; latentDim: number }): void {
    const n = checkInt("n", a.n, 0), L = checkInt("latentDim", a.latentDim);
    this.span("dz", a.dz, n * L); this.span("dh", a.dh, 2 * n * L); this.span("z", a.z, n * L);
    this.span("h", a.h, 2 * n * L); this.span("c", a.c, n);
    this.raw.gaussian_cond_logp_backward(a.dz, a.dh, a.z, a.h, a.c, n, L);
  }

  /** out (n) = cond + logp − logq. */
  hierarchyCombine(out: number, cond: number, logp: number, logq: number, n: number): void {
    checkInt("n", n, 0);
    for (const [k, p] of [["out", out], ["cond", cond], ["logp", logp], ["logq", logq]] as const) this.span(k, p, n);
    this.raw.hierarchy_logp_combine(out, cond, logp, logq, n);
  }

  /** Writes nll (B): −log p(x|logits) of each row, summed over D, for logits
   *  (B, D) and targets x (B, D) in [0, 1]. */
  bernoulliForward(nll: number, logits: number, x: number, B: number, D: number): void {
    checkInt("batch", B); checkInt("dim", D);
    this.span("nll", nll, B); this.span("logits", logits, B * D); this.span("x", x, B * D);
    this.raw.bernoulli_nll_forward(nll, logits, x, B, D);
  }

  /** Writes dlogits (B, D) = w·(σ(logits) − x) (w finite). */
  bernoulliBackward(dlogits: number, logits: number, x: number, B: number, D: number, w: number): void {
    checkInt("batch", B); checkInt("dim", D); finite("w", w);
    this.span("dlogits", dlogits, B * D); this.span("logits", logits, B * D); this.span("x", x, B * D);
    this.raw.bernoulli_nll_backward(dlogits, logits, x, B, D, w);
  }

  /** bernoulliForward and bernoulliBackward in one pass (one exp per
   *  element): writes nll (B) and dlogits (B, D). */
  bernoulliForwardBackward(nll: number, dlogits: number, logits: number, x: number, B: number, D: number, w: number): void {
    checkInt("batch", B); checkInt("dim", D); finite("w", w);
    this.span("nll", nll, B); this.span("dlogits", dlogits, B * D); this.span("logits", logits, B * D); this.span("x", x, B * D);
    this.raw.bernoulli_nll_forward_backward(nll, dlogits, logits, x, B, D, w);
  }

  /** Writes nll (B) = Σ_d (x − μ)²/(2σ²) + log σ + ½·log 2π per row, for
   *  means (B, D), targets x (B, D) and a fixed σ > 0. */
  gaussianForward(nll: number, mean: number, x: number, B: number, D: number, sigma: number): void {
    checkInt("batch", B); checkInt("dim", D); positive("sigma", sigma);
    this.span("nll", nll, B); this.span("mean", mean, B * D); this.span("x", x, B * D);
    this.raw.gaussian_nll_forward(nll, mean, x, B, D, sigma);
  }

  /** Writes dmean (B, D) = w·(μ − x)/σ² (σ > 0, w finite). */
  gaussianBackward(dmean: number, mean: number, x: number, B: number, D: number, sigma: number, w: number): void {
    checkInt("batch", B); checkInt("dim", D); positive("sigma", sigma); finite("w", w);
    this.span("dmean", dmean, B * D); this.span("mean", mean, B * D); this.span("x", x, B * D);
    this.raw.gaussian_nll_backward(dmean, mean, x, B, D, sigma, w);
  }

  /** Writes nll (B) = Σ_d ½(x − μ)²·e^(−2s) + s + ½·log 2π per row, for out
   *  (B, 2D), rows [μ (D) | s = log σ (D)], and targets x (B, D). */
  gaussianLearnedForward(nll: number, out: number, x: number, B: number, D: number): void {
    checkInt("batch", B); checkInt("dim", D);
    this.span("nll", nll, B); this.span("out", out, 2 * B * D); this.span("x", x, B * D);
    this.raw.gaussian_learned_nll_forward(nll, out, x, B, D);
  }

  /** Writes dout (B, 2D), rows [w·(μ − x)·e^(−2s) | w·(1 − (x − μ)²·e^(−2s))]
   *  (out and x as in gaussianLearnedForward; w finite). */
  gaussianLearnedBackward(dout: number, out: number, x: number, B: number, D: number, w: number): void {
    checkInt("batch", B); checkInt("dim", D); finite("w", w);
    this.span("dout", dout, 2 * B * D); this.span("out", out, 2 * B * D); this.span("x", x, B * D);
    this.raw.gaussian_learned_nll_backward(dout, out, x, B, D, w);
  }

  /** One Adam/AdamW update of p, m, v (n) from g (n). `t` is the 1-based step.
   *  Returns 1 if some parameter kept its old value because its update was
   *  not finite, else 0. */
  adamStep(a: { p: number; g: number; m: number; v: number; n: number; lr: number; beta1: number;
    beta2: number; eps: number; weightDecay: number; t: number }): number {
    checkInt("n", a.n, 0); checkInt("t", a.t, 1);
    checkLearningRate("lr", a.lr);
    checkAdamHyperparameters(a);
    for (const k of ["p", "g", "m", "v"] as const) this.span(k, a[k], a.n);
    const bc1 = 1 / (1 - Math.pow(a.beta1, a.t));
    const bc2 = 1 / (1 - Math.pow(a.beta2, a.t));
    return this.raw.adam_step(a.p, a.g, a.m, a.v, a.n, a.lr, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.eps, 1 - a.lr * a.weightDecay, bc1, bc2);
  }

  /** Writes x (n) = value (finite). */
  fill(x: number, n: number, value: number): void {
    checkInt("n", n, 0); finite("value", value); this.span("x", x, n);
    this.raw.fill(x, n, value);
  }

  /** Writes dst (n) = src (n) (the regions may overlap). */
  copy(dst: number, src: number, n: number): void {
    checkInt("n", n, 0); this.span("dst", dst, n); this.span("src", src, n);
    this.raw.copy(dst, src, n);
  }

  /** y (n) += a·x (n) (a finite). */
  axpy(y: number, x: number, n: number, a: number): void {
    checkInt("n", n, 0); finite("a", a); this.span("y", y, n); this.span("x", x, n);
    this.raw.axpy(y, x, n, a);
  }

  /** x (n) *= s (s finite). */
  scale(x: number, n: number, s: number): void {
    checkInt("n", n, 0); finite("s", s); this.span("x", x, n);
    this.raw.scale(x, n, s);
  }

  /** Σ x² over x (n), accumulated in float64 in a fixed order. */
  sumSquares(x: number, n: number): number {
    checkInt("n", n, 0); this.span("x", x, n);
    return this.raw.sum_squares(x, n);
  }

  /** Whether every element of x (n) is finite (no NaN, no ±∞). */
  allFinite(x: number, n: number): boolean {
    checkInt("n", n, 0); this.span("x", x, n);
    return this.raw.all_finite(x, n) === 1;
  }

  /** Index of the first element of x (n) outside [lo, hi] (NaN is outside), or −1. */
  firstOutside(x: number, n: number, lo: number, hi: number): number {
    checkInt("n", n, 0); finite("lo", lo); finite("hi", hi); this.span("x", x, n);
    if (!this.raw.first_outside) throw new Error("this wasm build has no first_outside kernel");
    return this.raw.first_outside(x, n, lo, hi);
  }
}

function finite(name: string, v: number, min?: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(name, "a finite number", v);
  if (min !== undefined && v < min) fail(name, `a finite number ≥ ${min}`, v);
}

/** α must be finite; leaky_relu and elu also need α ≥ 0, because their
 *  backward reads f' from the sign of the output (assembly/activation.ts). */
function checkAlpha(activation: Activation, alpha: number): number {
  finite("alpha", alpha);
  if ((activation === "leaky_relu" || activation === "elu") && alpha < 0) {
    fail("alpha", `a finite number ≥ 0 for ${activation}`, alpha);
  }
  return alpha;
}

function positive(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(name, "a finite number > 0", v);
}

/** log Γ(K) + (K−1)·log τ: the constant of the concrete density of K classes. */
export function concreteConstant(K: number, tau: number): number {
  let lg = 0;
  for (let i = 2; i < K; i++) lg += Math.log(i);
  return lg + (K - 1) * Math.log(tau);
}
