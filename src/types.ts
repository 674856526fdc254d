// Types shared by the model's modules (network, objective, inference,
// persistence, fit, io), so none of them imports another just for a type.
import type { AdamState } from "./adam.js";

/** Rows of data: a Float32Array (values as given) or a Uint8Array (scaled by
 *  1/255), row-major with `dim` columns. */
export type Rows = Float32Array | Float64Array | Uint8Array | number[];

export interface StepResult {
  /** Batch mean of −log p(x|z) + β·KL. */
  loss: number;
  /** Batch mean of −log p(x|z). */
  reconstruction: number;
  /** Batch mean of KL(q(z|x) ‖ N(0, I)). */
  kl: number;
}

export interface BatchInput {
  x: Rows;
  /** (rows × conditionDim) condition vectors of a conditional VAE. */
  condition?: Rows;
}

export class NonFiniteLossError extends Error {
  override name = "NonFiniteLossError";
}

export interface EpochCursor {
  /** The shuffle stream's state before the interrupted epoch's shuffle. */
  hostRng: Uint32Array;
  /** Batches of that epoch already trained. */
  batch: number;
  batchSize: number;
  rows: number;
  shuffle: boolean;
  /** Sums over those batches of loss·B, reconstruction·B, kl·B and of B, so
   *  the resumed epoch reports all its batches. Absent in files written
   *  before it existed: the epoch then reports the batches after the resume. */
  sums?: EpochSums;
}

export interface EpochSums {
  loss: number;
  reconstruction: number;
  kl: number;
  rows: number;
}

/** A deep copy (the cursor is shared state of a running fit). */
export function copyCursor(c: EpochCursor): EpochCursor {
  return { ...c, hostRng: c.hostRng.slice(), sums: c.sums ? { ...c.sums } : undefined };
}

export interface ModelState {
  weights: Record<string, Float32Array>;
  /** Adam moments per parameter. */
  m?: Record<string, Float32Array>;
  v?: Record<string, Float32Array>;
  rngTrain?: Uint32Array;
  rngEval?: Uint32Array;
  hostRng?: Uint32Array;
  optimizer?: AdamState;
  steps?: number;
  epochs?: number;
  epochCursor?: EpochCursor | null;
}
