// `wasm-vae train`: flags → settings → data (checked) → model → run folder
// → fit with live progress and a checkpoint per epoch → model file, test
// figures (−ELBO, IWAE log-likelihood) and PNG figures → summary.
//
// Run folder runs/<name>/:
//   checkpoint.wvae  model + Adam moments + RNG states + counters, written
//                    atomically at the end of every epoch, after metrics.json
//                    (--resume reads it and trims the metrics to it)
//   metrics.json     settings, data, build, per-epoch train/test −ELBO and
//                    times, per-batch train loss, final figures, status
//   model.wvae       the trained model (written once training finished; a
//                    --resume of a run killed before this write, or during
//                    the figures, writes it from the checkpoint and finishes)
//   loss, terms, schedule, latent, imputation-error (.png and .svg),
//   samples.png reconstructions.png interpolation.png imputation.png
//   [manifold.png when the latent is 2-d] (run-figures.ts)
//   report-data.json, report.html  the run's report (report.ts)
// Nothing is created before the flags and the data have been checked. If
// training then fails, the folder keeps error.log, plus metrics.json (status
// "failed") and checkpoint.wvae when at least one epoch had finished.
// Ctrl-C stops after the current batch and writes the checkpoint there: the
// model file carries the interrupted epoch's cursor (shuffle state and batch
// position), so --resume continues bit-identically from that batch.
import type { Stats } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { ACTIVATIONS, Adam, ArgumentError, INIT_SCHEMES, LIKELIHOODS, VAE, type Likelihood, type ResolvedConfig, type VAEConfig } from "wasm-vae";
import { decodeModel } from "wasm-vae/kernels";
import { choicesText, discreteNote, networkText, objectiveText } from "./describe.js";
import { Flags, UsageError } from "./args.js";
import { ARCHS, IWAE2_LATENTS, presetLayers, type Arch } from "./presets.js";
import { binarizeTest, checkUnitRange, classCount, dataSpecFromFlags, DataError, displayRange, loadData, oneHot, type Dataset, type DataSpec } from "./data.js";
import { imputationLines, type EpochRecord, type imputationError } from "./figures.js";
import { describeFsError, FileError, isFsError, makeFolder, readingModel, removeStaleTemporaries, writeOutput } from "./files.js";
import { fmt, Progress } from "./progress.js";
import { chartModules } from "./chart-render.js";
import { LATENT_VIEWS, type LatentViewChoice } from "./latent-view.js";
import { writeRunFigures, writeRunReport } from "./run-figures.js";
import { pngModule } from "./tiles.js";

export interface Settings {
  config: ResolvedConfig;
  /** --arch: the MLP of --encoder/--decoder, or a convolutional preset. */
  arch: Arch;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  clipNorm: number | null;
  klWarmup: number;
  build: "plain" | "relaxed" | "auto";
  conditional: boolean;
  small: boolean;
  iwaeSamples: number;
  iwaeImages: number;
  data: DataSpec;
  /** --latent-view: UMAP beside PCA, or PCA alone, for latents above 2-d (absent in older runs: umap). */
  latentView?: LatentViewChoice;
  /** --impute-images (absent in runs from before it: 100). */
  imputeImages?: number;
  /** --binarize (absent in runs from before it: "none"). */
  binarize?: "none" | "dynamic" | "static";
  /** --output-bias (absent in runs from before it: "zero"). */
  outputBias?: "zero" | "data_mean";
}

/** The seed the test images of a --binarize run are binarized with, once (train and eval). */
export const TEST_BINARIZE_SEED = 0;

export interface EpochMetrics extends EpochRecord {
  beta: number;
  /** Training time of the epoch (fit's measure). */
  seconds: number;
  /** Including the test −ELBO (not the checkpoint's write, which follows the metrics'). */
  wallSeconds: number;
  samplesPerSecond: number;
}

export interface RunMetrics {
  format: "wasm-vae-run";
  version: 1;
  status: "running" | "interrupted" | "complete" | "failed";
  name: string;
  created: string;
  updated: string;
  commands: string[];
  settings: Settings;
  data: { description: string; train: number; test: number; testSource: string; dim: number; imageShape: [number, number] | null; classes: number; range: [number, number];
    /** (h, w, c) of one image (NHWC rows; c = 3 for colour), and the names of the labels (--data images). */
    shape?: [number, number, number] | null; classNames?: string[] | null };
  build: string;
  /** Threads the kernels ran on (results are the same for any count). */
  threads?: number;
  parameters: number;
  batchesPerEpoch: number;
  epochs: EpochMetrics[];
  /** Train loss (β-weighted −ELBO, batch mean) of every batch of the finished epochs. */
  batchLoss: number[];
  /** KL weight β of every batch of batchLoss. */
  batchBeta?: number[];
  final?: {
    test: { loss: number; reconstruction: number; kl: number; images: number };
    iwae: { logLikelihood: number; negLogLikelihood: number; images: number; samples: number; seconds: number };
    imputation: ReturnType<typeof imputationError>;
    trainingSeconds: number;
    secondsPerEpoch: number;
    latent: { points: number; projection: string };
  };
  files?: Record<string, { width: number; height: number } | { bytes: number }>;
  error?: string;
}

const RESUME_FLAGS = new Set(["resume", "epochs", "iwae-samples", "iwae-images", "impute-images", "build", "threads", "signal-after-batches", "kill-before-model-write", "latent-view"]);

class Interrupted extends Error {}

/** config.objective from --objective, --k and --gradient (absent: the ELBO default). */
function objectiveFromFlags(f: Flags): Pick<VAEConfig, "objective"> {
  const type = f.oneOf("objective", ["elbo", "iwae"] as const);
  if (type === "elbo") {
    for (const flag of ["k", "gradient"]) if (f.given(flag)) throw new UsageError(`--${flag} applies to --objective iwae, not elbo`);
    return {};
  }
  return { objective: { type, samples: f.int("k", 1, 4096), gradient: f.oneOf("gradient", ["iwae", "dreg"] as const) } };
}

/** config.prior from --prior and --components (absent: N(0, I)). [priors] */
function priorFromFlags(f: Flags): Pick<VAEConfig, "prior"> {
  const type = f.oneOf("prior", ["normal", "mixture", "vamp"] as const);
  if (type === "normal") {
    if (f.given("components")) throw new UsageError("--components applies to --prior mixture or vamp, not normal");
    return {};
  }
  if (type === "vamp" && f.bool("conditional")) throw new UsageError("--prior vamp cannot be combined with --conditional (the pseudo-inputs have no label)");
  return { prior: f.given("components") ? { type, components: f.int("components", 1, 16384) } : { type } };
}

/** config.latent from --categorical and --straight-through (absent: the
 *  Gaussian latent of --latent dimensions). */
function latentFromFlags(f: Flags, arch: Arch): Pick<VAEConfig, "latent"> {
  if (!f.given("categorical")) {
    if (f.bool("straight-through")) throw new UsageError("--straight-through applies to --categorical <n>x<k>");
    return {};
  }
  const text = f.str("categorical")!, m = /^(\d{1,7})x(\d{1,7})$/.exec(text);
  const variables = m ? Number(m[1]) : 0, classes = m ? Number(m[2]) : 0;
  if (variables < 1 || classes < 2 || variables * classes > 1 << 16) {
    throw new UsageError(`--categorical: expected <variables>x<classes>, variables ≥ 1, classes ≥ 2 and variables × classes ≤ 65536 (e.g. 20x10), got ${JSON.stringify(text)}`);
  }
  if (f.given("latent")) throw new UsageError("--latent sets the width of a Gaussian latent; with --categorical the code is variables × classes wide");
  if (arch === "iwae2") throw new UsageError("--categorical cannot be combined with --arch iwae2 (every stochastic layer is a diagonal Gaussian)");
  const prior = f.oneOf("prior", ["normal", "mixture", "vamp"] as const);
  if (prior !== "normal") throw new UsageError(`--categorical cannot be combined with --prior ${prior} (the categorical latent's prior is uniform over the classes)`);
  const iwae = f.oneOf("objective", ["elbo", "iwae"] as const) === "iwae";
  if (iwae && f.oneOf("gradient", ["iwae", "dreg"] as const) === "dreg") {
    throw new UsageError("--gradient dreg cannot be combined with --categorical (DReG's gradient through the concrete density is not implemented: --gradient iwae)");
  }
  const straightThrough = f.bool("straight-through");
  if (straightThrough && iwae && f.int("k", 1, 4096) > 1) {
    throw new UsageError("--straight-through cannot be combined with --objective iwae and --k > 1 (the importance weights need the relaxed sample's density)");
  }
  return { latent: { type: "categorical", variables, classes, straightThrough } };
}

/** Flag combinations the library refuses, refused here by the flags' names
 *  (the library's errors name config keys the user never typed). */
function refuseCombinations(f: Flags, arch: Arch): void {
  const dreg = f.oneOf("gradient", ["iwae", "dreg"] as const) === "dreg";
  const prior = f.oneOf("prior", ["normal", "mixture", "vamp"] as const);
  if (dreg && (prior === "mixture" || prior === "vamp")) {
    throw new UsageError(`--gradient dreg cannot be combined with --prior ${prior} (DReG weighs the encoder's path only; a learned prior's parameters need the plain IWAE gradient: --gradient iwae)`);
  }
  // a training step holds batch × k rows (batch + K with the VampPrior) in the arena, at most 65536
  const batch = f.int("batch-size", 1, 1 << 16);
  if (f.oneOf("objective", ["elbo", "iwae"] as const) === "iwae" && batch * f.int("k", 1, 4096) > 1 << 16) {
    throw new UsageError(`--batch-size ${batch} × --k ${f.int("k", 1, 4096)} is more than the 65536 rows a training step can hold (the decoder runs on batch × k rows): lower one of them`);
  }
  if (prior === "vamp" && f.given("components") && batch + f.int("components", 1, 16384) > 1 << 16) {
    throw new UsageError(`--batch-size ${batch} + --components ${f.int("components", 1, 16384)} is more than the 65536 rows a training step can hold (the encoder runs on the batch and the pseudo-inputs): lower one of them`);
  }
  if (arch !== "iwae2") return;
  if (dreg) throw new UsageError("--gradient dreg cannot be combined with --arch iwae2 (DReG is not implemented for two stochastic layers: --gradient iwae)");
  if (prior !== "normal") throw new UsageError(`--prior ${prior} cannot be combined with --arch iwae2 (the top level's prior is N(0, I))`);
  if (f.bool("conditional")) throw new UsageError("--conditional cannot be combined with --arch iwae2 (a conditional hierarchy is not supported)");
}

/** Settings from the flags of a new run (before the data is known). */
function settingsFromFlags(f: Flags): Omit<Settings, "config"> & { model: Omit<VAEConfig, "inputDim" | "likelihood"> & { likelihood: Likelihood } } {
  const likelihood = f.oneOf("likelihood", LIKELIHOODS);
  if (f.given("sigma") && likelihood !== "gaussian") throw new UsageError(`--sigma applies to --likelihood gaussian, not ${likelihood}`);
  const arch = f.oneOf("arch", ARCHS);
  for (const flag of ["encoder", "decoder"]) {
    if (arch !== "mlp" && f.given(flag)) throw new UsageError(`--${flag} sets the layers of --arch mlp; --arch ${arch} is a fixed preset`);
  }
  if (arch === "iwae2" && f.given("latent")) throw new UsageError("--latent sets the latent width of one stochastic layer; --arch iwae2 is a fixed preset (z₁ 100, z₂ 50)");
  refuseCombinations(f, arch);
  return {
    arch,
    model: {
      encoder: f.sizes("encoder")!,
      decoder: f.sizes("decoder"),
      latentDim: f.int("latent", 1, 1 << 16),
      activation: f.oneOf("activation", ACTIVATIONS),
      likelihood,
      sigma: f.num("sigma", { min: 0, minExclusive: true }),
      beta: f.num("beta", { min: 0 }),
      seed: f.int("seed", 0, 2 ** 53 - 1),
      init: f.oneOf("init", INIT_SCHEMES),
      ...objectiveFromFlags(f),
      ...priorFromFlags(f),
      ...latentFromFlags(f, arch),
    },
    epochs: f.int("epochs", 1, 1e6),
    batchSize: f.int("batch-size", 1, 1 << 16),
    lr: f.num("lr", { min: 0, minExclusive: true }),
    weightDecay: f.num("weight-decay", { min: 0 }),
    clipNorm: f.optNum("clip-norm", { min: 0, minExclusive: true }),
    klWarmup: f.num("kl-warmup", { min: 0 }),
    build: f.oneOf("build", ["plain", "relaxed", "auto"] as const),
    conditional: f.bool("conditional"),
    small: f.bool("small"),
    iwaeSamples: f.int("iwae-samples", 1, 1 << 20),
    iwaeImages: f.int("iwae-images", 1),
    data: dataSpecFromFlags(f, true),
    latentView: f.oneOf("latent-view", LATENT_VIEWS),
    binarize: f.oneOf("binarize", ["none", "dynamic", "static"] as const),
    outputBias: f.oneOf("output-bias", ["zero", "data_mean"] as const),
    imputeImages: f.int("impute-images", 1),
  };
}

/** The data's rows as (h, w, c) images for a convolutional --arch: h×w×c
 *  for --data images, else one channel of h×w (MNIST, IDX, .npy n×h×w, --image-shape). */
function imageShapeOf(data: Dataset, arch: Arch): [number, number, number] {
  if (data.shape && data.shape[0] * data.shape[1] * data.shape[2] === data.dim) return data.shape;
  const s = data.imageShape;
  if (!s || s[0] * s[1] !== data.dim) {
    throw new UsageError(`--arch ${arch} needs image rows: give --image-shape <h>x<w> (the data has ${data.dim} values per row)`);
  }
  return [s[0], s[1], 1];
}

/** A path relative to the working folder when it lies inside it, else absolute. */
function nice(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith("..") ? r : path;
}

function timestampName(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** --out must be a folder or not exist yet (checked before the data is loaded). */
async function checkOutFolder(out: string): Promise<void> {
  const st: Stats | Error = await stat(out).catch((e: Error) => e);
  if (st instanceof Error) {
    if (isFsError(st) && st.code !== "ENOENT") throw new FileError(`--out ${describeFsError(st, out, "create the folder")}`);
  } else if (!st.isDirectory()) {
    throw new FileError(`--out ${out}: cannot create the folder: exists and is not a folder`);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Whether the file at `path` holds exactly `bytes` (false when it is missing). */
async function sameFile(path: string, bytes: Uint8Array): Promise<boolean> {
  const b = await readFile(path).catch(() => null);
  return b !== null && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(b);
}

/** Creates a fresh run folder: `name` exactly when given, else a timestamp
 *  with -2, -3, … appended until the name is free (mkdir is the lock). */
async function createRunDir(out: string, name: string | undefined): Promise<string> {
  await makeFolder(out);
  for (let i = 1; ; i++) {
    const n = name ?? (i === 1 ? timestampName() : `${timestampName()}-${i}`);
    const dir = join(out, n);
    try {
      await mkdir(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw isFsError(e) ? new FileError(describeFsError(e, dir, "create the folder")) : e;
      if (name !== undefined) throw new UsageError(`run folder ${dir} already exists (continue it with --resume ${dir}, or pick another --name)`);
    }
  }
}

function stringifyMetrics(m: RunMetrics): string {
  // one line for the long per-batch array, indented JSON for the rest
  const { batchLoss, batchBeta, ...rest } = m;
  const text = JSON.stringify({ ...rest, batchLoss: "@@BATCH@@", ...(batchBeta ? { batchBeta: "@@BETA@@" } : {}) }, null, 2);
  return text.replace('"@@BATCH@@"', JSON.stringify(batchLoss)).replace('"@@BETA@@"', JSON.stringify(batchBeta)) + "\n";
}

export async function train(f: Flags, argv: string[], log: (s: string) => void = (s) => process.stdout.write(s + "\n")): Promise<number> {
  // ---------------------------------------------------------------- settings
  let settings: Settings;
  let dir: string | null = null;
  let metrics: RunMetrics | null = null;
  let checkpointBytes: Uint8Array | null = null;
  /** --resume of a run whose checkpoint has all its epochs: model.wvae, the figures and the report only. */
  let finishOnly = false;
  let partial: ReturnType<typeof settingsFromFlags> | null = null;
  const resume = f.given("resume");
  if (resume) {
    const extra = Object.keys(f.values).filter((k) => f.values[k] !== undefined && !RESUME_FLAGS.has(k));
    if (extra.length > 0) {
      throw new UsageError(`--resume continues a run with its own settings; ${extra.map((k) => `--${k}`).join(", ")} cannot be changed (only --epochs, --iwae-samples, --iwae-images, --impute-images, --build, --threads, --latent-view)`);
    }
    dir = resolve(f.str("resume")!);
    const mp = join(dir, "metrics.json"), cp = join(dir, "checkpoint.wvae");
    if (!(await exists(mp)) || !(await exists(cp))) throw new DataError(`${dir}: not a resumable run folder (it needs metrics.json and checkpoint.wvae)`);
    try {
      metrics = JSON.parse(await readFile(mp, "utf8")) as RunMetrics;
    } catch (e) {
      throw new DataError(`${mp}: cannot parse (${(e as Error).message})`);
    }
    if (metrics.format !== "wasm-vae-run" || !metrics.settings) throw new DataError(`${mp}: not a wasm-vae run's metrics`);
    settings = metrics.settings;
    checkpointBytes = new Uint8Array(await readFile(cp));
    // a process killed while writing the checkpoint or metrics left its temporary
    const stale = await removeStaleTemporaries(dir);
    if (stale.length > 0) log(`removed ${stale.length} temporary file(s) left by a killed run: ${stale.join(", ")}`);
    if (f.given("epochs")) settings.epochs = f.int("epochs", 1, 1e6);
    if (f.given("iwae-samples")) settings.iwaeSamples = f.int("iwae-samples", 1, 1 << 20);
    if (f.given("iwae-images")) settings.iwaeImages = f.int("iwae-images", 1);
    if (f.given("latent-view")) settings.latentView = f.oneOf("latent-view", LATENT_VIEWS);
    if (f.given("impute-images")) settings.imputeImages = f.int("impute-images", 1);
    if (f.given("build")) {
      const b = f.oneOf("build", ["plain", "relaxed", "auto"] as const);
      if (b !== settings.build) log(`note: --build ${b} differs from the run's --build ${settings.build}; the resumed run may not match an uninterrupted one bit for bit`);
      settings.build = b;
    }
  } else {
    partial = settingsFromFlags(f);
    if (f.given("name")) {
      const name = f.str("name")!;
      if (!/^[\w.-]+$/.test(name) || name === "." || name === "..") throw new UsageError(`--name: use letters, digits, '.', '-', '_' (got ${JSON.stringify(name)})`);
      const d = join(resolve(f.str("out")!), name);
      if (await exists(d)) throw new UsageError(`run folder ${d} already exists (continue it with --resume ${d}, or pick another --name)`);
    }
    await checkOutFolder(resolve(f.str("out")!));
    settings = null as unknown as Settings;
  }
  const sigAfter = f.optInt("signal-after-batches", 1);
  await chartModules(); await pngModule(); // the figures need them: fail now rather than after training

  // -------------------------------------------------------- data and model
  const spec = resume ? settings.data : partial!.data;
  const data = await loadData(spec, true);
  const train = data.train!;
  let vae: VAE;
  let classes = 0;
  if (resume) {
    const cp = join(dir!, "checkpoint.wvae");
    const { header } = await readingModel(cp, () => decodeModel(checkpointBytes!)); // names the file and the problem
    vae = await readingModel(cp, () => VAE.load(checkpointBytes!, { build: settings.build, threads: f.threads() }));
    if (vae.build !== header.build) log(`note: the checkpoint was written by the ${header.build} build, this run uses ${vae.build}`);
    if (vae.config.inputDim !== data.dim) throw new DataError(`the data has ${data.dim} values per row, the checkpoint's model expects ${vae.config.inputDim}`);
    classes = vae.config.conditionDim;
    if (classes > 0) classCount(data);
    // training finished but the run did not (killed between the last checkpoint and
    // model.wvae, or during the figures): finish it from the checkpoint, without training
    finishOnly = settings.epochs === vae.epochs && !vae.epochCursor && (metrics!.status !== "complete" || !(await sameFile(join(dir!, "model.wvae"), checkpointBytes!)));
    if (settings.epochs <= vae.epochs && !finishOnly) {
      throw new UsageError(`run ${dir} already has ${vae.epochs} epoch(s)${metrics!.status === "complete" ? " and is complete" : ""}; pass --epochs N with N > ${vae.epochs} to train further`);
    }
  } else {
    if (partial!.conditional) classes = classCount(data);
    try {
      const arch = partial!.arch;
      const layers = arch === "mlp" ? { inputDim: data.dim }
        : arch === "iwae2" ? { inputDim: data.dim, latents: IWAE2_LATENTS }
        : presetLayers(arch, imageShapeOf(data, arch), partial!.model.likelihood);
      // with stochastic layers, config.latents replaces encoder / latentDim / decoder
      const { encoder, decoder, latentDim, ...rest } = partial!.model;
      // a categorical latent's width is variables × classes: no latentDim
      const model = arch === "iwae2" ? rest : rest.latent?.type === "categorical" ? { ...rest, encoder, decoder } : { ...rest, encoder, decoder, latentDim };
      vae = await VAE.create({ ...model, ...layers, conditionDim: classes, maxBatch: partial!.batchSize }, { build: partial!.build, threads: f.threads() });
      vae.optimizer = new Adam({ lr: partial!.lr, weightDecay: partial!.weightDecay, clipNorm: partial!.clipNorm ?? undefined });
    } catch (e) {
      if (e instanceof ArgumentError) throw new UsageError(e.message);
      throw e;
    }
    const { model, ...rest } = partial!;
    void model;
    settings = { ...rest, config: { ...vae.config } as ResolvedConfig };
  }
  if (vae.config.likelihood === "bernoulli") checkUnitRange(data);
  // a new run's output bias at the training data's mean (Burda et al.'s init); a resumed run has its weights
  if (!resume && settings.outputBias === "data_mean") vae.initOutputBias(train.x);
  const bin = settings.binarize ?? "none";
  if (bin !== "none") {
    if (vae.config.likelihood !== "bernoulli") throw new UsageError(`--binarize ${bin} needs --likelihood bernoulli (binarized data is 0/1), not ${vae.config.likelihood}`);
    binarizeTest(data, TEST_BINARIZE_SEED);
  }
  const trainCond = classes > 0 ? oneHot(train.labels!, classes, "training labels") : undefined;
  const testCond = classes > 0 ? oneHot(data.test.labels!, classes, "test labels") : undefined;
  const batchesPerEpoch = Math.ceil(train.n / settings.batchSize);

  // -------------------------------------------------------------- run folder
  const now = () => new Date().toISOString();
  const command = ["wasm-vae train", ...argv].join(" ");
  if (!resume) {
    dir = await createRunDir(resolve(f.str("out")!), f.given("name") ? f.str("name") : undefined);
    metrics = {
      format: "wasm-vae-run", version: 1, status: "running", name: basename(dir),
      created: now(), updated: now(), commands: [command], settings,
      data: { description: data.description, train: train.n, test: data.test.n, testSource: data.testSource, dim: data.dim, imageShape: data.imageShape, classes, range: displayRange(train), shape: data.shape ?? null, classNames: data.classNames ?? null },
      build: vae.build, threads: vae.threads, parameters: vae.parameterCount, batchesPerEpoch, epochs: [], batchLoss: [], batchBeta: [],
    };
  } else {
    const m = metrics!;
    m.commands.push(command);
    m.status = "running";
    m.build = vae.build;
    m.epochs = m.epochs.filter((e) => e.epoch <= vae.epochs);
    m.batchLoss = m.batchLoss.slice(0, vae.epochs * batchesPerEpoch + (vae.epochCursor?.batch ?? 0));
    if (m.batchBeta) m.batchBeta = m.batchBeta.slice(0, m.batchLoss.length);
    delete m.final; delete m.error;
  }
  const runDir = dir!;
  const m = metrics!;
  const shown = nice(runDir);
  const ckpt = join(runDir, "checkpoint.wvae");
  const writeMetrics = () => { m.updated = now(); return writeOutput(join(runDir, "metrics.json"), stringifyMetrics(m)); };
  let epochsDone = vae.epochs;

  // ---------------------------------------------------------------- training
  const ac = new AbortController();
  let interrupts = 0;
  let training = true;
  const progress = new Progress(process.stdout, (settings.epochs - vae.epochs) * batchesPerEpoch, settings.epochs);
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write("\nsecond Ctrl-C: exiting now (the checkpoint of the last finished epoch is kept)\n");
      process.exit(130);
    }
    ac.abort();
    progress.line(training ? "Ctrl-C: stopping after this batch (press again to exit at once)"
      : "Ctrl-C: training is done and model.wvae is written; stopping before the next figure (press again to exit at once)");
  };
  process.on("SIGINT", onSigint);
  const check = () => { if (ac.signal.aborted) throw new Interrupted(); };
  try {
    const c = vae.config;
    log(`${resume ? "resuming" : "run"} ${shown}: ${networkText(c)} ${c.activation}, ${c.likelihood}` +
      `${classes ? `, conditional on ${classes} classes` : ""}, β ${c.beta}, ${vae.parameterCount.toLocaleString("en-US")} parameters, ${vae.build} build, ${vae.threads} thread${vae.threads === 1 ? "" : "s"}${vae.threadsNote ? ` (${vae.threadsNote})` : ""}`);
    log(`data: ${data.description}: ${train.n} train, ${data.test.n} test (${data.testSource})` +
      (bin === "dynamic" ? `; binarized: training x ~ Bernoulli(pixel) drawn afresh every batch, test images once with seed ${TEST_BINARIZE_SEED}`
        : bin === "static" ? `; binarized once: training with seed ${vae.config.seed}, test images with seed ${TEST_BINARIZE_SEED}` : ""));
    log(`training: ${objectiveText(c)}${choicesText(c)}, epochs ${vae.epochs + 1}..${settings.epochs}, batch ${settings.batchSize}, Adam lr ${settings.lr}` +
      `${settings.weightDecay ? `, weight decay ${settings.weightDecay}` : ""}${settings.clipNorm ? `, clip ${settings.clipNorm}` : ""}${settings.klWarmup ? `, KL warm-up ${settings.klWarmup} epochs` : ""}`);
    let epochLosses: number[] = [], epochBetas: number[] = [];
    let batchesSeen = 0;
    let lastBeta = c.beta;
    let epochStart = performance.now();
    if (finishOnly) log(`training had finished (${vae.epochs} of ${settings.epochs} epochs in ${nice(ckpt)}); writing model.wvae from the checkpoint, then the figures and the report`);
    const history = finishOnly ? { aborted: false } : await vae.fit(train.x, {
      epochs: settings.epochs - vae.epochs,
      batchSize: settings.batchSize,
      condition: trainCond,
      klWarmupEpochs: settings.klWarmup > 0 ? settings.klWarmup : undefined,
      binarize: bin === "none" ? undefined : bin,
      validation: { x: data.test.x, condition: testCond },
      signal: ac.signal,
      onBatch: (b) => {
        epochLosses.push(Math.round(b.loss * 1e4) / 1e4);
        epochBetas.push(b.beta);
        lastBeta = b.beta;
        progress.batch(b);
        if (sigAfter !== null && ++batchesSeen === sigAfter) process.kill(process.pid, "SIGINT");
      },
      onEpoch: async (e) => {
        const rec: EpochMetrics = {
          epoch: e.epoch,
          train: { loss: e.loss, reconstruction: e.reconstruction, kl: e.kl },
          test: e.validation!,
          beta: lastBeta, seconds: e.seconds, wallSeconds: 0, samplesPerSecond: e.samplesPerSecond,
        };
        m.epochs.push(rec);
        m.batchLoss.push(...epochLosses);
        m.batchBeta?.push(...epochBetas);
        epochLosses = []; epochBetas = [];
        rec.wallSeconds = (performance.now() - epochStart) / 1000;
        // metrics.json before the checkpoint: a process killed between the two leaves the
        // metrics an epoch ahead, which --resume trims to the checkpoint's epochs (behind,
        // the epoch's record and batch losses would be lost)
        await writeMetrics();
        await writeOutput(ckpt, vae.save({ optimizer: true }));
        epochsDone = e.epoch;
        epochStart = performance.now();
        const kl = lastBeta === 1 ? "KL" : `${fmt(lastBeta)}·KL`;
        // an IWAE step's loss is −L_k, not rec + KL (those are means over the k samples)
        const iw = c.objective.type === "iwae" && (c.objective as { samples: number }).samples > 1 ? (c.objective as { samples: number }).samples : 0;
        const trainTerms = iw ? `${fmt(e.loss)} (per sample: rec ${fmt(e.reconstruction)}, ${kl} ${fmt(e.kl)})` : `${fmt(e.loss)} (rec ${fmt(e.reconstruction)} + ${kl} ${fmt(e.kl)})`;
        progress.line(`epoch ${e.epoch}/${settings.epochs}  train ${settings.klWarmup > 0 ? "loss" : iw ? `−L_${iw}` : "−ELBO"} ${trainTerms}  ` +
          `test −ELBO ${fmt(e.validation!.loss)} (rec ${fmt(e.validation!.reconstruction)} + KL ${fmt(e.validation!.kl)})  ` +
          `${fmt(e.seconds, 1)} s  ${Math.round(e.samplesPerSecond).toLocaleString("en-US")} samples/s`);
      },
    });
    progress.clear();
    training = false;
    if (history.aborted) {
      m.batchLoss.push(...epochLosses);
      m.batchBeta?.push(...epochBetas);
      await writeOutput(ckpt, vae.save({ optimizer: true }));
      m.status = "interrupted";
      await writeMetrics();
      const part = vae.epochCursor && vae.epochCursor.batch > 0 ? ` and ${vae.epochCursor.batch} of ${batchesPerEpoch} batches of epoch ${vae.epochs + 1}` : "";
      log(`interrupted: ${vae.epochs} of ${settings.epochs} epoch(s)${part} done.`);
      log(`checkpoint: ${nice(ckpt)} (training resumes from exactly this batch)`);
      log(`resume with: wasm-vae train --resume ${shown}` + (f.given("epochs") && resume ? ` --epochs ${settings.epochs}` : ""));
      return 130;
    }

    // -------------------------------------------------- model and figures
    const modelPath = join(runDir, "model.wvae");
    const modelBytes = vae.save({ optimizer: true });
    if (f.bool("kill-before-model-write")) process.kill(process.pid, "SIGKILL");
    // the checkpoint holds the same state: a process killed before this write leaves
    // model.wvae missing or older, and --resume finishes the run from the checkpoint
    await writeOutput(modelPath, modelBytes);
    const files: NonNullable<RunMetrics["files"]> = { "model.wvae": { bytes: modelBytes.length }, "checkpoint.wvae": { bytes: modelBytes.length } };
    const last = m.epochs[m.epochs.length - 1];
    check();
    const nIw = Math.min(settings.iwaeImages, data.test.n);
    log(`estimating log p(x) on the first ${nIw} test images with k = ${settings.iwaeSamples} importance samples…`);
    const t0 = performance.now();
    const ll = vae.logLikelihood(data.test.x.subarray(0, nIw * data.dim), { samples: settings.iwaeSamples, condition: testCond?.subarray(0, nIw * classes) });
    let llMean = 0;
    for (const v of ll) llMean += v / ll.length;
    const iwaeSeconds = (performance.now() - t0) / 1000;
    check();

    const figures = await writeRunFigures({ runDir, vae, data, classes, range: m.data.range, metrics: m, latentView: settings.latentView ?? "umap", imputeImages: settings.imputeImages ?? 100, check, log });
    Object.assign(files, figures.files);
    const imputation = figures.imputation;
    const secondsPerEpoch = m.epochs.reduce((a, e) => a + e.seconds, 0) / m.epochs.length;
    m.final = {
      test: { ...last.test, images: data.test.n },
      iwae: { logLikelihood: llMean, negLogLikelihood: -llMean, images: nIw, samples: settings.iwaeSamples, seconds: iwaeSeconds },
      imputation,
      trainingSeconds: m.epochs.reduce((a, e) => a + e.seconds, 0),
      secondsPerEpoch,
      latent: figures.latent,
    };
    m.files = files;
    m.status = "complete";
    await writeMetrics();
    check();
    await writeRunReport(runDir, files);
    await writeMetrics();

    log("");
    log(`done: ${m.epochs.length} epoch${m.epochs.length === 1 ? "" : "s"}, ${fmt(m.final.trainingSeconds, 1)} s of training (${fmt(secondsPerEpoch, 1)} s per epoch), ${vae.build} build`);
    const binNote = bin === "none" ? "" : ` (binarized once with seed ${TEST_BINARIZE_SEED})`;
    log(`test −ELBO ${fmt(last.test.loss)} nats per image (reconstruction ${fmt(last.test.reconstruction)} + KL ${fmt(last.test.kl)}) on ${data.test.n} test images${binNote}`);
    log(`test log p(x) ≈ ${fmt(llMean)} nats (IWAE, k = ${settings.iwaeSamples}, first ${nIw} test images${binNote}; −log p(x) ${fmt(-llMean)}${discreteNote(vae.config)})`);
    for (const line of imputationLines(imputation)) log(line);
    log(`files in ${shown}/:`);
    for (const name of [...Object.keys(files), "metrics.json"].sort()) log(`  ${name}`);
    log(`inspect: wasm-vae info --model ${join(shown, "model.wvae")}`);
    return 0;
  } catch (e) {
    progress.clear();
    if (e instanceof Interrupted) {
      m.status = "interrupted";
      await writeMetrics().catch(() => {});
      log(`interrupted after training: ${join(shown, "model.wvae")} is written; some figures were skipped (write them with --resume ${shown}; train further with --resume ${shown} --epochs N)`);
      return 130;
    }
    const err = e as Error;
    const text = `${now()}\n${command}\n\n${err.stack ?? err.message}\n`;
    await writeFile(join(runDir, "error.log"), text).catch(() => {});
    if (epochsDone > 0 || resume) {
      m.status = "failed";
      m.error = err.message;
      await writeMetrics().catch(() => {});
    }
    throw Object.assign(err, { runLog: join(shown, "error.log") });
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}
