// The CLI on a model with a categorical latent (issue 18; made with the
// library, as the CLI has no flag for it): sample draws one-hot codes from the
// prior, reconstruct and eval work, info shows the N·K-wide head, and
// --temperature ≠ 1 is refused with the library's named error; impute runs
// (exit 1, one line, no stack trace).
import { rmSync, writeFileSync } from "node:fs";
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
    const i = await runCli(["info", "--model", model]);
    expect(i.stdout).toContain("encoder 784-32-12, decoder 12-32-784");
    // the latent family is named (the line above reads like a 12-wide Gaussian code)
    expect(i.stdout).toContain("trained on the ELBO, categorical latent 4 × 3 (Gumbel-softmax, τ 1 → 0.5; uniform prior)");
  }, 120_000);

  it("refuses --temperature ≠ 1 by name; impute runs", async () => {
    const t = await runCli(["sample", "--model", model, "--out", join(root, "t.png"), "--temperature", "0.5"]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain("temperature: expected 1 or nothing: codes from the uniform prior are one-hot");
    const m = await runCli(["impute", "--model", model, "--out", join(root, "i.png")]);
    expect(m.code, m.stderr).toBe(0);
    expect(t.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});
