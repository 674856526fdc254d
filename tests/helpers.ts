// Shared by the model and thread tests. Not here: expected values
// (tests/reference.ts computes them) and the kernel-test helpers
// (tests/kernels/helpers.ts).
import { Worker } from "node:worker_threads";
import type { VAE } from "../src/index.js";

/** Every bit of a model's numeric state, in one array: the weights, Adam's
 *  m and v, and the training and evaluation random streams. Two runs that
 *  should agree bit for bit compare these. */
export function stateBits(vae: VAE): Uint32Array {
  const s = vae.exportState();
  const parts: Uint32Array[] = [];
  for (const rec of [s.weights, s.m, s.v]) for (const a of Object.values(rec!)) parts.push(new Uint32Array(a.buffer, a.byteOffset, a.length));
  parts.push(s.rngTrain!, s.rngEval!);
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** A WorkerTrainer's worker running src/worker-entry.ts through tsx (the
 *  tests run the sources, not dist/). */
export function sourceWorker(): Worker {
  const entry = new URL("../src/worker-entry.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}
