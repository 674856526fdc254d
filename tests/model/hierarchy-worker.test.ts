// WorkerTrainer on a Node worker_thread (dist/worker-entry.js) with two
// stochastic layers: create from config.latents, fit, sample, elbo;
// the worker's model equals one trained in this thread bit for bit.
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Adam, VAE, type VAEConfig } from "../../src/index.js";
import { WorkerTrainer } from "../../src/worker/worker.js";
import { randomArray } from "../reference.js";

const CONFIG: VAEConfig = {
  inputDim: 6, activation: "tanh", seed: 5, objective: { type: "iwae", samples: 3 },
  latents: [{ encoder: [5], size: 3, decoder: [4] }, { encoder: [4], size: 2, decoder: [5] }],
};

describe("WorkerTrainer with config.latents", () => {
  it("trains, samples and evaluates; the same weights as the main thread", async () => {
    const x = randomArray(40 * 6, 3, 0, 1);
    const t = new WorkerTrainer(new Worker(new URL("../../dist/worker-entry.js", import.meta.url)));
    try {
      const info = await t.create(CONFIG, { threads: 1 });
      expect(info.config.latents?.map((l) => l.size)).toEqual([3, 2]);
      await t.setData("x", x);
      await t.fit("x", { epochs: 2, batchSize: 10 });
      expect((await t.sample(4)).length).toBe(24);
      expect((await t.elbo("x")).elbo.length).toBe(40);
      const here = await VAE.create(CONFIG, { threads: 1 });
      here.optimizer = new Adam();
      await here.fit(x, { epochs: 2, batchSize: 10, yieldEvery: 0 });
      expect(await t.getWeights()).toEqual(here.getWeights());
    } finally {
      await t.terminate();
    }
  }, 60_000);
});
