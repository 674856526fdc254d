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
// The batch runs in chunks of nb images, so the cols buffer is nb images.
// No result depends on nb: each output row is one GEMM row, every GEMM sums
// over k in order, and the backward's dw and db sum over fixed batch groups
// (see "The four layer kernels" below), chunk after chunk within a group.
// The activation (forward) and g, db (backward) run chunk by chunk too, while
// the chunk is in cache. With one channel on the patch side (conv2d Cin = 1,
// conv2d_transpose Cout = 1) the GEMMs would be thin (kh·kw wide): those
// shapes take the direct conv1_* kernels below instead, over the whole batch.
// Threads: a layer call is one job, its tasks taking whole chunks (forward)
// or batch groups (backward, the one-channel ones included) in turn, each in
// its own slot of the scratch (the one-channel conv2d forward takes images);
// the one-channel transposed forward splits by images (conv1Col2imDot);
// im2col by patch rows, col2im by image rows, where called on their own (a
// single unit's kernels).
// Each group's dw is computed as dwᵀ (the other side's channels, kc) =
// (g or x)ᵀ·cols in scratch, and the groups' sum transposed once per call:
// each entry the same sum in the same order as colsᵀ·(g or x), with the
// narrow operand packed as A (small panels that stay in L1) instead of colsᵀ
// gathered column by column.
// Not here: dilation, groups; shapes, pads and "same" (src/kernels/conv-shape.ts).
import { gemm, gemm_act, gemm_pair, gemm_scratch_bytes, INIT_ACC, INIT_BIAS, INIT_ZERO } from "./gemm";
import { ACT_IDENTITY, activation_backward_bias, activation_forward, activationForwardRange } from "./activation";
import { addInto } from "./vector";
import { hsum, madd } from "./simd";
import { arg, argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit, threadCount, workNext, workReset, Task } from "./threads";

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
 * On threads, split by ranges of patch rows (n, oy): each writes its own rows.
 */
export function conv_im2col(cols: usize, img: usize, nb: i32, Hi: i32, Wi: i32, Ci: i32,
                            Hp: i32, Wp: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  // a float copied ≈ 8 multiply-adds of work
  if (!shouldSplit(8 * <f64>nb * <f64>Hp * <f64>Wp * <f64>(kh * kw * Ci))) {
    im2colRows(cols, img, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl, 0, nb * Hp);
    return;
  }
  setConvArgs(cols, img, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl);
  parallelFor(im2colTask, rangeTasks(nb * Hp, 1));
}

// ARGS 0 … 12 of a split im2col / col2im.
function setConvArgs(cols: usize, img: usize, Hi: i32, Wi: i32, Ci: i32, Hp: i32, Wp: i32,
                     kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  setArg(0, <f64>cols); setArg(1, <f64>img); setArg(2, Hi); setArg(3, Wi); setArg(4, Ci); setArg(5, Hp); setArg(6, Wp);
  setArg(7, kh); setArg(8, kw); setArg(9, sh); setArg(10, sw); setArg(11, pt); setArg(12, pl);
}

function im2colTask(t: i32, _scratch: usize): i32 {
  im2colRows(argPtr(0), argPtr(1), argInt(2), argInt(3), argInt(4), argInt(5), argInt(6), argInt(7), argInt(8),
             argInt(9), argInt(10), argInt(11), argInt(12), rangeStart(t), rangeEnd(t));
  return 0;
}

// Patch rows (n, oy) = r for r in [r0, r1) of conv_im2col (r = n·Hp + oy).
function im2colRows(cols: usize, img: usize, Hi: i32, Wi: i32, Ci: i32, Hp: i32, Wp: i32,
                    kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, r0: i32, r1: i32): void {
  const run = kw * Ci;                          // floats of one kernel row of a patch
  const ld = <usize>Wi * Ci;                    // floats of one image row
  let dst = cols + ((<usize>r0 * Wp * kh * run) << 2);
  for (let r = r0; r < r1; r++) {
    const n = r / Hp, oy = r - n * Hp;
    const imgN = img + ((<usize>n * Hi * ld) << 2);
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

/**
 * The adjoint of conv_im2col: accumulates img (nb, Hi, Wi, Ci) += each
 * in-image entry of cols (nb·Hp·Wp, kh·kw·Ci), in row order then (ty, tx).
 * On threads, split by ranges of image rows (n, iy): a task adds, in that
 * same order, the entries that land in its rows, so every pixel gets the
 * same sum on any thread count.
 */
export function conv_col2im_acc(img: usize, cols: usize, nb: i32, Hi: i32, Wi: i32, Ci: i32,
                                Hp: i32, Wp: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  col2im(img, cols, nb, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl, COL2IM_ACC, 0, ACT_IDENTITY, 0);
}

/** conv_col2im_acc onto what img already holds. */
const COL2IM_ACC: i32 = 0;
/** img = 0 first (a convolution's dx). */
const COL2IM_ZERO: i32 = 1;
/** img = bias (Ci) per pixel first (a transposed convolution's y). */
const COL2IM_BIAS: i32 = 2;

// col2im with each task's rows first set per `init` and, once complete,
// put through the activation: the bias, zeroing and activation passes of the
// kernels below run on the task's rows while they are in cache, and split
// with it. Per pixel the same values and order as those separate passes.
function col2im(img: usize, cols: usize, nb: i32, Hi: i32, Wi: i32, Ci: i32,
                Hp: i32, Wp: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                init: i32, bias: usize, act: i32, alpha: f32): void {
  if (!shouldSplit(8 * <f64>nb * <f64>Hp * <f64>Wp * <f64>(kh * kw * Ci))) {
    col2imRows(img, cols, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl, 0, nb * Hi, init, bias, act, alpha);
    return;
  }
  setConvArgs(cols, img, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl);
  setArg(13, init); setArg(14, <f64>bias); setArg(15, act); setArg(16, alpha);
  parallelFor(col2imTask, rangeTasks(nb * Hi, 1));
}

function col2imTask(t: i32, _scratch: usize): i32 {
  col2imRows(argPtr(1), argPtr(0), argInt(2), argInt(3), argInt(4), argInt(5), argInt(6), argInt(7), argInt(8),
             argInt(9), argInt(10), argInt(11), argInt(12), rangeStart(t), rangeEnd(t),
             argInt(13), argPtr(14), argInt(15), <f32>arg(16));
  return 0;
}

// col2im into image rows (n, iy) = d for d in [d0, d1) (d = n·Hi + iy).
function col2imRows(img: usize, cols: usize, Hi: i32, Wi: i32, Ci: i32, Hp: i32, Wp: i32,
                    kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, d0: i32, d1: i32,
                    init: i32, bias: usize, act: i32, alpha: f32): void {
  if (d0 >= d1) return;
  const run = kw * Ci;
  const ld = <usize>Wi * Ci;
  const rowBytes = <usize>(Wp * kh * run) << 2;  // one patch row (n, oy) of cols
  for (let n = d0 / Hi; n <= (d1 - 1) / Hi; n++) {
    const lo = max(d0 - n * Hi, 0), hi = min(d1 - n * Hi, Hi);   // this task's rows of image n
    const imgN = img + ((<usize>n * Hi * ld) << 2);
    const mine = imgN + ((<usize>lo * ld) << 2), floats = <i32>(<usize>(hi - lo) * ld);
    if (init == COL2IM_ZERO) zeroF(mine, floats);
    else if (init == COL2IM_BIAS) for (let p = 0; p < (hi - lo) * Wi; p++) copyF(mine + ((<usize>p * Ci) << 2), bias, Ci);
    for (let oy = 0; oy < Hp; oy++) {
      // rows this patch row reaches: oy·sh − pt + [0, kh)
      if (oy * sh - pt + kh <= lo || oy * sh - pt >= hi) continue;
      let src = cols + <usize>(n * Hp + oy) * rowBytes;
      for (let ox = 0; ox < Wp; ox++) {
        const ix0 = ox * sw - pl;
        const inside = ix0 >= 0 && ix0 + kw <= Wi;
        for (let ty = 0; ty < kh; ty++) {
          const iy = oy * sh - pt + ty;
          if (iy >= lo && iy < hi) {
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
    if (act != ACT_IDENTITY) activationForwardRange(mine, mine, floats, act, alpha);
  }
}

// ---- Direct kernels for one channel on the patch side (Cin = 1 conv2d,
// Cout = 1 conv2d_transpose). There the GEMMs above are thin (K or N =
// kh·kw, e.g. 9): they spend their time packing, on edge tiles and, for dw,
// streaming a (rows, 8) strip far larger than the cache. These read the
// one-channel image through a padded copy of each image (pad1; padTMul,
// padMulRows) or, for the transposed forward, gather per output pixel
// (conv1_col2im_dot), and keep w or dw in place.
// patch₁(img) (nb·Hp·Wp, kh·kw) is im2col of a one-channel img (nb, Hi, Wi):
//   patch₁(img)[p, t] = img[n, py·sh−pt+ty, px·sw−pl+tx] (0 outside),
//   p = (n, py, px), t = (ty, tx).
// Each kernel sums in a fixed order that does not depend on the batch chunk,
// so the plain build stays deterministic.

// ---- One-channel kernels on a padded image. P (Hq, Wq) is image n of a
// one-channel img (Hi, Wi) as its patches read it, P[y, x] = img[y − pt,
// x − pl] (0 outside), Hq = (Hp−1)·sh + kh, Wq = (Wp−1)·sw + kw, so
//   patch₁[p = (py, px), t = (ty, tx)] = P[py·sh + ty, px·sw + tx]:
// a patch row is P at py·sh·Wq + px·sw plus each tap's offset ty·Wq + tx,
// read straight from P (no gathered patch buffer; P is Hq·Wq floats where
// the buffer held kh·kw per patch row).

/** Floats of P for a one-channel layer whose patch grid is (Hp, Wp). */
// @ts-ignore: decorator
@inline function paddedFloats(Hp: i32, Wp: i32, kh: i32, kw: i32, sh: i32, sw: i32): usize {
  return <usize>((Hp - 1) * sh + kh) * <usize>((Wp - 1) * sw + kw);
}

// P (Hq, Wq) from image img (Hi, Wi), as above.
function pad1(P: usize, img: usize, Hi: i32, Wi: i32, Hq: i32, Wq: i32, pt: i32, pl: i32): void {
  // columns x in [x0, x1) read img (x − pl in [0, Wi))
  const x0 = min(Wq, pl), x1 = max(x0, min(Wq, Wi + pl));
  for (let y = 0; y < Hq; y++) {
    const row = P + ((<usize>y * Wq) << 2), iy = y - pt;
    if (iy < 0 || iy >= Hi) { zeroF(row, Wq); continue; }
    zeroF(row, x0);
    copyF(row + (<usize>x0 << 2), img + ((<usize>iy * Wi + x0 - pl) << 2), x1 - x0);
    zeroF(row + (<usize>x1 << 2), Wq - x1);
  }
}

// offs[t] = bytes from a patch row's start in P to tap t = (ty, tx): (ty·Wq + tx)·4.
function tapOffsets(offs: usize, kh: i32, kw: i32, Wq: i32): void {
  for (let ty = 0; ty < kh; ty++) {
    for (let tx = 0; tx < kw; tx++) store<i32>(offs + (<usize>(ty * kw + tx) << 2), (ty * Wq + tx) << 2);
  }
}

/**
 * dw (kh·kw, N) += patch₁(P)ᵀ · G (Hp·Wp, N) over one image's patch rows in
 * order: for each 4 taps × 8 columns a register tile (the last kc mod 4
 * taps 16 columns, then 8, at a time; then 4 columns, then single ones)
 * sums every row of the image onto what dw holds, so each entry is its
 * value + Σ_p in row order (image after image: the batch's row order).
 */
function padTMul(dw: usize, P: usize, G: usize, Hp: i32, Wp: i32, Wq: i32, sh: i32, sw: i32,
                 kc: i32, N: i32, offs: usize): void {
  const ldg = <usize>N << 2, rowStep = <usize>(sh * Wq) << 2, colStep = <usize>sw << 2;
  const N8 = N & ~7;
  for (let j = 0; j < N8; j += 8) {
    const jo = <usize>j << 2;
    for (let t = 0; t + 4 <= kc; t += 4) {
      const d = dw + <usize>t * ldg + jo;
      const o0 = <usize>load<i32>(offs + (<usize>t << 2)), o1 = <usize>load<i32>(offs + (<usize>t << 2), 4);
      const o2 = <usize>load<i32>(offs + (<usize>t << 2), 8), o3 = <usize>load<i32>(offs + (<usize>t << 2), 12);
      let vacc0x0123 = v128.load(d), vacc0x4567 = v128.load(d, 16);
      let vacc1x0123 = v128.load(d + ldg), vacc1x4567 = v128.load(d + ldg, 16);
      let vacc2x0123 = v128.load(d + 2 * ldg), vacc2x4567 = v128.load(d + 2 * ldg, 16);
      let vacc3x0123 = v128.load(d + 3 * ldg), vacc3x4567 = v128.load(d + 3 * ldg, 16);
      let gp = G + jo;
      for (let py = 0; py < Hp; py++) {
        let bp = P + <usize>py * rowStep;
        for (let px = 0; px < Wp; px++) {
          const vg0123 = v128.load(gp), vg4567 = v128.load(gp, 16);
          let vx = v128.load32_splat(bp + o0);
          vacc0x0123 = madd(vx, vg0123, vacc0x0123); vacc0x4567 = madd(vx, vg4567, vacc0x4567);
          vx = v128.load32_splat(bp + o1);
          vacc1x0123 = madd(vx, vg0123, vacc1x0123); vacc1x4567 = madd(vx, vg4567, vacc1x4567);
          vx = v128.load32_splat(bp + o2);
          vacc2x0123 = madd(vx, vg0123, vacc2x0123); vacc2x4567 = madd(vx, vg4567, vacc2x4567);
          vx = v128.load32_splat(bp + o3);
          vacc3x0123 = madd(vx, vg0123, vacc3x0123); vacc3x4567 = madd(vx, vg4567, vacc3x4567);
          gp += ldg; bp += colStep;
        }
      }
      v128.store(d, vacc0x0123); v128.store(d, vacc0x4567, 16);
      v128.store(d + ldg, vacc1x0123); v128.store(d + ldg, vacc1x4567, 16);
      v128.store(d + 2 * ldg, vacc2x0123); v128.store(d + 2 * ldg, vacc2x4567, 16);
      v128.store(d + 3 * ldg, vacc3x0123); v128.store(d + 3 * ldg, vacc3x4567, 16);
    }
  }
  // the last kc mod 4 taps (one of 3×3's nine): 16 columns at a time (four
  // accumulator chains, not two), then 8
  for (let t = kc & ~3; t < kc; t++) {
    const ot = <usize>load<i32>(offs + (<usize>t << 2));
    let q = 0;
    for (; q + 16 <= N8; q += 16) {
      const d = dw + <usize>t * ldg + (<usize>q << 2);
      let vacc0 = v128.load(d), vacc1 = v128.load(d, 16), vacc2 = v128.load(d, 32), vacc3 = v128.load(d, 48);
      let gp = G + (<usize>q << 2);
      for (let py = 0; py < Hp; py++) {
        let bp = P + <usize>py * rowStep + ot;
        for (let px = 0; px < Wp; px++) {
          const vx = v128.load32_splat(bp);
          vacc0 = madd(vx, v128.load(gp), vacc0); vacc1 = madd(vx, v128.load(gp, 16), vacc1);
          vacc2 = madd(vx, v128.load(gp, 32), vacc2); vacc3 = madd(vx, v128.load(gp, 48), vacc3);
          gp += ldg; bp += colStep;
        }
      }
      v128.store(d, vacc0); v128.store(d, vacc1, 16); v128.store(d, vacc2, 32); v128.store(d, vacc3, 48);
    }
    for (; q < N8; q += 8) {
      const d = dw + <usize>t * ldg + (<usize>q << 2);
      let vacc0123 = v128.load(d), vacc4567 = v128.load(d, 16);
      let gp = G + (<usize>q << 2);
      for (let py = 0; py < Hp; py++) {
        let bp = P + <usize>py * rowStep + ot;
        for (let px = 0; px < Wp; px++) {
          const vx = v128.load32_splat(bp);
          vacc0123 = madd(vx, v128.load(gp), vacc0123); vacc4567 = madd(vx, v128.load(gp, 16), vacc4567);
          gp += ldg; bp += colStep;
        }
      }
      v128.store(d, vacc0123); v128.store(d, vacc4567, 16);
    }
  }
  let j = N8;
  for (; j + 4 <= N; j += 4) {
    const jo = <usize>j << 2;
    for (let t = 0; t < kc; t++) {
      const d = dw + <usize>t * ldg + jo, ot = <usize>load<i32>(offs + (<usize>t << 2));
      let vacc = v128.load(d);
      let gp = G + jo;
      for (let py = 0; py < Hp; py++) {
        let bp = P + <usize>py * rowStep + ot;
        for (let px = 0; px < Wp; px++) {
          vacc = madd(v128.load32_splat(bp), v128.load(gp), vacc);
          gp += ldg; bp += colStep;
        }
      }
      v128.store(d, vacc);
    }
  }
  for (; j < N; j++) {
    const jo = <usize>j << 2;
    for (let t = 0; t < kc; t++) {
      const d = dw + <usize>t * ldg + jo, ot = <usize>load<i32>(offs + (<usize>t << 2));
      let acc = load<f32>(d);
      let gp = G + jo;
      for (let py = 0; py < Hp; py++) {
        let bp = P + <usize>py * rowStep + ot;
        for (let px = 0; px < Wp; px++) {
          acc += load<f32>(bp) * load<f32>(gp);
          gp += ldg; bp += colStep;
        }
      }
      store<f32>(d, acc);
    }
  }
}

/**
 * out (Hp·Wp, N) = patch₁(P) · w (kh·kw, N) [+ bias (N) when bias != 0] for
 * one image: four patch rows at a time (in order, across image rows), a 4×8
 * register tile per 8 columns (each tap value broadcast, multiply-added
 * into two f32x4 per row), taps in order from the bias or zero, as the GEMM;
 * then 4 columns, then single ones.
 */
function padMulRows(out: usize, P: usize, w: usize, bias: usize, Hp: i32, Wp: i32, Wq: i32, sh: i32, sw: i32,
                    kc: i32, N: i32, offs: usize): void {
  const ldw = <usize>N << 2, rows = Hp * Wp;
  let py = 0, px = 0;
  for (let p0 = 0; p0 < rows; p0 += 4) {
    const pc = min(4, rows - p0);
    // the four rows' starts in P (a missing row repeats the last: computed, not stored)
    const b0 = P + ((<usize>(py * sh) * Wq + <usize>(px * sw)) << 2);
    if (++px == Wp) { px = 0; py++; }
    const b1 = pc > 1 ? P + ((<usize>(py * sh) * Wq + <usize>(px * sw)) << 2) : b0;
    if (pc > 1 && ++px == Wp) { px = 0; py++; }
    const b2 = pc > 2 ? P + ((<usize>(py * sh) * Wq + <usize>(px * sw)) << 2) : b1;
    if (pc > 2 && ++px == Wp) { px = 0; py++; }
    const b3 = pc > 3 ? P + ((<usize>(py * sh) * Wq + <usize>(px * sw)) << 2) : b2;
    if (pc > 3 && ++px == Wp) { px = 0; py++; }
    const o = out + <usize>p0 * ldw;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const jo = <usize>j << 2;
      let vacc0x0123 = f32x4.splat(0), vacc0x4567 = vacc0x0123;
      if (bias != 0) { vacc0x0123 = v128.load(bias + jo); vacc0x4567 = v128.load(bias + jo, 16); }
      let vacc1x0123 = vacc0x0123, vacc1x4567 = vacc0x4567;
      let vacc2x0123 = vacc0x0123, vacc2x4567 = vacc0x4567;
      let vacc3x0123 = vacc0x0123, vacc3x4567 = vacc0x4567;
      let wp = w + jo;
      for (let t = 0; t < kc; t++) {
        const ot = <usize>load<i32>(offs + (<usize>t << 2));
        const vw0123 = v128.load(wp), vw4567 = v128.load(wp, 16);
        let vx = v128.load32_splat(b0 + ot);
        vacc0x0123 = madd(vx, vw0123, vacc0x0123); vacc0x4567 = madd(vx, vw4567, vacc0x4567);
        vx = v128.load32_splat(b1 + ot);
        vacc1x0123 = madd(vx, vw0123, vacc1x0123); vacc1x4567 = madd(vx, vw4567, vacc1x4567);
        vx = v128.load32_splat(b2 + ot);
        vacc2x0123 = madd(vx, vw0123, vacc2x0123); vacc2x4567 = madd(vx, vw4567, vacc2x4567);
        vx = v128.load32_splat(b3 + ot);
        vacc3x0123 = madd(vx, vw0123, vacc3x0123); vacc3x4567 = madd(vx, vw4567, vacc3x4567);
        wp += ldw;
      }
      v128.store(o + jo, vacc0x0123); v128.store(o + jo, vacc0x4567, 16);
      if (pc > 1) { v128.store(o + ldw + jo, vacc1x0123); v128.store(o + ldw + jo, vacc1x4567, 16); }
      if (pc > 2) { v128.store(o + 2 * ldw + jo, vacc2x0123); v128.store(o + 2 * ldw + jo, vacc2x4567, 16); }
      if (pc > 3) { v128.store(o + 3 * ldw + jo, vacc3x0123); v128.store(o + 3 * ldw + jo, vacc3x4567, 16); }
    }
    for (; j + 4 <= N; j += 4) {
      const jo = <usize>j << 2;
      let vacc0 = bias != 0 ? v128.load(bias + jo) : f32x4.splat(0);
      let vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0;
      let wp = w + jo;
      for (let t = 0; t < kc; t++) {
        const ot = <usize>load<i32>(offs + (<usize>t << 2));
        const vw = v128.load(wp);
        vacc0 = madd(v128.load32_splat(b0 + ot), vw, vacc0);
        vacc1 = madd(v128.load32_splat(b1 + ot), vw, vacc1);
        vacc2 = madd(v128.load32_splat(b2 + ot), vw, vacc2);
        vacc3 = madd(v128.load32_splat(b3 + ot), vw, vacc3);
        wp += ldw;
      }
      v128.store(o + jo, vacc0);
      if (pc > 1) v128.store(o + ldw + jo, vacc1);
      if (pc > 2) v128.store(o + 2 * ldw + jo, vacc2);
      if (pc > 3) v128.store(o + 3 * ldw + jo, vacc3);
    }
    for (; j < N; j++) {
      const jo = <usize>j << 2;
      for (let i = 0; i < pc; i++) {
        const bi = i == 0 ? b0 : i == 1 ? b1 : i == 2 ? b2 : b3;
        let acc: f32 = bias != 0 ? load<f32>(bias + jo) : 0;
        for (let t = 0; t < kc; t++) acc += load<f32>(bi + <usize>load<i32>(offs + (<usize>t << 2))) * load<f32>(w + <usize>t * ldw + jo);
        store<f32>(o + <usize>i * ldw + jo, acc);
      }
    }
  }
}

// wf (kh, kw, C) = w (kh, kw, C) with each tap row's taps reversed:
// wf[ty, i, :] = w[ty, kw−1−i, :] (conv1_col2im_dot's stride-1 runs).
function flipTaps(wf: usize, w: usize, kh: i32, kw: i32, C: i32): void {
  const row = <usize>C << 2;
  for (let ty = 0; ty < kh; ty++) {
    for (let i = 0; i < kw; i++) memory.copy(wf + <usize>(ty * kw + i) * row, w + <usize>(ty * kw + kw - 1 - i) * row, row);
  }
}

/**
 * Writes out (nb, Ho, Wo, 1) = col2im(src·wᵀ) [+ bias (1) when bias != 0]:
 * src (nb·Hs·Ws, C) has one row per patch position p = (n, py, px) of the
 * conv2d that maps (Ho, Wo) to (Hs, Ws), w (kh·kw, C), so
 *   out[n, oy, ox] = b + Σ_{ty,tx: oy = py·sh−pt+ty, ox = px·sw−pl+tx} src[n, py, px, :]·w[ty, tx, :]
 * gathered per output pixel (no cols): the taps with ty ≡ oy+pt (mod sh),
 * tx ≡ ox+pl (mod sw) in order, four f32x4 accumulators over the channels,
 * a scalar tail, one horizontal sum. At stride sw = 1 away from the left and
 * right edges, two pixels at a time sharing the w loads, and each tap row ty
 * as one run: its taps tx = kw−1 … 0 read src at px = ox+pl−kw+1 … ox+pl,
 * kw·C consecutive floats, against wf (kh, kw, C) = w with each tap row's
 * taps reversed (flipTaps), so one loop of kw·C per ty (8 floats in two
 * accumulators per pixel, then 4, then a scalar tail) instead of kw loops
 * of C and their tails. Two accumulators, not four: with four per pixel V8
 * (TurboFan, x64) kept some of them on the stack across iterations (`node
 * --no-liftoff --print-wasm-code`). At B = 128, 28×28×32 → 1 (`tsx
 * bench/conv-one-ab.ts`): 3.3–3.9 → 2.7 ms in both builds.
 */
export function conv1_col2im_dot(out: usize, src: usize, w: usize, wf: usize, bias: usize, nb: i32, Ho: i32, Wo: i32,
                                 Hs: i32, Ws: i32, C: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const ldc = <usize>C << 2;
  const b: f32 = bias != 0 ? load<f32>(bias) : 0;
  let o = out;
  for (let n = 0; n < nb; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      // first tap row ty0 = (oy+pt) mod sh at py0 = (oy+pt) div sh; then ty += sh, py −= 1
      const ty0 = (oy + pt) % sh, py0 = (oy + pt) / sh;
      let tx0 = pl % sw, px0 = pl / sw;            // for ox = 0, then stepped
      for (let ox = 0; ox < Wo; ox++) {
        if (sw == 1 && ox + 1 < Wo && ox + pl - kw + 1 >= 0 && ox + 1 + pl < Ws) {
          // pixels ox, ox+1 with every tx inside src: per tap row, one run of
          // L floats from px = ox+pl−kw+1 (and px+1) against wf's row ty
          let vacc0 = f32x4.splat(0), vacc1 = vacc0, vbcc0 = vacc0, vbcc1 = vacc0;
          let acc: f32 = 0, bcc: f32 = 0;
          const L = kw * C;
          for (let ty = ty0, py = py0; ty < kh && py >= 0; ty += sh, py--) {
            if (py >= Hs) continue;
            const sp = src + <usize>((n * Hs + py) * Ws + ox + pl - kw + 1) * ldc;
            const wp = wf + <usize>(ty * kw) * ldc;
            let j = 0;
            for (; j + 8 <= L; j += 8) {
              const a = sp + (<usize>j << 2), bb = a + ldc, wc = wp + (<usize>j << 2);
              const vw0 = v128.load(wc), vw1 = v128.load(wc, 16);
              vacc0 = madd(v128.load(a), vw0, vacc0); vbcc0 = madd(v128.load(bb), vw0, vbcc0);
              vacc1 = madd(v128.load(a, 16), vw1, vacc1); vbcc1 = madd(v128.load(bb, 16), vw1, vbcc1);
            }
            for (; j + 4 <= L; j += 4) {
              const a = sp + (<usize>j << 2);
              const vw = v128.load(wp + (<usize>j << 2));
              vacc0 = madd(v128.load(a), vw, vacc0); vbcc0 = madd(v128.load(a + ldc), vw, vbcc0);
            }
            for (; j < L; j++) {
              const wc = load<f32>(wp + (<usize>j << 2));
              acc += load<f32>(sp + (<usize>j << 2)) * wc;
              bcc += load<f32>(sp + ldc + (<usize>j << 2)) * wc;
            }
          }
          store<f32>(o, b + (hsum(f32x4.add(vacc0, vacc1)) + acc));
          store<f32>(o, b + (hsum(f32x4.add(vbcc0, vbcc1)) + bcc), 4);
          o += 8; ox++; px0 += 2;
          continue;
        }
        let vacc0 = f32x4.splat(0), vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0;
        let acc: f32 = 0;
        for (let ty = ty0, py = py0; ty < kh && py >= 0; ty += sh, py--) {
          if (py >= Hs) continue;
          for (let tx = tx0, px = px0; tx < kw && px >= 0; tx += sw, px--) {
            if (px >= Ws) continue;
            const sp = src + <usize>((n * Hs + py) * Ws + px) * ldc;
            const wp = w + <usize>(ty * kw + tx) * ldc;
            let c = 0;
            for (; c + 16 <= C; c += 16) {
              const co = <usize>c << 2;
              vacc0 = madd(v128.load(sp + co), v128.load(wp + co), vacc0);
              vacc1 = madd(v128.load(sp + co, 16), v128.load(wp + co, 16), vacc1);
              vacc2 = madd(v128.load(sp + co, 32), v128.load(wp + co, 32), vacc2);
              vacc3 = madd(v128.load(sp + co, 48), v128.load(wp + co, 48), vacc3);
            }
            for (; c + 4 <= C; c += 4) {
              const co = <usize>c << 2;
              vacc0 = madd(v128.load(sp + co), v128.load(wp + co), vacc0);
            }
            for (; c < C; c++) acc += load<f32>(sp + (<usize>c << 2)) * load<f32>(wp + (<usize>c << 2));
          }
        }
        store<f32>(o, b + (hsum(f32x4.add(f32x4.add(vacc0, vacc1), f32x4.add(vacc2, vacc3))) + acc));
        o += 4;
        if (++tx0 == sw) { tx0 = 0; px0++; }
      }
    }
  }
}

// ---- The one-channel transposed forward on threads: each task runs
// conv1_col2im_dot on its own images, so no bit depends on the split. (The
// one-channel conv2d forward and both one-channel backwards run as layer
// jobs below: conv1ForwardTask, conv1BackwardTask, conv1TransposeBackwardTask.)
// ARGS: 0 out, 1 src, 2 w, 3 bias, 4 Ho, 5 Wo, 6 Hs, 7 Ws, 8 kh, 9 kw,
// 10 sh, 11 sw, 12 pt, 13 pl, 14 N, 15 act, 16 alpha, 25 C, 26 images per
// task, 27 nb, 28 wf.

function setConv1Args(out: usize, img: usize, w: usize, bias: usize, Hi: i32, Wi: i32, Hp: i32, Wp: i32,
                      kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, N: i32, act: i32, alpha: f32): void {
  setArg(0, <f64>out); setArg(1, <f64>img); setArg(2, <f64>w); setArg(3, <f64>bias); setArg(4, Hi); setArg(5, Wi);
  setArg(6, Hp); setArg(7, Wp); setArg(8, kh); setArg(9, kw); setArg(10, sh); setArg(11, sw); setArg(12, pt);
  setArg(13, pl); setArg(14, N); setArg(15, act); setArg(16, alpha);
}

function col2imDotTask(t: i32, _scratch: usize): i32 {
  const per = argInt(26), nb = argInt(27), C = argInt(25);
  const n0 = t * per, m = min(per, nb - n0);
  const Ho = argInt(4), Wo = argInt(5), Hs = argInt(6), Ws = argInt(7);
  const out = argPtr(0) + ((<usize>n0 * Ho * Wo) << 2);
  conv1_col2im_dot(out, argPtr(1) + ((<usize>n0 * Hs * Ws * C) << 2), argPtr(2), argPtr(28), argPtr(3), m, Ho, Wo, Hs, Ws, C,
                   argInt(8), argInt(9), argInt(10), argInt(11), argInt(12), argInt(13));
  const act = argInt(15);
  if (act != ACT_IDENTITY) activationForwardRange(out, out, m * Ho * Wo, act, <f32>arg(16));
  return 0;
}

// out (nb, Ho, Wo, 1) = act(conv1_col2im_dot(…)), split by images; wf:
// kh·kw·C floats of the caller's scratch for w's flipped taps.
function conv1Col2imDot(out: usize, src: usize, w: usize, wf: usize, bias: usize, nb: i32, Ho: i32, Wo: i32,
                        Hs: i32, Ws: i32, C: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                        act: i32, alpha: f32): void {
  if (sw == 1) flipTaps(wf, w, kh, kw, C);   // read by the stride-1 pair path only
  if (nb < 2 || !shouldSplit(<f64>nb * <f64>Hs * <f64>Ws * <f64>(kh * kw) * <f64>C)) {
    conv1_col2im_dot(out, src, w, wf, bias, nb, Ho, Wo, Hs, Ws, C, kh, kw, sh, sw, pt, pl);
    if (act != ACT_IDENTITY) activation_forward(out, out, nb * Ho * Wo, act, alpha);
    return;
  }
  const threads = threadCount();
  const per = max(1, (nb + 4 * threads - 1) / (4 * threads));
  setConv1Args(out, src, w, bias, Ho, Wo, Hs, Ws, kh, kw, sh, sw, pt, pl, 1, act, alpha);
  setArg(25, C); setArg(26, per); setArg(27, nb); setArg(28, <f64>wf);
  parallelFor(col2imDotTask, (nb + per - 1) / per);
}

// ---- The four layer kernels: one job per call on threads.
// Scratch (conv_scratch_bytes at nb images per chunk): convSlots slots, each
//   cols (nb images' rows, kc) then the largest GEMM's scratch at nb images
//   (one channel on the patch side: a padded image and its tap offsets),
// then GROUPS_MAX groups' partials, each dwᵀ (n, kc) then db (Co), 64-aligned
// (n = the channels on the other side of dw: conv2d Co, transpose C). The
// one-channel conv1_col2im_dot keeps w's flipped taps (n·kh·kw floats, one
// group's dwᵀ) at the partials' start: in the Co = 1 transposed forward,
// and in the C = 1 conv2d backward's dx, after its groups are summed.
// A call runs S = min(threads, slots, units) tasks; task s works in slot s
// and takes the call's units in turn (workNext): forward, chunks of nb images;
// backward, the batch groups. Everything a unit does runs on its task's
// thread (a task never splits again), so each core keeps its own chunk in its
// own L2 and a call is one fork-join, not three or four per chunk. One task
// (one thread, or a small call) takes every unit in order in slot 0; with a
// single unit, that task's kernels split as usual.
// Forward: each output row is one GEMM row summing k in order: no result
// depends on nb or on which task ran the chunk.
// Backward: dw and db sum over the batch. The batch is cut into G =
// conv_groups(B, …) groups of consecutive images (sizes differ by at most
// one); group g sums its rows in order, chunk after chunk (one GEMM k loop,
// INIT_ZERO then INIT_ACC), into its own partial; after the job
//   dw [+]= (Σ_g dwᵀ_g)ᵀ,  db [+]= Σ_g db_g     (g in order, on the calling thread).
// G depends on B and the layer only: the bits do not depend on the thread
// count, the slots or nb.

/** Slots of a call's scratch at most: tasks of one call at most (threads past it sit the call out). */
// @ts-ignore: decorator
@inline const CONV_SLOTS: i32 = 4;
/** Bytes the slots take at most: a layer whose slot is larger gets fewer (at
 *  least one: then its call is one task, whose kernels split as before). */
// @ts-ignore: decorator
@inline const SLOTS_BYTES: usize = 8 << 20;
/** Batch groups of a backward at most. */
// @ts-ignore: decorator
@inline const GROUPS_MAX: i32 = 16;
/** Floats of all groups' partials at most (fewer groups for a large dw). */
// @ts-ignore: decorator
@inline const PARTIAL_FLOATS: i32 = 1 << 20;

// @ts-ignore: decorator
@inline function align64(bytes: usize): usize {
  return (bytes + 63) & ~<usize>63;
}

// Groups planned for a layer whose dwᵀ is (n, kc) and db (Co).
function groupsMax(n: i32, kc: i32, Co: i32): i32 {
  return max(1, min(GROUPS_MAX, PARTIAL_FLOATS / (n * kc + Co)));
}

/** Batch groups of a backward on B images (see above): min(B, groupsMax). */
export function conv_groups(B: i32, n: i32, kc: i32, Co: i32): i32 {
  return max(1, min(B, groupsMax(n, kc, Co)));
}

// First image of group g of G over B images.
// @ts-ignore: decorator
@inline function groupStart(g: i32, G: i32, B: i32): i32 {
  return <i32>(<i64>g * B / G);
}

// Bytes of one group's partials: dwᵀ (n, kc), then db (Co).
// @ts-ignore: decorator
@inline function partBytes(n: i32, kc: i32, Co: i32): usize {
  return align64((<usize>n * kc) << 2) + align64(<usize>Co << 2);
}

// Bytes of one slot at nb images: cols, then the largest GEMM's scratch
//   conv2d:    forward (rows, kc)·w, dwᵀ: gᵀ (Co, rows)·cols, dx: g (rows, Co)·wᵀ
//   transpose: forward x (rows, C)·wᵀ, dwᵀ: xᵀ (C, rows)·cols, dx: cols (rows, kc)·w
// One channel on the patch side (conv2d C = 1, transpose Co = 1): no cols and
// no GEMM, a slot is one padded image P and its tap offsets (padTMul,
// padMulRows; the patch grid is (Ho, Wo) for conv2d, (H, W) for the
// transpose) at any nb.
function slotBytes(transpose: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32, kh: i32, kw: i32,
                   sh: i32, sw: i32, nb: i32): usize {
  if (transpose ? Co == 1 : C == 1) {
    return align64(paddedFloats(transpose ? H : Ho, transpose ? W : Wo, kh, kw, sh, sw) << 2) + align64(<usize>(kh * kw) << 2);
  }
  const rows = transpose ? nb * H * W : nb * Ho * Wo;
  const kc = transpose ? kh * kw * Co : kh * kw * C;
  const n = transpose ? C : Co;
  const first = gemm_scratch_bytes(rows, transpose ? C : kc);
  const last = gemm_scratch_bytes(rows, transpose ? kc : Co);
  return align64((<usize>rows * kc) << 2) + max(max(first, gemm_scratch_bytes(n, rows)), last);
}

// Slots of a layer's scratch whose slot is `slot` bytes.
function convSlots(slot: usize): i32 {
  return <i32>max<usize>(1, min<usize>(<usize>CONV_SLOTS, SLOTS_BYTES / slot));
}

/**
 * Bytes of scratch the four kernels below need at chunk size nb, for the
 * conv2d (transpose = 0) or conv2d_transpose (1) from (H, W, C) to
 * (Ho, Wo, Co): convSlots slots, then the groups' partials (see above).
 */
export function conv_scratch_bytes(transpose: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                   kh: i32, kw: i32, sh: i32, sw: i32, nb: i32): usize {
  const kc = transpose ? kh * kw * Co : kh * kw * C;
  const n = transpose ? C : Co;
  const slot = slotBytes(transpose, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, nb);
  return <usize>convSlots(slot) * slot + <usize>groupsMax(n, kc, Co) * partBytes(n, kc, Co);
}

// ARGS of a layer call: 0 y (forward) or dx (backward; 0: none), 1 x, 2 w,
// 3 b (forward) or db, 4 B, 5 H, 6 W, 7 C, 8 Ho, 9 Wo, 10 Co, 11 kh, 12 kw,
// 13 sh, 14 sw, 15 pt, 16 pl, 17 act, 18 alpha, 19 nb, 20 scratch,
// 21 slot bytes, 25 slots; backward: 22 dy, 23 y, 24 groups. Returns the
// groups' partials (after the slots).
function setLayerArgs(transpose: i32, out: usize, x: usize, w: usize, b: usize, B: i32, H: i32, W: i32, C: i32,
                      Ho: i32, Wo: i32, Co: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                      act: i32, alpha: f32, nb: i32, scratch: usize): usize {
  setArg(0, <f64>out); setArg(1, <f64>x); setArg(2, <f64>w); setArg(3, <f64>b); setArg(4, B); setArg(5, H);
  setArg(6, W); setArg(7, C); setArg(8, Ho); setArg(9, Wo); setArg(10, Co); setArg(11, kh); setArg(12, kw);
  setArg(13, sh); setArg(14, sw); setArg(15, pt); setArg(16, pl); setArg(17, act); setArg(18, alpha);
  setArg(19, nb); setArg(20, <f64>scratch);
  const slot = slotBytes(transpose, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, nb), slots = convSlots(slot);
  setArg(21, <f64>slot); setArg(25, slots);
  return scratch + <usize>slots * slot;
}

// The call's arguments in this thread's instance (wasm globals are per
// instance), read from ARGS by each task before it calls anything that may
// set ARGS itself (a single unit's kernels split as usual).
let lOut: usize = 0, lX: usize = 0, lW: usize = 0, lB: usize = 0, lDy: usize = 0, lY: usize = 0, lScratch: usize = 0, lSlot: usize = 0;
let lBatch = 0, lH = 0, lWd = 0, lC = 0, lHo = 0, lWo = 0, lCo = 0, lKh = 0, lKw = 0, lSh = 0, lSw = 0, lPt = 0, lPl = 0;
let lAct = 0, lNb = 0, lGroups = 0, lSlots = 0;
let lAlpha: f32 = 0;
function readLayerArgs(): void {
  lOut = argPtr(0); lX = argPtr(1); lW = argPtr(2); lB = argPtr(3); lBatch = argInt(4); lH = argInt(5); lWd = argInt(6);
  lC = argInt(7); lHo = argInt(8); lWo = argInt(9); lCo = argInt(10); lKh = argInt(11); lKw = argInt(12);
  lSh = argInt(13); lSw = argInt(14); lPt = argInt(15); lPl = argInt(16); lAct = argInt(17); lAlpha = <f32>arg(18);
  lNb = argInt(19); lScratch = argPtr(20); lSlot = argPtr(21); lDy = argPtr(22); lY = argPtr(23); lGroups = argInt(24);
  lSlots = argInt(25);
}

// Runs `task` as S tasks over `units` units (see above); `work` in multiply-adds.
function runSlots(task: Task, units: i32, work: f64): void {
  const tasks = shouldSplit(work) ? min(min(threadCount(), argInt(25)), units) : 1;
  workReset();
  // one task is a plain call: its kernels split (and count in the profile)
  // as usual; parallelFor(task, 1) would also time it as an inline task
  if (tasks <= 1) task(0, 0);
  else parallelFor(task, tasks);
}

// dw (kc, n) [+]= (Σ_g dwᵀ_g)ᵀ and db (Co) [+]= Σ_g db_g over the G groups'
// partials at `parts`, summed in group order into group 0's. `transposed`
// false: the partials are dw_g (kc, n) themselves (conv1BackwardTask's).
function reduceGroups(dw: usize, db: usize, parts: usize, G: i32, n: i32, kc: i32, Co: i32, accumulate: i32, transposed: bool): void {
  const pb = partBytes(n, kc, Co), dbAt = align64((<usize>n * kc) << 2);
  for (let g = 1; g < G; g++) {
    addInto(parts, parts + <usize>g * pb, n * kc);
    addInto(parts + dbAt, parts + <usize>g * pb + dbAt, Co);
  }
  if (!transposed) {
    if (accumulate) addInto(dw, parts, n * kc);
    else copyF(dw, parts, n * kc);
  } else {
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < kc; c++) {
        const d = dw + ((<usize>c * n + r) << 2);
        const v = load<f32>(parts + ((<usize>r * kc + c) << 2));
        store<f32>(d, accumulate ? load<f32>(d) + v : v);
      }
    }
  }
  if (accumulate) addInto(db, parts + dbAt, Co);
  else copyF(db, parts + dbAt, Co);
}

// Task s of either forward: takes chunks of nb images in turn, in slot s.
function forwardTask(s: i32, transpose: bool): i32 {
  readLayerArgs();
  const kc = lKh * lKw * (transpose ? lCo : lC), nb = lNb;
  const cols = lScratch + <usize>s * lSlot;
  const gs = gemmScratch(cols, nb * (transpose ? lH * lWd : lHo * lWo), kc);
  for (let u = workNext(); <i64>u * nb < lBatch; u = workNext()) {
    const n0 = u * nb, m = min(nb, lBatch - n0);
    const xn = lX + ((<usize>n0 * lH * lWd * lC) << 2), yn = lOut + ((<usize>n0 * lHo * lWo * lCo) << 2);
    if (transpose) {
      // cols (rows, kc) = x (rows, C) · wᵀ (C, kc); y = act(b + col2im(cols)) over the chunk's images
      gemm(cols, xn, lW, 0, m * lH * lWd, lC, kc, 0, 1, INIT_ZERO, gs);
      col2im(yn, cols, m, lHo, lWo, lCo, lH, lWd, lKh, lKw, lSh, lSw, lPt, lPl, COL2IM_BIAS, lB, lAct, lAlpha);
    } else {
      // cols = im2col(x); y = act(cols·w + b) (bias and activation in the tile stores)
      conv_im2col(cols, xn, m, lH, lWd, lC, lHo, lWo, lKh, lKw, lSh, lSw, lPt, lPl);
      gemm_act(yn, cols, lW, lB, m * lHo * lWo, kc, lCo, 0, 0, INIT_BIAS, gs, lAct, lAlpha);
    }
  }
  return 0;
}

function conv2dForwardTask(s: i32, _scratch: usize): i32 {
  return forwardTask(s, false);
}

function convTransposeForwardTask(s: i32, _scratch: usize): i32 {
  return forwardTask(s, true);
}

// Task s of either backward: takes groups in turn; for each chunk of the
// group (first: its sums start from zero) g = dy ⊙ act'(y) in place and
// db_g [+]= Σ g, then the kind's products in slot s.
function backwardTask(s: i32, transpose: bool): i32 {
  readLayerArgs();
  const kc = lKh * lKw * (transpose ? lCo : lC), n = transpose ? lC : lCo, nb = lNb;
  const cols = lScratch + <usize>s * lSlot;
  const gs = gemmScratch(cols, nb * (transpose ? lH * lWd : lHo * lWo), kc);
  const parts = lScratch + <usize>lSlots * lSlot, pb = partBytes(n, kc, lCo);
  for (let g = workNext(); g < lGroups; g = workNext()) {
    const g0 = groupStart(g, lGroups, lBatch), g1 = groupStart(g + 1, lGroups, lBatch);
    const dwt = parts + <usize>g * pb, dbg = dwt + align64((<usize>n * kc) << 2);
    for (let n0 = g0; n0 < g1; n0 += nb) {
      const m = min(nb, g1 - n0), on = (<usize>n0 * lHo * lWo * lCo) << 2, init = n0 == g0 ? INIT_ZERO : INIT_ACC;
      gradBias(dbg, lDy + on, lY + on, m * lHo * lWo, lCo, lAct, lAlpha, n0 == g0 ? 0 : 1);
      const xn = lX + ((<usize>n0 * lH * lWd * lC) << 2), dxn = lOut == 0 ? <usize>0 : lOut + ((<usize>n0 * lH * lWd * lC) << 2);
      if (transpose) convTransposeBackwardChunk(cols, lDy + on, xn, dxn, dwt, m, kc, init, gs);
      else conv2dBackwardChunk(cols, lDy + on, xn, dxn, dwt, m, kc, init, gs);
    }
  }
  return 0;
}

function conv2dBackwardTask(s: i32, _scratch: usize): i32 {
  return backwardTask(s, false);
}

function convTransposeBackwardTask(s: i32, _scratch: usize): i32 {
  return backwardTask(s, true);
}

// Slot s of a one-channel layer task over the patch grid (Hp, Wp): the padded
// image P (pHq, pWq) at its start (returned), then the tap offsets at pOffs,
// written here.
let pHq = 0, pWq = 0, pOffs: usize = 0;
function paddedSlot(s: i32, Hp: i32, Wp: i32): usize {
  pHq = (Hp - 1) * lSh + lKh; pWq = (Wp - 1) * lSw + lKw;
  const P = lScratch + <usize>s * lSlot;
  pOffs = P + align64((<usize>pHq * pWq) << 2);
  tapOffsets(pOffs, lKh, lKw, pWq);
  return P;
}

// Task s of conv2d_forward with C = 1: takes images in turn; per image its
// padded copy (slot s), then its rows of y = act(patch₁(x)·w + b) (padMulRows).
function conv1ForwardTask(s: i32, _scratch: usize): i32 {
  readLayerArgs();
  const kc = lKh * lKw, pixels = lHo * lWo;
  const P = paddedSlot(s, lHo, lWo), Hq = pHq, Wq = pWq, offs = pOffs;
  for (let n = workNext(); n < lBatch; n = workNext()) {
    pad1(P, lX + ((<usize>n * lH * lWd) << 2), lH, lWd, Hq, Wq, lPt, lPl);
    const yn = lOut + ((<usize>n * pixels * lCo) << 2);
    padMulRows(yn, P, lW, lB, lHo, lWo, Wq, lSh, lSw, kc, lCo, offs);
    if (lAct != ACT_IDENTITY) activationForwardRange(yn, yn, pixels * lCo, lAct, lAlpha);
  }
  return 0;
}

// Task s of conv2d_backward with C = 1: takes groups in turn; per group
// g = dy ⊙ act'(y) in place with db_g = Σ g, and dw_g (kh·kw, Co) = 0 +
// patch₁(x)ᵀ·g over the group's images in order (padTMul on each image's
// padded copy, in slot s).
function conv1BackwardTask(s: i32, _scratch: usize): i32 {
  readLayerArgs();
  const kc = lKh * lKw, pixels = lHo * lWo;
  const P = paddedSlot(s, lHo, lWo), Hq = pHq, Wq = pWq, offs = pOffs;
  const parts = lScratch + <usize>lSlots * lSlot, pb = partBytes(lCo, kc, lCo);
  for (let g = workNext(); g < lGroups; g = workNext()) {
    const g0 = groupStart(g, lGroups, lBatch), g1 = groupStart(g + 1, lGroups, lBatch);
    const dwg = parts + <usize>g * pb, dbg = dwg + align64((<usize>lCo * kc) << 2);
    const on = (<usize>g0 * pixels * lCo) << 2;
    gradBias(dbg, lDy + on, lY + on, (g1 - g0) * pixels, lCo, lAct, lAlpha, 0);
    zeroF(dwg, kc * lCo);
    for (let n = g0; n < g1; n++) {
      pad1(P, lX + ((<usize>n * lH * lWd) << 2), lH, lWd, Hq, Wq, lPt, lPl);
      padTMul(dwg, P, lDy + ((<usize>n * pixels * lCo) << 2), lHo, lWo, Wq, lSh, lSw, kc, lCo, offs);
    }
  }
  return 0;
}

// Task s of conv2d_transpose_backward with Co = 1: takes groups in turn; per
// group g = dy ⊙ act'(y) in place with db_g = Σ g, then image by image the
// padded g (slot s) gives dw_g (kh·kw, C) += patch₁(g)ᵀ·x (padTMul, from 0)
// and the image's rows of dx = patch₁(g)·w (padMulRows).
function conv1TransposeBackwardTask(s: i32, _scratch: usize): i32 {
  readLayerArgs();
  const kc = lKh * lKw, pixels = lHo * lWo, rows = lH * lWd;
  const P = paddedSlot(s, lH, lWd), Hq = pHq, Wq = pWq, offs = pOffs;
  const parts = lScratch + <usize>lSlots * lSlot, pb = partBytes(lC, kc, 1);
  for (let g = workNext(); g < lGroups; g = workNext()) {
    const g0 = groupStart(g, lGroups, lBatch), g1 = groupStart(g + 1, lGroups, lBatch);
    const dwg = parts + <usize>g * pb, dbg = dwg + align64((<usize>lC * kc) << 2);
    gradBias(dbg, lDy + ((<usize>g0 * pixels) << 2), lY + ((<usize>g0 * pixels) << 2), (g1 - g0) * pixels, 1, lAct, lAlpha, 0);
    zeroF(dwg, kc * lC);
    for (let n = g0; n < g1; n++) {
      pad1(P, lDy + ((<usize>n * pixels) << 2), lHo, lWo, Hq, Wq, lPt, lPl);
      const xn = (<usize>n * rows * lC) << 2;
      padTMul(dwg, P, lX + xn, lH, lWd, Wq, lSh, lSw, kc, lC, offs);
      if (lOut != 0) padMulRows(lOut + xn, P, lW, 0, lH, lWd, Wq, lSh, lSw, kc, lC, offs);
    }
  }
  return 0;
}

// One chunk of m images of conv2d_backward: cols = im2col(x);
// dwᵀ (Co, kc) [+]= gᵀ (Co, rows) · cols (rows, kc) (dw = colsᵀ·g with the
// same products in the same k order, but A is the narrow g, whose packed
// panels stay in L1, and cols streams as B strips by vector loads); then,
// unless dxn == 0, dcols (rows, kc) = g (rows, Co) · wᵀ (Co, kc) into cols
// and dx = col2im(dcols).
function conv2dBackwardChunk(cols: usize, gn: usize, xn: usize, dxn: usize, dwt: usize, m: i32, kc: i32, init: i32, gs: usize): void {
  const rows = m * lHo * lWo;
  conv_im2col(cols, xn, m, lH, lWd, lC, lHo, lWo, lKh, lKw, lSh, lSw, lPt, lPl);
  gemm(dwt, gn, cols, 0, lCo, rows, kc, 1, 0, init, gs);
  if (dxn == 0) return;
  gemm(cols, gn, lW, 0, rows, lCo, kc, 0, 1, INIT_ZERO, gs);
  col2im(dxn, cols, m, lH, lWd, lC, lHo, lWo, lKh, lKw, lSh, lSw, lPt, lPl, COL2IM_ZERO, 0, ACT_IDENTITY, 0);
}

// One chunk of m images of conv2d_transpose_backward: cols = im2col(g) (the
// patches the conv2d (Ho, Wo) → (H, W) reads); dwᵀ (C, kc) [+]= xᵀ (C, rows)
// · cols (rows, kc) (dw = colsᵀ·x, as in conv2dBackwardChunk); unless
// dxn == 0, dx (rows, C) = cols (rows, kc) · w (kc, C) (both only read cols:
// one job when they split).
function convTransposeBackwardChunk(cols: usize, gn: usize, xn: usize, dxn: usize, dwt: usize, m: i32, kc: i32, init: i32, gs: usize): void {
  const rows = m * lH * lWd;
  conv_im2col(cols, gn, m, lHo, lWo, lCo, lH, lWd, lKh, lKw, lSh, lSw, lPt, lPl);
  if (dxn != 0) gemm_pair(dwt, xn, cols, lC, rows, kc, 1, 0, init, dxn, cols, lW, rows, kc, lC, 0, 0, INIT_ZERO, gs);
  else gemm(dwt, xn, cols, 0, lC, rows, kc, 1, 0, init, gs);
}

// g = dy ⊙ act'(y) in place over (rows, Co); db (Co) [+]= Σ_rows g.
function gradBias(db: usize, dy: usize, y: usize, rows: i32, Co: i32, act: i32, alpha: f32, accumulate: i32): void {
  activation_backward_bias(db, dy, y, rows, Co, act, alpha, accumulate);
}

// GEMM scratch of a slot: after its cols (rows, kc).
// @ts-ignore: decorator
@inline function gemmScratch(cols: usize, rows: i32, kc: i32): usize {
  return cols + align64((<usize>rows * kc) << 2);
}

// Either backward with more than one channel on the patch side: one job over
// the batch groups, then the groups' sums into dw and db.
function layerBackward(transpose: i32, dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, y: usize,
                       B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                       kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                       act: i32, alpha: f32, accumulate: i32, nb: i32, scratch: usize): void {
  const kc = kh * kw * (transpose ? Co : C), n = transpose ? C : Co, G = conv_groups(B, n, kc, Co);
  const parts = setLayerArgs(transpose, dx, x, w, db, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, nb, scratch);
  setArg(22, <f64>dy); setArg(23, <f64>y); setArg(24, G);
  // multiply-adds: the conv2d side's pixels × kh·kw·C·Co, per product
  const pixels = transpose ? H * W : Ho * Wo;
  runSlots(transpose ? convTransposeBackwardTask : conv2dBackwardTask, G,
           <f64>B * <f64>pixels * <f64>(kh * kw) * <f64>C * <f64>Co * (dx != 0 ? 2 : 1));
  reduceGroups(dw, db, parts, G, n, kc, Co, accumulate, true);
}

/** Writes y (B, Ho, Wo, Co) = act(conv2d(x (B, H, W, C), w (kh, kw, C, Co)) + b (Co));
 *  clobbers scratch (conv_scratch_bytes(0, …, nb)). */
export function conv2d_forward(y: usize, x: usize, w: usize, b: usize,
                               B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                               kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                               act: i32, alpha: f32, nb: i32, scratch: usize): void {
  if (C == 1) {
    // y (B·Ho·Wo, Co) = act(patch₁(x)·w + b) image by image, no cols (one job)
    setLayerArgs(0, y, x, w, b, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, nb, scratch);
    runSlots(conv1ForwardTask, B, <f64>B * <f64>(Ho * Wo) * <f64>(kh * kw) * <f64>Co);
    return;
  }
  setLayerArgs(0, y, x, w, b, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, nb, scratch);
  runSlots(conv2dForwardTask, (B + nb - 1) / nb, <f64>B * <f64>(Ho * Wo) * <f64>(kh * kw * C) * <f64>Co);
}

/** Writes dy ← dy ⊙ act'(y) in place and dx (B, H, W, C) (unless dx == 0);
 *  accumulates dw (kh, kw, C, Co) and db (Co) when `accumulate`, else writes
 *  them; clobbers scratch (conv_scratch_bytes(0, …, nb)). */
export function conv2d_backward(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, y: usize,
                                B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                                act: i32, alpha: f32, accumulate: i32, nb: i32, scratch: usize): void {
  if (C == 1) {
    // g, db and dw (kh·kw, Co) [+]= patch₁(x)ᵀ·g by batch groups (one job), then
    // dx (B, H, W, 1) = col2im(g·wᵀ), gathered
    const kc = kh * kw, G = conv_groups(B, Co, kc, Co);
    const parts = setLayerArgs(0, dx, x, w, db, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, nb, scratch);
    setArg(22, <f64>dy); setArg(23, <f64>y); setArg(24, G);
    runSlots(conv1BackwardTask, G, <f64>B * <f64>(Ho * Wo) * <f64>kc * <f64>Co);
    reduceGroups(dw, db, parts, G, Co, kc, Co, accumulate, false);
    // (the partials are summed: their space holds w's flipped taps, kh·kw·Co ≤ a group's dwᵀ)
    if (dx != 0) conv1Col2imDot(dx, dy, w, parts, 0, B, H, W, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, ACT_IDENTITY, 0);
    return;
  }
  layerBackward(0, dx, dw, db, dy, x, w, y, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, accumulate, nb, scratch);
}

/** Writes y (B, Ho, Wo, Co) = act(conv2d_transpose(x (B, H, W, C), w (kh, kw, Co, C)) + b (Co)),
 *  where the conv2d with pads (pt, pl) maps (Ho, Wo) to (H, W); clobbers
 *  scratch (conv_scratch_bytes(1, …, nb)). */
export function conv2d_transpose_forward(y: usize, x: usize, w: usize, b: usize,
                                         B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                         kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                                         act: i32, alpha: f32, nb: i32, scratch: usize): void {
  if (Co == 1) {
    // y (B, Ho, Wo, 1) = col2im(x·wᵀ) + b, gathered per output pixel, no cols
    // w's flipped taps (kh·kw·C floats) where the backward's group partials go
    const slot = slotBytes(1, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, nb);
    const parts = scratch + <usize>convSlots(slot) * slot;
    conv1Col2imDot(y, x, w, parts, b, B, Ho, Wo, H, W, C, kh, kw, sh, sw, pt, pl, act, alpha);
    return;
  }
  setLayerArgs(1, y, x, w, b, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, nb, scratch);
  runSlots(convTransposeForwardTask, (B + nb - 1) / nb, <f64>B * <f64>(H * W) * <f64>C * <f64>(kh * kw * Co));
}

/** Writes dy ← dy ⊙ act'(y) in place and dx (B, H, W, C) (unless dx == 0);
 *  accumulates dw (kh, kw, Co, C) and db (Co) when `accumulate`, else writes
 *  them; clobbers scratch (conv_scratch_bytes(1, …, nb)). */
export function conv2d_transpose_backward(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, y: usize,
                                          B: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, Co: i32,
                                          kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
                                          act: i32, alpha: f32, accumulate: i32, nb: i32, scratch: usize): void {
  if (Co == 1) {
    // g, db, dw (kh·kw, C) [+]= patch₁(g)ᵀ·x and dx (B·H·W, C) = patch₁(g)·w by batch groups, one job
    const kc = kh * kw, G = conv_groups(B, C, kc, 1);
    const parts = setLayerArgs(1, dx, x, w, db, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, nb, scratch);
    setArg(22, <f64>dy); setArg(23, <f64>y); setArg(24, G);
    runSlots(conv1TransposeBackwardTask, G, <f64>B * <f64>(H * W) * <f64>kc * <f64>C * (dx != 0 ? 2 : 1));
    reduceGroups(dw, db, parts, G, C, kc, 1, accumulate, false);
    return;
  }
  layerBackward(1, dx, dw, db, dy, x, w, y, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, act, alpha, accumulate, nb, scratch);
}
