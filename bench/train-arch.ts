// `npm run bench:train -- --arch keras_conv|conv`: the convolutional presets of
// `wasm-vae train --arch` (cli/src/presets.ts) on real MNIST, Bernoulli on
// pixels/255, Adam 1e-3, batch 128, plain and relaxed builds on one thread,
// and the plain build on every core (threads "auto"):
//   speed    median wall and CPU time of VAE.trainStep after a warm-up, and
//            where a step goes: every kernel export the model calls is timed
//            in place (CPU time), grouped into the conv layers' calls, the
//            dense layers' calls and the rest; GFLOP/s of the conv layers =
//            their GEMM FLOPs (forward, dW and dX; not the first layer's dX) /
//            their time. bench/results/conv.md (npm run bench:conv) splits each
//            conv call further into im2col/col2im and GEMM.
//   quality  with --quality: 10 epochs on all 60,000 images, then the test
//            −ELBO (one z per image, mean of 5 passes) on the 10,000 test images.
// Writes bench/results/train-<arch>.md and bench/results/train-<arch>.json
// (a run without --quality keeps the last quality result, marked as such).
// Flags: --steps N (timed steps, default 30), --quality, --quality-build
// plain|relaxed, --seed S, --latent L (default: 2 for keras_conv as the Keras
// example, 20 for conv).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { presetLayers, type Arch } from "../cli/src/presets.js";
import { convFlops, type ConvGeometry } from "../src/kernels/conv-shape.js";
import { architectureOf } from "../src/model/architecture.js";
import { resolveConfig } from "../src/model/config.js";
import { loadMnist, VAE, type Build, type VAEConfig } from "../src/index.js";
import type { RawExports } from "../src/kernels/wasm.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const BATCH = 128;
const TARGET_STEP_MS: Record<string, number> = { keras_conv: 150 };
const PYTORCH_STEP_MS: Record<string, number> = { keras_conv: 210 };
const MLP_TEST_ELBO = 105.6;

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

function configOf(arch: Exclude<Arch, "mlp">, latent: number, seed: number): VAEConfig {
  return { ...presetLayers(arch, [28, 28, 1], "bernoulli"), latentDim: latent, likelihood: "bernoulli", activation: "relu", seed, maxBatch: BATCH };
}

/** Conv FLOPs of one training step: forward + dW + dX (no dX into the data). */
function convStepFlops(cfg: VAEConfig): { flops: number; layers: string[] } {
  const a = architectureOf(resolveConfig(cfg));
  let flops = 0;
  const layers: string[] = [];
  for (const [i, l] of [...a.encoder, ...a.decoder].entries()) {
    if (l.kind !== "conv2d" && l.kind !== "conv2d_transpose") continue;
    const f = convFlops(l.derived as ConvGeometry, BATCH);
    flops += f * (i === 0 ? 2 : 3);
    layers.push(`${l.name} ${l.kind} ${l.inShape.join("×")}→${l.outShape.join("×")}`);
  }
  return { flops, layers };
}

/** Times each kernel export in place; per-step CPU ms by export name. */
function instrument(raw: RawExports) {
  const r = raw as unknown as Record<string, unknown>;
  const orig = new Map<string, (...a: number[]) => unknown>();
  const step = new Map<string, number>();
  const perStep: Map<string, number>[] = [];
  for (const [n, f] of Object.entries(r)) {
    if (typeof f !== "function") continue;
    orig.set(n, f as (...a: number[]) => unknown);
    r[n] = (...a: number[]) => {
      const t = cpuMs();
      const out = (f as (...a: number[]) => unknown)(...a);
      step.set(n, (step.get(n) ?? 0) + cpuMs() - t);
      return out;
    };
  }
  return {
    perStep,
    tick() { perStep.push(new Map(step)); step.clear(); },
    restore() { for (const [n, f] of orig) r[n] = f; },
  };
}

interface Speed {
  build: Build; threads: number; stepMs: number; p10Ms: number; p90Ms: number; cpuMs: number; steps: number;
  parts: { name: string; ms: number }[]; convMs: number; convGflops: number;
}

async function speed(cfg: VAEConfig, build: Build, images: Float32Array, steps: number, threads: number | "auto" = 1): Promise<Speed> {
  const vae = await VAE.create(cfg, { build, threads });
  const nBatches = Math.floor(images.length / 784 / BATCH);
  let i = 0;
  const next = () => { const s = (i++ % nBatches) * BATCH * 784; return images.subarray(s, s + BATCH * 784); };
  for (let w = 0; w < 5; w++) vae.trainStep(next());
  const wall: number[] = [], cpu: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x = next(), c = cpuMs(), t = performance.now();
    vae.trainStep(x);
    wall.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  wall.sort((a, b) => a - b);
  // breakdown: interleaved instrumented steps
  const ins = instrument(vae.kernels.raw);
  const stepCpu: number[] = [];
  for (let s = 0; s < Math.max(10, Math.floor(steps / 2)); s++) {
    const x = next(), c = cpuMs();
    vae.trainStep(x);
    stepCpu.push(cpuMs() - c);
    ins.tick();
  }
  ins.restore();
  const sum = (pred: (n: string) => boolean) => ins.perStep.map((m) => [...m].reduce((a, [n, v]) => a + (pred(n) ? v : 0), 0));
  const conv = sum((n) => n.startsWith("conv2d"));
  const dense = sum((n) => n.startsWith("dense_"));
  const opt = sum((n) => ["sum_squares", "scale", "adam_step"].includes(n));
  const all = sum(() => true);
  const convMs = median(conv);
  const { flops } = convStepFlops(cfg);
  const parts = [
    { name: "conv layers (conv2d / conv2d_transpose forward + backward: im2col/col2im, GEMMs, bias, activation)", ms: convMs },
    { name: "dense layers (GEMMs + activation, bias)", ms: median(dense) },
    { name: "optimizer (grad norm + Adam)", ms: median(opt) },
    { name: "other kernels (sampler, KL, likelihood, copies)", ms: median(all.map((a, k) => a - conv[k] - dense[k] - opt[k])) },
    { name: "host JS (checks, row copy, bookkeeping)", ms: median(stepCpu.map((t, k) => t - all[k])) },
  ];
  return { build: vae.build, threads: vae.threads, stepMs: median(wall), p10Ms: wall[Math.floor(0.1 * wall.length)], p90Ms: wall[Math.floor(0.9 * wall.length)],
    cpuMs: median(cpu), steps, parts, convMs, convGflops: flops / (convMs * 1e6) };
}

interface Quality { build: Build; seed: number; latent: number; epochs: { epoch: number; train: number; test?: number; seconds: number }[]; testElbo: number; passes: number[]; trainSeconds: number; date: string }

async function quality(cfg: VAEConfig, build: Build, train: Float32Array, test: Float32Array): Promise<Quality> {
  const vae = await VAE.create(cfg, { build, threads: 1 });
  const t0 = performance.now();
  const epochs: Quality["epochs"] = [];
  await vae.fit(train, {
    epochs: 10, batchSize: BATCH, validation: test,
    onEpoch: (e) => {
      epochs.push({ epoch: e.epoch, train: e.loss, test: e.validation?.loss, seconds: e.seconds });
      console.log(`  epoch ${String(e.epoch).padStart(2)}: train ${e.loss.toFixed(2)}, test ${e.validation?.loss.toFixed(2)} nats/image, ${e.seconds.toFixed(1)} s`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const passes: number[] = [];
  for (let p = 0; p < 5; p++) {
    const r = vae.elbo(test);
    let s = 0;
    for (let k = 0; k < r.elbo.length; k++) s -= r.elbo[k];
    passes.push(s / r.elbo.length);
  }
  return { build: vae.build, seed: cfg.seed ?? 0, latent: cfg.latentDim, epochs, testElbo: passes.reduce((a, b) => a + b, 0) / passes.length, passes, trainSeconds, date: new Date().toISOString() };
}

export async function mainArch(arch: Exclude<Arch, "mlp">): Promise<void> {
  const steps = Math.max(10, Number(flag("steps") ?? 30) || 30);
  const seed = Number(flag("seed") ?? 0) || 0;
  const latent = Number(flag("latent") ?? (arch === "keras_conv" ? 2 : 20));
  const cfg = configOf(arch, latent, seed);
  const m = machine();
  console.log(`wasm-vae training benchmark, --arch ${arch} (latent ${latent}) — ${describeMachine(m)}`);
  const { layers } = convStepFlops(cfg);
  const train = await loadMnist({ split: "train" });
  const speeds: Speed[] = [];
  for (const build of ["plain", "relaxed"] as const) {
    const s = await speed(cfg, build, train.images, steps);
    console.log(`  ${s.build}: step ${s.stepMs.toFixed(1)} ms wall (p10 ${s.p10Ms.toFixed(1)}), ${s.cpuMs.toFixed(1)} ms CPU; conv layers ${s.convMs.toFixed(1)} ms at ${s.convGflops.toFixed(1)} GFLOP/s`);
    speeds.push(s);
  }
  // the same step on every core the runtime reports (threads "auto"): results are bit-identical
  const threaded = await speed(cfg, "plain", train.images, steps, "auto");
  if (threaded.threads > 1) {
    console.log(`  plain, ${threaded.threads} threads: step ${threaded.stepMs.toFixed(1)} ms wall, ${threaded.cpuMs.toFixed(1)} ms CPU (all threads)`);
    speeds.push(threaded);
  }
  const jsonPath = join(ROOT, "bench", "results", `train-${arch.replaceAll("_", "-")}.json`);
  let q: Quality | null = null, fresh = false;
  if (flag("quality") !== undefined) {
    const test = await loadMnist({ split: "test" });
    const qb: Build = flag("quality-build") === "relaxed" ? "relaxed" : "plain";
    console.log(`quality: 10 epochs, ${qb} build, seed ${seed}…`);
    q = await quality(cfg, qb, train.images, test.images);
    fresh = true;
  } else if (existsSync(jsonPath)) {
    try { q = (JSON.parse(readFileSync(jsonPath, "utf8")) as { quality?: Quality }).quality ?? null; } catch { q = null; }
  }
  const L: string[] = [`# Training benchmark, --arch ${arch}`, "", `Machine: ${describeMachine(m)}.`, "",
    `Model: \`wasm-vae train --arch ${arch}\` (cli/src/presets.ts), latent ${latent}, ReLU, Bernoulli on pixels/255, Adam(1e-3), batch ${BATCH}, one thread. ` +
    `Conv layers: ${layers.join("; ")}. Steps are VAE.trainStep on consecutive real MNIST batches after 5 warm-up steps (${steps} timed). ` +
    "Other processes may share this 2-core machine: the CPU column does not grow while they hold the cores.", "", "## Speed", ""];
  const t = TARGET_STEP_MS[arch];
  L.push(mdTable(["build", "step wall median", "p10 / p90", "step CPU median", "conv layers ms", "conv GFLOP/s", ...(t ? ["target (plain)", "PyTorch 1.13, one core"] : [])],
    speeds.map((s) => [`${s.build}, ${s.threads} thread${s.threads === 1 ? "" : "s"}`, `${s.stepMs.toFixed(1)} ms`, `${s.p10Ms.toFixed(1)} / ${s.p90Ms.toFixed(1)}`, `${s.cpuMs.toFixed(1)} ms`, s.convMs.toFixed(1), s.convGflops.toFixed(1),
      ...(t ? [`≤ ${t} ms${s.build === "plain" && s.threads === 1 ? (Math.min(s.stepMs, s.cpuMs) <= t ? " (pass)" : " (MISS)") : ""}`, `~${PYTORCH_STEP_MS[arch]} ms`] : [])])), "");
  L.push("## Where a step goes (CPU ms, medians of instrumented steps)", "");
  const one = speeds.filter((s) => s.threads === 1);
  L.push(mdTable(["part", ...one.flatMap((s) => [`${s.build} ms`, "share"])],
    one[0].parts.map((p, i) => [p.name, ...one.flatMap((s) => [s.parts[i].ms.toFixed(1), `${((s.parts[i].ms / s.cpuMs) * 100).toFixed(0)}%`])])), "");
  L.push("The threaded row's CPU time is summed over its threads; the target is for one thread. " +
    "Wall time is what a user waits; with other processes on the machine, compare CPU times.", "");
  L.push("## Quality", "");
  if (!q) L.push(`Not run: \`npm run bench:train -- --arch ${arch} --quality\` (10 epochs).`, "");
  else {
    L.push(`${fresh ? "" : `From an earlier run (${q.date}). `}10 epochs over all 60,000 training images, ${q.build} build, seed ${q.seed}, latent ${q.latent}; ` +
      `test −ELBO per image on the 10,000 test images, one z per image, mean of ${q.passes.length} passes (${q.passes.map((x) => x.toFixed(2)).join(", ")}). Training took ${q.trainSeconds.toFixed(0)} s.`, "");
    L.push(mdTable(["epoch", "train −ELBO", "test −ELBO", "seconds"], q.epochs.map((e) => [e.epoch, e.train.toFixed(2), e.test?.toFixed(2) ?? "–", e.seconds.toFixed(1)])), "");
    L.push(`Test −ELBO after 10 epochs: **${q.testElbo.toFixed(2)}** nats/image (the MLP recipe: ${MLP_TEST_ELBO}).`, "");
  }
  const md = L.join("\n");
  console.log("\n" + md);
  writeFileSync(join(ROOT, "bench", "results", `train-${arch.replaceAll("_", "-")}.md`), md + "\n");
  writeFileSync(jsonPath, JSON.stringify({ machine: m, arch, latent, speed: speeds, quality: q, qualityFromThisRun: fresh }, null, 2) + "\n");
}
