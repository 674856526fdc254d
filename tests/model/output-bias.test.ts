// VAE.initOutputBias: the output layer's bias at the data's mean (Burda et al.'s
// init) against float64 means written here, per dimension and per channel, for
// the three likelihoods and two stochastic layers; only that tensor changes;
// bad data is refused by name and changes nothing.
import { afterAll, describe, expect, it } from "vitest";
import { ArgumentError, VAE, type VAEConfig } from "../../src/index.js";
import { randomArray } from "../reference.js";

const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));
const make = async (c: VAEConfig) => { const v = await VAE.create(c, { threads: 1, build: "plain" }); created.push(v); return v; };

/** float64 mean of each unit: unit(i) maps a value's index in a row to its unit. */
function means(x: ArrayLike<number>, D: number, units: number, unit: (i: number) => number, scale = 1): number[] {
  const s = new Array(units).fill(0), n = new Array(units).fill(0);
  for (let r = 0; r < x.length / D; r++) for (let i = 0; i < D; i++) { s[unit(i)] += x[r * D + i] * scale; n[unit(i)]++; }
  return s.map((v, u) => v / n[u]);
}
const logit = (m: number) => { const p = Math.min(0.999, Math.max(0.001, m)); return Math.log(p) - Math.log1p(-p); };
const close = (got: ArrayLike<number>, want: number[], at: string) => {
  expect(got.length, at).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `${at}[${i}]`).toBeLessThan(1e-5 * (1 + Math.abs(want[i])));
};
/** Every tensor but `name` is bit-identical before and after. */
const othersSame = (before: Record<string, Float32Array>, after: Record<string, Float32Array>, name: string) => {
  for (const k of Object.keys(before)) if (k !== name) expect(after[k], k).toEqual(before[k]);
};

describe("initOutputBias", () => {
  it("Bernoulli, dense output: log-odds of each column's mean, clipped to [0.001, 0.999]; nothing else changes", async () => {
    const D = 6, v = await make({ inputDim: D, encoder: [5], latentDim: 3, decoder: [4, 5], seed: 1 });
    const x = randomArray(9 * D, 41, 0, 1);
    for (let r = 0; r < 9; r++) { x[r * D + 1] = 0; x[r * D + 4] = 1; } // clipped columns
    const before = v.getWeights();
    v.initOutputBias(x);
    const after = v.getWeights();
    close(after["decoder.2.bias"], means(x, D, D, (i) => i).map(logit), "decoder.2.bias");
    expect(after["decoder.2.bias"][1]).toBeCloseTo(Math.log(0.001 / 0.999), 5);
    othersSame(before, after, "decoder.2.bias");
  });

  it("a Uint8Array is read as gray levels / 255; two stochastic layers set the x-decoder's bias", async () => {
    const D = 6, v = await make({ inputDim: D, seed: 1, latents: [{ encoder: [5], size: 3, decoder: [4] }, { encoder: [4], size: 2, decoder: [5] }] });
    const x = Uint8Array.from(randomArray(7 * D, 42, 0, 255), Math.floor);
    const before = v.getWeights();
    v.initOutputBias(x);
    const after = v.getWeights();
    close(after["decoder.1.bias"], means(x, D, D, (i) => i, 1 / 255).map(logit), "decoder.1.bias");
    othersSame(before, after, "decoder.1.bias");
  });

  it("Gaussian: the mean; gaussian_learned: the μ half is the mean, the log σ half is kept", async () => {
    const D = 5, x = randomArray(8 * D, 43, -2, 2);
    const g = await make({ inputDim: D, encoder: [4], latentDim: 2, likelihood: "gaussian", seed: 2 });
    g.initOutputBias(x);
    close(g.getWeights()["decoder.1.bias"], means(x, D, D, (i) => i), "gaussian");
    const l = await make({ inputDim: D, encoder: [4], latentDim: 2, likelihood: "gaussian_learned", seed: 2 });
    l.setWeights({ "decoder.1.bias": randomArray(2 * D, 44, -1, 1) });
    const logSigma = Array.from(l.getWeights()["decoder.1.bias"].subarray(D));
    l.initOutputBias(x);
    const b = l.getWeights()["decoder.1.bias"];
    close(b.subarray(0, D), means(x, D, D, (i) => i), "gaussian_learned μ");
    expect(Array.from(b.subarray(D))).toEqual(logSigma);
  });

  it("a conv2d_transpose output (bias per channel): the mean over rows and positions of each NHWC channel", async () => {
    const shape = [4, 4, 2], D = 32;
    const v = await make({
      inputShape: shape, latentDim: 2, seed: 3,
      encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, { type: "dense", units: 5 }],
      decoder: [{ type: "dense", units: 12 }, { type: "reshape", shape: [2, 2, 3] }, { type: "conv2d_transpose", filters: 2, kernel: 3, stride: 2, padding: "same" }],
    });
    const x = randomArray(5 * D, 45, 0, 1);
    for (let r = 0; r < 5; r++) for (let p = 0; p < 16; p++) x[r * D + p * 2 + 1] *= 0.2; // channel 1 darker
    const before = v.getWeights();
    v.initOutputBias(x);
    const after = v.getWeights();
    close(after["decoder.2.bias"], means(x, D, 2, (i) => i % 2).map(logit), "decoder.2.bias");
    othersSame(before, after, "decoder.2.bias");
  });

  it("bad data is refused by name (ArgumentError) and changes nothing", async () => {
    const D = 4, v = await make({ inputDim: D, encoder: [3], latentDim: 2, seed: 4 });
    const before = v.getWeights();
    const bad: [unknown, RegExp][] = [
      [new Float32Array(7), /^x: expected a length that is a multiple of 4/],
      [new Float32Array(0), /^x: expected at least one row/],
      [Float32Array.of(0, 0.5, 1.5, 0), /^x\[2\]:/],
      [Float32Array.of(0, NaN, 0, 0), /^x\[1\]:/],
      ["rows", /^x: expected a Float32Array/],
    ];
    for (const [x, msg] of bad) {
      let err: unknown;
      try { v.initOutputBias(x as Float32Array); } catch (e) { err = e; }
      expect(err, String(msg)).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(msg);
    }
    expect(v.getWeights()).toEqual(before);
  });
});
