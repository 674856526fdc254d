// Binarization as the papers do it: binarize(x, seed) (a test set, once) and
// fit's binarize: "dynamic" (x ~ Bernoulli(pixel) afresh for every batch, from
// the model's stream, saved with it) and "static" (once, with a seed).
// References: the draw rule u < p with u = HostRng.nextU32()·2⁻³² (random.ts,
// a module separate from the inlined generator in binarize.ts); fit against
// trainStep on batches binarized here by hand; resume against one run.
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Adam, ArgumentError, binarize, VAE, type VAEConfig } from "../../src/index.js";
import { HostRng } from "../../src/base/random.js";
import { BINARIZE_DYNAMIC_STREAM, BINARIZE_STATIC_STREAM } from "../../src/training/binarize.js";
import { randomArray } from "../reference.js";
import { expectThrows } from "./harden-helpers.js";

const D = 12, ROWS = 40;
const CONFIG: VAEConfig = { inputDim: D, encoder: [8], latentDim: 3, seed: 7 };
const gray = Float32Array.from(randomArray(ROWS * D, 5, 0, 1));

/** Bernoulli draws of p (row-major) with the rule of the papers, from HostRng. */
function drawsRef(p: ArrayLike<number>, rng: HostRng, scale = 1): Float32Array {
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = rng.nextU32() / 2 ** 32 < p[i] * scale ? 1 : 0;
  return out;
}

const same = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) =>
  Object.keys(a).every((k) => a[k].length === b[k].length && a[k].every((v, i) => Object.is(v, b[k][i])));

describe("binarize(x, seed)", () => {
  it("draws x ~ Bernoulli(p) with u < p, u from the seeded stream: exactly the reference", () => {
    const got = binarize(gray, 123);
    expect(Array.from(got)).toEqual(Array.from(drawsRef(gray, new HostRng(123, BINARIZE_STATIC_STREAM))));
    // a Uint8Array is read as value / 255
    const bytes = Uint8Array.from(gray, (v) => Math.round(v * 255));
    expect(Array.from(binarize(bytes, 9))).toEqual(Array.from(drawsRef(bytes, new HostRng(9, BINARIZE_STATIC_STREAM), 1 / 255)));
    expect(Array.from(binarize(Array.from(gray), 123))).toEqual(Array.from(got)); // number[] alike
  });

  it("frequencies match p; 0 and 1 stay; the seed decides", () => {
    const n = 200_000, p = 0.3;
    const ones = binarize(new Float32Array(n).fill(p), 1).reduce((a, b) => a + b, 0);
    expect(Math.abs(ones / n - p)).toBeLessThan(4 * Math.sqrt(p * (1 - p) / n));
    expect(binarize(new Float32Array(1000), 2).every((v) => v === 0)).toBe(true);
    expect(binarize(new Float32Array(1000).fill(1), 2).every((v) => v === 1)).toBe(true);
    expect(binarize(new Uint8Array(1000).fill(255), 2).every((v) => v === 1)).toBe(true);
    const a = binarize(gray, 1), b = binarize(gray, 1), c = binarize(gray, 2);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("refuses bad input by name", async () => {
    await expectThrows(() => binarize(Float32Array.of(0.5, 1.5), 1), ArgumentError, "x[1]", []);
    await expectThrows(() => binarize(Float32Array.of(NaN), 1), ArgumentError, "x[0]", []);
    await expectThrows(() => binarize("abc" as never, 1), ArgumentError, "x", []);
    await expectThrows(() => binarize(gray, -1), ArgumentError, "seed", []);
    await expectThrows(() => binarize(gray, 1.5), ArgumentError, "seed", []);
  });
});

describe("fit({ binarize })", () => {
  it('"dynamic" trains on batches binarized afresh from the model\'s stream: equal to trainStep on hand-binarized batches', async () => {
    const B = 8;
    const a = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    a.optimizer = new Adam({ lr: 1e-2 });
    await a.fit(gray, { epochs: 2, batchSize: B, shuffle: false, binarize: "dynamic", yieldEvery: 0 });
    const b = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    b.optimizer = new Adam({ lr: 1e-2 });
    const rng = new HostRng(CONFIG.seed!, BINARIZE_DYNAMIC_STREAM);
    const batches: Float32Array[] = [];
    for (let e = 0; e < 2; e++) {
      for (let s = 0; s < ROWS; s += B) {
        const xb = drawsRef(gray.subarray(s * D, (s + B) * D), rng);
        batches.push(xb);
        b.trainStep(xb);
      }
    }
    expect(same(a.getWeights(), b.getWeights())).toBe(true);
    // afresh: the same rows drew different values in the two epochs
    expect(Array.from(batches[0])).not.toEqual(Array.from(batches[ROWS / B]));
    // and the stream state moved on, as saved
    expect(Array.from(a.exportState().binarizeRng!)).toEqual(Array.from(rng.s));
  });

  it('"dynamic" resumes bit-identically: 2 epochs in one go = 1 + save/load + 1, and = a stop mid-epoch + resume', async () => {
    const run = async (split: "none" | "epoch" | "batch") => {
      let m = await VAE.create(CONFIG, { build: "plain", threads: 1 });
      m.optimizer = new Adam({ lr: 1e-2 });
      const opts = { batchSize: 8, binarize: "dynamic" as const, yieldEvery: 0 };
      if (split === "none") { await m.fit(gray, { ...opts, epochs: 2 }); return m; }
      const ac = new AbortController();
      await m.fit(gray, { ...opts, epochs: split === "epoch" ? 1 : 2, signal: ac.signal,
        onBatch: (info) => { if (split === "batch" && info.epoch === 1 && info.batch === 2) ac.abort(); } });
      m = await VAE.load(m.save(), { build: "plain", threads: 1 });
      await m.fit(gray, { ...opts, epochs: split === "epoch" ? 1 : 2 - m.epochs });
      return m;
    };
    const one = await run("none"), two = await run("epoch"), three = await run("batch");
    expect(one.epochs).toBe(2); expect(two.epochs).toBe(2); expect(three.epochs).toBe(2);
    expect(same(one.getWeights(), two.getWeights())).toBe(true);
    expect(same(one.getWeights(), three.getWeights())).toBe(true);
    // binarization mattered: training on the gray values gives other weights
    const gray2 = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    gray2.optimizer = new Adam({ lr: 1e-2 });
    await gray2.fit(gray, { batchSize: 8, epochs: 2, yieldEvery: 0 });
    expect(same(one.getWeights(), gray2.getWeights())).toBe(false);
  });

  it('"static" binarizes once with binarizeSeed (default config.seed): equal to fit on binarize(x, seed)', async () => {
    for (const seed of [undefined, 99]) {
      const a = await VAE.create(CONFIG, { build: "plain", threads: 1 });
      await a.fit(gray, { epochs: 2, batchSize: 8, binarize: "static", binarizeSeed: seed, yieldEvery: 0 });
      const b = await VAE.create(CONFIG, { build: "plain", threads: 1 });
      await b.fit(binarize(gray, seed ?? CONFIG.seed!), { epochs: 2, batchSize: 8, yieldEvery: 0 });
      expect(same(a.getWeights(), b.getWeights())).toBe(true);
    }
  });

  it('"dynamic" on a stream of batches and with conditions', async () => {
    const C = 2, cond = new Float32Array(ROWS * C).map((_, i) => (i % C === (Math.floor(i / C) % C) ? 1 : 0));
    const cfg = { ...CONFIG, conditionDim: C };
    const a = await VAE.create(cfg, { build: "plain", threads: 1 });
    await a.fit(gray, { epochs: 1, batchSize: 10, shuffle: false, condition: cond, binarize: "dynamic", yieldEvery: 0 });
    const b = await VAE.create(cfg, { build: "plain", threads: 1 });
    const batches = Array.from({ length: 4 }, (_, i) => ({ x: gray.subarray(i * 10 * D, (i + 1) * 10 * D), condition: cond.subarray(i * 10 * C, (i + 1) * 10 * C) }));
    await b.fit(batches, { epochs: 1, batchSize: 10, binarize: "dynamic", yieldEvery: 0 });
    const c = await VAE.create(cfg, { build: "plain", threads: 1 });
    const rng = new HostRng(CONFIG.seed!, BINARIZE_DYNAMIC_STREAM);
    for (const bt of batches) c.trainStep({ x: drawsRef(bt.x, rng), condition: bt.condition });
    expect(same(a.getWeights(), c.getWeights())).toBe(true);
    expect(same(b.getWeights(), c.getWeights())).toBe(true);
  });

  it("refuses a non-Bernoulli model, a bad mode, static on a stream, and a stray binarizeSeed, changing nothing", async () => {
    const g = await VAE.create({ ...CONFIG, likelihood: "gaussian" }, { build: "plain", threads: 1 });
    await expectThrows(() => g.fit(gray, { epochs: 1, binarize: "dynamic" }), ArgumentError, ["binarize", "bernoulli"], [g]);
    const m = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    await expectThrows(() => m.fit(gray, { epochs: 1, binarize: "yes" as never }), ArgumentError, "binarize", [m]);
    await expectThrows(() => m.fit([gray], { epochs: 1, binarize: "static" }), ArgumentError, "binarize", [m]);
    await expectThrows(() => m.fit(gray, { epochs: 1, binarize: "dynamic", binarizeSeed: 3 }), ArgumentError, "binarizeSeed", [m]);
    await expectThrows(() => m.fit(gray, { epochs: 1, binarize: "static", binarizeSeed: -3 }), ArgumentError, "binarizeSeed", [m]);
    await expectThrows(() => m.fit(Float32Array.from(gray, (v, i) => (i === 5 ? 1.5 : v)), { epochs: 1, binarize: "dynamic" }), ArgumentError, "data[5]", [m]);
  });

  it("a step that fails (non-finite loss) leaves the stream where the last good step left it", async () => {
    const m = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    m.optimizer = new Adam({ lr: 1e5 });
    let last = Array.from(m.exportState().binarizeRng!), good = 0;
    const err = await m.fit(gray, { epochs: 50, batchSize: 8, binarize: "dynamic", yieldEvery: 0,
      onBatch: () => { last = Array.from(m.exportState().binarizeRng!); good++; } }).catch((e: Error) => e);
    expect((err as Error).name).toBe("NonFiniteLossError");
    expect(good).toBeGreaterThan(0); // it failed after some good steps, not at the first
    expect(Array.from(m.exportState().binarizeRng!)).toEqual(last);
  });

  it("the stream is in the model file (header.rng.binarize); a file without it still loads", async () => {
    const m = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    await m.fit(gray, { epochs: 1, batchSize: 8, binarize: "dynamic", yieldEvery: 0 });
    const loaded = await VAE.load(m.save());
    expect(Array.from(loaded.exportState().binarizeRng!)).toEqual(Array.from(m.exportState().binarizeRng!));
    expect(Array.from(m.exportState().binarizeRng!)).not.toEqual(Array.from(new HostRng(CONFIG.seed!, BINARIZE_DYNAMIC_STREAM).s));
    const s = m.exportState();
    delete s.binarizeRng;
    const fresh = await VAE.create(CONFIG, { build: "plain", threads: 1 });
    fresh.importState(s);
    expect(Array.from(fresh.exportState().binarizeRng!)).toEqual(Array.from(new HostRng(CONFIG.seed!, BINARIZE_DYNAMIC_STREAM).s));
  });
});

describe("WorkerTrainer fit({ binarize })", () => {
  it('"dynamic" in a Node worker gives the weights of the same fit in this thread', async () => {
    const { WorkerTrainer } = await import("../../src/worker/worker.js");
    const t = new WorkerTrainer(new Worker(new URL("../../dist/worker-entry.js", import.meta.url)));
    try {
      await t.create(CONFIG, { build: "plain", threads: 1 });
      await t.setData("train", gray);
      await t.fit("train", { epochs: 2, batchSize: 8, binarize: "dynamic" });
      const w = await t.getWeights();
      const m = await VAE.create(CONFIG, { build: "plain", threads: 1 });
      await m.fit(gray, { epochs: 2, batchSize: 8, binarize: "dynamic", yieldEvery: 0 });
      expect(same(w, m.getWeights())).toBe(true);
      const g = await VAE.create(CONFIG, { build: "plain", threads: 1 });
      await g.fit(gray, { epochs: 2, batchSize: 8, yieldEvery: 0 });
      expect(same(w, g.getWeights())).toBe(false); // the control: binarizing changed the training
    } finally {
      await t.terminate();
    }
  });
});
