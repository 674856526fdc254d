// bench/paper.ts (npm run bench:paper) on a tiny setting, as a child process:
// it trains, evaluates and writes one record per run in the documented
// shape; a run whose config the library refuses is reported, not crashed;
// a later run merges its records into the file (same key replaced, others
// kept) and --report-only rewrites paper.md from the file alone.
// The numbers themselves are the benchmark's, not checked here.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "wvae-paper-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("bench/paper.ts", () => {
  it("1 epoch on 200 rows: a VAE record with finite figures; other runs ok or 'not available in this build'", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/paper.ts", "--rows", "200", "--epochs", "1", "--nll-images", "10", "--nll-k", "20",
      "--elbo-images", "100", "--steps", "3", "--runs", "vae,iwae5,gumbel", "--out", out], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const recs = JSON.parse(readFileSync(join(out, "paper-results.json"), "utf8")) as Record<string, unknown>[];
    expect(recs.map((x) => x.run)).toEqual(["vae", "iwae5", "gumbel"]);
    for (const x of recs) {
      for (const k of ["model", "objective", "k", "gradient", "prior", "latent", "epochs", "nll", "elbo", "secondsPerEpoch", "threads"]) expect(x, k).toHaveProperty(k);
      if (x.status === "ok") {
        expect(x.epochs).toBe(1);
        for (const k of ["nll", "elbo", "secondsPerEpoch"]) expect(Number.isFinite(x[k]), k).toBe(true);
        expect(x.nll as number).toBeGreaterThan(0);
        expect(x.elbo as number).toBeLessThan(0);
        expect(x).toMatchObject({ trainRows: 200, nllImages: 10, nllSamples: 20, elboImages: 100, testBinarizeSeed: 0 });
      } else {
        expect(x.status).toBe("not available in this build");
        expect(typeof x.error).toBe("string");
        expect(x.nll).toBeNull();
      }
    }
    expect(recs[0]).toMatchObject({ run: "vae", status: "ok", objective: "elbo", k: 1 });
    const md = readFileSync(join(out, "paper.md"), "utf8");
    expect(md).toContain("| VAE (k = 1)");
    expect(md).toContain("86.76");
  }, 300_000);

  it("a second process merges: another init adds its rows, the same key replaces, --report-only rewrites paper.md", () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "bench/paper.ts", "--rows", "200", "--nll-images", "10", "--nll-k", "20",
      "--elbo-images", "100", "--steps", "3", "--out", out, ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    const before = JSON.parse(readFileSync(join(out, "paper-results.json"), "utf8")) as Record<string, unknown>[];
    let r = run("--runs", "vae", "--init", "pytorch", "--epochs", "1");
    expect(r.status, r.stderr).toBe(0);
    let recs = JSON.parse(readFileSync(join(out, "paper-results.json"), "utf8")) as Record<string, unknown>[];
    // the first test's three records stay as they were; the new one sorts after the Glorot VAE
    expect(recs.map((x) => `${x.run}/${x.init}`)).toEqual(["vae/glorot", "vae/pytorch", "iwae5/glorot", "gumbel/glorot"]);
    expect(recs.filter((x) => x.init === "glorot")).toEqual(before);
    expect(recs[1]).toMatchObject({ status: "ok", epochs: 1, command: expect.stringContaining("--init pytorch") });
    expect(Number.isFinite(recs[1].elboOnNllImages)).toBe(true);
    // the same key (run, init, seed, epochs, sizes) again: replaced, not added
    r = run("--runs", "vae", "--init", "pytorch", "--epochs", "1");
    expect(r.status, r.stderr).toBe(0);
    recs = JSON.parse(readFileSync(join(out, "paper-results.json"), "utf8")) as Record<string, unknown>[];
    expect(recs.length).toBe(4);
    expect(recs[1].measuredAt).not.toBe(undefined);
    const md = readFileSync(join(out, "paper.md"), "utf8");
    expect(md).toContain("| VAE (k = 1), init pytorch");
    unlinkSync(join(out, "paper.md"));
    r = run("--report-only");
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, "paper.md"), "utf8")).toBe(md);
  }, 600_000);
});
