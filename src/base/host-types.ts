// Structural stand-ins for the DOM and WebAssembly types that appear in the
// public API, so the published .d.ts compile in a Node-only project (lib
// es2022, types node, no skipLibCheck) as well as in a DOM one.

/** Bytes of a wasm module: an ArrayBuffer or a view on one (BufferSource in the DOM lib). */
export type WasmBytes = ArrayBuffer | ArrayBufferView;

/** What the library uses of a `WebAssembly.Memory`. */
export interface WasmMemory {
  /** The memory's bytes (replaced when it grows). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `delta` 64 KiB pages; returns the previous size in pages. */
  grow(delta: number): number;
}

/** A transfer list for `postMessage` (Transferable[] in the DOM lib,
 *  TransferListItem[] in Node). */
export type TransferList = unknown[];
