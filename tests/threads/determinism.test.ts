// Training on 1, 2, 3 and 4 threads gives bit-identical weights and Adam
// moments (plain build; relaxed too, on one machine), on layer widths and a
// batch that do not divide evenly into tiles, ranges or threads: once with
// splitting forced for every kernel call (minWork 0) and once with the
// default threshold on the MNIST-sized VAE. Also: the `threads` option of
// VAE.create and fit (validation, vae.threads, the count restored after fit).
// Not here: single kernels (kernels.test.ts), failures (failure.test.ts).
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { ArgumentError, fit, VAE, type VAEConfig } from "../../src/index.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import type { Build } from "../../src/kernels/wasm.js";
import { randomArray } from "../reference.js";
import { expectSameBits } from "../kernels/helpers.js";
import { stateBits } from "../helpers.js";

const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));

async function model(config: VAEConfig, threads: number, build: Build, minWork?: number): Promise<VAE> {
  const vae = await VAE.create(config, { threads, build });
  created.push(vae);
  expect(vae.threads).toBe(threads);
  expect(vae.build).toBe(build);
  if (minWork !== undefined) (vae.kernels.threadsHandle as ThreadPool | null)?.tune({ minWork });
  return vae;
}

function train(vae: VAE, x: Float32Array, steps: number, B: number): number[] {
  const losses: number[] = [];
  const D = vae.config.inputDim, rows = x.length / D;
  for (let s = 0; s < steps; s++) {
    const start = (s * B) % (rows - B + 1);
    losses.push(vae.trainStep(x.subarray(start * D, (start + B) * D)).loss);
  }
  return losses;
}

const UNEVEN: VAEConfig = {
  inputDim: 61, encoder: [37, 23], latentDim: 5, decoder: [29, 43],
  activation: "tanh", likelihood: "bernoulli", seed: 11, maxBatch: 133,
};

describe.each(["plain", "relaxed"] as const)("%s build", (build) => {
  it("50 steps, every call split (minWork 0), 61-37-23-5-29-43-61 at B = 133: same bits on 1, 2, 3, 4 threads", async () => {
    const x = randomArray(300 * 61, 1, 0, 1);
    let ref: { bits: Uint32Array; losses: number[] } | null = null;
    for (const t of [1, 2, 3, 4]) {
      const vae = await model(UNEVEN, t, build, 0);
      const pool = vae.kernels.threadsHandle as ThreadPool | null;
      pool?.leaveLastTask(true); // workers run tasks however busy the machine is
      const losses = train(vae, x, 50, 133);
      const bits = stateBits(vae);
      if (pool) {
        const st = pool.stats();
        expect(st.splitCalls, "calls split").toBeGreaterThan(50 * 10);
        expect(st.workerTasks, "tasks run by workers").toBeGreaterThan(0);
      }
      if (!ref) ref = { bits, losses };
      else {
        expect(losses, `${t} threads: losses`).toEqual(ref.losses);
        expectSameBits(bits, ref.bits, `${t} threads: weights and moments`);
      }
    }
  });
});

describe.each(["plain", "relaxed"] as const)("objectives, %s build", (build) => {
  for (const objective of [{ type: "iwae" as const, samples: 7 }, { type: "iwae" as const, samples: 5, gradient: "dreg" as const }]) {
    it(`30 steps of ${JSON.stringify(objective)}, every call split (minWork 0), B = 23: same bits on 1, 2, 3 threads`, async () => {
      const x = randomArray(100 * 61, 3, 0, 1);
      let ref: { bits: Uint32Array; losses: number[] } | null = null;
      for (const t of [1, 2, 3]) {
        const vae = await model({ ...UNEVEN, objective }, t, build, 0);
        const losses = train(vae, x, 30, 23);
        const bits = stateBits(vae);
        if (!ref) ref = { bits, losses };
        else {
          expect(losses, `${t} threads: losses`).toEqual(ref.losses);
          expectSameBits(bits, ref.bits, `${t} threads: weights and moments`);
        }
      }
    });
  }
});

describe("plain build, default threshold", () => {
  it("784-400-20-400-784 at B = 67: 50 steps give the same bits on 1, 2, 3 and 4 threads", async () => {
    const cfg: VAEConfig = { inputDim: 784, encoder: [400], latentDim: 20, decoder: [400], seed: 3, maxBatch: 67 };
    const x = randomArray(200 * 784, 2, 0, 1);
    let ref: Uint32Array | null = null;
    for (const t of [1, 2, 3, 4]) {
      const vae = await model(cfg, t, "plain");
      train(vae, x, 50, 67);
      const pool = vae.kernels.threadsHandle as ThreadPool | null;
      if (pool) expect(pool.stats().splitCalls, "the default threshold splits this model's GEMMs").toBeGreaterThan(0);
      const bits = stateBits(vae);
      if (!ref) ref = bits;
      else expectSameBits(bits, ref, `${t} threads`);
      vae.dispose();
    }
  });
});

describe("the threads option", () => {
  it("VAE.create rejects a bad count with an ArgumentError naming threads", async () => {
    for (const bad of [0, 17, 1.5, -1, "many"]) {
      await expect(VAE.create(UNEVEN, { threads: bad as never })).rejects.toThrow(ArgumentError);
      await expect(VAE.create(UNEVEN, { threads: bad as never })).rejects.toThrow(/^threads: expected "auto" or an integer in \[1, 16\]/);
    }
    // null is not "the default" (as for every option)
    await expect(VAE.create(UNEVEN, { threads: null as never })).rejects.toThrow(/^options\.threads: expected a value/);
  });

  it("wasm bytes given for a build without its shared twin run on one thread, and say why", async () => {
    const bytes = new Uint8Array(readFileSync(new URL("../../build/vae.plain.wasm", import.meta.url)));
    const vae = await VAE.create(UNEVEN, { build: "plain", wasm: { plain: bytes }, threads: 2 });
    expect(vae.threads).toBe(1);
    expect(vae.threadsNote).toMatch(/not its shared-memory twin "plain\.shared"/);
  });

  it("batch-1 inference stays on the calling thread (nothing is split at the default threshold)", async () => {
    const cfg: VAEConfig = { inputDim: 784, encoder: [512, 256], latentDim: 32, decoder: [256, 512], seed: 1, maxBatch: 8 };
    const vae = await model(cfg, 2, "plain");
    const pool = vae.kernels.threadsHandle as ThreadPool;
    const before = pool.stats().splitCalls;
    const x = randomArray(784, 6, 0, 1);
    vae.reconstruct(x);
    vae.encode(x);
    vae.decode(randomArray(32, 7));
    expect(pool.stats().splitCalls).toBe(before);
    vae.reconstruct(randomArray(8 * 784, 8, 0, 1));
    expect(pool.stats().splitCalls, "while 8 rows are split").toBeGreaterThan(before);
  });

  it('"auto" (the default) runs on the cores Node reports, at most 8', async () => {
    const os = await import("node:os");
    const vae = await VAE.create(UNEVEN);
    created.push(vae);
    expect(vae.threads).toBe(Math.min(os.availableParallelism(), 8));
  });

  it("fit({ threads }) trains like one thread, restores the model's count, and rejects more than the model has", async () => {
    const x = randomArray(400 * 61, 4, 0, 1);
    const a = await model(UNEVEN, 1, "plain");
    const b = await model(UNEVEN, 3, "plain", 0);
    await fit(a, x, { epochs: 2, batchSize: 50 });
    await fit(b, x, { epochs: 2, batchSize: 50, threads: 2 });
    expect(b.threads).toBe(3);
    expectSameBits(stateBits(b), stateBits(a), "fit on 2 of 3 threads vs 1");
    const steps = b.steps;
    await expect(fit(b, x, { epochs: 1, threads: 4 })).rejects.toThrow(/^threads: expected an integer in \[1, 3\]/);
    await expect(fit(a, x, { epochs: 1, threads: 2 })).rejects.toThrow(ArgumentError);
    expect(b.steps, "a rejected fit takes no step").toBe(steps);
  });
});
