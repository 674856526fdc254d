// The training loop: epochs of seeded shuffles over in-memory rows, or a
// stream of batches from an (async) iterable; KL warm-up, validation,
// callbacks, AbortSignal, and a yield to the event loop between batches.
// Per batch it reads like llm.c: load, forward, zero grad, backward, update
// (VAE.stepRows). Not here: the step itself (step.ts) or the optimizer (adam.ts).
import { Adam } from "../optim/adam.js";
import { bernoulliRows, binarize } from "./binarize.js";
import type { ResolvedConfig } from "../model/config.js";
import { architectureOf } from "../model/architecture.js";
import { kindOf } from "../layers/index.js";
import { yieldToEventLoop, type HostRng } from "../base/random.js";
import type { BatchInput, EpochCursor, ModelState, Rows, StepResult } from "../base/types.js";
import { checkBool, checkFinite, checkInt, checkOptions, describe, fail } from "../base/validate.js";

/** What onBatch receives after each training step. */
export interface BatchInfo extends StepResult {
  /** 1-based epoch. */
  epoch: number;
  /** 0-based batch index within the epoch. */
  batch: number;
  /** Batches per epoch, when known (in-memory data). */
  batches: number | null;
  /** Total training steps of the model so far. */
  step: number;
  /** Rows in this batch. */
  rows: number;
  /** The KL weight this step used (after warm-up). */
  beta: number;
  /** Rows per second of this step. */
  samplesPerSecond: number;
}

/** What onEpoch receives after each epoch (also in FitHistory.epochs). */
export interface EpochInfo extends StepResult {
  /** 1-based epoch. */
  epoch: number;
  /** Rows of the whole epoch (loss, reconstruction and kl are means over them,
   *  also for an epoch resumed from a cursor). */
  rows: number;
  /** Training time in this fit call (a resumed epoch: since the resume);
   *  samplesPerSecond is over the same rows. */
  seconds: number;
  /** Rows per second over the epoch. */
  samplesPerSecond: number;
  /** Validation −ELBO split, when validation data was given (β = 1 ELBO). */
  validation?: {
    /** Mean −ELBO over the validation rows. */
    loss: number;
    /** Mean −E_q[log p(x|z)]. */
    reconstruction: number;
    /** Mean KL(q(z|x) ‖ N(0, I)). */
    kl: number;
  };
}

/** What fit resolves with. */
export interface FitHistory {
  /** One entry per epoch finished in this call. */
  epochs: EpochInfo[];
  /** True when an AbortSignal stopped training early. */
  aborted: boolean;
}

/** Batches for streamed training: rows, or { x, condition }, per batch. */
export type BatchSource = Iterable<Rows | BatchInput> | AsyncIterable<Rows | BatchInput>;

/** Options of fit (every one optional). */
export interface FitOptions {
  /** Epochs to run. Default 10. */
  epochs?: number;
  /** Rows per step (in-memory data). Default 128. */
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
  /** Called after every step (awaited). */
  onBatch?: (info: BatchInfo) => void | Promise<void>;
  /** Called after every epoch (awaited). */
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
  /** Aborting it stops after the current step; an in-memory epoch resumes
   *  at that batch on the next fit. */
  signal?: AbortSignal;
  /** Yield to the event loop every this many batches (default 1; 0 never). */
  yieldEvery?: number;
  /** Binarize the data as the papers do (Bernoulli likelihood, values in
   *  [0, 1]): "dynamic" draws x ~ Bernoulli(pixel) afresh for every batch
   *  from the model's own seeded stream (saved with the model, so a resumed
   *  run stays bit-identical); "static" binarizes in-memory rows once, as
   *  binarize(x, binarizeSeed) does. Default: the values as given. */
  binarize?: "dynamic" | "static";
  /** The seed of `binarize: "static"` (default config.seed). */
  binarizeSeed?: number;
  /** Threads for this fit (at most model.threads, which VAE.create's
   *  `threads` set); the model's count is restored afterwards. Results are
   *  bit-identical for any count. */
  threads?: number;
}

/** What fit needs of a model: in practice a {@link VAE} (fit checks the
 *  model by shape, since this module does not import the VAE class). */
export interface Trainable {
  /** The model's configuration (VAE.config). */
  readonly config: Readonly<ResolvedConfig>;
  /** The optimizer the steps use (VAE.optimizer). */
  optimizer: Adam;
  /** Training steps taken (VAE.steps). */
  steps: number;
  /** Completed epochs (VAE.epochs). */
  epochs: number;
  /** An interrupted in-memory epoch, or null (VAE.epochCursor). */
  epochCursor: EpochCursor | null;
  /** @internal The host random stream (epoch shuffles). */
  hostRng: HostRng;
  /** @internal The dynamic-binarization stream (fit's binarize: "dynamic"). */
  binarizeRng: HostRng;
  /** @internal Validates rows; returns the row count. */
  checkRows(name: string, x: unknown, dim: number, targets: boolean): number;
  /** @internal A step on rows already validated. */
  stepRows(x: ArrayLike<number>, c: ArrayLike<number> | undefined, start: number, B: number,
           perm: Uint32Array | null, beta: number, out: StepResult): StepResult;
  /** One training step on a batch (VAE.trainStep). */
  trainStep(batch: Rows | BatchInput, options?: { beta?: number; out?: StepResult }): StepResult;
  /** Per-row ELBO and its terms (VAE.elbo); fit's validation. */
  elbo(x: Rows, options?: { condition?: Rows; samples?: number }): {
    /** −(reconstruction + kl) per row. */
    elbo: Float32Array;
    /** −E_q[log p(x|z)] per row. */
    reconstruction: Float32Array;
    /** KL(q(z|x) ‖ N(0, I)) per row. */
    kl: Float32Array;
  };
  /** The model's numeric state, copied out (VAE.exportState). */
  exportState(): ModelState;
  /** @internal Puts back a state and its optimizer (fit undoing a failed start). */
  restoreState(s: ModelState, opt: Adam): void;
  /** @internal Runs fn with this many threads (fit's `threads`). */
  withThreads<T>(threads: number, fn: () => Promise<T>): Promise<T>;
}

const FIT_KEYS = ["epochs", "batchSize", "shuffle", "condition", "klWarmupSteps", "klWarmupEpochs", "validation", "optimizer", "onBatch", "onEpoch", "signal", "yieldEvery", "threads", "binarize", "binarizeSeed"] as const;

/**
 * Trains `model`: epochs over in-memory rows (Float32Array, Float64Array,
 * number[], or Uint8Array scaled by 1/255) with seeded shuffles, or over a
 * stream of batches (an iterable, async iterable, or a function returning
 * one per epoch). Same as `vae.fit(data, options)`.
 */
export async function fit(model: Trainable, data: Rows | BatchSource | (() => BatchSource), options: FitOptions = {}): Promise<FitHistory> {
  if (options !== null && typeof options === "object" && options.threads !== undefined && typeof model?.withThreads === "function") {
    const { threads, ...rest } = options;
    return model.withThreads(threads, () => fit(model, data, rest));
  }
  // the model is checked by shape (fit.ts does not import vae.ts: vae.ts imports fit)
  if (model === null || typeof model !== "object" || typeof (model as Partial<Trainable>).stepRows !== "function") fail("model", "a VAE", model);
  checkOptions("options", options, FIT_KEYS);
  const shuffle = checkBool("shuffle", options.shuffle, true);
  const epochs = checkInt("epochs", options.epochs ?? 10, 1, 1e6);
  const batchSize = checkInt("batchSize", options.batchSize ?? 128, 1, 1 << 16);
  const yieldEvery = checkInt("yieldEvery", options.yieldEvery ?? 1, 0);
  if (options.optimizer !== undefined && !(options.optimizer instanceof Adam)) fail("optimizer", "an Adam instance", options.optimizer);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) fail("signal", "an AbortSignal", options.signal);
  for (const k of ["onBatch", "onEpoch"] as const) {
    if (options[k] !== undefined && typeof options[k] !== "function") fail(k, "a function", options[k]);
  }

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
  } else if (!(typeof data === "function" || isIterable(data))) {
    fail("data", "rows (Float32Array / Uint8Array / number[]), an (async) iterable of batches, or a function returning one", data);
  }
  const batchesPerEpoch = inMemory ? Math.ceil(rows / batchSize) : null;
  // a layer with batch statistics (batch_norm) cannot train on a 1-row batch: refuse before any step
  if (inMemory && (batchSize === 1 || rows % batchSize === 1)) {
    const arch = architectureOf(model.config);
    const l = [...arch.encoder, ...arch.decoder].find((x) => kindOf(x.kind).batchStatistics);
    if (l) {
      fail("batchSize", `a size that leaves no 1-row batch (${l.name} is a ${l.kind} layer, whose batch statistics need at least 2 rows): ${rows} rows in batches of ${batchSize} ${batchSize === 1 ? "are all 1-row batches" : "end with a 1-row batch"}; e.g. batchSize ${batchSize + 1}`, batchSize);
    }
  }
  let warmup = 0;
  if (options.klWarmupSteps !== undefined) warmup = checkInt("klWarmupSteps", options.klWarmupSteps, 0);
  if (options.klWarmupEpochs !== undefined) {
    const e = checkFinite("klWarmupEpochs", options.klWarmupEpochs, { min: 0, max: 1e6 });
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

  const bin = options.binarize;
  if (bin !== undefined) {
    if (bin !== "dynamic" && bin !== "static") fail("binarize", `"dynamic" or "static" (omit it to train on the values as given)`, bin);
    if (model.config.likelihood !== "bernoulli") fail("binarize", `the bernoulli likelihood (binarized data is 0/1; this model's likelihood is "${model.config.likelihood}")`, bin);
    if (bin === "static" && !inMemory) fail("binarize", `"dynamic" with a stream of batches ("static" binarizes in-memory rows once; binarize(x, seed) does it for a batch)`, bin);
    // values in [0, 1] were checked with the rows (the Bernoulli likelihood's targets) and are again per streamed batch
  }
  if (options.binarizeSeed !== undefined) {
    if (bin !== "static") fail("binarizeSeed", `no binarizeSeed without binarize: "static" (the dynamic stream is the model's own, seeded with config.seed)`, options.binarizeSeed);
    checkInt("binarizeSeed", options.binarizeSeed, 0, Number.MAX_SAFE_INTEGER);
  }
  if (bin === "static") data = binarize(data as Rows, options.binarizeSeed ?? model.config.seed);
  // "dynamic": each batch is binarized into these staging rows (and its
  // conditions copied beside), allocated once per fit call
  const C = model.config.conditionDim;
  const stageX = bin === "dynamic" ? new Float32Array(batchSize * D) : null;
  const stageC = bin === "dynamic" && C > 0 ? new Float32Array(batchSize * C) : null;
  const binBefore = new Uint32Array(4);
  // binarizes rows [start, start + B) (through perm p) into the staging rows and steps on them;
  // a step that throws (a non-finite loss) puts the binarization stream back, as the kernels' stream is
  const stepStaged = (x: ArrayLike<number>, c: ArrayLike<number> | undefined, start: number, B: number, p: Uint32Array | null, beta: number) => {
    binBefore.set(model.binarizeRng.s);
    bernoulliRows(stageX!, 0, x, p, start, B, D, model.binarizeRng);
    if (stageC) {
      const cs = c instanceof Uint8Array ? 1 / 255 : 1;
      for (let b = 0; b < B; b++) {
        const r = p ? p[start + b] : start + b;
        for (let j = 0; j < C; j++) stageC[b * C + j] = c![r * C + j] * cs;
      }
    }
    try {
      model.stepRows(stageX!, stageC ?? undefined, 0, B, null, beta, step);
    } catch (e) {
      model.binarizeRng.s.set(binBefore);
      throw e;
    }
  };

  // an interrupted epoch resumes only on the same in-memory rows and settings
  const cursor0 = model.epochCursor;
  if (cursor0 && !inMemory) {
    fail("data", `the same in-memory rows as the interrupted epoch ${model.epochs + 1} (a stream cannot resume it); or call vae.discardPartialEpoch() first`);
  }
  if (cursor0 && (cursor0.rows !== rows || cursor0.batchSize !== batchSize || cursor0.shuffle !== shuffle)) {
    fail("data", `the same ${cursor0.rows} rows, batchSize ${cursor0.batchSize} and shuffle ${cursor0.shuffle} as the interrupted epoch ${model.epochs + 1} (it stopped after ${cursor0.batch} batches); or call vae.discardPartialEpoch() first`);
  }

  // everything is validated: only now does the model change. A throw before
  // the first step of this call (a bad streamed batch, a non-finite loss)
  // puts back what was changed so far: the optimizer, the cursor, the shuffle stream.
  const undo = { cursor: model.epochCursor, host: model.hostRng.s.slice(), binarize: model.binarizeRng.s.slice(), opt: model.optimizer,
                 state: options.optimizer !== undefined ? model.exportState() : null };
  let progressed = false;
  if (options.optimizer !== undefined) model.optimizer = options.optimizer;
  const beta0 = model.config.beta;
  // warm-up counts the model's own steps, so a resumed run continues the ramp
  const betaAt = () => warmup > 0 ? beta0 * Math.min(1, (model.steps + 1) / warmup) : beta0;
  const history: FitHistory = { epochs: [], aborted: false };
  const perm = inMemory ? new Uint32Array(rows) : null;
  const step: StepResult = { loss: 0, reconstruction: 0, kl: 0 };
  const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());
  let sinceYield = 0;

  // (the loop is not indented under this try, to keep its diff small)
  try {
  for (let e = 0; e < epochs; e++) {
    if (options.signal?.aborted) { history.aborted = true; break; }
    const epoch = model.epochs + 1;
    const t0 = now();
    // sums over the epoch's batches (all of them, also those before a resume);
    // `trained` counts only this call's rows, for the speed
    let sumLoss = 0, sumRec = 0, sumKl = 0, seen = 0, trained = 0, batchIndex = 0;
    const cursor = model.epochCursor; // checked above (only the first epoch can have one)
    const onStep = async (B: number, beta: number, dt: number) => {
      progressed = true;
      sumLoss += step.loss * B; sumRec += step.reconstruction * B; sumKl += step.kl * B; seen += B; trained += B;
      const sums = model.epochCursor?.sums;
      if (sums) { sums.loss = sumLoss; sums.reconstruction = sumRec; sums.kl = sumKl; sums.rows = seen; }
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
      if (cursor) {
        model.hostRng.s.set(cursor.hostRng);
        batchIndex = cursor.batch;
        if (cursor.sums) ({ loss: sumLoss, reconstruction: sumRec, kl: sumKl, rows: seen } = cursor.sums);
      }
      model.epochCursor = { hostRng: model.hostRng.s.slice(), batch: batchIndex, batchSize, rows, shuffle,
        sums: { loss: sumLoss, reconstruction: sumRec, kl: sumKl, rows: seen } };
      for (let i = 0; i < rows; i++) perm![i] = i;
      if (shuffle) model.hostRng.shuffle(perm!);
      for (let start = batchIndex * batchSize; start < rows; start += batchSize) {
        if (options.signal?.aborted) { history.aborted = true; break; }
        const B = Math.min(batchSize, rows - start);
        const beta = betaAt();
        const ts = now();
        if (stageX) {
          stepStaged(data as ArrayLike<number>, options.condition as ArrayLike<number> | undefined, start, B, perm, beta);
        } else {
          model.stepRows(data as ArrayLike<number>, options.condition as ArrayLike<number> | undefined, start, B, perm, beta, step);
        }
        model.epochCursor.batch++;
        await onStep(B, beta, now() - ts);
      }
    } else {
      const source = typeof data === "function" ? (data as () => BatchSource)() : (data as BatchSource);
      if (!isIterable(source)) fail("data", `a function that returns an (async) iterable of batches (epoch ${epoch} got ${describe(source)})`);
      let any = false;
      for await (const batch of source as AsyncIterable<Rows | BatchInput>) {
        if (options.signal?.aborted) { history.aborted = true; break; }
        any = true;
        const isInput = batch !== null && typeof batch === "object" && !ArrayBuffer.isView(batch) && !Array.isArray(batch);
        const x = isInput ? (batch as BatchInput).x : (batch as Rows);
        const c = isInput ? (batch as BatchInput).condition : undefined;
        const n = model.checkRows(`batch ${batchIndex}`, x, D, true);
        if (C > 0 && c === undefined) fail(`batch ${batchIndex}.condition`, `rows × ${C} condition values (this is a conditional VAE)`);
        if (C === 0 && c !== undefined) fail(`batch ${batchIndex}.condition`, "no condition (this model has conditionDim 0)");
        if (c !== undefined && model.checkRows(`batch ${batchIndex}.condition`, c, C, false) !== n) fail(`batch ${batchIndex}.condition`, `${n} rows, one per data row`);
        // a streamed batch larger than batchSize is split
        for (let start = 0; start < n; start += batchSize) {
          const B = Math.min(batchSize, n - start);
          const beta = betaAt();
          const ts = now();
          if (stageX) {
            stepStaged(x as ArrayLike<number>, c as ArrayLike<number> | undefined, start, B, null, beta);
          } else {
            const sub = n === B ? batch : { x: slice(x, start * D, (start + B) * D), condition: c === undefined ? undefined : slice(c, start * model.config.conditionDim, (start + B) * model.config.conditionDim) };
            model.trainStep(sub as Rows | BatchInput, { beta, out: step });
          }
          await onStep(B, beta, now() - ts);
        }
      }
      if (!any && !history.aborted) fail("data", `batches in epoch ${epoch} (the iterable yielded none; pass a function that returns a fresh iterable for several epochs)`);
    }
    // an aborted epoch is not finished: no epoch info, no validation (of
    // weights in mid-epoch), and its cursor stays for resuming
    if (history.aborted) break;
    const seconds = (now() - t0) / 1000;
    const info: EpochInfo = { epoch, loss: sumLoss / seen, reconstruction: sumRec / seen, kl: sumKl / seen, rows: seen, seconds, samplesPerSecond: trained / seconds };
    if (validation) {
      const r = model.elbo(validation.x, { condition: validation.condition });
      info.validation = { loss: -mean(r.elbo), reconstruction: mean(r.reconstruction), kl: mean(r.kl) };
    }
    model.epochCursor = null;
    model.epochs = epoch;
    history.epochs.push(info);
    if (options.onEpoch) await options.onEpoch(info);
  }
  } catch (e) {
    if (!progressed) {
      if (undo.state) model.restoreState(undo.state, undo.opt);
      model.epochCursor = undo.cursor;
      model.hostRng.s.set(undo.host);
      model.binarizeRng.s.set(undo.binarize);
    }
    throw e;
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

function isIterable(v: unknown): boolean {
  return v !== null && v !== undefined && (typeof (v as Iterable<unknown>)[Symbol.iterator] === "function" || typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function");
}
