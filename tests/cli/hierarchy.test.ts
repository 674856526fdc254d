// `wasm-vae train --arch iwae2` (two stochastic layers, config.latents) end
// to end on an MNIST subset: the run folder, the model file's config, and
// the model commands on it; --latent is refused with the preset.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VAE } from "../../src/index.js";
import { runCli, tempDir } from "./helpers.js";

const out = tempDir();
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("wasm-vae train --arch iwae2", () => {
  it("trains, evaluates, samples and imputes", async () => {
    const r = await runCli(["train", "--arch", "iwae2", "--activation", "tanh", "--limit-train", "256", "--limit-test", "64",
      "--batch-size", "32", "--iwae-images", "8", "--iwae-samples", "8", "--epochs", "1", "--out", out, "--name", "h"], { timeoutMs: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/test −ELBO \d+\.\d+ nats per image/);
    // the run header shows both levels (it showed 784-200-200-100-200-200-784, no z₂)
    expect(r.stdout).toContain("h: 784-200-200-100-100-100-50-100-100-100-200-200-784 tanh");
    expect(r.stdout).toContain("training: ELBO, 2 stochastic layers (z₁ 100, z₂ 50), epochs 1..1");
    const vae = await VAE.load(readFileSync(join(out, "h", "model.wvae")));
    expect(vae.config.latents?.map((l) => l.size)).toEqual([100, 50]);
    expect(vae.config.activation).toBe("tanh");
    const ev = await runCli(["eval", "--model", join(out, "h", "model.wvae"), "--limit-test", "32", "--iwae-images", "4", "--iwae-samples", "4"]);
    expect(ev.code).toBe(0);
  }, 150_000);

  it("info names the levels of a two-level model (it showed the first level only)", async () => {
    const v = await VAE.create({ inputDim: 16, latents: [{ encoder: [8], size: 4, decoder: [8] }, { encoder: [6], size: 2, decoder: [5] }],
      objective: { type: "iwae", samples: 3 }, seed: 1 }, { threads: 1 });
    const file = join(out, "two.wvae");
    writeFileSync(file, v.save());
    const i = await runCli(["info", "--model", file]);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toContain("network 16-8-4-6-2-5-4-8-16; trained on the IWAE bound, k = 3, 2 stochastic layers (z₁ 4, z₂ 2)");
  });

  it("refuses flags the preset cannot take, by the flags' names (were config.* errors)", async () => {
    for (const [args, message] of [
      [["--objective", "iwae", "--gradient", "dreg"], "--gradient dreg cannot be combined with --arch iwae2"],
      [["--prior", "vamp"], "--prior vamp cannot be combined with --arch iwae2"],
      [["--prior", "mixture"], "--prior mixture cannot be combined with --arch iwae2"],
      [["--conditional"], "--conditional cannot be combined with --arch iwae2"],
    ] as [string[], string][]) {
      const r = await runCli(["train", "--arch", "iwae2", ...args, "--out", join(out, "bad")]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain("config.");
      expect(existsSync(join(out, "bad"))).toBe(false);
    }
  });

  it("refuses --latent with the preset", async () => {
    const r = await runCli(["train", "--arch", "iwae2", "--latent", "8", "--out", out, "--name", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--latent.*iwae2/);
  });
});
