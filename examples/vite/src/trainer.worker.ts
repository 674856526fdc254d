// The worker script: two lines. Vite bundles it (and the wasm it loads) from
// `new Worker(new URL("./trainer.worker.ts", import.meta.url), { type: "module" })`.
import { serveTrainer } from "wasm-vae/worker/host";

serveTrainer();
