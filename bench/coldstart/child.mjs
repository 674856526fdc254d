// One cold start, in a fresh Node process started by bench/coldstart.ts:
// import one library bundle, create the model, run the first training step.
//   node child.mjs <bundle.mjs> '<json options: {B, build?, wasmDir?}>'
// Prints one JSON line. performance.now() counts from the process start, so
// `bootMs` is Node's own start-up (the same for every library).
// Not here: bundling (coldstart.ts) or the model code (the bundles).
import { pathToFileURL } from "node:url";

const [bundle, json] = process.argv.slice(2);
const o = JSON.parse(json);
// the batch (deterministic values in [0, 1)) is made before the clock starts
const batch = new Float32Array(o.B * 784);
let s = 12345;
for (let i = 0; i < batch.length; i++) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  batch[i] = (s >>> 8) / 16777216;
}
const t0 = performance.now();
const lib = await import(pathToFileURL(bundle).href);
const t1 = performance.now();
const r = await lib.firstStep({ ...o, batch });
const t2 = performance.now();
process.stdout.write(JSON.stringify({
  bootMs: t0, importMs: t1 - t0, initMs: r.initMs, stepMs: r.stepMs, totalMs: t2 - t0, loss: r.loss, detail: r.detail,
}) + "\n");
