// Numeric helpers for the CLI's figures, in float64: the inverse normal CDF
// (manifold grid), a 2-d PCA by power iteration on the covariance (latent
// scatter), and a seeded normal stream (the `sample` command's --seed).
// Not here: anything the model computes (that lives in wasm).

/** Φ⁻¹(p), the standard normal quantile, for p in (0, 1).
 *  Acklam's rational approximation (relative error < 1.15e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lowTail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  const pLow = 0.02425;
  if (p < pLow) return lowTail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - pLow) return -lowTail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Projects rows (n × L) onto their first two principal components.
 * Covariance C (L × L) of the centred rows; the top eigenvector by power
 * iteration v ← Cv/‖Cv‖, then deflation C ← C − λ·v·vᵀ for the second
 * (Golub & Van Loan, §8.2.1). Each component's sign is fixed so that its
 * largest-magnitude entry is positive. Returns the two coordinate columns and
 * the explained-variance fractions.
 */
export function pca2(rows: ArrayLike<number>, n: number, L: number, iterations = 500):
    { x: Float64Array; y: Float64Array; explained: [number, number] } {
  const mean = new Float64Array(L);
  for (let i = 0; i < n; i++) for (let j = 0; j < L; j++) mean[j] += rows[i * L + j] / n;
  const C = new Float64Array(L * L);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < L; j++) {
      const dj = rows[i * L + j] - mean[j];
      for (let k = j; k < L; k++) C[j * L + k] += (dj * (rows[i * L + k] - mean[k])) / Math.max(1, n - 1);
    }
  }
  for (let j = 0; j < L; j++) for (let k = 0; k < j; k++) C[j * L + k] = C[k * L + j];
  let trace = 0;
  for (let j = 0; j < L; j++) trace += C[j * L + j];

  const comps: Float64Array[] = [], lambdas: number[] = [];
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(L);
    for (let j = 0; j < L; j++) v[j] = 1 / (j + 1 + c); // deterministic start, not orthogonal to anything in practice
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(L);
      for (let j = 0; j < L; j++) { let s = 0; for (let k = 0; k < L; k++) s += C[j * L + k] * v[k]; w[j] = s; }
      let norm = 0;
      for (let j = 0; j < L; j++) norm += w[j] * w[j];
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      let change = 0;
      for (let j = 0; j < L; j++) { w[j] /= norm; change += Math.abs(w[j] - v[j]); }
      v = w;
      lambda = norm;
      if (change < 1e-12) break;
    }
    let big = 0;
    for (let j = 0; j < L; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) for (let j = 0; j < L; j++) v[j] = -v[j];
    comps.push(v); lambdas.push(lambda);
    for (let j = 0; j < L; j++) for (let k = 0; k < L; k++) C[j * L + k] -= lambda * v[j] * v[k];
  }
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0, b = 0;
    for (let j = 0; j < L; j++) {
      const d = rows[i * L + j] - mean[j];
      a += d * comps[0][j];
      b += d * (comps[1]?.[j] ?? 0);
    }
    x[i] = a; y[i] = b;
  }
  return { x, y, explained: [trace > 0 ? lambdas[0] / trace : 0, trace > 0 ? lambdas[1] / trace : 0] };
}

/** n standard normals from a seeded stream (mulberry32 + Box–Muller), as float32. */
export function seededNormals(n: number, seed: number): Float32Array {
  let s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32; // in (0, 1)
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}
