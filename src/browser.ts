// Entry of the single-file browser bundle dist/browser/wasm-vae.js: the whole
// library, the worker helpers, and both wasm builds (and their shared-memory
// twins, for threads) inlined (base64), so a
// page that copies this one file needs no fetch of build/*.wasm, no import
// map and no bundler. scripts/build-browser.mjs builds it with esbuild, which
// defines __WASM_VAE_INLINE__; compiled by tsc without that define (dist/browser.js)
// it behaves like index.ts and fetches the wasm next to the package.
import { setDefaultWasm, type Variant } from "./kernels/wasm.js";

export * from "./index.js";
export { setDefaultWasm } from "./kernels/wasm.js";
export { WorkerTrainer, WorkerError } from "./worker/worker.js";
export type { WorkerLike, WorkerLoadOptions, WorkerFitOptions, ModelInfo, DataRef, TrainerEvents } from "./worker/worker.js";
export { serveTrainer } from "./worker/host.js";
export type { PortLike } from "./worker/host.js";

declare const __WASM_VAE_INLINE__: Record<Variant, string> | undefined;

/** Whether this copy of the library carries the wasm inlined. */
export const WASM_INLINED: boolean = typeof __WASM_VAE_INLINE__ !== "undefined";

/** Makes the inlined builds the default wasm sources (a no-op without them). */
export function installInlinedWasm(): void {
  if (typeof __WASM_VAE_INLINE__ === "undefined") return;
  const inline = __WASM_VAE_INLINE__;
  setDefaultWasm(Object.fromEntries(Object.entries(inline).map(([k, v]) => [k, fromBase64(v)])));
}

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

installInlinedWasm();
