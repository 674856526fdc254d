// The model's optimizer step (trainStep → Adam.apply → VAE.adamUpdate →
// adam_step) against Kingma & Ba 2014 Algorithm 1 in float64 (with decoupled
// weight decay, a learning-rate schedule and global-norm clipping written out
// here), fed the same gradients: computeGradients on the same state and noise
// stream gives the unclipped gradient of each step. And an update that
// overflows in some lanes only: those keep their values, the others update.
// Not here: the kernel alone (tests/kernels/adam.test.ts), gradients (finite-diff, tfjs-parity).
import { describe, expect, it } from "vitest";
import { Adam, NonFiniteLossError, VAE, type ModelState } from "../../src/index.js";
import { randomArray } from "../reference.js";

const D = 12;
const CFG = { inputDim: D, encoder: [6], latentDim: 2, decoder: [5], activation: "tanh", likelihood: "gaussian", sigma: 0.5, seed: 4 } as const;
const x = randomArray(10 * D, 21, -1, 1);

const flat = (r: Record<string, Float32Array>, names: string[]) => Float64Array.from(names.flatMap((n) => Array.from(r[n])));

interface Hyper { lr: (t: number) => number; beta1: number; beta2: number; eps: number; wd: number; clipNorm: number | null }

/** Algorithm 1 (Kingma & Ba 2014) in float64 from θ₀ and the raw gradients
 *  g₁…g_T: g ← g·min(1, c/‖g‖₂) (global norm), m ← β₁m + (1−β₁)g,
 *  v ← β₂v + (1−β₂)g², m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ),
 *  θ ← θ − α_t·λ·θ (decoupled decay, Loshchilov & Hutter) − α_t·m̂/(√v̂ + ε). */
function algorithm1(theta0: Float64Array, grads: Float64Array[], h: Hyper) {
  const th = Float64Array.from(theta0), m = new Float64Array(th.length), v = new Float64Array(th.length);
  const norms: number[] = [];
  grads.forEach((raw, k) => {
    const t = k + 1, a = h.lr(t);
    const norm = Math.hypot(...raw);
    norms.push(norm);
    const s = h.clipNorm !== null && norm > h.clipNorm ? h.clipNorm / norm : 1;
    for (let i = 0; i < th.length; i++) {
      const g = raw[i] * s;
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
      const mhat = m[i] / (1 - h.beta1 ** t), vhat = v[i] / (1 - h.beta2 ** t);
      th[i] = th[i] - a * h.wd * th[i] - a * mhat / (Math.sqrt(vhat) + h.eps);
    }
  });
  return { theta: th, m, v, norms };
}

/** The gradient trainStep will use next: computeGradients on a copy of the
 *  state (it draws ε from the training stream), then the state is put back. */
function nextGradients(vae: VAE, batch: Float32Array, names: string[]): Float64Array {
  const s: ModelState = vae.exportState();
  const g = flat(vae.computeGradients(batch).gradients, names);
  vae.importState(s);
  return g;
}

describe("trainStep's Adam update = Algorithm 1 in float64 from the same gradients", () => {
  it("weight decay, an lr schedule and active clipping, over 5 steps: weights and moments", async () => {
    const vae = await VAE.create(CFG, { build: "plain" });
    const names = Object.keys(vae.getWeights());
    const theta0 = flat(vae.getWeights(), names);
    const g1 = nextGradients(vae, x, names);
    const h: Hyper = { lr: (t) => 0.02 / Math.sqrt(t), beta1: 0.8, beta2: 0.95, eps: 1e-6, wd: 0.1, clipNorm: 0.3 * Math.hypot(...g1) };
    vae.optimizer = new Adam({ lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.wd, clipNorm: h.clipNorm! });
    const grads: Float64Array[] = [];
    const stepNorms: number[] = [];
    for (let t = 1; t <= 5; t++) {
      const g = nextGradients(vae, x, names);
      grads.push(g);
      vae.trainStep(x);
      // the gradient block after the step holds the clipped gradient
      const after = flat(vae.getGradients(), names), n = Math.hypot(...g);
      stepNorms.push(n);
      for (let i = 0; i < g.length; i++) expect(Math.abs(after[i] - g[i] * h.clipNorm! / n)).toBeLessThanOrEqual(2e-7 * (Math.abs(g[i]) + 1e-6));
    }
    expect(vae.optimizer.step).toBe(5);
    expect(grads[0]).toEqual(g1); // restoring the state made computeGradients repeatable
    const ref = algorithm1(theta0, grads, h);
    // clipping was active at every step (else the test would not exercise it)
    for (const n of ref.norms) expect(n).toBeGreaterThan(h.clipNorm! * 1.2);
    const w = flat(vae.getWeights(), names), st = vae.exportState();
    const m = flat(st.m!, names), v = flat(st.v!, names);
    let maxW = 0, maxM = 0, maxV = 0;
    for (let i = 0; i < w.length; i++) {
      // weights: float32 rounding of θ (2⁻²⁴|θ|) and of five updates of size ≤ α
      maxW = Math.max(maxW, Math.abs(w[i] - ref.theta[i]) / (Math.abs(ref.theta[i]) * 6e-8 + 0.02 * 1e-5));
      maxM = Math.max(maxM, Math.abs(m[i] - ref.m[i]) / (Math.abs(ref.m[i]) * 1e-5 + 1e-12));
      maxV = Math.max(maxV, Math.abs(v[i] - ref.v[i]) / (Math.abs(ref.v[i]) * 1e-5 + 1e-15));
    }
    // measured: 0.60, 0.17, 0.03 of these units (plain build: deterministic)
    expect(maxW).toBeLessThan(1);
    expect(maxM).toBeLessThan(1);
    expect(maxV).toBeLessThan(1);
    // the same steps without clipping, decay or schedule end far from this
    // (so the bound above tells the variants apart)
    for (const variant of [{ ...h, clipNorm: null }, { ...h, wd: 0 }, { ...h, lr: () => 0.02 }]) {
      const other = algorithm1(theta0, grads, variant);
      const d = Math.max(...other.theta.map((t, i) => Math.abs(t - ref.theta[i])));
      expect(d).toBeGreaterThan(100 * 0.02 * 1e-5);
    }
  });
});

describe("an Adam update that is non-finite in some lanes only", () => {
  it("those lanes keep their values, every other lane and all moments update as Algorithm 1 says", async () => {
    const vae = await VAE.create(CFG, { build: "plain" });
    const names = Object.keys(vae.getWeights());
    // decay factor 1 − α·λ = −1e30: θ·(−1e30) overflows float32 for |θ| > 3.4e8,
    // so the lanes set to 1e9 overflow and the rest (|θ| < 1) stay finite. They sit
    // in the encoder's first weight, which feeds only tanh units: the loss stays finite.
    const w = vae.getWeights();
    const big = new Set<number>();
    const we = w["encoder.0.weight"];
    for (const i of [0, 5, 6, 7, 13, we.length - 1]) { we[i] = 1e9 * (i % 2 ? -1 : 1); }
    vae.setWeights(w);
    let off = 0;
    for (const n of names) { if (n === "encoder.0.weight") for (const i of [0, 5, 6, 7, 13, we.length - 1]) big.add(off + i); off += w[n].length; }
    const h: Hyper = { lr: () => 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 1e30, clipNorm: null };
    vae.optimizer = new Adam({ lr: 1, weightDecay: 1e30 });
    const theta0 = flat(vae.getWeights(), names);
    const g = nextGradients(vae, x, names);
    expect(g.every(Number.isFinite)).toBe(true);
    expect(() => vae.trainStep(x)).toThrow(NonFiniteLossError);
    const ref = algorithm1(theta0, [g], h);
    const after = flat(vae.getWeights(), names), st = vae.exportState();
    const m = flat(st.m!, names), v = flat(st.v!, names);
    let updated = 0, moves = 0;
    for (let i = 0; i < after.length; i++) {
      if (big.has(i)) {
        expect(Number.isFinite(Math.fround(ref.theta[i])), `lane ${i} overflows in the reference`).toBe(false);
        expect(after[i], `lane ${i} kept`).toBe(theta0[i]);
      } else {
        expect(Number.isFinite(Math.fround(ref.theta[i]))).toBe(true);
        expect(Math.abs(after[i] - ref.theta[i]), `lane ${i}`).toBeLessThanOrEqual(2e-7 * Math.abs(ref.theta[i]) + 1e-6);
        if (after[i] !== theta0[i]) updated++;
        if (Math.fround(ref.theta[i]) !== theta0[i]) moves++; // not where θ = 0 and g = 0
      }
      expect(Math.abs(m[i] - ref.m[i])).toBeLessThanOrEqual(1e-6 * Math.abs(ref.m[i]) + 1e-12);
      expect(Math.abs(v[i] - ref.v[i])).toBeLessThanOrEqual(1e-6 * Math.abs(ref.v[i]) + 1e-15);
    }
    expect(updated).toBe(moves);
    expect(moves).toBeGreaterThan(0.9 * (after.length - big.size));
    // the step was not counted
    expect(vae.optimizer.step).toBe(0);
    expect(vae.steps).toBe(0);
  });
});
