// IDX file reader (the LeCun format of MNIST and its kin). The layout:
//   bytes 0..1   0x00 0x00
//   byte  2      type code: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//   byte  3      number of dims (1..8 here)
//   then         one big-endian u32 per dim
//   then         the data, big-endian, row-major, exactly prod(dims) elements
// (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
//
// Every header field and the data length are checked, and a bad file throws an
// IdxFormatError naming the file and what was wrong; nothing is guessed or
// padded. `parseIdx` and `pairFromIdx` are pure and browser-safe; only
// `readIdxFile` / `loadIdxPair` touch the file system, through a dynamic import
// so this module still loads in a browser. No wasm here.
import { checkInt, checkOptions, fail } from "../base/validate.js";

/** A malformed IDX file (the message names the file and the problem). */
export class IdxFormatError extends Error {
  /** "IdxFormatError". */
  override name = "IdxFormatError";
}

/** Element type of an IDX file (its type code 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E). */
export type IdxType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
/** The typed array holding an IDX file's values, one per {@link IdxType}. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** The contents of one IDX file. */
export interface IdxArray {
  /** Element type from the magic number. */
  type: IdxType;
  /** Dims in file order (row-major, last dim fastest). */
  shape: number[];
  /** The values, in a typed array of the element type. */
  data: IdxData;
}

/** Images + labels read from a pair of IDX files. */
export interface IdxPair {
  /** (count, rows·cols) row-major, uint8 pixels scaled by 1/255. */
  images: Float32Array;
  /** (count) labels. */
  labels: Uint8Array;
  /** Number of examples. */
  count: number;
  /** Image height. */
  rows: number;
  /** Image width. */
  cols: number;
  /** rows · cols. */
  dim: number;
}

const TYPES: Record<number, { type: IdxType; size: number }> = {
  0x08: { type: "uint8", size: 1 },
  0x09: { type: "int8", size: 1 },
  0x0b: { type: "int16", size: 2 },
  0x0c: { type: "int32", size: 4 },
  0x0d: { type: "float32", size: 4 },
  0x0e: { type: "float64", size: 8 },
};

/** The largest element count accepted (guards against absurd headers). */
export const IDX_MAX_ELEMENTS = 2 ** 31;
/** The largest number of dims accepted. */
export const IDX_MAX_DIMS = 8;

function bad(name: string, what: string): never {
  throw new IdxFormatError(`${name}: ${what}`);
}

const hex = (b: number) => "0x" + b.toString(16).padStart(2, "0");

/**
 * Parses an IDX file held in memory. Multi-byte types are decoded from big
 * endian into a fresh array; for the 1-byte types (uint8, int8) `data` is a
 * view over `bytes` without a copy. `name` only labels error messages.
 */
export function parseIdx(bytes: Uint8Array, name = "idx"): IdxArray {
  if (!(bytes instanceof Uint8Array)) fail(`${name}: bytes`, "a Uint8Array", bytes);
  const n = bytes.length;
  if (n < 4) bad(name, `truncated header: ${n} byte(s), the magic number alone needs 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    bad(name, `bad magic: first two bytes must be 0x00 0x00, got ${hex(bytes[0])} ${hex(bytes[1])} (not an IDX file?)`);
  }
  const t = TYPES[bytes[2]];
  if (t === undefined) {
    bad(name, `unknown type code ${hex(bytes[2])} (expected 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32 or 0x0E float64)`);
  }
  const ndims = bytes[3];
  if (ndims === 0) bad(name, "zero dims declared (byte 3 must be 1..8)");
  if (ndims > IDX_MAX_DIMS) bad(name, `${ndims} dims declared, at most ${IDX_MAX_DIMS} supported`);
  const headerBytes = 4 + 4 * ndims;
  if (n < headerBytes) {
    bad(name, `truncated header: ${ndims} dims need a ${headerBytes}-byte header, file has ${n} byte(s)`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) bad(name, `dim ${i} has size 0 (shape ${[...shape, d].join("×")}…)`);
    shape.push(d);
    count *= d; // exact until it passes 2^31, and then we stop
    if (count > IDX_MAX_ELEMENTS) {
      bad(name, `absurd size: dims ${shape.join("×")}${i + 1 < ndims ? "×…" : ""} exceed ${IDX_MAX_ELEMENTS} elements`);
    }
  }

  const expected = count * t.size;
  const got = n - headerBytes;
  const desc = `shape ${shape.join("×")} ${t.type} = ${expected} data bytes`;
  if (got < expected) bad(name, `truncated data: ${desc}, file has ${got} after the ${headerBytes}-byte header`);
  if (got > expected) bad(name, `trailing bytes: ${desc}, file has ${got} after the ${headerBytes}-byte header (${got - expected} extra)`);

  const off = bytes.byteOffset + headerBytes;
  let data: IdxData;
  switch (t.type) {
    case "uint8": data = new Uint8Array(bytes.buffer, off, count); break;
    case "int8": data = new Int8Array(bytes.buffer, off, count); break;
    case "int16": {
      const a = new Int16Array(count);
      for (let i = 0, p = headerBytes; i < count; i++, p += 2) a[i] = view.getInt16(p, false);
      data = a; break;
    }
    case "int32": {
      const a = new Int32Array(count);
      for (let i = 0, p = headerBytes; i < count; i++, p += 4) a[i] = view.getInt32(p, false);
      data = a; break;
    }
    case "float32": {
      const a = new Float32Array(count);
      for (let i = 0, p = headerBytes; i < count; i++, p += 4) a[i] = view.getFloat32(p, false);
      data = a; break;
    }
    case "float64": {
      const a = new Float64Array(count);
      for (let i = 0, p = headerBytes; i < count; i++, p += 8) a[i] = view.getFloat64(p, false);
      data = a; break;
    }
  }
  return { type: t.type, shape, data };
}

/** Reads and parses an IDX file (Node only; errors name `path`). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  if (typeof path !== "string" || path.length === 0) fail("path", "a non-empty string", path);
  const { readFile } = await import("node:fs/promises");
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new IdxFormatError(`${path}: cannot read (${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code ?? String(e)})`, { cause: e });
  }
  return parseIdx(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/**
 * Combines a parsed images file (3-d: count, rows, cols) and labels file
 * (1-d: count, integer values in [0, 255]) into an IdxPair. uint8 pixels are
 * scaled by 1/255; other image types are converted to float32 unscaled and
 * must be finite. `limit` keeps at most the first `limit` examples.
 */
export function pairFromIdx(images: IdxArray, labels: IdxArray,
  opts: { imagesName?: string; labelsName?: string; limit?: number } = {}): IdxPair {
  checkOptions("opts", opts, ["imagesName", "labelsName", "limit"]);
  for (const [n, a] of [["images", images], ["labels", labels]] as const) {
    if (a === null || typeof a !== "object" || !Array.isArray(a.shape) || !ArrayBuffer.isView(a.data)) fail(n, "a parsed IDX array { type, shape, data } (from parseIdx)", a);
  }
  const imagesName = opts.imagesName ?? "images";
  const labelsName = opts.labelsName ?? "labels";
  if (images.shape.length !== 3) {
    bad(imagesName, `images must be 3-d (count, rows, cols), got shape ${images.shape.join("×")}`);
  }
  if (labels.shape.length !== 1) {
    bad(labelsName, `labels must be 1-d (count), got shape ${labels.shape.join("×")}`);
  }
  if (labels.type === "float32" || labels.type === "float64") {
    bad(labelsName, `labels must be an integer type (uint8), got ${labels.type}`);
  }
  const [n, rows, cols] = images.shape;
  if (labels.shape[0] !== n) {
    bad(`${imagesName} / ${labelsName}`, `count mismatch: ${n} images but ${labels.shape[0]} labels`);
  }
  const count = opts.limit === undefined ? n : Math.min(n, checkInt("limit", opts.limit, 1));
  const dim = rows * cols;

  const src = images.data;
  const out = new Float32Array(count * dim);
  if (images.type === "uint8") {
    for (let i = 0; i < out.length; i++) out[i] = src[i] / 255;
  } else {
    for (let i = 0; i < out.length; i++) {
      const v = src[i];
      if (!Number.isFinite(v)) bad(imagesName, `non-finite pixel ${v} at element ${i}`);
      out[i] = v;
    }
  }

  const lab = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = labels.data[i];
    if (v < 0 || v > 255) bad(labelsName, `label ${v} at index ${i} is outside [0, 255]`);
    lab[i] = v;
  }
  return { images: out, labels: lab, count, rows, cols, dim };
}

/** Reads an images IDX file and a labels IDX file (Node only); see pairFromIdx. */
export async function loadIdxPair(imagesPath: string, labelsPath: string,
  opts: { limit?: number } = {}): Promise<IdxPair> {
  checkOptions("opts", opts, ["limit"]);
  if (opts.limit !== undefined) checkInt("limit", opts.limit, 1);
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  return pairFromIdx(images, labels, { imagesName: imagesPath, labelsName: labelsPath, limit: opts.limit });
}
