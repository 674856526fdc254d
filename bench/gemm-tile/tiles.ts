// AssemblyScript, compiled by bench/gemm-tile.ts (not part of the library):
// register-tile variants of the relaxed GEMM micro-kernel, timed on packed
// operands with nothing else in the loop, beside the library's own gemm.
// Every variant keeps each output's sum over k in order (k = 0..K-1).
export { gemm } from "../../assembly/gemm";
import { INIT_ACC, kernel6x8 } from "../../assembly/gemm";
import { madd } from "../../assembly/simd";

// The library's kernel6x8 (timed directly, v = 0), two k per loop trip (K
// even), one pointer: fewer loop branches,
// stack checks and address updates per multiply-add.
function s6x8u2(pa: usize, pb: usize, K: i32, c: usize, ldc: usize): void {
  let a0 = v128.load(c), b0 = v128.load(c, 16);
  let a1 = v128.load(c + ldc), b1 = v128.load(c + ldc, 16);
  let a2 = v128.load(c + 2 * ldc), b2 = v128.load(c + 2 * ldc, 16);
  let a3 = v128.load(c + 3 * ldc), b3 = v128.load(c + 3 * ldc, 16);
  let a4 = v128.load(c + 4 * ldc), b4 = v128.load(c + 4 * ldc, 16);
  let a5 = v128.load(c + 5 * ldc), b5 = v128.load(c + 5 * ldc, 16);
  for (let k = 0; k < K; k += 2) {
    let x = v128.load(pb), y = v128.load(pb, 16);
    let va = v128.load32_splat(pa);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0);
    va = v128.load32_splat(pa, 4);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1);
    va = v128.load32_splat(pa, 8);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2);
    va = v128.load32_splat(pa, 12);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3);
    va = v128.load32_splat(pa, 16);
    a4 = madd(va, x, a4); b4 = madd(va, y, b4);
    va = v128.load32_splat(pa, 20);
    a5 = madd(va, x, a5); b5 = madd(va, y, b5);
    x = v128.load(pb, 32); y = v128.load(pb, 48);
    va = v128.load32_splat(pa, 24);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0);
    va = v128.load32_splat(pa, 28);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1);
    va = v128.load32_splat(pa, 32);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2);
    va = v128.load32_splat(pa, 36);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3);
    va = v128.load32_splat(pa, 40);
    a4 = madd(va, x, a4); b4 = madd(va, y, b4);
    va = v128.load32_splat(pa, 44);
    a5 = madd(va, x, a5); b5 = madd(va, y, b5);
    pa += 48; pb += 64;
  }
  v128.store(c, a0); v128.store(c, b0, 16);
  v128.store(c + ldc, a1); v128.store(c + ldc, b1, 16);
  v128.store(c + 2 * ldc, a2); v128.store(c + 2 * ldc, b2, 16);
  v128.store(c + 3 * ldc, a3); v128.store(c + 3 * ldc, b3, 16);
  v128.store(c + 4 * ldc, a4); v128.store(c + 4 * ldc, b4, 16);
  v128.store(c + 5 * ldc, a5); v128.store(c + 5 * ldc, b5, 16);
}

// 6×8 with the multiplicands swapped: madd(b, a, acc) (same product bits).
function s6x8sw(pa: usize, pb: usize, K: i32, c: usize, ldc: usize): void {
  let a0 = v128.load(c), b0 = v128.load(c, 16);
  let a1 = v128.load(c + ldc), b1 = v128.load(c + ldc, 16);
  let a2 = v128.load(c + 2 * ldc), b2 = v128.load(c + 2 * ldc, 16);
  let a3 = v128.load(c + 3 * ldc), b3 = v128.load(c + 3 * ldc, 16);
  let a4 = v128.load(c + 4 * ldc), b4 = v128.load(c + 4 * ldc, 16);
  let a5 = v128.load(c + 5 * ldc), b5 = v128.load(c + 5 * ldc, 16);
  for (let k = 0; k < K; k++) {
    const x = v128.load(pb), y = v128.load(pb, 16);
    let va = v128.load32_splat(pa);
    a0 = madd(x, va, a0); b0 = madd(y, va, b0);
    va = v128.load32_splat(pa, 4);
    a1 = madd(x, va, a1); b1 = madd(y, va, b1);
    va = v128.load32_splat(pa, 8);
    a2 = madd(x, va, a2); b2 = madd(y, va, b2);
    va = v128.load32_splat(pa, 12);
    a3 = madd(x, va, a3); b3 = madd(y, va, b3);
    va = v128.load32_splat(pa, 16);
    a4 = madd(x, va, a4); b4 = madd(y, va, b4);
    va = v128.load32_splat(pa, 20);
    a5 = madd(x, va, a5); b5 = madd(y, va, b5);
    pa += 24; pb += 32;
  }
  v128.store(c, a0); v128.store(c, b0, 16);
  v128.store(c + ldc, a1); v128.store(c + ldc, b1, 16);
  v128.store(c + 2 * ldc, a2); v128.store(c + 2 * ldc, b2, 16);
  v128.store(c + 3 * ldc, a3); v128.store(c + 3 * ldc, b3, 16);
  v128.store(c + 4 * ldc, a4); v128.store(c + 4 * ldc, b4, 16);
  v128.store(c + 5 * ldc, a5); v128.store(c + 5 * ldc, b5, 16);
}

// c (5,8): the plain build's tile shape, here with the fused madd.
function s5x8(pa: usize, pb: usize, K: i32, c: usize, ldc: usize): void {
  let a0 = v128.load(c), b0 = v128.load(c, 16);
  let a1 = v128.load(c + ldc), b1 = v128.load(c + ldc, 16);
  let a2 = v128.load(c + 2 * ldc), b2 = v128.load(c + 2 * ldc, 16);
  let a3 = v128.load(c + 3 * ldc), b3 = v128.load(c + 3 * ldc, 16);
  let a4 = v128.load(c + 4 * ldc), b4 = v128.load(c + 4 * ldc, 16);
  for (let k = 0; k < K; k++) {
    const x = v128.load(pb), y = v128.load(pb, 16);
    let va = v128.load32_splat(pa);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0);
    va = v128.load32_splat(pa, 4);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1);
    va = v128.load32_splat(pa, 8);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2);
    va = v128.load32_splat(pa, 12);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3);
    va = v128.load32_splat(pa, 16);
    a4 = madd(va, x, a4); b4 = madd(va, y, b4);
    pa += 20; pb += 32;
  }
  v128.store(c, a0); v128.store(c, b0, 16);
  v128.store(c + ldc, a1); v128.store(c + ldc, b1, 16);
  v128.store(c + 2 * ldc, a2); v128.store(c + 2 * ldc, b2, 16);
  v128.store(c + 3 * ldc, a3); v128.store(c + 3 * ldc, b3, 16);
  v128.store(c + 4 * ldc, a4); v128.store(c + 4 * ldc, b4, 16);
}

// c (4,16) += pa (K,4)ᵀ · pb (K,16): 16 accumulators + 4 B vectors.
function s4x16(pa: usize, pb: usize, K: i32, c: usize, ldc: usize): void {
  let a0 = v128.load(c), b0 = v128.load(c, 16), c0 = v128.load(c, 32), d0 = v128.load(c, 48);
  let a1 = v128.load(c + ldc), b1 = v128.load(c + ldc, 16), c1 = v128.load(c + ldc, 32), d1 = v128.load(c + ldc, 48);
  let a2 = v128.load(c + 2 * ldc), b2 = v128.load(c + 2 * ldc, 16), c2 = v128.load(c + 2 * ldc, 32), d2 = v128.load(c + 2 * ldc, 48);
  let a3 = v128.load(c + 3 * ldc), b3 = v128.load(c + 3 * ldc, 16), c3 = v128.load(c + 3 * ldc, 32), d3 = v128.load(c + 3 * ldc, 48);
  for (let k = 0; k < K; k++) {
    const x = v128.load(pb), y = v128.load(pb, 16), z = v128.load(pb, 32), w = v128.load(pb, 48);
    let va = v128.load32_splat(pa);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0); c0 = madd(va, z, c0); d0 = madd(va, w, d0);
    va = v128.load32_splat(pa, 4);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1); c1 = madd(va, z, c1); d1 = madd(va, w, d1);
    va = v128.load32_splat(pa, 8);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2); c2 = madd(va, z, c2); d2 = madd(va, w, d2);
    va = v128.load32_splat(pa, 12);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3); c3 = madd(va, z, c3); d3 = madd(va, w, d3);
    pa += 16; pb += 64;
  }
  v128.store(c, a0); v128.store(c, b0, 16); v128.store(c, c0, 32); v128.store(c, d0, 48);
  v128.store(c + ldc, a1); v128.store(c + ldc, b1, 16); v128.store(c + ldc, c1, 32); v128.store(c + ldc, d1, 48);
  v128.store(c + 2 * ldc, a2); v128.store(c + 2 * ldc, b2, 16); v128.store(c + 2 * ldc, c2, 32); v128.store(c + 2 * ldc, d2, 48);
  v128.store(c + 3 * ldc, a3); v128.store(c + 3 * ldc, b3, 16); v128.store(c + 3 * ldc, c3, 32); v128.store(c + 3 * ldc, d3, 48);
}

// 6×8 with A loaded four k at a time and broadcast by lane shuffles
// (XNNPACK's non-splat kernels): pa laid out (K/4, 6, 4), each row's four k
// contiguous; the B vectors of the four k are loaded per k (K a multiple of 4).
function x6x8(pa: usize, pb: usize, K: i32, c: usize, ldc: usize): void {
  let a0 = v128.load(c), b0 = v128.load(c, 16);
  let a1 = v128.load(c + ldc), b1 = v128.load(c + ldc, 16);
  let a2 = v128.load(c + 2 * ldc), b2 = v128.load(c + 2 * ldc, 16);
  let a3 = v128.load(c + 3 * ldc), b3 = v128.load(c + 3 * ldc, 16);
  let a4 = v128.load(c + 4 * ldc), b4 = v128.load(c + 4 * ldc, 16);
  let a5 = v128.load(c + 5 * ldc), b5 = v128.load(c + 5 * ldc, 16);
  for (let k = 0; k < K; k += 4) {
    const r0 = v128.load(pa), r1 = v128.load(pa, 16), r2 = v128.load(pa, 32);
    const r3 = v128.load(pa, 48), r4 = v128.load(pa, 64), r5 = v128.load(pa, 80);
    let x = v128.load(pb), y = v128.load(pb, 16), va = i32x4.shuffle(r0, r0, 0, 0, 0, 0);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0); va = i32x4.shuffle(r1, r1, 0, 0, 0, 0);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1); va = i32x4.shuffle(r2, r2, 0, 0, 0, 0);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2); va = i32x4.shuffle(r3, r3, 0, 0, 0, 0);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3); va = i32x4.shuffle(r4, r4, 0, 0, 0, 0);
    a4 = madd(va, x, a4); b4 = madd(va, y, b4); va = i32x4.shuffle(r5, r5, 0, 0, 0, 0);
    a5 = madd(va, x, a5); b5 = madd(va, y, b5);
    x = v128.load(pb, 32); y = v128.load(pb, 48); va = i32x4.shuffle(r0, r0, 1, 1, 1, 1);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0); va = i32x4.shuffle(r1, r1, 1, 1, 1, 1);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1); va = i32x4.shuffle(r2, r2, 1, 1, 1, 1);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2); va = i32x4.shuffle(r3, r3, 1, 1, 1, 1);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3); va = i32x4.shuffle(r4, r4, 1, 1, 1, 1);
    a4 = madd(va, x, a4); b4 = madd(va, y, b4); va = i32x4.shuffle(r5, r5, 1, 1, 1, 1);
    a5 = madd(va, x, a5); b5 = madd(va, y, b5);
    x = v128.load(pb, 64); y = v128.load(pb, 80); va = i32x4.shuffle(r0, r0, 2, 2, 2, 2);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0); va = i32x4.shuffle(r1, r1, 2, 2, 2, 2);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1); va = i32x4.shuffle(r2, r2, 2, 2, 2, 2);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2); va = i32x4.shuffle(r3, r3, 2, 2, 2, 2);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3); va = i32x4.shuffle(r4, r4, 2, 2, 2, 2);
    a4 = madd(va, x, a4); b4 = madd(va, y, b4); va = i32x4.shuffle(r5, r5, 2, 2, 2, 2);
    a5 = madd(va, x, a5); b5 = madd(va, y, b5);
    x = v128.load(pb, 96); y = v128.load(pb, 112); va = i32x4.shuffle(r0, r0, 3, 3, 3, 3);
    a0 = madd(va, x, a0); b0 = madd(va, y, b0); va = i32x4.shuffle(r1, r1, 3, 3, 3, 3);
    a1 = madd(va, x, a1); b1 = madd(va, y, b1); va = i32x4.shuffle(r2, r2, 3, 3, 3, 3);
    a2 = madd(va, x, a2); b2 = madd(va, y, b2); va = i32x4.shuffle(r3, r3, 3, 3, 3, 3);
    a3 = madd(va, x, a3); b3 = madd(va, y, b3); va = i32x4.shuffle(r4, r4, 3, 3, 3, 3);
    a4 = madd(va, x, a4); b4 = madd(va, y, b4); va = i32x4.shuffle(r5, r5, 3, 3, 3, 3);
    a5 = madd(va, x, a5); b5 = madd(va, y, b5);
    pa += 96; pb += 128;
  }
  v128.store(c, a0); v128.store(c, b0, 16);
  v128.store(c + ldc, a1); v128.store(c + ldc, b1, 16);
  v128.store(c + 2 * ldc, a2); v128.store(c + 2 * ldc, b2, 16);
  v128.store(c + 3 * ldc, a3); v128.store(c + 3 * ldc, b3, 16);
  v128.store(c + 4 * ldc, a4); v128.store(c + 4 * ldc, b4, 16);
  v128.store(c + 5 * ldc, a5); v128.store(c + 5 * ldc, b5, 16);
}

/** Rows and columns of variant v's tile. */
export function tile_rows(v: i32): i32 { return v == 3 ? 5 : v == 4 ? 4 : 6; }
export function tile_cols(v: i32): i32 { return v == 4 ? 16 : 8; }

/**
 * The compute of one gemmBlock without its packing: for each of `reps`
 * passes, every (strip, panel) pair of an (mb·MR)×kc×(nb·NR) block runs the
 * variant's tile on already packed panels (pa: mb panels, pb: nb strips, in
 * L2 as in the library) into c (ldc = nb·NR floats). flops = 2·reps·mb·MR·kc·nb·NR.
 */
export function compute(v: i32, pa: usize, pb: usize, c: usize, mb: i32, nb: i32, kc: i32, reps: i32): void {
  const mr = tile_rows(v), nr = tile_cols(v);
  const ldc = <usize>(nb * nr) << 2;
  const panel = <usize>(mr * kc) << 2, strip = <usize>(nr * kc) << 2;
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < nb; j++) {
      for (let i = 0; i < mb; i++) {
        const a = pa + <usize>i * panel, b = pb + <usize>j * strip;
        const cij = c + <usize>(i * mr) * ldc + (<usize>(j * nr) << 2);
        if (v == 0) kernel6x8(a, b, kc, cij, ldc, INIT_ACC, 0);   // the library's own tile
        else if (v == 1) s6x8u2(a, b, kc, cij, ldc);
        else if (v == 2) s6x8sw(a, b, kc, cij, ldc);
        else if (v == 3) s5x8(a, b, kc, cij, ldc);
        else if (v == 4) s4x16(a, b, kc, cij, ldc);
        else x6x8(a, b, kc, cij, ldc);
      }
    }
  }
}

/** Start of free memory for the driver's buffers. */
export function heap(): usize { return (__heap_base + 1023) & ~<usize>1023; }

/** Reads and writes n bytes at p (n a multiple of 64), one float per 64-byte
 *  line: pushes everything else out of the caches, as the rest of a training
 *  step does between two GEMMs (~10 MB of weights, moments and activations). */
export function evict(p: usize, n: usize): void {
  for (let q: usize = 0; q < n; q += 64) store<f32>(p + q, load<f32>(p + q) + 1);
}
