// `wasm-vae report` and `--latent-view` from the command line: one-line
// errors for a missing or wrong run folder; --latent-view pca draws PCA
// alone, and a resumed run may switch to umap; an interrupted run (no
// report-data.json yet) still gets a report of its losses.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers.js";

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));

function oneLine(stderr: string, cmd: string, text: string | RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  const first = lines[0];
  if (typeof text === "string") expect(first).toBe(`wasm-vae ${cmd}: ${text}`);
  else expect(first).toMatch(text);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe("wasm-vae report: errors", () => {
  it("no run folder → usage error (exit 2)", async () => {
    const r = await runCli(["report"]);
    expect(r.code).toBe(2);
    oneLine(r.stderr, "report", "give the run folder: wasm-vae report runs/<name>");
  });

  it("two folders → the second is named (exit 2)", async () => {
    const r = await runCli(["report", "a", "b"]);
    expect(r.code).toBe(2);
    oneLine(r.stderr, "report", 'unexpected argument "b" (flags start with --)');
  });

  it("a folder without metrics.json, and one with a broken one (exit 1)", async () => {
    const empty = join(root, "empty");
    mkdirSync(empty);
    const r = await runCli(["report", empty]);
    expect(r.code).toBe(1);
    oneLine(r.stderr, "report", `error: ${join(empty, "metrics.json")}: no such file (not a run folder: it has no metrics.json)`);
    const broken = join(root, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "metrics.json"), "{ not json");
    const r2 = await runCli(["report", broken]);
    expect(r2.code).toBe(1);
    oneLine(r2.stderr, "report", new RegExp(`^wasm-vae report: error: ${join(broken, "metrics.json")}: cannot parse \\(`));
    writeFileSync(join(broken, "metrics.json"), JSON.stringify({ format: "something-else" }));
    const r3 = await runCli(["report", broken]);
    oneLine(r3.stderr, "report", `error: ${join(broken, "metrics.json")}: not a wasm-vae run's metrics`);
  });

  it("--latent-view takes umap or pca (exit 2, nothing created)", async () => {
    const r = await runCli(["train", "--latent-view", "tsne", "--out", join(root, "none")]);
    expect(r.code).toBe(2);
    oneLine(r.stderr, "train", '--latent-view: expected one of umap, pca, got "tsne"');
  });
});

describe("--latent-view and interrupted runs", () => {
  const out = join(root, "runs");
  const tiny = ["--limit-train", "256", "--limit-test", "120", "--batch-size", "64", "--encoder", "32", "--latent", "3", "--iwae-images", "8", "--iwae-samples", "2"];

  it("pca: PCA alone; resumed with umap: UMAP beside PCA", async () => {
    const r = await runCli(["train", ...tiny, "--epochs", "1", "--latent-view", "pca", "--out", out, "--name", "p"]);
    expect(r.code, r.stderr).toBe(0);
    const svg = () => readFileSync(join(out, "p", "latent.svg"), "utf8");
    const metrics = () => JSON.parse(readFileSync(join(out, "p", "metrics.json"), "utf8"));
    expect(svg()).toContain("PC1 (");
    expect(svg()).not.toContain("UMAP");
    expect(metrics().final.latent.projection).toMatch(/^PCA of the 3-d means/);
    expect(metrics().settings.latentView).toBe("pca");
    const r2 = await runCli(["train", "--resume", join(out, "p"), "--epochs", "2", "--latent-view", "umap"]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(svg()).toContain("UMAP 1");
    expect(svg()).toContain("PC1 (");
    expect(metrics().final.latent.projection).toMatch(/^UMAP of the 3-d means .* beside PCA/);
    const data = JSON.parse(readFileSync(join(out, "p", "report-data.json"), "utf8"));
    expect(data.latent.views.map((v: { kind: string }) => v.kind)).toEqual(["umap", "pca"]);
  });

  it("an interrupted run gets a report of its losses, saying what is missing", async () => {
    const r = await runCli(["train", ...tiny, "--epochs", "2", "--signal-after-batches", "5", "--out", out, "--name", "stopped"]);
    expect(r.code).toBe(130);
    const rep = await runCli(["report", join(out, "stopped")]);
    expect(rep.code, rep.stderr).toBe(0);
    const html = readFileSync(join(out, "stopped", "report.html"), "utf8");
    expect(html).toContain("report-data.json is missing (the run did not finish)");
    for (const id of ["loss", "terms", "schedule"]) expect(html).toContain(`data-chart="${id}"`);
    expect(html).not.toContain('data-chart="latent"');
  });
});
