// A short real-MNIST run of the discrete VAE of Jang, Gu & Poole 2017 (20
// categorical variables × 10 classes, the authors' notebook; narrower
// networks here, 784-256-(20 × 10)-256-784, to keep the test short): 3 epochs
// on 5,000 training images binarized once (x ~ Bernoulli(pixel), seeded),
// Adam 1e-3, batch 100. The training loss falls epoch after epoch, the
// discrete model's test −ELBO falls far below the untrained model's, and the
// importance-weighted bound is at least as tight as the ELBO.
// Not here: exactness (categorical.test.ts), speed (bench/categorical.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, loadMnist, VAE } from "../../src/index.js";

const D = 784;
const mean = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length; };
function binarize(x: Float32Array, seed: number): Float32Array {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  return x.map((p) => (u() < p ? 1 : 0));
}

let vae: VAE;
let untrained: number;
let losses: number[] = [];
let test: Float32Array;

beforeAll(async () => {
  const train = binarize((await loadMnist({ split: "train", limit: 5000 })).images, 1);
  test = binarize((await loadMnist({ split: "test", limit: 500 })).images, 2);
  vae = await VAE.create({ inputDim: D, encoder: [256], decoder: [256], seed: 1, latent: { type: "categorical", variables: 20, classes: 10 } }, { build: "plain", threads: 1 });
  untrained = -mean(vae.elbo(test).elbo);
  vae.optimizer = new Adam({ lr: 1e-3 });
  const h = await vae.fit(train, { epochs: 3, batchSize: 100 });
  losses = h.epochs.map((e) => e.loss);
}, 120_000);

describe("categorical 20 × 10 on binarized MNIST, 3 short epochs", () => {
  it("the training loss falls every epoch, and the discrete test −ELBO far below the untrained model's", () => {
    // measured (seed 1, plain build, Node 20): losses 303.8, 207.5, 203.5; untrained 545.0, trained ≈ 193.6
    for (let e = 1; e < losses.length; e++) expect(losses[e], `epoch ${e + 1} vs ${e}`).toBeLessThan(losses[e - 1]);
    const negElbo = -mean(vae.elbo(test).elbo);
    expect(untrained).toBeGreaterThan(500);
    expect(negElbo).toBeLessThan(untrained - 250);
  });

  it("the importance-weighted bound (k = 50, one-hot z ~ q) is at least as tight as the ELBO", () => {
    const x = test.subarray(0, 100 * D);
    const nll = -mean(vae.logLikelihood(x, { samples: 50 }));
    const negElbo = -mean(vae.elbo(x, { samples: 20 }).elbo);
    // measured: 190.9 vs 193.6
    expect(nll).toBeLessThan(negElbo);
    expect(nll).toBeGreaterThan(negElbo - 30);
  });
});
