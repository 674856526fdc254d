// Binarization as the papers do it (Burda et al. 2015; Salakhutdinov & Murray
// 2008): each gray level p ∈ [0, 1] becomes x ~ Bernoulli(p), drawn from a
// seeded host stream (xoshiro128**, random.ts): x = 1 when u < p, u = the
// next u32 · 2⁻³². A test set is binarized once with a fixed seed
// (`binarize(x, seed)`); fit's `binarize: "dynamic"` draws afresh for every
// batch from the model's own stream, which is saved with the model.
import { HostRng } from "../base/random.js";
import type { Rows } from "../base/types.js";
import { checkInt, fail } from "../base/validate.js";

/** The HostRng stream index of `binarize(x, seed)` (and fit's "static"). */
export const BINARIZE_STATIC_STREAM = 3;
/** The stream index of a model's dynamic-binarization stream (seeded with config.seed). */
export const BINARIZE_DYNAMIC_STREAM = 2;

/**
 * x ~ Bernoulli(pixel) for every value of `x` (gray levels in [0, 1]: a
 * Float32Array, Float64Array or number[]; a Uint8Array is read as value/255),
 * drawn from a stream seeded by `seed` (an integer ≥ 0): the same seed gives
 * the same 0/1 values on every platform. Returns a new Float32Array of 0s and 1s.
 *
 *   const test = binarize((await loadMnist({ split: "test" })).images, 123);
 */
export function binarize(x: Rows, seed: number): Float32Array {
  if (!(x instanceof Float32Array || x instanceof Float64Array || x instanceof Uint8Array || Array.isArray(x))) {
    fail("x", "a Float32Array, Float64Array, Uint8Array or number[] of gray levels in [0, 1]", x);
  }
  checkInt("seed", seed, 0, Number.MAX_SAFE_INTEGER);
  const a = x as ArrayLike<number>;
  if (!(x instanceof Uint8Array)) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!(typeof v === "number" && v >= 0 && v <= 1)) fail(`x[${i}]`, "a gray level in [0, 1] (a Bernoulli probability)", v);
    }
  }
  const out = new Float32Array(a.length);
  bernoulliRows(out, 0, a, null, 0, a.length, 1, new HostRng(seed, BINARIZE_STATIC_STREAM));
  return out;
}

/**
 * Writes Bernoulli draws of `rows` rows of `x` (each `dim` values) into
 * out[offset …]: row b is x's row perm[start + b] (or start + b without a
 * perm). Values are scaled by 1/255 when x is a Uint8Array. Advances rng by
 * one u32 per value, in the order written; allocates nothing. The caller has
 * validated x (values in [0, 1]) and the ranges.
 */
export function bernoulliRows(out: Float32Array, offset: number, x: ArrayLike<number>, perm: Uint32Array | null,
                              start: number, rows: number, dim: number, rng: HostRng): void {
  const scale = x instanceof Uint8Array ? 1 / 255 : 1;
  // xoshiro128** in locals (the same steps as HostRng.nextU32), stored back at the end
  const s = rng.s;
  let s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  const INV = 2 ** -32;
  for (let b = 0; b < rows; b++) {
    const src = (perm ? perm[start + b] : start + b) * dim, dst = offset + b * dim;
    for (let d = 0; d < dim; d++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      out[dst + d] = r * INV < x[src + d] * scale ? 1 : 0;
    }
  }
  s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
}
