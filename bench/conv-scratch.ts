// `tsx bench/conv-scratch.ts [--batch 128]`: the scratch the Keras conv VAE
// (cli preset keras_conv, latent 2) plans at maxBatch B: per conv layer its
// chunk, slots × slot bytes, batch groups × partial bytes and total
// (src/kernels/conv-shape.ts, the mirror of assembly/conv.ts, checked against
// the kernel's own figure), and the model's "scratch" tensor (the largest
// layer's). Writes bench/results/conv-scratch.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { presetLayers } from "../cli/src/presets.js";
import { VAE } from "../src/index.js";
import { convGeometry, convGroups, convLayerChunk, convScratchBytes, convSlots, type ConvGeometry } from "../src/kernels/conv-shape.js";
import { flag, mdTable, ROOT } from "./common.js";

const B = Number(flag("batch") ?? 128);
const vae = await VAE.create({ ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: 2, seed: 0, maxBatch: B }, { threads: 1 });
// bench only: the arena plan is internal
const plan = (vae as unknown as { net: { plan: { tensors: Record<string, { size: number }> } } }).net.plan;
const modelScratch = plan.tensors["scratch"].size * 4;

const LAYERS: [string, ConvGeometry][] = [
  ["enc conv 28²×1→14²×32", convGeometry("conv2d", [28, 28, 1], { filters: 32, kernel: 3, stride: 2, padding: "same" })],
  ["enc conv 14²×32→7²×64", convGeometry("conv2d", [14, 14, 32], { filters: 64, kernel: 3, stride: 2, padding: "same" })],
  ["dec convT 7²×64→14²×64", convGeometry("conv2d_transpose", [7, 7, 64], { filters: 64, kernel: 3, stride: 2, padding: "same" })],
  ["dec convT 14²×64→28²×32", convGeometry("conv2d_transpose", [14, 14, 64], { filters: 32, kernel: 3, stride: 2, padding: "same" })],
  ["dec convT 28²×32→28²×1", convGeometry("conv2d_transpose", [28, 28, 32], { filters: 1, kernel: 3, stride: 1, padding: "same" })],
];
const MB = (b: number) => (b / 1e6).toFixed(2);
const rows: string[][] = [];
let largest = 0;
for (const [name, g] of LAYERS) {
  const chunk = convLayerChunk(g, B), total = convScratchBytes(g, chunk);
  const kernel = vae.kernels.convScratchBytes(g, chunk);
  if (kernel !== total) throw new Error(`${name}: conv_scratch_bytes ${kernel} ≠ the planner's ${total}`);
  const t = g.kind === "conv2d_transpose";
  const n = t ? g.inC : g.outC, kc = g.kh * g.kw * (t ? g.outC : g.inC);
  const part = Math.ceil(n * kc * 4 / 64) * 64 + Math.ceil(g.outC * 4 / 64) * 64, groups = convGroups(g, Infinity);
  // slots × slot = total − the partials; convSlots of that slot gives the count
  const slotsBytes = total - groups * part;
  let slots = 1;
  for (let s = 4; s >= 1; s--) if (slotsBytes % s === 0 && convSlots(slotsBytes / s) === s) { slots = s; break; }
  rows.push([name, String(chunk), `${slots} × ${MB(slotsBytes / slots)}`, `${groups} × ${MB(part)}`, MB(total)]);
  largest = Math.max(largest, total);
}
const md = [
  `# Conv scratch of the Keras conv VAE at maxBatch ${B}`,
  "",
  `\`tsx bench/conv-scratch.ts --batch ${B}\` (${new Date().toISOString().slice(0, 16)} UTC). MB = 10⁶ bytes.`,
  "",
  mdTable(["layer", "images per chunk", "slots × MB", "groups × MB", "scratch MB"], rows),
  "",
  `Largest layer: ${MB(largest)} MB; the model's planned "scratch" tensor: **${MB(modelScratch)} MB**.`,
  "",
].join("\n");
console.log(md);
writeFileSync(join(ROOT, "bench", "results", "conv-scratch.md"), md);
vae.dispose();
