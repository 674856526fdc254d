// Bad flags and bad data files: the CLI exits non-zero (2 for usage, 1 for
// data and model files) with a message naming the problem, and creates no
// run folder.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeNpy } from "../../cli/src/npy.js";
import { VAE } from "../../src/index.js";
import { bytes, runCli, tempDir, writeIdx } from "./helpers.js";

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));
const out = join(root, "runs");

async function fails(args: string[], code: number, ...messages: (string | RegExp)[]): Promise<void> {
  const r = await runCli(["train", ...args, "--out", out]);
  expect(r.code, r.stdout + r.stderr).toBe(code);
  for (const m of messages) {
    if (typeof m === "string") expect(r.stderr).toContain(m);
    else expect(r.stderr).toMatch(m);
  }
  expect(r.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
  expect(existsSync(out) ? readdirSync(out) : []).toEqual([]); // no run folder
}

const file = (name: string, content: string | Uint8Array) => { const p = join(root, name); writeFileSync(p, content); return p; };

describe("bad flags → exit code 2", () => {
  it("unknown flag, with a suggestion", () => fails(["--epoch", "3"], 2, "unknown option --epoch (did you mean --epochs?)"));
  it("bad choice", () => fails(["--likelihood", "poisson"], 2, '--likelihood: expected one of bernoulli, gaussian, gaussian_learned, got "poisson"'));
  it("bad number", () => fails(["--epochs", "0"], 2, '--epochs: expected an integer in [1, 1000000], got "0"'));
  it("bad layer list", () => fails(["--encoder", "400,abc"], 2, "--encoder: expected an integer"));
  it("missing value", () => fails(["--lr"], 2, "--lr"));
  it("stray argument", () => fails(["mnist"], 2, 'unexpected argument "mnist"'));
  it("flag of another data source", () => fails(["--train", "x.csv"], 2, "--train applies to --data csv/npy/images, not --data mnist"));
  it("--sigma with the Bernoulli likelihood", () => fails(["--sigma", "0.5"], 2, "--sigma applies to --likelihood gaussian"));
  it("--k without --objective iwae", () => fails(["--k", "5"], 2, "--k applies to --objective iwae, not elbo"));
  it("--objective iwae with k = 0", () => fails(["--objective", "iwae", "--k", "0"], 2, '--k: expected an integer in [1, 4096], got "0"'));
  it("unknown objective", () => fails(["--objective", "vae"], 2, '--objective: expected one of elbo, iwae, got "vae"'));
  it("--conditional without labels", async () => {
    const p = file("nolabels.csv", "0,0.5\n1,0.25\n0.5,0.5\n");
    await fails(["--data", "csv", "--train", p, "--conditional"], 2, "--conditional needs labels");
  });
  it("unknown command", async () => {
    const r = await runCli(["fit"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "fit"');
  });
  it("--help shows defaults and exits 0", async () => {
    const r = await runCli(["train", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--batch-size <n>");
    expect(r.stdout).toContain("[default: 128]");
    // review of issue 19: the help said Ctrl-C keeps the last finished epoch (it writes the checkpoint at the batch), and left --impute-images out of what --resume may change
    expect(r.stdout).toContain("Ctrl-C stops after the current batch and writes the checkpoint there; --resume <run dir> continues bit-identically from that batch.");
    expect(r.stdout).toContain("only --epochs, --iwae-samples, --iwae-images, --impute-images, --build, --threads and --latent-view may change");
    expect(r.stdout).toContain("--init glorot|he|pytorch");
    const ev = await runCli(["eval", "--help"]);
    expect(ev.stdout).toMatch(/--size <h>x<w> +images: scale to cover h×w and centre-crop \(default: the model's image size\)/);
    expect(ev.stdout).toMatch(/--binarize-seed <n>\|none +binarize the test images once/);
    expect((await runCli(["impute", "--help"])).stdout).toMatch(/--iterations <n> .*\[default: 100\]/);
    for (const cmd of ["eval", "sample", "reconstruct", "impute", "info"]) {
      const h = await runCli([cmd, "--help"]);
      expect(h.code, cmd).toBe(0);
      expect(h.stdout, cmd).toContain(`Usage: wasm-vae ${cmd}`);
    }
  });
});

describe("bad data files → exit code 1", () => {
  it("truncated IDX images", async () => {
    const x = file("tr-x", ""), y = file("tr-y", "");
    writeIdx(x, [10, 28, 28], bytes(10 * 784), { truncateTo: 16 + 5 * 784 });
    writeIdx(y, [10], bytes(10).map((v) => v % 10));
    await fails(["--data", "idx", "--train-images", x, "--train-labels", y], 1, `${x}: truncated data: shape 10×28×28 uint8 = 7840 data bytes, file has 3920`);
  });
  it("IDX image/label count mismatch", async () => {
    const x = file("tr-x2", ""), y = file("tr-y2", "");
    writeIdx(x, [10, 28, 28], bytes(10 * 784));
    writeIdx(y, [9], bytes(9).map((v) => v % 10));
    await fails(["--data", "idx", "--train-images", x, "--train-labels", y], 1, "count mismatch: 10 images but 9 labels");
  });
  it("missing file", () => fails(["--data", "csv", "--train", join(root, "nope.csv")], 1, `${join(root, "nope.csv")}: no such file`));
  it("CSV with a non-number, by line and column", async () => {
    const p = file("bad.csv", "0,0.5,1\n0.25,0.5,0.75\n0.1,x,0.3\n");
    await fails(["--data", "csv", "--train", p], 1, `${p} line 3: column 2: "x" is not a number`);
  });
  it("CSV with an inconsistent column count", async () => {
    const p = file("ragged.csv", "0,0.5,1\n0.25,0.5,0.75\n\n0.1,0.3\n");
    await fails(["--data", "csv", "--train", p], 1, `${p} line 4: 2 columns, expected 3 (as on line 1)`);
  });
  it("CSV header without --header gets a hint", async () => {
    const p = file("head.csv", "a,b\n0,1\n1,0\n");
    await fails(["--data", "csv", "--train", p], 1, "(if this line is a header, pass --header)");
  });
  it("CSV 0..255 values with the Bernoulli likelihood", async () => {
    const p = file("pixels.csv", "0,128,255\n255,0,3\n1,2,3\n");
    await fails(["--data", "csv", "--train", p], 1, "outside [0, 1], which --likelihood bernoulli requires", "--scale 255");
  });
  it(".npy with a float64 dtype", async () => {
    const p = file("f8.npy", encodeNpy(new Float64Array(12), [3, 4]));
    await fails(["--data", "npy", "--train", p], 1, `${p}: dtype '<f8' (float64) is not supported here: expected '|u1' (uint8) or '<f4' (float32)`);
  });
  it(".npy in Fortran order", async () => {
    const p = file("fortran.npy", encodeNpy(new Float32Array(12), [3, 4], { fortranOrder: true }));
    await fails(["--data", "npy", "--train", p], 1, "fortran_order is True");
  });
  it("truncated .npy", async () => {
    const full = encodeNpy(new Uint8Array(40), [4, 10]);
    const p = file("short.npy", full.subarray(0, full.length - 7));
    await fails(["--data", "npy", "--train", p], 1, "truncated data: shape 4×10 '|u1' needs 40 data bytes, the file has 33");
  });
  it("not a run folder for --resume", async () => {
    const r = await runCli(["train", "--resume", root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${root}: not a resumable run folder`);
  });
  it("corrupt model file for eval", async () => {
    const p = file("bad.wvae", new Uint8Array(64).fill(7));
    const r = await runCli(["eval", "--model", p]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`wasm-vae eval: error: ${p}: not a wasm-vae model (magic bytes are not "WVAE")\n`);   // the path, not "model file"
  });
  it("a model file of another architecture for --resume names the checkpoint", async () => {
    const run = join(root, "run-arch");
    mkdirSync(run);
    writeFileSync(join(run, "metrics.json"), JSON.stringify({ format: "wasm-vae-run", version: 1, settings: { data: { kind: "mnist" } } }));
    writeFileSync(join(run, "checkpoint.wvae"), new Uint8Array(40).fill(3));
    const r = await runCli(["train", "--resume", run]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`wasm-vae train: error: ${join(run, "checkpoint.wvae")}: not a wasm-vae model (magic bytes are not "WVAE")\n`);
  });
  it("info and sample name the file too", async () => {
    const p = file("bad2.wvae", new Uint8Array(64).fill(9));
    for (const cmd of ["info", "sample"]) {
      const r = await runCli([cmd, "--model", p]);
      expect(r.code, cmd).toBe(1);
      expect(r.stderr, cmd).toBe(`wasm-vae ${cmd}: error: ${p}: not a wasm-vae model (magic bytes are not "WVAE")\n`);
    }
  });
});

describe("negative values → what is wrong with the value, exit code 2", () => {
  // parseArgs reads "-1" as a flag ("argument is ambiguous"); the CLI passes it to the reader
  it("--epochs -1", () => fails(["--epochs", "-1"], 2, '--epochs: expected an integer in [1, 1000000], got "-1"'));
  it("--lr -1", () => fails(["--lr", "-1"], 2, "--lr: expected a number > 0, got -1"));
  it("--batch-size -64", () => fails(["--batch-size", "-64"], 2, '--batch-size: expected an integer in [1, 65536], got "-64"'));
  it("--weight-decay -1e-4", () => fails(["--weight-decay", "-1e-4"], 2, "--weight-decay: expected a number ≥ 0, got -1e-4"));
  it("--kl-warmup -.5", () => fails(["--kl-warmup", "-.5"], 2, "--kl-warmup: expected a number ≥ 0, got -.5"));
  it("a flag where the value should be", () => fails(["--lr", "--epochs", "3"], 2, "--lr: missing value (the next argument is a flag"));
  it("never 'ambiguous'", async () => {
    for (const args of [["--seed", "-3"], ["--clip-norm", "-2"], ["--likelihood", "gaussian", "--sigma", "-1"]]) {
      const r = await runCli(["train", ...args, "--out", out]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(`${args.at(-2)}: expected`);
      expect(r.stderr).not.toContain("ambiguous");
    }
  });
});

describe("file-system errors → one line naming the path, exit code 1, nothing written", () => {
  let model = "";
  const oneLine = (stderr: string, cmd: string, text: string) => {
    expect(stderr).toBe(`wasm-vae ${cmd}: error: ${text}\n`); // the whole output: no stack trace
  };
  it("setup: a model file", async () => {
    const vae = await VAE.create({ inputDim: 16, encoder: [4], latentDim: 2, seed: 1 });
    model = file("m.wvae", vae.save());
  });
  it("train --out <an existing file> (EEXIST)", async () => {
    const f = file("a-file", "x");
    const r = await runCli(["train", "--out", f]);
    expect(r.code).toBe(1);
    oneLine(r.stderr, "train", `--out ${f}: cannot create the folder: exists and is not a folder`);
  });
  it("train --out <file>/sub (ENOTDIR)", async () => {
    const f = file("b-file", "x");
    const r = await runCli(["train", "--out", join(f, "sub")]);
    expect(r.code).toBe(1);
    oneLine(r.stderr, "train", `--out ${join(f, "sub")}: cannot create the folder: a part of the path is a file, not a folder`);
  });
  it("sample --out /nonexistent/dir/x.png (ENOENT)", async () => {
    const p = join(root, "nonexistent", "dir", "x.png");
    const r = await runCli(["sample", "--model", model, "--n", "4", "--out", p]);
    expect(r.code).toBe(1);
    oneLine(r.stderr, "sample", `${p}: cannot write: the folder ${join(root, "nonexistent", "dir")} does not exist`);
  });
  it("sample --out <a directory> (EISDIR), and no temporary is left there", async () => {
    const d = join(root, "a-dir");
    mkdirSync(d);
    const r = await runCli(["sample", "--model", model, "--n", "4", "--out", d]);
    expect(r.code).toBe(1);
    oneLine(r.stderr, "sample", `${d}: cannot write: is a directory (give a file name)`);
    expect(readdirSync(d)).toEqual([]);
  });
  it("sample --out <file>/x.png (ENOTDIR)", async () => {
    const f = file("c-file", "x");
    const r = await runCli(["sample", "--model", model, "--n", "4", "--out", join(f, "x.png")]);
    expect(r.code).toBe(1);
    oneLine(r.stderr, "sample", `${join(f, "x.png")}: cannot write: a part of the path is a file, not a folder`);
  });
});
