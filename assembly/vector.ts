// Flat-block helpers: fill, copy, axpy, scale, row sums, the sum of squares for
// global gradient-norm clipping (f64 accumulation in an order fixed by n, split
// over threads by chunks), and the batch range check.
import { argInt, argPtr, parallelFor, setArg, shouldSplit } from "./threads";

/** Writes x (n) = value. */
export function fill(x: usize, n: i32, value: f32): void {
  const vv = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), vv);
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), value);
}

/** Writes dst (n) = src (n) (regions may overlap). */
export function copy(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** Accumulates y (n) += a·x (n). */
export function axpy(y: usize, x: usize, n: i32, a: f32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

/** Updates x (n) *= s. */
export function scale(x: usize, n: i32, s: f32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), vs));
  }
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * s);
}

/** Most chunks sum_squares cuts x into; their partial sums live here. */
const MAX_CHUNKS: i32 = 256;   // 2 KiB of static data (a shared build ships its static data whole)
const PARTIALS: usize = memory.data(MAX_CHUNKS << 3, 16);

/** Floats per chunk of sum_squares: a function of n alone (never of the
 *  thread count), at least 8192 and a multiple of 16. */
// @ts-ignore: decorator
@inline function chunkOf(n: i32): i32 {
  return max(8192, ((n + MAX_CHUNKS - 1) / MAX_CHUNKS + 15) & ~15);
}

/** Returns Σ x² over x (n), accumulated in f64 in an order fixed by n: x is cut
 *  into chunks (chunkOf), each summed in eight f64 lanes (element i in lane
 *  i mod 8) that are combined pairwise, then the chunks' sums are added in
 *  order. Chunks are split over threads; the bits never depend on how many. */
export function sum_squares(x: usize, n: i32): f64 {
  const ch = chunkOf(n), nch = (n + ch - 1) / ch;
  if (nch > 1 && shouldSplit(<f64>n * 2)) {
    setArg(0, <f64>x); setArg(1, n); setArg(2, ch);
    parallelFor(sumSquaresTask, nch);
  } else {
    for (let t = 0; t < nch; t++) store<f64>(PARTIALS + (<usize>t << 3), sumSquaresRange(x + (<usize>(t * ch) << 2), min(ch, n - t * ch)));
  }
  let s: f64 = 0;
  for (let t = 0; t < nch; t++) s += load<f64>(PARTIALS + (<usize>t << 3));
  return s;
}

function sumSquaresTask(t: i32, _scratch: usize): i32 {
  const n = argInt(1), ch = argInt(2);
  store<f64>(PARTIALS + (<usize>t << 3), sumSquaresRange(argPtr(0) + (<usize>(t * ch) << 2), min(ch, n - t * ch)));
  return 0;
}

// Σ x² over x (n) in eight f64 lanes: four f64x2 accumulators, so the adds of
// consecutive iterations do not wait on each other.
function sumSquaresRange(x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(x + (<usize>i << 2)), w = v128.load(x + (<usize>i << 2), 16);
    const p0 = f64x2.promote_low_f32x4(v), p1 = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    const p2 = f64x2.promote_low_f32x4(w), p3 = f64x2.promote_low_f32x4(i32x4.shuffle(w, w, 2, 3, 0, 1));
    a0 = f64x2.add(a0, f64x2.mul(p0, p0)); a1 = f64x2.add(a1, f64x2.mul(p1, p1));
    a2 = f64x2.add(a2, f64x2.mul(p2, p2)); a3 = f64x2.add(a3, f64x2.mul(p3, p3));
  }
  const a = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

/** Returns 1 when every element of x (n) is finite, else 0. */
export function all_finite(x: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return 0;
  }
  return 1;
}

/** Accumulates dst (n) += src (n). */
// @ts-ignore: decorator
@inline export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** Accumulates s (n) += Σ_r x[r, :] over x (rows, n), rows added in order
 *  (the bias gradient of a dense or convolution layer). */
export function add_rows(s: usize, x: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) addInto(s, x + ((<usize>r * n) << 2), n);
}

/** Returns the index of the first element of x (n) outside [lo, hi] (NaN is
 *  outside), or −1: the data-range check of a batch staged in the arena
 *  (rows.ts), read-only. */
export function first_outside(x: usize, n: i32, lo: f32, hi: f32): i32 {
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = x + (<usize>i << 2);
    const a = v128.load(o), b = v128.load(o, 16), c = v128.load(o, 32), d = v128.load(o, 48);
    // lo ≤ v ≤ hi is false for NaN
    const inA = v128.and(f32x4.ge(a, vlo), f32x4.le(a, vhi)), inB = v128.and(f32x4.ge(b, vlo), f32x4.le(b, vhi));
    const inC = v128.and(f32x4.ge(c, vlo), f32x4.le(c, vhi)), inD = v128.and(f32x4.ge(d, vlo), f32x4.le(d, vhi));
    if (!i32x4.all_true(v128.and(v128.and(inA, inB), v128.and(inC, inD)))) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (!(v >= lo && v <= hi)) return i;
  }
  return -1;
}
