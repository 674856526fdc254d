// The subcommands that use a saved model: eval, sample, reconstruct, impute,
// info. Each loads the model file (the library validates it), takes the
// test split of the data flags where it needs data, and prints or draws.
// Not here: training (train.ts).
import { readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { IMPUTE_METHODS, VAE } from "wasm-vae";
import { decodeModel, entryLabel } from "wasm-vae/kernels";
import { Flags, UsageError } from "./args.js";
import { choicesText, discreteNote, networkText, objectiveText } from "./describe.js";
import { binarizedNote, binarizeTest, checkUnitRange, classCount, dataSpecFromFlags, DataError, displayRange, loadData, oneHot, type Dataset, type DataSpec } from "./data.js";
import { renderChart } from "./chart-render.js";
import { gridFigureSpec, imputationError, imputationFigure, imputationLines, reconstructionsFigure, samplesFigure, type FigureContext, type GridFigure } from "./figures.js";
import { readingModel, writeOutput } from "./files.js";
import { fmt } from "./progress.js";
import { TEST_BINARIZE_SEED } from "./train.js";

type Log = (s: string) => void;

export interface Loaded {
  vae: VAE;
  path: string;
  header: ReturnType<typeof decodeModel>["header"];
  bytes: number;
  /** metrics.json of the run folder holding the model, when there is one. */
  run: { data?: { imageShape?: [number, number] | null; range?: [number, number]; shape?: [number, number, number] | null }; settings?: { binarize?: string; data?: DataSpec }; status?: string; final?: { test?: { loss: number }; iwae?: { logLikelihood: number; samples: number; images: number } } } | null;
}

export async function loadModel(f: Flags): Promise<Loaded> {
  const path = f.required("model", "(a .wvae model file, e.g. runs/<name>/model.wvae)");
  let buf: Buffer;
  try {
    if ((await stat(path)).isDirectory()) throw new DataError(`${path}: is a directory (give the model file inside it, e.g. ${join(path, "model.wvae")})`);
    buf = await readFile(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError((e as NodeJS.ErrnoException).code === "ENOENT" ? `${path}: no such file` : `${path}: cannot read (${(e as Error).message})`);
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const build = f.commandHas("build") ? f.oneOf("build", ["plain", "relaxed", "auto"] as const) : "plain";
  const threads = f.commandHas("threads") ? f.threads() : "auto";
  const { header } = await readingModel(path, () => decodeModel(bytes));
  const vae = await readingModel(path, () => VAE.load(bytes, { build, threads }));
  let run: Loaded["run"] = null;
  try { run = JSON.parse(await readFile(join(dirname(path), "metrics.json"), "utf8")); } catch { /* not in a run folder */ }
  return { vae, path, header, bytes: bytes.length, run };
}

/** The test split, checked against the model, as train saw it: the run's
 *  own (its data spec in metrics.json) when no data flag is given (so its
 *  --limit-test too, unless given here); a model whose run trained on binarized data (--binarize, in its folder's
 *  metrics.json) gets its test images binarized once with seed 0, as train
 *  and its figures do; --binarize-seed N picks the seed (or binarizes for any
 *  Bernoulli model), --binarize-seed none keeps the grey values. */
async function testData(f: Flags, l: Loaded): Promise<Dataset> {
  const c = l.vae.config;
  const ran = l.run?.settings?.data;
  let data: Dataset;
  if (ran && !SOURCE_FLAGS.some((k) => f.given(k))) {
    // no data flags: the run's own test split (metrics.json), held out again when it was
    const spec: DataSpec = { ...ran, limitTrain: null, limitTest: f.given("limit-test") ? f.optInt("limit-test", 1) : ran.limitTest };
    data = await loadData(spec, !(spec.kind === "mnist" || spec.testImages || spec.test));
    data.description += " (the run's data, from its metrics.json)";
  } else {
    const spec = dataSpecFromFlags(f, false);
    const heldOut = spec.kind === "images" ? imageSpec(spec, l) : null;
    data = heldOut ? await loadData(heldOut, true) : await loadData(spec, false);
  }
  data.train = null;   // a held-out split's training rows are not used
  if (data.dim !== c.inputDim) {
    const hint = f.str("data") === "images" && data.shape ? ` (its images are ${data.shape.join("×")}: give the model's --size <h>x<w> and --channels)` : "";
    throw new DataError(`the test data has ${data.dim} values per row, the model expects ${c.inputDim}${hint}`);
  }
  if (c.likelihood === "bernoulli") checkUnitRange(data);
  if (c.conditionDim > 0) classCount(data, "this conditional model");
  const runBinarized = l.run?.settings?.binarize !== undefined && l.run.settings.binarize !== "none";
  const seed = f.given("binarize-seed") ? f.optInt("binarize-seed", 0, 2 ** 53 - 1) : runBinarized ? TEST_BINARIZE_SEED : null;
  if (seed !== null) {
    if (c.likelihood !== "bernoulli") throw new UsageError(`--binarize-seed applies to models with the bernoulli likelihood; this one's is ${c.likelihood}`);
    binarizeTest(data, seed);
  }
  return data;
}

/** The flags that name a data source or how to read it: given none, the
 *  model commands read the test split of the model's run (its metrics.json). */
const SOURCE_FLAGS = ["data", "test-images", "test-labels", "test", "label-column", "header", "scale", "image-shape", "size", "channels", "skip-bad"];

/** --data images for a model: the size and channels default to the model's
 *  images (its run folder's metrics.json, or a 3-d inputShape), and the
 *  folder the model's run trained on gives the same held-out test split as
 *  train took, skipping the files it skipped (returned as a spec to load
 *  with its training part; null otherwise). */
function imageSpec(spec: DataSpec, l: Loaded): DataSpec | null {
  const shape = l.run?.data?.shape ?? (l.vae.config.inputShape.length === 3 ? l.vae.config.inputShape as [number, number, number] : null);
  if (shape && shape[0] * shape[1] * shape[2] === l.vae.config.inputDim) {
    spec.size ??= [shape[0], shape[1]];
    spec.channels ??= shape[2] as 1 | 3;
  }
  const ran = l.run?.settings?.data;
  if (!ran || ran.kind !== "images" || ran.test || !ran.train || !spec.test || resolve(ran.train) !== resolve(spec.test)) return null;
  // the split is taken after the files that do not decode are skipped: skip them as the run did
  return { ...spec, train: spec.test, test: undefined, testFraction: ran.testFraction, limitTrain: null,
    skipBad: spec.skipBad || (ran.skipBad ?? false) };
}

/** "test images: MNIST test set, binarized once with seed 0 (x ~ Bernoulli(pixel))". */
function testLine(data: Dataset): string {
  return `test images: ${data.testSource}${binarizedNote(data)}`;
}

function imageShape(f: Flags, l: Loaded, data: Dataset | null): [number, number] {
  const D = l.vae.config.inputDim;
  if (f.commandHas("image-shape") && f.given("image-shape")) {
    const m = /^(\d+)[x×,](\d+)$/.exec(f.str("image-shape")!.trim());
    if (!m || Number(m[1]) * Number(m[2]) !== D) throw new UsageError(`--image-shape: expected <height>x<width> with height·width = ${D}, got ${JSON.stringify(f.str("image-shape"))}`);
    return [Number(m[1]), Number(m[2])];
  }
  const s = data?.imageShape ?? l.run?.data?.imageShape;
  if (s && s[0] * s[1] * channelsOf(l, data) === D) return s;
  const q = Math.round(Math.sqrt(D));
  if (q * q === D) return [q, q];
  throw new UsageError(`rows of ${D} values are not square images: give --image-shape <h>x<w>`);
}

/** Channels of the model's images: 3 for colour (--data images), else 1. */
function channelsOf(l: Loaded, data: Dataset | null): number {
  return data?.shape?.[2] ?? l.run?.data?.shape?.[2] ?? 1;
}

function context(f: Flags, l: Loaded, data: Dataset | null): FigureContext {
  const shape = imageShape(f, l, data);
  const range = l.vae.config.likelihood === "bernoulli" ? [0, 1] as [number, number] : (l.run?.data?.range ?? displayRange(data?.test ?? null));
  const empty: Dataset = { train: null, test: { x: new Float32Array(0), labels: null, n: 0 }, dim: l.vae.config.inputDim, imageShape: shape, description: "", testSource: "" };
  return { vae: l.vae, data: data ?? empty, classes: l.vae.config.conditionDim, shape, range, channels: channelsOf(l, data) };
}

/** Renders a grid figure (scale 1: the tiles are at their pixel size) and writes the PNG. */
async function writePng(path: string, g: GridFigure, log: Log, what: string): Promise<void> {
  const r = await renderChart(gridFigureSpec(g), 1);
  await writeOutput(path, r.png);
  log(`wrote ${path} (${what}, ${r.width}×${r.height})`);
}

export async function evalCommand(f: Flags, log: Log): Promise<number> {
  const l = await loadModel(f);
  const data = await testData(f, l);
  const K = f.int("iwae-samples", 1, 1 << 20);
  const M = Math.min(f.int("iwae-images", 1), data.test.n);
  const C = l.vae.config.conditionDim;
  const cond = C > 0 ? oneHot(data.test.labels!, C, "test labels") : undefined;
  const r = l.vae.elbo(data.test.x, { condition: cond });
  let loss = 0, rec = 0, kl = 0;
  for (let i = 0; i < data.test.n; i++) { loss -= r.elbo[i] / data.test.n; rec += r.reconstruction[i] / data.test.n; kl += r.kl[i] / data.test.n; }
  const t0 = performance.now();
  const ll = l.vae.logLikelihood(data.test.x.subarray(0, M * data.dim), { samples: K, condition: cond?.subarray(0, M * C) });
  let mean = 0;
  for (const v of ll) mean += v / ll.length;
  log(`model ${l.path} (${l.vae.build} build), data: ${data.description}, test: ${data.testSource}${binarizedNote(data)}`);
  log(`test −ELBO ${fmt(loss)} nats per image (reconstruction ${fmt(rec)} + KL ${fmt(kl)}) on ${data.test.n} images`);
  log(`test log p(x) ≈ ${fmt(mean)} nats (IWAE, k = ${K}, first ${M} images, ${fmt((performance.now() - t0) / 1000, 1)} s; −log p(x) ${fmt(-mean)}${discreteNote(l.vae.config)})`);
  return 0;
}

export async function sampleCommand(f: Flags, log: Log): Promise<number> {
  const l = await loadModel(f);
  const n = f.int("n", 1, 1 << 16), cols = f.int("cols", 1, 1 << 10);
  const C = l.vae.config.conditionDim;
  const label = f.optInt("label", 0, 255);
  if (label !== null && C === 0) throw new UsageError("--label applies to conditional models; this one has no condition");
  if (label !== null && label >= C) throw new UsageError(`--label: expected a class in [0, ${C - 1}], got ${label}`);
  const temperature = f.num("temperature", { min: 0 });
  if (temperature !== 1 && l.vae.config.latent.type === "categorical") {
    throw new UsageError(`--temperature applies to a Gaussian latent; this model's is categorical (codes from the uniform prior are one-hot, with no scale to temper), got ${temperature}`);
  }
  const ctx = context(f, l, null);
  const g = await samplesFigure(ctx, { n, cols, temperature, seed: f.int("seed", 0, 2 ** 32 - 1), label: label ?? undefined });
  await writePng(f.str("out")!, g, log, `${n} samples`);
  return 0;
}

export async function reconstructCommand(f: Flags, log: Log): Promise<number> {
  const l = await loadModel(f);
  const data = await testData(f, l);
  const n = f.int("n", 1, 1 << 12);
  const g = await reconstructionsFigure(context(f, l, data), { n, cols: Math.min(16, n) });
  await writePng(f.str("out")!, g, log, `${Math.min(n, data.test.n)} test images above their reconstructions`);
  log(testLine(data));
  return 0;
}

export async function imputeCommand(f: Flags, log: Log): Promise<number> {
  const l = await loadModel(f);
  const data = await testData(f, l);
  const n = f.int("n", 1, 1 << 12), iterations = f.int("iterations", 1, 1 << 16), samples = f.int("samples", 1, 1 << 20);
  const mask = f.oneOf("mask", ["bottom", "top", "left", "right"] as const);
  const method = f.oneOf("method", IMPUTE_METHODS);
  const ctx = context(f, l, data);
  const g = await imputationFigure(ctx, { n, cols: Math.min(16, n), iterations, samples, method, mask });
  await writePng(f.str("out")!, g, log, `originals, hidden half, ${method} completion`);
  const e = imputationError(ctx, { n, iterations, samples, mask });
  for (const line of imputationLines(e)) log(line);
  return 0;
}

export async function infoCommand(f: Flags, log: Log): Promise<number> {
  const l = await loadModel(f);
  const c = l.vae.config, h = l.header;
  const info = {
    file: l.path, bytes: l.bytes, formatVersion: h.version, config: c,
    architecture: `${[c.inputDim + c.conditionDim, ...c.encoder.map(entryLabel), c.latent.type === "gaussian" ? `${c.latentDim}×2` : `${c.latentDim}` /* issue 18: a categorical head is N·K logits */].join("-")} | ${[c.latentDim + c.conditionDim, ...c.decoder.map(entryLabel), c.likelihood === "gaussian_learned" ? `${c.inputDim}×2` : c.inputDim].join("-")}`,
    parameters: l.vae.parameterCount,
    parameterShapes: l.vae.parameterShapes(),
    savedBuild: h.build, build: l.vae.build,
    steps: h.steps, epochs: h.epochs,
    optimizer: h.optimizer,
    resumable: h.optimizer !== null && h.rng !== null,
    run: l.run ? { status: l.run.status, testNegElbo: l.run.final?.test?.loss, iwae: l.run.final?.iwae, binarize: l.run.settings?.binarize ?? "none" } : null,
  };
  if (f.bool("json")) { log(JSON.stringify(info, null, 2)); return 0; }
  log(`${l.path}: wasm-vae model, format version ${h.version}, ${l.bytes.toLocaleString("en-US")} bytes`);
  log(`architecture: encoder ${info.architecture.split(" | ")[0]}, decoder ${info.architecture.split(" | ")[1]}`);
  // the objective, prior, latent family and stochastic layers (the line above shows the first level only)
  log(`  network ${networkText(c)}; trained on the ${objectiveText(c)}${choicesText(c)}`);
  log(`  activation ${c.activation}${c.activation === "leaky_relu" || c.activation === "elu" ? ` (α ${c.activationAlpha})` : ""}, likelihood ${c.likelihood}${c.likelihood === "gaussian" ? ` (σ ${c.sigma})` : ""}, β ${c.beta}` +
    `${c.conditionDim ? `, conditional on ${c.conditionDim} classes` : ""}, init ${c.init}, seed ${c.seed}`);
  log(`parameters: ${l.vae.parameterCount.toLocaleString("en-US")}`);
  for (const [k, s] of Object.entries(info.parameterShapes)) log(`  ${k.padEnd(18)} ${s.join("×")}`);
  log(`build: saved by ${h.build}, running on ${l.vae.build}`);
  log(`training: ${h.steps} steps, ${h.epochs} epochs` + (h.optimizer ? `; Adam lr ${h.optimizer.lr ?? "schedule"}, step ${h.optimizer.step}${h.optimizer.weightDecay ? `, weight decay ${h.optimizer.weightDecay}` : ""}${h.optimizer.clipNorm ? `, clip ${h.optimizer.clipNorm}` : ""}` : "; no optimizer state (weights only)"));
  log(`resumable: ${info.resumable ? "yes (Adam moments, RNG states and counters included)" : "no"}`);
  const bin = l.run?.settings?.binarize;
  if (l.run?.final?.test) log(`run: status ${l.run.status}, test −ELBO ${fmt(l.run.final.test.loss)}` + (l.run.final.iwae ? `, IWAE log p(x) ${fmt(l.run.final.iwae.logLikelihood)} (k = ${l.run.final.iwae.samples}, ${l.run.final.iwae.images} images)` : "") +
    (bin && bin !== "none" ? `; trained with --binarize ${bin}, test images binarized once with seed ${TEST_BINARIZE_SEED}` : ""));
  return 0;
}
