// Writing a file atomically (Node only): a temporary file in the same
// folder, synced, then renamed over the target, so a crash never leaves a
// half-written file under the target's name.
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fail } from "../base/validate.js";

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

export function checkPath(path: unknown): void {
  if (typeof path !== "string" || path.length === 0) fail("path", "a non-empty file path (string)", path);
}
