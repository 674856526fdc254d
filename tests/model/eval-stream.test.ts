// elbo and logLikelihood draw ε from the evaluation stream as the model's
// seed starts it, on every call, in chunks of config.maxBatch rows: the same
// weights, seed and maxBatch give the same bits whatever ran before (fit with
// validation, sample, a training batch that grew the arena), after save and
// load (with or without the optimizer state, VAE.load or an instance's load),
// on any thread count; and the running evaluation stream (sample, impute)
// does not move. The values are checked against the float64 ELBO and IWAE
// from ε drawn by the reference generator (tests/reference.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { evalStreamRef, randomArray, rngNormalRef, vaeElboRef, vaeIwaeRef } from "../reference.js";

const D = 12, L = 3, N = 40, SEED = 11;
// maxBatch 15 with L = 3: a chunk draws 45 normals, an odd count whose last
// Box–Muller partner is dropped, so the draws depend on the chunk size
const CONFIG: VAEConfig = { inputDim: D, encoder: [10], latentDim: L, activation: "tanh", seed: SEED, maxBatch: 15 };
const data = randomArray(96 * D, 3, 0, 1);
const x = randomArray(N * D, 4, 0, 1);

const bits = (a: Float32Array | Float64Array) => Array.from(a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length)
  : new Uint32Array(a.buffer, a.byteOffset, 2 * a.length));

/** Every figure of elbo (2 samples per row) and logLikelihood (k = 3), as bits. */
function figures(vae: VAE): number[][] {
  const e = vae.elbo(x, { samples: 2 });
  return [bits(e.elbo), bits(e.reconstruction), bits(e.kl), bits(vae.logLikelihood(x, { samples: 3 }))];
}

describe("elbo and logLikelihood depend on the weights, seed and maxBatch alone", () => {
  let vae: VAE;
  let before: number[][];
  beforeAll(async () => {
    vae = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    // two epochs with validation (each elbo call drew), batches of 32 > maxBatch (the arena grows)
    await vae.fit(data, { epochs: 2, batchSize: 32, validation: x, yieldEvery: 0 });
    expect(vae.batchCapacity).toBeGreaterThanOrEqual(32);
    vae.sample(7); // the running evaluation stream moves on
    before = figures(vae);
  });

  it("the same bits on every call, and the running evaluation stream stays where it was", () => {
    const s = vae.exportState().rngEval!.slice();
    expect(figures(vae)).toEqual(before);
    expect(vae.exportState().rngEval).toEqual(s);
    vae.sample(3);
    expect(vae.exportState().rngEval).not.toEqual(s); // sample draws from the running stream
    expect(figures(vae)).toEqual(before);
  });

  it("before save = after VAE.load (with and without the optimizer state, 2 threads) = after an instance's load", async () => {
    const bytes = vae.save();
    const loaded = await VAE.load(bytes, { build: "plain", threads: 1 });
    expect(loaded.batchCapacity).toBe(15); // a fresh arena of 15 rows (the trained one grew to 32): both evaluate in chunks of maxBatch
    expect(figures(loaded)).toEqual(before);
    expect(figures(await VAE.load(vae.save({ optimizer: false }), { build: "plain", threads: 1 }))).toEqual(before);
    const threaded = await VAE.load(bytes, { build: "plain", threads: 2 });
    expect(figures(threaded)).toEqual(before);
    threaded.dispose();
    const other = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    other.sample(5);
    other.load(bytes);
    expect(figures(other)).toEqual(before);
  });

  it("elbo and logLikelihood equal the float64 ELBO and IWAE from the seed's evaluation stream, drawn chunk by chunk", () => {
    const w = vae.getWeights();
    // elbo, 1 sample: chunks of 15, 15, 10 rows, each drawing B·L normals from the one stream
    const s = evalStreamRef(SEED), eps: number[] = [];
    for (let start = 0; start < N; start += 15) eps.push(...rngNormalRef(s, Math.min(15, N - start) * L));
    const ref = vaeElboRef(w, vae.config, x, undefined, eps, N);
    const got = vae.elbo(x);
    for (let r = 0; r < N; r++) expect(Math.abs(got.elbo[r] - ref.elbo[r]), `elbo row ${r}`).toBeLessThan(1e-5 * (1 + Math.abs(ref.elbo[r])));
    // ε from one unchunked draw differs after the first chunk (the dropped partner): the check sees the chunks
    const flat = vaeElboRef(w, vae.config, x, undefined, rngNormalRef(evalStreamRef(SEED), N * L), N);
    expect(Math.abs(flat.elbo[20] - ref.elbo[20])).toBeGreaterThan(1e-3);
    // logLikelihood, k = 3: 120 sample rows (row-major: row, then sample) in chunks of 15
    const s2 = evalStreamRef(SEED), eps2: number[] = [];
    for (let done = 0; done < N * 3; done += 15) eps2.push(...rngNormalRef(s2, 15 * L));
    const ll = vae.logLikelihood(x, { samples: 3 }), llRef = vaeIwaeRef(w, vae.config, x, undefined, eps2, N, 3);
    for (let r = 0; r < N; r++) expect(Math.abs(ll[r] - llRef[r]), `IWAE row ${r}`).toBeLessThan(1e-5 * (1 + Math.abs(llRef[r])));
  });
});
