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
import type { ResolvedConfig, VAEConfig } from "../config.js";
import { VAE } from "../model.js";
import { ArgumentError, fail } from "../validate.js";
import type { LoadOptions } from "../wasm.js";
import type { ModelFiles } from "./network.js";
import { exportSafetensors, importSafetensors } from "./safetensors.js";
import { exportTfjs, importTfjs } from "./tfjs-layers.js";

export { InteropFormatError, type ModelFiles } from "./network.js";

export const INTEROP_FORMATS = ["safetensors", "tfjs", "onnx"] as const;
export type InteropFormat = (typeof INTEROP_FORMATS)[number];

export interface ImportOptions extends LoadOptions {
  /** The architecture (and β, seed, …) to read the files with: required when
   *  they carry no wasm-vae config (e.g. a state_dict saved by PyTorch);
   *  when they do, the architectures must agree and this config is used. */
  config?: VAEConfig;
}

export interface Codec {
  write(config: ResolvedConfig, weights: Record<string, Float32Array>): ModelFiles;
  read(files: ModelFiles, given?: VAEConfig): { config: ResolvedConfig; weights: Record<string, Float32Array> };
}

const SAFETENSORS_FILE = "model.safetensors";

export const safetensorsCodec: Codec = {
  write: (config, weights) => ({ [SAFETENSORS_FILE]: exportSafetensors(config, weights) }),
  read: (files, given) => {
    const names = Object.keys(files).filter((n) => n.endsWith(".safetensors"));
    if (names.length !== 1) fail("files", `one *.safetensors file (or its bytes as a Uint8Array)`, `${names.length} .safetensors files`);
    return importSafetensors(files[names[0]], given, names[0]);
  },
};

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

export function makeInterop(codecs: Partial<Record<InteropFormat, Codec>>) {
  const codecFor = (format: unknown): Codec => {
    if (!INTEROP_FORMATS.includes(format as InteropFormat)) fail("format", `one of ${INTEROP_FORMATS.map((f) => JSON.stringify(f)).join(", ")}`, format);
    const c = codecs[format as InteropFormat];
    if (!c) throw new ArgumentError(`format: "${format}" lives in the "wasm-vae/onnx" entry point (it needs the optional peer dependency protobufjs): import { exportModel, importModel } from "wasm-vae/onnx"`);
    return c;
  };

  /** The model's parameters and config as the files of `format`. */
  function exportModel(vae: VAE, format: InteropFormat): ModelFiles {
    if (!(vae instanceof VAE)) fail("vae", "a VAE", vae);
    return codecFor(format).write(vae.config as ResolvedConfig, vae.getWeights());
  }

  /** Reads files of `format` (detected when omitted) into config and
   *  parameters (our names and layouts), checking everything; no wasm. */
  function readModel(input: Uint8Array | ModelFiles, format?: InteropFormat, options: { config?: VAEConfig } = {}):
      { config: ResolvedConfig; weights: Record<string, Float32Array> } {
    const f = format ?? detectFormat(input);
    const codec = codecFor(f);
    const files = input instanceof Uint8Array ? { [SAFETENSORS_FILE]: input } : input;
    if (input instanceof Uint8Array && f !== "safetensors") fail("files", `an object of file name → Uint8Array for format "${f}"`, input);
    if (files === null || typeof files !== "object") fail("files", "a Uint8Array or an object of file name → Uint8Array", files);
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
    vae.setWeights(weights);
    return vae;
  }

  return { exportModel, importModel, readModel };
}

export const { exportModel, importModel, readModel } = makeInterop({ safetensors: safetensorsCodec, tfjs: tfjsCodec });
