// Item 2 of issue 10: numbers are checked as the float32 values the kernels
// use. Data must be finite once rounded to float32 (1e39 is not), Gaussian
// targets lie within ±1e8, and hyperparameters have ranges in which the
// float32 math stays finite: σ ∈ [1e-6, 1e6], α ≤ 1e6 (elu α ≥ 1e-6),
// β ≤ 1e6, temperature ≤ 1e6. The errors say the range and why. At the edges
// of those ranges the results are finite (checked here at the extreme
// corners, with weights that make the decoder output a known mean).
import { describe, expect, it } from "vitest";
import { ArgumentError, NonFiniteLossError, VAE } from "../../src/index.js";
import { expectThrows } from "./harden-helpers.js";

const D = 784, L = 2;
const base = { inputDim: D, encoder: [8], latentDim: L, seed: 5 };
const F32_MAX = 3.4028234663852886e38;

/** Zero weights and biases: the encoder outputs μ = 0, log σ² = 0 and the
 *  decoder outputs 0 (a mean of 0, log σ = 0 for gaussian_learned). */
function zeroWeights(vae: VAE): void {
  const w = vae.getWeights();
  for (const n of Object.keys(w)) w[n] = new Float32Array(w[n].length);
  vae.setWeights(w);
}

const allFinite = (a: ArrayLike<number>) => Array.from(a).every(Number.isFinite);

describe("data is checked as float32", () => {
  it("encode / decode with 1e39 (finite as float64, Infinity as float32) throw an ArgumentError naming the value", async () => {
    const vae = await VAE.create(base);
    for (const make of [(n: number) => new Float64Array(n), (n: number) => new Array<number>(n)]) {
      const x = make(D).fill(0.5); x[3] = 1e39;
      await expectThrows(() => vae.encode(x as never), ArgumentError, ["x[3]", "float32", "1e+39"], [vae]);
      const z = make(L).fill(0); z[1] = -1e39;
      await expectThrows(() => vae.decode(z as never), ArgumentError, ["z[1]", "float32"], [vae]);
      await expectThrows(() => vae.interpolate(x as never, new Float32Array(D), 3), ArgumentError, "xa[3]", [vae]);
    }
    await expectThrows(() => vae.setWeights({ "encoder.0.bias": new Float64Array(8).fill(4e38) }), ArgumentError, 'weights["encoder.0.bias"][0]', [vae]);
    await expectThrows(() => vae.computeGradients(new Float32Array(D).fill(0.5), { noise: [0, 1e39] }), ArgumentError, "noise[1]", [vae]);
  });

  it("the largest float32 is accepted (the boundary is float32's, not a smaller one)", async () => {
    const vae = await VAE.create(base);
    zeroWeights(vae);
    const p = vae.decode(new Float64Array([F32_MAX, -F32_MAX]));
    expect(p[0]).toBe(0.5); // σ(0): zero weights ignore z
  });

  it("a finite float32 input that overflows inside the network is a NonFiniteLossError, not NaN", async () => {
    const vae = await VAE.create(base);
    await expectThrows(() => vae.encode(new Float32Array(D).fill(1e38)), NonFiniteLossError, "encode", [vae]);
  });

  it("Gaussian targets beyond ±1e8 (was NaN / −Infinity for 1e30)", async () => {
    for (const likelihood of ["gaussian", "gaussian_learned"] as const) {
      const vae = await VAE.create({ ...base, likelihood });
      const x = new Float32Array(D); x[0] = 1e30;
      for (const [label, call] of [
        ["elbo", () => vae.elbo(x)], ["logLikelihood", () => vae.logLikelihood(x, { samples: 2 })],
        ["trainStep", () => vae.trainStep(x)], ["fit", () => vae.fit(x, { epochs: 1 })],
        ["impute", () => vae.impute(x, new Uint8Array(D).fill(1))],
      ] as const) {
        const e = await expectThrows(call, ArgumentError, ["[0]", "e+30", "100000000", "float32"], [vae]);
        expect(e.message, label).toContain(likelihood);
      }
      await expectThrows(() => vae.impute(new Float32Array(D), new Uint8Array(D), { initial: -2e8 }), ArgumentError, "initial", [vae]);
      // encode takes any float32 input (it is not a likelihood target)
      expect(allFinite(vae.encode(new Float32Array(D).fill(1e3)).mean)).toBe(true);
    }
  });

  it("at the edges (targets ±1e8, σ = 1e-6 with mean 0) the ELBO and log-likelihood are finite", async () => {
    const x = Float32Array.from({ length: D }, (_, i) => (i % 2 ? 1e8 : -1e8));
    for (const cfg of [{ likelihood: "gaussian", sigma: 1e-6 }, { likelihood: "gaussian", sigma: 1e6 }, { likelihood: "gaussian_learned" }] as const) {
      const vae = await VAE.create({ ...base, ...cfg });
      zeroWeights(vae);
      const r = vae.elbo(x);
      expect(allFinite(r.elbo), JSON.stringify(cfg)).toBe(true);
      // fixed σ: −ELBO = Σ x²/(2σ²) + D log σ + D/2 log 2π + KL (KL = 0 here)
      const sigma = "sigma" in cfg ? cfg.sigma : 1;
      const ref = D * (1e16 / (2 * sigma * sigma) + Math.log(sigma) + 0.5 * Math.log(2 * Math.PI));
      expect(Math.abs(-r.elbo[0] - ref) / ref).toBeLessThan(1e-6);
      expect(allFinite(vae.logLikelihood(x, { samples: 3 }))).toBe(true);
    }
  });
});

describe("hyperparameters have float32-safe ranges, stated in the error", () => {
  const cases: [string, object, string[]][] = [
    ["sigma 1e-50 (0 in float32)", { likelihood: "gaussian", sigma: 1e-50 }, ["config.sigma", "0.000001", "float32"]],
    ["sigma 1e39", { likelihood: "gaussian", sigma: 1e39 }, ["config.sigma", "1000000", "float32"]],
    ["sigma 0", { likelihood: "gaussian", sigma: 0 }, ["config.sigma"]],
    ["elu alpha 1e39", { activation: "elu", activationAlpha: 1e39 }, ["config.activationAlpha", "1000000", "float32"]],
    ["elu alpha 1e-50", { activation: "elu", activationAlpha: 1e-50 }, ["config.activationAlpha", "elu", "float32"]],
    ["leaky_relu alpha 1", { activation: "leaky_relu", activationAlpha: 1 }, ["config.activationAlpha", "[0, 1)"]],
    ["beta 1e39", { beta: 1e39 }, ["config.beta", "1000000", "float32"]],
  ];
  it.each(cases)("%s", async (_l, extra, words) => {
    await expectThrows(() => VAE.create({ ...base, ...extra }), ArgumentError, words);
  });

  it("per-call hyperparameters: beta of trainStep, temperature of sample, klWarmupEpochs", async () => {
    const vae = await VAE.create(base);
    const x = new Float32Array(D).fill(0.5);
    await expectThrows(() => vae.trainStep(x, { beta: 1e39 }), ArgumentError, ["beta", "float32"], [vae]);
    await expectThrows(() => vae.computeGradients(x, { beta: 2e6 }), ArgumentError, "beta", [vae]);
    await expectThrows(() => vae.sample(2, { temperature: 1e300 }), ArgumentError, ["temperature", "1000000"], [vae]);
    await expectThrows(() => vae.sample(2, { temperature: 1e7 }), ArgumentError, "temperature", [vae]);
    await expectThrows(() => vae.fit(x, { klWarmupEpochs: 1e300 }), ArgumentError, "klWarmupEpochs", [vae]);
  });

  it("at the edges the math stays finite: elu α = 1e6 and 1e-6, temperature 1e6, β = 1e6", async () => {
    for (const activationAlpha of [1e6, 1e-6]) {
      const vae = await VAE.create({ ...base, activation: "elu", activationAlpha });
      const x = Float32Array.from({ length: D }, (_, i) => (i % 7) / 6);
      const e = vae.encode(x);
      expect(allFinite(e.mean) && allFinite(e.logvar), `elu α ${activationAlpha}`).toBe(true);
    }
    const vae = await VAE.create(base);
    expect(allFinite(vae.sample(3, { temperature: 1e6 }))).toBe(true);
    const r = vae.trainStep(new Float32Array(D).fill(0.5), { beta: 1e6 });
    expect(Number.isFinite(r.loss)).toBe(true);
  });
});
