// Node only: interchange files on disk, for `wasm-vae export` / `wasm-vae
// import` and scripts. The library functions take and give bytes
// (index.ts); these two put them in and take them out of a folder.
// Not here: any format's contents.
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../persistence/atomic-file.js";
import { ArgumentError } from "../base/validate.js";
import type { InteropFormat } from "./index.js";
import type { ModelFiles } from "./network.js";

/** Writes each file (its name is a path relative to `dir`, folders created)
 *  atomically; returns the paths written. */
export async function writeInteropFiles(dir: string, files: ModelFiles): Promise<string[]> {
  if (typeof dir !== "string" || dir === "") throw new ArgumentError(`dir: expected a folder path, got ${typeof dir}`);
  const out: string[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    if (name.split(/[\\/]/).some((p) => p === ".." || p === "")) throw new ArgumentError(`files: "${name}" is not a relative path inside the folder`);
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
    out.push(path);
  }
  return out;
}

/** Files read from disk by readInteropFiles. */
export interface InteropFiles {
  /** Their format, from the file names. */
  format: InteropFormat;
  /** File name (relative to the folder) → bytes. */
  files: ModelFiles;
}

/** Reads interchange files from `path`: a .safetensors file, or a folder
 *  holding model.safetensors, encoder/ + decoder/ (TensorFlow.js: each
 *  folder's model.json and .bin shards), or encoder.onnx + decoder.onnx. */
export async function readInteropFiles(path: string): Promise<InteropFiles> {
  if (typeof path !== "string" || path === "") throw new ArgumentError(`path: expected a file or folder path, got ${typeof path}`);
  const read = async (name: string, p: string, files: ModelFiles) => {
    try {
      files[name] = new Uint8Array(await readFile(p));
    } catch (e) {
      throw new ArgumentError(`path: cannot read ${p} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw new ArgumentError(`path: ${path} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const files: ModelFiles = {};
  if (!isDir) {
    if (!path.endsWith(".safetensors")) throw new ArgumentError(`path: expected a .safetensors file or a folder of exported files, got ${path}`);
    await read(basename(path), path, files);   // errors then name the user's file
    return { format: "safetensors", files };
  }
  const names = await readdir(path);
  if (names.includes("encoder.onnx") || names.includes("decoder.onnx")) {
    for (const n of ["encoder.onnx", "decoder.onnx"]) await read(n, join(path, n), files);
    return { format: "onnx", files };
  }
  if (names.includes("encoder") && names.includes("decoder")) {
    for (const part of ["encoder", "decoder"]) {
      for (const n of await readdir(join(path, part))) {
        if (n === "model.json" || n.endsWith(".bin")) await read(`${part}/${n}`, join(path, part, n), files);
      }
    }
    return { format: "tfjs", files };
  }
  const st = names.filter((n) => n.endsWith(".safetensors"));
  if (st.length === 1) {
    await read(st[0], join(path, st[0]), files);
    return { format: "safetensors", files };
  }
  throw new ArgumentError(`path: ${path} holds no exported model (model.safetensors, encoder/ and decoder/ with model.json, or encoder.onnx and decoder.onnx)`);
}
