// Vite needs nothing special for wasm-vae: the library finds its wasm with
// `new URL("../build/vae.<build>.wasm", import.meta.url)`, which Vite turns
// into emitted assets. Two settings matter:
//  - worker.format "es": the library's worker code uses dynamic imports
//    (Node-only branches), which the default "iife" worker format cannot hold;
//  - base "./": the built app also works from a sub-folder (the tests serve it so).
// COOP/COEP headers are optional (SharedArrayBuffer only makes sharing data
// with the worker copy-free).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  worker: { format: "es" },
  build: { target: "es2022" },
  optimizeDeps: { exclude: ["wasm-vae"] },
  server: { headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } },
  preview: { headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } },
});
