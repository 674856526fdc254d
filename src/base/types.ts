// Types shared by the model's modules (network, objective, inference,
// persistence, fit, io), so none of them imports another just for a type.

/** An Adam's hyperparameters and step count, as saved in model files
 *  (Adam.state() / Adam.fromState()); the moments travel with the model. */
export interface AdamState {
  /** Steps taken. */
  step: number;
  /** The learning rate, or null when it is a schedule (schedules are not saved). */
  lr: number | null;
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** ε of the denominator. */
  eps: number;
  /** Decoupled weight decay λ. */
  weightDecay: number;
  /** Global gradient-norm clip, or null. */
  clipNorm: number | null;
}

/** Rows of data, row-major with one row per `dim` values (the method says
 *  which dimension): a Float32Array, Float64Array or number[] (values as
 *  given) or a Uint8Array (scaled by 1/255). */
export type Rows = Float32Array | Float64Array | Uint8Array | number[];

/** The loss of one training step (or one computeGradients call) and its two
 *  terms, batch means in nats. */
export interface StepResult {
  /** Batch mean of −log p(x|z) + β·KL. */
  loss: number;
  /** Batch mean of −log p(x|z). */
  reconstruction: number;
  /** Batch mean of KL(q(z|x) ‖ N(0, I)). */
  kl: number;
}

/** A batch with its condition rows (for a conditional VAE; a plain model
 *  takes the rows alone or { x }). */
export interface BatchInput {
  /** The batch's data rows (rows × inputDim). */
  x: Rows;
  /** (rows × conditionDim) condition vectors of a conditional VAE. */
  condition?: Rows;
}

/** A training step's loss, gradient norm or Adam update, or an inference
 *  result, was not finite (NaN or ±∞, e.g. a float32 overflow from too large
 *  a learning rate, inputs or weights). The message says which and at what
 *  step; a step that throws before its update leaves the weights as they
 *  were after the last finite step. */
export class NonFiniteLossError extends Error {
  /** "NonFiniteLossError". */
  override name = "NonFiniteLossError";
}

/** Where an in-memory fit epoch stopped when it was aborted (VAE.epochCursor),
 *  so the next fit redoes that epoch's shuffle and resumes after the batches
 *  already trained. */
export interface EpochCursor {
  /** The shuffle stream's state before the interrupted epoch's shuffle. */
  hostRng: Uint32Array;
  /** Batches of that epoch already trained. */
  batch: number;
  /** The epoch's batch size (rows per batch). */
  batchSize: number;
  /** Rows of the data the epoch runs over. */
  rows: number;
  /** Whether the epoch's rows are shuffled. */
  shuffle: boolean;
  /** Sums over those batches of loss·B, reconstruction·B, kl·B and of B, so
   *  the resumed epoch reports all its batches. Absent in files written
   *  before it existed: the epoch then reports the batches after the resume. */
  sums?: EpochSums;
}

/** Running sums over the batches of an interrupted epoch (EpochCursor.sums):
 *  each batch adds its mean times its row count B. */
export interface EpochSums {
  /** Σ loss·B. */
  loss: number;
  /** Σ reconstruction·B. */
  reconstruction: number;
  /** Σ kl·B. */
  kl: number;
  /** Σ B: the rows trained so far in the epoch. */
  rows: number;
}

/** A deep copy (the cursor is shared state of a running fit). */
export function copyCursor(c: EpochCursor): EpochCursor {
  return { ...c, hostRng: c.hostRng.slice(), sums: c.sums ? { ...c.sums } : undefined };
}

/** A model's numeric state (VAE.exportState / importState): everything that
 *  decides how training continues. Random stream states are 4 u32 words
 *  (xoshiro128**), not all zero. Only `weights` is required: a state without
 *  the moments is weights-only, and importing it restarts the moments, the
 *  optimizer's step and the counters. */
export interface ModelState {
  /** Every parameter by name (VAE.parameterShapes), row-major. */
  weights: Record<string, Float32Array>;
  /** Non-trainable tensors by name (batch_norm's running statistics,
   *  "decoder.1.running_mean", …); present when the model has any. Absent on
   *  import: the model keeps its own. */
  buffers?: Record<string, Float32Array>;
  /** Adam's first moments per parameter (given with `v` or not at all). */
  m?: Record<string, Float32Array>;
  /** Adam's second moments per parameter (given with `m` or not at all). */
  v?: Record<string, Float32Array>;
  /** State of the kernels' training random stream (ε of training steps). */
  rngTrain?: Uint32Array;
  /** State of the kernels' running evaluation random stream (sample,
   *  reconstruct with sampling, impute; elbo and logLikelihood start their
   *  own from the seed on every call and leave this one as it is). */
  rngEval?: Uint32Array;
  /** State of the host random stream (fit's epoch shuffles). */
  hostRng?: Uint32Array;
  /** State of fit's dynamic-binarization stream (`binarize: "dynamic"`). */
  binarizeRng?: Uint32Array;
  /** The optimizer's settings and step. */
  optimizer?: AdamState;
  /** Training steps taken (VAE.steps). */
  steps?: number;
  /** Completed fit epochs (VAE.epochs). */
  epochs?: number;
  /** An interrupted epoch (VAE.epochCursor), or null. */
  epochCursor?: EpochCursor | null;
}
