// Float64 scalar references for every kernel: the single source of truth that
// the tests and the benchmarks both check against. Written for clarity, not
// speed; none of it calls the code under test.

export type Act = "identity" | "relu" | "leaky_relu" | "tanh" | "sigmoid" | "softplus" | "elu";

/** C (M,N) = op(A)·op(B) (+ C0) (+ bias), all row-major. */
export function gemmRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number,
  o: { transA?: boolean; transB?: boolean; c0?: ArrayLike<number>; bias?: ArrayLike<number> } = {}): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = o.c0 ? o.c0[i * N + j] : 0;
      if (o.bias) s += o.bias[j];
      for (let k = 0; k < K; k++) {
        const av = o.transA ? a[k * M + i] : a[i * K + k];
        const bv = o.transB ? b[j * K + k] : b[k * N + j];
        s += av * bv;
      }
      c[i * N + j] = s;
    }
  }
  return c;
}

export function actRef(x: number, act: Act, alpha = 0): number {
  switch (act) {
    case "identity": return x;
    case "relu": return x > 0 ? x : 0;
    case "leaky_relu": return x > 0 ? x : alpha * x;
    case "tanh": return Math.tanh(x);
    case "sigmoid": return 1 / (1 + Math.exp(-x));
    case "softplus": return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
    case "elu": return x > 0 ? x : alpha * Math.expm1(x);
  }
}

/** f'(x), from the input (the kernels use the output: an independent route). */
export function actDerivRef(x: number, act: Act, alpha = 0): number {
  switch (act) {
    case "identity": return 1;
    case "relu": return x > 0 ? 1 : 0;
    case "leaky_relu": return x > 0 ? 1 : alpha;
    case "tanh": return 1 - Math.tanh(x) ** 2;
    case "sigmoid": { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); }
    case "softplus": return 1 / (1 + Math.exp(-x));
    case "elu": return x > 0 ? 1 : alpha * Math.exp(x);
  }
}

export function klRef(h: ArrayLike<number>, B: number, L: number): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let j = 0; j < L; j++) {
      const mu = h[b * 2 * L + j], lv = h[b * 2 * L + L + j];
      s += Math.exp(lv) + mu * mu - 1 - lv;
    }
    out[b] = 0.5 * s;
  }
  return out;
}

export function bernoulliNllRef(logits: ArrayLike<number>, x: ArrayLike<number>, B: number, D: number): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let d = 0; d < D; d++) {
      const l = logits[b * D + d], t = x[b * D + d];
      // −[t·log σ(l) + (1−t)·log(1−σ(l))], written with log σ(l) = −softplus(−l)
      s += t * softplus(-l) + (1 - t) * softplus(l);
    }
    out[b] = s;
  }
  return out;
}

function softplus(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

export function gaussianNllRef(mean: ArrayLike<number>, x: ArrayLike<number>, B: number, D: number, sigma: number): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let d = 0; d < D; d++) {
      const r = x[b * D + d] - mean[b * D + d];
      s += -logNormalPdf(r, 0, Math.log(sigma));
    }
    out[b] = s;
  }
  return out;
}

/** log N(x; μ, σ) with s = log σ. */
export function logNormalPdf(x: number, mu: number, s: number): number {
  const r = (x - mu) / Math.exp(s);
  return -0.5 * r * r - s - 0.5 * Math.log(2 * Math.PI);
}

export function gaussianLearnedNllRef(out: ArrayLike<number>, x: ArrayLike<number>, B: number, D: number): Float64Array {
  const r = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += -logNormalPdf(x[b * D + d], out[b * 2 * D + d], out[b * 2 * D + D + d]);
    r[b] = s;
  }
  return r;
}

/** Kingma & Ba 2014, Algorithm 1, in float64, with PyTorch-style decoupled
 *  weight decay (θ ← θ − lr·λ·θ before the Adam step) when wd > 0. */
export function adamRef(theta: Float64Array, grads: Float64Array[], o: { lr: number; beta1: number; beta2: number; eps: number; wd: number }): Float64Array {
  const th = Float64Array.from(theta);
  const m = new Float64Array(th.length), v = new Float64Array(th.length);
  let t = 0;
  for (const g of grads) {
    t += 1;
    for (let i = 0; i < th.length; i++) {
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      const mhat = m[i] / (1 - o.beta1 ** t);
      const vhat = v[i] / (1 - o.beta2 ** t);
      th[i] -= o.lr * o.wd * th[i];
      th[i] -= o.lr * mhat / (Math.sqrt(vhat) + o.eps);
    }
  }
  return th;
}

/** A deterministic Float32Array of uniforms in [lo, hi) (mulberry32). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}
