// wasm-vae train --output-bias data_mean: a new run's output bias starts at the
// log-odds of the training rows' mean pixel (float64 here), and a bad value is a
// usage error naming the flag.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadMnist, VAE } from "../../src/index.js";
import { runCli, tempDir } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe("wasm-vae train --output-bias", () => {
  it("data_mean: the output bias starts at the training mean's log-odds (lr 1e-12 keeps it there)", async () => {
    const out = tempDir(); dirs.push(out);
    const r = await runCli(["train", "--limit-train", "256", "--limit-test", "64", "--batch-size", "128", "--iwae-images", "8", "--iwae-samples", "4",
      "--impute-images", "4", "--epochs", "1", "--lr", "1e-12", "--output-bias", "data_mean", "--out", out, "--name", "ob"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const vae = await VAE.load(new Uint8Array(readFileSync(join(out, "ob", "model.wvae"))), { threads: 1 });
    const w = vae.getWeights(), names = Object.keys(w).filter((n) => /^decoder\.\d+\.bias$/.test(n));
    const bias = w[names[names.length - 1]];
    const { images } = await loadMnist({ limit: 256 });
    for (let d = 0; d < 784; d++) {
      let s = 0;
      for (let r = 0; r < 256; r++) s += images[r * 784 + d];
      const p = Math.min(0.999, Math.max(0.001, s / 256));
      expect(Math.abs(bias[d] - Math.log(p / (1 - p))), `bias[${d}]`).toBeLessThan(1e-4);
    }
    vae.dispose();
  });

  it("a value other than zero | data_mean is a usage error naming --output-bias", async () => {
    const r = await runCli(["train", "--output-bias", "mean", "--out", tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--output-bias/);
  });
});
