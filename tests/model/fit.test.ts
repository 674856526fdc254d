// fit's features: streamed data (an async generator, a function returning a
// fresh iterable per epoch, batches larger than batchSize, {x, condition}
// batches) trains bit-identically to the in-memory path with shuffle: false;
// linear KL warm-up as reported by onBatch; AbortSignal; per-epoch validation;
// yielding to the event loop between batches.
// Not here: the step's numerics (tfjs-parity.test.ts), divergence (nonfinite.test.ts).
import { describe, expect, it } from "vitest";
import { Adam, VAE, type BatchInfo, type EpochInfo, type VAEConfig } from "../../src/index.js";
import { evalStreamRef, randomArray, rngNormalRef, vaeElboRef } from "../reference.js";

const D = 32, ROWS = 200, BS = 32; // 7 batches per epoch, the last of 8 rows
const data = randomArray(ROWS * D, 1, 0, 1);
const CONFIG: VAEConfig = { inputDim: D, encoder: [16], latentDim: 3, seed: 4 };

async function model(config: VAEConfig = CONFIG): Promise<VAE> {
  const vae = await VAE.create(config, { build: "plain" });
  vae.optimizer = new Adam({ lr: 3e-3 });
  return vae;
}

function sameBits(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  return Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((n) =>
    Buffer.from(a[n].buffer, a[n].byteOffset, a[n].byteLength).equals(Buffer.from(b[n].buffer, b[n].byteOffset, b[n].byteLength)));
}

/** One unshuffled epoch of `data` in batches of `rows`, as an async stream. */
async function* batches(rows: number): AsyncGenerator<Float32Array> {
  for (let s = 0; s < ROWS; s += rows) {
    await Promise.resolve();
    yield data.subarray(s * D, Math.min(ROWS, s + rows) * D);
  }
}

describe("fit: streamed data", () => {
  it("an async generator (one epoch) and a function returning a fresh one (3 epochs) match the in-memory path bit for bit", async () => {
    const mem1 = await model(), mem3 = await model(), s1 = await model(), s3 = await model();
    await mem1.fit(data, { epochs: 1, batchSize: BS, shuffle: false });
    await s1.fit(batches(BS), { epochs: 1, batchSize: BS });
    expect(s1.steps).toBe(7);
    expect(sameBits(s1.getWeights(), mem1.getWeights())).toBe(true);
    await mem3.fit(data, { epochs: 3, batchSize: BS, shuffle: false });
    let calls = 0;
    const h = await s3.fit(() => { calls++; return batches(BS); }, { epochs: 3, batchSize: BS });
    expect(calls).toBe(3);
    expect(h.epochs.map((e) => e.rows)).toEqual([ROWS, ROWS, ROWS]);
    expect(sameBits(s3.getWeights(), mem3.getWeights())).toBe(true);
    // and the two runs really differ from each other (so equality means something)
    expect(sameBits(mem1.getWeights(), mem3.getWeights())).toBe(false);
  });

  it("streamed batches larger than batchSize are split into batchSize pieces", async () => {
    const mem = await model(), s = await model();
    await mem.fit(data, { epochs: 1, batchSize: BS, shuffle: false });
    // 96-row batches (3 × 32), then the 8-row remainder
    async function* big() { yield data.subarray(0, 96 * D); yield data.subarray(96 * D, 192 * D); yield data.subarray(192 * D); }
    const sizes: number[] = [];
    await s.fit(big(), { epochs: 1, batchSize: BS, onBatch: (b) => { sizes.push(b.rows); } });
    expect(sizes).toEqual([32, 32, 32, 32, 32, 32, 8]);
    expect(sameBits(s.getWeights(), mem.getWeights())).toBe(true);
  });

  it("conditional VAE: a stream of {x, condition} batches matches in-memory data with options.condition", async () => {
    const C = 4, cfg = { ...CONFIG, conditionDim: C };
    const cond = randomArray(ROWS * C, 2, 0, 1);
    const mem = await model(cfg), s = await model(cfg);
    await mem.fit(data, { epochs: 2, batchSize: BS, shuffle: false, condition: cond });
    function* stream() {
      for (let r = 0; r < ROWS; r += BS) {
        const e = Math.min(ROWS, r + BS);
        yield { x: data.subarray(r * D, e * D), condition: cond.subarray(r * C, e * C) };
      }
    }
    await s.fit(stream, { epochs: 2, batchSize: BS });
    expect(sameBits(s.getWeights(), mem.getWeights())).toBe(true);
    // with other conditions the result differs
    const other = await model(cfg);
    await other.fit(data, { epochs: 2, batchSize: BS, shuffle: false, condition: cond.map((v) => 1 - v) });
    expect(sameBits(other.getWeights(), mem.getWeights())).toBe(false);
  });

  it("shuffle (default) uses the seeded host stream: differs from unshuffled, same across runs", async () => {
    const a = await model(), b = await model(), u = await model();
    await a.fit(data, { epochs: 2, batchSize: BS });
    await b.fit(data, { epochs: 2, batchSize: BS });
    await u.fit(data, { epochs: 2, batchSize: BS, shuffle: false });
    expect(sameBits(a.getWeights(), b.getWeights())).toBe(true);
    expect(sameBits(a.getWeights(), u.getWeights())).toBe(false);
  });
});

describe("fit: KL warm-up", () => {
  it("klWarmupSteps: β = config.beta·(i+1)/N for the first N steps, then config.beta; loss = rec + β·KL", async () => {
    const vae = await model({ ...CONFIG, beta: 0.5 });
    const seen: BatchInfo[] = [];
    await vae.fit(data, { epochs: 2, batchSize: BS, klWarmupSteps: 10, onBatch: (b) => { seen.push({ ...b }); } });
    expect(seen.length).toBe(14);
    seen.forEach((b, i) => {
      const expected = i < 10 ? 0.5 * (i + 1) / 10 : 0.5;
      expect(b.beta).toBeCloseTo(expected, 12);
      expect(b.loss).toBeCloseTo(b.reconstruction + expected * b.kl, 4);
      expect(b.step).toBe(i + 1);
      expect(b.epoch).toBe(i < 7 ? 1 : 2);
      expect(b.batch).toBe(i % 7);
      expect(b.batches).toBe(7);
    });
    // strictly increasing during warm-up
    for (let i = 1; i < 10; i++) expect(seen[i].beta).toBeGreaterThan(seen[i - 1].beta);
  });

  it("klWarmupEpochs: 2 epochs of 7 batches → 14 warm-up steps", async () => {
    const vae = await model();
    const betas: number[] = [];
    await vae.fit(data, { epochs: 3, batchSize: BS, klWarmupEpochs: 2, onBatch: (b) => { betas.push(b.beta); } });
    expect(betas.length).toBe(21);
    betas.forEach((b, i) => expect(b).toBeCloseTo(Math.min(1, (i + 1) / 14), 12));
  });

  it("without warm-up β is config.beta from the first step", async () => {
    const vae = await model({ ...CONFIG, beta: 2 });
    const betas: number[] = [];
    await vae.fit(data, { epochs: 1, batchSize: BS, onBatch: (b) => { betas.push(b.beta); } });
    expect(betas).toEqual(Array(7).fill(2));
  });
});

describe("fit: AbortSignal, validation, event loop", () => {
  it("abort from onBatch stops after that batch and returns {aborted: true}", async () => {
    const vae = await model(), ac = new AbortController();
    const h = await vae.fit(data, { epochs: 5, batchSize: BS, signal: ac.signal, onBatch: (b) => { if (b.step === 10) ac.abort(); } });
    expect(h.aborted).toBe(true);
    expect(vae.steps).toBe(10);
    expect(h.epochs.length).toBe(1); // epoch 1 completed, epoch 2 aborted mid-way
    expect(vae.epochs).toBe(1);
  });

  it("an already-aborted signal trains nothing; a stream is aborted too", async () => {
    const vae = await model(), ac = new AbortController();
    ac.abort();
    const w = vae.getWeights();
    const h = await vae.fit(data, { epochs: 2, batchSize: BS, signal: ac.signal });
    expect(h).toEqual({ epochs: [], aborted: true });
    expect(vae.steps).toBe(0);
    expect(sameBits(vae.getWeights(), w)).toBe(true);
    const ac2 = new AbortController();
    const h2 = await vae.fit(() => batches(BS), { epochs: 3, batchSize: BS, signal: ac2.signal, onBatch: (b) => { if (b.step === 3) ac2.abort(); } });
    expect(h2.aborted).toBe(true);
    expect(vae.steps).toBe(3);
  });

  it("validation info is present for every epoch (β = 1 −ELBO: loss = reconstruction + KL), and onEpoch sees it", async () => {
    const vae = await model({ ...CONFIG, beta: 3 });
    const epochs: EpochInfo[] = [];
    const val = randomArray(40 * D, 9, 0, 1);
    const h = await vae.fit(data, { epochs: 3, batchSize: BS, validation: val, onEpoch: (e) => { epochs.push(e); } });
    expect(h.epochs.length).toBe(3);
    expect(epochs).toEqual(h.epochs);
    h.epochs.forEach((e, i) => {
      expect(e.epoch).toBe(i + 1);
      expect(e.rows).toBe(ROWS);
      expect(e.validation).toBeDefined();
      const v = e.validation!;
      for (const k of [v.loss, v.reconstruction, v.kl]) expect(Number.isFinite(k)).toBe(true);
      expect(v.kl).toBeGreaterThan(0);
      expect(v.loss).toBeCloseTo(v.reconstruction + v.kl, 3);
      // training loss uses β = 3
      expect(e.loss).toBeCloseTo(e.reconstruction + 3 * e.kl, 3);
    });
    // without validation data there is no validation entry
    const h2 = await vae.fit(data, { epochs: 1, batchSize: BS });
    expect(h2.epochs[0].validation).toBeUndefined();
  });

  it("validation figures are the −ELBO of the validation rows at the epoch's weights (float64 reference outside fit)", async () => {
    // fit evaluates vae.elbo(validation) after each epoch with ε from the
    // evaluation stream as the seed starts it (every elbo call starts it
    // afresh and leaves the running stream where it was); training draws only
    // from the training and shuffle streams. A twin trained one epoch per fit
    // call, without validation, has the same weights and a running stream
    // still at its seed: the reference recomputes that ELBO in float64 from
    // the twin's weights and ε drawn from the seed's evaluation stream (tests/reference.ts).
    const val = randomArray(40 * D, 9, 0, 1), V = 40, L = CONFIG.latentDim!;
    const vae = await model({ ...CONFIG, beta: 3 }), twin = await model({ ...CONFIG, beta: 3 });
    const h = await vae.fit(data, { epochs: 3, batchSize: BS, validation: val });
    for (let e = 0; e < 3; e++) {
      await twin.fit(data, { epochs: 1, batchSize: BS });
      expect(twin.exportState().rngEval, "the running stream never moved").toEqual(evalStreamRef(CONFIG.seed ?? 0));
      const eps = rngNormalRef(evalStreamRef(CONFIG.seed ?? 0), V * L);
      const ref = vaeElboRef(twin.getWeights(), twin.config, val, undefined, eps, V);
      const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
      const v = h.epochs[e].validation!;
      expect(v.loss, `epoch ${e + 1} loss`).toBeCloseTo(-mean(ref.elbo), 3);
      expect(v.reconstruction, `epoch ${e + 1} reconstruction`).toBeCloseTo(mean(ref.reconstruction), 3);
      expect(v.kl, `epoch ${e + 1} KL`).toBeCloseTo(mean(ref.kl), 4);
      const before = twin.exportState().rngEval!;
      expect(twin.elbo(val).elbo).toEqual(twin.elbo(val).elbo); // the same draws every call
      expect(twin.exportState().rngEval).toEqual(before);
    }
    // the validation figures moved with training (so the match is not of constants)
    expect(h.epochs[2].validation!.loss).not.toBeCloseTo(h.epochs[0].validation!.loss, 1);
    expect(vae.exportState().rngEval).toEqual(twin.exportState().rngEval);
  });

  it("yields to the event loop: setImmediate and setTimeout callbacks scheduled before fit run during it", async () => {
    const vae = await model();
    const total = 10 * 7;
    const at: Record<string, number> = {};
    const ac = new AbortController();
    let done = false;
    setImmediate(() => { at.immediate = done ? -1 : vae.steps; });
    setTimeout(() => { at.timeout = done ? -1 : vae.steps; }, 0);
    const h = await vae.fit(data, { epochs: 10, batchSize: BS, signal: ac.signal, onBatch: () => { if (at.timeout !== undefined && vae.steps > at.timeout + 5) ac.abort(); } });
    done = true;
    // the immediate ran right after the first batch; the timer (≥ 1 ms) soon after
    expect(at.immediate).toBe(1);
    expect(at.timeout).toBeGreaterThan(0);
    expect(at.timeout).toBeLessThan(total);
    // …and fit went on after it (then stopped by the abort, to keep this short)
    expect(h.aborted).toBe(true);
  });

  it("with yieldEvery: 0 the same callbacks only run after fit has finished (the control)", async () => {
    const vae = await model();
    let ranDuring = false, done = false;
    setImmediate(() => { if (!done) ranDuring = true; });
    setTimeout(() => { if (!done) ranDuring = true; }, 0);
    await vae.fit(data, { epochs: 3, batchSize: BS, yieldEvery: 0 });
    done = true;
    expect(vae.steps).toBe(21);
    expect(ranDuring).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
  });
});
