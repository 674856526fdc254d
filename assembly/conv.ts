// 2-D convolution and transposed convolution on the GEMM family (gemm.ts),
// NHWC (batch, H, W, C), f32 row-major; darknet/Caffe's im2col + one GEMM.
//
// conv2d, w (kh, kw, Cin, Cout) as in tfjs/Keras, so im2col·w is a plain GEMM:
//   y[n,oy,ox,co] = act(b[co] + Σ_{ty,tx,ci} x[n, oy·sh−pt+ty, ox·sw−pl+tx, ci]·w[ty,tx,ci,co])
//   (x reads 0 outside the image; the bottom/right pads are implied by Ho, Wo).
//   cols (B·Ho·Wo, kh·kw·Cin) = im2col(x);  y = cols·w + b
// Backward, with g = dy ⊙ f'(y):
//   dw [+]= colsᵀ·g              (kh·kw·Cin, Cout)
//   db [+]= Σ_{n,oy,ox} g         (Cout)
//   dx  = col2im(g·wᵀ)            (B, H, W, Cin)   skipped when dx == 0
//
// conv2d_transpose, w (kh, kw, Cout, Cin) as in tfjs conv2dTranspose: the
// adjoint of the conv2d (same w, strides, pads) that maps (Ho, Wo, Cout) to
// (H, W, Cin), so x (B, H, W, Cin) → y (B, Ho, Wo, Cout):
//   y = act(col2im(x·wᵀ) + b)     x·wᵀ: (B·H·W, Cin)·(Cin, kh·kw·Cout)
// Backward, with g = dy ⊙ f'(y) and cols = im2col(g) (B·H·W, kh·kw·Cout):
//   dw [+]= colsᵀ·x               (kh·kw·Cout, Cin)
//   db [+]= Σ g                   (Cout)
//   dx  = cols·w                  (B, H, W, Cin)   skipped when dx == 0
//
// The batch runs in chunks of nb images, so the cols buffer is nb images
// (scratch = cols + GEMM scratch, conv_scratch_bytes). No result depends on
// nb: each output row is one GEMM row, every GEMM sums over k in order and
// the chunks' dw products accumulate in batch order onto dw.
// Not here: dilation, groups, threads; shapes, pads and "same" (src/conv-shape.ts).
import { gemm, gemm_scratch_bytes, INIT_ACC, INIT_BIAS, INIT_ZERO } from "./gemm";
import { activation_backward, activation_forward } from "./activation";
import { add_rows, addInto } from "./vector";

// @ts-ignore: decorator
@inline function zeroF(dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.splat(0));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

// @ts-ignore: decorator
@inline function copyF(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/**
 * Writes cols (nb·Hp·Wp, kh·kw·Ci): row (n, oy, ox), column (ty, tx, ci) holds
 * img[n, oy·sh−pt+ty, ox·sw−pl+tx, ci], or 0 outside img (nb, Hi, Wi, Ci).
 */
export function conv_im2col(cols: usize, img: usize, nb: i32, Hi: i32, Wi: i32, Ci: i32,
                            Hp: i32, Wp: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const run = kw * Ci;                          // floats of one kernel row of a patch
  const ld = <usize>Wi * Ci;                    // floats of one image row
  let dst = cols;
  for (let n = 0; n < nb; n++) {
    const imgN = img + ((<usize>n * Hi * ld) << 2);
    for (let oy = 0; oy < Hp; oy++) {
      for (let ox = 0; ox < Wp; ox++) {
        const ix0 = ox * sw - pl;
        const inside = ix0 >= 0 && ix0 + kw <= Wi;
        for (let ty = 0; ty < kh; ty++) {
          const iy = oy * sh - pt + ty;
          if (iy < 0 || iy >= Hi) {
            zeroF(dst, run);
          } else {
            const src = imgN + ((<usize>iy * ld) << 2);
            if (inside) {
              copyF(dst, src + (<usize>(ix0 * Ci) << 2), run);
            } else {
              for (let tx = 0; tx < kw; tx++) {
                const ix = ix0 + tx;
                const d = dst + (<usize>(tx * Ci) << 2);
                if (ix < 0 || ix >= Wi) zeroF(d, Ci);
                else copyF(d, src + (<usize>(ix * Ci) << 2), Ci);
              }
            }
          }
          dst += <usize>run << 2;
        }
      }
    }
  }
}

/**
 * The adjoint of conv_im2col: accumulates img (nb, Hi, Wi, Ci) += each
 * in-image entry of cols (nb·Hp·Wp, kh·kw·Ci), in row order then (ty, tx).
 */
export function conv_col2im_acc(img: usize, cols: usize, nb: i32, Hi: i32, Wi: i32, Ci: i32,
                                Hp: i32, Wp: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const run = kw * Ci;
  const ld = <usize>Wi * Ci;
  let src = cols;
  for (let n = 0; n < nb; n++) {
    const imgN = img + ((<usize>n * Hi * ld) << 2);
    for (let oy = 0; oy < Hp; oy++) {
      for (let ox = 0; ox < Wp; ox++) {
        const ix0 = ox * sw - pl;
        const inside = ix0 >= 0 && ix0 + kw <= Wi;
        for (let ty = 0; ty < kh; ty++) {
          const iy = oy * sh - pt + ty;
          if (iy >= 0 && iy < Hi) {
            const dst = imgN + ((<usize>iy * ld) << 2);
            if (inside) {
              addInto(dst + (<usize>(ix0 * Ci) << 2), src, run);
            } else {
              for (let tx = 0; tx < kw; tx++) {
                const ix = ix0 + tx;
                if (ix >= 0 && ix < Wi) addInto(dst + (<usize>(ix * Ci) << 2), src + (<usize>(tx * Ci) << 2), Ci);
              }
            }
          }
          src += <usize>run << 2;
        }
      }
    }
  }
}

/**
 * Bytes of scratch the four kernels below need at chunk size nb, for the
 * conv2d (transpose = 0) or conv2d_transpose (1) from (H, W, C) to
 * (Ho, Wo, Co): cols rounded up to 64 bytes, then the largest GEMM's scratch.
 */
export function conv_scratch_bytes(transpose: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                   kh: i32, kw: i32, nb: i32): usize {
  // conv2d: rows (n, oy, ox), patches of x; transpose: rows (n, iy, ix), patches of y
  const rows = transpose ? nb * H * W : nb * Ho * Wo;
  const kc = transpose ? kh * kw * Co : kh * kw * C;
  const colsBytes = (((<usize>rows * kc) << 2) + 63) & ~<usize>63;
  // conv2d:    forward (rows, kc)·w, dw: colsᵀ (kc, rows)·g, dx: g (rows, Co)·wᵀ
  // transpose: forward x (rows, C)·wᵀ, dw: colsᵀ (kc, rows)·x, dx: cols (rows, kc)·w
  const first = gemm_scratch_bytes(rows, transpose ? C : kc);
  const last = gemm_scratch_bytes(rows, transpose ? kc : Co);
  return colsBytes + max(max(first, gemm_scratch_bytes(kc, rows)), last);
}

// g = dy ⊙ act'(y) in place over (rows, Co); db (Co) [+]= Σ_rows g.
function gradBias(db: usize, dy: usize, y: usize, rows: i32, Co: i32, act: i32, alpha: f32, accumulate: i32): void {
  activation_backward(dy, dy, y, rows * Co, act, alpha);
  if (!accumulate) memory.fill(db, 0, <usize>Co << 2);
  add_rows(db, dy, rows, Co);
}

// @ts-ignore: decorator
@inline function gemmScratch(scratch: usize, rows: i32, kc: i32): usize {
  return scratch + ((((<usize>rows * kc) << 2) + 63) & ~<usize>63);
}

/** Writes y (B, Ho, Wo, Co) = act(conv2d(x (B, H, W, C), w (kh, kw, C, Co)) + b (Co));
 *  clobbers scratch (conv_scratch_bytes(0, …, nb)). */
export function conv2d_forward(y: usize, x: usize, w: usize, b: usize,
                               B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                               kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                               act: i32, alpha: f32, nb: i32, scratch: usize): void {
  const kc = kh * kw * C;
  const gs = gemmScratch(scratch, nb * Ho * Wo, kc);
  for (let n0 = 0; n0 < B; n0 += nb) {
    const m = min(nb, B - n0);
    const rows = m * Ho * Wo;
    conv_im2col(scratch, x + ((<usize>n0 * H * W * C) << 2), m, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl);
    gemm(y + ((<usize>n0 * Ho * Wo * Co) << 2), scratch, w, b, rows, kc, Co, 0, 0, INIT_BIAS, gs);
  }
  activation_forward(y, y, B * Ho * Wo * Co, act, alpha);
}

/** Writes dy ← dy ⊙ act'(y) in place and dx (B, H, W, C) (unless dx == 0);
 *  accumulates dw (kh, kw, C, Co) and db (Co) when `accumulate`, else writes
 *  them; clobbers scratch (conv_scratch_bytes(0, …, nb)). */
export function conv2d_backward(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, y: usize,
                                B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                                act: i32, alpha: f32, accumulate: i32, nb: i32, scratch: usize): void {
  gradBias(db, dy, y, B * Ho * Wo, Co, act, alpha, accumulate);
  const kc = kh * kw * C;
  const gs = gemmScratch(scratch, nb * Ho * Wo, kc);
  for (let n0 = 0; n0 < B; n0 += nb) {
    const m = min(nb, B - n0);
    const rows = m * Ho * Wo;
    const xn = x + ((<usize>n0 * H * W * C) << 2);
    const gn = dy + ((<usize>n0 * Ho * Wo * Co) << 2);
    // dw (kc, Co) [+]= colsᵀ (kc, rows) · g (rows, Co)
    conv_im2col(scratch, xn, m, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl);
    gemm(dw, scratch, gn, 0, kc, rows, Co, 1, 0, accumulate || n0 > 0 ? INIT_ACC : INIT_ZERO, gs);
    if (dx == 0) continue;
    // dcols (rows, kc) = g (rows, Co) · wᵀ (Co, kc); dx = col2im(dcols)
    gemm(scratch, gn, w, 0, rows, Co, kc, 0, 1, INIT_ZERO, gs);
    const dxn = dx + ((<usize>n0 * H * W * C) << 2);
    memory.fill(dxn, 0, (<usize>m * H * W * C) << 2);
    conv_col2im_acc(dxn, scratch, m, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl);
  }
}

/** Writes y (B, Ho, Wo, Co) = act(conv2d_transpose(x (B, H, W, C), w (kh, kw, Co, C)) + b (Co)),
 *  where the conv2d with pads (pt, pl) maps (Ho, Wo) to (H, W); clobbers
 *  scratch (conv_scratch_bytes(1, …, nb)). */
export function conv2d_transpose_forward(y: usize, x: usize, w: usize, b: usize,
                                         B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                         kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                                         act: i32, alpha: f32, nb: i32, scratch: usize): void {
  const kc = kh * kw * Co;
  const gs = gemmScratch(scratch, nb * H * W, kc);
  for (let n0 = 0; n0 < B; n0 += nb) {
    const m = min(nb, B - n0);
    const rows = m * H * W;
    // cols (rows, kc) = x (rows, C) · wᵀ (C, kc)
    gemm(scratch, x + ((<usize>n0 * H * W * C) << 2), w, 0, rows, C, kc, 0, 1, INIT_ZERO, gs);
    // y = b, then += col2im(cols)
    const yn = y + ((<usize>n0 * Ho * Wo * Co) << 2);
    const pixels = m * Ho * Wo;
    for (let p = 0; p < pixels; p++) copyF(yn + ((<usize>p * Co) << 2), b, Co);
    conv_col2im_acc(yn, scratch, m, Ho, Wo, Co, H, W, kh, kw, sh, sw, pt, pl);
  }
  activation_forward(y, y, B * Ho * Wo * Co, act, alpha);
}

/** Writes dy ← dy ⊙ act'(y) in place and dx (B, H, W, C) (unless dx == 0);
 *  accumulates dw (kh, kw, Co, C) and db (Co) when `accumulate`, else writes
 *  them; clobbers scratch (conv_scratch_bytes(1, …, nb)). */
export function conv2d_transpose_backward(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, y: usize,
                                          B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                          kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                                          act: i32, alpha: f32, accumulate: i32, nb: i32, scratch: usize): void {
  gradBias(db, dy, y, B * Ho * Wo, Co, act, alpha, accumulate);
  const kc = kh * kw * Co;
  const gs = gemmScratch(scratch, nb * H * W, kc);
  for (let n0 = 0; n0 < B; n0 += nb) {
    const m = min(nb, B - n0);
    const rows = m * H * W;
    const xn = x + ((<usize>n0 * H * W * C) << 2);
    // cols (rows, kc) = im2col(g): the patches the conv2d (Ho, Wo) → (H, W) reads
    conv_im2col(scratch, dy + ((<usize>n0 * Ho * Wo * Co) << 2), m, Ho, Wo, Co, H, W, kh, kw, sh, sw, pt, pl);
    // dw (kc, C) [+]= colsᵀ (kc, rows) · x (rows, C)
    gemm(dw, scratch, xn, 0, kc, rows, C, 1, 0, accumulate || n0 > 0 ? INIT_ACC : INIT_ZERO, gs);
    // dx (rows, C) = cols (rows, kc) · w (kc, C)
    if (dx != 0) gemm(dx + ((<usize>n0 * H * W * C) << 2), scratch, w, 0, rows, kc, C, 0, 0, INIT_ZERO, gs);
  }
}
