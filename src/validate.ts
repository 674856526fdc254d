// Argument checks shared by every public entry point. Each throws an error
// that names the argument and what was expected, before any wasm call.

/** A bad argument or option: the message names it (as the caller spelled
 *  it) and says what was expected. Thrown before anything changes. */
export class ArgumentError extends RangeError {
  /** "ArgumentError". */
  override name = "ArgumentError";
}

export function fail(name: string, expected: string, got?: unknown): never {
  const shown = got === undefined ? "" : `, got ${describe(got)}`;
  throw new ArgumentError(`${name}: expected ${expected}${shown}`);
}

export function describe(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (v === null) return "null";
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(v)) return `Array(${v.length})`;
  return typeof v;
}

export function checkInt(name: string, v: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(name, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`, v);
  }
  return v;
}

export function checkFinite(name: string, v: unknown, opts: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {}): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(name, "a finite number", v);
  const { min, max, minExclusive, maxExclusive } = opts;
  const below = min !== undefined && (minExclusive ? !(v > min) : !(v >= min));
  const above = max !== undefined && (maxExclusive ? !(v < max) : !(v <= max));
  if (below || above) {
    // the message is built only on failure: this check runs on every training step
    const lo = min === undefined ? "" : minExclusive ? `> ${min}` : `≥ ${min}`;
    const hi = max === undefined ? "" : maxExclusive ? `< ${max}` : `≤ ${max}`;
    fail(name, `a finite number ${[lo, hi].filter(Boolean).join(" and ")}`, v);
  }
  return v;
}

/** Checks a float array's length and that every value is finite (and within
 *  [lo, hi] when given). Returns it as a Float32Array view or copy. */
export function checkFloatArray(name: string, v: unknown, length: number,
                                range?: [number, number]): Float32Array {
  if (!(v instanceof Float32Array || v instanceof Float64Array || Array.isArray(v))) {
    fail(name, `a Float32Array (or Float64Array / number[]) of length ${length}`, v);
  }
  const arr = v as ArrayLike<number>;
  if (arr.length !== length) fail(name, `length ${length}`, arr.length);
  for (let i = 0; i < length; i++) {
    const x = arr[i];
    if (typeof x !== "number" || !Number.isFinite(x)) fail(`${name}[${i}]`, "a finite number", x);
    if (range && (x < range[0] || x > range[1])) fail(`${name}[${i}]`, `a value in [${range[0]}, ${range[1]}]`, x);
  }
  return v instanceof Float32Array ? v : Float32Array.from(arr);
}

export function checkOneOf<T extends string>(name: string, v: unknown, options: readonly T[]): T {
  if (typeof v !== "string" || !options.includes(v as T)) fail(name, `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`, v);
  return v as T;
}
