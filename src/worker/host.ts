// The worker side of `wasm-vae/worker`: `serveTrainer(port)` answers the
// requests of a WorkerTrainer (worker.ts) with one VAE and named data sets,
// streams fit progress as events, and transfers result buffers back.
//
// Messages are handled one at a time, in order; while `fit` runs it yields to
// the event loop after every step, so inference requests and `stop` are served
// between two steps (the step itself is never interrupted, and inference uses
// the model's eval random stream, so it does not change training results).
// Not here: the page side (worker.ts) or choosing the port (worker-entry.ts).
import { Adam } from "../optim/adam.js";
import type { TransferList } from "../base/host-types.js";
import type { FitOptions } from "../training/fit.js";
import { VAE, type Rows } from "../vae.js";
import { relaxedSimdAvailable, type LoadOptions } from "../kernels/wasm.js";
import { ArgumentError, checkInt, fail } from "../base/validate.js";
import { ROW_OPTIONS, VAE_SURFACE, type DataRef, type DataSlice, type ModelInfo, type RowsDim, type SerializedError, type SurfaceEntry, type TrainerMessage, type TrainerOp, type TrainerRequest, type WorkerFitOptions, type WorkerLoadOptions } from "./worker.js";

/** A worker's message port: `self` in a Web Worker, `parentPort` in a Node
 *  worker_thread (or any MessagePort). */
export type PortLike =
  | {
    /** Sends a reply or an event. */
    postMessage(message: unknown, transfer: TransferList): void;
    /** Listens for requests. */
    addEventListener(type: string, fn: (e: any) => void): void;
  }
  | {
    /** Sends a reply or an event. */
    postMessage(message: unknown, transfer?: readonly any[]): void;
    /** Listens for requests. */
    on(type: string, fn: (v: any) => void): unknown;
  };

const isNode = typeof process !== "undefined" && !!process.versions?.node;

/** Serves WorkerTrainer requests on `port` (default: the worker's global
 *  scope) and posts { kind: "ready" } once it listens. */
export function serveTrainer(port: PortLike = globalThis as unknown as PortLike): void {
  if (!port || typeof port.postMessage !== "function") fail("port", "a worker port (self or worker_threads parentPort)", port);
  const host = new TrainerHost((m, t) => port.postMessage(m, t as Transferable[]));
  const handler = (m: TrainerRequest) => { void host.handle(m); };
  if ("on" in port && typeof port.on === "function") port.on("message", handler);
  else {
    const p = port as { addEventListener(type: string, fn: (e: MessageEvent) => void): void; start?(): void };
    p.addEventListener("message", (e) => handler(e.data as TrainerRequest));
    p.start?.(); // a MessagePort delivers only once started (the worker scope has no start)
  }
  port.postMessage({ kind: "ready" } satisfies TrainerMessage, []);
}

class TrainerHost {
  private vae: VAE | null = null;
  private loadOptions: LoadOptions = {};
  private data = new Map<string, Rows>();
  private training: AbortController | null = null;
  private trainingRun: Promise<unknown> | null = null;
  /** Requests are served in order: each waits for the previous one, except
   *  `stop` (served at once, to reach a running fit) and except that a fit
   *  lets the next request start as soon as training runs. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private send: (m: TrainerMessage, transfer: Transferable[]) => void) {}

  handle(req: TrainerRequest): Promise<void> {
    if (!req || typeof req !== "object" || typeof req.id !== "number") return Promise.resolve();
    if (req.op === "stop") {
      this.training?.abort();
      this.reply(req.id, undefined);
      return Promise.resolve();
    }
    let started!: () => void;
    const fitStarted = new Promise<void>((r) => { started = r; });
    const run = this.chain.then(() => this.serve(req, started));
    this.chain = req.op === "fit" ? Promise.race([run, fitStarted]) : run;
    return run;
  }

  /** Runs one request and posts its result or error (never rejects). */
  private async serve(req: TrainerRequest, started: () => void): Promise<void> {
    try {
      const value = await this.dispatch(req.op, req.args ?? [], req.id, started);
      this.reply(req.id, value);
    } catch (e) {
      this.send({ kind: "error", id: req.id, error: serializeError(e) }, []);
    }
  }

  private reply(id: number, value: unknown): void {
    // never transfer (detach) the wasm memory or a stored data set
    const keep = new Set<unknown>([this.vae?.kernels.memory.buffer]);
    for (const d of this.data.values()) if (ArrayBuffer.isView(d)) keep.add(d.buffer);
    const transfer = transferables(value, keep);
    this.send({ kind: "result", id, value }, transfer);
  }

  private model(): VAE {
    if (!this.vae) throw new ArgumentError("WorkerTrainer: no model yet (call create or load first)");
    return this.vae;
  }

  private notTraining(op: string): void {
    if (this.training) throw new ArgumentError(`WorkerTrainer.${op}: training is running (stop it first)`);
  }

  /** The width of a DataSlice's rows. */
  private width(d: RowsDim): number {
    const c = this.model().config;
    return d === "latent" ? c.latentDim : d === "condition" ? c.conditionDim : c.inputDim;
  }

  /** An options object (or a BatchInput) with its ROW_OPTIONS keys resolved. */
  private options(name: string, o: unknown): unknown {
    if (o === null || typeof o !== "object" || Array.isArray(o) || ArrayBuffer.isView(o)) return o;
    let out: Record<string, unknown> | null = null;
    for (const [k, d] of Object.entries(ROW_OPTIONS)) {
      const v = (o as Record<string, unknown>)[k];
      if (v === undefined) continue;
      const r = isRef(v) ? this.rows(`${name}.${k}`, v, this.width(d))
        : v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v) ? this.options(`${name}.${k}`, v) : v;
      if (r !== v) (out ??= { ...(o as Record<string, unknown>) })[k] = r;
    }
    return out ?? o;
  }

  /** Resolves a DataRef: rows as given, or a view of stored data. */
  private rows(name: string, ref: DataRef | undefined, dim?: number): Rows | undefined {
    if (ref === undefined) return undefined;
    if (typeof ref !== "string" && !isSlice(ref)) return ref as Rows;
    const key = typeof ref === "string" ? ref : ref.data;
    const r = this.data.get(key);
    if (r === undefined) fail(name, `rows or the name of stored data (stored: ${[...this.data.keys()].join(", ") || "none"})`, key);
    if (typeof ref === "string") return r;
    const D = dim ?? this.model().config.inputDim, n = Math.floor(r.length / D);
    const start = checkInt(`${name}.start`, ref.start ?? 0, 0, n - 1);
    const count = checkInt(`${name}.count`, ref.count ?? n - start, 1, n - start);
    return Array.isArray(r) ? r.slice(start * D, (start + count) * D) : r.subarray(start * D, (start + count) * D);
  }

  private async info(): Promise<ModelInfo> {
    const v = this.model();
    const out: Record<string, unknown> = {
      relaxedSimd: await relaxedSimdAvailable(this.loadOptions.wasm?.relaxed),
      sharedMemory: isNode || (typeof SharedArrayBuffer === "function" && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true),
      runtime: isNode ? "node" : "browser",
    };
    for (const [k, e] of Object.entries(VAE_SURFACE) as [keyof VAE, SurfaceEntry][]) {
      if (e.serve === "info") out[k] = k === "optimizer" ? v.optimizer.state() : v[k];
    }
    return out as unknown as ModelInfo;
  }

  /** A VAE method of VAE_SURFACE marked "call", its rows and options resolved. */
  private call(op: TrainerOp, a: unknown[]): unknown {
    const e = VAE_SURFACE[op as keyof typeof VAE_SURFACE] as SurfaceEntry | undefined;
    if (e?.serve !== "call") fail("op", "a WorkerTrainer operation", op);
    const vae = this.model();
    if (e.mutates) this.notTraining(op);
    const rows = (e.rows ?? {}) as Record<string, RowsDim>;
    const args = a.map((v, i) => {
      const name = `argument ${i + 1}`;
      return String(i) in rows && isRef(v) ? this.rows(name, v as DataRef, this.width(rows[i])) : this.options("options", v);
    });
    return (vae[op as keyof VAE] as (...x: unknown[]) => unknown).apply(vae, args);
  }

  private async dispatch(op: TrainerOp, a: unknown[], id: number, started: () => void): Promise<unknown> {
    switch (op) {
      case "create": {
        this.notTraining("create");
        const opts = loadOptionsOf(a[1] as WorkerLoadOptions | undefined);
        const vae = await VAE.create(a[0] as never, opts);
        this.vae = vae;
        this.loadOptions = opts;
        return this.info();
      }
      case "load": {
        this.notTraining("load");
        const bytes = a[0];
        if (!(bytes instanceof Uint8Array)) fail("bytes", "a Uint8Array (the model file)", bytes);
        const opts = a[1] === undefined ? this.loadOptions : loadOptionsOf(a[1] as WorkerLoadOptions);
        const vae = await VAE.load(bytes, opts); // throws before anything is replaced
        this.vae = vae;
        this.loadOptions = opts;
        return this.info();
      }
      case "info": return this.info();
      case "setData": {
        const [name, rows] = a as [string, Rows];
        if (typeof name !== "string" || name === "") fail("name", "a non-empty string", name);
        if (!(rows instanceof Float32Array || rows instanceof Float64Array || rows instanceof Uint8Array || Array.isArray(rows))) {
          fail("rows", "a Float32Array, Uint8Array or number[]", rows);
        }
        this.data.set(name, rows);
        return { name, length: rows.length };
      }
      case "deleteData": return this.data.delete(a[0] as string);
      case "fit": return this.fit(a[0] as DataRef, (a[1] === undefined ? {} : a[1]) as WorkerFitOptions, id, started);
      case "dispose": {
        // a running fit stops after its step; then the model's helper threads end
        this.training?.abort();
        await this.trainingRun?.catch(() => undefined);
        this.vae?.dispose();
        this.vae = null;
        this.data.clear();
        return undefined;
      }
      default: return this.call(op, a);
    }
  }

  /** VAE.fit with events; calls `started` once training runs, so that later
   *  requests are served between its steps. */
  private async fit(ref: DataRef, o: WorkerFitOptions, id: number, started: () => void): Promise<unknown> {
    const vae = this.model();
    this.notTraining("fit");
    if (o === null || typeof o !== "object") fail("options", "an object", o);
    const { batchEvery = 1, optimizer, condition, validation, ...rest } = o as WorkerFitOptions & Record<string, unknown>;
    if (!Number.isInteger(batchEvery) || batchEvery < 1) fail("batchEvery", "an integer ≥ 1", batchEvery);
    // stop() and inference requests are served between steps, so fit must yield
    if (rest.yieldEvery !== undefined && !(Number.isInteger(rest.yieldEvery) && (rest.yieldEvery as number) >= 1)) {
      fail("yieldEvery", "an integer ≥ 1 in a worker (stop and requests are served between steps)", rest.yieldEvery);
    }
    const data = this.rows("data", ref)!;
    const ctrl = new AbortController();
    const opts: FitOptions = {
      ...(rest as FitOptions),
      condition: this.rows("condition", condition, vae.config.conditionDim),
      validation: isRef(validation) ? this.rows("validation", validation) : this.options("validation", validation) as FitOptions["validation"],
      signal: ctrl.signal,
      onBatch: (b) => {
        const last = b.batches !== null && b.batch === b.batches - 1;
        if (b.batch % batchEvery === 0 || last) this.send({ kind: "event", id, event: "batch", data: b }, []);
      },
      onEpoch: (e) => this.send({ kind: "event", id, event: "epoch", data: e }, []),
    };
    if (opts.condition === undefined) delete opts.condition;
    if (opts.validation === undefined) delete opts.validation;
    if (optimizer !== undefined) opts.optimizer = new Adam(optimizer);
    this.training = ctrl;
    try {
      const run = vae.fit(data, opts);
      this.trainingRun = run;
      started();
      return await run;
    } finally {
      this.training = null;
      this.trainingRun = null;
    }
  }
}

/** A name of stored data or a slice of it (not rows themselves). */
function isRef(v: unknown): v is string | DataSlice {
  return typeof v === "string" || isSlice(v);
}

function isSlice(v: unknown): v is DataSlice {
  return v !== null && typeof v === "object" && !ArrayBuffer.isView(v) && !Array.isArray(v) && typeof (v as DataSlice).data === "string";
}

function loadOptionsOf(o: WorkerLoadOptions | undefined): LoadOptions {
  if (o === undefined) return {};
  if (o === null || typeof o !== "object") fail("options", "an object { build?, deterministic?, wasm? }", o);
  return o as LoadOptions;
}

function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: "Error", message: String(e) };
}

/** Distinct, transferable buffers of the typed arrays in a result (top level
 *  or one object deep), except those in `keep` and shared ones. */
function transferables(value: unknown, keep: Set<unknown>): Transferable[] {
  const out = new Set<ArrayBuffer>();
  const add = (v: unknown) => {
    if (!ArrayBuffer.isView(v)) return;
    const b = v.buffer;
    if (keep.has(b) || (typeof SharedArrayBuffer !== "undefined" && b instanceof SharedArrayBuffer)) return;
    out.add(b as ArrayBuffer);
  };
  add(value);
  if (value && typeof value === "object" && !ArrayBuffer.isView(value)) for (const v of Object.values(value)) add(v);
  return [...out];
}
