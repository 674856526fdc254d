// Node-only helpers (kept out of the browser entry): atomic file writes and
// model files on disk.
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { VAE } from "./model.js";
import type { LoadOptions } from "./wasm.js";
import { fail } from "./validate.js";

export { readInteropFiles, writeInteropFiles, type InteropFiles } from "./interop/files-node.js";

/** Writes bytes to `path` atomically: a temporary file in the same folder,
 *  flushed, then renamed over the target. A failure leaves the old file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  checkPath(path);
  if (!(bytes instanceof Uint8Array || typeof bytes === "string")) fail("bytes", "a Uint8Array or a string", bytes);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let ok = false;
  try {
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    ok = true;
  } finally {
    if (!ok) await unlink(tmp).catch(() => {});
  }
}

/** Saves a model file atomically. */
export async function saveModelFile(model: VAE, path: string, options: { optimizer?: boolean } = {}): Promise<void> {
  if (!(model instanceof VAE)) fail("model", "a VAE", model);
  checkPath(path);
  await writeFileAtomic(path, model.save(options));
}

/** Loads a model file into a new model. */
export async function loadModelFile(path: string, options: LoadOptions & { schedule?: (step: number) => number } = {}): Promise<VAE> {
  checkPath(path);
  return VAE.load(new Uint8Array(await readFile(path)), options);
}

function checkPath(path: unknown): void {
  if (typeof path !== "string" || path.length === 0) fail("path", "a non-empty file path (string)", path);
}
