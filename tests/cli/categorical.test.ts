// The CLI on a model with a categorical latent (issue 18; made with the
// library, and trained with --categorical): sample draws one-hot codes from the
// prior, reconstruct and eval work, info shows the N·K-wide head, and
// --temperature ≠ 1 is refused as a usage error naming the flag; impute runs
// (exit 1, one line, no stack trace).
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VAE } from "../../src/index.js";
import { pngSize, runCli, tempDir } from "./helpers.js";

const root = tempDir();
const model = join(root, "cat.wvae");
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  const v = await VAE.create({ inputDim: 784, encoder: [32], latent: { type: "categorical", variables: 4, classes: 3 }, seed: 2 }, { threads: 1 });
  writeFileSync(model, v.save());
});

describe("CLI with a categorical latent", () => {
  it("sample, reconstruct, eval and info work", async () => {
    const s = await runCli(["sample", "--model", model, "--out", join(root, "s.png"), "--n", "16"]);
    expect(s.code, s.stderr).toBe(0);
    expect(pngSize(join(root, "s.png")).width).toBeGreaterThan(0);
    const r = await runCli(["reconstruct", "--model", model, "--out", join(root, "r.png")]);
    expect(r.code, r.stderr).toBe(0);
    const e = await runCli(["eval", "--model", model, "--limit-test", "50"]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/test −ELBO [\d.]+ nats/);
    // issue 18: the estimate under a categorical latent says what it is
    expect(e.stdout).toContain("categorical latent: the importance-weighted bound with one-hot codes drawn from the discrete posterior");
    const i = await runCli(["info", "--model", model]);
    expect(i.stdout).toContain("encoder 784-32-12, decoder 12-32-784");
    // the latent family is named (the line above reads like a 12-wide Gaussian code)
    expect(i.stdout).toContain("trained on the ELBO, categorical latent 4 × 3 (Gumbel-softmax, τ 1 → 0.5; uniform prior)");
  }, 120_000);

  it("refuses --temperature ≠ 1 by name; impute runs", async () => {
    const t = await runCli(["sample", "--model", model, "--out", join(root, "t.png"), "--temperature", "0.5"]);
    // a usage error naming the flag (was exit 1 with the library's "temperature: expected 1 or nothing")
    expect(t.code).toBe(2);
    expect(t.stderr).toContain("--temperature applies to a Gaussian latent; this model's is categorical (codes from the uniform prior are one-hot");
    const m = await runCli(["impute", "--model", model, "--out", join(root, "i.png")]);
    expect(m.code, m.stderr).toBe(0);
    expect(t.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});

// review of issue 18: `train` had no flag for the categorical latent
describe("wasm-vae train --categorical", () => {
  it("--categorical 1x2 --straight-through trains a categorical model, names it, resumes, and draws no manifold", async () => {
    const out = join(root, "runs");
    const tiny = ["--limit-train", "128", "--limit-test", "32", "--batch-size", "32", "--encoder", "16", "--iwae-images", "4", "--iwae-samples", "4",
      "--impute-images", "2", "--latent-view", "pca", "--threads", "1", "--out", out];
    const r = await runCli(["train", ...tiny, "--epochs", "1", "--categorical", "1x2", "--straight-through", "--name", "c"], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("training: ELBO, categorical latent 1 × 2 (Gumbel-softmax, τ 1 → 0.5, straight-through; uniform prior)");
    expect(r.stdout).toContain("one-hot codes drawn from the discrete posterior");
    const v = await VAE.load(readFileSync(join(out, "c", "model.wvae")));
    expect(v.config.latent).toMatchObject({ type: "categorical", variables: 1, classes: 2, straightThrough: true });
    expect(v.config.latentDim).toBe(2);
    // a 2-wide code, but on the simplex: the N(0, I) quantile grid means nothing there
    expect(existsSync(join(out, "c", "manifold.png"))).toBe(false);
    const again = await runCli(["train", "--resume", join(out, "c"), "--epochs", "2", "--threads", "1"], { timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect((await VAE.load(readFileSync(join(out, "c", "model.wvae")))).epochs).toBe(2);
  }, 250_000);

  it("refuses bad or contradictory flags by name (exit 2, no run folder)", async () => {
    const out = join(root, "bad");
    for (const [args, message] of [
      [["--categorical", "4"], '--categorical: expected <variables>x<classes>'],
      [["--categorical", "4x1"], '--categorical: expected <variables>x<classes>'],
      [["--categorical", "2000000x10"], '--categorical: expected <variables>x<classes>'],
      [["--categorical", "4x3", "--latent", "5"], "--latent sets the width of a Gaussian latent"],
      [["--categorical", "4x3", "--prior", "vamp"], "--categorical cannot be combined with --prior vamp"],
      [["--categorical", "4x3", "--arch", "iwae2"], "--categorical cannot be combined with --arch iwae2"],
      [["--categorical", "4x3", "--objective", "iwae", "--gradient", "dreg"], "--gradient dreg cannot be combined with --categorical"],
      [["--categorical", "4x3", "--straight-through", "--objective", "iwae", "--k", "3"], "--straight-through cannot be combined with --objective iwae"],
      [["--straight-through"], "--straight-through applies to --categorical"],
    ] as [string[], string][]) {
      const r = await runCli(["train", ...args, "--out", out]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain("config.");
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
