// Compiles assembly/ into build/vae.plain.wasm and build/vae.relaxed.wasm
// (targets in asconfig.json), skipping the work when the outputs are newer
// than every source file.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = [join(root, "asconfig.json"), ...readdirSync(join(root, "assembly"))
  .filter((f) => f.endsWith(".ts")).map((f) => join(root, "assembly", f))];
const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
const asc = join(root, "node_modules", "assemblyscript", "bin", "asc.js");
for (const target of ["plain", "relaxed", "plain-shared", "relaxed-shared"]) {
  const out = join(root, "build", `vae.${target.replace("-", ".")}.wasm`);
  if (existsSync(out) && statSync(out).mtimeMs > newest && !process.argv.includes("--force")) continue;
  execFileSync(process.execPath, [asc, "--config", "asconfig.json", "--target", target], {
    cwd: root, stdio: "inherit",
  });
  console.log(`built ${out}`);
}
