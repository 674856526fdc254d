// `--data images`: a folder of PNG and JPEG files read into float32 rows,
// NHWC (h, w, c), pixels / 255, with sharp (libvips, prebuilt binaries from
// npm, loaded only here and only for this data source).
//   DIR/*.png|jpg           unlabelled images
//   DIR/<class>/…           labelled: one class per subfolder (sorted names
//                           → labels 0, 1, …), any depth below it
// Hidden files and folders (".DS_Store", ".git/") are ignored. Every other
// file must decode as PNG or JPEG: otherwise a DataError naming the file, or,
// with skipBad, it is skipped and counted. Each image is auto-oriented (EXIF),
// its transparency composited on black, converted to 1 (luminance) or 3
// (sRGB) channels and, when its size differs from `size`, scaled to cover
// h×w and centre-cropped (sharp's fit "cover", Lanczos-3), so the aspect
// ratio is kept.
// The held-out split (holdOutImages) takes every k-th file of each class.
// Errors are ImageFolderError; data.ts turns them into DataError.
// Not here: the flags (data.ts reads them and calls this).
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { MissingDependencyError } from "./chart-render.js";

/** A file or folder that cannot be read as images (data.ts makes it a DataError). */
export class ImageFolderError extends Error {
  override name = "ImageFolderError";
}

type Sharp = typeof import("sharp").default;

let sharpModule: Promise<Sharp> | null = null;

/** sharp, or MissingDependencyError naming the fix when it is not installed. */
export function sharpModuleOrThrow(): Promise<Sharp> {
  sharpModule ??= import("sharp").then((m) => m.default, (e) => {
    sharpModule = null;
    throw new MissingDependencyError("--data images reads PNG and JPEG files with the package sharp, which is not installed or has no binary for this platform " +
      "(it is a dependency of wasm-vae-cli: reinstall it, or npm i sharp)", { cause: e });
  });
  return sharpModule;
}

export interface ImageFolderOptions {
  /** (h, w) every image is brought to; null: the first image's size. */
  size: [number, number] | null;
  /** 1 (grey) or 3 (RGB); null: 1 when the first image is grey (one
   *  channel, or R = G = B in every pixel), else 3. */
  channels: 1 | 3 | null;
  /** Skip (and count) files that do not decode, instead of failing. */
  skipBad: boolean;
  /** Class names to label with (a test folder uses the training folder's);
   *  null: the subfolder names found. */
  classNames?: string[] | null;
}

export interface ImageFolder {
  /** (n, h·w·c) values in [0, 1], NHWC rows, in the order of `files`. */
  x: Float32Array;
  /** Class index of every image, or null when DIR has no subfolders. */
  labels: Uint8Array | null;
  classNames: string[] | null;
  /** Paths relative to the folder ("/" separated), sorted by class then name. */
  files: string[];
  n: number;
  /** (h, w, c) of one image. */
  shape: [number, number, number];
  /** Files that did not decode (with skipBad). */
  skipped: { file: string; reason: string }[];
}

const MAX_CLASSES = 256;

/** Non-hidden files under `dir`, relative paths with "/" separators, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (e) {
      throw new ImageFolderError(`${d}: cannot read the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(relative(dir, p).split(sep).join("/"));
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The first path segment of a file in a subfolder, or null at the top. */
const classOf = (file: string): string | null => (file.includes("/") ? file.slice(0, file.indexOf("/")) : null);

/** Runs fn over items with at most `limit` in flight; results in order. */
async function pool<T, R>(items: T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => { while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); } };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Reads the PNG and JPEG files of `dir` (see the file comment). */
export async function readImageFolder(dir: string, o: ImageFolderOptions): Promise<ImageFolder> {
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    throw new ImageFolderError(e.code === "ENOENT" ? `${dir}: no such folder` : `${dir}: cannot read (${e.code ?? e.message})`);
  });
  if (!st.isDirectory()) throw new ImageFolderError(`${dir}: is a file, expected a folder of PNG/JPEG images`);
  const sharp = await sharpModuleOrThrow();
  let files = await listFiles(dir);
  if (files.length === 0) throw new ImageFolderError(`${dir}: no image files (expected PNG or JPEG files, or one subfolder of them per class)`);

  // labels: every file in a class subfolder, or none is
  const top = files.filter((f) => classOf(f) === null);
  let classNames: string[] | null = null;
  if (top.length < files.length) {
    if (top.length > 0) {
      throw new ImageFolderError(`${join(dir, top[0])}: lies beside class subfolders (${[...new Set(files.map(classOf).filter((c) => c !== null))].slice(0, 3).join(", ")}, …); ` +
        `put every image in a class subfolder, or none`);
    }
    const found = [...new Set(files.map((f) => classOf(f)!))];
    classNames = o.classNames ?? found;
    const unknown = found.filter((c) => !classNames!.includes(c));
    if (unknown.length > 0) throw new ImageFolderError(`${join(dir, unknown[0])}: class folder "${unknown[0]}" is not a class of the training folder (${classNames.join(", ")})`);
    if (classNames.length > MAX_CLASSES) throw new ImageFolderError(`${dir}: ${classNames.length} class subfolders; at most ${MAX_CLASSES} are supported`);
    // sorted by class index, then name
    const rank = new Map(classNames.map((c, i) => [c, i]));
    files = files.sort((a, b) => rank.get(classOf(a)!)! - rank.get(classOf(b)!)! || (a < b ? -1 : a > b ? 1 : 0));
  } else if (o.classNames) {
    throw new ImageFolderError(`${dir}: has no class subfolders, but the training images are labelled (${o.classNames.slice(0, 3).join(", ")}, …)`);
  }

  // files that do not decode: skipped with skipBad, else the first (in path
  // order, whatever order the parallel reads finish in) stops the read
  const failures = new Map<string, string>();
  const bad = (file: string, reason: string): null => {
    failures.set(file, reason);
    return null;
  };
  const stopAtFirstFailure = () => {
    if (o.skipBad || failures.size === 0) return;
    const file = files.find((f) => failures.has(f))!;
    throw new ImageFolderError(`${join(dir, file)}: ${failures.get(file)} (add --skip-bad to skip such files)`);
  };

  // size and channels: given, or from the first file that decodes
  let size = o.size, channels = o.channels;
  if (!size || !channels) {
    for (const f of files) {
      const meta = await sharp(join(dir, f)).metadata().catch(() => null);
      if (!meta || (meta.format !== "png" && meta.format !== "jpeg") || !meta.width || !meta.height) continue;
      const swap = (meta.orientation ?? 1) >= 5; // EXIF 5–8 rotate by 90°
      size ??= swap ? [meta.width, meta.height] : [meta.height, meta.width];
      channels ??= (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0) >= 3 && await hasColour(sharp, join(dir, f)) ? 3 : 1;
      break;
    }
    if (!size || !channels) {
      bad(files[0], "not a PNG or JPEG image");
      stopAtFirstFailure();
      failNone(dir);
    }
  }
  const [h, w] = size;
  const c = channels, D = h * w * c;

  const rows = await pool(files, 8, async (f) => {
    const path = join(dir, f);
    let meta;
    try {
      meta = await sharp(path).metadata();
    } catch (e) {
      return bad(f, `cannot decode (${String((e as Error).message).split("\n")[0]})`);
    }
    if (meta.format !== "png" && meta.format !== "jpeg") return bad(f, `not a PNG or JPEG image (${meta.format ?? "unknown format"})`);
    try {
      let img = sharp(path, { failOn: "error" }).rotate().flatten({ background: "#000000" });
      const ow = (meta.orientation ?? 1) >= 5 ? meta.height : meta.width, oh = (meta.orientation ?? 1) >= 5 ? meta.width : meta.height;
      if (ow !== w || oh !== h) img = img.resize(w, h, { fit: "cover", position: "centre", kernel: "lanczos3" });
      const { data, info } = await img.toColourspace(c === 1 ? "b-w" : "srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
      if (info.width !== w || info.height !== h || info.channels !== c) return bad(f, `decoded to ${info.height}×${info.width}×${info.channels}, expected ${h}×${w}×${c}`);
      return data;
    } catch (e) {
      return bad(f, `cannot decode (${String((e as Error).message).split("\n")[0]})`);
    }
  });

  stopAtFirstFailure();
  const skipped = files.filter((f) => failures.has(f)).map((file) => ({ file, reason: failures.get(file)! }));
  const keep: number[] = [];
  rows.forEach((r, i) => { if (r) keep.push(i); });
  if (keep.length === 0) failNone(dir);
  const x = new Float32Array(keep.length * D);
  keep.forEach((i, k) => { const r = rows[i]!; for (let j = 0; j < D; j++) x[k * D + j] = r[j] / 255; });
  const kept = keep.map((i) => files[i]);
  let labels: Uint8Array | null = null;
  if (classNames) {
    const rank = new Map(classNames.map((cn, i) => [cn, i]));
    labels = Uint8Array.from(kept, (f) => rank.get(classOf(f)!)!);
  }
  return { x, labels, classNames, files: kept, n: keep.length, shape: [h, w, c], skipped };
}

/** Whether an RGB image has a pixel with R ≠ G or G ≠ B (grey saved as RGB has none). */
async function hasColour(sharp: Sharp, path: string): Promise<boolean> {
  const { data, info } = await sharp(path).flatten({ background: "#000000" }).toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true })
    .catch(() => ({ data: null, info: null }));
  if (!data || !info || info.channels < 3) return false;
  for (let i = 0; i < data.length; i += info.channels) if (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2]) return true;
  return false;
}

function failNone(dir: string): never {
  throw new ImageFolderError(`${dir}: none of the files is a readable PNG or JPEG image`);
}

/** Row order of a split: round-robin over the classes (the first file of each
 *  class, then the second, …), so the first rows of a test split, which the
 *  figures show, and the first --limit-train rows of a training split cover
 *  every class. Unlabelled: as they are. */
export function interleaveClasses(labels: Uint8Array | null, rows: number[]): number[] {
  if (!labels) return rows;
  const byClass = new Map<number, number[]>();
  for (const r of rows) { const l = labels[r]; if (!byClass.has(l)) byClass.set(l, []); byClass.get(l)!.push(r); }
  const lists = [...byClass.keys()].sort((a, b) => a - b).map((k) => byClass.get(k)!);
  const out: number[] = [];
  for (let i = 0; out.length < rows.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/** The held-out test rows of a folder: within each class (or the whole folder
 *  when unlabelled), in file-name order, row i is held out when
 *  ⌊(i + 1)·f⌋ > ⌊i·f⌋, i.e. every (1/f)-th file: ⌊n_class·f⌋ of each class,
 *  spread over the names, the same on every run. Returns the train and test
 *  row indices (test interleaved over the classes). */
export function holdOutImages(labels: Uint8Array | null, n: number, fraction: number): { train: number[]; test: number[] } {
  const seen = new Map<number, number>();
  const train: number[] = [], test: number[] = [];
  for (let r = 0; r < n; r++) {
    const k = labels ? labels[r] : 0;
    const i = seen.get(k) ?? 0;
    seen.set(k, i + 1);
    (Math.floor((i + 1) * fraction + 1e-9) > Math.floor(i * fraction + 1e-9) ? test : train).push(r);
  }
  return { train: interleaveClasses(labels, train), test: interleaveClasses(labels, test) };
}
