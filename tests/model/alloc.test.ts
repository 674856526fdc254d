// The training step runs in place: after a warm-up, trainStep with a reused
// `out` object never grows wasm memory (same byteLength, same ArrayBuffer, so
// no view was detached) over 100 steps, and the JS heap does not grow over
// 300 steps. The heap check is coarse (heapUsed + arrayBuffers after a forced
// GC, < 2 MB; typed-array storage lives outside heapUsed, hence both): it
// catches a per-step leak of a batch- or weight-sized copy (≥ 30 kB × 300
// steps) but not a few stray bytes. The same holds for a conv layer list
// (conv2d, conv2d_transpose, flatten, reshape).
// Not here: what the step computes (tfjs-parity.test.ts).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { VAE, type StepResult } from "../../src/index.js";
import { randomArray } from "../reference.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void; // a gc() for this isolate, without --expose-gc on the command line

const D = 784, B = 64;
let vae: VAE;
const batch = randomArray(B * D, 1, 0, 1);
const out: StepResult = { loss: 0, reconstruction: 0, kl: 0 };
const opts = { out };

beforeAll(async () => {
  vae = await VAE.create({ inputDim: D, encoder: [64], latentDim: 8, seed: 1, maxBatch: B });
  for (let i = 0; i < 20; i++) vae.trainStep(batch, opts); // warm-up (JIT, first-use paths)
});

describe("allocation-free training step", () => {
  it("wasm memory: same size and same buffer over 100 steps; `out` is the returned object", () => {
    const mem = vae.kernels.memory, buf = mem.buffer, size = buf.byteLength;
    for (let i = 0; i < 100; i++) {
      const r = vae.trainStep(batch, opts);
      expect(r).toBe(out);
    }
    expect(mem.buffer.byteLength).toBe(size);
    expect(mem.buffer).toBe(buf);
    expect(Number.isFinite(out.loss) && out.loss > 0).toBe(true);
  });

  it("a batch larger than the activations grows memory once (the control: the check above can fail)", () => {
    const mem = vae.kernels.memory, buf = mem.buffer;
    const big = randomArray(4 * B * D, 2, 0, 1);
    vae.trainStep(big, opts);
    expect(mem.buffer).not.toBe(buf);
    const buf2 = mem.buffer, size2 = buf2.byteLength;
    for (let i = 0; i < 5; i++) vae.trainStep(big, opts);
    vae.trainStep(batch, opts);
    expect(mem.buffer).toBe(buf2);
    expect(mem.buffer.byteLength).toBe(size2);
  });

  it("JS heap + array buffers grow < 2 MB over 300 steps (coarse, after forced GCs)", () => {
    const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
    gc(); gc();
    const before = used();
    for (let i = 0; i < 300; i++) vae.trainStep(batch, opts);
    gc(); gc();
    const grown = used() - before;
    expect(grown).toBeLessThan(2 * 1024 * 1024); // measured: ~13 kB
  });
});

describe("allocation-free training step of a conv layer list", () => {
  it("conv2d / conv2d_transpose / flatten / reshape: same wasm buffer over 50 steps, JS heap grows < 2 MB over 150", async () => {
    const conv = await VAE.create({
      inputShape: [28, 28, 1], latentDim: 4, seed: 2, maxBatch: 16,
      encoder: [{ type: "conv2d", filters: 4, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, { type: "dense", units: 16 }],
      decoder: [{ type: "dense", units: 7 * 7 * 4 }, { type: "reshape", shape: [7, 7, 4] },
        { type: "conv2d_transpose", filters: 4, kernel: 3, stride: 2, padding: "same" },
        { type: "conv2d_transpose", filters: 1, kernel: 3, stride: 2, padding: "same" }],
    });
    const x = batch.subarray(0, 16 * D);
    for (let i = 0; i < 20; i++) conv.trainStep(x, opts); // warm-up
    const mem = conv.kernels.memory, buf = mem.buffer;
    for (let i = 0; i < 50; i++) conv.trainStep(x, opts);
    expect(mem.buffer).toBe(buf);
    const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
    gc(); gc();
    const before = used();
    for (let i = 0; i < 150; i++) conv.trainStep(x, opts);
    gc(); gc();
    expect(used() - before).toBeLessThan(2 * 1024 * 1024);
    expect(Number.isFinite(out.loss) && out.loss > 0).toBe(true);
  });
});
