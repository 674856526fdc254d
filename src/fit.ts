// The training loop: epochs of seeded shuffles over in-memory rows, or a
// stream of batches from an (async) iterable; KL warm-up, validation,
// callbacks, AbortSignal, and a yield to the event loop between batches.
// Per batch it reads like llm.c: load, forward, zero grad, backward, update
// (VAE.stepRows). Not here: the step itself (model.ts) or the optimizer (adam.ts).
import { Adam } from "./adam.js";
import type { BatchInput, Rows, StepResult, VAE } from "./model.js";
import { yieldToEventLoop } from "./random.js";
import { checkFinite, checkInt, fail } from "./validate.js";

export interface BatchInfo extends StepResult {
  epoch: number;
  /** 0-based batch index within the epoch. */
  batch: number;
  /** Batches per epoch, when known (in-memory data). */
  batches: number | null;
  /** Total training steps of the model so far. */
  step: number;
  rows: number;
  beta: number;
  samplesPerSecond: number;
}

export interface EpochInfo extends StepResult {
  epoch: number;
  rows: number;
  seconds: number;
  samplesPerSecond: number;
  /** Validation −ELBO split, when validation data was given (β = 1 ELBO). */
  validation?: { loss: number; reconstruction: number; kl: number };
}

export interface FitHistory {
  epochs: EpochInfo[];
  /** True when an AbortSignal stopped training early. */
  aborted: boolean;
}

export type BatchSource = Iterable<Rows | BatchInput> | AsyncIterable<Rows | BatchInput>;

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle rows each epoch with the model's seeded host stream. Default true. */
  shuffle?: boolean;
  /** Conditions (rows × conditionDim) for in-memory data of a conditional VAE. */
  condition?: Rows;
  /** Linear KL warm-up: β ramps from 0 to config.beta over the model's first
   *  this-many steps (counted by model.steps, so a resumed run continues it)… */
  klWarmupSteps?: number;
  /** …or over this many epochs (in-memory data). */
  klWarmupEpochs?: number;
  /** Evaluated at the end of every epoch. */
  validation?: Rows | BatchInput;
  /** Replaces model.optimizer before training. */
  optimizer?: Adam;
  onBatch?: (info: BatchInfo) => void | Promise<void>;
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
  signal?: AbortSignal;
  /** Yield to the event loop every this many batches (default 1; 0 never). */
  yieldEvery?: number;
  /** Threads for this fit (at most model.threads, which VAE.create's
   *  `threads` set); the model's count is restored afterwards. Results are
   *  bit-identical for any count. */
  threads?: number;
}

export async function fit(model: VAE, data: Rows | BatchSource | (() => BatchSource), options: FitOptions = {}): Promise<FitHistory> {
  if (options?.threads === undefined) return fitLoop(model, data, options);
  const handle = model.kernels.threadsHandle;
  const threads = checkInt("threads", options.threads, 1, handle?.size ?? 1);
  const before = model.threads;
  handle?.configure(threads);
  try {
    return await fitLoop(model, data, options);
  } finally {
    handle?.configure(before);
  }
}

async function fitLoop(model: VAE, data: Rows | BatchSource | (() => BatchSource), options: FitOptions): Promise<FitHistory> {
  if (options === null || typeof options !== "object") fail("options", "an object", options);
  const epochs = checkInt("epochs", options.epochs ?? 10, 1, 1e6);
  const batchSize = checkInt("batchSize", options.batchSize ?? 128, 1, 1 << 16);
  const yieldEvery = checkInt("yieldEvery", options.yieldEvery ?? 1, 0);
  if (options.optimizer !== undefined && !(options.optimizer instanceof Adam)) fail("optimizer", "an Adam instance", options.optimizer);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) fail("signal", "an AbortSignal", options.signal);
  for (const k of ["onBatch", "onEpoch"] as const) {
    if (options[k] !== undefined && typeof options[k] !== "function") fail(k, "a function", options[k]);
  }
  const known = new Set(["epochs", "batchSize", "shuffle", "condition", "klWarmupSteps", "klWarmupEpochs", "validation", "optimizer", "onBatch", "onEpoch", "signal", "yieldEvery", "threads"]);
  for (const k of Object.keys(options)) if (!known.has(k)) fail(`options.${k}`, `no such option (known: ${[...known].join(", ")})`);

  // a plain array of numbers is rows; an array of arrays / {x} objects is a list of batches
  const inMemory = data instanceof Float32Array || data instanceof Float64Array || data instanceof Uint8Array ||
    (Array.isArray(data) && (data.length === 0 || typeof data[0] === "number"));
  const D = model.config.inputDim;
  let rows = 0;
  if (inMemory) {
    rows = model.checkRows("data", data, D, true);
    if (model.config.conditionDim > 0) {
      if (options.condition === undefined) fail("condition", `rows × ${model.config.conditionDim} condition values (this is a conditional VAE)`);
      const n = model.checkRows("condition", options.condition, model.config.conditionDim, false);
      if (n !== rows) fail("condition", `${rows} rows, one per data row`, `${n} rows`);
    } else if (options.condition !== undefined) {
      fail("condition", "no condition (this model has conditionDim 0)");
    }
  } else if (!(typeof data === "function" || (data && (Symbol.iterator in Object(data) || Symbol.asyncIterator in Object(data))))) {
    fail("data", "rows (Float32Array / Uint8Array / number[]), an (async) iterable of batches, or a function returning one", data);
  }
  const batchesPerEpoch = inMemory ? Math.ceil(rows / batchSize) : null;
  let warmup = 0;
  if (options.klWarmupSteps !== undefined) warmup = checkInt("klWarmupSteps", options.klWarmupSteps, 0);
  if (options.klWarmupEpochs !== undefined) {
    const e = checkFinite("klWarmupEpochs", options.klWarmupEpochs, { min: 0 });
    if (!inMemory) fail("klWarmupEpochs", "in-memory data (use klWarmupSteps with a stream)");
    warmup = Math.round(e * batchesPerEpoch!);
  }
  let validation: { x: Rows; condition?: Rows } | null = null;
  if (options.validation !== undefined) {
    const v = options.validation as Rows | BatchInput;
    validation = (v && typeof v === "object" && "x" in v) ? { x: (v as BatchInput).x, condition: (v as BatchInput).condition } : { x: v as Rows };
    const n = model.checkRows("validation", validation.x, D, true);
    if (model.config.conditionDim > 0 && validation.condition === undefined) fail("validation.condition", `rows × ${model.config.conditionDim} condition values`);
    if (validation.condition !== undefined) {
      const m = model.checkRows("validation.condition", validation.condition, model.config.conditionDim, false);
      if (m !== n) fail("validation.condition", `${n} rows`, `${m} rows`);
    }
  }

  // everything is validated: only now does the model change
  if (options.optimizer !== undefined) model.optimizer = options.optimizer;
  const beta0 = model.config.beta;
  // warm-up counts the model's own steps, so a resumed run continues the ramp
  const betaAt = () => warmup > 0 ? beta0 * Math.min(1, (model.steps + 1) / warmup) : beta0;
  const history: FitHistory = { epochs: [], aborted: false };
  const perm = inMemory ? new Uint32Array(rows) : null;
  const step: StepResult = { loss: 0, reconstruction: 0, kl: 0 };
  const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());
  let sinceYield = 0;

  for (let e = 0; e < epochs; e++) {
    if (options.signal?.aborted) { history.aborted = true; break; }
    const epoch = model.epochs + 1;
    const t0 = now();
    let sumLoss = 0, sumRec = 0, sumKl = 0, seen = 0, batchIndex = 0;
    const cursor = model.epochCursor;
    if (!inMemory && cursor) {
      fail("data", `the same in-memory rows as the interrupted epoch ${epoch} (a stream cannot resume it); or call vae.discardPartialEpoch() first`);
    }
    const onStep = async (B: number, beta: number, dt: number) => {
      sumLoss += step.loss * B; sumRec += step.reconstruction * B; sumKl += step.kl * B; seen += B;
      if (options.onBatch) {
        await options.onBatch({ ...step, epoch, batch: batchIndex, batches: batchesPerEpoch, step: model.steps, rows: B, beta, samplesPerSecond: B / (dt / 1000) });
      }
      batchIndex++;
      if (yieldEvery > 0 && ++sinceYield >= yieldEvery) { sinceYield = 0; await yieldToEventLoop(); }
    };
    if (inMemory) {
      // An epoch interrupted by an abort left a cursor (the shuffle stream as
      // it was before this epoch's shuffle, and the batches done): redo the
      // same shuffle and continue after those batches, bit-identically.
      const shuffle = options.shuffle ?? true;
      if (cursor) {
        if (cursor.rows !== rows || cursor.batchSize !== batchSize || cursor.shuffle !== shuffle) {
          fail("data", `the same ${cursor.rows} rows, batchSize ${cursor.batchSize} and shuffle ${cursor.shuffle} as the interrupted epoch ${epoch} (it stopped after ${cursor.batch} batches); or call vae.discardPartialEpoch() first`);
        }
        model.hostRng.s.set(cursor.hostRng);
        batchIndex = cursor.batch;
      }
      model.epochCursor = { hostRng: model.hostRng.s.slice(), batch: batchIndex, batchSize, rows, shuffle };
      for (let i = 0; i < rows; i++) perm![i] = i;
      if (shuffle) model.hostRng.shuffle(perm!);
      for (let start = batchIndex * batchSize; start < rows; start += batchSize) {
        if (options.signal?.aborted) { history.aborted = true; break; }
        const B = Math.min(batchSize, rows - start);
        const beta = betaAt();
        const ts = now();
        model.stepRows(data as ArrayLike<number>, options.condition as ArrayLike<number> | undefined, start, B, perm, beta, step);
        model.epochCursor.batch++;
        await onStep(B, beta, now() - ts);
      }
    } else {
      const source = typeof data === "function" ? (data as () => BatchSource)() : (data as BatchSource);
      let any = false;
      for await (const batch of source as AsyncIterable<Rows | BatchInput>) {
        if (options.signal?.aborted) { history.aborted = true; break; }
        any = true;
        const isInput = batch !== null && typeof batch === "object" && !ArrayBuffer.isView(batch) && !Array.isArray(batch);
        const x = isInput ? (batch as BatchInput).x : (batch as Rows);
        const c = isInput ? (batch as BatchInput).condition : undefined;
        const n = model.checkRows(`batch ${batchIndex}`, x, D, true);
        const C = model.config.conditionDim;
        if (C > 0 && c === undefined) fail(`batch ${batchIndex}.condition`, `rows × ${C} condition values (this is a conditional VAE)`);
        if (C === 0 && c !== undefined) fail(`batch ${batchIndex}.condition`, "no condition (this model has conditionDim 0)");
        if (c !== undefined && model.checkRows(`batch ${batchIndex}.condition`, c, C, false) !== n) fail(`batch ${batchIndex}.condition`, `${n} rows, one per data row`);
        // a streamed batch larger than batchSize is split
        for (let start = 0; start < n; start += batchSize) {
          const B = Math.min(batchSize, n - start);
          const sub = n === B ? batch : { x: slice(x, start * D, (start + B) * D), condition: c === undefined ? undefined : slice(c, start * model.config.conditionDim, (start + B) * model.config.conditionDim) };
          const beta = betaAt();
          const ts = now();
          model.trainStep(sub as Rows | BatchInput, { beta, out: step });
          await onStep(B, beta, now() - ts);
        }
      }
      if (!any && !history.aborted) fail("data", `batches in epoch ${epoch} (the iterable yielded none; pass a function that returns a fresh iterable for several epochs)`);
    }
    // an aborted epoch is not finished: no epoch info, no validation (whose
    // draws would move the evaluation stream), and its cursor stays for resuming
    if (history.aborted) break;
    const seconds = (now() - t0) / 1000;
    const info: EpochInfo = { epoch, loss: sumLoss / seen, reconstruction: sumRec / seen, kl: sumKl / seen, rows: seen, seconds, samplesPerSecond: seen / seconds };
    if (validation) {
      const r = model.elbo(validation.x, { condition: validation.condition });
      info.validation = { loss: -mean(r.elbo), reconstruction: mean(r.reconstruction), kl: mean(r.kl) };
    }
    model.epochCursor = null;
    model.epochs = epoch;
    history.epochs.push(info);
    if (options.onEpoch) await options.onEpoch(info);
  }
  return history;
}

function mean(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

function slice(a: Rows, from: number, to: number): Rows {
  return Array.isArray(a) ? a.slice(from, to) : a.subarray(from, to);
}
