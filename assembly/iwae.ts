// The importance-weighted bound (Burda, Grosse & Salakhutdinov 2015) over S
// samples per row, and its gradient coefficients. Sample rows are b·S + s.
//   log w_bs = −nll_bs + β·(log p(z_bs) − log q(z_bs|x_b))
//   L_b      = log (1/S) Σ_s exp(log w_bs)          (log-sum-exp, f64)
//   loss_b   = −L_b,   w̃_bs = exp(log w_bs − max) / Σ_s exp(log w_bs − max)
// Backward. ∂loss_b/∂log w_bs = −w̃_bs, so with `scale` (1/B for a batch mean):
//   a_bs = ∂/∂nll_bs              = w̃_bs·scale
//   c_bs = ∂/∂(log q − log p)_bs  = β·w̃_bs·scale
// DReG (Tucker, Lawson, Gu & Maddison 2018): the encoder's path through z_bs
// takes w̃_bs² instead of w̃_bs and q's direct dependence on its parameters is
// dropped; then c_bs = β·w̃_bs²·scale, and the host multiplies the decoder's
// dz rows by w̃_bs (rows_scale) so that they carry w̃² too.

import { arg, argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

// Rows b0..b1-1 of iwae_forward.
function iwaeRows(loss: usize, wts: usize, nll: usize, logp: usize, logq: usize, b0: i32, b1: i32, S: i32, beta: f64): void {
  const logS = Math.log(<f64>S);
  for (let b = b0; b < b1; b++) {
    let m = -Infinity;
    for (let s = 0; s < S; s++) {
      const o = (<usize>b * S + s) << 2;
      const lw = -<f64>load<f32>(nll + o) + beta * (<f64>load<f32>(logp + o) - <f64>load<f32>(logq + o));
      store<f32>(wts + o, <f32>lw); // log w, replaced by w̃ below
      if (lw > m) m = lw;
    }
    let sum: f64 = 0;
    for (let s = 0; s < S; s++) sum += Math.exp(<f64>load<f32>(wts + ((<usize>b * S + s) << 2)) - m);
    for (let s = 0; s < S; s++) {
      const o = (<usize>b * S + s) << 2;
      store<f32>(wts + o, <f32>(Math.exp(<f64>load<f32>(wts + o) - m) / sum));
    }
    store<f32>(loss + (<usize>b << 2), <f32>(-(m + Math.log(sum) - logS)));
  }
}

// args: loss, wts, nll, logp, logq, S, beta
function iwaeTask(t: i32, _scratch: usize): i32 {
  iwaeRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argPtr(4), rangeStart(t), rangeEnd(t), argInt(5), arg(6));
  return 0;
}

/** Writes loss (B) = −L_b and wts (B·S) = w̃ from nll, logp, logq (B·S). */
export function iwae_forward(loss: usize, wts: usize, nll: usize, logp: usize, logq: usize, B: i32, S: i32, beta: f32): void {
  if (!shouldSplit(<f64>B * <f64>S * 64)) {
    iwaeRows(loss, wts, nll, logp, logq, 0, B, S, <f64>beta);
    return;
  }
  setArg(0, <f64>loss); setArg(1, <f64>wts); setArg(2, <f64>nll); setArg(3, <f64>logp); setArg(4, <f64>logq);
  setArg(5, S); setArg(6, beta);
  parallelFor(iwaeTask, rangeTasks(B, 1));
}

/** Writes a (n) = w̃·scale and c (n) = β·w̃·scale, or β·w̃²·scale when `dreg`,
 *  from wts (n) = w̃ (n = B·S sample rows). */
export function iwae_backward(a: usize, c: usize, wts: usize, n: i32, beta: f32, scale: f32, dreg: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const w = load<f32>(wts + o);
    store<f32>(a + o, w * scale);
    store<f32>(c + o, dreg ? beta * w * w * scale : beta * w * scale);
  }
}

// Rows r0..r1-1 of rows_scale.
function scaleRows(y: usize, coef: usize, r0: i32, r1: i32, D: i32): void {
  for (let r = r0; r < r1; r++) {
    const v = f32x4.splat(load<f32>(coef + (<usize>r << 2)));
    const yr = y + ((<usize>r * D) << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) v128.store(yr + (<usize>d << 2), f32x4.mul(v128.load(yr + (<usize>d << 2)), v));
    const c = load<f32>(coef + (<usize>r << 2));
    for (; d < D; d++) store<f32>(yr + (<usize>d << 2), load<f32>(yr + (<usize>d << 2)) * c);
  }
}

// args: y, coef, D
function scaleTask(t: i32, _scratch: usize): i32 {
  scaleRows(argPtr(0), argPtr(1), rangeStart(t), rangeEnd(t), argInt(2));
  return 0;
}

/** y (rows, D) row r *= coef[r]: per-row weights on a gradient. */
export function rows_scale(y: usize, coef: usize, rows: i32, D: i32): void {
  if (!shouldSplit(<f64>rows * <f64>D * 4)) {
    scaleRows(y, coef, 0, rows, D);
    return;
  }
  setArg(0, <f64>y); setArg(1, <f64>coef); setArg(2, D);
  parallelFor(scaleTask, rangeTasks(rows, 1));
}
