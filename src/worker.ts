// The page side of `wasm-vae/worker`: a WorkerTrainer drives a VAE that lives
// in a Web Worker (or a Node worker_thread) running `serveTrainer`
// (worker-host.ts), so training never blocks the page. Calls are requests with
// ids; training streams "batch" and "epoch" events; results come back with
// their ArrayBuffers transferred, not copied.
//
// This module imports no wasm and no model code (only types), so a page that
// drives a worker stays light. Not here: the worker's side (worker-host.ts) or
// the ready-made worker script (worker-entry.ts).
import type { TransferList } from "./host-types.js";
import type { AdamOptions, AdamState } from "./adam.js";
import type { ResolvedConfig, VAEConfig } from "./config.js";
import type { BatchInfo, EpochInfo, FitHistory } from "./fit.js";
import type { ImputeOptions } from "./imputation.js";
import type { Rows } from "./model.js";
import type { Build, BuildRequest, Variant } from "./wasm.js";
import { ArgumentError } from "./validate.js";

export type { TransferList } from "./host-types.js";

// ------------------------------------------------------------------ protocol

/** Operations the worker serves (one per request). */
export type TrainerOp =
  | "create" | "load" | "info" | "setData" | "deleteData" | "fit" | "stop"
  | "sample" | "encode" | "decode" | "reconstruct" | "interpolate" | "impute" | "elbo"
  | "getWeights" | "setWeights" | "save" | "dispose";

/** page → worker */
export interface TrainerRequest {
  /** Matches the reply (result or error) and the events of this request. */
  id: number;
  /** What to do. */
  op: TrainerOp;
  /** The method's arguments, structured-cloneable. */
  args: unknown[];
}

/** worker → page */
export type TrainerMessage =
  | {
    /** The worker has loaded and serves requests. */
    kind: "ready";
  }
  | {
    /** A request finished. */
    kind: "result";
    /** The request's id. */
    id: number;
    /** What the method returned. */
    value: unknown;
  }
  | {
    /** A request failed. */
    kind: "error";
    /** The request's id. */
    id: number;
    /** The error, re-thrown on the page as a WorkerError. */
    error: SerializedError;
  }
  | {
    /** Training progress of a running fit. */
    kind: "event";
    /** The fit request's id. */
    id: number;
    /** A finished batch. */
    event: "batch";
    /** Its loss and counters. */
    data: BatchInfo;
  }
  | {
    /** Training progress of a running fit. */
    kind: "event";
    /** The fit request's id. */
    id: number;
    /** A finished epoch. */
    event: "epoch";
    /** Its metrics. */
    data: EpochInfo;
  };

/** An error as it crosses postMessage. */
export interface SerializedError {
  /** The error class name, e.g. "ArgumentError". */
  name: string;
  /** Its message. */
  message: string;
  /** The stack inside the worker, when there was one. */
  stack?: string;
}

/** LoadOptions that can cross a postMessage (URLs as strings). */
export interface WorkerLoadOptions {
  /** The kernel build (see LoadOptions.build). */
  build?: BuildRequest;
  /** Force the bit-reproducible plain build (see LoadOptions.deterministic). */
  deterministic?: boolean;
  /** Where the worker finds each build's wasm: bytes or a URL string. */
  wasm?: Partial<Record<Variant, ArrayBuffer | ArrayBufferView | string>>;
  /** Threads for the worker's kernels (its own helper workers); see VAE.create. */
  threads?: number | "auto";
}

/** What the worker reports about its model and runtime. */
export interface ModelInfo {
  /** The model's configuration with every default filled in. */
  config: ResolvedConfig;
  /** The kernel build that runs ("plain" or "relaxed"). */
  build: Build;
  /** Whether the worker's runtime validates the relaxed-SIMD build. */
  relaxedSimd: boolean;
  /** Whether the worker can share memory with the page (SharedArrayBuffer
   *  usable: cross-origin isolated pages, or Node). */
  sharedMemory: boolean;
  /** Threads the worker's kernels run on (its own helper workers). */
  threads: number;
  /** Why fewer threads run than were asked for (e.g. no cross-origin
   *  isolation), or null. */
  threadsNote: string | null;
  /** Number of trainable parameters. */
  parameterCount: number;
  /** The optimizer's settings and step (lr null when it is a schedule). */
  optimizer: AdamState;
  /** Training steps taken. */
  steps: number;
  /** Completed epochs of fit. */
  epochs: number;
  /** Where the worker runs. */
  runtime: "browser" | "node";
}

/** Rows [start, start + count) of data stored in the worker with setData
 *  (rows of the model's inputDim); a view there, nothing crosses. */
export interface DataSlice {
  /** The name given to setData. */
  data: string;
  /** First row (default 0). */
  start?: number;
  /** Number of rows (default: to the end). */
  count?: number;
}

/** Rows, or a reference to rows stored in the worker (its name or a slice). */
export type DataRef = Rows | string | DataSlice;

/** fit options that can cross a postMessage, plus page-side callbacks. */
export interface WorkerFitOptions {
  /** See FitOptions.epochs. */
  epochs?: number;
  /** See FitOptions.batchSize. */
  batchSize?: number;
  /** See FitOptions.shuffle. */
  shuffle?: boolean;
  /** Condition rows of a conditional model (rows or data in the worker). */
  condition?: DataRef;
  /** See FitOptions.klWarmupSteps. */
  klWarmupSteps?: number;
  /** See FitOptions.klWarmupEpochs. */
  klWarmupEpochs?: number;
  /** Validation rows (rows or data in the worker), evaluated after each epoch. */
  validation?: DataRef;
  /** A new Adam with these settings before training (a number lr only);
   *  omitted, the model keeps its optimizer and its moments. */
  optimizer?: Omit<AdamOptions, "lr"> & {
    /** Learning rate (a number; schedules cannot cross postMessage). */
    lr?: number;
  };
  /** Threads for this fit (at most the model's; see FitOptions.threads). */
  threads?: number;
  /** See FitOptions.binarize ("dynamic" or "static"). */
  binarize?: "dynamic" | "static";
  /** See FitOptions.binarizeSeed. */
  binarizeSeed?: number;
  /** Send a "batch" event every this many batches (default 1); the last
   *  batch of each epoch is always sent. */
  batchEvery?: number;
  /** Transfer (detach) the data's buffer instead of copying it. */
  transfer?: boolean;
  /** Called on the page for each "batch" event of this fit. */
  onBatch?: (info: BatchInfo) => void;
  /** Called on the page for each "epoch" event of this fit. */
  onEpoch?: (info: EpochInfo) => void;
  /** Aborting it stops training (like `stop()`). */
  signal?: AbortSignal;
}

/** What setData stored. */
export interface StoredData {
  /** The name it is stored under. */
  name: string;
  /** Its number of values. */
  length: number;
}

/** q(z|x) of each row, row-major (rows, latentDim). */
export interface Encoding {
  /** Means μ. */
  mean: Float32Array;
  /** Log-variances log σ². */
  logvar: Float32Array;
  /** A categorical latent only: log π (then `mean` is π; see VAE.encode). */
  logits?: Float32Array;
}

/** Per-row ELBO and its terms (nats). */
export interface ElboTerms {
  /** −(reconstruction + kl): the ELBO estimate. */
  elbo: Float32Array;
  /** −E_q[log p(x|z)]. */
  reconstruction: Float32Array;
  /** KL(q(z|x) ‖ N(0, I)). */
  kl: Float32Array;
}

/** The events of WorkerTrainer.on and their payloads. */
export interface TrainerEvents {
  /** A training batch finished (every `batchEvery` batches). */
  batch: BatchInfo;
  /** A training epoch finished. */
  epoch: EpochInfo;
  /** The worker failed outside any request (e.g. its script did not load). */
  error: Error;
}

/** An error thrown inside the worker, re-thrown on the page with the same
 *  name and message (e.g. name "ModelFormatError" for a bad model file). */
export class WorkerError extends Error {
  /** The stack inside the worker, when it had one. */
  readonly remoteStack?: string;
  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name;
    this.remoteStack = e.stack;
  }
}

// ------------------------------------------------------------------ channel

/** A browser Worker (or MessagePort) or a Node worker_threads Worker. */
export type WorkerLike =
  | {
    /** Sends a request. */
    postMessage(message: unknown, transfer: TransferList): void;
    /** Listens for replies and errors. */
    addEventListener(type: string, fn: (e: any) => void): void;
    /** Ends the worker. */
    terminate?(): void;
  }
  | {
    /** Sends a request. */
    postMessage(message: unknown, transfer?: readonly any[]): void;
    /** Listens for replies, errors and exit. */
    on(type: string, fn: (v: any) => void): unknown;
    /** Ends the worker. */
    terminate?(): unknown;
  };

interface Pending { resolve(v: unknown): void; reject(e: Error): void }

/**
 * Runs a VAE in a worker:
 *
 *   const trainer = new WorkerTrainer(new Worker(url, { type: "module" }));
 *   await trainer.create({ inputDim: 784, latentDim: 2 }, { build: "auto" });
 *   trainer.on("batch", (b) => chart.push(b.loss));
 *   await trainer.setData("train", images, { transfer: true });
 *   const history = await trainer.fit("train", { epochs: 5 });   // trainer.stop() ends it early
 *   const digits = await trainer.sample(16);
 *
 * Every method returns a promise; calls are served in order, and inference
 * calls made during `fit` run between two training steps. Arguments named x
 * take rows or a DataRef to data already in the worker ("test", or
 * { data: "test", start: 0, count: 16 }), which crosses nothing.
 */
export class WorkerTrainer {
  /** The worker this trainer drives. */
  readonly worker: WorkerLike;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners: { [K in keyof TrainerEvents]: Set<(e: TrainerEvents[K]) => void> } = {
    batch: new Set(), epoch: new Set(), error: new Set(),
  };
  private fitCallbacks = new Map<number, Pick<WorkerFitOptions, "onBatch" | "onEpoch">>();
  private queue: [TrainerRequest, Transferable[]][] | null = [];
  private failed: Error | null = null;

  /** `worker`: a Worker (browser or Node worker_threads) running
   *  serveTrainer, or the URL of a module worker script (browsers). */
  constructor(worker: WorkerLike | URL | string) {
    if (typeof worker === "string" || worker instanceof URL) {
      if (typeof Worker !== "function") {
        throw new ArgumentError("WorkerTrainer: this runtime has no global Worker; pass a worker_threads Worker instead of a URL");
      }
      worker = new Worker(worker, { type: "module" }) as unknown as WorkerLike;
    }
    if (!worker || typeof (worker as { postMessage?: unknown }).postMessage !== "function") {
      throw new ArgumentError("WorkerTrainer: expected a Worker, a worker_threads Worker or a script URL");
    }
    this.worker = worker;
    const onMessage = (m: TrainerMessage) => this.receive(m);
    const onError = (e: unknown) => this.fail(toError(e));
    if ("on" in worker && typeof worker.on === "function") {
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("messageerror", onError);
      worker.on("exit", (code: number) => this.fail(new Error(`WorkerTrainer: the worker exited (code ${code})`)));
    } else {
      const w = worker as { addEventListener(type: string, fn: (e: any) => void): void };
      w.addEventListener("message", (e: MessageEvent) => onMessage(e.data as TrainerMessage));
      w.addEventListener("error", (e: ErrorEvent) => {
        e.preventDefault?.();
        onError(e.error ?? new Error(`WorkerTrainer: the worker failed: ${e.message || "its script did not load (check its URL and that it is a module worker)"}`));
      });
      w.addEventListener("messageerror", () => onError(new Error("WorkerTrainer: a message from the worker could not be deserialized")));
      (worker as { start?(): void }).start?.(); // a MessagePort delivers only once started
    }
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof TrainerEvents>(type: K, fn: (e: TrainerEvents[K]) => void): () => void {
    const set = this.listeners[type] as Set<(e: TrainerEvents[K]) => void>;
    if (!set) throw new ArgumentError(`WorkerTrainer.on: unknown event ${JSON.stringify(type)} (batch, epoch or error)`);
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Creates the worker's model (replacing any previous one). */
  create(config: VAEConfig, options: WorkerLoadOptions = {}): Promise<ModelInfo> {
    return this.call("create", [config, cloneableLoadOptions(options)]) as Promise<ModelInfo>;
  }

  /** Replaces the worker's model by one read from a model file. Everything is
   *  checked first: on error (a WorkerError named "ModelFormatError") the
   *  current model is untouched. Options default to those of the last create. */
  load(bytes: Uint8Array | ArrayBuffer, options?: WorkerLoadOptions): Promise<ModelInfo> {
    const u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
    return this.call("load", [u8, options === undefined ? undefined : cloneableLoadOptions(options)]) as Promise<ModelInfo>;
  }

  /** The worker's model, build and runtime. */
  info(): Promise<ModelInfo> {
    return this.call("info", []) as Promise<ModelInfo>;
  }

  /** Stores rows in the worker under `name` (for fit/validation by name).
   *  A SharedArrayBuffer-backed array is shared, not copied; with
   *  `transfer: true` the buffer moves to the worker (detached here). */
  setData(name: string, rows: Rows, options: { transfer?: boolean } = {}): Promise<StoredData> {
    return this.call("setData", [name, rows], options.transfer ? transferOf(rows) : []) as Promise<StoredData>;
  }

  /** Forgets data stored with setData; resolves false when there was none. */
  deleteData(name: string): Promise<boolean> {
    return this.call("deleteData", [name]) as Promise<boolean>;
  }

  /** Trains (VAE.fit in the worker), streaming "batch"/"epoch" events. Resolves
   *  with the history; `history.aborted` after `stop()` or an aborted signal. */
  async fit(data: DataRef, options: WorkerFitOptions = {}): Promise<FitHistory> {
    const { onBatch, onEpoch, signal, transfer, ...wire } = options;
    if (signal?.aborted) return { epochs: [], aborted: true };
    const id = this.nextId;
    this.fitCallbacks.set(id, { onBatch, onEpoch });
    const onAbort = () => { void this.stop(); };
    signal?.addEventListener("abort", onAbort);
    try {
      return await this.call("fit", [data, wire], transfer ? transferOf(data) : []) as FitHistory;
    } finally {
      this.fitCallbacks.delete(id);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Stops a running fit after its current step (no-op when none runs, or
   *  when the worker is gone; never rejects). */
  stop(): Promise<void> {
    return (this.call("stop", []) as Promise<void>).catch(() => undefined);
  }

  /** `n` rows decoded from z ~ N(0, T²·I); see VAE.sample. */
  sample(n: number, options: { temperature?: number; condition?: Rows } = {}): Promise<Float32Array> {
    return this.call("sample", [n, options]) as Promise<Float32Array>;
  }

  /** q(z|x) of each row: means and log-variances; see VAE.encode. */
  encode(x: DataRef, options: { condition?: Rows } = {}): Promise<Encoding> {
    return this.call("encode", [x, options]) as Promise<Encoding>;
  }

  /** The likelihood's mean for each latent row; see VAE.decode. */
  decode(z: Rows, options: { condition?: Rows } = {}): Promise<Float32Array> {
    return this.call("decode", [z, options]) as Promise<Float32Array>;
  }

  /** Decoded encodings of each row; see VAE.reconstruct. */
  reconstruct(x: DataRef, options: { condition?: Rows; sample?: boolean } = {}): Promise<Float32Array> {
    return this.call("reconstruct", [x, options]) as Promise<Float32Array>;
  }

  /** Decodings along the path between two rows' encodings; see VAE.interpolate. */
  interpolate(xa: DataRef, xb: DataRef, steps: number, options: { spherical?: boolean; condition?: Rows } = {}): Promise<Float32Array> {
    return this.call("interpolate", [xa, xb, steps, options]) as Promise<Float32Array>;
  }

  /** Fills the unobserved entries (mask 0) of x; see VAE.impute. */
  impute(x: DataRef, mask: ArrayLike<number | boolean>, options: ImputeOptions = {}): Promise<Float32Array> {
    // booleans become 0/1 for the transfer; anything else goes through as given for VAE.impute to check
    const m = ArrayBuffer.isView(mask) ? mask : Array.from(mask as ArrayLike<number | boolean>, (v) => (v === true ? 1 : v === false ? 0 : v));
    return this.call("impute", [x, m, options]) as Promise<Float32Array>;
  }

  /** Per-row ELBO and its terms; see VAE.elbo. */
  elbo(x: DataRef, options: { condition?: Rows; samples?: number } = {}): Promise<ElboTerms> {
    return this.call("elbo", [x, options]) as Promise<ElboTerms>;
  }

  /** Copies of every parameter tensor; see VAE.getWeights. */
  getWeights(): Promise<Record<string, Float32Array>> {
    return this.call("getWeights", []) as Promise<Record<string, Float32Array>>;
  }

  /** Sets some or all parameters (checked first; see VAE.setWeights). With
   *  `transfer: true` the arrays' buffers move to the worker. */
  setWeights(weights: Record<string, Float32Array>, options: { transfer?: boolean } = {}): Promise<void> {
    const t = options.transfer ? Object.values(weights).flatMap((w) => transferOf(w)) : [];
    return this.call("setWeights", [weights], [...new Set(t)]) as Promise<void>;
  }

  /** The model file (VAE.save in the worker), transferred to the page. */
  save(options: { optimizer?: boolean } = {}): Promise<Uint8Array> {
    return this.call("save", [options]) as Promise<Uint8Array>;
  }

  /** Frees the worker's model and data (the worker keeps running). */
  dispose(): Promise<void> {
    return this.call("dispose", []) as Promise<void>;
  }

  /** Ends the worker; pending calls reject. */
  async terminate(): Promise<void> {
    this.fail(new Error("WorkerTrainer: terminated"), false);
    await this.worker.terminate?.();
  }

  // ---------------------------------------------------------------- plumbing

  private call(op: TrainerOp, args: unknown[], transfer: Transferable[] = []): Promise<unknown> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const req: TrainerRequest = { id, op, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.queue) this.queue.push([req, transfer]);
      else this.post(req, transfer);
    });
  }

  private post(req: TrainerRequest, transfer: Transferable[]): void {
    try {
      this.worker.postMessage(req, transfer);
    } catch (e) {
      const p = this.pending.get(req.id);
      this.pending.delete(req.id);
      p?.reject(toError(e));
    }
  }

  private receive(m: TrainerMessage): void {
    if (!m || typeof m !== "object") return;
    if (m.kind === "ready") {
      const q = this.queue ?? [];
      this.queue = null;
      for (const [req, t] of q) this.post(req, t);
      return;
    }
    if (m.kind === "event") {
      const cb = this.fitCallbacks.get(m.id);
      if (m.event === "batch") {
        cb?.onBatch?.(m.data);
        for (const fn of this.listeners.batch) fn(m.data);
      } else {
        cb?.onEpoch?.(m.data);
        for (const fn of this.listeners.epoch) fn(m.data);
      }
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.kind === "result") p.resolve(m.value);
    else p.reject(new WorkerError(m.error));
  }

  private fail(e: Error, emit = true): void {
    if (this.failed) return;
    this.failed = e;
    this.queue = null;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    if (emit) for (const fn of this.listeners.error) fn(e);
  }
}

function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  const msg = e && typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : String(e);
  return new Error(`WorkerTrainer: the worker failed: ${msg}`);
}

/** The buffer of a typed array, when it can be transferred (not shared). */
function transferOf(x: unknown): Transferable[] {
  if (!ArrayBuffer.isView(x)) return [];
  const buf = x.buffer;
  if (typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer) return [];
  return [buf as ArrayBuffer];
}

function cloneableLoadOptions(o: WorkerLoadOptions | { wasm?: Record<string, unknown> }): WorkerLoadOptions {
  if (!o || typeof o !== "object") return o as WorkerLoadOptions;
  const out: WorkerLoadOptions = { ...(o as WorkerLoadOptions) };
  if (out.wasm) {
    const w: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(out.wasm)) w[k] = v instanceof URL ? v.href : v;
    out.wasm = w as WorkerLoadOptions["wasm"];
  }
  return out;
}
