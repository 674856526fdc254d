// `wasm-vae train --arch iwae2` (two stochastic layers, config.latents) end
// to end on an MNIST subset: the run folder, the model file's config, and
// the model commands on it; --latent is refused with the preset.
import { readFileSync, rmSync } from "node:fs";
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
    const vae = await VAE.load(readFileSync(join(out, "h", "model.wvae")));
    expect(vae.config.latents?.map((l) => l.size)).toEqual([100, 50]);
    expect(vae.config.activation).toBe("tanh");
    const ev = await runCli(["eval", "--model", join(out, "h", "model.wvae"), "--limit-test", "32", "--iwae-images", "4", "--iwae-samples", "4"]);
    expect(ev.code).toBe(0);
  }, 150_000);

  it("refuses --latent with the preset", async () => {
    const r = await runCli(["train", "--arch", "iwae2", "--latent", "8", "--out", out, "--name", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--latent.*iwae2/);
  });
});
