// Issue 16, item 6: one convention for option strings. Every option value is
// snake_case (as Keras and PyTorch spell them); the kebab spellings of earlier
// releases ("gaussian-learned", "pseudo-gibbs") are deprecated synonyms that
// normalize to the snake_case value and give the same bits; anything else is
// refused by name with the accepted values.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, Adam, ArgumentError, IMPUTE_METHODS, INIT_SCHEMES, INTEROP_FORMATS, LIKELIHOODS, OPTION_SYNONYMS, VAE, type VAEConfig } from "../../src/index.js";
import { crc32, decodeModel } from "../../src/kernels.js";
import { LAYER_KINDS } from "../../src/layers/index.js";
import { LATENTS, OBJECTIVES, PRIORS } from "../../src/objectives/index.js";
import { randomArray } from "../reference.js";

const SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/;
const SRC = join(dirname(fileURLToPath(import.meta.url)), "../../src");
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("option strings: one convention", () => {
  it("every value of every option list and kind table is snake_case", () => {
    const lists: Record<string, readonly string[]> = {
      ACTIVATIONS, LIKELIHOODS, IMPUTE_METHODS, INIT_SCHEMES, INTEROP_FORMATS,
      "layer types": Object.keys(LAYER_KINDS), objectives: Object.keys(OBJECTIVES), priors: Object.keys(PRIORS), latents: Object.keys(LATENTS),
    };
    // and the literal lists checked in src/ (checkOneOf(name, v, ["a", "b"]))
    for (const f of files(SRC)) {
      for (const m of readFileSync(f, "utf8").matchAll(/checkOneOf\([^\n]*?\[((?:\s*"[^"]*",?)+)\s*\]/g)) {
        lists[`checkOneOf in ${f.slice(SRC.length + 1)}`] = [...m[1].matchAll(/"([^"]*)"/g)].map((q) => q[1]);
      }
    }
    expect(Object.keys(lists).filter((k) => k.startsWith("checkOneOf")).length).toBeGreaterThanOrEqual(2);   // the scan sees them (iwae gradient, mnist split)
    for (const [name, values] of Object.entries(lists)) {
      expect(values.length, name).toBeGreaterThan(0);
      for (const v of values) expect(v, `${name}: ${v}`).toMatch(SNAKE);
    }
  });

  it("every deprecated spelling names a current value and is not one itself", () => {
    const current = new Set<string>([...LIKELIHOODS, ...IMPUTE_METHODS]);
    expect(Object.entries(OPTION_SYNONYMS)).toEqual([["gaussian-learned", "gaussian_learned"], ["pseudo-gibbs", "pseudo_gibbs"]]);
    for (const [old, now] of Object.entries(OPTION_SYNONYMS)) {
      expect(current.has(now), now).toBe(true);
      expect(current.has(old), old).toBe(false);
      expect(old.replaceAll("-", "_")).toBe(now);
    }
  });

  it('likelihood "gaussian-learned" normalizes to "gaussian_learned": same config, same bits in training and after save/load', async () => {
    const D = 5, x = randomArray(4 * D, 3, -1, 1);
    const run = async (likelihood: VAEConfig["likelihood"]) => {
      const vae = await VAE.create({ inputDim: D, encoder: [4], latentDim: 2, likelihood, seed: 4 });
      vae.optimizer = new Adam({ lr: 1e-2 });
      for (let i = 0; i < 3; i++) vae.trainStep(x);
      return vae;
    };
    const old = await run("gaussian-learned"), now = await run("gaussian_learned");
    expect(old.config.likelihood).toBe("gaussian_learned");
    expect(old.config).toEqual(now.config);
    for (const [k, w] of Object.entries(now.getWeights())) expect(bits(old.getWeights()[k]), k).toEqual(bits(w));
    const back = await VAE.load(old.save());
    expect(back.config.likelihood).toBe("gaussian_learned");
    expect(bits(back.decode(new Float32Array(2)))).toEqual(bits(now.decode(new Float32Array(2))));
  });

  it('a version-2 file whose config says "gaussian-learned" (as files saved before issue 16 do) loads bit-identically', async () => {
    const vae = await VAE.create({ inputDim: 4, encoder: [3], latentDim: 2, likelihood: "gaussian_learned", seed: 6 });
    vae.optimizer = new Adam({ lr: 1e-2 });
    vae.trainStep(randomArray(8, 7, -1, 1));
    const bytes = vae.save(), H = new DataView(bytes.buffer).getUint32(8, true);
    const header = new TextDecoder().decode(bytes.subarray(12, 12 + H));
    expect(header).toContain('"likelihood":"gaussian_learned"');
    // the same file as the code before issue 16 wrote it: the old spelling (same length), the CRC recomputed
    const old = bytes.slice();
    old.set(new TextEncoder().encode(header.replace('"likelihood":"gaussian_learned"', '"likelihood":"gaussian-learned"')), 12);
    new DataView(old.buffer).setUint32(old.length - 4, crc32(old, old.length - 4), true);
    expect(decodeModel(old).header.config.likelihood).toBe("gaussian-learned");
    const back = await VAE.load(old);
    expect(back.config).toEqual(vae.config);
    for (const [k, w] of Object.entries(vae.getWeights())) expect(bits(back.getWeights()[k]), k).toEqual(bits(w));
    const z = randomArray(6, 8, -1, 1);
    expect(bits(back.decode(z))).toEqual(bits(vae.decode(z)));
    expect(back.save()).toEqual(bytes);   // saved again: the new spelling, otherwise the same bytes
  });

  it('impute method "pseudo-gibbs" is "pseudo_gibbs"', async () => {
    const D = 6, x = randomArray(2 * D, 5, 0, 1), mask = new Uint8Array(D).fill(1).fill(0, 0, 3);
    const model = () => VAE.create({ inputDim: D, encoder: [4], latentDim: 2, seed: 8 });
    const a = (await model()).impute(x, mask, { method: "pseudo-gibbs", iterations: 4 });
    const b = (await model()).impute(x, mask, { method: "pseudo_gibbs", iterations: 4 });
    expect(bits(a)).toEqual(bits(b));
  });

  it("anything else is refused by name, with the accepted values", async () => {
    for (const likelihood of ["gaussian learned", "Gaussian_Learned", "gaussianLearned", "poisson", "toString"]) {
      await expect(VAE.create({ inputDim: 3, encoder: [2], latentDim: 1, likelihood } as unknown as VAEConfig))
        .rejects.toThrow(new ArgumentError(`config.likelihood: expected one of "bernoulli", "gaussian", "gaussian_learned", got ${JSON.stringify(likelihood)}`));
    }
    const vae = await VAE.create({ inputDim: 3, encoder: [2], latentDim: 1, seed: 1 });
    for (const method of ["pseudo gibbs", "gibbs", "leaky-relu"]) {
      expect(() => vae.impute(new Float32Array(3), new Uint8Array(3), { method } as never))
        .toThrow(new ArgumentError(`method: expected one of "miwae", "metropolis", "pseudo_gibbs", got ${JSON.stringify(method)}`));
    }
    // a synonym of one list is not accepted by another
    await expect(VAE.create({ inputDim: 3, encoder: [2], latentDim: 1, activation: "pseudo-gibbs" } as unknown as VAEConfig)).rejects.toThrow(/config\.activation: expected one of "identity"/);
  });
});
