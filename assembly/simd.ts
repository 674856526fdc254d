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

/** e^x per lane, x clamped to [−87.3, 88.3] (Cody–Waite range reduction,
 *  Cephes expf polynomial; relative error ≈ 1 ulp). Plain mul/add in both
 *  builds, so elementwise results do not depend on the build. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** log(1 + e) per lane for e ∈ [0, 1]: with s = e/(2+e) ∈ [0, 1/3],
 *  log1p(e) = 2·atanh(s) = 2s·Σ_k s^(2k)/(2k+1), truncated after s^14
 *  (remainder < 2e-9 relative). */
// @ts-ignore: decorator
@inline export function log1p01x4(e: v128): v128 {
  const s = f32x4.div(e, f32x4.add(e, f32x4.splat(2)));
  const s2 = f32x4.mul(s, s);
  let q = f32x4.splat(1.0 / 15.0);
  q = f32x4.add(f32x4.mul(q, s2), f32x4.splat(1.0 / 13.0));
  q = f32x4.add(f32x4.mul(q, s2), f32x4.splat(1.0 / 11.0));
  q = f32x4.add(f32x4.mul(q, s2), f32x4.splat(1.0 / 9.0));
  q = f32x4.add(f32x4.mul(q, s2), f32x4.splat(1.0 / 7.0));
  q = f32x4.add(f32x4.mul(q, s2), f32x4.splat(1.0 / 5.0));
  q = f32x4.add(f32x4.mul(q, s2), f32x4.splat(1.0 / 3.0));
  q = f32x4.add(f32x4.mul(q, s2), f32x4.splat(1));
  return f32x4.mul(f32x4.add(s, s), q);
}
