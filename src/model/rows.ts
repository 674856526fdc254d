// Validation of user data rows and conditions against a model's config
// (before anything touches the arena).
import { GAUSSIAN_TARGET_MAX, type ResolvedConfig } from "./config.js";
import type { BatchInput, Rows } from "../base/types.js";
import { F32_LIMIT, fail, finiteF32 } from "../base/validate.js";

/** A read-only range scan of a Float32Array (the training step stages the
 *  batch in the arena and scans it with a SIMD kernel, step.ts): the index of
 *  the first value outside [lo, hi] (NaN included), or −1; null when it
 *  cannot scan this array (then the TypeScript loop runs). */
export type RangeScan = (x: Float32Array, lo: number, hi: number) => number | null;

/** Validates rows of data for this model; returns the row count. Values are
 *  checked as the float32 numbers the kernels use: Bernoulli targets in
 *  [0, 1], Gaussian targets within ±GAUSSIAN_TARGET_MAX, others finite in float32. */
export function checkRows(config: Readonly<ResolvedConfig>, name: string, x: unknown, dim: number, targets: boolean,
                          scan?: RangeScan): number {
  if (!(x instanceof Float32Array || x instanceof Float64Array || x instanceof Uint8Array || Array.isArray(x))) {
    fail(name, `a Float32Array, Uint8Array or number[] of rows × ${dim} values`, x);
  }
  const arr = x as ArrayLike<number>;
  if (arr.length === 0) fail(name, `at least one row of ${dim} values (it is empty)`);
  if (arr.length % dim !== 0) fail(name, `a length that is a multiple of ${dim} (rows × ${dim})`, arr.length);
  const bern = targets && config.likelihood === "bernoulli";
  const lim = bern ? 1 : targets ? GAUSSIAN_TARGET_MAX : F32_LIMIT;
  const lo = bern ? 0 : -lim;
  if (scan && x instanceof Float32Array) {
    // on a failure, fall through to the scan that names the value
    const bad = scan(x, lo, lim);
    if (bad === -1) return arr.length / dim;
  }
  if (x instanceof Float32Array || x instanceof Float64Array) {
    // fast scan; on a failure, fall through to the scan that names the value
    let ok = true;
    for (let i = 0; i < x.length; i++) { const v = x[i]; if (!(v >= lo && v <= lim)) { ok = false; break; } }
    if (ok) return arr.length / dim;
  }
  if (!(x instanceof Uint8Array)) for (let i = 0; i < arr.length; i++) checkValue(config, name, i, arr[i], targets);
  return arr.length / dim;
}

/** One data value (name[i], or name when i < 0): finite in float32, and a valid
 *  target of the likelihood when `targets` (Bernoulli [0, 1]; Gaussian within ±GAUSSIAN_TARGET_MAX). */
export function checkValue(config: Readonly<ResolvedConfig>, name: string, i: number, v: unknown, targets: boolean, note = ""): void {
  const at = i < 0 ? name : `${name}[${i}]`;
  if (!finiteF32(v)) fail(at, `a number that is finite in float32 (|x| ≤ 3.4028234663852886e38)${note}`, v);
  if (!targets) return;
  const x = v as number;
  if (config.likelihood === "bernoulli") {
    if (x < 0 || x > 1) fail(at, `a value in [0, 1] for the Bernoulli likelihood${note}`, x);
  } else if (Math.abs(x) > GAUSSIAN_TARGET_MAX) {
    fail(at, `a value in [−${GAUSSIAN_TARGET_MAX}, ${GAUSSIAN_TARGET_MAX}] for the ${config.likelihood} likelihood (so Σ (x − μ)²/σ² stays finite in float32)${note}`, x);
  }
}

export function checkCondition(config: Readonly<ResolvedConfig>, name: string, c: unknown, rows: number): void {
  const C = config.conditionDim;
  if (C === 0) {
    if (c !== undefined && c !== null) fail(name, "no condition (this model has conditionDim 0)", c);
    return;
  }
  if (c === undefined || c === null) fail(name, `a condition of rows × ${C} values (this is a conditional VAE)`);
  const n = checkRows(config, name, c, C, false);
  if (n !== rows) fail(name, `${rows} rows of ${C} values, one per data row`, `${n} rows`);
}

/** A batch given as rows or { x, condition }, checked. */
export function normBatch(config: Readonly<ResolvedConfig>, batch: Rows | BatchInput, name: string,
                          scan?: RangeScan): { x: Rows; c?: Rows; rows: number } {
  const isInput = batch !== null && typeof batch === "object" && !ArrayBuffer.isView(batch) && !Array.isArray(batch);
  const x = isInput ? (batch as BatchInput).x : (batch as Rows);
  const c = isInput ? (batch as BatchInput).condition : undefined;
  const rows = checkRows(config, isInput ? `${name}.x` : name, x, config.inputDim, true, scan);
  checkCondition(config, `${name}.condition`, c, rows);
  return { x, c, rows };
}
