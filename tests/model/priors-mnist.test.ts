// The learned priors train on real MNIST: a 784-200-20 relu VAE with a
// mixture prior (K = 20) and with a VampPrior (K = 100 pseudo-inputs), 2
// epochs on 2,000 training images (batch 50, Adam lr 3e-3), ELBO with the
// sampled KL. The test −ELBO (500 test images) must fall far below the
// untrained model's and the fit's loss must fall from the first epoch to
// the second; logLikelihood stays at least as tight as the ELBO.
// Not here: the figures of the paper's recipe (bench/, README).
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, loadMnist, VAE, type VAEConfig } from "../../src/index.js";

const D = 784;
let train: Float32Array, test: Float32Array;
const mean = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length; };

beforeAll(async () => {
  train = (await loadMnist({ split: "train", limit: 2000 })).images;
  test = (await loadMnist({ split: "test", limit: 500 })).images;
});

describe.each([
  ["mixture K = 20", { type: "mixture", components: 20 }],
  ["vamp K = 100", { type: "vamp", components: 100 }],
] as [string, VAEConfig["prior"]][])("MNIST, prior %s", (_name, prior) => {
  it("2 epochs on 2,000 images lower the loss and the test −ELBO", async () => {
    const vae = await VAE.create({ inputDim: D, encoder: [200], latentDim: 20, activation: "relu", seed: 1, prior }, { build: "plain", threads: 1 });
    const untrained = -mean(vae.elbo(test).elbo);
    vae.optimizer = new Adam({ lr: 3e-3 });
    const h = await vae.fit(train, { epochs: 2, batchSize: 50 });
    const losses = h.epochs.map((e) => e.loss);
    const trained = -mean(vae.elbo(test).elbo);
    expect(untrained).toBeGreaterThan(500);
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(trained).toBeLessThan(untrained - 250);
    // measured (seed 1, plain, Node 20): untrained 551.6 / 550.9, epoch losses
    // 258.2 → 185.2 / 256.5 → 180.6, test −ELBO 171.8 (mixture) / 167.6 (vamp)
    expect(trained).toBeLessThan(200);
    const x = test.subarray(0, 50 * D);
    expect(-mean(vae.logLikelihood(x, { samples: 20 }))).toBeLessThan(-mean(vae.elbo(x, { samples: 20 }).elbo));
    console.log(`prior ${prior!.type}: untrained ${untrained.toFixed(1)}, epoch losses ${losses.map((l) => l.toFixed(1)).join(", ")}, test −ELBO ${trained.toFixed(1)}`);
  });
});
