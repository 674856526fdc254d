// Argument checks shared by every public entry point. Each throws an error
// that names the argument and what was expected, before any wasm call.

/** A bad argument or option: the message names it (as the caller spelled
 *  it) and says what was expected. Thrown before anything changes. */
export class ArgumentError extends RangeError {
  /** "ArgumentError". */
  override name = "ArgumentError";
}

/** The largest finite float32. */
export const F32_MAX = 3.4028234663852886e38;

export function fail(name: string, expected: string, got?: unknown): never {
  const shown = got === undefined ? "" : `, got ${describe(got)}`;
  throw new ArgumentError(`${name}: expected ${expected}${shown}`);
}

/** A bounded, side-effect-free summary of any value for an error message
 *  (never recurses, never calls user code). */
export function describe(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (v === null) return "null";
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (ArrayBuffer.isView(v)) {
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    return v instanceof DataView ? `DataView(${v.byteLength} bytes)` : `${tag}(${(v as unknown as { byteLength: number }).byteLength / ((v as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT || 1)})`;
  }
  if (Array.isArray(v)) return `Array(${v.length})`;
  return typeof v;
}

export function checkInt(name: string, v: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(name, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`, v);
  }
  return v;
}

export function checkFinite(name: string, v: unknown, opts: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; why?: string } = {}): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(name, "a finite number", v);
  const { min, max, minExclusive, maxExclusive } = opts;
  const below = min !== undefined && (minExclusive ? !(v > min) : !(v >= min));
  const above = max !== undefined && (maxExclusive ? !(v < max) : !(v <= max));
  if (below || above) {
    // the message is built only on failure: this check runs on every training step
    const lo = min === undefined ? "" : minExclusive ? `> ${min}` : `≥ ${min}`;
    const hi = max === undefined ? "" : maxExclusive ? `< ${max}` : `≤ ${max}`;
    fail(name, `a finite number ${[lo, hi].filter(Boolean).join(" and ")}${opts.why ? ` (${opts.why})` : ""}`, v);
  }
  return v;
}

/** A hyperparameter the kernels read as float32, in [min, max]: the range is
 *  chosen so the math stays finite in float32, and the error says so. */
export function checkF32Range(name: string, v: unknown, min: number, max: number, why = "so the float32 math stays finite"): number {
  return checkFinite(name, v, { min, max, why });
}

/** Doubles of magnitude up to this round to a finite float32 (just under
 *  half an ulp above F32_MAX). */
export const F32_LIMIT = 3.4028235677973362e38;

/** Whether x is a number that is finite once rounded to float32. */
export function finiteF32(x: unknown): boolean {
  return typeof x === "number" && Math.abs(x) <= F32_LIMIT;
}

/** Checks a float array's length and that every value is finite in float32
 *  (and within [lo, hi] when given). Returns it as a Float32Array view or copy. */
export function checkFloatArray(name: string, v: unknown, length: number,
                                range?: [number, number]): Float32Array {
  if (!(v instanceof Float32Array || v instanceof Float64Array || Array.isArray(v))) {
    fail(name, `a Float32Array (or Float64Array / number[]) of length ${length}`, v);
  }
  const arr = v as ArrayLike<number>;
  if (arr.length !== length) fail(name, `length ${length}`, arr.length);
  for (let i = 0; i < length; i++) {
    const x = arr[i];
    if (!finiteF32(x)) fail(`${name}[${i}]`, "a number that is finite in float32 (|x| ≤ 3.4028234663852886e38)", x);
    if (range && (x < range[0] || x > range[1])) fail(`${name}[${i}]`, `a value in [${range[0]}, ${range[1]}]`, x);
  }
  return v instanceof Float32Array ? v : Float32Array.from(arr);
}

/** One of `options` (or a deprecated synonym of one: {@link OPTION_SYNONYMS}),
 *  returned in its current spelling. */
export function checkOneOf<T extends string>(name: string, v: unknown, options: readonly T[]): T {
  const canonical = typeof v === "string" && Object.hasOwn(OPTION_SYNONYMS, v) ? OPTION_SYNONYMS[v] : v;
  if (typeof canonical !== "string" || !options.includes(canonical as T)) fail(name, `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`, v);
  return canonical as T;
}

/** Option values are snake_case, as Keras and PyTorch spell them
 *  ("conv2d_transpose", "leaky_relu", "gaussian_learned", "pseudo_gibbs").
 *  The kebab spellings of earlier releases are deprecated synonyms: they are
 *  accepted (model files saved before carry them in their config) and
 *  normalized to the snake_case value, which is what a resolved config, a
 *  saved file and an export then hold. */
export const OPTION_SYNONYMS: Readonly<Record<string, string>> = Object.freeze({
  "gaussian-learned": "gaussian_learned",
  "pseudo-gibbs": "pseudo_gibbs",
});

/** An options object: omitted (undefined) means {}; otherwise a plain object
 *  with only known own keys, none of them null (null is an error, not the
 *  default). Returns the object. */
export function checkOptions<T extends object>(name: string, o: T | undefined, known: readonly string[]): T {
  if (o === undefined) return {} as T;
  if (o === null || typeof o !== "object" || Array.isArray(o) || ArrayBuffer.isView(o)) fail(name, "an object of options (or nothing)", o);
  for (const k of Object.keys(o)) {
    const shown = `${name}.${k.length > 40 ? k.slice(0, 40) + "…" : k}`;
    if (!known.includes(k)) throw new ArgumentError(`${shown}: unknown option (known: ${known.join(", ") || "none"})`);
    if ((o as Record<string, unknown>)[k] === null) fail(shown, "a value (omit the option for its default; null is not a default)", null);
  }
  return o;
}

/** An optional boolean option: undefined gives `def`; anything but a boolean fails. */
export function checkBool(name: string, v: unknown, def: boolean): boolean {
  if (v === undefined) return def;
  if (typeof v !== "boolean") fail(name, "true or false", v);
  return v;
}

/** An optional function option. */
export function checkFunction<T>(name: string, v: unknown, what = "a function"): T | undefined {
  if (v !== undefined && typeof v !== "function") fail(name, what, v);
  return v as T | undefined;
}
