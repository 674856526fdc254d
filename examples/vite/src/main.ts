// wasm-vae from a Vite app: one small VAE trained on the page (a few steps),
// and one trained in a Web Worker through WorkerTrainer, which streams
// progress events and returns samples as transferred buffers.
import { VAE } from "wasm-vae";
import { WorkerTrainer } from "wasm-vae/worker";

/** Toy data: 256 rows of 64 "pixels", bright bars at a row-dependent place. */
function bars(rows: number, dim = 64): Float32Array {
  const x = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let d = 0; d < 8; d++) x[r * dim + ((r * 8 + d) % dim)] = 1;
  return x;
}

async function onPage() {
  const vae = await VAE.create({ inputDim: 64, encoder: [32], latentDim: 2, seed: 1 }, { build: "auto" });
  const data = bars(256);
  const losses: number[] = [];
  await vae.fit(data, { epochs: 4, batchSize: 32, onBatch: (b) => { losses.push(b.loss); } });
  return { build: vae.build, steps: vae.steps, first: losses[0], last: losses[losses.length - 1] };
}

async function inWorker() {
  const trainer = new WorkerTrainer(new Worker(new URL("./trainer.worker.ts", import.meta.url), { type: "module" }));
  const info = await trainer.create({ inputDim: 64, encoder: [32], latentDim: 2, seed: 2 }, { build: "auto" });
  const losses: number[] = [];
  trainer.on("batch", (b) => { losses.push(b.loss); });
  await trainer.setData("bars", bars(256), { transfer: true });
  const history = await trainer.fit("bars", { epochs: 4, batchSize: 32 });
  const samples = await trainer.sample(4);
  const ctx = (document.getElementById("samples") as HTMLCanvasElement).getContext("2d")!;
  for (let k = 0; k < 4; k++) {
    for (let p = 0; p < 64; p++) {
      const g = Math.round(255 * samples[k * 64 + p]);
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect(k * 56 + (p % 8) * 7, Math.floor(p / 8) * 7, 7, 7);
    }
  }
  await trainer.terminate();
  return { build: info.build, epochs: history.epochs.length, first: losses[0], last: losses[losses.length - 1], samples: samples.length };
}

async function main() {
  const page = await onPage();
  document.getElementById("page")!.textContent = `page: ${page.steps} steps on the ${page.build} build, loss ${page.first.toFixed(2)} → ${page.last.toFixed(2)}`;
  const worker = await inWorker();
  document.getElementById("worker")!.textContent = `worker: ${worker.epochs} epochs on the ${worker.build} build, loss ${worker.first.toFixed(2)} → ${worker.last.toFixed(2)}`;
  document.body.dataset.result = JSON.stringify({ page, worker });
}

main().catch((e) => {
  document.body.dataset.error = `${e?.name}: ${e?.message}`;
  document.getElementById("page")!.textContent = `failed: ${e?.name}: ${e?.message}`;
});
