// The categorical latent: N variables of K classes each, relaxed by the
// Gumbel-softmax (concrete) distribution (Jang, Gu & Poole 2017; Maddison,
// Mnih & Teh 2017). Per row the encoder head h holds N·K logits l (variable n
// in columns [n·K, (n+1)·K)); q_nk = softmax(l_n)_k. Sample rows are b·S + s.
//   noise     g = −log(−log u),  u uniform on (0, 1)             (Gumbel(0, 1))
//   relaxed   y_nk = softmax((l_n + g_n)/τ)_k                     (forward)
//   hard      z_n  = one_hot(argmax_k (l_nk + g_nk))              (Gumbel-max: an
//             exact draw from q; the straight-through forward)
//   backward  dl_nk += (1/τ)·y_nk·(dz_nk − Σ_j y_nj·dz_nj)        (softmax Jacobian;
//             straight-through uses it for the hard forward too)
//   KL        KL_b = Σ_n Σ_k q_nk·(log q_nk + log K)              (q ‖ uniform)
//   dKL       dl_nk = w·q_nk·(log q_nk − Σ_j q_nj·log q_nj)
//   log q     logq_r = Σ_n Σ_k z_rnk·log q_bnk                    (the discrete
//             posterior's log-mass of a one-hot z)
//   concrete  the relaxed sample's log density under q and under the uniform
//             prior, and their gradients (the last section: IWAE training)
// Every sum is f64 in index order; rows split across threads (parallelFor),
// each row computed by one thread with the one-thread loop, so results do not
// depend on the thread count. Not here: the uniform draws (rng.ts).

import { arg, argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

/** In place: u (n) uniforms on [0, 1) in steps of 2⁻²⁴ (rng_uniform) →
 *  g = −log(−log(u + 2⁻²⁵)) (the bin's centre: finite at u = 0 and below 1). */
export function gumbel_from_uniform(g: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const u = <f64>load<f32>(g + o) + 2.98023223876953125e-8;
    store<f32>(g + o, <f32>(-Math.log(-Math.log(u))));
  }
}

// ---- sampler

// Rows b0..b1-1 (of h; their S sample rows each) of the forward.
function sampleRows(z: usize, h: usize, eps: usize, b0: i32, b1: i32, S: i32, N: i32, K: i32, invTau: f64, hard: i32): void {
  const W = N * K;
  for (let b = b0; b < b1; b++) {
    const hr = h + ((<usize>b * W) << 2);
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s;
      const zr = z + ((r * W) << 2), er = eps + ((r * W) << 2);
      for (let n = 0; n < N; n++) {
        const o0 = <usize>(n * K) << 2;
        let m = -Infinity, at = 0;
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          const a = <f64>load<f32>(hr + o) + <f64>load<f32>(er + o);
          if (a > m) { m = a; at = k; }
        }
        if (hard) {
          for (let k = 0; k < K; k++) store<f32>(zr + o0 + (<usize>k << 2), k == at ? 1 : 0);
          continue;
        }
        let sum: f64 = 0;
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          sum += Math.exp((<f64>load<f32>(hr + o) + <f64>load<f32>(er + o) - m) * invTau);
        }
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          store<f32>(zr + o, <f32>(Math.exp((<f64>load<f32>(hr + o) + <f64>load<f32>(er + o) - m) * invTau) / sum));
        }
      }
    }
  }
}

// args: z, h, eps, S, N, K, invTau, hard
function sampleTask(t: i32, _scratch: usize): i32 {
  sampleRows(argPtr(0), argPtr(1), argPtr(2), rangeStart(t), rangeEnd(t), argInt(3), argInt(4), argInt(5), arg(6), argInt(7));
  return 0;
}

/** Writes z (B·S, N·K) from the logits h (B, N·K) and Gumbel noise eps
 *  (B·S, N·K): the relaxed sample softmax((l + g)/τ) per variable, or with
 *  `hard` the one-hot argmax of l + g. */
export function categorical_sample_forward(z: usize, h: usize, eps: usize, B: i32, S: i32, N: i32, K: i32, tau: f64, hard: i32): void {
  if (!shouldSplit(<f64>B * <f64>S * <f64>N * <f64>K * 32)) {
    sampleRows(z, h, eps, 0, B, S, N, K, 1 / tau, hard);
    return;
  }
  setArg(0, <f64>z); setArg(1, <f64>h); setArg(2, <f64>eps);
  setArg(3, S); setArg(4, N); setArg(5, K); setArg(6, 1 / tau); setArg(7, hard);
  parallelFor(sampleTask, rangeTasks(B, 1));
}

// Rows b0..b1-1 of the backward: recomputes y per sample row, then
// dl += (1/τ)·y·(dz − ⟨y, dz⟩), s in order.
function sampleBackRows(dh: usize, dz: usize, h: usize, eps: usize, b0: i32, b1: i32, S: i32, N: i32, K: i32, invTau: f64): void {
  const W = N * K;
  for (let b = b0; b < b1; b++) {
    const hr = h + ((<usize>b * W) << 2), dhr = dh + ((<usize>b * W) << 2);
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s;
      const dzr = dz + ((r * W) << 2), er = eps + ((r * W) << 2);
      for (let n = 0; n < N; n++) {
        const o0 = <usize>(n * K) << 2;
        let m = -Infinity;
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          const a = <f64>load<f32>(hr + o) + <f64>load<f32>(er + o);
          if (a > m) m = a;
        }
        let sum: f64 = 0, yd: f64 = 0;
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          const e = Math.exp((<f64>load<f32>(hr + o) + <f64>load<f32>(er + o) - m) * invTau);
          sum += e;
          yd += e * <f64>load<f32>(dzr + o);
        }
        yd /= sum; // ⟨y, dz⟩
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          const y = Math.exp((<f64>load<f32>(hr + o) + <f64>load<f32>(er + o) - m) * invTau) / sum;
          store<f32>(dhr + o, load<f32>(dhr + o) + <f32>(invTau * y * (<f64>load<f32>(dzr + o) - yd)));
        }
      }
    }
  }
}

// args: dh, dz, h, eps, S, N, K, invTau
function sampleBackTask(t: i32, _scratch: usize): i32 {
  sampleBackRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), rangeStart(t), rangeEnd(t), argInt(4), argInt(5), argInt(6), arg(7));
  return 0;
}

/** Accumulates into dh (B, N·K) the gradient through the relaxed sample
 *  from dz (B·S, N·K), given h (B, N·K) and eps (B·S, N·K). */
export function categorical_sample_backward(dh: usize, dz: usize, h: usize, eps: usize, B: i32, S: i32, N: i32, K: i32, tau: f64): void {
  if (!shouldSplit(<f64>B * <f64>S * <f64>N * <f64>K * 48)) {
    sampleBackRows(dh, dz, h, eps, 0, B, S, N, K, 1 / tau);
    return;
  }
  setArg(0, <f64>dh); setArg(1, <f64>dz); setArg(2, <f64>h); setArg(3, <f64>eps);
  setArg(4, S); setArg(5, N); setArg(6, K); setArg(7, 1 / tau);
  parallelFor(sampleBackTask, rangeTasks(B, 1));
}

// ---- KL to the uniform prior, and log q of one-hot codes

// log Σ_k exp(l_k) of one variable's logits at p (K), f64.
// @ts-ignore: decorator
@inline function logSumExp(p: usize, K: i32): f64 {
  let m = -Infinity;
  for (let k = 0; k < K; k++) { const v = <f64>load<f32>(p + (<usize>k << 2)); if (v > m) m = v; }
  let s: f64 = 0;
  for (let k = 0; k < K; k++) s += Math.exp(<f64>load<f32>(p + (<usize>k << 2)) - m);
  return m + Math.log(s);
}

// mode 0: kl[b] forward; mode 1: dh = w·∂KL/∂h (written).
function klRows(out: usize, h: usize, b0: i32, b1: i32, N: i32, K: i32, w: f64, mode: i32): void {
  const W = N * K, logK = Math.log(<f64>K);
  for (let b = b0; b < b1; b++) {
    const hr = h + ((<usize>b * W) << 2);
    let kl: f64 = 0;
    for (let n = 0; n < N; n++) {
      const p = hr + ((<usize>n * K) << 2);
      const lse = logSumExp(p, K);
      let qlq: f64 = 0; // Σ_k q_k·log q_k
      for (let k = 0; k < K; k++) {
        const lq = <f64>load<f32>(p + (<usize>k << 2)) - lse;
        qlq += Math.exp(lq) * lq;
      }
      if (mode == 0) { kl += qlq + logK; continue; }
      const dp = out + ((<usize>(b * W + n * K)) << 2);
      for (let k = 0; k < K; k++) {
        const lq = <f64>load<f32>(p + (<usize>k << 2)) - lse;
        store<f32>(dp + (<usize>k << 2), <f32>(w * Math.exp(lq) * (lq - qlq)));
      }
    }
    if (mode == 0) store<f32>(out + (<usize>b << 2), <f32>kl);
  }
}

// args: out, h, N, K, w, mode
function klTask(t: i32, _scratch: usize): i32 {
  klRows(argPtr(0), argPtr(1), rangeStart(t), rangeEnd(t), argInt(2), argInt(3), arg(4), argInt(5));
  return 0;
}

function kl(out: usize, h: usize, B: i32, N: i32, K: i32, w: f64, mode: i32): void {
  if (!shouldSplit(<f64>B * <f64>N * <f64>K * 48)) {
    klRows(out, h, 0, B, N, K, w, mode);
    return;
  }
  setArg(0, <f64>out); setArg(1, <f64>h); setArg(2, N); setArg(3, K); setArg(4, w); setArg(5, mode);
  parallelFor(klTask, rangeTasks(B, 1));
}

/** Writes kl (B) = Σ_n KL(q_n ‖ uniform over K) from the logits h (B, N·K). */
export function categorical_kl_forward(kl_: usize, h: usize, B: i32, N: i32, K: i32): void {
  kl(kl_, h, B, N, K, 0, 0);
}

/** Writes dh (B, N·K) = w·∂KL/∂h. */
export function categorical_kl_backward(dh: usize, h: usize, B: i32, N: i32, K: i32, w: f32): void {
  kl(dh, h, B, N, K, <f64>w, 1);
}

/** Writes logq (B·S) = Σ_n Σ_k z_nk·log q_nk for codes z (B·S, N·K) (one-hot:
 *  the discrete posterior's log-mass) and logits h (B, N·K). */
export function categorical_logq_forward(logq: usize, h: usize, z: usize, B: i32, S: i32, N: i32, K: i32): void {
  const W = N * K;
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * W) << 2);
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s, zr = z + ((r * W) << 2);
      let v: f64 = 0;
      for (let n = 0; n < N; n++) {
        const p = hr + ((<usize>n * K) << 2);
        const lse = logSumExp(p, K);
        for (let k = 0; k < K; k++) {
          const o = <usize>(n * K + k) << 2;
          const zk = <f64>load<f32>(zr + o);
          if (zk != 0) v += zk * (<f64>load<f32>(hr + o) - lse);
        }
      }
      store<f32>(logq + (r << 2), <f32>v);
    }
  }
}

// ---- the relaxed (concrete) density, for importance-weighted training
//
// The concrete density of Maddison, Mnih & Teh (2017), per variable of K
// classes at temperature τ with location α:
//   log p(y) = log Γ(K) + (K−1)·log τ + Σ_k log α_k − (τ+1)·Σ_k log y_k − K·log Σ_k α_k·y_k^(−τ).
// The sample is y = softmax(v/τ), v = l + g, so with M = LSE_k(v_k/τ) (log y_k = v_k/τ − M)
// it reduces, exactly, to functions of l and g that never form log y_k:
//   posterior (α = e^l):  log q = c_K − (1/τ)·Σ l_k − ((τ+1)/τ)·Σ g_k + K·M − K·LSE_k(−g_k)
//   uniform prior (α = 1): log p = c_K − ((τ+1)/τ)·Σ v_k + K·M − K·LSE_k(−v_k)
// with c_K = log Γ(K) + (K−1)·log τ (passed in). Their total derivatives in l
// (g fixed: the reparameterized sample moves with l), with y = softmax(v/τ):
//   ∂log q/∂l_k = (K·y_k − 1)/τ
//   ∂log p/∂l_k = (K·y_k − τ − 1)/τ + K·softmax(−v)_k
// written straight into dh (the sample's Jacobian folded in: going through
// dz would divide by y_k, which underflows). Sums f64 in index order; rows
// b split across threads, each b's S sample rows in order by one thread.

// mode 0: out[r] = log density (uniform: 0 posterior, 1 prior);
// mode 1: dh[b] += w·Σ_s c_r·∂/∂l (w = +1 for log q, −1 for log p).
function concreteRows(out: usize, h: usize, eps: usize, c: usize, b0: i32, b1: i32, S: i32, N: i32, K: i32,
                      tau: f64, cK: f64, uniform: i32, mode: i32, w: f64): void {
  const W = N * K, invTau = 1 / tau, fK = <f64>K;
  for (let b = b0; b < b1; b++) {
    const hr = h + ((<usize>b * W) << 2);
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s, er = eps + ((r * W) << 2);
      const cr = mode == 1 ? w * <f64>load<f32>(c + (r << 2)) : 0;
      let total: f64 = 0;
      for (let n = 0; n < N; n++) {
        const o0 = <usize>(n * K) << 2;
        // maxima of v/τ and of −v (or −g) for the two log-sum-exps
        let m1 = -Infinity, m2 = -Infinity;
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          const l = <f64>load<f32>(hr + o), g = <f64>load<f32>(er + o), v = l + g;
          if (v * invTau > m1) m1 = v * invTau;
          const a = uniform ? -v : -g;
          if (a > m2) m2 = a;
        }
        let s1: f64 = 0, s2: f64 = 0, sl: f64 = 0, sg: f64 = 0;
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          const l = <f64>load<f32>(hr + o), g = <f64>load<f32>(er + o), v = l + g;
          s1 += Math.exp(v * invTau - m1);
          s2 += Math.exp((uniform ? -v : -g) - m2);
          sl += l; sg += g;
        }
        if (mode == 0) {
          const M = m1 + Math.log(s1), L2 = m2 + Math.log(s2);
          total += uniform
            ? cK - (tau + 1) * invTau * (sl + sg) + fK * M - fK * L2
            : cK - invTau * sl - (tau + 1) * invTau * sg + fK * M - fK * L2;
          continue;
        }
        const dr = out + ((<usize>b * W) << 2);
        for (let k = 0; k < K; k++) {
          const o = o0 + (<usize>k << 2);
          const l = <f64>load<f32>(hr + o), g = <f64>load<f32>(er + o), v = l + g;
          const y = Math.exp(v * invTau - m1) / s1;
          const d = uniform
            ? (fK * y - tau - 1) * invTau + fK * Math.exp(-v - m2) / s2
            : (fK * y - 1) * invTau;
          store<f32>(dr + o, load<f32>(dr + o) + <f32>(cr * d));
        }
      }
      if (mode == 0) store<f32>(out + (r << 2), <f32>total);
    }
  }
}

// args: out, h, eps, c, S, N, K, tau, cK, uniform, mode, w
function concreteTask(t: i32, _scratch: usize): i32 {
  concreteRows(argPtr(0), argPtr(1), argPtr(2), argPtr(3), rangeStart(t), rangeEnd(t), argInt(4), argInt(5), argInt(6),
               arg(7), arg(8), argInt(9), argInt(10), arg(11));
  return 0;
}

function concrete(out: usize, h: usize, eps: usize, c: usize, B: i32, S: i32, N: i32, K: i32, tau: f64, cK: f64, uniform: i32, mode: i32, w: f64): void {
  if (!shouldSplit(<f64>B * <f64>S * <f64>N * <f64>K * 64)) {
    concreteRows(out, h, eps, c, 0, B, S, N, K, tau, cK, uniform, mode, w);
    return;
  }
  setArg(0, <f64>out); setArg(1, <f64>h); setArg(2, <f64>eps); setArg(3, <f64>c);
  setArg(4, S); setArg(5, N); setArg(6, K); setArg(7, tau); setArg(8, cK); setArg(9, uniform); setArg(10, mode); setArg(11, w);
  parallelFor(concreteTask, rangeTasks(B, 1));
}

/** Writes out (B·S) = Σ_n log density of the relaxed sample y = softmax((l + g)/τ)
 *  of sample row b·S + s (logits h (B, N·K), Gumbel noise eps (B·S, N·K)):
 *  under the posterior concrete(α = e^l, τ) (uniform = 0) or the uniform
 *  prior's concrete(α = 1, τ) (uniform = 1); cK = log Γ(K) + (K−1)·log τ. */
export function concrete_log_density_forward(out: usize, h: usize, eps: usize, B: i32, S: i32, N: i32, K: i32, tau: f64, cK: f64, uniform: i32): void {
  concrete(out, h, eps, 0, B, S, N, K, tau, cK, uniform, 0, 0);
}

/** dh (B, N·K) += w·Σ_s c_r·∂(log density_r)/∂l, the total derivative through
 *  the reparameterized sample (c (B·S); w = 1 for log q, −1 for log p). */
export function concrete_log_density_backward(dh: usize, h: usize, eps: usize, c: usize, B: i32, S: i32, N: i32, K: i32, tau: f64, uniform: i32, w: f64): void {
  concrete(dh, h, eps, c, B, S, N, K, tau, 0, uniform, 1, w);
}
