// `wasm-vae export` and `wasm-vae import`: a model file to and from the
// interchange formats (safetensors for PyTorch, TensorFlow.js layers, ONNX)
// through the library's exportModel / importModel (the "wasm-vae/onnx" entry,
// which has all three formats; protobufjs is a dependency of this package).
// Not here: the formats themselves (src/interop/ of the library).
import { stat } from "node:fs/promises";
import { ArgumentError, type VAE } from "wasm-vae";
import { readInteropFiles, writeInteropFiles } from "wasm-vae/node";
import { exportModel, importModel, INTEROP_FORMATS, type InteropFormat } from "wasm-vae/onnx";
import type { Flags } from "./args.js";
import { DataError } from "./data.js";
import { makeFolder, writeOutput } from "./files.js";
import { loadModel } from "./commands.js";

type Log = (s: string) => void;

/** Library errors about a path name the flag the user gave. */
async function asFlag<T>(flag: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ArgumentError) throw new DataError(`--${flag}: ${e.message.replace(/^(path|dir): /, "")}`);
    throw e;
  }
}

export async function exportCommand(f: Flags, log: Log): Promise<number> {
  const format = f.oneOf("format", INTEROP_FORMATS);
  const out = f.required("out", "(a folder for the exported files)");
  const { vae, path } = await loadModel(f);
  const files = exportModel(vae, format);            // throws a named error (e.g. an activation tfjs lacks) before any write
  await makeFolder(out);
  const written = await asFlag("out", () => writeInteropFiles(out, files));
  log(`${path} → ${format}: ${written.length} file${written.length === 1 ? "" : "s"} in ${out}/`);
  for (const w of written) log(`  ${w}`);
  return 0;
}

export async function importCommand(f: Flags, log: Log): Promise<number> {
  const from = f.required("from", "(a .safetensors file, or a folder of exported files)");
  const out = f.required("out", "(the model file to write, e.g. model.wvae)");
  const force = f.bool("force");
  if (!force && await stat(out).then(() => true, () => false)) {
    throw new DataError(`${out}: exists (add --force to replace it)`);
  }
  const found = await asFlag("from", () => readInteropFiles(from));
  const format: InteropFormat = f.given("format") ? f.oneOf("format", INTEROP_FORMATS) : found.format;
  if (format !== found.format) throw new DataError(`--from ${from} holds ${found.format} files, not ${format}`);
  const build = f.oneOf("build", ["plain", "relaxed", "auto"] as const);
  const vae: VAE = await importModel(found.files, format, { build });
  await writeOutput(out, vae.save());
  const c = vae.config;
  log(`${from} (${format}) → ${out}: ${vae.parameterCount.toLocaleString("en-US")} parameters, ` +
    `latent ${c.latentDim}, likelihood ${c.likelihood}; weights only (no optimizer state)`);
  return 0;
}
