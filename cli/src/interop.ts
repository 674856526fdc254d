// `wasm-vae export` and `wasm-vae import`: a model file to and from the
// interchange formats (safetensors for PyTorch, TensorFlow.js layers, ONNX)
// through the library's exportModel / importModel (the "wasm-vae/onnx" entry,
// which has all three formats; protobufjs is a dependency of this package).
// Not here: the formats themselves (src/interop/ of the library).
import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { ArgumentError, ModelFormatError, type VAE, type VAEConfig } from "wasm-vae";
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
  // a model the format cannot hold is refused before any write; the library names its argument (vae:), the CLI the file
  let files: Record<string, Uint8Array>;
  try {
    files = exportModel(vae, format);
  } catch (e) {
    if (!(e instanceof ArgumentError) || !e.message.startsWith("vae: ")) throw e;
    throw new DataError(`--model ${path}: ${e.message.slice(5).replace(/\b(save it with vae\.save\(\)|VAE\.save)/, "keep the .wvae model file")}`);
  }
  await makeFolder(out);
  const written = await asFlag("out", () => writeInteropFiles(out, files));
  log(`${path} → ${format}: ${written.length} file${written.length === 1 ? "" : "s"} in ${out.replace(/[\\/]+$/, "") || "/"}/`);
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
  const config = f.given("config") ? await readConfig(f.str("config")!) : undefined;
  let vae: VAE;
  try {
    vae = await importModel(found.files, format, { build, config });
  } catch (e) {
    if (!(e instanceof ModelFormatError) && !(e instanceof ArgumentError)) throw e;
    throw new DataError(inUserTerms(e.message, from, found.files));
  }
  // the weights alone: no Adam moments, random streams or counters (a fresh
  // optimizer state would claim a training run that never happened here)
  await writeOutput(out, vae.save({ optimizer: false }));
  const c = vae.config;
  log(`${from} (${format}) → ${out}: ${vae.parameterCount.toLocaleString("en-US")} parameters, ` +
    `latent ${c.latentDim}, likelihood ${c.likelihood}; weights only (no optimizer state: not resumable, train it anew to continue)`);
  return 0;
}

/** --config: a JSON file with the model config (VAEConfig) for files without wasm-vae's metadata. */
async function readConfig(path: string): Promise<VAEConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new DataError(`--config ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `cannot read (${(e as Error).message})`}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DataError(`--config ${path}: not JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new DataError(`--config ${path}: expected a JSON object with the model config, e.g. {"inputDim": 784, "encoder": [400], "latentDim": 20}`);
  return v as VAEConfig;
}

/** The library's interop message in the CLI's words: its file keys become the
 *  user's paths, `options.config` becomes --config. */
function inUserTerms(message: string, from: string, files: Record<string, Uint8Array>): string {
  let m = message.replace(/^options\.config: /, "--config: ");
  const single = Object.keys(files).length === 1;
  for (const name of Object.keys(files)) {
    const shown = single && basename(from) === name ? from : join(from, name);
    if (m.startsWith(`${name}: `)) { m = `${shown}: ${m.slice(name.length + 2)}`; break; }
  }
  return m
    .replace(/pass options\.config with the architecture/, "give --config <file.json>, a JSON object with the architecture")
    .replace(/options\.config's/g, "--config's")
    .replace(/options\.config/g, "--config");
}
