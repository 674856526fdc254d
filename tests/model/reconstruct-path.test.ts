// VAE.reconstruct's mean path (Inference.reconstructMean: μ copied inside the
// arena, the sigmoid fused into the output layer, SIMD range and finiteness
// scans, one allocation):
// - its output against a float64 forward of the model's weights, for dense,
//   conditional, conv, VampPrior and two-level models, every likelihood,
//   1 and 2 threads, 1, 2, 7 rows and more rows than maxBatch (chunks);
// - bit for bit: the fused sigmoid equals the activation kernel run as its
//   own pass on the logits (taken from a Gaussian model with the same
//   weights), and reconstruct equals decode(encode(x).mean) and the
//   row-by-row results; Float64Array, Uint8Array and number[] inputs equal
//   the Float32Array of the same values;
// - bad input: a named ArgumentError (x[i]), nothing changed; a non-finite
//   head or output: the general path's NonFiniteLossError message; decode's
//   and sample's output scan names the first non-finite value it returns.
// Not here: sample: true and categorical latents (inference.test.ts,
// categorical.test.ts), which take the general path.
import { describe, expect, it } from "vitest";
import { ArgumentError, NonFiniteLossError, VAE, type VAEConfig } from "../../src/index.js";
import { actRef, denseForwardRef, randomArray, type Act } from "../reference.js";
import { Arena, load } from "../kernels/helpers.js";

/** float64 forward of an MLP half (dense layers `${prefix}.i`), identity on its last layer. */
function mlpRef(vae: VAE, prefix: string, input: ArrayLike<number>, rows: number): Float64Array {
  const w = vae.getWeights(), shapes = vae.parameterShapes();
  const n = Object.keys(shapes).filter((k) => k.startsWith(`${prefix}.`) && /^[a-z]+\.\d+\.weight$/.test(k)).length;
  let h: ArrayLike<number> = input;
  for (let i = 0; i < n; i++) {
    const [IN, OUT] = shapes[`${prefix}.${i}.weight`];
    const act: Act = i === n - 1 ? "identity" : vae.config.activation;
    h = denseForwardRef(h, w[`${prefix}.${i}.weight`], w[`${prefix}.${i}.bias`], rows, IN, OUT, act, vae.config.activationAlpha).y;
  }
  return Float64Array.from(h);
}

/** decode(E[z|x]) in float64: μ from the encoder on [x | c], the decoder on [μ | c], then the likelihood's means. */
function reconstructRef(vae: VAE, x: ArrayLike<number>, rows: number, cond?: ArrayLike<number>): Float64Array {
  const { inputDim: D, latentDim: L, conditionDim: C, likelihood } = vae.config;
  const join = (a: ArrayLike<number>, aw: number, r: number) => {
    const o = new Float64Array(rows * (aw + C));
    for (let b = 0; b < rows; b++) {
      for (let j = 0; j < aw; j++) o[b * (aw + C) + j] = a[b * r + j];
      for (let j = 0; j < C; j++) o[b * (aw + C) + aw + j] = cond![b * C + j];
    }
    return o;
  };
  const h = mlpRef(vae, "encoder", join(x, D, D), rows);  // rows × [μ | log σ²]
  const out = mlpRef(vae, "decoder", join(h, L, 2 * L), rows);
  const W = likelihood === "gaussian_learned" ? 2 * D : D, mean = new Float64Array(rows * D);
  for (let b = 0; b < rows; b++) {
    for (let d = 0; d < D; d++) {
      const v = out[b * W + d];
      mean[b * D + d] = likelihood === "bernoulli" ? actRef(v, "sigmoid") : v;
    }
  }
  return mean;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(e <= worst)) { worst = e; at = i; }
  }
  expect(worst, `${label}: worst at ${at}: ${got[at]} vs ${want[at]}`).toBeLessThanOrEqual(tol);
}

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

const D = 24, C = 3;
const dense = (o: Partial<VAEConfig> = {}): VAEConfig =>
  ({ inputDim: D, encoder: [17], latentDim: 5, decoder: [19], activation: "tanh", seed: 4, maxBatch: 8, ...o }) as VAEConfig;
const MODELS: [string, VAEConfig][] = [
  ["dense, Bernoulli", dense()],
  ["dense, relu, two hidden layers", dense({ encoder: [16, 9], decoder: [9, 16], activation: "relu" })],
  ["dense, Gaussian σ = 0.3", dense({ likelihood: "gaussian", sigma: 0.3 })],
  ["dense, gaussian_learned", dense({ likelihood: "gaussian_learned" })],
  ["conditional", dense({ conditionDim: C })],
  ["VampPrior (encoder rows of its own)", dense({ prior: { type: "vamp", components: 3 } })],
];

describe("reconstruct against float64; same bits as decode(encode(x).mean) and row by row", () => {
  for (const [name, cfg] of MODELS) {
    for (const threads of [1, 2]) {
      it(`${name}, ${threads} thread(s): 1, 2, 7 and 19 rows (maxBatch 8)`, async () => {
        const vae = await VAE.create(cfg, { build: "plain", threads });
        const cond = cfg.conditionDim ? randomArray(19 * C, 3, 0, 1) : undefined;
        for (const rows of [1, 2, 7, 19]) {
          const x = randomArray(rows * D, rows, 0, 1), c = cond?.subarray(0, rows * C);
          const got = vae.reconstruct(x, { condition: c });
          expectClose(got, reconstructRef(vae, x, rows, c), 2e-6, `${name}, ${rows} rows`);
          const viaGeneral = vae.decode(vae.encode(x, { condition: c }).mean, { condition: c });
          expect(sameBits(got, viaGeneral), `${rows} rows: reconstruct = decode(encode(x).mean)`).toBe(true);
          for (let r = 0; r < rows; r += 3) {
            const one = vae.reconstruct(x.subarray(r * D, (r + 1) * D), { condition: c?.subarray(r * C, (r + 1) * C) });
            expect(sameBits(one, got.subarray(r * D, (r + 1) * D)), `row ${r} of ${rows}`).toBe(true);
          }
          expect(got.buffer).not.toBe(vae.kernels.memory.buffer);
        }
        vae.dispose();
      });
    }
  }

  it("two stochastic layers: decode of the first level's mean", async () => {
    const vae = await VAE.create({ inputDim: D, latents: [{ encoder: [9], size: 4, decoder: [8] }, { encoder: [5], size: 2, decoder: [6] }], seed: 5, maxBatch: 8 });
    const x = randomArray(11 * D, 21, 0, 1);
    const got = vae.reconstruct(x);
    expect(sameBits(got, vae.decode(vae.encode(x).mean))).toBe(true);
    expectClose(got, reconstructRef(vae, x, 11), 2e-6, "two levels");
    vae.dispose();
  });

  it("conv (conv2d_transpose output layer with the sigmoid fused), 1 and 2 threads", async () => {
    const cfg: VAEConfig = {
      inputShape: [8, 8, 1], latentDim: 2, activation: "relu", seed: 6, maxBatch: 8,
      encoder: [{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, { type: "dense", units: 6 }],
      decoder: [{ type: "dense", units: 32 }, { type: "reshape", shape: [4, 4, 2] }, { type: "conv2d_transpose", filters: 1, kernel: 3, stride: 2, padding: "same" }],
    };
    const x = randomArray(10 * 64, 22, 0, 1);
    const outs: Float32Array[] = [];
    for (const threads of [1, 2]) {
      const vae = await VAE.create(cfg, { build: "plain", threads });
      const got = vae.reconstruct(x);
      expect(sameBits(got, vae.decode(vae.encode(x).mean))).toBe(true);
      // the sigmoid against float64 of the fused pass's input: the Gaussian
      // twin's decoder output (identity link) on the same weights
      const twin = await VAE.create({ ...cfg, likelihood: "gaussian" }, { build: "plain", threads });
      twin.setWeights(vae.getWeights());
      const logits = twin.reconstruct(x);
      expectClose(got, Array.from(logits, (v) => actRef(v, "sigmoid")), 1e-6, "conv sigmoid");
      outs.push(got);
      vae.dispose(); twin.dispose();
    }
    expect(sameBits(outs[0], outs[1]), "1 and 2 threads").toBe(true);
  });
});

describe("the fused sigmoid has the bits of the sigmoid pass", () => {
  for (const build of ["plain", "relaxed"] as const) {
    it(`${build}: Bernoulli reconstruct = activation_forward(sigmoid) on the Gaussian twin's output (the logits)`, async () => {
      const cfg = dense({ maxBatch: 128 });
      const bern = await VAE.create(cfg, { build });
      const twin = await VAE.create({ ...cfg, likelihood: "gaussian" }, { build });
      twin.setWeights(bern.getWeights());
      const k = await load(build), arena = new Arena(k, 1 << 20);
      for (const rows of [1, 2, 5, 128]) {
        const x = randomArray(rows * D, 40 + rows, 0, 1);
        const logits = twin.reconstruct(x);
        arena.reset();
        const p = arena.put(logits);
        k.activationForward(p, p, logits.length, "sigmoid", 0);
        expect(sameBits(bern.reconstruct(x), arena.get(p, logits.length)), `${rows} rows`).toBe(true);
      }
      bern.dispose(); twin.dispose(); k.dispose();
    });
  }
});

describe("inputs and errors", () => {
  it("Float64Array, Uint8Array and number[] give the bits of the Float32Array of the same values", async () => {
    const vae = await VAE.create(dense({ maxBatch: 4 }));
    for (const rows of [1, 3, 9]) {
      const u8 = Uint8Array.from(randomArray(rows * D, 50 + rows, 0, 255), Math.floor);
      const f32 = Float32Array.from(u8, (v) => v * (1 / 255));
      const want = vae.reconstruct(f32);
      expect(sameBits(vae.reconstruct(u8), want), `${rows} rows, Uint8Array`).toBe(true);
      expect(sameBits(vae.reconstruct(Float64Array.from(f32)), want), `${rows} rows, Float64Array`).toBe(true);
      expect(sameBits(vae.reconstruct(Array.from(f32)), want), `${rows} rows, number[]`).toBe(true);
    }
    vae.dispose();
  });

  it("a NaN, ±Infinity or a value past float32 names x[i]; nothing changes (weights, the eval stream, later results)", async () => {
    const vae = await VAE.create(dense({ maxBatch: 8 }));
    const w0 = vae.getWeights();
    for (const rows of [1, 8, 13]) { // one chunk staged and scanned in the arena; two chunks checked in TypeScript
      const x = randomArray(rows * D, 60 + rows, 0, 1);
      const before = vae.reconstruct(x);
      for (const bad of [NaN, Infinity, -Infinity, 3.5e38, -1e39]) {
        const at = rows * D - 2;
        for (const arr of [Float32Array.from(x), Float64Array.from(x), Array.from(x)]) {
          arr[at] = bad;
          if (arr instanceof Float32Array && Math.abs(bad) > 3.4e38 && Number.isFinite(bad)) continue; // a Float32Array cannot hold it
          let err: unknown = null;
          try { vae.reconstruct(arr); } catch (e) { err = e; }
          expect(err, `${rows} rows, ${bad} in ${arr.constructor.name}`).toBeInstanceOf(ArgumentError);
          expect((err as Error).message).toContain(`x[${at}]`);
        }
      }
      expect(sameBits(vae.reconstruct(x), before), `${rows} rows: same result after the refused calls`).toBe(true);
    }
    const w1 = vae.getWeights();
    for (const key of Object.keys(w0)) expect(sameBits(w1[key], w0[key]), key).toBe(true);
    const s = vae.sample(3);
    const fresh = await VAE.create(dense({ maxBatch: 8 }));
    expect(sameBits(s, fresh.sample(3)), "the eval stream is where it started").toBe(true);
    vae.dispose(); fresh.dispose();
  });

  it("a head or an output that overflows float32: the general path's NonFiniteLossError", async () => {
    for (const rows of [1, 6]) {
      const enc = await VAE.create(dense({ likelihood: "gaussian" }));
      enc.setWeights({ "encoder.1.weight": new Float32Array(17 * 10).fill(3e38) });
      const x = randomArray(rows * D, 70, 0.5, 1);
      expect(() => enc.reconstruct(x)).toThrow(NonFiniteLossError);
      expect(() => enc.reconstruct(x)).toThrow(/^encode: mean\[\d+\] became -?Infinity/);
      const dec = await VAE.create(dense({ likelihood: "gaussian" }));
      dec.setWeights({ "decoder.1.weight": new Float32Array(19 * D).fill(3e38), "decoder.0.bias": new Float32Array(19).fill(5) });
      expect(() => dec.reconstruct(x)).toThrow(/^decode: result\[0\] became Infinity/);
      enc.dispose(); dec.dispose();
    }
  });

  it("decode and sample (their output scanned in the arena): the first non-finite value is named; a learned σ past float32 is not returned, so no error", async () => {
    const col = (W: number, j: number) => { const w = new Float32Array(19 * W); for (let i = 0; i < 19; i++) w[i * W + j] = 3e38; return w; };
    const g = await VAE.create(dense({ likelihood: "gaussian" }));
    g.setWeights({ "decoder.1.weight": col(D, 5), "decoder.0.bias": new Float32Array(19).fill(5) });
    const z = randomArray(3 * 5, 80, -1, 1);
    expect(() => g.decode(z)).toThrow(NonFiniteLossError);
    expect(() => g.decode(z)).toThrow(/^decode: result\[5\] became Infinity/);
    expect(() => g.sample(2)).toThrow(/^decode: result\[5\] became Infinity/);
    const learned = await VAE.create(dense({ likelihood: "gaussian_learned" }));
    learned.setWeights({ "decoder.1.weight": col(2 * D, D + 3), "decoder.0.bias": new Float32Array(19).fill(5) });
    const means = learned.decode(z);
    expect(means.length).toBe(3 * D);
    expect(means.every(Number.isFinite)).toBe(true);
    expectClose(learned.reconstruct(randomArray(3 * D, 81, 0, 1)), reconstructRef(learned, randomArray(3 * D, 81, 0, 1), 3), 2e-6, "σ half past float32");
    g.dispose(); learned.dispose();
  });
});
