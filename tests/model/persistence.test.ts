// Determinism, save/load and resume, and the rejection of corrupted model files.
// - Same seed and data twice → bit-identical model (plain build); another seed → different.
// - save → VAE.load is exact (weights, moments, RNG states, counters), and a
//   continued training run of the copy matches the original bit for bit.
// - Resume: 2 epochs in one go == 1 epoch, save, VAE.load, 1 more epoch.
// - vae.load(bytes) takes the file's weights and state but keeps the instance's config.
// - Every corruption of a file (truncation, flipped bytes, wrong magic/version,
//   oversized header length, wrong architecture, non-finite data, garbage JSON)
//   is rejected with ModelFormatError and leaves the target model unchanged.
//   Where a case must get past the checksum to reach its own check, the CRC is
//   recomputed with io.ts's crc32 (itself checked against a known value).
// Not here: the numerics of training (tfjs-parity, finite-diff, mnist tests).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, loadMnist, ModelFormatError, VAE, type VAEConfig } from "../../src/index.js";
import { crc32 } from "../../src/kernels.js";
import { loadModelFile, saveModelFile } from "../../src/node.js";

const CONFIG: VAEConfig = { inputDim: 784, encoder: [64], latentDim: 8, seed: 11 };
const FIT = { epochs: 2, batchSize: 64, yieldEvery: 0 } as const;
let data: Float32Array;

beforeAll(async () => {
  data = (await loadMnist({ split: "train", limit: 384 })).images;
});

async function trained(config: VAEConfig, epochs: number, build: "plain" | "relaxed" = "plain"): Promise<VAE> {
  const vae = await VAE.create(config, { build });
  expect(vae.build).toBe(build);
  vae.optimizer = new Adam({ lr: 2e-3 });
  await vae.fit(data, { ...FIT, epochs });
  return vae;
}

/** Byte equality (fast: vitest's toEqual on megabyte arrays takes seconds). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Names of the tensors whose bits differ (or that one side lacks): [] when
 *  the two weight sets are bit-identical (NaN- and −0-safe). */
function bitDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => !a[n] || !b[n] || !sameBytes(a[n], b[n]));
}

function fixCrc(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(b.length - 4, crc32(b, b.length - 4), true);
  return b;
}

const headerLength = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(8, true);

describe("determinism", () => {
  it("same seed and data twice → bit-identical weights and state; another seed → different weights", async () => {
    const a = await trained(CONFIG, 2), b = await trained(CONFIG, 2), c = await trained({ ...CONFIG, seed: 12 }, 2);
    expect(a.steps).toBe(2 * Math.ceil(384 / 64));
    expect(bitDiff(b.getWeights(), a.getWeights())).toEqual([]);
    expect(sameBytes(b.save(), a.save())).toBe(true); // moments, RNG states and counters too
    expect(bitDiff(c.getWeights(), a.getWeights())).toEqual(Object.keys(a.parameterShapes()));
  });
});

describe("relaxed build (relaxed-SIMD FMA): deterministic within one engine and host, and resumable", () => {
  // relaxed_madd may fuse or not at the engine's choice, but one engine on one
  // CPU makes the same choice every time: two runs agree bit for bit, and a
  // resumed run continues exactly. (Across builds or hosts only closeness holds.)
  it("same seed and data twice → bit-identical weights and state; another seed → different weights", async () => {
    const a = await trained(CONFIG, 2, "relaxed"), b = await trained(CONFIG, 2, "relaxed"), c = await trained({ ...CONFIG, seed: 12 }, 2, "relaxed");
    expect(bitDiff(b.getWeights(), a.getWeights())).toEqual([]);
    expect(sameBytes(b.save(), a.save())).toBe(true);
    expect(bitDiff(c.getWeights(), a.getWeights())).toEqual(Object.keys(a.parameterShapes()));
  });

  it("resume is bit-identical: 2 epochs == 1 epoch, save, VAE.load (relaxed), 1 epoch; and mid-epoch", async () => {
    const full = await trained(CONFIG, 2, "relaxed");
    const half = await trained(CONFIG, 1, "relaxed");
    const resumed = await VAE.load(half.save({ optimizer: true }), { build: "relaxed" });
    expect(resumed.build).toBe("relaxed");
    await resumed.fit(data, { ...FIT, epochs: 1 });
    expect(bitDiff(resumed.getWeights(), full.getWeights())).toEqual([]);
    expect(sameBytes(resumed.save(), full.save())).toBe(true);
    // stopped after 2 batches of epoch 1, saved, loaded, finished
    const part = await VAE.create(CONFIG, { build: "relaxed" });
    part.optimizer = new Adam({ lr: 2e-3 });
    const ctrl = new AbortController();
    let n = 0;
    await part.fit(data, { ...FIT, signal: ctrl.signal, onBatch: () => { if (++n === 2) ctrl.abort(); } });
    const rest = await VAE.load(part.save(), { build: "relaxed" });
    await rest.fit(data, { ...FIT });
    expect(sameBytes(rest.save(), full.save())).toBe(true);
    // the relaxed run is a different float path from plain, yet close to it
    const plain = await trained(CONFIG, 2);
    const wp = plain.getWeights(), wr = full.getWeights();
    for (const k of Object.keys(wp)) {
      const d = Math.max(...wr[k].map((v, i) => Math.abs(v - wp[k][i])));
      expect(d, k).toBeLessThan(1e-2);
    }
  });
});

describe("save / load", () => {
  it("crc32 is the IEEE CRC-32 (check value of \"123456789\" is 0xCBF43926)", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("round trip is exact, and a continued training run matches bit for bit", async () => {
    const a = await trained(CONFIG, 1);
    const bytes = a.save();
    const b = await VAE.load(bytes, { build: "plain" });
    expect(b.config).toEqual(a.config);
    expect(bitDiff(b.getWeights(), a.getWeights())).toEqual([]);
    expect(sameBytes(b.save(), bytes)).toBe(true); // weights, moments, RNG states, counters
    // …into an existing model of the same architecture (another seed)
    const c = await VAE.create({ ...CONFIG, seed: 99 }, { build: "plain" });
    expect(bitDiff(c.getWeights(), a.getWeights()).length).toBeGreaterThan(0);
    c.load(bytes);
    expect(bitDiff(c.getWeights(), a.getWeights())).toEqual([]);
    // continue: one more epoch (shuffle, ε and Adam all continue from the saved state)
    await a.fit(data, { ...FIT, epochs: 1 });
    await b.fit(data, { ...FIT, epochs: 1 });
    await c.fit(data, { ...FIT, epochs: 1 });
    expect(bitDiff(b.getWeights(), a.getWeights())).toEqual([]);
    expect(bitDiff(c.getWeights(), a.getWeights())).toEqual([]);
    expect(b.steps).toBe(a.steps);
    expect(b.epochs).toBe(2);
  });

  it("resume is bit-identical: 2 epochs == 1 epoch, save, VAE.load, 1 epoch; without the optimizer state it is not", async () => {
    const full = await trained(CONFIG, 2);
    const half = await trained(CONFIG, 1);
    const resumed = await VAE.load(half.save({ optimizer: true }));
    await resumed.fit(data, { ...FIT, epochs: 1 });
    expect(bitDiff(resumed.getWeights(), full.getWeights())).toEqual([]);
    expect(resumed.steps).toBe(full.steps);
    expect(resumed.epochs).toBe(full.epochs);
    expect(sameBytes(resumed.save(), full.save())).toBe(true);
    // weights only: fresh moments and RNG streams → a different run
    const cold = await VAE.load(half.save({ optimizer: false }));
    expect(bitDiff(cold.getWeights(), half.getWeights())).toEqual([]);
    cold.optimizer = new Adam({ lr: 2e-3 });
    await cold.fit(data, { ...FIT, epochs: 1 });
    expect(bitDiff(cold.getWeights(), full.getWeights()).length).toBeGreaterThan(0);
  });

  it("instance load takes the file's weights and training state but keeps the instance's config (objective, β, seed); VAE.load takes the file's", async () => {
    const D = 784, x = data.subarray(0, 16 * D);
    const iwaeCfg: VAEConfig = { ...CONFIG, objective: { type: "iwae", samples: 5 }, beta: 1, seed: 3 };
    const elboCfg: VAEConfig = { ...CONFIG, beta: 0, seed: 21 };
    const src = await VAE.create(iwaeCfg, { build: "plain" });
    for (let i = 0; i < 3; i++) src.trainStep(x);
    const bytes = src.save();
    const inst = await VAE.create(elboCfg, { build: "plain" });
    const own = inst.config;
    inst.load(bytes);
    // the file's numeric state…
    expect(bitDiff(inst.getWeights(), src.getWeights())).toEqual([]);
    expect(inst.steps).toBe(3);
    expect(inst.optimizer.step).toBe(3);
    // …under the instance's settings, which save() writes
    expect(inst.config).toEqual(own);
    expect(inst.config.objective.type).toBe("elbo");
    expect(inst.config.beta).toBe(0);
    expect(inst.config.seed).toBe(21);
    const again = await VAE.load(inst.save());
    expect(again.config.objective.type).toBe("elbo");
    expect(again.config.beta).toBe(0);
    // training uses them: with β = 0 the ELBO step's loss is its reconstruction term alone…
    const a = inst.trainStep(x);
    expect(a.loss).toBe(a.reconstruction);
    expect(a.kl).toBeGreaterThan(0);
    // …while the file's own model (VAE.load) trains on −L_5 with β = 1: not rec + KL, not rec
    const whole = await VAE.load(bytes, { build: "plain" });
    expect(whole.config.objective).toEqual(src.config.objective);
    expect(whole.config.seed).toBe(3);
    const b = whole.trainStep(x);
    expect(Math.abs(b.loss - b.reconstruction)).toBeGreaterThan(1e-3);
    expect(Math.abs(b.loss - (b.reconstruction + b.kl))).toBeGreaterThan(1e-3);
    // an architecture that differs (the latent width) is still refused, leaving the model as it was
    const other = await VAE.create({ ...elboCfg, latentDim: 9 }, { build: "plain" });
    const before = other.getWeights();
    expect(() => other.load(bytes)).toThrow(ModelFormatError);
    expect(bitDiff(other.getWeights(), before)).toEqual([]);
  });

  it("saveModelFile / loadModelFile round trip through a file", async () => {
    const a = await trained(CONFIG, 1);
    const dir = await mkdtemp(join(tmpdir(), "wasm-vae-test-"));
    try {
      await saveModelFile(a, join(dir, "m.wvae"));
      const b = await loadModelFile(join(dir, "m.wvae"));
      expect(sameBytes(b.save(), a.save())).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("corrupted files: ModelFormatError, model unchanged", () => {
  let vae: VAE;
  let good: Uint8Array;       // a valid file (of a model with seed 11)
  let goodState: Uint8Array;  // what a seed-5 model saves after loading it
  let before: Uint8Array;

  beforeAll(async () => {
    const src = await trained(CONFIG, 1);
    good = src.save();
    const probe = await VAE.create({ ...CONFIG, seed: 5 });
    probe.load(good);
    goodState = probe.save();
    vae = await VAE.create({ ...CONFIG, seed: 5 });
    vae.trainStep(data.subarray(0, 64 * 784)); // some optimizer state to keep, too
    before = vae.save();
  });

  const corrupt = (f: (b: Uint8Array, dv: DataView, H: number) => void): Uint8Array => {
    const b = good.slice();
    f(b, new DataView(b.buffer), headerLength(b));
    return b;
  };

  /** vae.load(bad) and VAE.load(bad) both throw ModelFormatError matching `msg`;
   *  the model's whole saved state is byte-identical afterwards. */
  async function rejects(bad: Uint8Array, msg: RegExp): Promise<void> {
    let err: unknown;
    try { vae.load(bad); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(msg);
    expect(sameBytes(vae.save(), before), "model unchanged").toBe(true);
    await expect(VAE.load(bad)).rejects.toThrow(ModelFormatError);
  }

  it("the uncorrupted file loads (so the rejections below are due to the corruption)", async () => {
    expect(sameBytes(goodState, before)).toBe(false);
    expect(sameBytes((await VAE.load(good)).save(), good)).toBe(true);
  });

  it("truncated at several lengths", async () => {
    const H = headerLength(good);
    for (const n of [0, 3, 11, 15, 16, 12 + H - 1, 12 + H + 3, 12 + H + 4, 12 + H + 1001, good.length - 5, good.length - 4, good.length - 1]) {
      await rejects(good.slice(0, n), /truncated|shorter|checksum|data section/);
    }
  });

  it("a flipped byte in the data section", async () => {
    for (const at of [0, 4 * 1000 + 2, -1]) {
      await rejects(corrupt((b, _dv, H) => { b[at < 0 ? b.length - 5 : 12 + H + at] ^= 0x10; }), /checksum/);
    }
  });

  it("a flipped byte in the header", async () => {
    await rejects(corrupt((b) => { b[12 + 20] ^= 0x01; }), /checksum/);
  });

  it("a flipped byte in the stored CRC", async () => {
    await rejects(corrupt((b) => { b[b.length - 2] ^= 0x80; }), /checksum/);
  });

  it("wrong magic", async () => {
    await rejects(fixCrc(corrupt((b) => { b[0] = 0x58; })), /magic/);
  });

  it("wrong version (CRC fixed, so the version check itself rejects it)", async () => {
    // 1: a version-2 file relabelled as version 1 (its header says 2); 3 and up: unknown
    for (const v of [0, 1, 3, 0xffffffff]) await rejects(fixCrc(corrupt((_b, dv) => dv.setUint32(4, v, true))), /version/);
  });

  it("oversized header length field (CRC fixed)", async () => {
    await rejects(fixCrc(corrupt((_b, dv) => dv.setUint32(8, 0x7ffffff0, true))), /header length/);
    await rejects(fixCrc(corrupt((_b, dv) => dv.setUint32(8, (1 << 20) + 4, true))), /header length/);
    // within the limit but longer than the file (a file cut to 12 + H + 4000 bytes)
    const cut = fixCrc(good.slice(0, 12 + headerLength(good) + 4000));
    new DataView(cut.buffer).setUint32(8, 12 + headerLength(good) + 4000, true);
    await rejects(fixCrc(cut), /truncated/);
    // a header length that is not a multiple of 4
    await rejects(fixCrc(corrupt((_b, dv, H) => dv.setUint32(8, H - 1, true))), /multiple of 4/);
  });

  it("a file of another architecture (shape mismatch)", async () => {
    const other = await VAE.create({ ...CONFIG, encoder: [32] });
    await expect(async () => vae.load(other.save())).rejects.toThrow(ModelFormatError);
    let err: unknown;
    try { vae.load(other.save()); } catch (e) { err = e; }
    expect((err as Error).message).toMatch(/architecture/);
    expect(sameBytes(vae.save(), before)).toBe(true);
    const gaussian = await VAE.create({ ...CONFIG, likelihood: "gaussian" });
    expect(() => vae.load(gaussian.save())).toThrow(ModelFormatError);
    expect(sameBytes(vae.save(), before)).toBe(true);
  });

  // review of issue 18: files that differ only in activation, prior or latent
  // family were refused with two identical descriptions ("its architecture
  // (16-8-6 | 3-8-16, bernoulli) differs from this model's (16-8-6 | 3-8-16, bernoulli)")
  it("the refusal of another architecture shows what differs", async () => {
    const base = { inputDim: 16, encoder: [8], latentDim: 3, seed: 1 };
    const cases: [VAEConfig, VAEConfig, string, string][] = [
      [{ ...base, prior: { type: "vamp", components: 3 } }, { ...base, prior: { type: "mixture", components: 3 } }, "vamp prior (K = 3)", "mixture prior (K = 3)"],
      [{ ...base, prior: { type: "vamp", components: 3 } }, base, "vamp prior (K = 3)", "16-8-6 | 3-8-16, relu, bernoulli)"],
      [{ ...base, activation: "tanh" }, base, "tanh, bernoulli", "relu, bernoulli"],
      [{ ...base, latentDim: undefined, latent: { type: "categorical", variables: 1, classes: 3 } }, base, "categorical latent 1 × 3", "relu, bernoulli)"],
    ];
    for (const [file, target, theirs, mine] of cases) {
      const t = await VAE.create(target), saved = t.save();
      let err: unknown;
      try { t.load((await VAE.create(file)).save()); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ModelFormatError);
      const m = /its architecture \((.*)\) differs from this model's \((.*)\)$/.exec((err as Error).message);
      expect(m, (err as Error).message).not.toBeNull();
      expect(m![1]).not.toBe(m![2]);
      expect(m![1]).toContain(theirs);
      expect(`${m![2]})`).toContain(mine);
      expect(sameBytes(t.save(), saved)).toBe(true);
    }
  });

  it("a non-finite value in the data (CRC fixed)", async () => {
    for (const v of [NaN, Infinity, -Infinity]) {
      await rejects(fixCrc(corrupt((_b, dv, H) => dv.setFloat32(12 + H + 4 * 77, v, true))), /non-finite/);
    }
    // in the Adam moments (the last tensors of the file)
    await rejects(fixCrc(corrupt((b, dv) => dv.setFloat32(b.length - 8, NaN, true))), /non-finite/);
  });

  it("garbage JSON in the header (CRC fixed)", async () => {
    await rejects(fixCrc(corrupt((b, _dv, H) => { b.fill(0x7b, 12, 12 + H); })), /JSON/); // "{{{{…"
    await rejects(fixCrc(corrupt((b, _dv, H) => { b.fill(0xff, 12, 12 + 8); void H; })), /JSON/); // not UTF-8
    // valid JSON that is not a model header
    await rejects(fixCrc(corrupt((b, _dv, H) => { b.fill(0x20, 12, 12 + H); b.set(new TextEncoder().encode("[1,2,3]"), 12); })), /wasm-vae|header/);
  });

  it("after all the rejections, a good file still loads into the model", () => {
    vae.load(good);
    expect(sameBytes(vae.save(), goodState)).toBe(true);
  });
});
