// impute's options by method: each method refuses the others' options by
// name, ranges are checked, and a failed call changes nothing.
// Not here: exactness (linear-gaussian.test.ts, conditional.test.ts), MNIST
// quality (mnist-quality.test.ts).
import { describe, expect, it } from "vitest";
import { ArgumentError, IMPUTE_METHODS, VAE } from "../../src/index.js";
import { randomArray } from "../reference.js";
import { expectThrows } from "./harden-helpers.js";

const D = 10;

describe("impute options", () => {
  it("refuses the other methods' options and out-of-range values, naming them", async () => {
    const vae = await VAE.create({ inputDim: D, encoder: [6], latentDim: 2, seed: 3 }, { build: "plain", threads: 1 });
    const x = Float32Array.from(randomArray(3 * D, 4, 0, 1));
    const mask = new Uint8Array(D).map((_, i) => (i < 5 ? 1 : 0));
    const cases: [object, string][] = [
      [{ iterations: 5 }, "iterations"],
      [{ method: "miwae", burnIn: 1 }, "burnIn"],
      [{ method: "metropolis", samples: 5 }, "samples"],
      [{ method: "pseudo_gibbs", rounds: 2 }, "rounds"],
      [{ method: "metropolis", proposalScale: 2 }, "proposalScale"],
      [{ method: "metropolis", defensive: 0.1 }, "defensive"],
      [{ method: "pseudo_gibbs", burnIn: 1 }, "burnIn"],
      [{ samples: 0 }, "samples"],
      [{ samples: 5, rounds: 6 }, "rounds"],
      [{ rounds: 0 }, "rounds"],
      [{ proposalScale: 0 }, "proposalScale"],
      [{ proposalScale: NaN }, "proposalScale"],
      [{ defensive: 1 }, "defensive"],
      [{ defensive: -0.1 }, "defensive"],
      [{ method: "gibbs" }, "method"],
    ];
    for (const [o, name] of cases) await expectThrows(() => vae.impute(x, mask, o as never), ArgumentError, name, [vae]);
    expect(IMPUTE_METHODS).toEqual(["miwae", "metropolis", "pseudo_gibbs"]);
  });

  // review of issue 18: a two-level model was told "expected 0 with this model's
  // prior (normal): the prior draws are from N(0, I)", which contradicts itself
  it("defensive > 0 is refused with a prior other than N(0, I), saying which and why", async () => {
    const x = Float32Array.from(randomArray(2 * D, 5, 0, 1));
    const mask = new Uint8Array(D).map((_, i) => (i < 5 ? 1 : 0));
    const two = await VAE.create({ inputDim: D, latents: [{ encoder: [6], size: 3 }, { encoder: [4], size: 2 }], seed: 1 }, { threads: 1 });
    const e = await expectThrows(() => two.impute(x, mask, { defensive: 0.3 }), ArgumentError, "defensive", [two]);
    expect(e.message).toBe("defensive: expected 0 with stochastic layers above the first (config.latents): the defensive draws come from N(0, I), and z₁'s prior is p(z₁ | z₂), got 0.3");
    const mix = await VAE.create({ inputDim: D, encoder: [6], latentDim: 2, prior: { type: "mixture", components: 3 }, seed: 1 }, { threads: 1 });
    const m = await expectThrows(() => mix.impute(x, mask, { defensive: 0.3 }), ArgumentError, "defensive", [mix]);
    expect(m.message).toContain('with this model\'s prior (mixture): the defensive draws come from N(0, I), which is the prior only for { type: "normal" }');
  });

  it("every method keeps the observed entries and fills the others with probabilities; the same call gives the same result", async () => {
    const vae = await VAE.create({ inputDim: D, encoder: [6], latentDim: 2, seed: 3 }, { build: "plain", threads: 1 });
    const x = Float32Array.from(randomArray(3 * D, 4, 0, 1));
    const mask = new Uint8Array(D).map((_, i) => (i < 5 ? 1 : 0));
    for (const o of [{}, { samples: 7, rounds: 3, proposalScale: 1.5, defensive: 0.3 }, { method: "metropolis", iterations: 5 }, { method: "pseudo_gibbs", iterations: 3 }] as const) {
      const before = vae.exportState().rngEval!;
      const a = vae.impute(x, mask, o);
      for (let i = 0; i < a.length; i++) {
        if (mask[i % D]) expect(a[i]).toBe(x[i]);
        else expect(a[i] >= 0 && a[i] <= 1).toBe(true);
      }
      // the evaluation stream moved on: reset it to see the same draws again
      const s = vae.exportState(); s.rngEval = before; vae.importState(s);
      expect(Array.from(vae.impute(x, mask, o))).toEqual(Array.from(a));
    }
  });
});
