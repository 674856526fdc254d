// Bytes to ship, alone (the same table as bench/run.ts's "Bytes to ship",
// without the timing runs): the wasm builds, wasm-vae's JS, the npm packages
// as packed, and tfjs's bundles. Writes bench/results/bytes.md.
//   npm run bench:bytes
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBundles, cleanup, measureBytes } from "./coldstart.js";
import { fmtBytes, mdTable, ROOT } from "./common.js";

const b = await buildBundles();
try {
  const { rows } = measureBytes(b);
  const table = mdTable(["what", "files", "raw", "gzip"], rows.map((r) => [r.item, r.files, fmtBytes(r.raw), fmtBytes(r.gzip)]), ["l", "l", "r", "r"]);
  const md = ["# Bytes to ship", "", `\`npm run bench:bytes\`, ${new Date().toISOString().slice(0, 10)}. Raw and gzip (node:zlib, level 9);`,
    "for the npm packages, the unpacked size and the .tgz that `npm pack` writes.", "", table, ""].join("\n");
  writeFileSync(join(ROOT, "bench", "results", "bytes.md"), md);
  console.log(table);
} finally {
  cleanup(b);
}
