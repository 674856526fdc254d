// A mixture of K diagonal Gaussians as the prior p(z), on sample rows z (n, L):
//   log p(z) = log Σ_k π_k·N(z; μ_k, diag e^(lv_k))
//   a_k      = log π_k − ½ Σ_j [(z_j − μ_kj)²·e^(−lv_kj) + lv_kj] − (L/2)·log 2π
//   log p(z) = m + log Σ_k e^(a_k − m),  m = max_k a_k     (f64 sums)
//   r_k      = e^(a_k − log p(z))                            (responsibilities)
// π = softmax(logits) (the learned mixture), or π_k = 1/K when logits = 0
// (the VampPrior, whose μ_k, lv_k are the encoder's head rows at the
// pseudo-inputs: a row stride `ld` lets both read their components in place).
// Backward with per-row coefficients c (n), c_r = ∂loss/∂(log q − log p)_r,
// so ∂loss/∂log p_r = −c_r:
//   dz_r    += c_r·Σ_k r_rk·(z_r − μ_k)·e^(−lv_k)            (−∂log p/∂z)
//   dμ_k     = −Σ_r c_r·r_rk·(z_r − μ_k)·e^(−lv_k)
//   dlv_k    = −Σ_r c_r·r_rk·½·((z_r − μ_k)²·e^(−lv_k) − 1)
//   dlogit_k = Σ_r c_r·(π_k − r_rk)                          (∂log p/∂logit_k = r_k − π_k)
// The forward first writes prep (K·(L + 1) floats): e^(−lv_k) (K, L), then
// Σ_j lv_kj (K) (f64 sums), so each row costs multiply-adds, not exps; the
// backward reads prep as the forward left it.
// Threads: forward and dz split the rows; the parameters' gradients split the
// components (each sums its rows in order), so any thread count gives the
// same bits. Not here: the VampPrior's pseudo-inputs (prior-vamp.ts), N(0, I)
// (prior.ts).

import { exp4 } from "./simd";
import { argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

const HALF_LOG_2PI: f64 = 0.9189385332046727;

// log Σ_k e^(logit_k) (f64), or 0 when there are no logits.
function logitsLse(logits: usize, K: i32): f64 {
  if (!logits) return 0;
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = max(m, <f64>load<f32>(logits + (<usize>k << 2)));
  let s: f64 = 0;
  for (let k = 0; k < K; k++) s += Math.exp(<f64>load<f32>(logits + (<usize>k << 2)) - m);
  return m + Math.log(s);
}

// log π_k given the lse of the logits (uniform: −log K).
// @ts-ignore: decorator
@inline function logPi(logits: usize, k: i32, lse: f64, K: i32): f64 {
  return logits ? <f64>load<f32>(logits + (<usize>k << 2)) - lse : -Math.log(<f64>K);
}

// Σ_j (z_j − μ_j)²·iv_j over L (f32 terms, f64 sums).
// @ts-ignore: decorator
@inline function quad(z: usize, mu: usize, iv: usize, L: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= L; j += 4) {
    const o = <usize>j << 2;
    const d = f32x4.sub(v128.load(z + o), v128.load(mu + o));
    const t = f32x4.mul(f32x4.mul(d, d), v128.load(iv + o));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t, t, 2, 3, 0, 1)));
  }
  let s = (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (; j < L; j++) {
    const o = <usize>j << 2;
    const d = load<f32>(z + o) - load<f32>(mu + o);
    s += <f64>(d * d * load<f32>(iv + o));
  }
  return s;
}

// prep: iv (K, L) = e^(−lv_k), then ldet (K) = Σ_j lv_kj.
function prepare(prep: usize, logvars: usize, ld: i32, K: i32, L: i32): void {
  const ldet = prep + ((<usize>K * L) << 2);
  for (let k = 0; k < K; k++) {
    const lv = logvars + ((<usize>k * ld) << 2), iv = prep + ((<usize>k * L) << 2);
    let s: f64 = 0, j = 0;
    for (; j + 4 <= L; j += 4) {
      const o = <usize>j << 2;
      v128.store(iv + o, exp4(f32x4.neg(v128.load(lv + o))));
    }
    for (; j < L; j++) store<f32>(iv + (<usize>j << 2), Mathf.exp(-load<f32>(lv + (<usize>j << 2))));
    for (j = 0; j < L; j++) s += <f64>load<f32>(lv + (<usize>j << 2));
    store<f32>(ldet + (<usize>k << 2), <f32>s);
  }
}

// Rows r0..r1-1 of the forward: logp (n) and resp (n, K).
function forwardRows(logp: usize, resp: usize, prep: usize, z: usize, means: usize, ld: i32, logits: usize,
                     r0: i32, r1: i32, K: i32, L: i32): void {
  const lse = logitsLse(logits, K);
  const cst = <f64>L * HALF_LOG_2PI, ldet = prep + ((<usize>K * L) << 2);
  for (let r = r0; r < r1; r++) {
    const zr = z + ((<usize>r * L) << 2), rr = resp + ((<usize>r * K) << 2);
    let m = -Infinity;
    for (let k = 0; k < K; k++) {
      const q = quad(zr, means + ((<usize>k * ld) << 2), prep + ((<usize>k * L) << 2), L) + <f64>load<f32>(ldet + (<usize>k << 2));
      const a = <f32>(logPi(logits, k, lse, K) - 0.5 * q - cst);
      store<f32>(rr + (<usize>k << 2), a);
      m = max(m, <f64>a);
    }
    let s: f64 = 0;
    for (let k = 0; k < K; k++) s += Math.exp(<f64>load<f32>(rr + (<usize>k << 2)) - m);
    const lp = m + Math.log(s);
    for (let k = 0; k < K; k++) {
      const o = rr + (<usize>k << 2);
      store<f32>(o, <f32>Math.exp(<f64>load<f32>(o) - lp));
    }
    store<f32>(logp + (<usize>r << 2), <f32>lp);
  }
}

// args: logp, resp, prep, z, means, ld, logits, K, L
function forwardTask(t: i32, _scratch: usize): i32 {
  forwardRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argPtr(4), argInt(5), argPtr(6), rangeStart(t), rangeEnd(t), argInt(7), argInt(8));
  return 0;
}

/** Writes logp (n) = log p(z), resp (n, K) = the responsibilities r_rk and
 *  prep (K·(L + 1)) for z (n, L), components μ_k at means + k·ld, log σ²_k
 *  at logvars + k·ld (floats), and logits (K), or logits = 0 for equal
 *  weights 1/K. */
export function prior_mixture_logp_forward(logp: usize, resp: usize, prep: usize, z: usize, means: usize, logvars: usize, ld: i32,
                                           logits: usize, n: i32, K: i32, L: i32): void {
  prepare(prep, logvars, ld, K, L);
  if (!shouldSplit(<f64>n * <f64>K * <f64>L)) {
    forwardRows(logp, resp, prep, z, means, ld, logits, 0, n, K, L);
    return;
  }
  setArg(0, <f64>logp); setArg(1, <f64>resp); setArg(2, <f64>prep); setArg(3, <f64>z); setArg(4, <f64>means);
  setArg(5, ld); setArg(6, <f64>logits); setArg(7, K); setArg(8, L);
  parallelFor(forwardTask, rangeTasks(n, 1));
}

// Rows r0..r1-1 of dz: dz_r += Σ_k c_r·r_rk·(z_r − μ_k)·e^(−lv_k).
function dzRows(dz: usize, z: usize, means: usize, prep: usize, ld: i32, resp: usize, c: usize,
                r0: i32, r1: i32, K: i32, L: i32): void {
  for (let r = r0; r < r1; r++) {
    const cr = load<f32>(c + (<usize>r << 2));
    const zr = z + ((<usize>r * L) << 2), dr = dz + ((<usize>r * L) << 2), rr = resp + ((<usize>r * K) << 2);
    for (let k = 0; k < K; k++) {
      const w = cr * load<f32>(rr + (<usize>k << 2));
      if (w == 0) continue; // an underflowed responsibility adds nothing
      const mu = means + ((<usize>k * ld) << 2), iv = prep + ((<usize>k * L) << 2);
      const vw = f32x4.splat(w);
      let j = 0;
      for (; j + 4 <= L; j += 4) {
        const o = <usize>j << 2;
        const d = f32x4.sub(v128.load(zr + o), v128.load(mu + o));
        const g = f32x4.mul(vw, f32x4.mul(d, v128.load(iv + o)));
        v128.store(dr + o, f32x4.add(v128.load(dr + o), g));
      }
      for (; j < L; j++) {
        const o = <usize>j << 2;
        const d = load<f32>(zr + o) - load<f32>(mu + o);
        store<f32>(dr + o, load<f32>(dr + o) + w * (d * load<f32>(iv + o)));
      }
    }
  }
}

// args: dz, z, means, prep, ld, resp, c, K, L
function dzTask(t: i32, _scratch: usize): i32 {
  dzRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argInt(4), argPtr(5), argPtr(6), rangeStart(t), rangeEnd(t), argInt(7), argInt(8));
  return 0;
}

// Components k0..k1-1 of the parameters' gradients (written), rows in order.
function paramComponents(dmeans: usize, dlogvars: usize, dlogits: usize, z: usize, means: usize, prep: usize, ld: i32,
                         logits: usize, resp: usize, c: usize, k0: i32, k1: i32, n: i32, K: i32, L: i32): void {
  const lse = logitsLse(logits, K);
  const half = f32x4.splat(0.5), one = f32x4.splat(1);
  for (let k = k0; k < k1; k++) {
    const ko = (<usize>k * ld) << 2;
    const mu = means + ko, iv = prep + ((<usize>k * L) << 2), dmu = dmeans + ko, dlv = dlogvars + ko;
    for (let j = 0; j < L; j++) { store<f32>(dmu + (<usize>j << 2), 0); store<f32>(dlv + (<usize>j << 2), 0); }
    let dl: f64 = 0;
    const pi = Math.exp(logPi(logits, k, lse, K));
    for (let r = 0; r < n; r++) {
      const cr = load<f32>(c + (<usize>r << 2)), rk = load<f32>(resp + ((<usize>r * K + k) << 2));
      dl += <f64>cr * (pi - <f64>rk);
      const w = cr * rk;
      if (w == 0) continue;
      const zr = z + ((<usize>r * L) << 2);
      const vw = f32x4.splat(w);
      let j = 0;
      for (; j + 4 <= L; j += 4) {
        const o = <usize>j << 2;
        const d = f32x4.sub(v128.load(zr + o), v128.load(mu + o));
        const di = f32x4.mul(d, v128.load(iv + o));
        v128.store(dmu + o, f32x4.sub(v128.load(dmu + o), f32x4.mul(vw, di)));
        v128.store(dlv + o, f32x4.sub(v128.load(dlv + o), f32x4.mul(vw, f32x4.mul(half, f32x4.sub(f32x4.mul(d, di), one)))));
      }
      for (; j < L; j++) {
        const o = <usize>j << 2;
        const d = load<f32>(zr + o) - load<f32>(mu + o);
        const di = d * load<f32>(iv + o);
        store<f32>(dmu + o, load<f32>(dmu + o) - w * di);
        store<f32>(dlv + o, load<f32>(dlv + o) - w * (0.5 * (d * di - 1)));
      }
    }
    if (logits) store<f32>(dlogits + (<usize>k << 2), <f32>dl);
  }
}

// args: dmeans, dlogvars, dlogits, z, means, prep, ld, logits, resp, c, n, K, L
function paramTask(t: i32, _scratch: usize): i32 {
  paramComponents(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argPtr(4), argPtr(5), argInt(6), argPtr(7), argPtr(8), argPtr(9),
    rangeStart(t), rangeEnd(t), argInt(10), argInt(11), argInt(12));
  return 0;
}

/** Accumulates dz (n, L) += c_r·(−∂log p/∂z_r); writes dmeans and dlogvars
 *  (K rows at stride ld, like the components) and, when logits ≠ 0, dlogits
 *  (K): the gradients of Σ_r −c_r·log p(z_r). resp and prep are the
 *  forward's (same z and components). */
export function prior_mixture_logp_backward(dz: usize, dmeans: usize, dlogvars: usize, dlogits: usize,
                                            z: usize, means: usize, prep: usize, ld: i32, logits: usize,
                                            resp: usize, c: usize, n: i32, K: i32, L: i32): void {
  const work = <f64>n * <f64>K * <f64>L;
  if (!shouldSplit(work)) {
    dzRows(dz, z, means, prep, ld, resp, c, 0, n, K, L);
    paramComponents(dmeans, dlogvars, dlogits, z, means, prep, ld, logits, resp, c, 0, K, n, K, L);
    return;
  }
  setArg(0, <f64>dz); setArg(1, <f64>z); setArg(2, <f64>means); setArg(3, <f64>prep); setArg(4, ld);
  setArg(5, <f64>resp); setArg(6, <f64>c); setArg(7, K); setArg(8, L);
  parallelFor(dzTask, rangeTasks(n, 1));
  setArg(0, <f64>dmeans); setArg(1, <f64>dlogvars); setArg(2, <f64>dlogits); setArg(3, <f64>z); setArg(4, <f64>means);
  setArg(5, <f64>prep); setArg(6, ld); setArg(7, <f64>logits); setArg(8, <f64>resp); setArg(9, <f64>c);
  setArg(10, n); setArg(11, K); setArg(12, L);
  parallelFor(paramTask, rangeTasks(K, 1));
}
