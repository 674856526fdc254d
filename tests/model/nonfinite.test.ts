// A diverging run: fit rejects with NonFiniteLossError (not some other error,
// and not silently training on NaNs), and the model's weights are exactly those
// after the last finite step, as captured by onBatch → getWeights().
// Not here: validation of the inputs themselves (validation.test.ts).
import { describe, expect, it } from "vitest";
import { Adam, NonFiniteLossError, VAE } from "../../src/index.js";
import { randomArray } from "../reference.js";

const D = 16;
const data = randomArray(64 * D, 3, -1, 1);

function sameBits(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  return Object.keys(a).every((n) => Buffer.from(a[n].buffer, a[n].byteOffset, a[n].byteLength)
    .equals(Buffer.from(b[n].buffer, b[n].byteOffset, b[n].byteLength)));
}

const allFinite = (w: Record<string, Float32Array>) => Object.values(w).every((t) => t.every(Number.isFinite));

describe("non-finite loss during fit", () => {
  const diverging: [string, Adam, number][] = [
    ["lr = 1e6", new Adam({ lr: 1e6 }), 1],
    // a rate growing 10× per step: several finite steps before the blow-up
    ["lr = 10^(t−4) (1e-3, 1e-2, …)", new Adam({ lr: (t) => 10 ** (t - 4) }), 5], // measured: 10 finite steps
  ];
  for (const [label, optimizer, minFinite] of diverging) it(`${label} with a Gaussian likelihood of σ = 1e-3 diverges: NonFiniteLossError, weights of the last finite step`, async () => {
    const vae = await VAE.create({ inputDim: D, encoder: [8], latentDim: 2, likelihood: "gaussian", sigma: 1e-3, seed: 1 });
    let last: Record<string, Float32Array> | null = null;
    const losses: number[] = [];
    let err: unknown;
    try {
      await vae.fit(data, {
        epochs: 50, batchSize: 8, optimizer,
        onBatch: (b) => { losses.push(b.loss); last = vae.getWeights(); },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).name).toBe("NonFiniteLossError");
    expect((err as Error).message).toMatch(/last finite step/);
    // it trained (and reported) some finite steps first, then stopped
    expect(losses.length).toBeGreaterThanOrEqual(minFinite);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.length).toBeLessThan(50 * 8);
    expect(vae.steps).toBe(losses.length);
    // the weights are those after the last reported (finite) step, and finite
    expect(last).not.toBeNull();
    expect(sameBits(vae.getWeights(), last!)).toBe(true);
    expect(allFinite(vae.getWeights())).toBe(true);
    // and the model is still usable with a sane optimizer after restoring sane weights
    const sane = await VAE.create({ inputDim: D, encoder: [8], latentDim: 2, likelihood: "gaussian", sigma: 1, seed: 1 });
    vae.setWeights(sane.getWeights());
    vae.optimizer = new Adam({ lr: 1e-3 });
    await expect(vae.fit(data, { epochs: 1, batchSize: 8 })).resolves.toBeTruthy();
  });

  it("huge weights (setWeights 1e30): the first step is non-finite, the weights stay as set", async () => {
    const vae = await VAE.create({ inputDim: D, encoder: [8], latentDim: 2, likelihood: "gaussian", sigma: 0.1, seed: 2 });
    const w = vae.getWeights();
    w["decoder.0.weight"] = w["decoder.0.weight"].map((v) => Math.sign(v) * 1e30);
    w["encoder.0.weight"] = w["encoder.0.weight"].map((v) => Math.sign(v) * 1e30);
    vae.setWeights(w);
    const set = vae.getWeights();
    let batches = 0;
    await expect(vae.fit(data, { epochs: 2, batchSize: 8, onBatch: () => { batches++; } })).rejects.toThrow(NonFiniteLossError);
    expect(batches).toBe(0);
    expect(vae.steps).toBe(0);
    expect(sameBits(vae.getWeights(), set)).toBe(true);
  });

  it("trainStep on its own throws NonFiniteLossError too, leaving weights and step count alone", async () => {
    const vae = await VAE.create({ inputDim: D, encoder: [8], latentDim: 2, likelihood: "gaussian_learned", seed: 3 });
    // log σ of the output = −1e4 for every pixel: e^(−2s) overflows
    const w = vae.getWeights();
    w["decoder.1.bias"] = w["decoder.1.bias"].map((v, i) => (i >= D ? -1e4 : v));
    vae.setWeights(w);
    const set = vae.getWeights();
    expect(() => vae.trainStep(data.subarray(0, 8 * D))).toThrow(NonFiniteLossError);
    expect(vae.steps).toBe(0);
    expect(sameBits(vae.getWeights(), set)).toBe(true);
  });
});
