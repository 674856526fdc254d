// Inference methods: shapes and semantics, checked against a float64 forward
// pass of the model's weights (tests/reference.ts), not against each other only.
// - encode = the encoder's [μ | logvar]; decode = σ(logits) (Bernoulli), the
//   means (Gaussian) or the μ half (gaussian_learned);
// - sample(n, {temperature, condition}) = decode(t·ε) with ε the next draws of
//   the eval stream (rngNormalRef on the exported state);
// - reconstruct = decode(E[z|x]); interpolate's endpoints are decode(E[z|xa])
//   and decode(E[z|xb]); elbo = −(reconstruction + KL) with KL in closed form;
// - a batch larger than maxBatch is chunked transparently: results equal the
//   row-by-row ones bit for bit (plain build).
// Not here: training (fit.test.ts), estimator accuracy (linear-gaussian.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { denseForwardRef, klRef, randomArray, rngNormalRef, type Act } from "../reference.js";

const D = 12, L = 4, H = 7;

/** float64 forward of one MLP half from the model's weights. */
function mlpRef(vae: VAE, prefix: "encoder" | "decoder", input: ArrayLike<number>, rows: number): Float64Array {
  const w = vae.getWeights(), shapes = vae.parameterShapes();
  const n = Object.keys(shapes).filter((k) => k.startsWith(prefix) && k.endsWith(".weight")).length;
  let h: ArrayLike<number> = input;
  for (let i = 0; i < n; i++) {
    const [IN, OUT] = shapes[`${prefix}.${i}.weight`];
    const act: Act = i === n - 1 ? "identity" : vae.config.activation;
    h = denseForwardRef(h, w[`${prefix}.${i}.weight`], w[`${prefix}.${i}.bias`], rows, IN, OUT, act, vae.config.activationAlpha).y;
  }
  return h as Float64Array;
}

/** Rows of a and b side by side: [a_r | b_r]. */
function concatRows(a: ArrayLike<number>, aw: number, b: ArrayLike<number>, bw: number, rows: number): Float64Array {
  const out = new Float64Array(rows * (aw + bw));
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < aw; j++) out[r * (aw + bw) + j] = a[r * aw + j];
    for (let j = 0; j < bw; j++) out[r * (aw + bw) + aw + j] = b[r * bw + j];
  }
  return out;
}

function decodeRef(vae: VAE, z: ArrayLike<number>, rows: number, cond?: ArrayLike<number>): Float64Array {
  const C = vae.config.conditionDim;
  const out = mlpRef(vae, "decoder", C ? concatRows(z, L, cond!, C, rows) : z, rows);
  if (vae.config.likelihood === "bernoulli") return out.map((l) => 1 / (1 + Math.exp(-l)));
  if (vae.config.likelihood === "gaussian") return out;
  const mu = new Float64Array(rows * D); // gaussian_learned: [μ | log σ] → μ
  for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) mu[r * D + d] = out[r * 2 * D + d];
  return mu;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5, label = ""): void {
  expect(got.length, label).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(e <= worst)) { worst = e; at = i; }
  }
  expect(worst, `${label} worst at ${at}: ${got[at]} vs ${want[at]}`).toBeLessThanOrEqual(tol);
}

function sameBits(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const ROWS = 21;
const x = randomArray(ROWS * D, 1, 0, 1);
const base: VAEConfig = { inputDim: D, encoder: [H], latentDim: L, activation: "tanh", seed: 3 };

/** A model with weights moved off the init, so outputs are not near-trivial. */
async function make(config: VAEConfig): Promise<VAE> {
  const vae = await VAE.create(config, { build: "plain" });
  for (const [n, t] of Object.entries(vae.getWeights())) {
    const r = randomArray(t.length, n.length * 7 + t.length, -0.3, 0.3);
    vae.setWeights({ [n]: t.map((v, i) => 1.5 * v + r[i]) });
  }
  return vae;
}

describe("inference shapes and values against a float64 forward pass", () => {
  let vae: VAE;
  beforeAll(async () => { vae = await make(base); });

  it("encode: {mean, logvar} of rows × L = the encoder's output halves", () => {
    const { mean, logvar } = vae.encode(x);
    expect(mean).toBeInstanceOf(Float32Array);
    expect(mean.length).toBe(ROWS * L);
    expect(logvar.length).toBe(ROWS * L);
    const h = mlpRef(vae, "encoder", x, ROWS);
    const mu = new Float64Array(ROWS * L), lv = new Float64Array(ROWS * L);
    for (let r = 0; r < ROWS; r++) for (let j = 0; j < L; j++) { mu[r * L + j] = h[r * 2 * L + j]; lv[r * L + j] = h[r * 2 * L + L + j]; }
    expectClose(mean, mu, 1e-5, "mean");
    expectClose(logvar, lv, 1e-5, "logvar");
    // Uint8Array input is pixels / 255; number[] is taken as is
    const u8 = Uint8Array.from({ length: 2 * D }, (_, i) => (i * 37) % 256);
    expect(sameBits(vae.encode(u8).mean, vae.encode(Float32Array.from(u8, (v) => v / 255)).mean)).toBe(true);
    expect(sameBits(vae.encode(Array.from(x)).mean, mean)).toBe(true);
  });

  it("decode: rows × D probabilities σ(decoder(z)) in (0, 1)", () => {
    const z = randomArray(ROWS * L, 2, -2, 2);
    const p = vae.decode(z);
    expect(p.length).toBe(ROWS * D);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    expectClose(p, decodeRef(vae, z, ROWS), 1e-5, "decode");
  });

  it("decode of Gaussian models: the means (fixed σ) and the μ half (learned σ)", async () => {
    for (const likelihood of ["gaussian", "gaussian_learned"] as const) {
      const g = await make({ ...base, likelihood });
      const z = randomArray(5 * L, 3, -2, 2);
      const m = g.decode(z);
      expect(m.length).toBe(5 * D);
      expect(m.some((v) => v < 0 || v > 1)).toBe(true); // not squashed
      expectClose(m, decodeRef(g, z, 5), 1e-5, likelihood);
    }
  });

  it("reconstruct = decode(E[z|x]); with sample: true it is random but of the same shape", () => {
    const r = vae.reconstruct(x);
    expect(r.length).toBe(ROWS * D);
    const mu = mlpRef(vae, "encoder", x, ROWS);
    const zm = new Float64Array(ROWS * L);
    for (let b = 0; b < ROWS; b++) for (let j = 0; j < L; j++) zm[b * L + j] = mu[b * 2 * L + j];
    expectClose(r, decodeRef(vae, zm, ROWS), 1e-5, "reconstruct");
    const s1 = vae.reconstruct(x, { sample: true }), s2 = vae.reconstruct(x, { sample: true });
    expect(s1.length).toBe(ROWS * D);
    expect(sameBits(s1, s2)).toBe(false);
    expect(sameBits(s1, r)).toBe(false);
  });

  it("sample(n, {temperature}) = decode(t·ε), ε the next draws of the eval stream; t = 0 gives decode(0)", () => {
    for (const t of [1, 0.5]) {
      const state = vae.exportState().rngEval!.slice();
      const s = vae.sample(6, { temperature: t });
      expect(s.length).toBe(6 * D);
      const eps = rngNormalRef(state, 6 * L);
      expectClose(s, decodeRef(vae, eps.map((e) => t * e), 6), 1e-5, `t = ${t}`);
      // the stream advanced: the next call differs
      expect(sameBits(vae.sample(6, { temperature: t }), s)).toBe(false);
    }
    const zero = vae.sample(3, { temperature: 0 });
    const d0 = decodeRef(vae, new Float64Array(L), 1);
    for (let r = 0; r < 3; r++) expectClose(zero.subarray(r * D, (r + 1) * D), d0, 1e-5, `row ${r}`);
  });

  it("interpolate: steps × D; endpoints decode(E[z|xa]) and decode(E[z|xb]) exactly; linear midpoint; spherical endpoints", () => {
    const xa = x.subarray(0, D), xb = x.subarray(5 * D, 6 * D);
    const za = vae.encode(xa).mean, zb = vae.encode(xb).mean;
    const da = vae.decode(za), db = vae.decode(zb);
    for (const spherical of [false, true]) {
      const path = vae.interpolate(xa, xb, 5, { spherical });
      expect(path.length).toBe(5 * D);
      expect(sameBits(path.subarray(0, D), da), `start (spherical ${spherical})`).toBe(true);
      expect(sameBits(path.subarray(4 * D), db), `end (spherical ${spherical})`).toBe(true);
    }
    const mid = vae.interpolate(xa, xb, 3).subarray(D, 2 * D);
    expectClose(mid, decodeRef(vae, za.map((v, j) => 0.5 * v + 0.5 * zb[j]), 1), 1e-5, "midpoint");
    // spherical differs from linear in the middle
    expect(sameBits(vae.interpolate(xa, xb, 3, { spherical: true }).subarray(D, 2 * D), mid)).toBe(false);
  });

  it("elbo: per-row {elbo, reconstruction, kl}; elbo = −(rec + kl), kl in closed form", () => {
    const r = vae.elbo(x, { samples: 3 });
    for (const k of ["elbo", "reconstruction", "kl"] as const) {
      expect(r[k]).toBeInstanceOf(Float32Array);
      expect(r[k].length).toBe(ROWS);
    }
    const kl = klRef(mlpRef(vae, "encoder", x, ROWS), ROWS, L);
    expectClose(r.kl, kl, 1e-5, "kl");
    for (let i = 0; i < ROWS; i++) {
      expect(r.elbo[i]).toBeCloseTo(-(r.reconstruction[i] + r.kl[i]), 3);
      expect(r.reconstruction[i]).toBeGreaterThan(0);
    }
    const ll = vae.logLikelihood(x, { samples: 4 });
    expect(ll).toBeInstanceOf(Float64Array);
    expect(ll.length).toBe(ROWS);
    expect(ll.every((v) => Number.isFinite(v) && v < 0)).toBe(true);
  });
});

describe("conditional VAE inference", () => {
  const C = 3;
  let vae: VAE;
  beforeAll(async () => { vae = await make({ ...base, conditionDim: C }); });

  it("encode and decode take [x | c] and [z | c]", () => {
    const c = randomArray(ROWS * C, 5, 0, 1), z = randomArray(ROWS * L, 6, -1, 1);
    const h = mlpRef(vae, "encoder", concatRows(x, D, c, C, ROWS), ROWS);
    const mean = vae.encode(x, { condition: c }).mean;
    expectClose(mean, Float64Array.from({ length: ROWS * L }, (_, i) => h[Math.floor(i / L) * 2 * L + (i % L)]), 1e-5, "encode");
    expectClose(vae.decode(z, { condition: c }), decodeRef(vae, z, ROWS, c), 1e-5, "decode");
  });

  it("sample respects the condition: each row decodes [t·ε | c_row]; other conditions give other digits", () => {
    const n = 4, c = new Float32Array(n * C);
    for (let r = 0; r < n; r++) c[r * C + (r % C)] = 1; // one-hot, different per row
    const state = vae.exportState().rngEval!.slice();
    const s = vae.sample(n, { condition: c });
    expect(s.length).toBe(n * D);
    expectClose(s, decodeRef(vae, rngNormalRef(state, n * L), n, c), 1e-5, "conditional sample");
    // same ε, another condition → another output
    const state2 = vae.exportState().rngEval!.slice();
    const s2 = vae.sample(n, { condition: c.map((v) => 1 - v) });
    expectClose(s2, decodeRef(vae, rngNormalRef(state2, n * L), n, c.map((v) => 1 - v)), 1e-5, "other condition");
    expect(sameBits(s, s2)).toBe(false);
  });

  it("interpolate with a condition: endpoints are decode(E[z|xa, c], c)", () => {
    const c = Float32Array.of(0, 1, 0);
    const xa = x.subarray(0, D), xb = x.subarray(D, 2 * D);
    const path = vae.interpolate(xa, xb, 4, { condition: c });
    expect(path.length).toBe(4 * D);
    const za = vae.encode(xa, { condition: c }).mean, zb = vae.encode(xb, { condition: c }).mean;
    expect(sameBits(path.subarray(0, D), vae.decode(za, { condition: c }))).toBe(true);
    expect(sameBits(path.subarray(3 * D), vae.decode(zb, { condition: c }))).toBe(true);
  });
});

describe("batches larger than maxBatch are chunked transparently", () => {
  it("maxBatch 8, 21 rows: encode, decode, reconstruct and elbo's KL equal the row-by-row results bit for bit", async () => {
    const vae = await make({ ...base, maxBatch: 8 });
    expect(vae.batchCapacity).toBe(8);
    const z = randomArray(ROWS * L, 8, -2, 2);
    const enc = vae.encode(x), dec = vae.decode(z), rec = vae.reconstruct(x), kl = vae.elbo(x).kl;
    expect(vae.batchCapacity).toBe(8); // inference chunks; it does not grow the activations
    for (let r = 0; r < ROWS; r++) {
      const xr = x.subarray(r * D, (r + 1) * D);
      const e = vae.encode(xr);
      expect(sameBits(e.mean, enc.mean.subarray(r * L, (r + 1) * L)), `mean row ${r}`).toBe(true);
      expect(sameBits(e.logvar, enc.logvar.subarray(r * L, (r + 1) * L)), `logvar row ${r}`).toBe(true);
      expect(sameBits(vae.decode(z.subarray(r * L, (r + 1) * L)), dec.subarray(r * D, (r + 1) * D)), `decode row ${r}`).toBe(true);
      expect(sameBits(vae.reconstruct(xr), rec.subarray(r * D, (r + 1) * D)), `reconstruct row ${r}`).toBe(true);
      expect(sameBits(vae.elbo(xr).kl, kl.subarray(r, r + 1)), `kl row ${r}`).toBe(true);
    }
    // and the values are right, not just consistent
    expectClose(dec, decodeRef(vae, z, ROWS), 1e-5, "chunked decode");
    // sample and logLikelihood of more rows than maxBatch work and have the right shape
    expect(vae.sample(20).length).toBe(20 * D);
    const ll = vae.logLikelihood(x, { samples: 5 });
    expect(ll.length).toBe(ROWS);
    expect(ll.every(Number.isFinite)).toBe(true);
  });

  it("a conditional sample of more rows than maxBatch: each chunk gets its own rows' conditions", async () => {
    const C = 2, n = 19;
    const vae = await make({ ...base, conditionDim: C, maxBatch: 8 });
    const c = randomArray(n * C, 9, 0, 1);
    const state = vae.exportState().rngEval!.slice();
    const s = vae.sample(n, { condition: c });
    // chunks of 8, 8, 3 rows draw 32, 32, 12 normals: the same stream as one draw of n·L
    expectClose(s, decodeRef(vae, rngNormalRef(state, n * L), n, c), 1e-5, "chunked conditional sample");
  });

  it("training on a batch larger than maxBatch grows the activations once and works", async () => {
    const vae = await make({ ...base, maxBatch: 8 });
    const r = vae.trainStep(x);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(vae.batchCapacity).toBeGreaterThanOrEqual(ROWS);
  });
});
