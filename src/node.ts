// Node-only helpers (kept out of the browser entry): atomic file writes and
// model files on disk.
import { checkPath, readFileNamed, writeFileAtomic } from "./persistence/atomic-file.js";
import { VAE } from "./vae.js";
import type { LoadOptions } from "./kernels/wasm.js";
import { fail } from "./base/validate.js";

export { readInteropFiles, writeInteropFiles, type InteropFiles } from "./interop/files-node.js";
export { writeFileAtomic };

/** Saves a model file atomically. */
export async function saveModelFile(model: VAE, path: string, options: { optimizer?: boolean } = {}): Promise<void> {
  if (!(model instanceof VAE)) fail("model", "a VAE", model);
  checkPath(path);
  await writeFileAtomic(path, model.save(options));
}

/** Loads a model file into a new model. */
export async function loadModelFile(path: string, options: LoadOptions & { schedule?: (step: number) => number } = {}): Promise<VAE> {
  return VAE.load(await readFileNamed(path), options);
}
