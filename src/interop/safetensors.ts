// safetensors (the format of PyTorch's and Hugging Face's weight files):
//
//   offset  size  field
//   0       8     u64 LE header length N (≤ 100 MB, as the reference reader)
//   8       N     UTF-8 JSON: { "__metadata__": {string: string},
//                               name: { dtype, shape, data_offsets: [begin, end] }, … }
//                 padded with spaces so the data starts at a multiple of 8
//   8+N     …     raw little-endian tensor data; data_offsets are relative to
//                 8+N and must tile it exactly (no gap, no overlap)
//
// A model is written as its parameters in PyTorch names and layouts (see
// network.ts: "encoder.0.weight" is nn.Linear's (out, in)), with
// __metadata__ { format: "pt", wasm_vae_config: <the config as JSON, plus
// "crc32": 8 hex digits>, wasm_vae_layers: <the layer list the README's
// nn.Module builds itself from (network.ts torchLayers); ignored on import> }. The CRC-32 covers the whole file with its own 8
// digits read as "00000000": safetensors has no checksum of its own, and
// without one a flipped bit in the data would load as a different weight.
// It sits inside the config so that no corruption can drop the checksum and
// keep the config. A config without "crc32" (one a PyTorch user wrote) is
// read without a check; a file without a config needs options.config.
// Not here: the optimizer state, random streams and counters (the .wvae file
// of io.ts keeps those); dtypes other than F32 (refused, naming the tensor).
import type { ResolvedConfig, VAEConfig } from "../model/config.js";
import { crc32 } from "../persistence/io.js";
import { ArgumentError } from "../base/validate.js";
import { checkFiniteTensor, configFor, InteropFormatError, torchLayers, torchParams, CONFIG_ARGUMENT, type InteropSubject } from "./network.js";
import { sameShape, size } from "../base/shape.js";

export const MAX_SAFETENSORS_HEADER = 100_000_000;
export const CONFIG_KEY = "wasm_vae_config";
export const CRC_KEY = "crc32";
/** The layer list for the README's nn.Module (written, not read: the config decides). */
export const LAYERS_KEY = "wasm_vae_layers";

/** Bytes per element of the safetensors dtypes. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

export interface SafeTensor {
  dtype: string;
  shape: number[];
  /** The tensor's bytes (a view into the file). */
  data: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafeTensor>;
}

/** Parses a safetensors container and checks its structure (any dtype). */
export function readSafetensors(bytes: Uint8Array, file = "safetensors file"): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`bytes: expected a Uint8Array (the ${file}), got ${typeof bytes}`);
  const bad = (msg: string): never => { throw new InteropFormatError(`${file}: ${msg}`); };
  if (bytes.length < 8) bad(`truncated: ${bytes.length} bytes is shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true), hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > MAX_SAFETENSORS_HEADER) bad(`header length ${hi * 2 ** 32 + lo} exceeds the ${MAX_SAFETENSORS_HEADER}-byte limit`);
  const N = lo;
  if (8 + N > bytes.length) bad(`truncated: the header claims ${N} bytes but the file has ${bytes.length - 8} after the length`);
  if (bytes[8] !== 0x7b) bad(`the header does not start with "{"`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + N)));
  } catch (e) {
    return bad(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) bad("the header is not a JSON object");
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafeTensor>();
  const spans: [number, number, string][] = [];
  const dataBytes = bytes.length - 8 - N;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) bad("__metadata__ is not an object of strings");
      for (const [k, v] of Object.entries(entry as object)) {
        if (typeof v !== "string") bad(`__metadata__["${k.slice(0, 60)}"] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const t = `tensor "${name.slice(0, 80)}"`;
    if (entry === null || typeof entry !== "object") bad(`${t}: its entry is not an object`);
    const { dtype, shape, data_offsets: off } = entry as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) bad(`${t}: unknown dtype ${JSON.stringify(dtype)?.slice(0, 20)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`${t}: shape is not a list of integers ≥ 0`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      bad(`${t}: data_offsets is not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [b, e] = off as [number, number];
    const want = size(shape as number[]) * DTYPE_BYTES[dtype as string];
    if (e - b !== want) bad(`${t}: data_offsets span ${e - b} bytes, its ${dtype} shape [${(shape as number[]).join(", ")}] needs ${want}`);
    if (e > dataBytes) bad(`truncated: ${t} ends at data byte ${e} but the data section has ${dataBytes}`);
    tensors.set(name, { dtype: dtype as string, shape: shape as number[], data: bytes.subarray(8 + N + b, 8 + N + e) });
    spans.push([b, e, name]);
  }
  // the tensors must tile the data section exactly
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [b, e, name] of spans) {
    if (b !== at) bad(b > at ? `data bytes [${at}, ${b}) belong to no tensor` : `tensor "${name.slice(0, 80)}" overlaps another tensor's data`);
    at = e;
  }
  if (at !== dataBytes) bad(`the data section holds ${dataBytes} bytes but the tensors cover ${at}`);
  return { metadata, tensors };
}

/** Writes F32 tensors (and zero I64 ones: `int64`, e.g. BatchNorm's
 *  num_batches_tracked), in the given order, as a safetensors file. */
export function writeSafetensors(tensors: { name: string; shape: number[]; data: Float32Array; int64?: boolean }[],
                                 metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const bytesOf = (t: { shape: number[]; data: Float32Array; int64?: boolean }) => t.int64 ? 8 * size(t.shape) : 4 * t.data.length;
  let o = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.int64 ? "I64" : "F32", shape: t.shape, data_offsets: [o, o + bytesOf(t)] };
    o += bytesOf(t);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const N = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + N + o);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, N, true);
  out.fill(0x20, 8, 8 + N);
  out.set(json, 8);
  let p = 8 + N;
  for (const t of tensors) {
    if (t.int64) { p += bytesOf(t); continue; } // zeros
    for (let i = 0; i < t.data.length; i++, p += 4) dv.setFloat32(p, t.data[i], true);
  }
  return out;
}

/** Floats from little-endian F32 bytes. */
export function f32FromBytes(b: Uint8Array): Float32Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

// ------------------------------------------------------------ the model

/** The model's parameters as a safetensors file (PyTorch names and layouts). */
export function exportSafetensors(config: ResolvedConfig, weights: Record<string, Float32Array>, who: InteropSubject = CONFIG_ARGUMENT): Uint8Array {
  const tensors = torchParams(config, who).map(({ name, map }) => ({ name, shape: map.torchShape, data: map.int64 ? new Float32Array(0) : map.toTorch(weights[name]), int64: map.int64 }));
  const out = writeSafetensors(tensors, {
    format: "pt", [CONFIG_KEY]: JSON.stringify({ ...config, [CRC_KEY]: "00000000" }), [LAYERS_KEY]: JSON.stringify(torchLayers(config, who)),
  });
  const at = crcDigits(out, "00000000");
  out.set(new TextEncoder().encode(hex(crc32(out))), at);
  return out;
}

/** Reads a model's config and parameters (our names and layouts) from a
 *  safetensors file; everything is checked before anything is returned. */
export function importSafetensors(bytes: Uint8Array, given?: VAEConfig, file = "safetensors file"):
    { config: ResolvedConfig; weights: Record<string, Float32Array> } {
  const { metadata, tensors } = readSafetensors(bytes, file);
  const bad = (msg: string): never => { throw new InteropFormatError(`${file}: ${msg}`); };
  let carried = metadata[CONFIG_KEY];
  if (carried !== undefined) {
    let c: Record<string, unknown>;
    try {
      c = JSON.parse(carried);
    } catch (e) {
      return bad(`__metadata__.${CONFIG_KEY} is not valid JSON (${(e as Error).message})`);
    }
    if (c !== null && typeof c === "object" && CRC_KEY in c) {
      const digits = c[CRC_KEY];
      if (typeof digits !== "string" || !/^[0-9a-f]{8}$/.test(digits)) return bad(`__metadata__.${CONFIG_KEY}.${CRC_KEY} is not 8 hex digits`);
      const copy = bytes.slice();
      copy.set(new TextEncoder().encode("00000000"), crcDigits(copy, digits, file));
      const actual = hex(crc32(copy));
      if (actual !== digits) {
        bad(`checksum mismatch (stored ${digits}, computed ${actual}): the file is corrupted, or was changed after wasm-vae wrote it (a tool that rewrites it must drop "${CRC_KEY}" from __metadata__.${CONFIG_KEY})`);
      }
      delete c[CRC_KEY];
      carried = JSON.stringify(c);
    }
  }
  const { config, who } = configFor(file, carried, given);
  const expected = torchParams(config, who);
  const names = new Set(expected.map((p) => p.name));
  for (const name of tensors.keys()) {
    if (!names.has(name)) bad(`unknown tensor "${name.slice(0, 80)}" (this architecture's tensors: ${[...names].join(", ")})`);
  }
  const weights: Record<string, Float32Array> = {};
  for (const { name, map } of expected) {
    const t = tensors.get(name);
    if (map.int64) { // BatchNorm's num_batches_tracked: optional, not kept
      if (t && (t.dtype !== "I64" || !sameShape(t.shape, map.torchShape))) bad(`tensor "${name}" has dtype ${t.dtype} and shape [${t.shape.join(", ")}], expected an I64 scalar`);
      continue;
    }
    if (!t) return bad(`tensor "${name}" is missing`);
    if (t.dtype !== "F32") bad(`tensor "${name}" has dtype ${t.dtype}; wasm-vae reads F32 only (in PyTorch: tensor.float())`);
    if (!sameShape(t.shape, map.torchShape)) bad(`tensor "${name}" has shape [${t.shape.join(", ")}], expected [${map.torchShape.join(", ")}]`);
    const data = f32FromBytes(t.data);
    checkFiniteTensor(file, name, data);
    weights[name] = map.fromTorch(data);
  }
  return { config, weights };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/** Byte offset of the 8 CRC digits: the one occurrence of
 *  \"crc32\":\"<digits>\" (escaped: it sits in the config string) in the header. */
function crcDigits(bytes: Uint8Array, digits: string, file = "safetensors file"): number {
  const pat = new TextEncoder().encode(`\\"${CRC_KEY}\\":\\"${digits}\\"`);
  const N = Math.min(bytes.length, 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true));
  let found = -1;
  outer: for (let i = 8; i + pat.length <= N; i++) {
    for (let j = 0; j < pat.length; j++) if (bytes[i + j] !== pat[j]) continue outer;
    if (found >= 0) throw new InteropFormatError(`${file}: the checksum entry occurs twice in the header`);
    found = i;
  }
  if (found < 0) throw new InteropFormatError(`${file}: the checksum in __metadata__.${CONFIG_KEY} is not written as wasm-vae writes it`);
  return found + pat.length - 10;
}
