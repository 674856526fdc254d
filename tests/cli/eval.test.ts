// `wasm-vae eval` on a run's model prints the figures train's last lines
// printed: elbo and logLikelihood draw from the evaluation stream as the
// model's seed starts it, on every call, so validation after the last epoch,
// the final IWAE estimate and eval on the saved file use the same ε. Two
// epochs, so that the first epoch's validation drew before the last one's
// (the case that differed when the stream ran on). And the printed numbers
// carry the minus sign "−" of the rest of the output, not "-".
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fmt, fmtSigned } from "../../cli/src/progress.js";
import { imputationLines } from "../../cli/src/figures.js";
import { runCli, tempDir } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** "test −ELBO 203.63 nats per image (reconstruction 194.39 + KL 9.23)" and
 *  "test log p(x) ≈ −193.92 nats": the three ELBO figures and log p(x). */
function figures(stdout: string): { elbo: string; ll: string } {
  const elbo = /test −ELBO ([\d.]+) nats per image \(reconstruction ([\d.]+) \+ KL ([\d.]+)\)/.exec(stdout);
  const ll = /test log p\(x\) ≈ (−[\d.]+) nats \(IWAE, k = 4, first 8 (?:test )?images/.exec(stdout);
  expect(elbo, stdout).not.toBeNull();
  expect(ll, stdout).not.toBeNull();
  return { elbo: elbo!.slice(1).join(" "), ll: ll![1] };
}

describe("wasm-vae eval prints train's last figures", () => {
  it("train (2 epochs), then eval twice on model.wvae: the same test −ELBO, its terms and log p(x), to the printed digits", async () => {
    const out = tempDir(); dirs.push(out);
    const tr = await runCli(["train", "--limit-train", "256", "--limit-test", "64", "--batch-size", "64", "--encoder", "64", "--latent", "4",
      "--epochs", "2", "--iwae-images", "8", "--iwae-samples", "4", "--impute-images", "2", "--latent-view", "pca", "--threads", "1",
      "--out", out, "--name", "r"]);
    expect(tr.stderr).toBe("");
    expect(tr.code).toBe(0);
    const t = figures(tr.stdout.slice(tr.stdout.indexOf("\ndone: ")));
    // the last epoch's line shows the same test −ELBO (it is that validation)
    expect(tr.stdout).toMatch(new RegExp(`epoch 2/2 .* test −ELBO ${t.elbo.split(" ")[0].replace(".", "\\.")} \\(`));
    const model = join(out, "r", "model.wvae");
    const evalArgs = ["eval", "--model", model, "--iwae-images", "8", "--iwae-samples", "4"];
    const e1 = await runCli(evalArgs), e2 = await runCli([...evalArgs, "--threads", "1"]);
    for (const e of [e1, e2]) {
      expect(e.stderr).toBe("");
      expect(e.code).toBe(0);
      expect(e.stdout).toMatch(/ on 64 images\n/);       // the run's test split, from its metrics.json
      expect(figures(e.stdout)).toEqual(t);
    }
  }, 200_000);
});

describe("numbers print with the minus sign", () => {
  it("fmt: − (U+2212) for negatives, no sign for what rounds to zero; fmtSigned adds +", () => {
    expect(fmt(-244.414)).toBe("−244.41");
    expect(fmt(12.5, 1)).toBe("12.5");
    expect(fmt(-0.004)).toBe("0.00");
    expect(fmt(-Infinity)).toBe("−Infinity");
    expect(fmt(NaN)).toBe("NaN");
    expect(fmtSigned(-13.21, 1)).toBe("−13.2");
    expect(fmtSigned(13.21, 1)).toBe("+13.2");
    expect(fmtSigned(0.01, 1)).toBe("0.0");
    expect(fmtSigned(-0.01, 1)).toBe("0.0");
  });

  it("the imputation lines: −13.2% below the mean, +5.0% above", () => {
    const method = (mse: number) => ({ mse, setting: "s", seconds: 1 });
    const lines = imputationLines({
      images: 10, iterations: 5, samples: 50, mask: "bottom half hidden", hiddenValues: 3920, mseImputed: 0.0868,
      msePriorSample: 0.2, mseMeanFill: 0.1, meanOf: "test", meanRows: 256, testData: "MNIST test set",
      methods: { miwae: method(0.0868), metropolis: method(0.105), pseudo_gibbs: method(0.1) },
    } as unknown as Parameters<typeof imputationLines>[0]).join("\n");
    expect(lines).toContain("0.0868  (−13.2% vs mean; s, 1.0 s)");
    expect(lines).toContain("0.1050  (+5.0% vs mean; s, 1.0 s)");
    expect(lines).toContain("0.1000  (0.0% vs mean; s, 1.0 s)");
    expect(lines).not.toMatch(/-\d/);
  });
});
