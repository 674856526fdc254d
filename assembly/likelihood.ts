// Per-example negative log-likelihoods −log p(x|z) of the decoder output,
// summed over the D dimensions (f64, index order), and their gradients
// scaled by a weight w (the host passes 1/B for a batch mean).
//
// Bernoulli on logits l (stable form):
//   nll = Σ max(l,0) − l·x + log1p(e^(−|l|))        dl = w·(σ(l) − x)
// Gaussian, fixed σ:
//   nll = Σ (x−μ)²/(2σ²) + log σ + ½log 2π           dμ = w·(μ − x)/σ²
// Gaussian, learned s = log σ; out (B, 2D) rows are [μ (D) | s (D)]:
//   nll = Σ ½(x−μ)²·e^(−2s) + s + ½log 2π
//   dμ = w·(μ − x)·e^(−2s)                          ds = w·(1 − (x−μ)²·e^(−2s))

import { exp4, log1p01x4 } from "./simd";
import { arg, argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

const HALF_LOG_2PI: f64 = 0.9189385332046727;

// The Bernoulli term of four logits vl with targets vx (e = e^(−|l|)).
// @ts-ignore: decorator
@inline function bernoulliTerm(vl: v128, vx: v128, e: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.max(vl, f32x4.splat(0)), f32x4.mul(vl, vx)), log1p01x4(e));
}

// dl = w·(σ(l) − x) for four logits (e = e^(−|l|)).
// @ts-ignore: decorator
@inline function bernoulliGrad(vl: v128, vx: v128, e: v128, vw: v128): v128 {
  const one = f32x4.splat(1);
  const r = f32x4.div(one, f32x4.add(one, e));
  const p = v128.bitselect(r, f32x4.mul(e, r), f32x4.ge(vl, f32x4.splat(0)));
  return f32x4.mul(vw, f32x4.sub(p, vx));
}

// One row of the Bernoulli term: returns Σ_d nll and, when `grad`, writes
// dl = w·(σ(l) − x). With e = e^(−|l|): softplus part log1p(e),
// σ(l) = 1/(1+e) for l ≥ 0 and e/(1+e) otherwise. The sum runs in two f64x2
// accumulators (lo: d ≡ 0, 1 mod 4; hi: d ≡ 2, 3) that take the vectors in d
// order. The main loop takes eight vectors per trip: the exp/log1p chain of
// one vector is ~40 dependent operations, so one vector per trip left the
// core waiting on latency (1.7–2.4× the CPU time, bench/results/step-kernels-ab.md);
// it adds the eight terms in d order, so the bits are those of one vector per trip.
// One copy of this loop in the module (called from one place: eight vectors
// of exp and log1p inlined twice would add ~6 KB to each build).
function bernoulliRow(dl: usize, l: usize, x: usize, D: i32, w: f32, grad: bool): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  const vw = f32x4.splat(w);
  let d = 0;
  for (; d + 32 <= D; d += 32) {
    const o = <usize>d << 2;
    const vl0 = v128.load(l + o, 0), vl1 = v128.load(l + o, 16);
    const vl2 = v128.load(l + o, 32), vl3 = v128.load(l + o, 48);
    const vl4 = v128.load(l + o, 64), vl5 = v128.load(l + o, 80);
    const vl6 = v128.load(l + o, 96), vl7 = v128.load(l + o, 112);
    const vx0 = v128.load(x + o, 0), vx1 = v128.load(x + o, 16);
    const vx2 = v128.load(x + o, 32), vx3 = v128.load(x + o, 48);
    const vx4 = v128.load(x + o, 64), vx5 = v128.load(x + o, 80);
    const vx6 = v128.load(x + o, 96), vx7 = v128.load(x + o, 112);
    const e0 = exp4(f32x4.neg(f32x4.abs(vl0))), e1 = exp4(f32x4.neg(f32x4.abs(vl1)));
    const e2 = exp4(f32x4.neg(f32x4.abs(vl2))), e3 = exp4(f32x4.neg(f32x4.abs(vl3)));
    const e4 = exp4(f32x4.neg(f32x4.abs(vl4))), e5 = exp4(f32x4.neg(f32x4.abs(vl5)));
    const e6 = exp4(f32x4.neg(f32x4.abs(vl6))), e7 = exp4(f32x4.neg(f32x4.abs(vl7)));
    const t0 = bernoulliTerm(vl0, vx0, e0), t1 = bernoulliTerm(vl1, vx1, e1);
    const t2 = bernoulliTerm(vl2, vx2, e2), t3 = bernoulliTerm(vl3, vx3, e3);
    const t4 = bernoulliTerm(vl4, vx4, e4), t5 = bernoulliTerm(vl5, vx5, e5);
    const t6 = bernoulliTerm(vl6, vx6, e6), t7 = bernoulliTerm(vl7, vx7, e7);
    // in d order, as the one-vector loop adds them
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t0)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t0, t0, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t1)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t1, t1, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t2)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t2, t2, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t3)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t3, t3, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t4)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t4, t4, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t5)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t5, t5, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t6)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t6, t6, 2, 3, 0, 1)));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(t7)); hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(t7, t7, 2, 3, 0, 1)));
    if (grad) {
      v128.store(dl + o, bernoulliGrad(vl0, vx0, e0, vw), 0); v128.store(dl + o, bernoulliGrad(vl1, vx1, e1, vw), 16);
      v128.store(dl + o, bernoulliGrad(vl2, vx2, e2, vw), 32); v128.store(dl + o, bernoulliGrad(vl3, vx3, e3, vw), 48);
      v128.store(dl + o, bernoulliGrad(vl4, vx4, e4, vw), 64); v128.store(dl + o, bernoulliGrad(vl5, vx5, e5, vw), 80);
      v128.store(dl + o, bernoulliGrad(vl6, vx6, e6, vw), 96); v128.store(dl + o, bernoulliGrad(vl7, vx7, e7, vw), 112);
    }
  }
  for (; d + 4 <= D; d += 4) {
    const o = <usize>d << 2;
    const vl = v128.load(l + o);
    const vx = v128.load(x + o);
    const e = exp4(f32x4.neg(f32x4.abs(vl)));
    const term = bernoulliTerm(vl, vx, e);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(term));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(term, term, 2, 3, 0, 1)));
    if (grad) v128.store(dl + o, bernoulliGrad(vl, vx, e, vw));
  }
  let s = (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) +
          (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (; d < D; d++) {
    const o = <usize>d << 2;
    const vl = load<f32>(l + o);
    const t = load<f32>(x + o);
    const e = Mathf.exp(-Mathf.abs(vl));
    s += <f64>(max<f32>(vl, 0) - vl * t + Mathf.log1p(e));
    if (grad) {
      const p: f32 = vl >= 0 ? 1 / (1 + e) : e / (1 + e);
      store<f32>(dl + o, w * (p - t));
    }
  }
  return s;
}

// Threads: the Bernoulli kernels split by rows (each row's sum is one thread's).
// args: nll, dlogits, logits, x, D, w, grad
function bernoulliTask(t: i32, _scratch: usize): i32 {
  bernoulliRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), rangeStart(t), rangeEnd(t), argInt(4), <f32>arg(5), argInt(6));
  return 0;
}

// nll[b] (unless nll == 0) and, with grad, dlogits[b, :] for rows b0..b1-1.
function bernoulliRows(nll: usize, dlogits: usize, logits: usize, x: usize, b0: i32, b1: i32, D: i32, w: f32, grad: i32): void {
  for (let b = b0; b < b1; b++) {
    const o = (<usize>b * D) << 2;
    const s = <f32>bernoulliRow(grad ? dlogits + o : 0, logits + o, x + o, D, w, grad != 0);
    if (nll) store<f32>(nll + (<usize>b << 2), s);
  }
}

function bernoulli(nll: usize, dlogits: usize, logits: usize, x: usize, B: i32, D: i32, w: f32, grad: i32): void {
  if (!shouldSplit(<f64>B * <f64>D * 16)) {
    bernoulliRows(nll, dlogits, logits, x, 0, B, D, w, grad);
    return;
  }
  setArg(0, <f64>nll); setArg(1, <f64>dlogits); setArg(2, <f64>logits); setArg(3, <f64>x);
  setArg(4, D); setArg(5, w); setArg(6, grad);
  parallelFor(bernoulliTask, rangeTasks(B, 1));
}

/** Writes nll (B) from logits (B, D) and targets x (B, D) in [0, 1]. */
export function bernoulli_nll_forward(nll: usize, logits: usize, x: usize, B: i32, D: i32): void {
  bernoulli(nll, 0, logits, x, B, D, 0, 0);
}

/** Writes dlogits (B, D) = w·(σ(l) − x). */
export function bernoulli_nll_backward(dlogits: usize, logits: usize, x: usize, B: i32, D: i32, w: f32): void {
  bernoulli(0, dlogits, logits, x, B, D, w, 1);
}

/** Both at once (one exp per element): writes nll (B) and dlogits (B, D). */
export function bernoulli_nll_forward_backward(nll: usize, dlogits: usize, logits: usize, x: usize,
                                               B: i32, D: i32, w: f32): void {
  bernoulli(nll, dlogits, logits, x, B, D, w, 1);
}

/** Writes nll (B) for means (B, D), targets x (B, D) and a fixed σ > 0. */
export function gaussian_nll_forward(nll: usize, mean: usize, x: usize, B: i32, D: i32, sigma: f32): void {
  const inv2s2: f64 = 0.5 / (<f64>sigma * <f64>sigma);
  const c: f64 = <f64>D * (Math.log(<f64>sigma) + HALF_LOG_2PI);
  for (let b = 0; b < B; b++) {
    const base = <usize>b * D;
    let s: f64 = 0;
    for (let d = 0; d < D; d++) {
      const o = (base + d) << 2;
      const r = <f64>(load<f32>(x + o) - load<f32>(mean + o));
      s += r * r;
    }
    store<f32>(nll + (<usize>b << 2), <f32>(s * inv2s2 + c));
  }
}

/** Writes dmean (B, D) = w·(μ − x)/σ². */
export function gaussian_nll_backward(dmean: usize, mean: usize, x: usize, B: i32, D: i32, sigma: f32, w: f32): void {
  const n = <usize>B * D;
  const k = f32x4.splat(w / (sigma * sigma));
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    v128.store(dmean + o, f32x4.mul(k, f32x4.sub(v128.load(mean + o), v128.load(x + o))));
  }
  const ks = w / (sigma * sigma);
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(dmean + o, ks * (load<f32>(mean + o) - load<f32>(x + o)));
  }
}

/** Writes nll (B) for out (B, 2D) rows [μ | log σ] and targets x (B, D). */
export function gaussian_learned_nll_forward(nll: usize, out: usize, x: usize, B: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    const orow = out + ((<usize>b * 2 * D) << 2);
    const xrow = x + ((<usize>b * D) << 2);
    let s: f64 = 0;
    for (let d = 0; d < D; d++) {
      const o = <usize>d << 2;
      const mu = <f64>load<f32>(orow + o);
      const ls = <f64>load<f32>(orow + o + (<usize>D << 2));
      const r = <f64>load<f32>(xrow + o) - mu;
      s += 0.5 * r * r * Math.exp(-2.0 * ls) + ls + HALF_LOG_2PI;
    }
    store<f32>(nll + (<usize>b << 2), <f32>s);
  }
}

/** Writes dout (B, 2D): [w·(μ − x)·e^(−2s) | w·(1 − (x−μ)²·e^(−2s))]. */
export function gaussian_learned_nll_backward(dout: usize, out: usize, x: usize, B: i32, D: i32, w: f32): void {
  for (let b = 0; b < B; b++) {
    const orow = out + ((<usize>b * 2 * D) << 2);
    const drow = dout + ((<usize>b * 2 * D) << 2);
    const xrow = x + ((<usize>b * D) << 2);
    const so = <usize>D << 2;
    for (let d = 0; d < D; d++) {
      const o = <usize>d << 2;
      const mu = load<f32>(orow + o);
      const ip = Mathf.exp(-2 * load<f32>(orow + o + so));
      const r = mu - load<f32>(xrow + o);
      store<f32>(drow + o, w * r * ip);
      store<f32>(drow + o + so, w * (1 - r * r * ip));
    }
  }
}
