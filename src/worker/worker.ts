// The page side of `wasm-vae/worker`: a WorkerTrainer drives a VAE that lives
// in a Web Worker (or a Node worker_thread) running `serveTrainer`
// (host.ts), so training never blocks the page. Calls are requests with
// ids; training streams "batch" and "epoch" events; results come back with
// their ArrayBuffers transferred, not copied.
//
// Its methods come from one declaration, VAE_SURFACE (every member of VAE and
// how the worker offers it), and their types from VAE's own signatures, so
// nothing of VAE is copied by hand here or in host.ts.
// This module imports no wasm and no model code (only types), so a page that
// drives a worker stays light. Not here: the worker's side (host.ts) or
// the ready-made worker script (worker-entry.ts).
import type { TransferList } from "../base/host-types.js";
import type { AdamOptions, AdamState } from "../optim/adam.js";
import type { VAEConfig } from "../model/config.js";
import type { BatchInfo, EpochInfo, FitHistory, FitOptions } from "../training/fit.js";
import type { Rows, VAE } from "../vae.js";
import type { LoadOptions, Variant } from "../kernels/wasm.js";
import { ArgumentError } from "../base/validate.js";

export type { TransferList } from "../base/host-types.js";

// ------------------------------------------------------------------ surface

/** Where a DataSlice's rows get their width: the model's inputDim, latentDim
 *  or conditionDim. */
export type RowsDim = "input" | "latent" | "condition";

/** How a WorkerTrainer offers one public member of VAE (see VAE_SURFACE):
 *  - "call": `trainer.<name>(...)` takes the VAE method's arguments and
 *    resolves with its result. `rows` names the positional arguments that
 *    may also be a DataRef (data stored in the worker); options keys of
 *    ROW_OPTIONS may be one too. `transfer` is the position of a worker-only
 *    `{ transfer?: boolean }` argument. `mutates`: refused while fit runs.
 *  - "trainer": WorkerTrainer has its own method of that name, with worker
 *    semantics (fit streams events; load replaces the worker's model; dispose
 *    ends the worker).
 *  - "info": a property, reported by `trainer.info()`.
 *  - "local": cannot cross postMessage (the reason says why).
 *  - "internal" / "private": not part of the public API. */
export type SurfaceEntry =
  | {
    /** Forwarded to the worker's VAE. */
    serve: "call";
    /** Positional arguments that take rows or a DataRef, with their width. */
    rows?: { readonly [position: string]: RowsDim };
    /** Position of a worker-only `{ transfer?: boolean }` argument. */
    transfer?: number;
    /** Changes the model: refused while training runs. */
    mutates?: boolean;
  }
  | {
    /** Served otherwise, as said above. */
    serve: "trainer" | "info" | "local" | "internal" | "private";
    /** Why, for "local". */
    reason?: string;
  };

/**
 * Every member of VAE (instance and static), and how a WorkerTrainer offers
 * it: the one list the worker is built from. WorkerTrainer's "call" methods,
 * their argument and option types, the worker's dispatch and ModelInfo are
 * derived from it and from VAE's own signatures, so an option added to a VAE
 * method reaches the worker with nothing else to change. The build fails when
 * a public VAE member is missing here (the check below this list), and
 * tests/browser/worker-surface.test.ts fails when a prototype member is.
 * (Read it in src/worker/worker.ts; the API reference documents what it derives.)
 * @hidden
 */
export const VAE_SURFACE = {
  // inference
  encode: { serve: "call", rows: { 0: "input" } },
  decode: { serve: "call", rows: { 0: "latent" } },
  sample: { serve: "call" },
  reconstruct: { serve: "call", rows: { 0: "input" } },
  interpolate: { serve: "call", rows: { 0: "input", 1: "input" } },
  elbo: { serve: "call", rows: { 0: "input" } },
  logLikelihood: { serve: "call", rows: { 0: "input" } },
  impute: { serve: "call", rows: { 0: "input", 1: "input" } },
  // training pieces
  trainStep: { serve: "call", rows: { 0: "input" }, mutates: true },
  computeGradients: { serve: "call", rows: { 0: "input" } },
  estimatorVariance: { serve: "call", rows: { 0: "input" } },
  // parameters and state
  parameterShapes: { serve: "call" },
  getWeights: { serve: "call" },
  getGradients: { serve: "call" },
  setWeights: { serve: "call", transfer: 1, mutates: true },
  initOutputBias: { serve: "call", rows: { 0: "input" }, mutates: true },
  exportState: { serve: "call" },
  importState: { serve: "call", mutates: true },
  save: { serve: "call" },
  // with worker semantics
  fit: { serve: "trainer" },
  load: { serve: "trainer" },
  dispose: { serve: "trainer" },
  create: { serve: "trainer" },
  // properties, in info()
  config: { serve: "info" },
  build: { serve: "info" },
  threads: { serve: "info" },
  threadsNote: { serve: "info" },
  parameterCount: { serve: "info" },
  optimizer: { serve: "info" },
  steps: { serve: "info" },
  epochs: { serve: "info" },
  epochCursor: { serve: "info" },
  batchCapacity: { serve: "info" },
  // not offered
  withThreads: { serve: "local", reason: "it takes a function; fit's `threads` option does the same in the worker" },
  kernels: { serve: "internal" },
  hostRng: { serve: "internal" },
  binarizeRng: { serve: "internal" },
  restoreState: { serve: "internal" },
  discardPartialEpoch: { serve: "internal" },
  resetMoments: { serve: "internal" },
  checkRows: { serve: "internal" },
  adamUpdate: { serve: "internal" },
  stepRows: { serve: "internal" },
  stepLoaded: { serve: "private" },
  counters: { serve: "private" },
} as const satisfies Record<string, SurfaceEntry>;

/** Options keys (of any served method, and of fit) that take rows or a
 *  DataRef, with their width; `x` is a BatchInput's.
 *  @hidden */
export const ROW_OPTIONS = { x: "input", condition: "condition", validation: "input", noise: "latent" } as const satisfies Record<string, RowsDim>;

type Surface = typeof VAE_SURFACE;
/** The VAE methods a WorkerTrainer forwards as they are ("call" in VAE_SURFACE).
 *  @hidden */
export type ServedMethod = { [K in keyof Surface]: Surface[K] extends { serve: "call" } ? K : never }[keyof Surface];
/** The VAE properties `trainer.info()` reports ("info" in VAE_SURFACE).
 *  @hidden */
export type InfoProperty = { [K in keyof Surface]: Surface[K] extends { serve: "info" } ? K : never }[keyof Surface];

// The build fails here when a public member of VAE (or a static) has no
// entry in VAE_SURFACE; the error names the missing members.
type Unlisted = Exclude<keyof VAE | Exclude<keyof typeof VAE, "prototype">, keyof Surface>;
const everyMemberListed: [Unlisted] extends [never] ? true : { unlisted: Unlisted } = true;
// …and when an option of a served method (or of fit) takes rows under a key
// the worker does not resolve as a DataRef.
type RowKeys<O> = O extends readonly unknown[] | ArrayBufferView ? never
  : O extends object ? string extends keyof O ? never : { [K in keyof O]-?: [Rows] extends [Exclude<O[K], undefined>] ? K : never }[keyof O] : never;
type UnresolvedRowOptions = Exclude<{ [K in ServedMethod]: RowKeys<NonNullable<Parameters<VAE[K]>[number]>> }[ServedMethod] | RowKeys<FitOptions>, keyof typeof ROW_OPTIONS>;
const everyRowOptionResolved: [UnresolvedRowOptions] extends [never] ? true : { unresolved: UnresolvedRowOptions } = true;
void everyMemberListed; void everyRowOptionResolved;

/** Rows, or a reference to rows stored in the worker (its name or a slice). */
export type DataRef = Rows | string | DataSlice;

/** An options object as it crosses to the worker: keys of ROW_OPTIONS also
 *  take a DataRef. */
export type WorkerOptions<O> = O extends object
  ? { [K in keyof O]: K extends keyof typeof ROW_OPTIONS ? O[K] | DataRef : O[K] }
  : O;

/** A served method's arguments on the WorkerTrainer: the VAE's, with a
 *  DataRef accepted where VAE_SURFACE says so, options as WorkerOptions, and
 *  the worker-only `{ transfer }` argument where declared. */
export type WorkerArgs<K extends ServedMethod> = AddTransfer<K, MapArgs<Parameters<VAE[K]>, RowsOf<K>>>;
/** @hidden */
export type MapArgs<P extends unknown[], R> = { [I in keyof P]: I extends keyof R ? P[I] | DataRef : WorkerOptions<P[I]> };
/** @hidden */
export type RowsOf<K extends ServedMethod> = Surface[K] extends { rows: infer R } ? R : {};
/** @hidden */
export type AddTransfer<K extends ServedMethod, A extends unknown[]> = Surface[K] extends { transfer: number } ? [...A, options?: TransferOption] : A;

/** A worker-only option: move (detach) the arguments' buffers to the worker
 *  instead of copying them. */
export interface TransferOption {
  /** Transfer the buffers of the arguments' typed arrays. */
  transfer?: boolean;
}

/** The methods WorkerTrainer forwards to the worker's VAE, typed from VAE's:
 *  each takes that method's arguments (see WorkerArgs) and resolves with
 *  its result. */
export type RemoteVAE = {
  [K in keyof Pick<VAE, ServedMethod>]:
  /** The VAE method of this name, run on the worker's model: the same
   *  arguments and options (rows may be a DataRef), its result as a promise. */
  (...args: WorkerArgs<K>) => Promise<ReturnType<VAE[K]>>;
};

// ------------------------------------------------------------------ protocol

/** Operations the worker serves (one per request): the VAE methods of
 *  VAE_SURFACE, and the trainer's own. */
export type TrainerOp =
  | ServedMethod
  | "create" | "load" | "info" | "setData" | "deleteData" | "fit" | "stop" | "dispose";

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

/** VAE.create's LoadOptions as they cross a postMessage: every key, with
 *  the wasm sources as bytes or URL strings (a URL object is sent as its href). */
export type WorkerLoadOptions = {
  [K in keyof LoadOptions]: K extends "wasm" ? Partial<Record<Variant, ArrayBuffer | ArrayBufferView | string | URL>> : LoadOptions[K];
};

/** What the worker reports about its model (the VAE properties of
 *  VAE_SURFACE, the optimizer as its AdamState) and its runtime. */
export type ModelInfo = { [K in InfoProperty]: K extends "optimizer" ? AdamState : VAE[K] } & RuntimeInfo;

/** The worker's runtime, in ModelInfo. */
export interface RuntimeInfo {
  /** Whether the worker's runtime validates the relaxed-SIMD build. */
  relaxedSimd: boolean;
  /** Whether the worker can share memory with the page (SharedArrayBuffer
   *  usable: cross-origin isolated pages, or Node). */
  sharedMemory: boolean;
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

/** VAE.fit's options as a WorkerTrainer takes them: every FitOptions key,
 *  rows keys also taking a DataRef, `optimizer` as Adam settings (a number
 *  lr) instead of an Adam, callbacks and the signal staying on the page; plus
 *  the worker-only `batchEvery` and `transfer`. */
export type WorkerFitOptions = {
  [K in keyof FitOptions]?: K extends keyof FitOverrides ? FitOverrides[K] : WorkerOptions<FitOptions>[K];
} & WorkerFitExtras;

/** The FitOptions that change type on their way to the worker. */
export interface FitOverrides {
  /** A new Adam with these settings before training (a number lr only);
   *  omitted, the model keeps its optimizer and its moments. */
  optimizer: Omit<AdamOptions, "lr"> & {
    /** Learning rate (a number; schedules cannot cross postMessage). */
    lr?: number;
  };
  /** Called on the page for each "batch" event of this fit. */
  onBatch: (info: BatchInfo) => void;
  /** Called on the page for each "epoch" event of this fit. */
  onEpoch: (info: EpochInfo) => void;
  /** Aborting it stops training (like `stop()`). */
  signal: AbortSignal;
}

/** fit options only a WorkerTrainer has. */
export interface WorkerFitExtras extends TransferOption {
  /** Send a "batch" event every this many batches (default 1); the last
   *  batch of each epoch is always sent. */
  batchEvery?: number;
}

/** What setData stored. */
export interface StoredData {
  /** The name it is stored under. */
  name: string;
  /** Its number of values. */
  length: number;
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
 * calls made during `fit` run between two training steps. Besides its own
 * methods (create, load, info, setData, deleteData, fit, stop, dispose,
 * terminate, on) it has every VAE method that VAE_SURFACE marks "call"
 * (encode, decode, sample, reconstruct, interpolate, elbo, logLikelihood,
 * impute, trainStep, computeGradients, estimatorVariance, parameterShapes,
 * getWeights, getGradients, setWeights, exportState, importState, save) with
 * that method's arguments and options. Rows arguments (and the options
 * condition, validation, noise, x) also take a DataRef to data already in
 * the worker ("test", or { data: "test", start: 0, count: 16 }), which
 * crosses nothing. In Node, an idle trainer does not keep the process alive,
 * and `dispose()` ends its worker.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface WorkerTrainer extends RemoteVAE {}
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

  /** Trains (VAE.fit in the worker, with VAE.fit's options: see
   *  WorkerFitOptions), streaming "batch"/"epoch" events. Resolves with the
   *  history; `history.aborted` after `stop()` or an aborted signal. */
  async fit(data: DataRef, options: WorkerFitOptions = {}): Promise<FitHistory> {
    const { onBatch, onEpoch, signal, transfer, ...wire } = options;
    if (signal?.aborted) return { epochs: [], aborted: true };
    const id = this.nextId;
    this.fitCallbacks.set(id, { onBatch, onEpoch });
    const onAbort = () => { void this.stop(); };
    signal?.addEventListener("abort", onAbort);
    try {
      checkCloneable("options", wire);
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

  /** Frees the worker's model (stopping a running fit first) and data,
   *  then ends the worker, so a Node process exits by itself; later calls
   *  reject. Resolves once the worker is gone. */
  async dispose(): Promise<void> {
    try {
      await this.call("dispose", []);
    } finally {
      this.fail(new Error("WorkerTrainer: disposed"), false);
      await this.worker.terminate?.();
    }
  }

  /** Ends the worker; pending calls reject. */
  async terminate(): Promise<void> {
    this.fail(new Error("WorkerTrainer: terminated"), false);
    await this.worker.terminate?.();
  }

  // ---------------------------------------------------------------- plumbing

  /** @internal A served VAE method (VAE_SURFACE): its arguments as given,
   *  except the worker-only `{ transfer }` one. */
  invoke(op: ServedMethod, args: unknown[]): Promise<unknown> {
    const entry: SurfaceEntry = VAE_SURFACE[op];
    let transfer: Transferable[] = [];
    if (entry.serve === "call" && entry.transfer !== undefined && args.length > entry.transfer) {
      const o = args[entry.transfer] as TransferOption | undefined;
      args = args.slice(0, entry.transfer);
      if (o !== undefined && (o === null || typeof o !== "object")) return Promise.reject(new ArgumentError(`WorkerTrainer.${op}: expected { transfer?: boolean } as the last argument, got ${String(o)}`));
      if (o?.transfer) transfer = [...new Set(args.flatMap((a) => [a, ...(a && typeof a === "object" && !ArrayBuffer.isView(a) ? Object.values(a) : [])]).flatMap(transferOf))];
    }
    try {
      args.forEach((a, i) => checkCloneable(`argument ${i + 1}`, a));
    } catch (e) {
      return Promise.reject(e);
    }
    return this.call(op, args, transfer);
  }

  private call(op: TrainerOp, args: unknown[], transfer: Transferable[] = []): Promise<unknown> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const req: TrainerRequest = { id, op, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.keepAlive();
      if (this.queue) this.queue.push([req, transfer]);
      else this.post(req, transfer);
    });
  }

  /** A Node worker keeps the process alive only while calls are pending
   *  (like the model's idle helper threads, an idle trainer never does). */
  private keepAlive(): void {
    const w = this.worker as { ref?(): void; unref?(): void };
    if (this.pending.size > 0) w.ref?.();
    else w.unref?.();
  }

  private post(req: TrainerRequest, transfer: Transferable[]): void {
    try {
      this.worker.postMessage(req, transfer);
    } catch (e) {
      const p = this.pending.get(req.id);
      this.pending.delete(req.id);
      this.keepAlive();
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
    this.keepAlive();
    if (m.kind === "result") p.resolve(m.value);
    else p.reject(new WorkerError(m.error));
  }

  private fail(e: Error, emit = true): void {
    if (this.failed) return;
    this.failed = e;
    this.queue = null;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.keepAlive();
    if (emit) for (const fn of this.listeners.error) fn(e);
  }
}

// The forwarded methods, one per "call" entry of VAE_SURFACE (typed by RemoteVAE).
for (const [name, entry] of Object.entries(VAE_SURFACE) as [ServedMethod, SurfaceEntry][]) {
  if (entry.serve !== "call") continue;
  Object.defineProperty(WorkerTrainer.prototype, name, {
    value: { [name](this: WorkerTrainer, ...args: unknown[]) { return this.invoke(name, args); } }[name],
    writable: true, configurable: true, enumerable: false,
  });
}

/** A function (or a value holding one a level down) cannot cross
 *  postMessage: refused by name instead of a DataCloneError. */
function checkCloneable(name: string, v: unknown): void {
  const bad = (x: unknown) => typeof x === "function" || (typeof x === "symbol");
  if (bad(v)) throw new ArgumentError(`WorkerTrainer: ${name}: a ${typeof v} cannot cross to the worker`);
  if (v && typeof v === "object" && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (bad(x)) throw new ArgumentError(`WorkerTrainer: ${name}.${k}: a ${typeof x} cannot cross to the worker (options that take functions are not offered in a worker)`);
    }
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
