// Two (or more) stochastic layers (Burda, Grosse & Salakhutdinov 2015, §5,
// the second architecture): the conditional prior p(z_{i−1}|z_i) of a level
// is a diagonal Gaussian whose [μ | v = log σ²] the level's decoder predicts.
// Rows r of n sample rows; z (n, L), h (n, 2L) rows [μ (L) | v (L)]:
//   log p(z|h) = Σ_j −½·(z_j − μ_j)²·e^(−v_j) − ½·v_j − ½·log 2π   (f64 sums, index order)
// Backward with per-row coefficients c (n), c_r = −∂loss/∂log p_r (the
// objective's coefficient on log q − log p), t = (z − μ)·e^(−v):
//   dz_r  += c_r·t            (−c_r·∂log p/∂z = c_r·(z − μ)/σ²)
//   dμ_r   = −c_r·t           (−c_r·∂log p/∂μ)
//   dv_r   = ½·c_r·(1 − (z − μ)·t)   (−c_r·∂log p/∂v = −c_r·(½(z−μ)²e^(−v) − ½))
// and the level's estimate of log p(z_{i−1}) from its one sample z_i:
//   out_r = log p(z_{i−1}|z_i) + log p(z_i) − log q(z_i|z_{i−1})   (f64, then f32)
// Rows are split across threads; each row is one thread's, so results do not
// depend on the thread count. Not here: q(z_i|z_{i−1}) (gaussian.ts),
// p(z_top) (prior.ts), the networks (dense.ts).

import { argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

const HALF_LOG_2PI: f64 = 0.9189385332046727;

function condRows(logp: usize, z: usize, h: usize, r0: i32, r1: i32, L: i32): void {
  for (let r = r0; r < r1; r++) {
    const zr = z + ((<usize>r * L) << 2), hr = h + ((<usize>r * 2 * L) << 2);
    let s: f64 = 0;
    for (let j = 0; j < L; j++) {
      const o = <usize>j << 2;
      const v = <f64>load<f32>(hr + o + (<usize>L << 2));
      const d = <f64>load<f32>(zr + o) - <f64>load<f32>(hr + o);
      s += -0.5 * d * d * Math.exp(-v) - 0.5 * v - HALF_LOG_2PI;
    }
    store<f32>(logp + (<usize>r << 2), <f32>s);
  }
}

// args: logp, z, h, L
function condTask(t: i32, _scratch: usize): i32 {
  condRows(argPtr(0), argPtr(1), argPtr(2), rangeStart(t), rangeEnd(t), argInt(3));
  return 0;
}

/** Writes logp (n) = log N(z; μ, diag e^v) for z (n, L) and h (n, 2L) = [μ | v]. */
export function gaussian_cond_logp_forward(logp: usize, z: usize, h: usize, n: i32, L: i32): void {
  if (!shouldSplit(<f64>n * <f64>L * 16)) {
    condRows(logp, z, h, 0, n, L);
    return;
  }
  setArg(0, <f64>logp); setArg(1, <f64>z); setArg(2, <f64>h); setArg(3, L);
  parallelFor(condTask, rangeTasks(n, 1));
}

function condBackRows(dz: usize, dh: usize, z: usize, h: usize, c: usize, r0: i32, r1: i32, L: i32): void {
  for (let r = r0; r < r1; r++) {
    const cr = load<f32>(c + (<usize>r << 2));
    const zr = z + ((<usize>r * L) << 2), hr = h + ((<usize>r * 2 * L) << 2);
    const dzr = dz + ((<usize>r * L) << 2), dhr = dh + ((<usize>r * 2 * L) << 2);
    const vo = <usize>L << 2;
    for (let j = 0; j < L; j++) {
      const o = <usize>j << 2;
      const d = load<f32>(zr + o) - load<f32>(hr + o);
      const t = d * Mathf.exp(-load<f32>(hr + o + vo));
      store<f32>(dzr + o, load<f32>(dzr + o) + cr * t);
      store<f32>(dhr + o, -cr * t);
      store<f32>(dhr + o + vo, 0.5 * cr * (1 - d * t));
    }
  }
}

// args: dz, dh, z, h, c, L
function condBackTask(t: i32, _scratch: usize): i32 {
  condBackRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argPtr(4), rangeStart(t), rangeEnd(t), argInt(5));
  return 0;
}

/** Accumulates dz (n, L) += c_r·(z − μ)/σ²; writes dh (n, 2L) =
 *  [−c_r·(z − μ)/σ² | ½·c_r·(1 − (z − μ)²/σ²)] (the gradient of −Σ c_r·log p_r). */
export function gaussian_cond_logp_backward(dz: usize, dh: usize, z: usize, h: usize, c: usize, n: i32, L: i32): void {
  if (!shouldSplit(<f64>n * <f64>L * 16)) {
    condBackRows(dz, dh, z, h, c, 0, n, L);
    return;
  }
  setArg(0, <f64>dz); setArg(1, <f64>dh); setArg(2, <f64>z); setArg(3, <f64>h); setArg(4, <f64>c); setArg(5, L);
  parallelFor(condBackTask, rangeTasks(n, 1));
}

/** Writes out (n) = cond + logp − logq (f64 sum of the three f32 terms). */
export function hierarchy_logp_combine(out: usize, cond: usize, logp: usize, logq: usize, n: i32): void {
  for (let r = 0; r < n; r++) {
    const o = <usize>r << 2;
    store<f32>(out + o, <f32>(<f64>load<f32>(cond + o) + <f64>load<f32>(logp + o) - <f64>load<f32>(logq + o)));
  }
}
