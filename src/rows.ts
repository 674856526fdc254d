// Validation of user data rows and conditions against a model's config
// (before anything touches the arena).
import type { ResolvedConfig } from "./config.js";
import type { BatchInput, Rows } from "./types.js";
import { fail } from "./validate.js";

/** Validates rows of data for this model; returns the row count. `targets`:
 *  the rows are likelihood targets (Bernoulli targets must lie in [0, 1]). */
export function checkRows(config: Readonly<ResolvedConfig>, name: string, x: unknown, dim: number, targets: boolean): number {
  if (!(x instanceof Float32Array || x instanceof Float64Array || x instanceof Uint8Array || Array.isArray(x))) {
    fail(name, `a Float32Array, Uint8Array or number[] of rows × ${dim} values`, x);
  }
  const arr = x as ArrayLike<number>;
  if (arr.length === 0) fail(name, `at least one row of ${dim} values (it is empty)`);
  if (arr.length % dim !== 0) fail(name, `a length that is a multiple of ${dim} (rows × ${dim})`, arr.length);
  const bern = targets && config.likelihood === "bernoulli";
  if (x instanceof Float32Array || x instanceof Float64Array) {
    // fast scan; on a failure, fall through to the scan that names the value
    let ok = true;
    if (bern) { for (let i = 0; i < x.length; i++) { const v = x[i]; if (!(v >= 0 && v <= 1)) { ok = false; break; } } }
    else { for (let i = 0; i < x.length; i++) { const v = x[i]; if (v - v !== 0) { ok = false; break; } } }
    if (ok) return arr.length / dim;
  }
  if (!(x instanceof Uint8Array)) {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v !== "number" || !Number.isFinite(v)) fail(`${name}[${i}]`, "a finite number", v);
      if (bern && (v < 0 || v > 1)) fail(`${name}[${i}]`, "a value in [0, 1] for the Bernoulli likelihood", v);
    }
  }
  return arr.length / dim;
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
export function normBatch(config: Readonly<ResolvedConfig>, batch: Rows | BatchInput, name: string): { x: Rows; c?: Rows; rows: number } {
  const isInput = batch !== null && typeof batch === "object" && !ArrayBuffer.isView(batch) && !Array.isArray(batch);
  const x = isInput ? (batch as BatchInput).x : (batch as Rows);
  const c = isInput ? (batch as BatchInput).condition : undefined;
  const rows = checkRows(config, isInput ? `${name}.x` : name, x, config.inputDim, true);
  checkCondition(config, `${name}.condition`, c, rows);
  return { x, c, rows };
}

/** Options objects may be omitted, never null or a non-object, and hold only
 *  known keys (a misspelt option is an error, not silently ignored). */
export function checkOptions(name: string, o: unknown, known: readonly string[]): void {
  if (o === null || typeof o !== "object" || Array.isArray(o)) fail(name, "an options object (or nothing)", o);
  for (const k in o as object) {
    if (Object.prototype.hasOwnProperty.call(o, k) && !known.includes(k)) fail(`${name}.${k}`, `no such option (known: ${known.join(", ") || "none"})`);
  }
}
