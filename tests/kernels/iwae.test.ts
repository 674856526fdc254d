// The objective kernels, both builds: the importance-weighted bound
// (assembly/iwae.ts), the k-sample Gaussian sampler and log q
// (assembly/gaussian.ts) and the N(0, I) log-density (assembly/prior.ts).
// Forward against float64 references written from the formulas; backward
// against central differences of those references (a backward that
// accumulates is checked on a non-zero starting gradient).
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import { randomArray, randomNormals } from "../reference.js";
import { Arena, BUILDS, centralDiff, expectClose, withKernels } from "./helpers.js";

const LOG_2PI = Math.log(2 * Math.PI);

/** float64: loss_b = −log (1/S) Σ_s exp(−nll + β(logp − logq)) and w̃. */
function iwaeRef(nll: ArrayLike<number>, lp: ArrayLike<number>, lq: ArrayLike<number>, B: number, S: number, beta: number) {
  const loss = new Float64Array(B), w = new Float64Array(B * S);
  for (let b = 0; b < B; b++) {
    const lw: number[] = [];
    for (let s = 0; s < S; s++) { const i = b * S + s; lw.push(-nll[i] + beta * (lp[i] - lq[i])); }
    const m = Math.max(...lw);
    const sum = lw.reduce((a, v) => a + Math.exp(v - m), 0);
    loss[b] = -(m + Math.log(sum / S));
    for (let s = 0; s < S; s++) w[b * S + s] = Math.exp(lw[s] - m) / sum;
  }
  return { loss, w };
}

/** float64: z_bs = μ_b + exp(½ lv_b)·ε_bs; h rows [μ | lv]. */
function sampleKRef(h: ArrayLike<number>, eps: ArrayLike<number>, B: number, S: number, L: number): Float64Array {
  const z = new Float64Array(B * S * L);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) for (let j = 0; j < L; j++) {
    z[(b * S + s) * L + j] = h[b * 2 * L + j] + Math.exp(0.5 * h[b * 2 * L + L + j]) * eps[(b * S + s) * L + j];
  }
  return z;
}

/** float64 log N(z; μ, σ²) with z = μ + σ·ε, summed over j, per sample row. */
function logqRef(h: ArrayLike<number>, eps: ArrayLike<number>, B: number, S: number, L: number): Float64Array {
  const z = sampleKRef(h, eps, B, S, L);
  const out = new Float64Array(B * S);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) {
    let v = 0;
    for (let j = 0; j < L; j++) {
      const mu = h[b * 2 * L + j], lv = h[b * 2 * L + L + j], zz = z[(b * S + s) * L + j];
      v += -0.5 * (zz - mu) ** 2 / Math.exp(lv) - 0.5 * lv - 0.5 * LOG_2PI;
    }
    out[b * S + s] = v;
  }
  return out;
}

function logNormalRef(z: ArrayLike<number>, n: number, L: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) { let v = 0; for (let j = 0; j < L; j++) v += -0.5 * z[r * L + j] ** 2 - 0.5 * LOG_2PI; out[r] = v; }
  return out;
}

function head(B: number, L: number, seed: number): Float32Array {
  const h = new Float32Array(B * 2 * L);
  const mu = randomArray(B * L, seed, -2, 2), lv = randomArray(B * L, seed + 1, -2, 2);
  for (let b = 0; b < B; b++) { h.set(mu.subarray(b * L, (b + 1) * L), b * 2 * L); h.set(lv.subarray(b * L, (b + 1) * L), b * 2 * L + L); }
  return h;
}

const CASES = [{ B: 1, S: 1, L: 1 }, { B: 3, S: 5, L: 4 }, { B: 2, S: 7, L: 9 }, { B: 5, S: 50, L: 3 }];

for (const build of BUILDS) {
  describe(`objective kernels, ${build} build`, () => {
    let k: Kernels, a: Arena;
    withKernels(build, 1 << 20, (kk, aa) => { k = kk; a = aa; });

    for (const { B, S, L } of CASES) {
      it(`iwae_forward B=${B} S=${S}: loss and normalized weights vs float64`, () => {
        const n = B * S;
        for (const beta of [1, 0.5]) {
          const nll = randomArray(n, 1, 50, 120), lp = randomArray(n, 2, -20, -5), lq = randomArray(n, 3, -15, 0);
          const P = { loss: a.alloc(B), wts: a.alloc(n), nll: a.put(nll), logp: a.put(lp), logq: a.put(lq) };
          k.iwaeForward({ ...P, batch: B, samples: S, beta });
          const ref = iwaeRef(nll, lp, lq, B, S, beta);
          expectClose(a.get(P.loss, B), ref.loss, 1e-6, "loss");
          expectClose(a.get(P.wts, n), ref.w, 1e-5, "w̃", 1e-3);
          // w̃ sums to 1 per row
          const w = a.get(P.wts, n);
          for (let b = 0; b < B; b++) expect(Math.abs(w.subarray(b * S, (b + 1) * S).reduce((x, y) => x + y, 0) - 1)).toBeLessThan(1e-5);
        }
      });

      it(`iwae_backward B=${B} S=${S}: a = ∂loss/∂nll, c = ∂loss/∂(logq − logp) vs central differences`, () => {
        const n = B * S, beta = 0.7, scale = 1 / B;
        const nll = randomArray(n, 4, 0, 6), lp = randomArray(n, 5, -4, 0), lq = randomArray(n, 6, -3, 1);
        const P = { loss: a.alloc(B), wts: a.alloc(n), nll: a.put(nll), logp: a.put(lp), logq: a.put(lq) };
        k.iwaeForward({ ...P, batch: B, samples: S, beta });
        const pa = a.alloc(n), pc = a.alloc(n);
        k.iwaeBackward({ a: pa, c: pc, wts: P.wts, n, beta, scale, dreg: false });
        const mean = (lossOf: (v: Float64Array) => Float64Array) => (v: Float64Array) => lossOf(v).reduce((x, y) => x + y, 0) * scale;
        const fdNll = centralDiff(mean((v) => iwaeRef(v, lp, lq, B, S, beta).loss), nll);
        const fdLq = centralDiff(mean((v) => iwaeRef(nll, lp, v, B, S, beta).loss), lq);
        expectClose(a.get(pa, n), fdNll, 2e-5, "a vs fd", 1e-2);
        expectClose(a.get(pc, n), fdLq, 2e-5, "c vs fd", 1e-2);
        // DReG: c = β·w̃²·scale
        k.iwaeBackward({ a: pa, c: pc, wts: P.wts, n, beta, scale, dreg: true });
        const w = iwaeRef(nll, lp, lq, B, S, beta).w;
        expectClose(a.get(pc, n), w.map((v) => beta * v * v * scale), 1e-5, "DReG c", 1e-3);
      });

      it(`gaussian_sample_k B=${B} S=${S} L=${L}: z vs float64, backward (accumulating) vs central differences`, () => {
        const n = B * S, h = head(B, L, 7), eps = Float32Array.from(randomNormals(n * L, 8));
        const ph = a.put(h), pe = a.put(eps), pz = a.alloc(n * L);
        k.sampleKForward(pz, ph, pe, B, S, L);
        expectClose(a.get(pz, n * L), sampleKRef(h, eps, B, S, L), 1e-5, "z");
        const dz = randomArray(n * L, 9), dh0 = randomArray(B * 2 * L, 10);
        const pdh = a.put(dh0), pdz = a.put(dz);
        k.sampleKBackward(pdh, pdz, ph, pe, B, S, L);
        const fd = centralDiff((hh) => { const z = sampleKRef(hh, eps, B, S, L); let v = 0; for (let i = 0; i < z.length; i++) v += dz[i] * z[i]; return v; }, h);
        expectClose(a.get(pdh, B * 2 * L), fd.map((g, i) => g + dh0[i]), 1e-4, "dh");
      });

      it(`gaussian_logq B=${B} S=${S} L=${L}: log q vs float64; its gradients vs central differences`, () => {
        const n = B * S, h = head(B, L, 11), eps = Float32Array.from(randomNormals(n * L, 12));
        const ph = a.put(h), pe = a.put(eps), pq = a.alloc(n);
        k.logqForward(pq, ph, pe, B, S, L);
        expectClose(a.get(pq, n), logqRef(h, eps, B, S, L), 1e-6, "log q", 10);
        const c = randomArray(n, 13);
        const pc = a.put(c);
        // reparameterized: Σ c_r·log q_r(h) with ε fixed (z moves with h) → dh
        const dh0 = randomArray(B * 2 * L, 14), pdh = a.put(dh0);
        k.logqBackward({ dh: pdh, dz: 0, h: ph, eps: pe, c: pc, batch: B, samples: S, latentDim: L, stopped: false });
        const fd = centralDiff((hh) => logqRef(hh, eps, B, S, L).reduce((v, q, i) => v + c[i] * q, 0), h);
        expectClose(a.get(pdh, B * 2 * L), fd.map((g, i) => g + dh0[i]), 1e-4, "dh (reparameterized)");
        // stopped (DReG): h fixed, z free → dz += c·∂log q/∂z
        const z = sampleKRef(h, eps, B, S, L), dz0 = randomArray(n * L, 15), pdz = a.put(dz0);
        k.logqBackward({ dh: 0, dz: pdz, h: ph, eps: pe, c: pc, batch: B, samples: S, latentDim: L, stopped: true });
        const logqAtZ = (zz: Float64Array) => {
          let v = 0;
          for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) for (let j = 0; j < L; j++) {
            const mu = h[b * 2 * L + j], lv = h[b * 2 * L + L + j], r = b * S + s;
            v += c[r] * (-0.5 * (zz[r * L + j] - mu) ** 2 / Math.exp(lv) - 0.5 * lv);
          }
          return v;
        };
        const fdz = centralDiff(logqAtZ, z);
        expectClose(a.get(pdz, n * L), fdz.map((g, i) => g + dz0[i]), 1e-4, "dz (stopped)");
      });

      it(`normal_logp n=${B * S} L=${L}: log N(z; 0, I) vs float64, backward vs central differences`, () => {
        const n = B * S, z = randomArray(n * L, 16, -3, 3), pz = a.put(z), pl = a.alloc(n);
        k.normalLogpForward(pl, pz, n, L);
        expectClose(a.get(pl, n), logNormalRef(z, n, L), 1e-6, "log p", 10);
        const c = randomArray(n, 17), pc = a.put(c), dz0 = randomArray(n * L, 18), pdz = a.put(dz0);
        k.normalLogpBackward(pdz, pz, pc, n, L);
        // dz += c·(−∂log p/∂z)
        const fd = centralDiff((zz) => -logNormalRef(zz, n, L).reduce((v, q, i) => v + c[i] * q, 0), z);
        expectClose(a.get(pdz, n * L), fd.map((g, i) => g + dz0[i]), 1e-4, "dz");
      });
    }

    it("rows_scale: row r times coef[r], widths around the SIMD width", () => {
      for (const D of [1, 3, 4, 5, 8, 13]) {
        const rows = 6, y = randomArray(rows * D, D), coef = randomArray(rows, D + 1);
        const py = a.put(y), pc = a.put(coef);
        k.rowsScale(py, pc, rows, D);
        expect(Array.from(a.get(py, rows * D))).toEqual(Array.from(y, (v, i) => Math.fround(v * coef[Math.floor(i / D)])));
      }
    });

    it("S = 1 sampler and its backward are bit-identical to the one-sample kernels", () => {
      const B = 7, L = 9, h = head(B, L, 19), eps = Float32Array.from(randomNormals(B * L, 20));
      const ph = a.put(h), pe = a.put(eps), z1 = a.alloc(B * L), z2 = a.alloc(B * L);
      k.sampleForward(z1, ph, pe, B, L); k.sampleKForward(z2, ph, pe, B, 1, L);
      expect(a.bits(z2, B * L)).toEqual(a.bits(z1, B * L));
      const dz = randomArray(B * L, 21), pdz = a.put(dz), d1 = a.put(new Float32Array(2 * B * L)), d2 = a.put(new Float32Array(2 * B * L));
      k.sampleBackward(d1, pdz, ph, pe, B, L); k.sampleKBackward(d2, pdz, ph, pe, B, 1, L);
      expect(a.bits(d2, 2 * B * L)).toEqual(a.bits(d1, 2 * B * L));
    });
  });
}
