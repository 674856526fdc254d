// The Keras conv VAE's training step (cli/src/presets.ts, --arch keras-conv,
// latent 2) in wasm-vae against TensorFlow.js with the same weights and
// noise, for bench/run.ts (suite "conv") or alone (`tsx bench/conv-step.ts`, which
// writes bench/results/conv-step.md):
//   gate   loss and every gradient of one batch agree with tfjs-cpu (same
//          weights, same ε) before anything is timed;
//   time   wasm-vae's step (both builds) at batch 8 and 128, and tfjs-cpu's at
//          batch 8 (its naive conv backward loops take minutes at 128: about
//          25 s per step at batch 8 on this machine);
//   tfjs-wasm cannot train it: the step is attempted and the error it raises
//          (no Conv2DBackpropFilter kernel) is reported.
import { presetLayers } from "../cli/src/presets.js";
import { loadMnist, VAE, type Build } from "../src/index.js";
import { randomNormals } from "../tests/reference.js";
import { flag, median, relError, useBackend } from "./common.js";
import { kerasConvSpec, TfLayerVAE } from "./tfjs-conv-vae.js";

export interface ConvStepResult {
  gate: { lossWasm: number; lossTf: number; lossRel: number; gradRel: number; worst: string };
  wasm: { build: Build; batch: number; medianMs: number; steps: number }[];
  tfjsCpu: { batch: number; medianMs: number; steps: number };
  tfjsWasm: string;
}

const LATENT = 2;
const cfg = (maxBatch: number) => ({ ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: LATENT, seed: 3, maxBatch });

function stepTimes(fn: () => void, warm: number, n: number): number[] {
  for (let i = 0; i < warm; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) { const s = performance.now(); fn(); t.push(performance.now() - s); }
  return t;
}

export async function convStep(log: (s: string) => void = console.log): Promise<ConvStepResult> {
  const images = (await loadMnist({ split: "train", limit: 1024 })).images;
  const b8 = images.subarray(0, 8 * 784);
  const eps = Float32Array.from(randomNormals(8 * LATENT, 11));

  // gate: the same weights and noise in both
  const ref = await VAE.create(cfg(8), { build: "plain", threads: 1 });
  const g = ref.computeGradients(b8, { noise: eps });
  await useBackend("cpu");
  const tfm = new TfLayerVAE(kerasConvSpec(LATENT), ref.getWeights());
  const t = tfm.computeGradients(b8, eps);
  let gradRel = 0, worst = "";
  for (const [name, v] of Object.entries(g.gradients)) {
    const e = relError(v, t.gradients[name]);
    if (e > gradRel) { gradRel = e; worst = name; }
  }
  const gate = { lossWasm: g.loss, lossTf: t.loss, lossRel: Math.abs(g.loss - t.loss) / Math.abs(t.loss), gradRel, worst };
  log(`  gate: loss ${g.loss.toFixed(4)} vs tfjs-cpu ${t.loss.toFixed(4)} (rel ${gate.lossRel.toExponential(1)}), worst gradient ${worst} rel ${gradRel.toExponential(1)}`);
  if (gate.lossRel > 1e-4 || gradRel > 1e-3) throw new Error(`conv step gate failed: loss rel ${gate.lossRel}, ${worst} rel ${gradRel}`);

  const reps = Number(flag("conv-steps") ?? 15);
  const wasm: ConvStepResult["wasm"] = [];
  for (const build of ["plain", "relaxed"] as const) {
    for (const B of [8, 128]) {
      const vae = await VAE.create(cfg(B), { build, threads: 1 });
      const x = images.subarray(0, B * 784);
      const ts = stepTimes(() => vae.trainStep(x), 5, B === 8 ? 3 * reps : reps);
      wasm.push({ build: vae.build, batch: B, medianMs: median(ts), steps: ts.length });
      log(`  wasm-vae ${vae.build} B=${B}: ${median(ts).toFixed(1)} ms/step`);
    }
  }
  const tfReps = Number(flag("tfjs-conv-steps") ?? 2);
  const tc = stepTimes(() => tfm.trainStep(b8, eps), 1, tfReps);
  const tfjsCpu = { batch: 8, medianMs: median(tc), steps: tc.length };
  log(`  tfjs-cpu B=8: ${tfjsCpu.medianMs.toFixed(0)} ms/step (${tc.length} timed after 1 warm-up)`);
  tfm.dispose();

  let tfjsWasm = "";
  await useBackend("wasm");
  const tw = new TfLayerVAE(kerasConvSpec(LATENT), ref.getWeights());
  try {
    tw.trainStep(b8, eps);
    tfjsWasm = "trained (unexpected: a kernel was added)";
  } catch (e) {
    tfjsWasm = String((e as Error).message).split("\n")[0];
  }
  tw.dispose();
  await useBackend("cpu");
  log(`  tfjs-wasm: ${tfjsWasm}`);
  return { gate, wasm, tfjsCpu, tfjsWasm };
}

/** The markdown section of bench/results/run.md. */
export function convStepReport(r: ConvStepResult): string[] {
  const L = ["## Convolutional VAE training step (the Keras example, --arch keras-conv)", "",
    `The Keras VAE example (conv 32, 64 → dense 16 → latent ${LATENT}; dense 7·7·64 → conv-transpose 64, 32, 1), Bernoulli on pixels/255, Adam. ` +
    `Gate before timing: same weights and ε, loss ${r.gate.lossWasm.toFixed(4)} (wasm-vae) vs ${r.gate.lossTf.toFixed(4)} (tfjs-cpu), relative ${r.gate.lossRel.toExponential(1)}; ` +
    `worst gradient (${r.gate.worst}) relative ${r.gate.gradRel.toExponential(1)}. ` +
    `tfjs-cpu is timed at batch 8 only (${r.tfjsCpu.steps} steps): its convolution gradients are naive loops. ` +
    `tfjs-backend-wasm cannot train this model: "${r.tfjsWasm}".`, ""];
  const rows = r.wasm.map((x) => [`wasm-vae ${x.build}`, String(x.batch), `${x.medianMs.toFixed(1)} ms`,
    x.batch === 8 ? `${(r.tfjsCpu.medianMs / x.medianMs).toFixed(0)}×` : "–"]);
  rows.push(["tfjs-cpu", "8", `${r.tfjsCpu.medianMs.toFixed(0)} ms`, "1×"], ["tfjs-wasm", "–", "cannot train (no Conv2DBackpropFilter)", "–"]);
  L.push("| implementation | batch | step (median) | × faster than tfjs-cpu at batch 8 |", "| :-- | --: | --: | --: |", ...rows.map((x) => `| ${x.join(" | ")} |`), "");
  return L;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  // alone: prints the section and writes it to bench/results/conv-step.md
  const r = await convStep();
  const md = convStepReport(r).join("\n");
  console.log(md);
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { ROOT } = await import("./common.js");
  writeFileSync(join(ROOT, "bench", "results", "conv-step.md"), md + "\n");
}
