// trainStep checks a Float32Array batch by copying it into the arena and
// scanning the copy with a SIMD kernel (step.ts stageInput), and then trains on
// that copy instead of copying again. Here: the staged path trains to the same
// bits as the TypeScript path (number[] and Float64Array batches, a larger
// batch that re-lays the arena out, IWAE's B·S rows), a batch rejected after
// staging names its bad value and changes nothing, and a batch edited in place
// between steps is trained on as edited (no stale copy is reused).
import { describe, expect, it } from "vitest";
import { ArgumentError, VAE, type VAEConfig } from "../../src/index.js";
import { sameBytes } from "./harden-helpers.js";

const D = 12;
const cfg: VAEConfig = { inputDim: D, encoder: [8], latentDim: 3, decoder: [8], seed: 4, maxBatch: 4 };
const batch = (rows: number, seed: number) => Float32Array.from({ length: rows * D }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 999);

describe("trainStep on a staged batch", () => {
  for (const objective of [undefined, { type: "iwae" as const, samples: 3 }]) {
    it(`same bits as the unstaged path (${objective ? "IWAE k = 3" : "ELBO"})`, async () => {
      const c = { ...cfg, ...(objective ? { objective } : {}) };
      const a = await VAE.create(c), b = await VAE.create(c), d = await VAE.create(c);
      for (let s = 0; s < 4; s++) {
        const x = batch(s === 3 ? 6 : 4, s);   // the last batch is larger than maxBatch
        const ra = a.trainStep(x), rb = b.trainStep(Array.from(x)), rd = d.trainStep(Float64Array.from(x));
        expect(ra.loss).toBe(rb.loss);
        expect(ra.loss).toBe(rd.loss);
      }
      expect(sameBytes(a.save(), b.save())).toBe(true);
      expect(sameBytes(a.save(), d.save())).toBe(true);
    });
  }

  it("a rejected batch names its value and changes nothing; an edited batch is trained on as edited", async () => {
    const a = await VAE.create(cfg), b = await VAE.create(cfg);
    const x = batch(4, 1);
    a.trainStep(x); b.trainStep(Array.from(x));
    const before = a.save();
    for (const [i, bad] of [[0, NaN], [17, 1.5], [47, -0.25]] as const) {
      const y = x.slice();
      y[i] = bad;
      expect(() => a.trainStep(y)).toThrow(ArgumentError);
      try { a.trainStep(y); } catch (e) { expect((e as Error).message).toContain(`batch[${i}]`); }
      expect(sameBytes(a.save(), before)).toBe(true);
      // a staged-then-rejected call (bad β) followed by the same array edited in place
      expect(() => a.trainStep(x, { beta: -1 })).toThrow(ArgumentError);
      expect(sameBytes(a.save(), before)).toBe(true);
    }
    x[5] = 0.125;
    a.trainStep(x); b.trainStep(Array.from(x));
    expect(sameBytes(a.save(), b.save())).toBe(true);
  });
});
