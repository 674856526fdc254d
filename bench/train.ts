// `npm run bench:train`: the training targets of issue 3 for the
// PyTorch-example VAE (784-400-20-400-784, ReLU, Bernoulli on pixels/255,
// Adam 1e-3, batch 128), single thread, plain and relaxed builds:
//   speed    median time of one VAE.trainStep on real MNIST batches after a
//            warm-up; one full epoch through VAE.fit; the breakdown of a step
//            (each kernel call of the real step timed in place, and the 11
//            GEMMs of the step re-timed directly through loadKernels at the
//            same shapes to split the dense layers into GEMM and elementwise).
//   quality  with --quality (about 2 minutes a seed): the full recipe, 10 epochs on
//            all 60,000 training images, then the test −ELBO per image on the
//            10,000 test images (one z sample per image, as the PyTorch
//            example's test loop).
// Prints a table and writes bench/results/train.md and bench/results/train.json
// (a run without --quality keeps the last quality result, marked as such).
// Flags: --quality, --quality-build plain|relaxed, --seeds 0,1,2 (default 0),
// --steps N (timed steps, default 200); --arch keras_conv|conv runs the
// convolutional presets instead (bench/train-arch.ts).
// Not here: the comparison with tfjs (bench/run.ts).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadMnist, VAE, type Build, type VAEConfig } from "../src/index.js";
import { loadKernels } from "../src/kernels.js";
import type { RawExports } from "../src/kernels/wasm.js";
import { mainArch } from "./train-arch.js";
import { describeMachine, flag, fmtNum, machine, mdTable, median, ROOT, type Machine } from "./common.js";

const CONFIG: VAEConfig = {
  inputDim: 784, encoder: [400], latentDim: 20, decoder: [400],
  activation: "relu", likelihood: "bernoulli", seed: 0, maxBatch: 128,
};
const BATCH = 128;
const QUALITY_PASSES = 5;
const TARGETS = {
  stepMs: { plain: 17, relaxed: 12.5 } as Record<Build, number>,
  epochSeconds: 8,
  testElbo: 105.6,
};
const REFERENCE = { pytorch: 105.24, tfjs: 105.58 };

const OUT_MD = join(ROOT, "bench", "results", "train.md");
const OUT_JSON = join(ROOT, "bench", "results", "train.json");

interface Part { name: string; ms: number }

interface SpeedResult {
  requested: Build;
  build: Build;
  /** Wall time (median, p10, p90) and CPU time (median) of one step, ms. */
  step: { medianMs: number; p10Ms: number; p90Ms: number; cpuMedianMs: number; steps: number };
  /** Wall seconds of one fit epoch, and the process CPU seconds it took. */
  epoch: { seconds: number; cpuSeconds: number; steps: number; msPerStep: number; samplesPerSecond: number };
  breakdown: { parts: Part[]; stepMs: number; gemmMs: number; gemmGflops: number; gemms: GemmTiming[] };
}

interface GemmTiming { name: string; M: number; K: number; N: number; transA: boolean; transB: boolean; ms: number; gflops: number }

interface QualityResult {
  build: Build;
  /** Seed of initialisation, ε and shuffling. */
  seed: number;
  epochs: { epoch: number; trainLoss: number; testLoss?: number; seconds: number }[];
  /** Mean over QUALITY_PASSES passes of the one-sample test −ELBO. */
  testElbo: number;
  testElboPasses?: number[];
  /** Standard deviation of one pass (the spread of the PyTorch-style figure). */
  testElboSd?: number;
  trainSeconds: number;
  date: string;
}

// ------------------------------------------------------------------- speed

/** CPU time of this process (user + system, ms): unlike wall time it does not
 *  grow while other processes hold the cores. µs resolution, ~2 µs a call. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Consecutive batches of the training set, cycling. */
function batches(images: Float32Array, B: number): () => Float32Array {
  const n = Math.floor(images.length / (784 * B));
  let i = 0;
  return () => {
    const b = images.subarray(i * B * 784, (i + 1) * B * 784);
    i = (i + 1) % n;
    return b;
  };
}

/** Wraps the kernel exports the model calls so each call is timed in place. */
function instrument(raw: RawExports): { totals: Map<string, number[]>; tick(): void; restore(): void } {
  const names = ["dense_forward", "dense_backward", "rng_normal", "gaussian_sample_forward", "gaussian_sample_backward",
    "kl_normal_forward", "kl_normal_backward", "bernoulli_nll_forward_backward", "fill", "sum_squares", "scale", "adam_step"] as const;
  const r = raw as unknown as Record<string, (...a: number[]) => unknown>;
  const orig = new Map<string, (...a: number[]) => unknown>();
  const step = new Map<string, number>();   // ms in the current step, per key
  const totals = new Map<string, number[]>(); // per-step ms, per key
  for (const n of names) {
    const f = r[n];
    orig.set(n, f);
    r[n] = (...a: number[]) => {
      // dense calls are told apart by their shape (B, IN, OUT) and by whether dx is computed
      const key = n === "dense_forward" ? `dense_forward ${a[5]}→${a[6]}`
        : n === "dense_backward" ? `dense_backward ${a[8]}→${a[9]}${a[0] === 0 ? " (no dX)" : ""}` : n;
      const t = cpuMs();
      const out = f(...a);
      step.set(key, (step.get(key) ?? 0) + cpuMs() - t);
      return out;
    };
    if (r[n] === f) throw new Error(`cannot instrument kernel export ${n} (the exports object is read-only)`);
  }
  return {
    totals,
    tick() {
      for (const [k, v] of step) {
        if (!totals.has(k)) totals.set(k, []);
        totals.get(k)!.push(v);
      }
      step.clear();
    },
    restore() { for (const [n, f] of orig) r[n] = f; },
  };
}

/** The 11 GEMMs of one step at batch B on a fresh kernel module, each
 *  timed once per call of `round()` (so they can be interleaved with steps). */
async function gemmTimer(build: Build, layers: { name: string; inDim: number; outDim: number }[], B: number):
  Promise<{ shapes: Omit<GemmTiming, "ms" | "gflops">[]; round(): number[] }> {
  const k = await loadKernels({ build });
  if (k.build !== build) throw new Error(`loadKernels gave the ${k.build} build, not ${build}`);
  const shapes: Omit<GemmTiming, "ms" | "gflops">[] = [];
  for (const l of layers) shapes.push({ name: `fwd ${l.name}`, M: B, K: l.inDim, N: l.outDim, transA: false, transB: false });
  for (const l of layers) shapes.push({ name: `dW ${l.name}`, M: l.inDim, K: B, N: l.outDim, transA: true, transB: false });
  layers.forEach((l, i) => { if (i > 0) shapes.push({ name: `dX ${l.name}`, M: B, K: l.outDim, N: l.inDim, transA: false, transB: true }); });
  const maxEl = Math.max(...shapes.flatMap((s) => [s.M * s.K, s.K * s.N, s.M * s.N]));
  const scratchB = Math.max(...shapes.map((s) => k.gemmScratchBytes(s.M, s.K)));
  const al = (n: number) => Math.ceil(n / 64) * 64;
  const a = k.base, b = a + al(4 * maxEl), c = b + al(4 * maxEl), bias = c + al(4 * maxEl), scratch = bias + al(4 * 1024);
  k.reserve(scratch + scratchB - k.base);
  const H = new Float32Array(k.memory.buffer);
  for (let i = a >> 2; i < (scratch >> 2); i++) H[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  // the step's inits: bias (forward), accumulate (dW), overwrite (dX)
  const inits = shapes.map((s) => (s.name.startsWith("fwd") ? 2 : s.name.startsWith("dW") ? 1 : 0));
  const raw = k.raw;
  return {
    shapes,
    round() {
      return shapes.map((s, j) => {
        const t = cpuMs();
        raw.gemm(c, a, b, bias, s.M, s.K, s.N, s.transA ? 1 : 0, s.transB ? 1 : 0, inits[j], scratch);
        return cpuMs() - t;
      });
    },
  };
}

async function speed(requested: Build, images: Float32Array, steps: number): Promise<SpeedResult> {
  const vae = await VAE.create(CONFIG, { build: requested, threads: 1 });
  const next = batches(images, BATCH);
  // warm-up: JIT, caches, Adam moments
  for (let i = 0; i < 50; i++) vae.trainStep(next());
  const times: number[] = [], cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = next();
    const c = cpuMs(), t = performance.now();
    vae.trainStep(x);
    times.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  times.sort((p, q) => p - q);
  const step = { medianMs: median(times), p10Ms: times[Math.floor(0.1 * times.length)], p90Ms: times[Math.floor(0.9 * times.length)], cpuMedianMs: median(cpu), steps };

  // The breakdown, in interleaved rounds so that the machine's other load
  // hits both alike: one real step with every kernel call timed in place,
  // then each of the step's GEMMs once, directly, at the same shape.
  const shapes = vae.parameterShapes();
  const layers = Object.entries(shapes).filter(([n]) => n.endsWith(".weight"))
    .map(([n, sh]) => ({ name: n.replace(".weight", ""), inDim: sh[0], outDim: sh[1] }));
  const gt = await gemmTimer(vae.build, layers, BATCH);
  for (let i = 0; i < 5; i++) gt.round();
  const ins = instrument(vae.kernels.raw);
  const stepTimes: number[] = [];
  const gemmRounds: number[][] = [];
  for (let i = 0; i < Math.max(60, steps); i++) {
    const x = next();
    const t = cpuMs();
    vae.trainStep(x);
    stepTimes.push(cpuMs() - t);
    ins.tick();
    gemmRounds.push(gt.round());
  }
  ins.restore();
  const R = stepTimes.length;
  const perStep = (k: string) => ins.totals.get(k) ?? new Array<number>(R).fill(0);
  const sumKeys = (pred: (k: string) => boolean) => {
    const out = new Array<number>(R).fill(0);
    for (const [k, v] of ins.totals) if (pred(k)) v.forEach((x, i) => { out[i] += x; });
    return out;
  };
  const gemmSum = (pre: string) => gemmRounds.map((r) => r.reduce((acc, x, j) => acc + (gt.shapes[j].name.startsWith(pre) ? x : 0), 0));
  const gemmFwd = gemmSum("fwd"), gemmDw = gemmSum("dW"), gemmDx = gemmSum("dX");
  const gemmAll = gemmRounds.map((r) => r.reduce((acc, x) => acc + x, 0));
  const dense = sumKeys((k) => k.startsWith("dense_"));
  const latent = sumKeys((k) => ["rng_normal", "gaussian_sample_forward", "gaussian_sample_backward", "kl_normal_forward", "kl_normal_backward"].includes(k));
  const optimizer = sumKeys((k) => ["sum_squares", "scale", "adam_step"].includes(k));
  const kernels = sumKeys(() => true);
  const parts: Part[] = [
    { name: "GEMM forward (4, bias fused)", ms: median(gemmFwd) },
    { name: "GEMM backward dW += xᵀ·g (4)", ms: median(gemmDw) },
    { name: "GEMM backward dX = g·Wᵀ (3)", ms: median(gemmDx) },
    { name: "dense elementwise (activation fwd/bwd, db sums)", ms: median(dense.map((d, i) => d - gemmAll[i])) },
    { name: "sampler + KL + ε draw", ms: median(latent) },
    { name: "Bernoulli likelihood fwd+bwd", ms: median(perStep("bernoulli_nll_forward_backward")) },
    { name: "zero gradients", ms: median(perStep("fill")) },
    { name: "optimizer (grad norm + Adam)", ms: median(optimizer) },
    { name: "host JS (input checks, row copy, bookkeeping)", ms: median(stepTimes.map((t, i) => t - kernels[i])) },
  ];
  const gemms: GemmTiming[] = gt.shapes.map((sh, j) => {
    const ms = median(gemmRounds.map((r) => r[j]));
    return { ...sh, ms, gflops: (2 * sh.M * sh.K * sh.N) / (ms * 1e6) };
  });
  const gemmMs = median(gemmAll);
  const flops = gemms.reduce((acc, g) => acc + 2 * g.M * g.K * g.N, 0);
  const stepMs = median(stepTimes);

  // one full epoch through fit (shuffle, copies, callbacks, event-loop yields)
  const fitModel = await VAE.create(CONFIG, { build: requested, threads: 1 });
  for (let i = 0; i < 20; i++) fitModel.trainStep(next());
  const c0 = cpuMs();
  const h = await fitModel.fit(images, { epochs: 1, batchSize: BATCH });
  const cpuSeconds = (cpuMs() - c0) / 1000;
  const e = h.epochs[0];
  const epochSteps = Math.ceil(e.rows / BATCH);
  return {
    requested, build: vae.build, step,
    epoch: { seconds: e.seconds, cpuSeconds, steps: epochSteps, msPerStep: (e.seconds * 1000) / epochSteps, samplesPerSecond: e.samplesPerSecond },
    breakdown: { parts, stepMs, gemmMs, gemmGflops: flops / (gemmMs * 1e6), gemms },
  };
}

// ----------------------------------------------------------------- quality

async function quality(build: Build, seed: number, train: Float32Array, test: Float32Array): Promise<QualityResult> {
  const vae = await VAE.create({ ...CONFIG, seed }, { build, threads: 1 });
  const t0 = performance.now();
  const epochs: QualityResult["epochs"] = [];
  await vae.fit(train, {
    epochs: 10, batchSize: BATCH, shuffle: true, validation: test,
    onEpoch: (e) => {
      epochs.push({ epoch: e.epoch, trainLoss: e.loss, testLoss: e.validation?.loss, seconds: e.seconds });
      console.log(`  epoch ${String(e.epoch).padStart(2)}: train ${e.loss.toFixed(2)}, test ${e.validation?.loss.toFixed(2)} nats/image, ${e.seconds.toFixed(1)} s`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  // One z per image, as the PyTorch example; repeated so that the Monte-Carlo
  // spread of that estimate shows (the test set is the same every pass).
  const passes: number[] = [];
  for (let p = 0; p < QUALITY_PASSES; p++) {
    const r = vae.elbo(test);
    let s = 0;
    for (let i = 0; i < r.elbo.length; i++) s -= r.elbo[i];
    passes.push(s / r.elbo.length);
  }
  const mean = passes.reduce((a, b) => a + b, 0) / passes.length;
  const sd = Math.sqrt(passes.reduce((a, b) => a + (b - mean) ** 2, 0) / (passes.length - 1));
  return { build: vae.build, seed, epochs, testElbo: mean, testElboPasses: passes, testElboSd: sd, trainSeconds, date: new Date().toISOString() };
}

// ------------------------------------------------------------------ report

const mark = (ok: boolean) => (ok ? "pass" : "MISS");

function report(m: Machine, speeds: SpeedResult[], qs: QualityResult[], qFresh: boolean): string {
  const L: string[] = [];
  L.push("# Training benchmark (issue 3 targets)", "");
  L.push(`Machine: ${describeMachine(m)}.`, "");
  L.push("Model: the PyTorch-example VAE, 784-400-20-400-784, ReLU, Bernoulli on pixels/255, Adam(1e-3, 0.9, 0.999, 1e-8), batch 128, single thread. " +
    "Steps are `VAE.trainStep` on consecutive real MNIST batches after 50 warm-up steps; the epoch is one `VAE.fit` epoch over all 60,000 images (shuffle, row copies, event-loop yields included). " +
    "Other processes share this 2-core machine, so wall times are noisy.", "");
  L.push("## Speed", "");
  L.push("Wall time is what the target names; CPU time (this process's user + system time, `process.cpuUsage`) does not grow while other processes hold the cores, " +
    "so where the two differ a lot the machine was busy and the CPU column is the better estimate of an undisturbed run.", "");
  const miss = (v: number, t: number, unit: string) => mark(v <= t) + (v > t ? ` (+${(v - t).toFixed(unit === "s" ? 2 : 1)} ${unit}, +${((v / t - 1) * 100).toFixed(0)}%)` : "");
  const rows: string[][] = [];
  for (const s of speeds) {
    const t = TARGETS.stepMs[s.requested];
    const ok = s.build === s.requested;
    const ran = ok ? s.build : `${s.build} (${s.requested} unavailable)`;
    rows.push([`step, ${ran}`, `${s.step.medianMs.toFixed(2)} ms`, `${s.step.p10Ms.toFixed(2)} / ${s.step.p90Ms.toFixed(2)} ms`, `${s.step.cpuMedianMs.toFixed(2)} ms`, `≤ ${t} ms`,
      ok ? miss(s.step.medianMs, t, "ms") : "n/a", ok ? miss(s.step.cpuMedianMs, t, "ms") : "n/a"]);
  }
  for (const s of speeds) {
    rows.push([`epoch, ${s.build}`, `${s.epoch.seconds.toFixed(2)} s`, `${s.epoch.msPerStep.toFixed(2)} ms/step, ${fmtNum(s.epoch.samplesPerSecond)} img/s`, `${s.epoch.cpuSeconds.toFixed(2)} s`, `≤ ${TARGETS.epochSeconds} s`,
      miss(s.epoch.seconds, TARGETS.epochSeconds, "s"), miss(s.epoch.cpuSeconds, TARGETS.epochSeconds, "s")]);
  }
  L.push(mdTable(["measure", "wall median", "wall p10 / p90 (step); per step (epoch)", "CPU", "target", "wall result", "CPU result"], rows, ["l", "r", "r", "r", "r", "l", "l"]), "");
  L.push("## Where a step goes", "");
  L.push("CPU time (ms), measured in interleaved rounds: one real `trainStep` with every kernel call timed in place, then each of the step's 11 GEMMs once, " +
    "directly through `loadKernels` (src/kernels/wasm.ts) at the same shape and init, so the machine's other load hits all parts alike. " +
    "Each row is a median over the rounds, so the rows need not add up exactly to the step. " +
    "Dense elementwise = the in-step dense_forward/dense_backward calls minus the direct GEMMs of the same round; " +
    "host JS = step − all kernel calls of that step (it includes the timing wrappers, about 0.1 ms).", "");
  const names = speeds[0].breakdown.parts.map((p) => p.name);
  const bRows = names.map((n, i) => [n, ...speeds.flatMap((s) => {
    const p = s.breakdown.parts[i];
    return [p.ms.toFixed(2), `${((p.ms / s.breakdown.stepMs) * 100).toFixed(0)}%`];
  })]);
  bRows.push(["step (CPU, median of the instrumented steps)", ...speeds.flatMap((s) => [s.breakdown.stepMs.toFixed(2), "100%"])]);
  L.push(mdTable(["part", ...speeds.flatMap((s) => [`${s.build} ms`, "share"])], bRows), "");
  const gRows = speeds[0].breakdown.gemms.map((g, i) => [
    `${g.name} ${g.M}×${g.K}×${g.N}${g.transA ? " (Aᵀ)" : ""}${g.transB ? " (Bᵀ)" : ""}`,
    ...speeds.flatMap((s) => [s.breakdown.gemms[i].ms.toFixed(3), s.breakdown.gemms[i].gflops.toFixed(1)]),
  ]);
  gRows.push(["all 11 GEMMs", ...speeds.flatMap((s) => [s.breakdown.gemmMs.toFixed(2), s.breakdown.gemmGflops.toFixed(1)])]);
  L.push(mdTable(["GEMM (M×K×N)", ...speeds.flatMap((s) => [`${s.build} ms`, "GFLOP/s"])], gRows), "");
  L.push("## Quality", "");
  if (!qs.length) {
    L.push("Not run: `npm run bench:train -- --quality` runs the full recipe (about 2 minutes; `--seeds 0,1,2` for several seeds).", "");
  } else {
    const q = qs[0];
    const passes = q.testElboPasses?.length ?? 1;
    L.push((qFresh ? "" : `From an earlier run (${q.date}); this run did not pass --quality. `) +
      `Full recipe, ${q.build} build: 10 epochs over all 60,000 training images, batch 128, Adam 1e-3, loss summed over pixels and averaged over the batch; ` +
      `test −ELBO per image on the 10,000 test images with one z sample per image (as the PyTorch example's test loop), averaged over ${passes} passes ` +
      `(seed ${q.seed}, one pass each: ${q.testElboPasses?.map((x) => x.toFixed(3)).join(", ") ?? q.testElbo.toFixed(3)}; sd of one pass ${q.testElboSd?.toFixed(3) ?? "–"}). ` +
      `Per-epoch figures are for seed ${q.seed}; the test column there is fit's validation (one pass). Training took ${q.trainSeconds.toFixed(1)} s.`, "");
    L.push(mdTable(["epoch", "train −ELBO", "test −ELBO", "seconds"], q.epochs.map((e) => [e.epoch, e.trainLoss.toFixed(2), e.testLoss?.toFixed(2) ?? "–", e.seconds.toFixed(1)])), "");
    const res = (v: number) => mark(v <= TARGETS.testElbo) + (v > TARGETS.testElbo ? ` (+${(v - TARGETS.testElbo).toFixed(3)})` : "");
    const qRows = qs.map((x) => [`test −ELBO, seed ${x.seed} (nats/image, mean of ${x.testElboPasses?.length ?? 1} passes)`, x.testElbo.toFixed(3), `≤ ${TARGETS.testElbo}`, res(x.testElbo)]);
    if (qs.length > 1) {
      const mean = qs.reduce((a, x) => a + x.testElbo, 0) / qs.length;
      const sd = Math.sqrt(qs.reduce((a, x) => a + (x.testElbo - mean) ** 2, 0) / (qs.length - 1));
      qRows.push([`mean over ${qs.length} seeds (sd between seeds ${sd.toFixed(3)})`, mean.toFixed(3), `≤ ${TARGETS.testElbo}`, res(mean)]);
    }
    qRows.push(["PyTorch example (reference)", REFERENCE.pytorch.toFixed(2), "", ""], ["tfjs (reference)", REFERENCE.tfjs.toFixed(2), "", ""]);
    L.push(mdTable(["measure", "value", "target", "result"], qRows, ["l", "r", "r", "l"]), "");
  }
  return L.join("\n");
}

// -------------------------------------------------------------------- main

async function main(): Promise<void> {
  const given = flag("arch");
  const arch = given === "keras-conv" ? "keras_conv" : given;   // the CLI's spelling before issue 16
  if (arch !== undefined && arch !== "mlp") {
    if (arch !== "keras_conv" && arch !== "conv") throw new Error(`--arch: mlp, keras_conv or conv, got ${String(arch)}`);
    return mainArch(arch);
  }
  const runQuality = flag("quality") !== undefined;
  const qb = flag("quality-build");
  const qBuild: Build = qb === "relaxed" ? "relaxed" : "plain";
  const stepsFlag = flag("steps");
  const steps = typeof stepsFlag === "string" ? Math.max(20, parseInt(stepsFlag, 10) || 200) : 200;
  const seedsFlag = flag("seeds");
  const seeds = typeof seedsFlag === "string" ? seedsFlag.split(",").map((x) => parseInt(x, 10)).filter((x) => Number.isSafeInteger(x) && x >= 0) : [0];
  if (seeds.length === 0) throw new Error("--seeds: a comma-separated list of integers ≥ 0, e.g. --seeds 0,1,2");
  const m = machine();
  console.log(`wasm-vae training benchmark — ${describeMachine(m)}`);
  const train = await loadMnist({ split: "train" });
  const speeds: SpeedResult[] = [];
  for (const build of ["plain", "relaxed"] as const) {
    console.log(`speed, ${build} build: ${steps} timed steps, a breakdown, one epoch…`);
    const s = await speed(build, train.images, steps);
    console.log(`  ${s.build}: step median ${s.step.medianMs.toFixed(2)} ms wall (p10 ${s.step.p10Ms.toFixed(2)}), ${s.step.cpuMedianMs.toFixed(2)} ms CPU; epoch ${s.epoch.seconds.toFixed(2)} s wall, ${s.epoch.cpuSeconds.toFixed(2)} s CPU`);
    speeds.push(s);
  }
  let qs: QualityResult[] = [];
  let fresh = false;
  if (runQuality) {
    const test = await loadMnist({ split: "test" });
    for (const seed of seeds) {
      console.log(`quality: the full recipe, 10 epochs, ${qBuild} build, seed ${seed}…`);
      qs.push(await quality(qBuild, seed, train.images, test.images));
    }
    fresh = true;
  } else if (existsSync(OUT_JSON)) {
    try {
      const old = (JSON.parse(readFileSync(OUT_JSON, "utf8")) as { quality?: QualityResult[] }).quality;
      qs = Array.isArray(old) ? old : [];
    } catch { qs = []; }
  }
  const md = report(m, speeds, qs, fresh);
  console.log("\n" + md);
  writeFileSync(OUT_MD, md + "\n");
  writeFileSync(OUT_JSON, JSON.stringify({ machine: m, targets: TARGETS, reference: REFERENCE, speed: speeds, quality: qs, qualityFromThisRun: fresh }, null, 2) + "\n");
  console.log(`\nwrote ${OUT_MD} and ${OUT_JSON}`);
}

await main();
