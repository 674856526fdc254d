// exportModel / importModel: a VAE to and from the interchange formats.
// Browser-safe: bytes in, bytes out (a format of several files is an object
// of file name → bytes; the caller writes them into a folder).
//   "safetensors"  { "model.safetensors" }                       safetensors.ts
//   "tfjs"         { "encoder/model.json", "encoder/group1-shard1of1.bin",
//                    "decoder/model.json", "decoder/group1-shard1of1.bin" }  tfjs-layers.ts
//   "onnx"         { "encoder.onnx", "decoder.onnx" }            onnx.ts, only
//                  through "wasm-vae/onnx" (it needs protobufjs, an optional peer)
// makeInterop builds the pair over a table of codecs, so the main entry and
// the ONNX entry share the code and the main entry never imports protobufjs.
import { resolveConfig, type ResolvedConfig, type VAEConfig } from "../model/config.js";
import { VAE } from "../vae.js";
import { ArgumentError, fail } from "../base/validate.js";
import type { LoadOptions } from "../kernels/wasm.js";
import { CONFIG_OPTION, networksOf, VAE_ARGUMENT, type ModelFiles, type InteropSubject } from "./network.js";
import { exportSafetensors, importSafetensors } from "./safetensors.js";
import { exportTfjs, importTfjs } from "./tfjs-layers.js";

export { InteropFormatError, type InteropSubject, type ModelContents, type ModelFiles } from "./network.js";
import type { ModelContents } from "./network.js";

/** The interchange formats: safetensors (PyTorch), TensorFlow.js layers, ONNX. */
export const INTEROP_FORMATS = ["safetensors", "tfjs", "onnx"] as const;
/** One of INTEROP_FORMATS. */
export type InteropFormat = (typeof INTEROP_FORMATS)[number];

/** Options of importModel: the loader's (build, deterministic, wasm) and the config. */
export interface ImportOptions extends LoadOptions {
  /** The architecture (and β, seed, …) to read the files with: required when
   *  they carry no wasm-vae config (e.g. a state_dict saved by PyTorch);
   *  when they do, the architectures must agree and this config is used. */
  config?: VAEConfig;
}

/** One format's writer and reader. */
export interface Codec {
  /** The files of a model in this format; a model it cannot hold is
   *  refused naming `who` (exportModel's `vae`). */
  write(config: ResolvedConfig, weights: Record<string, Float32Array>, who: InteropSubject): ModelFiles;
  /** Config and parameters from files in this format, checked throughout. */
  read(files: ModelFiles, given?: VAEConfig): ModelContents;
}

/** exportModel, readModel and importModel over a set of codecs. */
export interface Interop {
  /** The model's parameters and config as the files of `format`. */
  exportModel(vae: VAE, format: InteropFormat): ModelFiles;
  /** Reads files of `format` (detected when omitted) into config and
   *  parameters (our names and layouts), checking everything; no wasm. */
  readModel(input: Uint8Array | ModelFiles, format?: InteropFormat, options?: { config?: VAEConfig }): ModelContents;
  /** A new VAE from files of `format` (detected when omitted). Everything is
   *  checked before the model is created: a failed import creates nothing. */
  importModel(input: Uint8Array | ModelFiles, format?: InteropFormat, options?: ImportOptions): Promise<VAE>;
}

const SAFETENSORS_FILE = "model.safetensors";

/** safetensors: model.safetensors, PyTorch names and layouts. */
export const safetensorsCodec: Codec = {
  write: (config, weights, who) => ({ [SAFETENSORS_FILE]: exportSafetensors(config, weights, who) }),
  read: (files, given) => {
    const names = Object.keys(files).filter((n) => n.endsWith(".safetensors"));
    if (names.length !== 1) fail("files", `one *.safetensors file (or its bytes as a Uint8Array)`, `${names.length} .safetensors files`);
    return importSafetensors(files[names[0]], given, names[0]);
  },
};

/** TensorFlow.js layers format: encoder/ and decoder/ (model.json + shards). */
export const tfjsCodec: Codec = { write: exportTfjs, read: importTfjs };

/** The format of files (a Uint8Array is a safetensors file). */
export function detectFormat(input: Uint8Array | ModelFiles): InteropFormat {
  if (input instanceof Uint8Array) return "safetensors";
  if (input === null || typeof input !== "object") fail("files", "a Uint8Array (a safetensors file) or an object of file name → Uint8Array", input);
  const names = Object.keys(input);
  if (names.some((n) => n.endsWith(".safetensors"))) return "safetensors";
  if (names.includes("encoder/model.json")) return "tfjs";
  if (names.includes("encoder.onnx")) return "onnx";
  return fail("files", `model.safetensors, encoder/model.json (tfjs) or encoder.onnx files`, `files named ${names.slice(0, 5).join(", ") || "nothing"}`);
}

/** exportModel / readModel / importModel for the given formats. */
export function makeInterop(codecs: Partial<Record<InteropFormat, Codec>>): Interop {
  const codecFor = (format: unknown): Codec => {
    if (!INTEROP_FORMATS.includes(format as InteropFormat)) fail("format", `one of ${INTEROP_FORMATS.map((f) => JSON.stringify(f)).join(", ")}`, format);
    const c = codecs[format as InteropFormat];
    if (!c) throw new ArgumentError(`format: "${format}" lives in the "wasm-vae/onnx" entry point (it needs the optional peer dependency protobufjs): import { exportModel, importModel } from "wasm-vae/onnx"`);
    return c;
  };

  /** The model's parameters and config as the files of `format`. A model
   *  the format cannot hold is refused by the argument's name, `vae:`. */
  function exportModel(vae: VAE, format: InteropFormat): ModelFiles {
    if (!(vae instanceof VAE)) fail("vae", "a VAE", vae);
    networksOf(vae.config as ResolvedConfig, VAE_ARGUMENT); // what no format holds, before the format's own refusals
    const codec = codecFor(format);
    // batch_norm's running statistics travel with the parameters (the formats' buffers)
    return codec.write(vae.config as ResolvedConfig, { ...vae.getWeights(), ...vae.exportState().buffers }, VAE_ARGUMENT);
  }

  /** Reads files of `format` (detected when omitted) into config and
   *  parameters (our names and layouts), checking everything; no wasm. */
  function readModel(input: Uint8Array | ModelFiles, format?: InteropFormat, options: { config?: VAEConfig } = {}): ModelContents {
    const f = format ?? detectFormat(input);
    const codec = codecFor(f);
    const files = input instanceof Uint8Array ? { [SAFETENSORS_FILE]: input } : input;
    if (input instanceof Uint8Array && f !== "safetensors") fail("files", `an object of file name → Uint8Array for format "${f}"`, input);
    if (files === null || typeof files !== "object") fail("files", "a Uint8Array or an object of file name → Uint8Array", files);
    if (options.config !== undefined) networksOf(resolveConfig(options.config), CONFIG_OPTION); // what no format holds, before the files' errors
    return codec.read(files, options.config);
  }

  /** A new VAE from files of `format` (detected when omitted). Everything is
   *  checked before the model is created: a failed import creates nothing. */
  async function importModel(input: Uint8Array | ModelFiles, format?: InteropFormat, options: ImportOptions = {}): Promise<VAE> {
    if (options === null || typeof options !== "object") fail("options", "an options object (or nothing)", options);
    const { config: given, ...load } = options;
    for (const k of Object.keys(load)) if (!["build", "deterministic", "wasm"].includes(k)) fail(`options.${k}`, "no such option (known: config, build, deterministic, wasm)");
    const { config, weights } = readModel(input, format, { config: given });
    const vae = await VAE.create(config, load);
    const bufferNames = new Set(Object.keys(vae.exportState().buffers ?? {}));
    if (bufferNames.size === 0) vae.setWeights(weights);
    else { // batch_norm's running statistics are buffers, not parameters
      const split = (keep: boolean) => Object.fromEntries(Object.entries(weights).filter(([n]) => bufferNames.has(n) === keep));
      vae.importState({ weights: split(false), buffers: split(true) });
    }
    return vae;
  }

  return { exportModel, importModel, readModel };
}

const main = makeInterop({ safetensors: safetensorsCodec, tfjs: tfjsCodec });
/** The model's parameters and config as the files of `format`: "safetensors"
 *  or "tfjs" (browser-safe; "onnx" is in the "wasm-vae/onnx" entry point). */
export const exportModel: Interop["exportModel"] = main.exportModel;
/** Config and parameters from interchange files, checked throughout; no wasm. */
export const readModel: Interop["readModel"] = main.readModel;
/** A new VAE from interchange files (format detected when omitted); a failed
 *  import creates nothing. */
export const importModel: Interop["importModel"] = main.importModel;
