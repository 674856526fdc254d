// `--threads`: a run on 1 thread and on 2 threads writes the same model, bit
// for bit; a bad count is a usage error naming the flag.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers.js";

describe("wasm-vae train --threads", () => {
  it("1 and 2 threads train bit-identical models, and metrics.json records the count", async () => {
    const out = tempDir("wvae-cli-threads-");
    const args = ["train", "--limit-train", "512", "--limit-test", "128", "--epochs", "1", "--encoder", "64", "--latent", "4",
      "--iwae-samples", "2", "--iwae-images", "8", "--out", out];
    for (const t of ["1", "2"]) {
      const r = await runCli([...args, "--threads", t, "--name", `t${t}`], { timeoutMs: 120_000 });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${t} thread`);
    }
    const a = readFileSync(join(out, "t1", "model.wvae")), b = readFileSync(join(out, "t2", "model.wvae"));
    expect(a.equals(b)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "t2", "metrics.json"), "utf8")).threads).toBe(2);
  });

  it("a bad count says what is wrong", async () => {
    for (const bad of ["0", "17", "two"]) {
      const r = await runCli(["train", "--threads", bad, "--out", tempDir()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--threads: expected an integer in \[1, 16\]/);
    }
  });
});
