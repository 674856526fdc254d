// Model files on disk (wasm-vae/node): saveModelFile / loadModelFile /
// writeFileAtomic. A file-system error names the path the caller gave (never
// the temporary file), keeps its code and syscall, and leaves nothing behind:
// a missing folder, a folder given as the file, a missing file.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VAE } from "../../src/index.js";
import { loadModelFile, saveModelFile, writeFileAtomic } from "../../src/node.js";

const root = mkdtempSync(join(tmpdir(), "wvae-model-file-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The rejection of `p`, checked to be a file-system error naming `path` and not a temporary. */
async function fsFailure(p: Promise<unknown>, code: string, path: string): Promise<NodeJS.ErrnoException> {
  const e = await p.then(() => null, (x: NodeJS.ErrnoException) => x);
  expect(e, "expected a rejection").not.toBeNull();
  expect(e!.code).toBe(code);
  expect(typeof e!.syscall).toBe("string");
  expect(e!.path).toBe(path);
  expect(e!.message).toContain(`'${path}'`);
  expect(e!.message).not.toMatch(/\.tmp/);
  return e!;
}

describe("saveModelFile / loadModelFile", () => {
  it("round trip through a file; an existing file is replaced", async () => {
    const vae = await VAE.create({ inputDim: 6, encoder: [4], latentDim: 2, seed: 2 });
    const path = join(root, "m.wvae");
    writeFileSync(path, "old");
    await saveModelFile(vae, path);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(vae.save()))).toBe(true);
    const back = await loadModelFile(path);
    expect(back.getWeights()).toEqual(vae.getWeights());
    vae.dispose(); back.dispose();
  });

  it("a folder that does not exist: ENOENT naming the path, no temporary left", async () => {
    const vae = await VAE.create({ inputDim: 6, encoder: [4], latentDim: 2 });
    const path = join(root, "missing", "m.wvae");
    await fsFailure(saveModelFile(vae, path), "ENOENT", path);
    vae.dispose();
  });

  it("a folder given as the file: EISDIR naming it, before anything is written (nothing in its parent)", async () => {
    const vae = await VAE.create({ inputDim: 6, encoder: [4], latentDim: 2 });
    const parent = join(root, "parent"), dir = join(parent, "adir");
    mkdirSync(dir, { recursive: true });
    await fsFailure(saveModelFile(vae, dir), "EISDIR", dir);
    await fsFailure(writeFileAtomic(dir, "x"), "EISDIR", dir);
    expect(readdirSync(parent)).toEqual(["adir"]);
    expect(readdirSync(dir)).toEqual([]);
    vae.dispose();
  });

  it("loading a missing file or a folder: ENOENT / EISDIR naming the path", async () => {
    await fsFailure(loadModelFile(join(root, "nope.wvae")), "ENOENT", join(root, "nope.wvae"));
    await fsFailure(loadModelFile(root), "EISDIR", root);
  });
});
