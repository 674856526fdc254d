// The model file format, version 2 (version 1 is still read). All integers
// little-endian.
//
//   offset  size  field
//   0       4     magic "WVAE"
//   4       4     u32 format version (2; 1 for files of before the layers)
//   8       4     u32 header length H (≤ 1 MiB)
//   12      H     header: UTF-8 JSON (see FileHeader), padded with spaces so
//                 the data starts at a multiple of 4
//   12+H    4·N   float32 data: the tensors of header.tensors, in order
//   end−4   4     u32 CRC-32 (IEEE) of every byte before it
//
// Tensors are the parameters ("encoder.0.weight", …, weights (in, out)
// row-major) and, when the optimizer state is saved, the Adam moments
// ("m:<param>", "v:<param>"). The header also carries the config, the
// optimizer hyperparameters and step, the three PRNG states and the step and
// epoch counters, so a resumed run continues bit-identically; after a stop
// mid-epoch, header.epochCursor (shuffle state, batches done and the loss sums
// of those batches; files without the sums still load) resumes that epoch.
// Version 2 adds the layer list: header.config.encoder / decoder may hold
// layer objects and header.config.inputShape the NHWC input shape, and
// header.layers lists every resolved layer (kind, name, shapes, settings,
// activation; the heads and output layer included), which must agree with
// what the config implies. A version-1 file has bare-number lists only and no
// header.layers; it loads as the same MLP.
// A model with batch_norm layers lists its non-trainable buffers (running
// statistics, "<layer>.running_mean" / ".running_var") right after the
// parameters, in weights-only files too; other models have none, so their
// files are as before.
// A weights-only file (save({ optimizer: false })) lists just the parameters
// and carries no optimizer, random states or counters.
// Reading checks everything (length, magic, version, header size, checksum,
// JSON, config, the exact tensor names, order and shapes the config implies,
// finite values, optimizer hyperparameters, random states, counters) before
// anything is applied to a model.
import { checkAdamHyperparameters, checkLearningRate, type AdamState } from "../optim/adam.js";
import { architectureOf, bufferShapesOf, levelLayers, parameterShapesOf, type Architecture } from "../model/architecture.js";
import { resolveConfig, type ResolvedConfig } from "../model/config.js";
import type { ModelState } from "../base/types.js";
import { ArgumentError, describe, fail } from "../base/validate.js";
import { size } from "../base/shape.js";

/** The format version encodeModel (VAE.save) writes. */
export const FORMAT_VERSION = 2;
/** Versions decodeModel reads. */
export const READ_VERSIONS: readonly number[] = [1, 2];
const MAGIC = [0x57, 0x56, 0x41, 0x45]; // "WVAE"
export const MAX_HEADER_BYTES = 1 << 20;

/** Bytes that are not a model file this library reads (truncated, bad magic,
 *  unsupported version, checksum mismatch, bad header JSON or config, wrong
 *  tensors, non-finite values, …), or a file whose architecture differs from
 *  the model it is loaded into. The message says what was wrong. */
export class ModelFormatError extends Error {
  /** "ModelFormatError". */
  override name = "ModelFormatError";
}

/** The JSON header of a model file (decodeModel returns it as read). Random
 *  stream states are 4 u32 words each. */
export interface FileHeader {
  /** Always "wasm-vae". */
  format: "wasm-vae";
  /** The format version (equal to the file's; 1 or 2). */
  version: number;
  /** The model's configuration. */
  config: ResolvedConfig;
  /** The tensors of the data section, in order: the parameters, then (with
   *  the optimizer state) "m:<param>" and "v:<param>" for each. */
  tensors: {
    /** Tensor name. */
    name: string;
    /** Its shape (the parameter's). */
    shape: number[];
  }[];
  /** The optimizer's settings and step; null in a weights-only file. */
  optimizer: AdamState | null;
  /** The random streams' states; null in a weights-only file. */
  rng: {
    /** The kernels' training stream. */
    train: number[];
    /** The kernels' evaluation stream. */
    eval: number[];
    /** The host stream (epoch shuffles). */
    host: number[];
    /** fit's dynamic-binarization stream (absent in files written before it). */
    binarize?: number[];
  } | null;
  /** Training steps taken (0 in a weights-only file). */
  steps: number;
  /** Completed fit epochs (0 in a weights-only file). */
  epochs: number;
  /** An interrupted in-memory epoch (model.epochCursor), or null. */
  epochCursor?: {
    /** The host stream's state before that epoch's shuffle. */
    hostRng: number[];
    /** Batches of the epoch already trained. */
    batch: number;
    /** The epoch's batch size. */
    batchSize: number;
    /** Rows of its data. */
    rows: number;
    /** Whether its rows are shuffled. */
    shuffle: boolean;
    /** Sums over the trained batches (see EpochSums); absent in older files. */
    sums?: {
      /** Σ loss·B. */
      loss: number;
      /** Σ reconstruction·B. */
      reconstruction: number;
      /** Σ kl·B. */
      kl: number;
      /** Σ B. */
      rows: number;
    };
  } | null;
  /** The kernel build that saved the file ("plain" or "relaxed"); informative only. */
  build: string;
  /** Version 2: every resolved layer (see the file comment). */
  layers?: LayerRecord[];
}

/** One resolved layer as a version-2 header lists it (a LayerSpec without
 *  its parameters); it must agree with what the config implies. */
export interface LayerRecord {
  /** The layer kind ("dense", "conv2d", …, "condition"). */
  kind: string;
  /** Its name ("encoder.0", …). */
  name: string;
  /** Shape of one input row. */
  inShape: number[];
  /** Shape of one output row. */
  outShape: number[];
  /** The kind's normalized settings. */
  settings: Record<string, unknown>;
  /** Its activation ("identity" for none). */
  activation: string;
}

function layerRecords(a: Architecture): LayerRecord[] {
  return [...a.encoder, ...a.decoder, ...levelLayers(a)].map((l) => ({
    kind: l.kind, name: l.name, inShape: l.inShape, outShape: l.outShape, settings: l.settings, activation: l.activation,
  }));
}

let crcTable: Uint32Array | null = null;
/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). */
export function crc32(bytes: Uint8Array, end?: number): number {
  if (!(bytes instanceof Uint8Array)) fail("bytes", "a Uint8Array", bytes);
  if (end === undefined) end = bytes.length;
  else if (typeof end !== "number" || !Number.isInteger(end) || end < 0 || end > bytes.length) fail("end", `an integer in [0, ${bytes.length}]`, end);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Serializes a model state. `withOptimizer: false` stores weights only. */
export function encodeModel(config: ResolvedConfig, state: ModelState, shapes: Record<string, number[]>,
                            build: string, withOptimizer = true): Uint8Array {
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const [n, t] of Object.entries(state.weights)) tensors.push({ name: n, shape: shapes[n], data: t });
  // batch_norm's running statistics, in weights-only files too (inference needs them)
  const bufShapes = bufferShapesOf(architectureOf(config));
  for (const n of Object.keys(bufShapes)) {
    const t = state.buffers?.[n];
    if (!t) throw new ArgumentError(`state.buffers: expected the model's buffer "${n}"`);
    tensors.push({ name: n, shape: bufShapes[n], data: t });
  }
  const opt = withOptimizer && state.m && state.v && state.optimizer;
  if (opt) {
    for (const [n, t] of Object.entries(state.m!)) tensors.push({ name: `m:${n}`, shape: shapes[n], data: t });
    for (const [n, t] of Object.entries(state.v!)) tensors.push({ name: `v:${n}`, shape: shapes[n], data: t });
  }
  const header: FileHeader = {
    format: "wasm-vae", version: FORMAT_VERSION, config,
    tensors: tensors.map(({ name, shape }) => ({ name, shape })),
    optimizer: opt ? state.optimizer! : null,
    rng: opt && state.rngTrain && state.rngEval && state.hostRng
      ? { train: [...state.rngTrain], eval: [...state.rngEval], host: [...state.hostRng], ...(state.binarizeRng ? { binarize: [...state.binarizeRng] } : {}) } : null,
    steps: opt ? state.steps ?? 0 : 0,
    epochs: opt ? state.epochs ?? 0 : 0,
    epochCursor: opt && state.epochCursor ? { ...state.epochCursor, hostRng: [...state.epochCursor.hostRng], sums: state.epochCursor.sums && { ...state.epochCursor.sums } } : null,
    build,
    layers: layerRecords(architectureOf(config)),
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 4) * 4;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  if (json.length > MAX_HEADER_BYTES) throw new ArgumentError(`model: header of ${json.length} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const floats = tensors.reduce((a, t) => a + t.data.length, 0);
  const out = new Uint8Array(12 + json.length + 4 * floats + 4);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(4, FORMAT_VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  let o = 12 + json.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, o += 4) dv.setFloat32(o, t.data[i], true);
  }
  dv.setUint32(o, crc32(out, o), true);
  return out;
}

/** Parses and validates a model file; throws ModelFormatError naming the
 *  problem (an ArgumentError when `bytes` is not a Uint8Array). */
export function decodeModel(bytes: Uint8Array): {
  /** The file's configuration, checked, defaults filled in. */
  config: ResolvedConfig;
  /** Its numeric state (weights only, or everything to resume training). */
  state: ModelState;
  /** The header as read. */
  header: FileHeader;
} {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`bytes: expected a Uint8Array (the model file), got ${typeof bytes}`);
  const bad = (msg: string): never => { throw new ModelFormatError(`model file: ${msg}`); };
  if (bytes.length < 16) bad(`truncated: ${bytes.length} bytes is shorter than the 16-byte minimum`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) bad(`not a wasm-vae model (magic bytes are not "WVAE")`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (!READ_VERSIONS.includes(version)) bad(`unsupported format version ${version} (this library reads versions ${READ_VERSIONS.join(" and ")})`);
  const H = dv.getUint32(8, true);
  if (H > MAX_HEADER_BYTES) bad(`header length ${H} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (H % 4 !== 0) bad(`header length ${H} is not a multiple of 4`);
  if (12 + H + 4 > bytes.length) bad(`truncated: the header claims ${H} bytes but the file has ${bytes.length}`);
  const stored = dv.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes, bytes.length - 4);
  if (stored !== actual) bad(`checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupted or truncated`);
  let header: FileHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + H)));
  } catch (e) {
    return bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || header.format !== "wasm-vae") bad("header does not describe a wasm-vae model");
  if (header.version !== version) bad(`the header's version ${JSON.stringify(header.version)?.slice(0, 20)} differs from the file's format version ${version}`);
  let config: ResolvedConfig, arch: Architecture;
  try {
    config = resolveConfig(header.config);
    if (version === 1 && [...config.encoder, ...config.decoder].some((e) => typeof e !== "number")) throw new Error("a version-1 file holds bare-number layer lists only");
    arch = architectureOf(config);
  } catch (e) {
    return bad(`invalid config: ${(e as Error).message}`);
  }
  if (version >= 2 && JSON.stringify(header.layers) !== JSON.stringify(layerRecords(arch))) {
    bad("header.layers does not match the layers its config implies");
  }
  if (!Array.isArray(header.tensors)) bad("header.tensors is missing");
  // the tensors must be exactly the config's parameters (and, when present,
  // their two Adam moments), each with the parameter's shape, in this order
  const bufShapes = bufferShapesOf(arch), bufNames = Object.keys(bufShapes);
  const shapes: Record<string, number[]> = { ...parameterShapesOf(arch), ...bufShapes };
  const names = Object.keys(shapes).filter((n) => !Object.prototype.hasOwnProperty.call(bufShapes, n));
  const nb = bufNames.length, withMoments = header.tensors.length === 3 * names.length + nb;
  if (header.tensors.length !== names.length + nb && !withMoments) {
    bad(`header lists ${header.tensors.length} tensors; this config has ${names.length} parameters${nb ? ` and ${nb} buffers` : ""} (${3 * names.length + nb} with the Adam moments)`);
  }
  // parameters, buffers (batch_norm's running statistics; none in most files), moments
  const expected = withMoments ? [...names, ...bufNames, ...names.map((n) => `m:${n}`), ...names.map((n) => `v:${n}`)] : [...names, ...bufNames];
  header.tensors.forEach((t, i) => {
    const want = expected[i];
    const shape = shapes[want.replace(/^[mv]:/, "")];
    // messages from bounded summaries: a name or shape may be JSON nested thousands deep
    if (!t || typeof t !== "object" || t.name !== want) bad(`tensor ${i} is ${t && typeof t === "object" ? describe(t.name) : describe(t)}, expected "${want}"`);
    if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
      bad(`tensor "${want}" has shape ${Array.isArray(t.shape) ? `[${t.shape.slice(0, 8).map(describe).join(", ")}${t.shape.length > 8 ? ", …" : ""}]` : describe(t.shape)}, expected [${shape.join(", ")}]`);
    }
  });
  const floats = expected.reduce((a, n) => a + size(shapes[n.replace(/^[mv]:/, "")]), 0);
  const dataBytes = bytes.length - 4 - 12 - H;
  if (floats * 4 !== dataBytes) bad(`data section holds ${dataBytes} bytes but the header's tensors need ${floats * 4}`);
  const weights: Record<string, Float32Array> = {}, m: Record<string, Float32Array> = {}, v: Record<string, Float32Array> = {};
  const buffers: Record<string, Float32Array> = {};
  const bufMin: Record<string, number> = {};
  for (const l of [...arch.encoder, ...arch.decoder]) for (const q of l.buffers ?? []) if (q.saved && q.min !== undefined) bufMin[q.name] = q.min;
  let o = 12 + H;
  for (const name of expected) {
    const n = size(shapes[name.replace(/^[mv]:/, "")]);
    const arr = new Float32Array(n);
    for (let i = 0; i < n; i++, o += 4) {
      arr[i] = dv.getFloat32(o, true);
      if (!Number.isFinite(arr[i])) bad(`tensor ${name} holds a non-finite value at index ${i}`);
    }
    if (name.startsWith("v:") && arr.some((x) => x < 0)) bad(`tensor ${name} (a second moment) holds a negative value`);
    const bmin = bufMin[name];
    if (bmin !== undefined && arr.some((x) => x < bmin)) bad(`tensor ${name} (a variance) holds a negative value`);
    if (Object.prototype.hasOwnProperty.call(bufShapes, name)) buffers[name] = arr;
    else if (name.startsWith("m:")) m[name.slice(2)] = arr;
    else if (name.startsWith("v:")) v[name.slice(2)] = arr;
    else weights[name] = arr;
  }
  // optimizer, random states and counters: all present with the moments, all absent without
  let optimizer: AdamState | undefined;
  let rng: { train: Uint32Array; eval: Uint32Array; host: Uint32Array; binarize?: Uint32Array } | undefined;
  let steps = 0, epochs = 0;
  let cursor: ModelState["epochCursor"] = null;
  if (withMoments) {
    const opt = header.optimizer;
    if (!opt || typeof opt !== "object") bad("a file with Adam moments must carry header.optimizer");
    try {
      if (opt!.lr !== null) checkLearningRate("lr", opt!.lr);
      checkAdamHyperparameters(opt!);
      if (opt!.clipNorm !== null && !(typeof opt!.clipNorm === "number" && opt!.clipNorm > 0 && Number.isFinite(opt!.clipNorm))) bad("header.optimizer.clipNorm must be null or a finite number > 0");
      if (!Number.isSafeInteger(opt!.step) || opt!.step < 0) bad("header.optimizer.step must be an integer ≥ 0");
    } catch (e) {
      if (e instanceof ModelFormatError) throw e;
      bad(`header.optimizer: ${(e as Error).message}`);
    }
    optimizer = opt!;
    const u32 = (name: string, a: unknown) => {
      if (!Array.isArray(a) || a.length !== 4 || !a.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)) bad(`header.rng.${name} must be 4 u32 words`);
      const r = Uint32Array.from(a as number[]);
      if ((r[0] | r[1] | r[2] | r[3]) === 0) bad(`header.rng.${name} is all zero (not a valid xoshiro128** state)`);
      return r;
    };
    if (!header.rng || typeof header.rng !== "object") bad("a file with Adam moments must carry header.rng");
    rng = { train: u32("train", header.rng!.train), eval: u32("eval", header.rng!.eval), host: u32("host", header.rng!.host) };
    // the dynamic-binarization stream: absent in older files (the model keeps its own)
    if (header.rng!.binarize !== undefined) rng.binarize = u32("binarize", header.rng!.binarize);
    if (!Number.isSafeInteger(header.steps) || header.steps < 0) bad("header.steps must be an integer ≥ 0");
    if (!Number.isSafeInteger(header.epochs) || header.epochs < 0) bad("header.epochs must be an integer ≥ 0");
    steps = header.steps; epochs = header.epochs;
    const c = header.epochCursor;
    if (c !== undefined && c !== null) {
      if (typeof c !== "object") bad("header.epochCursor must be null or an object");
      const okInt = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
      if (!okInt(c.batchSize, 1) || !okInt(c.rows, 1) || !okInt(c.batch, 0) || c.batch > Math.ceil(c.rows / c.batchSize) || typeof c.shuffle !== "boolean") {
        bad("header.epochCursor must hold integers batchSize ≥ 1, rows ≥ 1, 0 ≤ batch ≤ ⌈rows / batchSize⌉ and a boolean shuffle");
      }
      cursor = { hostRng: u32("epochCursor.hostRng", c.hostRng), batch: c.batch, batchSize: c.batchSize, rows: c.rows, shuffle: c.shuffle };
      // sums: absent in files written before they were kept
      const s = c.sums;
      if (s !== undefined) {
        const fin = (v: unknown) => typeof v === "number" && Number.isFinite(v);
        if (s === null || typeof s !== "object" || !fin(s.loss) || !fin(s.reconstruction) || !fin(s.kl) || !Number.isSafeInteger(s.rows) || s.rows < 0 || s.rows > c.rows) {
          bad("header.epochCursor.sums must hold finite loss, reconstruction and kl and an integer 0 ≤ rows ≤ epochCursor.rows");
        }
        cursor.sums = { loss: s.loss, reconstruction: s.reconstruction, kl: s.kl, rows: s.rows };
      }
    }
  }
  const bufs = nb > 0 ? { buffers } : {};
  const state: ModelState = withMoments
    ? { weights, ...bufs, m, v, optimizer, rngTrain: rng!.train, rngEval: rng!.eval, hostRng: rng!.host, ...(rng!.binarize ? { binarizeRng: rng!.binarize } : {}), steps, epochs, epochCursor: cursor }
    : { weights, ...bufs };
  return { config, state, header };
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}
