// NumPy .npy reader (format versions 1.0, 2.0 and 3.0), pure: bytes in,
// typed array out. Reads little-endian numeric dtypes in C order; rejects
// Fortran order, big-endian, structured, object and other dtypes, and
// truncated or oversized data, with messages that name the file and the fix.
// Spec: numpy/lib/format.py ("NPY format"), numpy.org/neps/nep-0001.
// Not here: .npz archives, memory mapping, pickled object arrays.

export class NpyFormatError extends Error {
  override name = "NpyFormatError";
}

export type NpyDtype = "uint8" | "int8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64" | "float32" | "float64";

export interface NpyArray {
  /** The dtype string of the header, e.g. "<f4" or "|u1". */
  descr: string;
  dtype: NpyDtype;
  shape: number[];
  /** The elements in C order, as numbers (int64/uint64 must fit 2^53). */
  data: Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

// descr (after the byte-order character) → dtype and item size
const KINDS: Record<string, { dtype: NpyDtype; size: number }> = {
  u1: { dtype: "uint8", size: 1 }, i1: { dtype: "int8", size: 1 },
  i2: { dtype: "int16", size: 2 }, u2: { dtype: "uint16", size: 2 },
  i4: { dtype: "int32", size: 4 }, u4: { dtype: "uint32", size: 4 },
  i8: { dtype: "int64", size: 8 }, u8: { dtype: "uint64", size: 8 },
  f4: { dtype: "float32", size: 4 }, f8: { dtype: "float64", size: 8 },
};

/** The largest element count accepted. */
export const NPY_MAX_ELEMENTS = 2 ** 31;

/**
 * Parses a .npy file held in memory. `allowed` lists the dtypes the caller
 * accepts (others are rejected with a message naming them); `name` labels
 * the errors.
 */
export function parseNpy(bytes: Uint8Array, name: string, allowed: readonly NpyDtype[]): NpyArray {
  const bad = (what: string): never => { throw new NpyFormatError(`${name}: ${what}`); };
  const n = bytes.length;
  if (n < 10) bad(`truncated: ${n} byte(s), a .npy header needs at least 10`);
  for (let i = 0; i < 6; i++) if (bytes[i] !== MAGIC[i]) bad(`not a NumPy .npy file (it does not start with "\\x93NUMPY")`);
  const major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3) bad(`unsupported .npy format version ${major}.${minor} (this reader knows 1.0, 2.0 and 3.0)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, start: number;
  if (major === 1) { headerLen = dv.getUint16(8, true); start = 10; }
  else {
    if (n < 12) bad(`truncated: ${n} bytes, a version ${major} header needs at least 12`);
    headerLen = dv.getUint32(8, true); start = 12;
  }
  const dataStart = start + headerLen;
  if (dataStart > n) bad(`truncated header: it declares ${headerLen} bytes but the file has ${n - start} after the preamble`);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? "utf-8" : "latin1", { fatal: major === 3 }).decode(bytes.subarray(start, dataStart));
  } catch {
    return bad("the header is not valid UTF-8");
  }
  header = header.trim();
  if (!header.startsWith("{") || !header.endsWith("}")) bad(`malformed header (expected a Python dict literal): ${clip(header)}`);

  const descrList = /['"]descr['"]\s*:\s*\[/.exec(header);
  if (descrList) bad("structured dtypes (a list of fields) are not supported; save a plain 2-d numeric array");
  const descrM = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  if (!descrM) bad(`header has no 'descr' entry: ${clip(header)}`);
  const descr = descrM![1];
  const fortranM = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  if (!fortranM) bad(`header has no 'fortran_order' entry: ${clip(header)}`);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeM) bad(`header has no 'shape' tuple: ${clip(header)}`);

  const order = descr[0], kindCode = descr.slice(1);
  const kind = KINDS[kindCode];
  if (!kind || !"<>|=".includes(order)) {
    bad(`dtype '${descr}' is not supported (expected one of ${allowed.map(descrOf).join(", ")})`);
  }
  if (order === ">" && kind!.size > 1) bad(`big-endian dtype '${descr}' is not supported: save it little-endian (a.astype('${descrOf(kind!.dtype)}'))`);
  if (!allowed.includes(kind!.dtype)) {
    bad(`dtype '${descr}' (${kind!.dtype}) is not supported here: expected ${allowed.map((d) => `'${descrOf(d)}' (${d})`).join(" or ")}` +
      (allowed.includes("float32") ? ` — convert with a.astype('float32')` : ""));
  }
  if (fortranM![1] === "True") bad("fortran_order is True: save a C-ordered array (np.ascontiguousarray(a)) instead");

  const shape: number[] = [];
  let count = 1;
  for (const part of shapeM![1].split(",")) {
    const s = part.trim().replace(/L$/, "");
    if (s === "") continue;
    if (!/^\d+$/.test(s)) bad(`shape entry '${part.trim()}' is not a non-negative integer`);
    const d = Number(s);
    shape.push(d);
    count *= d;
    if (count > NPY_MAX_ELEMENTS) bad(`shape (${shapeM![1].trim()}) exceeds ${NPY_MAX_ELEMENTS} elements`);
  }
  if (shape.length === 0) bad("a 0-d (scalar) array holds no examples");
  if (count === 0) bad(`empty array (shape ${shape.join("×")})`);

  const expected = count * kind!.size;
  const got = n - dataStart;
  const desc = `shape ${shape.join("×")} '${descr}' needs ${expected} data bytes`;
  if (got < expected) bad(`truncated data: ${desc}, the file has ${got} after the ${dataStart}-byte header`);
  if (got > expected) bad(`trailing bytes: ${desc}, the file has ${got} after the ${dataStart}-byte header (${got - expected} extra)`);

  const off = dataStart;
  let data: NpyArray["data"];
  switch (kind!.dtype) {
    case "uint8": data = bytes.slice(off, off + count); break;
    case "int8": data = new Int8Array(bytes.slice(off, off + count).buffer); break;
    case "int16": data = read(count, Int16Array, (i) => dv.getInt16(off + 2 * i, true)); break;
    case "uint16": data = read(count, Uint16Array, (i) => dv.getUint16(off + 2 * i, true)); break;
    case "int32": data = read(count, Int32Array, (i) => dv.getInt32(off + 4 * i, true)); break;
    case "uint32": data = read(count, Uint32Array, (i) => dv.getUint32(off + 4 * i, true)); break;
    case "float32": data = read(count, Float32Array, (i) => dv.getFloat32(off + 4 * i, true)); break;
    case "float64": data = read(count, Float64Array, (i) => dv.getFloat64(off + 8 * i, true)); break;
    case "int64": case "uint64": {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = kind!.dtype === "int64" ? dv.getBigInt64(off + 8 * i, true) : dv.getBigUint64(off + 8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) bad(`element ${i} (${v}) does not fit a float64 exactly`);
        a[i] = Number(v);
      }
      data = a; break;
    }
  }
  return { descr, dtype: kind!.dtype, shape, data: data! };
}

function read<T extends { [i: number]: number }>(count: number, Ctor: new (n: number) => T, get: (i: number) => number): T {
  const a = new Ctor(count);
  for (let i = 0; i < count; i++) a[i] = get(i);
  return a;
}

/** The canonical descr of a dtype, e.g. float32 → "<f4", uint8 → "|u1". */
export function descrOf(d: NpyDtype): string {
  const [code] = Object.entries(KINDS).find(([, k]) => k.dtype === d)!;
  return (code.endsWith("1") ? "|" : "<") + code;
}

/** Writes a C-ordered .npy (version 1.0) file: for tests and for users
 *  exporting data. */
export function encodeNpy(data: Uint8Array | Float32Array | Float64Array | Int32Array, shape: number[], options: { fortranOrder?: boolean; descr?: string } = {}): Uint8Array {
  const dtype: NpyDtype = data instanceof Uint8Array ? "uint8" : data instanceof Float32Array ? "float32" : data instanceof Float64Array ? "float64" : "int32";
  const descr = options.descr ?? descrOf(dtype);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${options.fortranOrder ? "True" : "False"}, 'shape': ${shapeStr}, }`;
  const total = 10 + dict.length + 1;
  dict += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const head = new TextEncoder().encode(dict);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(10 + head.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1; out[7] = 0;
  new DataView(out.buffer).setUint16(8, head.length, true);
  out.set(head, 10);
  out.set(body, 10 + head.length);
  return out;
}

function clip(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + "…" : s);
}
