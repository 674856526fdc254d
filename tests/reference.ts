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
  return adamRefState(theta, grads, o).theta;
}

/** adamRef, also returning the moments m and v after the last step. */
export function adamRefState(theta: ArrayLike<number>, grads: ArrayLike<number>[],
  o: { lr: number; beta1: number; beta2: number; eps: number; wd: number }): { theta: Float64Array; m: Float64Array; v: Float64Array } {
  const th = Float64Array.from(theta);
  // m₀ ← 0, v₀ ← 0, t ← 0
  const m = new Float64Array(th.length), v = new Float64Array(th.length);
  let t = 0;
  for (const g of grads) {
    t += 1;
    for (let i = 0; i < th.length; i++) {
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];          // biased first moment
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];   // biased second raw moment
      const mhat = m[i] / (1 - o.beta1 ** t);                 // bias-corrected
      const vhat = v[i] / (1 - o.beta2 ** t);
      th[i] -= o.lr * o.wd * th[i];                           // decoupled decay (AdamW)
      th[i] -= o.lr * mhat / (Math.sqrt(vhat) + o.eps);
    }
  }
  return { theta: th, m, v };
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

// ---- Additions for the kernel tests (issue 2). ----

/** Standard normals (n) from mulberry32 by Box–Muller, in float64: an RNG
 *  independent of the kernels' xoshiro128** for Monte-Carlo checks. */
export function randomNormals(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const next = (): number => {          // mulberry32, as in randomArray, as a u32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = (next() + 1) / 4294967296;    // (0, 1]
    const u2 = next() / 4294967296;          // [0, 1)
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Dense layer forward: pre (B,OUT) = x (B,IN)·w (IN,OUT) + b (OUT), y = act(pre). */
export function denseForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>,
  B: number, IN: number, OUT: number, act: Act, alpha = 0): { pre: Float64Array; y: Float64Array } {
  const pre = gemmRef(x, w, B, IN, OUT, { bias: b });
  return { pre, y: pre.map((v) => actRef(v, act, alpha)) };
}

/** Dense layer backward from the chain rule, with g = dy ⊙ act'(pre):
 *  dx = g·wᵀ, dw = xᵀ·g, db = Σ_b g. Derivatives from the input pre-activation. */
export function denseBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>,
  pre: ArrayLike<number>, B: number, IN: number, OUT: number, act: Act, alpha = 0):
  { g: Float64Array; dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const g = new Float64Array(B * OUT);
  for (let i = 0; i < B * OUT; i++) g[i] = dy[i] * actDerivRef(pre[i], act, alpha);
  const dx = gemmRef(g, w, B, OUT, IN, { transB: true });
  const dw = gemmRef(x, g, IN, B, OUT, { transA: true });
  const db = new Float64Array(OUT);
  for (let r = 0; r < B; r++) for (let j = 0; j < OUT; j++) db[j] += g[r * OUT + j];
  return { g, dx, dw, db };
}

/** Reparameterized sample z (B,L) = μ + exp(½·logvar)·ε from h (B,2L) rows [μ | logvar]. */
export function sampleRef(h: ArrayLike<number>, eps: ArrayLike<number>, B: number, L: number): Float64Array {
  const z = new Float64Array(B * L);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < L; j++) {
      z[b * L + j] = h[b * 2 * L + j] + Math.exp(0.5 * h[b * 2 * L + L + j]) * eps[b * L + j];
    }
  }
  return z;
}

/** Φ(x), the standard normal CDF, from erfc (Numerical Recipes' erfcc,
 *  fractional error < 1.2e-7 everywhere). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 +
    t * 0.17087277)))))))));
  // erfc(−x/√2)/2: erfc(−z) = 2 − erfc(z)
  return x >= 0 ? 1 - 0.5 * r : 0.5 * r;
}

const U64 = (1n << 64n) - 1n;

/** The xoshiro128** state (4 × u32) that a 64-bit seed expands to: two
 *  splitmix64 outputs, low word first (Vigna's reference C code). */
export function rngSeedRef(seed: bigint): Uint32Array {
  const s = new Uint32Array(4);
  let x = seed & U64;
  for (let i = 0; i < 2; i++) {
    x = (x + 0x9e3779b97f4a7c15n) & U64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & U64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & U64;
    z ^= z >> 31n;
    s[2 * i] = Number(z & 0xffffffffn);
    s[2 * i + 1] = Number(z >> 32n);
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

/** The state elbo and logLikelihood start their draws from on every call:
 *  the evaluation stream of a new model with this seed (the 64-bit seed with
 *  its top bit flipped, expanded by rngSeedRef). */
export function evalStreamRef(seed: number): Uint32Array {
  return rngSeedRef(BigInt(seed) ^ (1n << 63n));
}

/** First outputs of splitmix64 from x = seed (for checking rngSeedRef itself). */
export function splitmix64Ref(seed: bigint, n: number): bigint[] {
  const out: bigint[] = [];
  let x = seed & U64;
  for (let i = 0; i < n; i++) {
    x = (x + 0x9e3779b97f4a7c15n) & U64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & U64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & U64;
    out.push(z ^ (z >> 31n));
  }
  return out;
}

function rotl32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** One xoshiro128** step (Blackman & Vigna 2018): returns the next u32 and
 *  updates s (4 × u32) in place. */
export function xoshiro128ssNext(s: Uint32Array): number {
  const result = Math.imul(rotl32(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return result;
}

/** rng_uniform's contract: the top 24 bits of each draw, times 2⁻²⁴. */
export function rngUniformRef(s: Uint32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (xoshiro128ssNext(s) >>> 8) * 2 ** -24;
  return out;
}

/** rng_normal's contract: Box–Muller on u1 = (d + 1)·2⁻³² ∈ (0, 1] and
 *  u2 = d·2⁻³² ∈ [0, 1), two draws per pair; an odd n drops the last sine. */
export function rngNormalRef(s: Uint32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = (xoshiro128ssNext(s) + 1) * 2 ** -32;
    const u2 = xoshiro128ssNext(s) * 2 ** -32;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** C (M,N) = op(A)·op(B) (+ C0) (+ bias) in float32, summing k = 0..K−1 in
 *  order with every product and sum rounded to f32 (Math.fround), starting
 *  from C0, bias or 0: what the plain build's GEMM promises bit for bit.
 *  (f64 then f32 rounding of an f32 × f32 or f32 + f32 is correctly rounded:
 *  53 ≥ 2·24 + 2.) */
export function gemmF32SequentialRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number,
  o: { transA?: boolean; transB?: boolean; c0?: ArrayLike<number>; bias?: ArrayLike<number> } = {}): Float32Array {
  const f = Math.fround;
  const c = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = o.c0 ? f(o.c0[i * N + j]) : o.bias ? f(o.bias[j]) : 0;
      for (let k = 0; k < K; k++) {
        const av = o.transA ? a[k * M + i] : a[i * K + k];
        const bv = o.transB ? b[j * K + k] : b[k * N + j];
        s = f(s + f(av * bv));
      }
      c[i * N + j] = s;
    }
  }
  return c;
}

// ---- Additions for the model tests (issue 3). ----

/** Lower-triangular Cholesky factor L (n×n, row-major) of a symmetric
 *  positive-definite A (n×n, row-major), A = L·Lᵀ (Cholesky–Banachiewicz). */
export function choleskyRef(a: ArrayLike<number>, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`choleskyRef: matrix is not positive definite (pivot ${i} = ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/** log N(x; μ, Σ) in float64 for one x (n), mean (n) and covariance Σ (n×n,
 *  row-major), through the Cholesky factor: −½‖L⁻¹(x−μ)‖² − Σ log L_ii − (n/2)·log 2π. */
export function mvnLogPdfRef(x: ArrayLike<number>, mean: ArrayLike<number>, cov: ArrayLike<number>, n: number): number {
  const l = choleskyRef(cov, n);
  const y = new Float64Array(n); // forward substitution: L·y = x − μ
  let quad = 0, logdet = 0;
  for (let i = 0; i < n; i++) {
    let s = x[i] - mean[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
    quad += y[i] * y[i];
    logdet += Math.log(l[i * n + i]);
  }
  return -0.5 * quad - logdet - 0.5 * n * Math.log(2 * Math.PI);
}

/** What the VAE references need of a config (a ResolvedConfig fits). */
export interface VaeRefConfig {
  inputDim: number; conditionDim: number; latentDim: number; encoder: number[]; decoder: number[];
  activation: Act; activationAlpha: number; likelihood: "bernoulli" | "gaussian" | "gaussian_learned"; sigma: number;
}

/** Rows of `a` (width wa) with rows of `b` (width wb) appended: [a | b]. */
function concatRows(a: ArrayLike<number>, wa: number, b: ArrayLike<number> | undefined, wb: number, rows: number): Float64Array {
  const out = new Float64Array(rows * (wa + wb));
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < wa; j++) out[r * (wa + wb) + j] = a[r * wa + j];
    for (let j = 0; j < wb; j++) out[r * (wa + wb) + wa + j] = b![r * wb + j];
  }
  return out;
}

/** An MLP of dense layers `${prefix}.i` (weight (in, out) row-major), the
 *  activation on the hidden layers, identity on the last. */
function mlpRef(w: Record<string, ArrayLike<number>>, prefix: string, dims: number[], x: ArrayLike<number>, rows: number,
  act: Act, alpha: number): Float64Array {
  let h: ArrayLike<number> = x;
  for (let i = 0; i + 1 < dims.length; i++) {
    const last = i + 2 === dims.length;
    h = denseForwardRef(h, w[`${prefix}.${i}.weight`], w[`${prefix}.${i}.bias`], rows, dims[i], dims[i + 1], last ? "identity" : act, alpha).y;
  }
  return Float64Array.from(h);
}

/** q(z|x, c): rows × [μ (L) | log σ² (L)] from the encoder on [x | c]. */
export function vaeEncodeRef(w: Record<string, ArrayLike<number>>, c: VaeRefConfig, x: ArrayLike<number>,
  cond: ArrayLike<number> | undefined, rows: number): Float64Array {
  const dims = [c.inputDim + c.conditionDim, ...c.encoder, 2 * c.latentDim];
  return mlpRef(w, "encoder", dims, concatRows(x, c.inputDim, cond, c.conditionDim, rows), rows, c.activation, c.activationAlpha);
}

/** The decoder's output on [z | c]: rows × D logits (Bernoulli), means
 *  (Gaussian), or [means | log σ] (rows × 2D, gaussian_learned). */
export function vaeDecodeRef(w: Record<string, ArrayLike<number>>, c: VaeRefConfig, z: ArrayLike<number>,
  cond: ArrayLike<number> | undefined, rows: number): Float64Array {
  const out = c.likelihood === "gaussian_learned" ? 2 * c.inputDim : c.inputDim;
  const dims = [c.latentDim + c.conditionDim, ...c.decoder, out];
  return mlpRef(w, "decoder", dims, concatRows(z, c.latentDim, cond, c.conditionDim, rows), rows, c.activation, c.activationAlpha);
}

/** −log p(x|z) per row from the decoder output. */
export function vaeNllRef(c: VaeRefConfig, out: ArrayLike<number>, x: ArrayLike<number>, rows: number): Float64Array {
  if (c.likelihood === "bernoulli") return bernoulliNllRef(out, x, rows, c.inputDim);
  if (c.likelihood === "gaussian") return gaussianNllRef(out, x, rows, c.inputDim, c.sigma);
  return gaussianLearnedNllRef(out, x, rows, c.inputDim);
}

/** The single-sample-per-draw ELBO per row, averaged over the S draws in
 *  eps (S × rows × L, draw-major): elbo = −(mean nll + KL). */
export function vaeElboRef(w: Record<string, ArrayLike<number>>, c: VaeRefConfig, x: ArrayLike<number>,
  cond: ArrayLike<number> | undefined, eps: ArrayLike<number>, rows: number, S = 1):
  { elbo: Float64Array; reconstruction: Float64Array; kl: Float64Array } {
  const L = c.latentDim;
  const h = vaeEncodeRef(w, c, x, cond, rows);
  const kl = klRef(h, rows, L), rec = new Float64Array(rows);
  for (let s = 0; s < S; s++) {
    const z = sampleRef(h, Array.prototype.slice.call(eps, s * rows * L, (s + 1) * rows * L), rows, L);
    const nll = vaeNllRef(c, vaeDecodeRef(w, c, z, cond, rows), x, rows);
    for (let r = 0; r < rows; r++) rec[r] += nll[r] / S;
  }
  return { elbo: rec.map((v, r) => -(v + kl[r])), reconstruction: rec, kl };
}

/** The IWAE estimate of log p(x|c) per row (Burda et al. 2015) with a
 *  Gaussian q and the N(0, I) prior, from K draws per row in eps (rows × K ×
 *  L, row-major): log (1/K) Σ_s p(x|z_s)·N(z_s; 0, I)/q(z_s|x), z_s = μ + σ·ε_s,
 *  where log N(z; 0, I) − log q(z|x) = Σ_j −z_j²/2 + ε_j²/2 + log σ²_j/2. */
export function vaeIwaeRef(w: Record<string, ArrayLike<number>>, c: VaeRefConfig, x: ArrayLike<number>,
  cond: ArrayLike<number> | undefined, eps: ArrayLike<number>, rows: number, K: number): Float64Array {
  const L = c.latentDim, D = c.inputDim, C = c.conditionDim;
  const h = vaeEncodeRef(w, c, x, cond, rows), out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    // the row repeated K times: its head, target and condition
    const hr = new Float64Array(K * 2 * L), xr = new Float64Array(K * D), cr = C ? new Float64Array(K * C) : undefined;
    for (let s = 0; s < K; s++) {
      for (let j = 0; j < 2 * L; j++) hr[s * 2 * L + j] = h[r * 2 * L + j];
      for (let d = 0; d < D; d++) xr[s * D + d] = x[r * D + d];
      for (let j = 0; j < C; j++) cr![s * C + j] = cond![r * C + j];
    }
    const e = Array.prototype.slice.call(eps, r * K * L, (r + 1) * K * L) as number[];
    const z = sampleRef(hr, e, K, L);
    const nll = vaeNllRef(c, vaeDecodeRef(w, c, z, cr, K), xr, K);
    const lw = new Float64Array(K);
    for (let s = 0; s < K; s++) {
      lw[s] = -nll[s];
      for (let j = 0; j < L; j++) lw[s] += -0.5 * z[s * L + j] ** 2 + 0.5 * e[s * L + j] ** 2 + 0.5 * h[r * 2 * L + L + j];
    }
    const m = Math.max(...lw);
    out[r] = m + Math.log(lw.reduce((a, v) => a + Math.exp(v - m), 0) / K);
  }
  return out;
}

/** One convolution layer's sizes per image, with the pads of its conv2d side
 *  (the same fields as src/kernels/conv-shape.ts's ConvGeometry). */
export interface ConvRefShape {
  inH: number; inW: number; inC: number; outH: number; outW: number; outC: number;
  kh: number; kw: number; strideH: number; strideW: number; padTop: number; padLeft: number;
}

/** conv2d, NHWC, from the definition: y[n,oy,ox,co] = act(b[co] +
 *  Σ_{ty,tx,ci} x[n, oy·sh−pt+ty, ox·sw−pl+tx, ci]·w[ty,tx,ci,co]), x = 0
 *  outside the image; w (kh, kw, inC, outC). Returns the pre-activation too. */
export function conv2dRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, B: number,
  s: ConvRefShape, act: Act = "identity", alpha = 0): { y: Float64Array; pre: Float64Array } {
  const { inH, inW, inC, outH, outW, outC, kh, kw } = s;
  const pre = new Float64Array(B * outH * outW * outC);
  for (let n = 0; n < B; n++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let co = 0; co < outC; co++) {
          let acc = b[co];
          for (let ty = 0; ty < kh; ty++) {
            const iy = oy * s.strideH - s.padTop + ty;
            if (iy < 0 || iy >= inH) continue;
            for (let tx = 0; tx < kw; tx++) {
              const ix = ox * s.strideW - s.padLeft + tx;
              if (ix < 0 || ix >= inW) continue;
              for (let ci = 0; ci < inC; ci++) {
                acc += x[((n * inH + iy) * inW + ix) * inC + ci] * w[((ty * kw + tx) * inC + ci) * outC + co];
              }
            }
          }
          pre[((n * outH + oy) * outW + ox) * outC + co] = acc;
        }
      }
    }
  }
  return { y: pre.map((v) => actRef(v, act, alpha)), pre };
}

/** conv2d_transpose, NHWC, as a scatter (the definition): every input pixel
 *  (iy, ix) adds x[n,iy,ix,ci]·w[ty,tx,co,ci] to y[n, iy·sh−pt+ty, ix·sw−pl+tx, co]
 *  when that lies inside the output; then b and act. w (kh, kw, outC, inC). */
export function conv2dTransposeRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, B: number,
  s: ConvRefShape, act: Act = "identity", alpha = 0): { y: Float64Array; pre: Float64Array } {
  const { inH, inW, inC, outH, outW, outC, kh, kw } = s;
  const pre = new Float64Array(B * outH * outW * outC);
  for (let n = 0; n < B; n++) {
    for (let i = 0; i < outH * outW; i++) for (let co = 0; co < outC; co++) pre[(n * outH * outW + i) * outC + co] = b[co];
    for (let iy = 0; iy < inH; iy++) {
      for (let ix = 0; ix < inW; ix++) {
        for (let ty = 0; ty < kh; ty++) {
          const oy = iy * s.strideH - s.padTop + ty;
          if (oy < 0 || oy >= outH) continue;
          for (let tx = 0; tx < kw; tx++) {
            const ox = ix * s.strideW - s.padLeft + tx;
            if (ox < 0 || ox >= outW) continue;
            for (let co = 0; co < outC; co++) {
              let acc = 0;
              for (let ci = 0; ci < inC; ci++) {
                acc += x[((n * inH + iy) * inW + ix) * inC + ci] * w[((ty * kw + tx) * outC + co) * inC + ci];
              }
              pre[((n * outH + oy) * outW + ox) * outC + co] += acc;
            }
          }
        }
      }
    }
  }
  return { y: pre.map((v) => actRef(v, act, alpha)), pre };
}

/** Gradients of L = Σ g ⊙ pre for conv2d (transpose = false) or
 *  conv2d_transpose, from the definitions above, g (B, outH, outW, outC):
 *  db = Σ g; for every tap (x pixel, w entry, y pixel) linked in the forward,
 *  dx += w·g and dw += x·g. */
export function convBackwardRef(transpose: boolean, g: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>,
  B: number, s: ConvRefShape): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { inH, inW, inC, outH, outW, outC, kh, kw } = s;
  const dx = new Float64Array(B * inH * inW * inC), dw = new Float64Array(kh * kw * inC * outC), db = new Float64Array(outC);
  for (let i = 0; i < B * outH * outW; i++) for (let co = 0; co < outC; co++) db[co] += g[i * outC + co];
  // conv2d: the image side is x, patches at y pixels; transpose: image y, patches at x pixels
  const [Hi, Wi, Hp, Wp] = transpose ? [outH, outW, inH, inW] : [inH, inW, outH, outW];
  for (let n = 0; n < B; n++) {
    for (let py = 0; py < Hp; py++) {
      for (let px = 0; px < Wp; px++) {
        for (let ty = 0; ty < kh; ty++) {
          const iy = py * s.strideH - s.padTop + ty;
          if (iy < 0 || iy >= Hi) continue;
          for (let tx = 0; tx < kw; tx++) {
            const ix = px * s.strideW - s.padLeft + tx;
            if (ix < 0 || ix >= Wi) continue;
            // the linked x pixel (xr, xc) and y pixel (yr, yc)
            const [xr, xc, yr, yc] = transpose ? [py, px, iy, ix] : [iy, ix, py, px];
            for (let ci = 0; ci < inC; ci++) {
              for (let co = 0; co < outC; co++) {
                const wi = transpose ? ((ty * kw + tx) * outC + co) * inC + ci : ((ty * kw + tx) * inC + ci) * outC + co;
                const xi = ((n * inH + xr) * inW + xc) * inC + ci;
                const gv = g[((n * outH + yr) * outW + yc) * outC + co];
                dx[xi] += w[wi] * gv;
                dw[wi] += x[xi] * gv;
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/** log p(z_r) of a mixture of K diagonal Gaussians, per row, in float64:
 *  log Σ_k π_k·Π_j N(z_rj; μ_kj, e^(lv_kj)), π = softmax(logits) (null: 1/K);
 *  component k's μ at means[k·ld + j], its lv at logvars[k·ld + j]. Written
 *  from the densities (logNormalPdf), with a max shift only against underflow. */
export function mixtureLogpRef(z: ArrayLike<number>, means: ArrayLike<number>, logvars: ArrayLike<number>, ld: number,
                               logits: ArrayLike<number> | null, n: number, K: number, L: number): { logp: Float64Array; resp: Float64Array } {
  const logPi = new Float64Array(K);
  if (logits) {
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[k]);
    for (let k = 0; k < K; k++) logPi[k] = logits[k] - Math.log(s);
  } else logPi.fill(-Math.log(K));
  const logp = new Float64Array(n), resp = new Float64Array(n * K);
  for (let r = 0; r < n; r++) {
    const a = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let v = logPi[k];
      for (let j = 0; j < L; j++) v += logNormalPdf(z[r * L + j], means[k * ld + j], 0.5 * logvars[k * ld + j]); // log σ = ½·lv
      a[k] = v;
    }
    const m = Math.max(...a);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(a[k] - m);
    logp[r] = m + Math.log(s);
    for (let k = 0; k < K; k++) resp[r * K + k] = Math.exp(a[k] - logp[r]);
  }
  return { logp, resp };
}

// ---- categorical latent (issue 18): N variables × K classes per row, float64

/** Gumbel(0, 1) from a uniform on [0, 1) in steps of 2⁻²⁴, shifted to the bin centre. */
export function gumbelRef(u: number): number {
  return -Math.log(-Math.log(u + 2 ** -25));
}

/** log softmax of one variable's logits l[o .. o+K). */
function logSoftmaxRef(l: ArrayLike<number>, o: number, K: number): number[] {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, l[o + k]);
  let s = 0;
  for (let k = 0; k < K; k++) s += Math.exp(l[o + k] - m);
  const lse = m + Math.log(s);
  return Array.from({ length: K }, (_, k) => l[o + k] - lse);
}

/** Gumbel-softmax samples (B·S, N·K): softmax((l + g)/τ) per variable, or
 *  with `hard` the one-hot argmax of l + g; h (B, N·K), g (B·S, N·K). */
export function gumbelSoftmaxRef(h: ArrayLike<number>, g: ArrayLike<number>, B: number, S: number, N: number, K: number,
                                 tau: number, hard = false): Float64Array {
  const W = N * K, z = new Float64Array(B * S * W);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) {
    const r = b * S + s;
    for (let n = 0; n < N; n++) {
      const a = Array.from({ length: K }, (_, k) => (h[b * W + n * K + k] + g[r * W + n * K + k]) / tau);
      if (hard) { z[r * W + n * K + a.indexOf(Math.max(...a))] = 1; continue; }
      const ls = logSoftmaxRef(a, 0, K);
      for (let k = 0; k < K; k++) z[r * W + n * K + k] = Math.exp(ls[k]);
    }
  }
  return z;
}

/** KL(q ‖ uniform) per row: Σ_n Σ_k q_nk·(log q_nk + log K), q = softmax of h's (B, N·K) variables. */
export function categoricalKlRef(h: ArrayLike<number>, B: number, N: number, K: number): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) {
    const lq = logSoftmaxRef(h, b * N * K + n * K, K);
    for (let k = 0; k < K; k++) out[b] += Math.exp(lq[k]) * (lq[k] + Math.log(K));
  }
  return out;
}

/** Σ_n Σ_k z_nk·log q_nk per sample row, z (B·S, N·K), h (B, N·K). */
export function categoricalLogqRef(h: ArrayLike<number>, z: ArrayLike<number>, B: number, S: number, N: number, K: number): Float64Array {
  const W = N * K, out = new Float64Array(B * S);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) {
    const lq = logSoftmaxRef(h, b * W + n * K, K);
    for (let s = 0; s < S; s++) for (let k = 0; k < K; k++) out[b * S + s] += z[(b * S + s) * W + n * K + k] * lq[k];
  }
  return out;
}

/** log N(z_r; μ_r, diag e^{v_r}) per row for z (n, L), h (n, 2L) = [μ | v]
 *  (the conditional prior of a stochastic layer, assembly/hierarchy.ts). */
export function condLogpRef(z: ArrayLike<number>, h: ArrayLike<number>, n: number, L: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < L; j++) {
      const mu = h[r * 2 * L + j], v = h[r * 2 * L + L + j], d = z[r * L + j] - mu;
      s += -0.5 * d * d / Math.exp(v) - 0.5 * v - 0.5 * Math.log(2 * Math.PI);
    }
    out[r] = s;
  }
  return out;
}

/** The concrete density (Maddison, Mnih & Teh 2017, eq. 8) of the relaxed
 *  samples y = softmax((l + g)/τ), straight from its definition in float64:
 *  log p(y) = log Γ(K) + (K−1)·log τ + Σ_k log α_k − (τ+1)·Σ_k log y_k − K·log Σ_k α_k·y_k^(−τ),
 *  summed over the N variables of each sample row (B·S rows); α = e^l (the
 *  posterior, l the row's logits) or α = 1 (the uniform prior). */
export function concreteLogDensityRef(h: ArrayLike<number>, g: ArrayLike<number>, B: number, S: number, N: number, K: number,
                                      tau: number, uniform: boolean): Float64Array {
  const W = N * K, out = new Float64Array(B * S);
  let lgK = 0;
  for (let i = 2; i < K; i++) lgK += Math.log(i);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) {
    const r = b * S + s;
    let total = 0;
    for (let n = 0; n < N; n++) {
      const v: number[] = [], la: number[] = [];
      for (let k = 0; k < K; k++) {
        const l = h[b * W + n * K + k];
        v.push((l + g[r * W + n * K + k]) / tau);
        la.push(uniform ? 0 : l);
      }
      const m = Math.max(...v), lse = m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
      const logy = v.map((x) => x - lse);
      const terms = logy.map((ly, k) => la[k] - tau * ly);
      const m2 = Math.max(...terms), lse2 = m2 + Math.log(terms.reduce((a, x) => a + Math.exp(x - m2), 0));
      total += lgK + (K - 1) * Math.log(tau) + la.reduce((a, x) => a + x, 0) - (tau + 1) * logy.reduce((a, x) => a + x, 0) - K * lse2;
    }
    out[r] = total;
  }
  return out;
}
