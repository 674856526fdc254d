// GEMM family behind the dense layer, f32, row-major:
//   C (M,N) = op(A) (M,K) · op(B) (K,N)   with op ∈ {identity, transpose}
// A is packed once into MR-row panels, B one NR=8-column strip at a time, and
// an MR×8 register tile (5×8 plain, 6×8 relaxed) walks the packed panels.
// The reduction over K always runs k = 0..K-1 in order, so the plain build is
// bit-reproducible. Edge tiles go through a small tile buffer, so nothing is
// read or written outside A, B, C or bias.
// Threads (threads.ts): the output is cut into blocks of row panels × column
// strips, each computed by one thread with the same loops as on one thread.
// Epilogue (gemm_act): an activation applied to each output tile right after
// its last K block is stored, while it is in L1, instead of a second pass over
// C; an activation's value never depends on its position, so the bits are
// those of gemm followed by activation_forward.
import { madd, MR, NR } from "./simd";
import { activationForwardRange, ACT_IDENTITY } from "./activation";
import { arg, argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit, threadCount } from "./threads";

/** C = op(A)·op(B) */
export const INIT_ZERO: i32 = 0;
/** C += op(A)·op(B) */
export const INIT_ACC: i32 = 1;
/** C = op(A)·op(B) + bias (bias (N) broadcast over rows) */
export const INIT_BIAS: i32 = 2;

/** Bytes of scratch `gemm` needs for these sizes (an upper bound for either build). */
export function gemm_scratch_bytes(M: i32, K: i32): usize {
  // packed A: ceil(M/MR)·MR·K ≤ (M + 7)·K; one packed B strip: K·8; one tile: 8·8.
  return (<usize>(M + 7) * <usize>K + <usize>K * 8 + 64) << 2;
}

// Stores the 4×4 transpose of rows v0..v3: column q, (v0[q], v1[q], v2[q],
// v3[q]), at dst + q·step.
// @ts-ignore: decorator
@inline function storeTransposed4(dst: usize, step: usize, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(v2, v3, 0, 4, 1, 5), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + step, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * step, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

// pa (kc, MR): rows i0..i0+MR of op(A)[:, 0:kc], k-major; rows ≥ M are zero.
// a points at op(A)[0, 0] of the block; K is the full row length of a (transA=0).
function packA(pa: usize, a: usize, M: i32, K: i32, kc: i32, transA: i32, i0: i32): void {
  const mc = min(MR, M - i0);
  if (transA && mc == MR) {
    // a is (K, M): row k of a holds op(A)[:, k]; a full panel copies MR
    // consecutive floats per k (a vector, then the last one or two)
    for (let k = 0; k < kc; k++) {
      const src = a + ((<usize>k * M + i0) << 2), dst = pa + (<usize>(k * MR) << 2);
      v128.store(dst, v128.load(src));
      if (MR == 6) store<u64>(dst + 16, load<u64>(src + 16));
      else store<f32>(dst + 16, load<f32>(src + 16));
    }
  } else if (transA) {
    // a is (K, M): row k of a holds op(A)[:, k]
    for (let k = 0; k < kc; k++) {
      const src = a + ((<usize>k * M + i0) << 2);
      const dst = pa + (<usize>(k * MR) << 2);
      for (let r = 0; r < mc; r++) store<f32>(dst + (<usize>r << 2), load<f32>(src + (<usize>r << 2)));
      for (let r = mc; r < MR; r++) store<f32>(dst + (<usize>r << 2), 0);
    }
  } else if (mc == MR) {
    // a is (M, K), a full panel: four k at a time, rows 0–3 loaded as vectors
    // and transposed 4×4 into each k's first four floats, rows 4 (and 5) by
    // lanes; the scalar copy below for the last kc mod 4. A copy either way:
    // the same packed values (a conv's cols·w, N = 64, spent about one
    // scalar load and store per 64 multiply-adds here).
    const ldk = <usize>K << 2, s = <usize>MR << 2;
    const row0 = a + ((<usize>i0 * K) << 2);
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const src = row0 + (<usize>k << 2), dst = pa + (<usize>(k * MR) << 2);
      storeTransposed4(dst, s, v128.load(src), v128.load(src + ldk), v128.load(src + 2 * ldk), v128.load(src + 3 * ldk));
      const v4 = v128.load(src + 4 * ldk);
      if (MR == 6) {
        const v5 = v128.load(src + 5 * ldk);
        const u01 = i32x4.shuffle(v4, v5, 0, 4, 1, 5), u23 = i32x4.shuffle(v4, v5, 2, 6, 3, 7);
        v128.store64_lane(dst + 16, u01, 0); v128.store64_lane(dst + s + 16, u01, 1);
        v128.store64_lane(dst + 2 * s + 16, u23, 0); v128.store64_lane(dst + 3 * s + 16, u23, 1);
      } else {
        store<f32>(dst + 16, f32x4.extract_lane(v4, 0)); store<f32>(dst + s + 16, f32x4.extract_lane(v4, 1));
        store<f32>(dst + 2 * s + 16, f32x4.extract_lane(v4, 2)); store<f32>(dst + 3 * s + 16, f32x4.extract_lane(v4, 3));
      }
    }
    for (; k < kc; k++) {
      const dst = pa + (<usize>(k * MR) << 2);
      for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), load<f32>(row0 + <usize>r * ldk + (<usize>k << 2)));
    }
  } else {
    // a is (M, K), the last panel's mc < MR rows
    for (let r = 0; r < MR; r++) {
      const dst = pa + (<usize>r << 2);
      const stride = <usize>MR << 2;
      if (r < mc) {
        const src = a + ((<usize>(i0 + r) * K) << 2);
        for (let k = 0; k < kc; k++) store<f32>(dst + <usize>k * stride, load<f32>(src + (<usize>k << 2)));
      } else {
        for (let k = 0; k < kc; k++) store<f32>(dst + <usize>k * stride, 0);
      }
    }
  }
}

// pb (kc, 8): columns j0..j0+8 of op(B)[0:kc, :], k-major; columns ≥ N are zero.
// b points at op(B)[0, 0] of the block; K is the full row length of b (transB=1).
function packB(pb: usize, b: usize, K: i32, N: i32, kc: i32, j0: i32, transB: i32): void {
  const nc = min(NR, N - j0);
  if (transB) {
    // b is (N, K): row j of b holds op(B)[:, j]
    if (nc == NR) {
      // 4×4 register transposes: rows j0+c..c+3 of b, k..k+3 → pb[k..k+3][c..c+3]
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        for (let c = 0; c < NR; c += 4) {
          const src = b + ((<usize>(j0 + c) * K + k) << 2);
          const ld = <usize>K << 2;
          storeTransposed4(pb + (<usize>k << 5) + (<usize>c << 2), 32,
                           v128.load(src), v128.load(src + ld), v128.load(src + 2 * ld), v128.load(src + 3 * ld));
        }
      }
      for (; k < kc; k++) {
        for (let c = 0; c < NR; c++) {
          store<f32>(pb + (<usize>k << 5) + (<usize>c << 2), load<f32>(b + ((<usize>(j0 + c) * K + k) << 2)));
        }
      }
      return;
    }
    for (let c = 0; c < NR; c++) {
      const dst = pb + (<usize>c << 2);
      if (c < nc) {
        const src = b + ((<usize>(j0 + c) * K) << 2);
        for (let k = 0; k < kc; k++) store<f32>(dst + (<usize>k << 5), load<f32>(src + (<usize>k << 2)));
      } else {
        for (let k = 0; k < kc; k++) store<f32>(dst + (<usize>k << 5), 0);
      }
    }
  } else {
    // b is (K, N)
    if (nc == NR) {
      for (let k = 0; k < kc; k++) {
        const src = b + ((<usize>k * N + j0) << 2);
        const dst = pb + (<usize>k << 5);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const src = b + ((<usize>k * N + j0) << 2);
        const dst = pb + (<usize>k << 5);
        for (let c = 0; c < nc; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
        for (let c = nc; c < NR; c++) store<f32>(dst + (<usize>c << 2), 0);
      }
    }
  }
}

// Register tile, plain build: c (5,8) [+]= pa (K,5)ᵀ · pb (K,8).
// init: INIT_ZERO, INIT_ACC (load c) or INIT_BIAS (load bias (8) into every row).
function kernel5x8(pa: usize, pb: usize, K: i32, c: usize, ldc: usize, init: i32, bias: usize): void {
  let vacc0x0123 = f32x4.splat(0), vacc0x4567 = f32x4.splat(0);
  let vacc1x0123 = f32x4.splat(0), vacc1x4567 = f32x4.splat(0);
  let vacc2x0123 = f32x4.splat(0), vacc2x4567 = f32x4.splat(0);
  let vacc3x0123 = f32x4.splat(0), vacc3x4567 = f32x4.splat(0);
  let vacc4x0123 = f32x4.splat(0), vacc4x4567 = f32x4.splat(0);
  if (init == INIT_ACC) {
    vacc0x0123 = v128.load(c); vacc0x4567 = v128.load(c, 16);
    vacc1x0123 = v128.load(c + ldc); vacc1x4567 = v128.load(c + ldc, 16);
    vacc2x0123 = v128.load(c + 2 * ldc); vacc2x4567 = v128.load(c + 2 * ldc, 16);
    vacc3x0123 = v128.load(c + 3 * ldc); vacc3x4567 = v128.load(c + 3 * ldc, 16);
    vacc4x0123 = v128.load(c + 4 * ldc); vacc4x4567 = v128.load(c + 4 * ldc, 16);
  } else if (init == INIT_BIAS) {
    vacc0x0123 = v128.load(bias); vacc0x4567 = v128.load(bias, 16);
    vacc1x0123 = vacc0x0123; vacc1x4567 = vacc0x4567;
    vacc2x0123 = vacc0x0123; vacc2x4567 = vacc0x4567;
    vacc3x0123 = vacc0x0123; vacc3x4567 = vacc0x4567;
    vacc4x0123 = vacc0x0123; vacc4x4567 = vacc0x4567;
  }
  for (let k = 0; k < K; k++) {
    const vb0123 = v128.load(pb);
    const vb4567 = v128.load(pb, 16);
    let va = v128.load32_splat(pa);
    vacc0x0123 = madd(va, vb0123, vacc0x0123); vacc0x4567 = madd(va, vb4567, vacc0x4567);
    va = v128.load32_splat(pa, 4);
    vacc1x0123 = madd(va, vb0123, vacc1x0123); vacc1x4567 = madd(va, vb4567, vacc1x4567);
    va = v128.load32_splat(pa, 8);
    vacc2x0123 = madd(va, vb0123, vacc2x0123); vacc2x4567 = madd(va, vb4567, vacc2x4567);
    va = v128.load32_splat(pa, 12);
    vacc3x0123 = madd(va, vb0123, vacc3x0123); vacc3x4567 = madd(va, vb4567, vacc3x4567);
    va = v128.load32_splat(pa, 16);
    vacc4x0123 = madd(va, vb0123, vacc4x0123); vacc4x4567 = madd(va, vb4567, vacc4x4567);
    pa += 20; pb += 32;
  }
  v128.store(c, vacc0x0123); v128.store(c, vacc0x4567, 16);
  v128.store(c + ldc, vacc1x0123); v128.store(c + ldc, vacc1x4567, 16);
  v128.store(c + 2 * ldc, vacc2x0123); v128.store(c + 2 * ldc, vacc2x4567, 16);
  v128.store(c + 3 * ldc, vacc3x0123); v128.store(c + 3 * ldc, vacc3x4567, 16);
  v128.store(c + 4 * ldc, vacc4x0123); v128.store(c + 4 * ldc, vacc4x4567, 16);
}

// Register tile, relaxed build: c (6,8) [+]= pa (K,6)ᵀ · pb (K,8), fused madd.
// (Exported for bench/gemm-tile/tiles.ts, which times it on packed operands;
// assembly/index.ts does not export it from the library.)
export function kernel6x8(pa: usize, pb: usize, K: i32, c: usize, ldc: usize, init: i32, bias: usize): void {
  let vacc0x0123 = f32x4.splat(0), vacc0x4567 = f32x4.splat(0);
  let vacc1x0123 = f32x4.splat(0), vacc1x4567 = f32x4.splat(0);
  let vacc2x0123 = f32x4.splat(0), vacc2x4567 = f32x4.splat(0);
  let vacc3x0123 = f32x4.splat(0), vacc3x4567 = f32x4.splat(0);
  let vacc4x0123 = f32x4.splat(0), vacc4x4567 = f32x4.splat(0);
  let vacc5x0123 = f32x4.splat(0), vacc5x4567 = f32x4.splat(0);
  if (init == INIT_ACC) {
    vacc0x0123 = v128.load(c); vacc0x4567 = v128.load(c, 16);
    vacc1x0123 = v128.load(c + ldc); vacc1x4567 = v128.load(c + ldc, 16);
    vacc2x0123 = v128.load(c + 2 * ldc); vacc2x4567 = v128.load(c + 2 * ldc, 16);
    vacc3x0123 = v128.load(c + 3 * ldc); vacc3x4567 = v128.load(c + 3 * ldc, 16);
    vacc4x0123 = v128.load(c + 4 * ldc); vacc4x4567 = v128.load(c + 4 * ldc, 16);
    vacc5x0123 = v128.load(c + 5 * ldc); vacc5x4567 = v128.load(c + 5 * ldc, 16);
  } else if (init == INIT_BIAS) {
    vacc0x0123 = v128.load(bias); vacc0x4567 = v128.load(bias, 16);
    vacc1x0123 = vacc0x0123; vacc1x4567 = vacc0x4567;
    vacc2x0123 = vacc0x0123; vacc2x4567 = vacc0x4567;
    vacc3x0123 = vacc0x0123; vacc3x4567 = vacc0x4567;
    vacc4x0123 = vacc0x0123; vacc4x4567 = vacc0x4567;
    vacc5x0123 = vacc0x0123; vacc5x4567 = vacc0x4567;
  }
  for (let k = 0; k < K; k++) {
    const vb0123 = v128.load(pb);
    const vb4567 = v128.load(pb, 16);
    let va = v128.load32_splat(pa);
    vacc0x0123 = madd(va, vb0123, vacc0x0123); vacc0x4567 = madd(va, vb4567, vacc0x4567);
    va = v128.load32_splat(pa, 4);
    vacc1x0123 = madd(va, vb0123, vacc1x0123); vacc1x4567 = madd(va, vb4567, vacc1x4567);
    va = v128.load32_splat(pa, 8);
    vacc2x0123 = madd(va, vb0123, vacc2x0123); vacc2x4567 = madd(va, vb4567, vacc2x4567);
    va = v128.load32_splat(pa, 12);
    vacc3x0123 = madd(va, vb0123, vacc3x0123); vacc3x4567 = madd(va, vb4567, vacc3x4567);
    va = v128.load32_splat(pa, 16);
    vacc4x0123 = madd(va, vb0123, vacc4x0123); vacc4x4567 = madd(va, vb4567, vacc4x4567);
    va = v128.load32_splat(pa, 20);
    vacc5x0123 = madd(va, vb0123, vacc5x0123); vacc5x4567 = madd(va, vb4567, vacc5x4567);
    pa += 24; pb += 32;
  }
  v128.store(c, vacc0x0123); v128.store(c, vacc0x4567, 16);
  v128.store(c + ldc, vacc1x0123); v128.store(c + ldc, vacc1x4567, 16);
  v128.store(c + 2 * ldc, vacc2x0123); v128.store(c + 2 * ldc, vacc2x4567, 16);
  v128.store(c + 3 * ldc, vacc3x0123); v128.store(c + 3 * ldc, vacc3x4567, 16);
  v128.store(c + 4 * ldc, vacc4x0123); v128.store(c + 4 * ldc, vacc4x4567, 16);
  v128.store(c + 5 * ldc, vacc5x0123); v128.store(c + 5 * ldc, vacc5x4567, 16);
}

// @ts-ignore: decorator
@inline function microkernel(pa: usize, pb: usize, K: i32, c: usize, ldc: usize, init: i32, bias: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) kernel6x8(pa, pb, K, c, ldc, init, bias);
  else kernel5x8(pa, pb, K, c, ldc, init, bias);
}

/** K is cut into blocks of KC so one packed B strip (KC×8) and one packed A
 *  panel (KC×MR) stay in L1 together. */
const KC: i32 = 256;

/**
 * C (M,N) = op(A)·op(B), per `init`: overwritten (INIT_ZERO), accumulated
 * (INIT_ACC) or overwritten with a bias (N) added (INIT_BIAS).
 *   a: transA=0 → (M,K); transA=1 → (K,M)
 *   b: transB=0 → (K,N); transB=1 → (N,K)
 *   scratch: gemm_scratch_bytes(M, K) bytes, not aliasing a, b, c.
 * Writes c; clobbers scratch. Each element's sum runs over k in order (the
 * first K block starts from init, later ones accumulate onto C).
 */
export function gemm(c: usize, a: usize, b: usize, bias: usize,
                     M: i32, K: i32, N: i32, transA: i32, transB: i32,
                     init: i32, scratch: usize): void {
  gemm_act(c, a, b, bias, M, K, N, transA, transB, init, scratch, ACT_IDENTITY, 0);
}

/** gemm, then C = act(C) (activation.ts codes), fused into the tile stores. */
export function gemm_act(c: usize, a: usize, b: usize, bias: usize,
                         M: i32, K: i32, N: i32, transA: i32, transB: i32,
                         init: i32, scratch: usize, act: i32, alpha: f32): void {
  // One or two rows of a forward product (inference on single examples): no
  // packing and no wasted tile rows; the full 8-column strips are computed
  // straight from a and b, and what is left goes through the packed path.
  // Not split over threads: a batch-1 layer is ~10–20 µs, the order of
  // waking a sleeping worker (tests/threads/determinism.test.ts).
  let N0 = 0;
  if (M <= 2 && !transA && !transB) {
    N0 = N & ~7;
    if (M == 1) rowTimesB(c, a, b, bias, K, N, N0, init, act, alpha);
    else rowsTimesB(c, a, b, bias, K, N, N0, init, act, alpha);
    if (N0 == N) return;
  } else if (K <= ROWS_K_MAX && !transA && !transB && N >= 8) {
    // Few k (a layer after a small latent): a tile would pack, store and
    // reload for a handful of multiply-adds; rows two at a time straight from
    // a and b instead, the same k order and madd per element as in a tile,
    // so the same bits. Split by row pairs on threads; the last N mod 8
    // columns take the packed path below.
    N0 = N & ~7;
    fewK(c, a, b, bias, M, K, N, N0, init, act, alpha);
    if (N0 == N) return;
  }
  if (N0 == 0 && shouldSplit(<f64>M * <f64>K * <f64>N)) {
    if (packOnce(M, K, N)) gemmSplitPacked(c, a, b, bias, M, K, N, transA, transB, init, scratch, act, alpha);
    else gemmSplit(c, a, b, bias, M, K, N, transA, transB, init, act, alpha);
  }
  else gemmBlock(c, a, b, bias, M, K, N, transA, transB, init, scratch, 0, M, N0, N, act, alpha);
}

/** Largest K of gemm_act's few-k path (rows straight from a and b). */
const ROWS_K_MAX: i32 = 8;

// Rows of C (M, N), columns [0, N0), by row pairs (rowsTimesB; an odd last
// row rowTimesB), split over threads by ranges of pairs.
function fewK(c: usize, a: usize, b: usize, bias: usize, M: i32, K: i32, N: i32, N0: i32,
              init: i32, act: i32, alpha: f32): void {
  if (!shouldSplit(<f64>M * <f64>K * <f64>N)) {
    fewKRows(c, a, b, bias, K, N, N0, init, act, alpha, 0, M);
    return;
  }
  setArg(0, <f64>c); setArg(1, <f64>a); setArg(2, <f64>b); setArg(3, <f64>bias); setArg(4, K); setArg(5, N);
  setArg(6, N0); setArg(7, init); setArg(8, act); setArg(9, alpha);
  parallelFor(fewKTask, rangeTasks(M, 2));
}

function fewKTask(t: i32, _scratch: usize): i32 {
  fewKRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argInt(4), argInt(5), argInt(6), argInt(7), argInt(8),
           <f32>arg(9), rangeStart(t), rangeEnd(t));
  return 0;
}

// Rows [r0, r1) of fewK (r0 even).
function fewKRows(c: usize, a: usize, b: usize, bias: usize, K: i32, N: i32, N0: i32,
                  init: i32, act: i32, alpha: f32, r0: i32, r1: i32): void {
  const ldc = <usize>N << 2, lda = <usize>K << 2;
  let i = r0;
  for (; i + 2 <= r1; i += 2) rowsTimesB(c + <usize>i * ldc, a + <usize>i * lda, b, bias, K, N, N0, init, act, alpha);
  if (i < r1) rowTimesB(c + <usize>i * ldc, a + <usize>i * lda, b, bias, K, N, N0, init, act, alpha);
}

/** Row panels per task at most: a task's packed panels, one packed B strip
 *  and a tile fit THREAD_SCRATCH (8·6·256 + 256·8 + 64 floats < 64 KiB). */
const RB_MAX: i32 = 8;

// Splits C into rowBlocks × colBlocks tasks, about four per thread so threads
// that started late or run slower even out. Block r of n holds panels (or
// strips) [r·mb/n, (r+1)·mb/n): sizes differ by at most one, so the threads'
// shares do too (ceil-sized blocks left one short last block: 50 strips in
// 8 tasks were 7 × 7 + 1, one thread's 4 tasks 28 strips against 22).
// Publishes the product's arguments at ARGS o … o+15; returns its task count.
function gemmPlan(o: i32, c: usize, a: usize, b: usize, bias: usize,
                  M: i32, K: i32, N: i32, transA: i32, transB: i32, init: i32, act: i32, alpha: f32): i32 {
  const mb = (M + MR - 1) / MR, nb = (N + NR - 1) / NR;
  const target = 4 * threadCount();
  let rowBlocks = (mb + RB_MAX - 1) / RB_MAX;
  let colBlocks = min(nb, (target + rowBlocks - 1) / rowBlocks);
  if (rowBlocks * colBlocks < target) rowBlocks = min(mb, (target + colBlocks - 1) / colBlocks);
  if (nb < target) {
    // Narrow C (fewer strips than tasks: a 20- or 40-wide layer): each column
    // block repacks all of op(A) (cb·M·K floats in all), each row block all of
    // op(B) (rb·N·K); pick the blocks with at least `target` tasks (or as many
    // as there are tiles) that pack least, an A float counted twice (packA
    // gathers MR rows, packB copies 8 contiguous floats). At 128×400→40 this is
    // 8 × 1 blocks instead of 3 × 3 (op(A), 51K floats, packed once, not 3 times).
    const tasks = min(target, mb * nb);
    let best = <f64>Infinity;
    for (let rb = (mb + RB_MAX - 1) / RB_MAX; rb <= mb; rb++) {
      const cb = min(nb, (tasks + rb - 1) / rb);
      if (rb * cb < tasks) continue;
      const cost = 2 * <f64>cb * <f64>M + <f64>rb * <f64>N;
      if (cost < best) { best = cost; rowBlocks = rb; colBlocks = cb; }
    }
  }
  return publish(o, c, a, b, bias, M, K, N, transA, transB, init, rowBlocks, colBlocks, act, alpha, 0);
}

// Publishes a product's arguments at ARGS o … o+15 for gemmTaskAt: C cut into
// rowBlocks × colBlocks blocks; packed: its op(A) packed whole there (then
// rowBlocks is 1), or 0 (each task packs its own panels). Returns the task count.
function publish(o: i32, c: usize, a: usize, b: usize, bias: usize, M: i32, K: i32, N: i32, transA: i32, transB: i32,
                 init: i32, rowBlocks: i32, colBlocks: i32, act: i32, alpha: f32, packed: usize): i32 {
  setArg(o, <f64>c); setArg(o + 1, <f64>a); setArg(o + 2, <f64>b); setArg(o + 3, <f64>bias);
  setArg(o + 4, M); setArg(o + 5, K); setArg(o + 6, N); setArg(o + 7, transA); setArg(o + 8, transB); setArg(o + 9, init);
  setArg(o + 10, rowBlocks); setArg(o + 12, colBlocks); setArg(o + 13, act); setArg(o + 14, alpha);
  setArg(o + 15, <f64>packed);
  return rowBlocks * colBlocks;
}

/** Column tasks of a packed-once product N wide. */
// @ts-ignore: decorator
@inline function packedTasks(N: i32): i32 {
  return min((N + NR - 1) / NR, PACKED_TASKS_PER_THREAD * threadCount());
}

/** Packed op(A) at most this many bytes: it stays in L2 (1 MiB per core here)
 *  while every column task streams it. */
const PACK_ONCE_BYTES: i32 = 512 << 10;

// Whether a split product packs op(A) once for all tasks (gemmSplitPacked):
// when the packed A is small and there are enough column strips for about
// four tasks per thread, and K is deep enough (≥ 128) for packing to matter:
// at K = 20 the extra fork-join cost more than it saved
// (bench/results/gemm-split-ab.md). With more row panels than one task's
// scratch holds, the row-block plan would pack every B strip once per row
// block; with fewer (≤ 8 panels: M ≤ 40 plain, 48 relaxed, as in a B = 32
// step) it would pack all of op(A) once per column task (8 times on 2
// threads), so here it is packed once, on the calling thread (no extra
// fork-join). The tall, narrow products of convolutions keep the row-block plan.
// @ts-ignore: decorator
@inline function packOnce(M: i32, K: i32, N: i32): bool {
  const mb = (M + MR - 1) / MR, nb = (N + NR - 1) / NR;
  return K >= PACK_MIN_K && <f64>mb * <f64>MR * <f64>K * 4 <= <f64>PACK_ONCE_BYTES && nb >= 4 * threadCount();
}

/** The shallowest product whose op(A) is packed once when split (packOnce). */
export const PACK_MIN_K: i32 = 128;

/** Column tasks per thread of a packed-once product: each task streams the
 *  packed op(A) once per K block whatever its width, so narrow tasks cost
 *  only their claims, and the last task ends sooner after the others. */
const PACKED_TASKS_PER_THREAD: i32 = 12;

// Packs op(A) whole into `scratch` (the caller's, ≥ gemm_scratch_bytes(M, K)):
// K block after K block, each as gemmBlock lays it out, panels split over the
// threads; then the column strips are split, each task running every panel
// against its strips with its own scratch for the B strip and the tile. Every
// tile sees the same packed values and the same K blocks as in gemmBlock: the
// same bits, and each B strip is packed once in all (not once per row block).
function gemmSplitPacked(c: usize, a: usize, b: usize, bias: usize,
                         M: i32, K: i32, N: i32, transA: i32, transB: i32, init: i32, scratch: usize,
                         act: i32, alpha: f32): void {
  const mb = (M + MR - 1) / MR;
  const tasks = publish(0, c, a, b, bias, M, K, N, transA, transB, init, 1, packedTasks(N), act, alpha, scratch);
  if (mb > RB_MAX) parallelFor(packATask, mb);
  else for (let ib = 0; ib < mb; ib++) packPanel(0, ib);
  parallelFor(gemmTask, tasks);
}

// Panel ib of op(A) of the product at ARGS o, every K block, into the packed
// buffer at ARGS o+15 (the layout gemmBlock reads when given `packed`).
// @ts-ignore: decorator
@inline function packPanel(o: i32, ib: i32): void {
  const a = argPtr(o + 1), M = argInt(o + 4), K = argInt(o + 5), transA = argInt(o + 7), pa = argPtr(o + 15);
  const mb = (M + MR - 1) / MR;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const ak = transA ? a + ((<usize>k0 * M) << 2) : a + (<usize>k0 << 2);
    packA(pa + ((<usize>mb * MR * k0 + <usize>ib * MR * kc) << 2), ak, M, K, kc, transA, ib * MR);
  }
}

function packATask(ib: i32, _scratch: usize): i32 {
  packPanel(0, ib);
  return 0;
}

// First column of column block q of n over N columns (colStart(n, n, N) = N).
// In whole pairs of strips (16 floats, a 64-byte line of a C row whose stride
// is a multiple of 64 bytes) when every block gets one: then no line of C is
// written by two tasks, which run at once on different cores and would pass
// the line back and forth at every K block; else in whole strips.
// @ts-ignore: decorator
@inline function colStart(q: i32, n: i32, N: i32): i32 {
  const nb = (N + NR - 1) / NR;
  if (nb >= 2 * n) return min(N, q * ((nb + 1) >> 1) / n * 2 * NR);
  return min(N, q * nb / n * NR);
}

function gemmSplit(c: usize, a: usize, b: usize, bias: usize,
                   M: i32, K: i32, N: i32, transA: i32, transB: i32, init: i32, act: i32, alpha: f32): void {
  parallelFor(gemmTask, gemmPlan(0, c, a, b, bias, M, K, N, transA, transB, init, act, alpha));
}

// Task t of the product published at ARGS o.
// @ts-ignore: decorator
@inline function gemmTaskAt(o: i32, t: i32, scratch: usize): void {
  const M = argInt(o + 4), N = argInt(o + 6);
  const rowBlocks = argInt(o + 10), colBlocks = argInt(o + 12);
  const mb = (M + MR - 1) / MR;
  const r = t / colBlocks, q = t % colBlocks;
  gemmBlock(argPtr(o), argPtr(o + 1), argPtr(o + 2), argPtr(o + 3), M, argInt(o + 5), N, argInt(o + 7), argInt(o + 8), argInt(o + 9),
            scratch, r * mb / rowBlocks * MR, min(M, (r + 1) * mb / rowBlocks * MR), colStart(q, colBlocks, N), colStart(q + 1, colBlocks, N),
            argInt(o + 13), <f32>arg(o + 14), argPtr(o + 15));
}

function gemmTask(t: i32, scratch: usize): i32 {
  gemmTaskAt(0, t, scratch);
  return 0;
}

/** ARGS slot of the second product of a pair, and of its task count. */
const PAIR: i32 = 24;
const PAIR_TASKS: i32 = 40;

// Whether a split product's op(A) is packed once on the calling thread: the
// packOnce products with at most one task's panels (gemmPlan then makes one
// row block, each task all rows of its columns).
// @ts-ignore: decorator
@inline function fewPanels(M: i32, K: i32, N: i32): bool {
  return packOnce(M, K, N) && (M + MR - 1) / MR <= RB_MAX;
}

function prePack(o: i32, M: i32, scratch: usize): void {
  setArg(o + 15, <f64>scratch);
  const mb = (M + MR - 1) / MR;
  for (let ib = 0; ib < mb; ib++) packPanel(o, ib);
}

function gemmPairTask(t: i32, scratch: usize): i32 {
  const n1 = argInt(PAIR_TASKS);
  if (t < n1) gemmTaskAt(0, t, scratch);
  else gemmTaskAt(PAIR, t - n1, scratch);
  return 0;
}

/** Bytes of scratch gemm_pair needs with packBoth (both products' op(A)
 *  packed side by side, 64-aligned); without it, the larger of the two
 *  gemm_scratch_bytes. */
export function gemm_pair_scratch_bytes(M1: i32, K1: i32, M2: i32, K2: i32): usize {
  return ((<usize>(M1 + 7) * <usize>K1 + <usize>(M2 + 7) * <usize>K2) << 2) + 64;
}

/**
 * Two independent products (neither reads what the other writes), e.g. a
 * layer's dW and dx: the same as gemm(first) then gemm(second), but when both
 * split, their tiles are one job (one fork-join instead of two, and one
 * product's tail overlaps the other's start). Each tile is computed by the
 * same code as in gemm, so the bits do not change.
 * packBoth (the caller's scratch holds gemm_pair_scratch_bytes too): when
 * both products would pack op(A) once (packOnce), both are packed in one job
 * and their column strips split in a second, instead of every row-block task
 * packing its own panels and every B strip it meets (dense_backward: each B
 * strip was packed once per row block, 3–17 times).
 */
export function gemm_pair(c1: usize, a1: usize, b1: usize, M1: i32, K1: i32, N1: i32, transA1: i32, transB1: i32, init1: i32,
                          c2: usize, a2: usize, b2: usize, M2: i32, K2: i32, N2: i32, transA2: i32, transB2: i32, init2: i32,
                          scratch: usize, packBoth: i32 = 0): void {
  const both = shouldSplit(<f64>M1 * <f64>K1 * <f64>N1) && shouldSplit(<f64>M2 * <f64>K2 * <f64>N2) &&
               !(M1 <= 2 && !transA1 && !transB1) && !(M2 <= 2 && !transA2 && !transB2);
  if (!both) {
    gemm(c1, a1, b1, 0, M1, K1, N1, transA1, transB1, init1, scratch);
    gemm(c2, a2, b2, 0, M2, K2, N2, transA2, transB2, init2, scratch);
    return;
  }
  if (packBoth && packOnce(M1, K1, N1) && packOnce(M2, K2, N2)) {
    const mb1 = (M1 + MR - 1) / MR, mb2 = (M2 + MR - 1) / MR;
    const packed2 = (scratch + ((<usize>mb1 * MR * K1) << 2) + 63) & ~<usize>63;
    const n1 = publish(0, c1, a1, b1, 0, M1, K1, N1, transA1, transB1, init1, 1, packedTasks(N1), ACT_IDENTITY, 0, scratch);
    const n2 = publish(PAIR, c2, a2, b2, 0, M2, K2, N2, transA2, transB2, init2, 1, packedTasks(N2), ACT_IDENTITY, 0, packed2);
    setArg(PAIR_TASKS, mb1);
    parallelFor(packPairTask, mb1 + mb2);
    setArg(PAIR_TASKS, n1);
    parallelFor(gemmPairTask, n1 + n2);
    return;
  }
  const n1 = gemmPlan(0, c1, a1, b1, 0, M1, K1, N1, transA1, transB1, init1, ACT_IDENTITY, 0);
  const n2 = gemmPlan(PAIR, c2, a2, b2, 0, M2, K2, N2, transA2, transB2, init2, ACT_IDENTITY, 0);
  // A product with few row panels (one row block, so every task starts at row
  // 0) would have each of its column tasks pack all of op(A): pack it once
  // here, in the scratch the pair does not otherwise use (as gemmSplitPacked).
  if (fewPanels(M1, K1, N1)) prePack(0, M1, scratch);
  else if (fewPanels(M2, K2, N2)) prePack(PAIR, M2, scratch);
  setArg(PAIR_TASKS, n1);
  parallelFor(gemmPairTask, n1 + n2);
}

// Panel t of the pair's two packed op(A)s (the first product's mb1 = ARGS
// PAIR_TASKS panels, then the second's).
function packPairTask(t: i32, _scratch: usize): i32 {
  const mb1 = argInt(PAIR_TASKS);
  if (t < mb1) packPanel(0, t);
  else packPanel(PAIR, t - mb1);
  return 0;
}

// c[i, 0:N0] = act(init + a[i, :]·b[:, 0:N0]) for the two rows of a
// two-row product (one row: rowTimesB), N0 a multiple of 8. Each element's
// sum runs k = 0..K-1 with the register tile's madd, so the bits match the
// packed path. Columns go 16 at a time (a whole 64-byte line of each row of
// b per k) with both rows of a in the same pass, so b, the large operand, is
// read once; then one 8-column strip if left.
function rowsTimesB(c: usize, a: usize, b: usize, bias: usize, K: i32, N: i32, N0: i32,
                    init: i32, act: i32, alpha: f32): void {
  const ldb = <usize>N << 2;
  const a0 = a, a1 = a + (<usize>K << 2);
  const c0 = c, c1 = c + ldb;
  let j = 0;
  for (; j + 16 <= N0; j += 16) {
    const jo = <usize>j << 2;
    let p0 = f32x4.splat(0), p1 = p0, p2 = p0, p3 = p0;
    let q0 = p0, q1 = p0, q2 = p0, q3 = p0;
    if (init == INIT_ACC) {
      p0 = v128.load(c0 + jo); p1 = v128.load(c0 + jo, 16); p2 = v128.load(c0 + jo, 32); p3 = v128.load(c0 + jo, 48);
      q0 = v128.load(c1 + jo); q1 = v128.load(c1 + jo, 16); q2 = v128.load(c1 + jo, 32); q3 = v128.load(c1 + jo, 48);
    } else if (init == INIT_BIAS) {
      p0 = v128.load(bias + jo); p1 = v128.load(bias + jo, 16); p2 = v128.load(bias + jo, 32); p3 = v128.load(bias + jo, 48);
      q0 = p0; q1 = p1; q2 = p2; q3 = p3;
    }
    let pb = b + jo;
    for (let k = 0; k < K; k++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
      const va = v128.load32_splat(a0 + (<usize>k << 2)), vq = v128.load32_splat(a1 + (<usize>k << 2));
      p0 = madd(va, b0, p0); p1 = madd(va, b1, p1); p2 = madd(va, b2, p2); p3 = madd(va, b3, p3);
      q0 = madd(vq, b0, q0); q1 = madd(vq, b1, q1); q2 = madd(vq, b2, q2); q3 = madd(vq, b3, q3);
      pb += ldb;
    }
    v128.store(c0 + jo, p0); v128.store(c0 + jo, p1, 16); v128.store(c0 + jo, p2, 32); v128.store(c0 + jo, p3, 48);
    if (act != ACT_IDENTITY) activationForwardRange(c0 + jo, c0 + jo, 16, act, alpha);
    v128.store(c1 + jo, q0); v128.store(c1 + jo, q1, 16); v128.store(c1 + jo, q2, 32); v128.store(c1 + jo, q3, 48);
    if (act != ACT_IDENTITY) activationForwardRange(c1 + jo, c1 + jo, 16, act, alpha);
  }
  for (; j < N0; j += 8) {
    const jo = <usize>j << 2;
    for (let i = 0; i < 2; i++) {
      const ar = a + ((<usize>i * K) << 2);
      const cr = c + <usize>i * ldb;
      let vacc0123 = f32x4.splat(0), vacc4567 = f32x4.splat(0);
      if (init == INIT_ACC) { vacc0123 = v128.load(cr + jo); vacc4567 = v128.load(cr + jo, 16); }
      else if (init == INIT_BIAS) { vacc0123 = v128.load(bias + jo); vacc4567 = v128.load(bias + jo, 16); }
      let pb = b + jo;
      for (let k = 0; k < K; k++) {
        const va = v128.load32_splat(ar + (<usize>k << 2));
        vacc0123 = madd(va, v128.load(pb), vacc0123);
        vacc4567 = madd(va, v128.load(pb, 16), vacc4567);
        pb += ldb;
      }
      v128.store(cr + jo, vacc0123);
      v128.store(cr + jo, vacc4567, 16);
      if (act != ACT_IDENTITY) activationForwardRange(cr + jo, cr + jo, 8, act, alpha);
    }
  }
}

/** Rows of b one pass of rowTimesB reads together. */
const ROW_KB: i32 = 8;

// c[0, 0:N0] = act(init + a[0, :]·b[:, 0:N0]) for one row (batch-1
// inference), N0 a multiple of 8. b (K, N) is read in row order, ROW_KB rows
// at a time, each row's columns left to right (ROW_KB sequential streams,
// which the prefetcher follows; column strips of all K rows, as rowsTimesB
// reads them, jump N floats per k and barely train it within a page): c's
// 16 columns are loaded, take the ROW_KB rows' madds in k order, and are
// stored back (c stays in L1). Each element's sum still runs k = 0..K-1
// with the tile's madd from init: the bits of rowsTimesB and the packed path.
function rowTimesB(c: usize, a: usize, b: usize, bias: usize, K: i32, N: i32, N0: i32,
                   init: i32, act: i32, alpha: f32): void {
  const ldb = <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += ROW_KB) {
    const kb = min(ROW_KB, K - k0);
    // the first block starts from init; later ones from c
    const from = k0 > 0 || init == INIT_ACC ? c : init == INIT_BIAS ? bias : 0;
    const ak = a + (<usize>k0 << 2), bk = b + <usize>k0 * ldb;
    let j = 0;
    for (; j + 16 <= N0; j += 16) {
      const jo = <usize>j << 2;
      let p0 = f32x4.splat(0), p1 = p0, p2 = p0, p3 = p0;
      if (from) { p0 = v128.load(from + jo); p1 = v128.load(from + jo, 16); p2 = v128.load(from + jo, 32); p3 = v128.load(from + jo, 48); }
      let pb = bk + jo;
      for (let k = 0; k < kb; k++) {
        const va = v128.load32_splat(ak + (<usize>k << 2));
        p0 = madd(va, v128.load(pb), p0); p1 = madd(va, v128.load(pb, 16), p1);
        p2 = madd(va, v128.load(pb, 32), p2); p3 = madd(va, v128.load(pb, 48), p3);
        pb += ldb;
      }
      v128.store(c + jo, p0); v128.store(c + jo, p1, 16); v128.store(c + jo, p2, 32); v128.store(c + jo, p3, 48);
    }
    if (j < N0) { // one 8-column strip left
      const jo = <usize>j << 2;
      let p0 = f32x4.splat(0), p1 = p0;
      if (from) { p0 = v128.load(from + jo); p1 = v128.load(from + jo, 16); }
      let pb = bk + jo;
      for (let k = 0; k < kb; k++) {
        const va = v128.load32_splat(ak + (<usize>k << 2));
        p0 = madd(va, v128.load(pb), p0); p1 = madd(va, v128.load(pb, 16), p1);
        pb += ldb;
      }
      v128.store(c + jo, p0); v128.store(c + jo, p1, 16);
    }
  }
  if (act != ACT_IDENTITY) activationForwardRange(c, c, N0, act, alpha);
}

// The packed, register-tiled path over rows [I0, I1) and columns [J0, J1)
// of C (I0 a multiple of MR, J0 of 8); scratch holds the block's packed A
// panels, one packed B strip and a tile. Any block gives each element the
// same k order and the same tile code, so blocks can run on any thread.
function gemmBlock(c: usize, a: usize, b: usize, bias: usize,
                   M: i32, K: i32, N: i32, transA: i32, transB: i32,
                   init: i32, scratch: usize, I0: i32, I1: i32, J0: i32, J1: i32, act: i32, alpha: f32,
                   packed: usize = 0): void {
  const ib0 = I0 / MR, mb = (I1 - I0 + MR - 1) / MR;
  const ldc = <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const panel = <usize>(MR * kc) << 2;       // bytes of one packed A panel
    // (mb, kc, MR): packed here, or (packed != 0, I0 = 0) already, K block after K block (packAll)
    const pa = packed ? packed + ((<usize>mb * MR * k0) << 2) : scratch;
    const pb = packed ? scratch : pa + <usize>mb * panel;   // (kc, 8)
    const tile = pb + (<usize>kc << 5);         // (MR, 8)
    const blockInit = k0 == 0 ? init : INIT_ACC;
    const epilogue = act != ACT_IDENTITY && k0 + kc >= K;   // the tile is final after this block
    // op(A)[:, k0:k0+kc] and op(B)[k0:k0+kc, :] as sub-matrices of a and b
    const ak = transA ? a + ((<usize>k0 * M) << 2) : a + (<usize>k0 << 2);
    const bk = transB ? b + (<usize>k0 << 2) : b + ((<usize>k0 * N) << 2);
    if (!packed) for (let ib = 0; ib < mb; ib++) packA(pa + <usize>ib * panel, ak, M, K, kc, transA, (ib0 + ib) * MR);
    for (let j0 = J0; j0 < J1; j0 += NR) {
      const nc = min(NR, N - j0);
      packB(pb, bk, K, N, kc, j0, transB);
      const bj = bias + (<usize>j0 << 2);
      for (let ib = 0; ib < mb; ib++) {
        const i0 = (ib0 + ib) * MR;
        const mc = min(MR, M - i0);
        const cij = c + <usize>i0 * ldc + (<usize>j0 << 2);
        if (mc == MR && nc == NR) {
          microkernel(pa + <usize>ib * panel, pb, kc, cij, ldc, blockInit, bj);
          if (epilogue) for (let r = 0; r < MR; r++) activationForwardRange(cij + <usize>r * ldc, cij + <usize>r * ldc, NR, act, alpha);
          continue;
        }
        // Edge tile: start the tile from what the valid part of C should begin with.
        for (let r = 0; r < MR; r++) {
          for (let q = 0; q < NR; q++) {
            let v: f32 = 0;
            if (r < mc && q < nc) {
              if (blockInit == INIT_ACC) v = load<f32>(cij + <usize>r * ldc + (<usize>q << 2));
              else if (blockInit == INIT_BIAS) v = load<f32>(bj + (<usize>q << 2));
            }
            store<f32>(tile + (<usize>(r * NR + q) << 2), v);
          }
        }
        microkernel(pa + <usize>ib * panel, pb, kc, tile, NR << 2, INIT_ACC, 0);
        for (let r = 0; r < mc; r++) {
          for (let q = 0; q < nc; q++) {
            store<f32>(cij + <usize>r * ldc + (<usize>q << 2), load<f32>(tile + (<usize>(r * NR + q) << 2)));
          }
          if (epilogue) activationForwardRange(cij + <usize>r * ldc, cij + <usize>r * ldc, nc, act, alpha);
        }
      }
    }
  }
}

/** Rows of this build's register tile (5 plain, 6 relaxed). */
export function gemm_tile_rows(): i32 {
  return MR;
}
