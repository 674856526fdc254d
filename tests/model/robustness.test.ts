// Edge cases of loading, the optimizer and option handling:
// - a file is checked against its own config exactly (tensor names, order and
//   shapes), and loading into a model requires the same architecture including
//   activation and σ; bad optimizer / RNG / counter fields are ModelFormatErrors;
// - weights-only files reset the moments, the optimizer step and the counters;
// - a model trained with an lr schedule loads, and trains on only with the schedule;
// - attaching a fresh Adam zeroes the moments;
// - Adam hyperparameters are checked as the float32 values the kernel uses, and
//   a non-finite update keeps the old parameters and stops training;
// - misspelt options are errors;
// - a seeded run's losses equal stored values (a regression check of the whole
//   plain-build pipeline, recorded from this code).
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, loadMnist, ModelFormatError, NonFiniteLossError, VAE, type VAEConfig } from "../../src/index.js";
import { crc32, decodeModel, encodeModel } from "../../src/kernels.js";

const SMALL: VAEConfig = { inputDim: 784, encoder: [32], latentDim: 4, seed: 5, maxBatch: 32 };
let data: Float32Array;

beforeAll(async () => {
  data = (await loadMnist({ split: "test", limit: 128 })).images;
});

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Rewrites the JSON header of a model file and fixes its length and CRC. */
function editHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const H = dv.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + H)));
  edit(header);
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 4) * 4).fill(0x20);
  padded.set(json);
  json = padded;
  const data = bytes.subarray(12 + H, bytes.length - 4);
  const out = new Uint8Array(12 + json.length + data.length + 4);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(data, 12 + json.length);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out, out.length - 4), true);
  return out;
}

async function trainedSmall(config: VAEConfig = SMALL, opt?: Adam): Promise<VAE> {
  const vae = await VAE.create(config, { build: "plain" });
  if (opt) vae.optimizer = opt;
  await vae.fit(data, { epochs: 1, batchSize: 32, yieldEvery: 0 });
  return vae;
}

function expectFormatError(f: () => unknown, fragment: string): void {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err, fragment).toBeInstanceOf(ModelFormatError);
  expect(String((err as Error).message)).toContain(fragment);
}

describe("model files are checked against their config, and against the target model", () => {
  it("rejects swapped shapes, renamed or duplicated tensors, and bad optimizer / RNG / counter fields, leaving the model unchanged", async () => {
    const vae = await trainedSmall();
    const good = vae.save();
    const before = vae.save();
    const cases: [string, (h: Record<string, any>) => void, string][] = [
      ["swapped shape", (h) => { h.tensors[0].shape = [...h.tensors[0].shape].reverse(); }, "has shape"],
      ["renamed tensor", (h) => { h.tensors[1].name = "encoder.0.bias2"; }, "expected \"encoder.0.bias\""],
      ["duplicated tensor", (h) => { h.tensors[1].name = h.tensors[0].name; }, "expected \"encoder.0.bias\""],
      ["beta1 = 2", (h) => { h.optimizer.beta1 = 2; }, "beta1"],
      ["eps = 0", (h) => { h.optimizer.eps = 0; }, "eps"],
      ["negative optimizer step", (h) => { h.optimizer.step = -1; }, "optimizer.step"],
      ["all-zero RNG state", (h) => { h.rng.train = [0, 0, 0, 0]; }, "rng.train"],
      ["negative steps", (h) => { h.steps = -1; }, "steps"],
      ["missing rng", (h) => { delete h.rng; }, "rng"],
    ];
    for (const [what, edit, fragment] of cases) {
      expectFormatError(() => vae.load(editHeader(good, edit)), fragment);
      expect(bytesEqual(vae.save(), before), `${what}: model unchanged`).toBe(true);
    }
    // the untouched file still loads (the edit helper itself is sound)
    vae.load(editHeader(good, () => {}));
    expect(bytesEqual(vae.save(), before)).toBe(true);
  });

  it("loading into a model requires the same activation, α, likelihood, σ and condition width", async () => {
    const base = await VAE.create({ ...SMALL, likelihood: "gaussian", sigma: 0.1 }, { build: "plain" });
    const file = base.save();
    for (const other of [
      { ...SMALL, likelihood: "gaussian" as const, sigma: 5 },
      { ...SMALL, likelihood: "gaussian" as const, sigma: 0.1, activation: "tanh" as const },
      { ...SMALL, likelihood: "gaussian" as const, sigma: 0.1, activation: "leaky_relu" as const, activationAlpha: 0.2 },
      { ...SMALL, likelihood: "bernoulli" as const },
    ]) {
      const target = await VAE.create(other, { build: "plain" });
      const before = target.save();
      expectFormatError(() => target.load(file), "architecture");
      expect(bytesEqual(target.save(), before)).toBe(true);
    }
    // β, seed and maxBatch may differ
    const ok = await VAE.create({ ...SMALL, likelihood: "gaussian", sigma: 0.1, beta: 3, seed: 99, maxBatch: 8 }, { build: "plain" });
    ok.load(file);
    expect(ok.config.beta).toBe(3);
  });

  it("a weights-only file resets the moments, the optimizer step and the counters of a trained model", async () => {
    const trained = await trainedSmall();
    const fresh = await VAE.create(SMALL, { build: "plain" });
    const weightsOnly = fresh.save({ optimizer: false });
    expect(trained.optimizer.step).toBeGreaterThan(0);
    trained.load(weightsOnly);
    expect(trained.steps).toBe(0);
    expect(trained.epochs).toBe(0);
    expect(trained.optimizer.step).toBe(0);
    const m = trained.exportState().m!, v = trained.exportState().v!;
    for (const n of Object.keys(m)) {
      expect(m[n].every((x) => x === 0), `m:${n}`).toBe(true);
      expect(v[n].every((x) => x === 0), `v:${n}`).toBe(true);
    }
    // the weights are the file's; the random streams are the trained model's own
    const w = trained.getWeights(), wf = fresh.getWeights();
    expect(Object.keys(w).every((n) => bytesEqual(new Uint8Array(w[n].buffer), new Uint8Array(wf[n].buffer)))).toBe(true);
    expect(Number.isFinite(trained.trainStep(data.subarray(0, 32 * 784)).loss)).toBe(true);
  });

  it("a model trained with an lr schedule loads; it trains on with the schedule, and without it fails clearly before any change", async () => {
    const schedule = (t: number) => 1e-3 / Math.sqrt(t);
    const a = await trainedSmall(SMALL, new Adam({ lr: schedule }));
    const bytes = a.save();
    const b = await VAE.load(bytes, { build: "plain" });
    const before = b.save();
    let err: unknown;
    try { b.trainStep(data.subarray(0, 32 * 784)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ArgumentError);
    expect(String(err)).toContain("schedule");
    expect(bytesEqual(b.save(), before)).toBe(true);
    // with the schedule: continues exactly like the original
    const c = await VAE.load(bytes, { build: "plain", schedule });
    const x = data.subarray(0, 32 * 784);
    const ra = a.trainStep(x), rc = c.trainStep(x);
    expect(rc.loss).toBe(ra.loss);
    expect(bytesEqual(c.save(), a.save())).toBe(true);
  });
});

describe("optimizer", () => {
  it("attaching a fresh Adam zeroes the moments; re-attaching a restored one keeps them", async () => {
    const vae = await trainedSmall();
    const restored = Adam.fromState(vae.optimizer.state());
    const m0 = vae.exportState().m!;
    vae.optimizer = restored; // step > 0: moments kept
    expect(Object.keys(m0).every((n) => vae.exportState().m![n].every((x, i) => x === m0[n][i]))).toBe(true);
    vae.optimizer = new Adam({ lr: 1e-3 }); // step 0: moments zeroed
    const m1 = vae.exportState().m!, v1 = vae.exportState().v!;
    expect(Object.keys(m1).every((n) => m1[n].every((x) => x === 0) && v1[n].every((x) => x === 0))).toBe(true);
  });

  it("hyperparameters are checked as the float32 values the kernel uses", () => {
    expect(() => new Adam({ eps: 1e-46 })).toThrow(/eps/);
    expect(() => new Adam({ beta2: 1 - 1e-9 })).toThrow(/beta2/);
    expect(() => new Adam({ beta1: 1 - 1e-9 })).toThrow(/beta1/);
    expect(() => new Adam({ lr: 1e39 })).toThrow(/lr/);
    expect(() => new Adam({ beta2: 0.9999999 })).not.toThrow(); // < 1 in float32
  });

  it("a non-finite update keeps the old parameters, reports it, and the weights stay finite", async () => {
    const vae = await VAE.create({ inputDim: 784, encoder: [16], latentDim: 2, seed: 3 }, { build: "plain" });
    // lr·λ = 1e60 overflows float32, so θ·(1 − lr·λ) is ±∞ (NaN for θ = 0): every update is non-finite
    vae.optimizer = new Adam({ lr: 1e30, weightDecay: 1e30 });
    const before = vae.getWeights();
    let err: unknown;
    try { vae.trainStep(data.subarray(0, 16 * 784)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect(String(err)).toMatch(/kept their previous values/);
    const after = vae.getWeights();
    for (const n of Object.keys(after)) {
      expect(after[n].every(Number.isFinite), n).toBe(true);
      // every non-zero weight would have overflowed, so it kept its value
      expect(after[n].every((x, i) => before[n][i] === 0 || x === before[n][i]), n).toBe(true);
    }
  });
});

describe("options", () => {
  it("a misspelt or unknown option is an ArgumentError naming it", async () => {
    const vae = await VAE.create(SMALL, { build: "plain" });
    const x = data.subarray(0, 2 * 784);
    const cases: [() => unknown, string][] = [
      [() => vae.sample(2, { temprature: 0 } as never), "options.temprature"],
      [() => vae.logLikelihood(x, { k: 5 } as never), "options.k"],
      [() => vae.encode(x, { conditon: [] } as never), "options.conditon"],
      [() => vae.trainStep(x, { betta: 1 } as never), "options.betta"],
      [() => vae.trainStep(x, { out: Object.freeze({ loss: 0, reconstruction: 0, kl: 0 }) }), "options.out"],
      [() => vae.save({ optimiser: false } as never), "options.optimiser"],
    ];
    for (const [f, name] of cases) {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(err, name).toBeInstanceOf(ArgumentError);
      expect(String(err)).toContain(name);
    }
  });

  it("impute accepts NaN in the missing entries", async () => {
    const vae = await VAE.create(SMALL, { build: "plain" });
    const x = data.slice(0, 2 * 784);
    const mask = new Uint8Array(784).map((_, i) => (i < 392 ? 1 : 0));
    for (let i = 0; i < x.length; i++) if (!mask[i % 784]) x[i] = NaN;
    for (const o of [{ samples: 3 }, { method: "metropolis", iterations: 3 }, { method: "pseudo_gibbs", iterations: 3 }] as const) {
      const out = vae.impute(x, mask, o);
      expect(out.every(Number.isFinite)).toBe(true);
      for (let i = 0; i < out.length; i++) if (mask[i % 784]) expect(out[i]).toBe(x[i]);
    }
  });
});

describe("an epoch interrupted by an AbortSignal resumes bit-identically", () => {
  it("abort after 3 batches, save, load, fit on == 2 uninterrupted epochs (and the file carries the cursor)", async () => {
    const opts = { batchSize: 32, yieldEvery: 0 } as const;
    const straight = await VAE.create(SMALL, { build: "plain" });
    const straightEpochs = (await straight.fit(data, { ...opts, epochs: 2 })).epochs;

    const a = await VAE.create(SMALL, { build: "plain" });
    const ctrl = new AbortController();
    let seen = 0;
    const h = await a.fit(data, { ...opts, epochs: 2, signal: ctrl.signal, onBatch: () => { if (++seen === 3) ctrl.abort(); } });
    expect(h.aborted).toBe(true);
    expect(a.epochs).toBe(0);
    expect(a.epochCursor?.batch).toBe(3);
    const b = await VAE.load(a.save(), { build: "plain" });
    expect(b.epochCursor?.batch).toBe(3);
    const batches: number[] = [];
    const resumed = (await b.fit(data, { ...opts, epochs: 2, onBatch: (i) => { batches.push(i.batch); } })).epochs;
    expect(batches.slice(0, 2)).toEqual([3, 0]); // the rest of epoch 1 (batch 3 of 0..3), then epoch 2
    expect(b.epochs).toBe(2);
    expect(b.epochCursor).toBe(null);
    expect(bytesEqual(b.save(), straight.save())).toBe(true);
    // the resumed epoch reports all its 4 batches (the 3 before the save carried
    // in the cursor), bit-identical to the uninterrupted run's epoch 1
    const pick = (e: { epoch: number; loss: number; reconstruction: number; kl: number; rows: number }) =>
      ({ epoch: e.epoch, loss: e.loss, reconstruction: e.reconstruction, kl: e.kl, rows: e.rows });
    expect(resumed.map(pick)).toEqual(straightEpochs.map(pick));
    expect(resumed[0].rows).toBe(128);
  });

  it("a file whose cursor has no sums (written before they were kept) still resumes bit-identically", async () => {
    const opts = { batchSize: 32, yieldEvery: 0 } as const;
    const straight = await VAE.create(SMALL, { build: "plain" });
    await straight.fit(data, { ...opts, epochs: 1 });
    const a = await VAE.create(SMALL, { build: "plain" });
    const ctrl = new AbortController();
    let seen = 0;
    await a.fit(data, { ...opts, epochs: 1, signal: ctrl.signal, onBatch: () => { if (++seen === 3) ctrl.abort(); } });
    const state = a.exportState();
    expect(state.epochCursor!.sums!.rows).toBe(96);
    delete state.epochCursor!.sums;
    const old = encodeModel(a.config, state, a.parameterShapes(), a.build);
    expect(decodeModel(old).header.epochCursor).not.toHaveProperty("sums");
    const b = await VAE.load(old, { build: "plain" });
    const h = await b.fit(data, { ...opts, epochs: 1 });
    expect(bytesEqual(b.save(), straight.save())).toBe(true);
    expect(h.epochs[0].rows).toBe(32); // only the batch after the resume is known
  });

  it("a cursor with bad sums is refused, in a state and in a file", async () => {
    const a = await VAE.create(SMALL, { build: "plain" });
    const ctrl = new AbortController();
    await a.fit(data, { batchSize: 32, yieldEvery: 0, signal: ctrl.signal, onBatch: () => ctrl.abort() });
    const state = a.exportState();
    const before = a.save();
    for (const sums of [{ ...state.epochCursor!.sums!, loss: NaN }, { ...state.epochCursor!.sums!, rows: 129 }, null]) {
      const bad = { ...state, epochCursor: { ...state.epochCursor!, sums: sums as never } };
      expect(() => a.importState(bad), JSON.stringify(sums)).toThrow(ArgumentError);
      expect(() => decodeModel(encodeModel(a.config, bad, a.parameterShapes(), a.build)), JSON.stringify(sums)).toThrow(/epochCursor\.sums/);
    }
    expect(bytesEqual(a.save(), before)).toBe(true);
  });

  it("resuming with other data or batch size is refused until the partial epoch is discarded", async () => {
    const a = await VAE.create(SMALL, { build: "plain" });
    const ctrl = new AbortController();
    await a.fit(data, { batchSize: 32, yieldEvery: 0, signal: ctrl.signal, onBatch: () => ctrl.abort() });
    await expect(a.fit(data, { batchSize: 16, yieldEvery: 0, epochs: 1 })).rejects.toThrow(/batchSize 32/);
    await expect(a.fit(data.subarray(0, 64 * 784), { batchSize: 32, yieldEvery: 0, epochs: 1 })).rejects.toThrow(/128 rows/);
    a.discardPartialEpoch();
    const h = await a.fit(data, { batchSize: 16, yieldEvery: 0, epochs: 1 });
    expect(h.epochs.length).toBe(1);
  });
});

describe("regression", () => {
  it("a seeded plain-build run gives the stored losses", async () => {
    // Recorded from this code (784-32-4-32-784, seed 5, 128 MNIST test images,
    // batch 32, Adam 1e-3): a change anywhere in the pipeline (kernels, init,
    // RNG streams, shuffling, Adam) changes these bits.
    const vae = await VAE.create(SMALL, { build: "plain" });
    const losses: number[] = [];
    await vae.fit(data, { epochs: 2, batchSize: 32, yieldEvery: 0, onBatch: (b) => { losses.push(b.loss); } });
    expect(losses.map((l) => l.toFixed(4))).toEqual(STORED);
  });
});

const STORED = ["543.8866", "541.5835", "538.8780", "537.3325", "534.2833", "531.0030", "525.1320", "522.5575"];
