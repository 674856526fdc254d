// The ready-made worker script of `wasm-vae/worker`: serves a WorkerTrainer
// on `self` in a Web Worker, or on `parentPort` in a Node worker_thread.
//   browser: new WorkerTrainer(new Worker(new URL("./worker-entry.js", import.meta.url), { type: "module" }))
//            (or the single-file dist/browser/wasm-vae-worker.js, wasm inlined)
//   node:    new WorkerTrainer(new Worker(new URL("./worker-entry.js", import.meta.url)))
// A custom worker script does the same in two lines with serveTrainer.
import { installInlinedWasm } from "./browser.js";
import { serveTrainer, type PortLike } from "./worker/host.js";

installInlinedWasm();
const inWebWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
if (inWebWorker) {
  serveTrainer(globalThis as unknown as PortLike);
} else {
  const { parentPort } = await import("node:worker_threads");
  if (!parentPort) throw new Error("wasm-vae worker-entry: not running in a worker (no parentPort)");
  serveTrainer(parentPort as unknown as PortLike);
}
