// Writing a file atomically (Node only): a temporary file in the same
// folder, synced, then renamed over the target, so a crash never leaves a
// half-written file under the target's name. File-system errors name the
// caller's path (never the temporary) and keep their code and syscall.
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fail } from "../base/validate.js";

/** Writes bytes to `path` atomically: a temporary file in the same folder,
 *  flushed, then renamed over the target. A failure leaves the old file. A
 *  path that is a folder fails with EISDIR before anything is written. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  checkPath(path);
  if (!(bytes instanceof Uint8Array || typeof bytes === "string")) fail("bytes", "a Uint8Array or a string", bytes);
  const st = await stat(path).catch(() => null);
  if (st?.isDirectory()) throw fsError("EISDIR", "illegal operation on a directory", "open", path);
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
  } catch (e) {
    throw namedFsError(e, path);
  } finally {
    if (!ok) await unlink(tmp).catch(() => {});
  }
}

/** The bytes of the file at `path`; a file-system error names `path` (a
 *  folder: EISDIR with the path, which Node's own message leaves out). */
export async function readFileNamed(path: string): Promise<Uint8Array> {
  checkPath(path);
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw namedFsError(e, path);
  }
}

export function checkPath(path: unknown): void {
  if (typeof path !== "string" || path.length === 0) fail("path", "a non-empty file path (string)", path);
}

function fsError(code: string, reason: string, syscall: string, path: string, cause?: unknown): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${reason}, ${syscall} '${path}'`, cause === undefined ? undefined : { cause }), { code, syscall, path });
}

/** A file-system error while writing or reading `path` (or its temporary),
 *  as Node words it but naming `path`, with the same code and syscall.
 *  Other errors pass. */
function namedFsError(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== "string" || typeof err.syscall !== "string") return e;
  const reason = /^[A-Z]+: (.*?), \w+/.exec(err.message)?.[1] ?? err.message;
  return fsError(err.code, reason, err.syscall, path, e);
}
