// Interchange files on disk (src/interop/files-node.ts), as the CLI uses them:
// writeInteropFiles then readInteropFiles then importModel is bit-identical
// for each format (a .safetensors file or a folder); bad paths → ArgumentError.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/index.js";
import { readInteropFiles, writeInteropFiles } from "../../src/interop/files-node.js";
import { exportModel, importModel } from "../../src/onnx.js";
import { CONFIGS, differingTensors, randomModel } from "./helpers.js";

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), "wvae-interop-")); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe("files on disk", () => {
  for (const format of ["safetensors", "tfjs", "onnx"] as const) {
    it(`${format}: write, read, import is bit-identical`, async () => {
      const vae = await randomModel(CONFIGS["gaussian_learned leaky_relu conditional"], 31);
      const out = join(dir, format);
      const paths = await writeInteropFiles(out, exportModel(vae, format));
      expect(paths.length).toBe(format === "tfjs" ? 4 : format === "onnx" ? 2 : 1);
      expect((await readdir(out)).some((n) => n.endsWith(".tmp"))).toBe(false);
      const { format: detected, files } = await readInteropFiles(out);
      expect(detected).toBe(format);
      const back = await importModel(files, detected);
      expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
      if (format === "safetensors") {
        const single = await readInteropFiles(join(out, "model.safetensors"));
        expect(differingTensors((await importModel(single.files)).getWeights(), vae.getWeights())).toEqual([]);
      }
    });
  }

  it("bad paths and names → ArgumentError", async () => {
    await expect(readInteropFiles(join(dir, "nope"))).rejects.toThrow(ArgumentError);
    await writeFile(join(dir, "x.txt"), "hi");
    await expect(readInteropFiles(join(dir, "x.txt"))).rejects.toThrow(/expected a \.safetensors file or a folder/);
    const empty = await mkdtemp(join(dir, "empty-"));
    await expect(readInteropFiles(empty)).rejects.toThrow(/holds no exported model/);
    await expect(writeInteropFiles(dir, { "../escape.bin": new Uint8Array(1) })).rejects.toThrow(/not a relative path/);
  });
});
