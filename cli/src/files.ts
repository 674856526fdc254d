// File-system access of the CLI with errors a user can act on: a failed write
// or mkdir becomes a FileError whose one-line message names the path the user
// gave (not a temporary file) and what is wrong with it; and the clean-up of
// temporaries that a killed process left in a run folder.
// Not here: the atomic write itself (src/node.ts).
import { mkdir, readdir, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ModelFormatError } from "wasm-vae";
import { writeFileAtomic } from "wasm-vae/node";

export class FileError extends Error {
  override name = "FileError";
}

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
  EMFILE: "too many open files",
};

/** Why an errno error happened, in words about `path` (the user's path). */
export function describeFsError(e: unknown, path: string, action: "write" | "create the folder" | "read"): string {
  const code = (e as NodeJS.ErrnoException)?.code ?? "";
  const why =
    code === "ENOENT" ? (action === "read" ? "no such file" : `the folder ${dirname(path)} does not exist`)
    : code === "EISDIR" ? "is a directory (give a file name)"
    : code === "ENOTDIR" ? "a part of the path is a file, not a folder"
    : code === "EEXIST" ? "exists and is not a folder"
    : REASONS[code] ?? `${code || "error"}: ${String((e as Error)?.message ?? e).split("\n")[0]}`;
  return `${path}: cannot ${action}: ${why}`;
}

/** Runs `fn` on the bytes of the model file at `path`; the library's
 *  ModelFormatError ("model file: …") becomes a FileError naming `path`. */
export async function readingModel<T>(path: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ModelFormatError) throw new FileError(`${path}: ${e.message.replace(/^model file: /, "")}`);
    throw e;
  }
}

export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string" && typeof (e as NodeJS.ErrnoException).syscall === "string";
}

/** writeFileAtomic with a FileError naming `path`. */
export async function writeOutput(path: string, bytes: Uint8Array | string): Promise<void> {
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    if (isFsError(e)) throw new FileError(describeFsError(e, path, "write"));
    throw e;
  }
}

/** mkdir -p with a FileError naming `path` (EEXIST: a file is in the way). */
export async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (e) {
    if (isFsError(e)) throw new FileError(describeFsError(e, path, "create the folder"));
    throw e;
  }
}

// writeFileAtomic's temporaries: .<name>.<pid>.<time and random, base 36>.tmp
const TEMPORARY = /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Removes the atomic-write temporaries in `dir` whose writing process is gone
 *  (killed during a write); returns their names. A live writer's are kept. */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const m = TEMPORARY.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    await unlink(join(dir, name)).then(() => removed.push(name), () => {});
  }
  return removed;
}
