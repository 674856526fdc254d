// Item 1 of issue 10: byte offsets past 2 GiB. A model whose arena crosses
// 2 GiB (maxBatch 40000 rows of 4096 values puts the latent buffers, the
// per-row losses and the GEMM scratch above 2^31) must give bit-identical
// results to the same model with a small arena: before the fix, `ptr >> 2`
// turned those offsets into negative indices (reads NaN, writes dropped).
// Only the rows used are touched, so the resident memory stays small.
import { beforeAll, describe, expect, it } from "vitest";
import { VAE } from "../../src/index.js";

const cfg = { inputDim: 4096, encoder: [64], latentDim: 2, seed: 1 };
const D = cfg.inputDim, L = cfg.latentDim;
let small: VAE, big: VAE;

function rows(n: number, seed: number): Float32Array {
  const x = new Float32Array(n * D);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919 + seed * 104729) % 1000) / 999;
  return x;
}

function expectSameBits(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  const fa = Float64Array.from(a), fb = Float64Array.from(b);
  expect(Buffer.from(fa.buffer).equals(Buffer.from(fb.buffer))).toBe(true);
}

function expectSameState(): void {
  const s = small.exportState(), t = big.exportState();
  for (const part of ["weights", "m", "v"] as const) {
    for (const n of Object.keys(s[part]!)) expectSameBits(s[part]![n], t[part]![n]);
  }
  expectSameBits(s.rngTrain!, t.rngTrain!);
  expectSameBits(s.rngEval!, t.rngEval!);
}

beforeAll(async () => {
  small = await VAE.create(cfg);
  big = await VAE.create({ ...cfg, maxBatch: 40000 });
});

describe("an arena that crosses 2 GiB", () => {
  it("really puts the buffers the model reads and writes above 2^31", () => {
    const k = (big as unknown as { kernels: { byteLength: number } }).kernels;
    expect(k.byteLength).toBeGreaterThan(2 ** 31);
    const ptr = (big as unknown as { net: { ptr: Record<string, number> } }).net.ptr;
    for (const name of ["z.in", "eps", "nll", "kl", "scratch"]) expect(ptr[name], name).toBeGreaterThan(2 ** 31);
    expect(big.batchCapacity).toBe(40000);
  });

  it("decode, encode, reconstruct and sample are bit-identical to a small arena", () => {
    const z = new Float32Array([3, -3, 0.5, 1, -2, 0]);
    const d = big.decode(z);
    expectSameBits(d, small.decode(z));
    expect(d[0]).not.toBe(0.5);
    const x = rows(3, 1);
    const e1 = big.encode(x), e2 = small.encode(x);
    expectSameBits(e1.mean, e2.mean);
    expectSameBits(e1.logvar, e2.logvar);
    expectSameBits(big.reconstruct(x), small.reconstruct(x));
    expectSameBits(big.sample(2), small.sample(2));
  });

  it("elbo, logLikelihood and computeGradients are bit-identical and finite", () => {
    const x = new Float32Array(2 * D).fill(0.5);
    const a = big.elbo(x), b = small.elbo(x);
    expect(Number.isFinite(a.elbo[0])).toBe(true);
    expectSameBits(a.elbo, b.elbo);
    expectSameBits(a.kl, b.kl);
    expectSameBits(big.logLikelihood(x, { samples: 4 }), small.logLikelihood(x, { samples: 4 }));
    const ga = big.computeGradients(rows(2, 2)), gb = small.computeGradients(rows(2, 2));
    expect(ga.loss).toBe(gb.loss);
    for (const n of Object.keys(gb.gradients)) expectSameBits(ga.gradients[n], gb.gradients[n]);
  });

  it("trainStep gives the same losses, weights, moments and random states", () => {
    for (let s = 0; s < 3; s++) {
      const x = rows(2 + s, 10 + s);
      const a = big.trainStep(x), b = small.trainStep(x);
      expect(Number.isFinite(a.loss)).toBe(true);
      expect(a).toEqual(b);
    }
    expectSameState();
  });

  it("setWeights and importState write above the parameters as before", () => {
    const w = small.getWeights();
    w["decoder.1.bias"] = w["decoder.1.bias"].map((v, i) => v + (i % 3) * 0.01);
    small.setWeights(w);
    big.setWeights(w);
    expectSameState();
    const z = new Float32Array([0.3, -0.7]);
    expectSameBits(big.decode(z), small.decode(z));
  });
});
