// Small @inline SIMD helpers shared by the kernel families.
// The one place where the plain and relaxed builds differ: `madd`.

/** a·b + c. Plain build: separate mul and add (deterministic, IEEE rounding
 *  twice). Relaxed build: f32x4.relaxed_madd, fused where the CPU has FMA. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Sum of the four lanes in a fixed order: (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Rows of the GEMM register tile: 5×8 plain, 6×8 relaxed (V8 has ~15 usable
 *  v128 registers; larger tiles spill). */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Columns of the register tile: two f32x4 vectors. */
export const NR: i32 = 8;
