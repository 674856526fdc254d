// A convolutional VAE trains to bit-identical weights, Adam moments and
// random streams on 1, 2 and 3 threads, with every kernel call split
// (minWork 0): the conv layers' GEMMs, the paired dW/dx job of the
// transposed convolution's backward, the fused activation/bias backward,
// and a batch chunk that differs between one thread (256 KiB of im2col) and
// several (512 KiB): at B = 61 the 16×16×3 layers run in chunks of 37 images
// on one thread and of 61 on threads. Both builds.
// Not here: MLPs (determinism.test.ts), single kernels (kernels.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { convChunkImages, convGeometry } from "../../src/conv-shape.js";
import { LAYER_CHUNK_FLOATS, THREADED_CHUNK_FLOATS } from "../../src/layers/conv.js";
import type { ThreadPool } from "../../src/pool.js";
import { randomArray } from "../reference.js";
import { expectSameBits } from "../kernels/helpers.js";

const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));

const CONV: VAEConfig = {
  inputShape: [16, 16, 3],
  encoder: [{ type: "conv2d", filters: 8, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, 12],
  latentDim: 3,
  decoder: [{ type: "dense", units: 8 * 8 * 6 }, { type: "reshape", shape: [8, 8, 6] },
    { type: "conv2d_transpose", filters: 3, kernel: 3, stride: 2, padding: "same" }],
  activation: "tanh", likelihood: "bernoulli", seed: 5, maxBatch: 61,
};

function stateBits(vae: VAE): Uint32Array {
  const s = vae.exportState();
  const parts: Uint32Array[] = [];
  for (const rec of [s.weights, s.m, s.v]) for (const a of Object.values(rec!)) parts.push(new Uint32Array(a.buffer, a.byteOffset, a.length));
  parts.push(s.rngTrain!, s.rngEval!);
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

describe("the chunks differ between one thread and several", () => {
  it("the 16×16×3 conv2d runs 37 images per chunk on one thread and 61 on threads at B = 61", () => {
    const g = convGeometry("conv2d", [16, 16, 3], { filters: 8, kernel: 3, stride: 2, padding: "same" });
    expect(convChunkImages(g, 61, LAYER_CHUNK_FLOATS)).toBe(37);
    expect(convChunkImages(g, 61, THREADED_CHUNK_FLOATS)).toBe(61);
  });
});

describe.each(["plain", "relaxed"] as const)("%s build", (build) => {
  it("20 steps of a conv VAE, every call split: same bits on 1, 2 and 3 threads", async () => {
    const x = randomArray(150 * 768, 3, 0, 1);
    let ref: { bits: Uint32Array; losses: number[] } | null = null;
    for (const t of [1, 2, 3]) {
      const vae = await VAE.create(CONV, { threads: t, build });
      created.push(vae);
      expect(vae.threads).toBe(t);
      const pool = vae.kernels.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      const losses: number[] = [];
      for (let s = 0; s < 20; s++) {
        const start = (s * 61) % (150 - 61 + 1);
        losses.push(vae.trainStep(x.subarray(start * 768, (start + 61) * 768)).loss);
      }
      if (pool) expect(pool.stats().workerTasks, "tasks run by workers").toBeGreaterThan(0);
      const bits = stateBits(vae);
      if (!ref) ref = { bits, losses };
      else {
        expect(losses, `${t} threads: losses`).toEqual(ref.losses);
        expectSameBits(bits, ref.bits, `${t} threads: weights, moments and streams`);
      }
    }
  });
});
