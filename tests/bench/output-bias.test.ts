// bench/output-bias.ts: the decoder's output bias at the log-odds of the
// training mean (the IWAE authors' init, used by bench:paper's "…-databias"
// runs and bench:hierarchy-gap), against a float64 computation written here;
// setOutputBiasAtDataMean changes the x-decoder's output bias and nothing else,
// for one and for two stochastic layers.
import { afterAll, describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { dataMeanLogOdds, outputBiasName, setOutputBiasAtDataMean } from "../../bench/output-bias.js";
import { randomArray } from "../reference.js";

const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));

/** float64: logit of each column's mean, the mean clipped to [0.001, 0.999]. */
function reference(x: ArrayLike<number>, rows: number, D: number, scale: number): number[] {
  return Array.from({ length: D }, (_, d) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * D + d] * scale;
    const p = Math.min(0.999, Math.max(0.001, s / rows));
    return Math.log(p) - Math.log1p(-p);
  });
}

describe("bench/output-bias.ts", () => {
  it("dataMeanLogOdds vs float64, clipped columns included; a Uint8Array is read as gray levels / 255", () => {
    const rows = 7, D = 5;
    const x = randomArray(rows * D, 31, 0, 1);
    for (let r = 0; r < rows; r++) { x[r * D + 1] = 0; x[r * D + 3] = 1; } // means 0 and 1: clipped
    const got = dataMeanLogOdds(x, D), want = reference(x, rows, D, 1);
    for (let d = 0; d < D; d++) expect(Math.abs(got[d] - want[d]), `column ${d}`).toBeLessThan(1e-5 * (1 + Math.abs(want[d])));
    expect(got[1]).toBeCloseTo(Math.log(0.001 / 0.999), 5);
    expect(got[3]).toBeCloseTo(Math.log(0.999 / 0.001), 5);
    const u8 = Uint8Array.from(randomArray(rows * D, 32, 0, 255), (v) => Math.floor(v));
    const g8 = dataMeanLogOdds(u8, D), w8 = reference(u8, rows, D, 1 / 255);
    for (let d = 0; d < D; d++) expect(Math.abs(g8[d] - w8[d]), `uint8 column ${d}`).toBeLessThan(1e-5 * (1 + Math.abs(w8[d])));
  });

  const D = 6;
  const configs: [string, VAEConfig][] = [
    ["one stochastic layer", { inputDim: D, encoder: [5], latentDim: 3, decoder: [4, 5], seed: 1 }],
    ["two stochastic layers", { inputDim: D, seed: 1, latents: [{ encoder: [5], size: 3, decoder: [4] }, { encoder: [4], size: 2, decoder: [5] }] }],
  ];
  for (const [name, config] of configs) {
    it(`${name}: sets the x-decoder's output bias, and nothing else`, async () => {
      const v = await VAE.create(config, { threads: 1, build: "plain" });
      created.push(v);
      const before = v.getWeights(), x = randomArray(9 * D, 41, 0, 1);
      setOutputBiasAtDataMean(v, x);
      const after = v.getWeights(), name = outputBiasName(v);
      expect(name).toBe(config.latents ? "decoder.1.bias" : "decoder.2.bias");
      const want = reference(x, 9, D, 1);
      for (let d = 0; d < D; d++) expect(Math.abs(after[name][d] - want[d])).toBeLessThan(1e-5 * (1 + Math.abs(want[d])));
      for (const k of Object.keys(before)) if (k !== name) expect(after[k], k).toEqual(before[k]);
    });
  }
});
