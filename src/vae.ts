// The VAE: a thin class composing the modules of the model.
//   architecture.ts  the layer lists a config implies (pure)
//   network.ts       the arena, the layers bound to it, the forward/backward walks
//   model/step.ts    loading rows, the VAE loss, its gradient, the Adam update
//   inference.ts     encode, decode, sample, ELBO, IWAE, impute
//   persistence.ts   the numeric state in and out (io.ts: the file format)
//   fit.ts           the training loop
// Every public method validates its arguments first (validate.ts, rows.ts) so
// no wasm trap escapes and a failed call changes nothing.
import { Adam } from "./optim/adam.js";
import { architectureKey, architectureOf, describeArchitecture } from "./model/architecture.js";
import { BINARIZE_DYNAMIC_STREAM } from "./training/binarize.js";
import { fit, type BatchSource, type FitHistory, type FitOptions } from "./training/fit.js";
import { checkBeta, resolveConfig, type ResolvedConfig, type VAEConfig } from "./model/config.js";
import type { ImputeOptions } from "./model/imputation.js";
import { Inference } from "./model/inference.js";
import { decodeModel, encodeModel, ModelFormatError } from "./persistence/io.js";
import { Network } from "./model/network.js";
import { outputBiasAtMean } from "./model/output-bias.js";
import { Objective } from "./model/step.js";
import { latentOf } from "./objectives/index.js";
import { exportState, stageState, writeState, type Counters } from "./persistence/persistence.js";
import { HostRng } from "./base/random.js";
import { checkRows, normBatch } from "./model/rows.js";
import type { BatchInput, EpochCursor, ModelState, Rows, StepResult } from "./base/types.js";
import { loadThreadedKernels } from "./threads/threads.js";
import type { Build, Kernels, LoadOptions } from "./kernels/wasm.js";
import { checkBool, checkInt, checkOptions, describe, fail, finiteF32 } from "./base/validate.js";
import { size } from "./base/shape.js";

export { NonFiniteLossError } from "./base/types.js";
export type { BatchInput, EpochCursor, EpochSums, ModelState, Rows, StepResult } from "./base/types.js";

/**
 * A variational autoencoder whose training and inference run in wasm SIMD
 * kernels (one arena of float32 memory per model):
 *
 *   const vae = await VAE.create({ inputDim: 784, latentDim: 8 });
 *   await vae.fit(images, { epochs: 10 });
 *   const digits = vae.sample(16);
 *
 * Rows are row-major (rows × the method's dimension). Every public method
 * checks its arguments first and throws an ArgumentError naming the bad
 * one, leaving the model unchanged.
 */
export class VAE {
  /** The model's configuration with every default filled in (frozen). */
  readonly config: Readonly<ResolvedConfig>;
  /** The kernel build that runs ("plain" or "relaxed"). */
  readonly build: Build;
  /** @internal The kernel module (raw pointers: not a supported API). */
  readonly kernels: Kernels;
  private opt: Adam;
  private stepCount = 0;
  private epochCount = 0;
  /** Training steps taken (one per batch; saved with the model). Setting it
   *  (an integer ≥ 0) moves what depends on the step, such as the categorical
   *  latent's temperature schedule. */
  get steps(): number {
    return this.stepCount;
  }
  /** Sets the step count (an integer ≥ 0, else an ArgumentError: a bad
   *  count would be saved into a file that load refuses). */
  set steps(v: number) {
    this.stepCount = checkInt("steps", v, 0);
  }
  /** Completed epochs of `fit` (saved with the model; an integer ≥ 0). */
  get epochs(): number {
    return this.epochCount;
  }
  /** Sets the epoch count (an integer ≥ 0, else an ArgumentError). */
  set epochs(v: number) {
    this.epochCount = checkInt("epochs", v, 0);
  }
  /** Where an in-memory fit epoch stopped when it was aborted (null between
   *  epochs): the next fit redoes that epoch's shuffle and continues after
   *  the batches already done. Saved with the optimizer state. */
  epochCursor: EpochCursor | null = null;

  private readonly net: Network;
  private readonly obj: Objective;
  private readonly inf: Inference;

  private constructor(config: ResolvedConfig, kernels: Kernels) {
    // layer objects are frozen copies: the config a model saves is the one it was built from
    const entries = (l: ResolvedConfig["encoder"]) => l.map((e) => (typeof e === "number" ? e : deepFreeze(structuredClone(e))));
    this.config = Object.freeze({ ...config, inputShape: [...config.inputShape], encoder: entries(config.encoder), decoder: entries(config.decoder),
      ...(config.latents ? { latents: deepFreeze(structuredClone(config.latents)) } : {}) });
    this.kernels = kernels;
    this.build = kernels.build;
    this.opt = new Adam();
    const D = config.inputDim, arch = architectureOf(config);
    // [priors] room for maxBatch data rows and a learned prior's encoder rows
    this.net = new Network(kernels, arch, {
      inputDim: D, latentDim: config.latentDim, conditionDim: config.conditionDim,
      outputDim: config.likelihood === "gaussian_learned" ? 2 * D : D,
      // the levels above the first draw ε_i of their own (prior-hierarchy.ts)
      noiseWidth: latentOf(config.latent.type).noiseWidth(config.latentDim, config.latent) + (config.latents ?? []).slice(1).reduce((n, l) => n + l.size, 0),
    }, config.activationAlpha, config.maxBatch + arch.priorRows, new HostRng(config.seed, 1));
    this.net.initialize(config.seed, config.init);
    this.obj = new Objective(this.net, this.config);
    this.inf = new Inference(this.obj);
    this.binarizeRng = new HostRng(config.seed, BINARIZE_DYNAMIC_STREAM);
  }

  /** Creates a model (wasm instantiation is asynchronous). The networks are
   *  resolved (every layer's shapes checked) before any wasm is loaded. */
  static async create(config: VAEConfig, options: LoadOptions = {}): Promise<VAE> {
    const c = resolveConfig(config);
    architectureOf(c);
    const kernels = await loadThreadedKernels(options);
    return new VAE(c, kernels);
  }

  /** Threads the kernels run on (1 where threads are unavailable: see
   *  `threadsNote`). Set by VAE.create's `threads` ("auto" by default). */
  get threads(): number {
    return this.kernels.threads;
  }

  /** Why fewer threads run than were asked for (e.g. a page that is not
   *  cross-origin isolated), or null. */
  get threadsNote(): string | null {
    return this.kernels.threadsHandle?.note ?? null;
  }

  /** @internal Runs `fn` on `threads` threads (at most the pool's), then
   *  restores the model's count (fit's `threads` option). */
  async withThreads<T>(threads: number, fn: () => Promise<T>): Promise<T> {
    const handle = this.kernels.threadsHandle;
    const n = checkInt("threads", threads, 1, handle?.size ?? 1);
    const before = this.threads;
    handle?.configure(n);
    try {
      return await fn();
    } finally {
      handle?.configure(before);
    }
  }

  /** Stops the model's helper threads (it keeps working on one thread). Not
   *  needed before a Node process exits: idle threads never keep it alive. */
  dispose(): void {
    this.kernels.dispose();
  }

  /** @internal fit's dynamic-binarization stream (seeded with config.seed); saved with the model. */
  readonly binarizeRng: HostRng;

  /** @internal Host-side random stream (epoch shuffles); saved with the model. */
  get hostRng(): HostRng {
    return this.net.hostRng;
  }

  /** The optimizer used by trainStep and fit. Attaching a fresh Adam (step 0)
   *  starts its moments from zero; an Adam restored with a step count (from
   *  Adam.fromState) keeps the moments in the arena. */
  get optimizer(): Adam {
    return this.opt;
  }

  /** Attaches an Adam (an ArgumentError for anything else); a fresh one
   *  (step 0) zeroes the moments. */
  set optimizer(a: Adam) {
    if (!(a instanceof Adam)) fail("optimizer", "an Adam instance", a);
    if (a !== this.opt && a.step === 0) this.resetMoments();
    this.opt = a;
  }

  /** @internal Puts back a state from exportState() and the optimizer object
   *  that went with it (fit undoing a failed start). */
  restoreState(s: ModelState, opt: Adam): void {
    this.importState(s);
    this.opt = opt;
  }

  /** Forgets an interrupted epoch: the next fit starts a fresh one. */
  discardPartialEpoch(): void {
    this.epochCursor = null;
  }

  /** Zeroes the Adam moments (m and v blocks). */
  resetMoments(): void {
    this.net.resetMoments();
  }

  /** Rows the activations currently hold. */
  get batchCapacity(): number {
    return this.net.batch;
  }

  // -------------------------------------------------------------- parameters

  /** Parameter names with their shapes, in arena order. Dense weights are
   *  (in, out); conv2d (kh, kw, in, filters); conv2d_transpose (kh, kw, filters, in). */
  parameterShapes(): Record<string, number[]> {
    return this.net.parameterShapes();
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return Object.values(this.parameterShapes()).reduce((n, s) => n + size(s), 0);
  }

  /** Copies of every parameter tensor (row-major, shapes of parameterShapes). */
  getWeights(): Record<string, Float32Array> {
    return this.net.readTensors("");
  }

  /** Copies of the gradient of every parameter from the last backward pass. */
  getGradients(): Record<string, Float32Array> {
    return this.net.readTensors("grad:");
  }

  /** Sets some or all parameters. Every given tensor is checked (name, length,
   *  finite values) before any is written, so a bad call changes nothing. */
  setWeights(weights: Record<string, ArrayLike<number>>): void {
    if (weights === null || typeof weights !== "object") fail("weights", "an object of name → Float32Array", weights);
    const shapes = this.parameterShapes();
    const staged: [number, Float32Array][] = [];
    for (const [name, arr] of Object.entries(weights)) {
      const shown = `weights[${describe(name)}]`;
      if (!Object.prototype.hasOwnProperty.call(shapes, name)) fail(shown, `a parameter name (one of ${Object.keys(shapes).join(", ")})`);
      const shape = shapes[name];
      const n = size(shape);
      if (!(Array.isArray(arr) || (ArrayBuffer.isView(arr) && !(arr instanceof DataView)))) fail(shown, `a Float32Array (or another typed array / number[]) of ${n} numbers`, arr);
      if (arr.length !== n) fail(shown, `${n} values for shape [${shape.join(", ")}]`, arr.length);
      for (let i = 0; i < n; i++) if (!finiteF32(arr[i])) fail(`${shown}[${i}]`, "a number that is finite in float32", arr[i]);
      staged.push([this.net.ptr[name], Float32Array.from(arr)]);
    }
    this.net.writeTensors(staged);
  }


  /**
   * Starts the output layer's bias at the mean of the data `x` (rows ×
   * inputDim), as Burda et al.'s IWAE code does: Bernoulli, the log-odds of
   * each pixel's mean (clipped to [0.001, 0.999]); Gaussian, the mean (the μ
   * half with a learned σ); per channel when the output layer's bias is per
   * channel (a conv2d_transpose output). The decoder then starts at the mean
   * image instead of gray 0.5 (bench:paper: 98.27 → 96.10 nats after 10
   * epochs, two stochastic layers 113.82 → 96.19). Call it before training;
   * it changes that one tensor and nothing else.
   */
  initOutputBias(x: Rows): void {
    const rows = checkRows(this.config, "x", x, this.config.inputDim, true);
    const weights = this.getWeights();
    const { name, values } = outputBiasAtMean(this.net.arch, this.config, x, rows, x instanceof Uint8Array ? 1 / 255 : 1, (n) => weights[n]);
    this.setWeights({ [name]: values });
  }

  /** @internal Validates rows of data for this model (used by fit); returns the row count. */
  checkRows(name: string, x: unknown, dim: number, targets: boolean): number {
    return checkRows(this.config, name, x, dim, targets);
  }

  // --------------------------------------------------------------- training

  /** @internal Adam update over the whole block (called by Adam.apply);
   *  returns the gradient norm before clipping. */
  adamUpdate(o: Adam, lr: number, t: number): number {
    return this.obj.adamUpdate(o, lr, t, this.steps + 1);
  }

  /**
   * One training step on a batch: forward, zero grad, backward, Adam update.
   * `out` (optional) is filled and returned, so a loop can run allocation-free.
   */
  trainStep(batch: Rows | BatchInput, options: { beta?: number; out?: StepResult } = {}): StepResult {
    checkOptions("options", options, ["beta", "out"]);
    // a Float32Array batch is checked by a SIMD scan of its copy in the arena (step.ts stageInput)
    const { x, c, rows } = normBatch(this.config, batch, "batch", this.obj.scanStaged);
    const beta = options.beta === undefined ? this.config.beta : checkBeta(options.beta);
    const out = options.out ?? { loss: 0, reconstruction: 0, kl: 0 };
    if (out === null || typeof out !== "object" || Object.isFrozen(out)) fail("options.out", "a writable object to fill with {loss, reconstruction, kl}", out);
    this.net.ensureBatch(this.obj.stepRowsFor(rows, "batch"), "batch", rows);
    this.obj.loadRows(x, c, rows, 0, null, this.obj.takeStaged(x));
    return this.stepLoaded(rows, beta, out, c, 0, null);
  }

  /** @internal A step on rows already validated; used by fit. */
  stepRows(x: ArrayLike<number>, c: ArrayLike<number> | undefined, start: number, B: number,
           perm: Uint32Array | null, beta: number, out: StepResult): StepResult {
    // the rows themselves were validated once by the caller (fit); these checks are O(1)
    const total = x.length / this.config.inputDim;
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(start) || start < 0 || start + B > total) {
      fail("stepRows", `start ≥ 0 and B ≥ 1 with start + B ≤ ${total} rows`, `start ${start}, B ${B}`);
    }
    if (perm && perm.length !== total) fail("perm", `a permutation of ${total} rows`, perm.length);
    if (!Number.isFinite(beta) || beta < 0) fail("beta", "a finite number ≥ 0", beta);
    if (out === null || typeof out !== "object" || Object.isFrozen(out)) fail("out", "a writable object to fill with {loss, reconstruction, kl}", out);
    this.net.ensureBatch(this.obj.stepRowsFor(B, "batchSize"), "batchSize", B);
    this.obj.loadRows(x, c, B, start, perm);
    return this.stepLoaded(B, beta, out, c, start, perm);
  }

  private stepLoaded(B: number, beta: number, out: StepResult, c: ArrayLike<number> | undefined,
                     start: number, perm: Uint32Array | null): StepResult {
    const lr = this.opt.rate(this.opt.step + 1); // a bad lr schedule fails before anything moves
    // a non-finite loss throws before the update; the training stream is put back
    this.net.copyStreams(true);
    try {
      this.obj.forwardBackward(B, beta, false, out, this.steps + 1, null, c, start, perm);
    } catch (e) {
      this.net.copyStreams(false);
      throw e;
    }
    this.opt.apply(this, lr);
    this.net.commit(); // the step succeeded: batch_norm's running statistics move
    this.steps += 1;
    return out;
  }

  /**
   * Loss and the gradient of every parameter on a batch, without updating.
   * `noise` (rows·S × the noise width) fixes ε; otherwise it is drawn from the training
   * stream. With stochastic layers (config.latents) it is [ε₁ (rows·S × L₁) |
   * ε₂ (rows·S × L₂) | …], level after level, not interleaved per row. A categorical latent's noise is
   * Gumbel(0, 1) noise, rows·S × variables·classes.
   * `estimator: "score"` gives the REINFORCE encoder gradient.
   */
  computeGradients(batch: Rows | BatchInput, options: {
    noise?: Rows; beta?: number; estimator?: "reparameterized" | "score"; baseline?: boolean;
  } = {}): StepResult & {
    /** The gradient of the batch-mean loss for every parameter (by name). */
    gradients: Record<string, Float32Array>;
  } {
    return this.net.keepStreams(() => {
      checkOptions("options", options, ["noise", "beta", "estimator", "baseline"]);
      const { x, c, rows } = normBatch(this.config, batch, "batch");
      const beta = options.beta === undefined ? this.config.beta : checkBeta(options.beta);
      const est = options.estimator ?? "reparameterized";
      const baseline = checkBool("baseline", options.baseline, false);
      if (est !== "reparameterized" && est !== "score") fail("estimator", `"reparameterized" or "score"`, est);
      if (est === "score" && !this.obj.scoreFunctionAvailable) fail("estimator", `"reparameterized" (the score-function estimator is implemented for the ELBO with a Gaussian latent and the N(0, I) prior)`, est);
      const S = this.obj.samples, NW = this.net.dims.noiseWidth;
      this.net.ensureBatch(this.obj.stepRowsFor(rows, "batch"), "batch", rows);
      if (options.noise !== undefined) {
        const n = checkRows(this.config, "noise", options.noise, NW, false);
        if (n !== rows * S) fail("noise", `${rows * S} rows × ${NW} values (one noise row per sample row: ${rows} rows × ${S} samples)`, `${n} rows`);
      }
      this.obj.loadRows(x, c, rows, 0, null);
      if (options.noise !== undefined) this.net.heap().set(Float32Array.from(options.noise as ArrayLike<number>), this.net.ptr["eps"] >>> 2);
      const out = { loss: 0, reconstruction: 0, kl: 0 };
      this.obj.forwardBackward(rows, beta, options.noise !== undefined, out, this.steps + 1,
        est === "score" ? { baseline } : null, c, 0, null);
      return { ...out, gradients: this.getGradients() };
    });
  }

  /**
   * Variance of the encoder gradient under the reparameterized and the
   * score-function estimators on one batch: the mean over encoder parameters
   * of the per-parameter variance across `samples` draws of ε (the same draws
   * for both). The reparameterized one is typically orders of magnitude lower.
   */
  estimatorVariance(batch: Rows | BatchInput, options: { samples?: number; baseline?: boolean } = {}): {
    /** Under the reparameterized estimator. */
    reparameterized: number;
    /** Under the score-function (REINFORCE) estimator. */
    score: number;
  } {
    return this.net.keepStreams(() => {
      checkOptions("options", options, ["samples", "baseline"]);
      const S = checkInt("samples", options.samples ?? 16, 2, 100000);
      checkBool("baseline", options.baseline, false);
      if (!this.obj.scoreFunctionAvailable) fail("estimatorVariance", "a model trained with the ELBO, a Gaussian latent and the N(0, I) prior (the score-function estimator is implemented for those)" +
        `, got objective ${this.config.objective.type}, latent ${this.config.latent.type}, prior ${this.obj.parts.c.prior.type}`);
      const { x, c, rows } = normBatch(this.config, batch, "batch");
      const L = this.config.latentDim;
      const noises: Float32Array[] = [];
      this.net.ensureBatch(this.obj.stepRowsFor(rows, "batch"), "batch", rows);
      const eps = this.net.ptr["eps"];
      for (let s = 0; s < S; s++) {
        this.kernels.raw.rng_normal(this.net.ptr["rng.eval"], eps, rows * L);
        noises.push(this.net.heap().slice(eps >>> 2, (eps >>> 2) + rows * L));
      }
      const names = Object.keys(this.parameterShapes()).filter((n) => n.startsWith("encoder."));
      const variance = (est: "reparameterized" | "score") => {
        let mean: Float64Array | null = null, m2: Float64Array | null = null;
        for (let s = 0; s < S; s++) {
          const g = this.computeGradients(c ? { x, condition: c } : x, { noise: noises[s], estimator: est, baseline: options.baseline });
          const flat = concat(names.map((n) => g.gradients[n]));
          if (!mean) { mean = new Float64Array(flat.length); m2 = new Float64Array(flat.length); }
          for (let i = 0; i < flat.length; i++) {
            const d = flat[i] - mean[i];
            mean[i] += d / (s + 1);
            m2![i] += d * (flat[i] - mean[i]);
          }
        }
        let tot = 0;
        for (let i = 0; i < m2!.length; i++) tot += m2![i] / (S - 1);
        return tot / m2!.length;
      };
      return { reparameterized: variance("reparameterized"), score: variance("score") };
    });
  }

  /** Trains the model on in-memory rows or a stream of batches, as
   *  {@link fit}(this, data, options); resolves with the history of the
   *  epochs it finished. */
  fit(data: Rows | BatchSource | (() => BatchSource), options: FitOptions = {}): Promise<FitHistory> {
    return fit(this, data, options);
  }

  // --------------------------------------------------------------- inference

  /** q(z|x): the mean and log-variance of each row. With a categorical
   *  latent (README "Discrete latents"): `mean` = E_q[z] = the class
   *  probabilities π (rows × variables·classes), `logvar` = log Var_q[z] =
   *  log π(1 − π) per coordinate of the one-hot code, and `logits` = log π. */
  encode(x: Rows, options: { condition?: Rows } = {}): {
    /** Means μ (rows × latentDim); a categorical latent: the class probabilities. */
    mean: Float32Array;
    /** Log-variances log σ² (rows × latentDim). */
    logvar: Float32Array;
    /** A categorical latent only: log π, the normalized log-probabilities. */
    logits?: Float32Array;
  } {
    return this.inf.encode(x, options);
  }

  /** p(x|z): Bernoulli probabilities, or Gaussian means, for each row of z. */
  decode(z: Rows, options: { condition?: Rows } = {}): Float32Array {
    return this.inf.decode(z, options);
  }

  /** n draws from the model: z ~ N(0, temperature²·I), then decode. With a
   *  categorical latent z is one-hot, each variable's class uniform (the
   *  prior); `temperature` must then be 1 or omitted. */
  sample(n: number, options: { temperature?: number; condition?: Rows } = {}): Float32Array {
    return this.inf.sample(n, options);
  }

  /** decode(E[z|x]) for each row (or a sampled z with `sample: true`). With a
   *  categorical latent: decode the mode of q (the one-hot argmax of each
   *  variable), or with `sample: true` a one-hot draw from q. */
  reconstruct(x: Rows, options: { condition?: Rows; sample?: boolean } = {}): Float32Array {
    return this.inf.reconstruct(x, options);
  }

  /** Decodes `steps` points from E[z|xa] to E[z|xb], linear or spherical
   *  (a categorical latent: linear only, between the class probabilities). */
  interpolate(xa: Rows, xb: Rows, steps: number, options: { spherical?: boolean; condition?: Rows } = {}): Float32Array {
    return this.inf.interpolate(xa, xb, steps, options);
  }

  /** Per-row ELBO = −(reconstruction + KL) with one (or `samples`) z ~ q(z|x)
   *  (a categorical latent: one-hot z drawn from q, the closed-form KL to
   *  the uniform prior: the discrete model's ELBO, not the relaxed one).
   *  The draws come from the evaluation stream as `config.seed` starts it,
   *  afresh on every call, in chunks of `config.maxBatch` rows: the same
   *  weights, seed and maxBatch give the same bits whatever ran before, also
   *  after `save` and `VAE.load` (fit's validation figures are this call's). */
  elbo(x: Rows, options: { condition?: Rows; samples?: number } = {}): {
    /** −(reconstruction + kl) per row (nats). */
    elbo: Float32Array;
    /** −E_q[log p(x|z)] per row. */
    reconstruction: Float32Array;
    /** KL(q(z|x) ‖ N(0, I)) per row. */
    kl: Float32Array;
  } {
    return this.inf.elbo(x, options);
  }

  /** Importance-weighted estimate of log p(x) per row (Burda et al. 2015).
   *  With a categorical latent the bound is under the discrete posterior:
   *  one-hot z ~ q(z|x), log w = log p(x|z) + log p(z) − log q(z|x), with
   *  p(z) = K^−N. The draws, as elbo's: from the evaluation stream as the
   *  seed starts it, on every call. */
  logLikelihood(x: Rows, options: { samples?: number; condition?: Rows } = {}): Float64Array {
    return this.inf.logLikelihood(x, options);
  }

  /**
   * Fills the entries of x where mask is 0 (observed where 1) with an
   * estimate of E[x_miss | x_obs] under the model (methods: imputation.ts).
   * The encoder sees x̂: the observed entries, the missing ones at `initial`
   * (default 0).
   * - method "miwae" (default; Mattei & Frellsen 2019): self-normalized
   *   importance sampling. Per row, `samples` (default 1000) draws
   *   z_k ~ q(z|x̂), weights w_k ∝ p(x_obs|z_k)·p(z_k)/q(z_k|x̂) (the observed
   *   entries only), result Σ_k w̃_k·E[x_miss|z_k]. Cost: rows × samples
   *   decoder rows, run in chunks of the arena's batch (memory rows × inputDim).
   * - method "metropolis" (Mattei & Frellsen 2018): Metropolis-within-Gibbs;
   *   z' ~ q(z|x̂) is accepted with probability
   *     min(1, p(x̂|z')·p(z')·q(z|x̂) / (p(x̂|z)·p(z)·q(z'|x̂))),
   *   x̂ = (x_obs, x̂_miss), then x̂_miss ~ p(x_miss|z); the result averages
   *   E[x_miss | z] over the `iterations` (default 100) after `burnIn`
   *   (default a fifth).
   * - method "pseudo_gibbs" (Rezende et al. 2014, §5.2): z ~ q(z|x̂),
   *   x̂_miss = E[x_miss|z], `iterations` (default 20) times, the last
   *   decoding E[z|x̂]: one plausible completion.
   *
   * `mask` holds rows × inputDim 0/1 values (or booleans), or inputDim values
   * shared by every row. Returns the completed rows (observed entries as
   * given, a Uint8Array's scaled by 1/255).
   */
  impute(x: Rows, mask: ArrayLike<number | boolean>, options: ImputeOptions = {}): Float32Array {
    return this.inf.impute(x, mask, options);
  }

  // ------------------------------------------------------------ save/load

  /** The model as bytes of the versioned, checksummed model file format
   *  (its header: `FileHeader` of "wasm-vae/kernels"); with
   *  `optimizer` (default true) also the Adam moments, PRNG states and
   *  counters, so training resumes bit-identically. */
  save(options: { optimizer?: boolean } = {}): Uint8Array {
    checkOptions("options", options, ["optimizer"]);
    const withOptimizer = checkBool("optimizer", options.optimizer, true);
    return encodeModel(this.config as ResolvedConfig, this.exportState(), this.parameterShapes(), this.build, withOptimizer);
  }

  /** A new model from saved bytes (format version 2, or 1). A file saved
   *  while training with an lr schedule needs that `schedule` again to
   *  continue training. */
  static async load(bytes: Uint8Array, options: LoadOptions & { schedule?: (step: number) => number } = {}): Promise<VAE> {
    const { schedule, ...loadOptions } = checkOptions("options", options, ["build", "deterministic", "wasm", "threads", "schedule"]);
    if (schedule !== undefined && typeof schedule !== "function") fail("schedule", "a function from the 1-based step to a learning rate", schedule);
    const { config, state } = decodeModel(bytes);
    const vae = await VAE.create(config, loadOptions);
    vae.importState(state, schedule);
    return vae;
  }

  /** Loads the weights and training state of saved bytes into this model
   *  (Adam moments and step, random streams, step and epoch counters, an
   *  interrupted epoch's cursor). The file must have this model's
   *  architecture (layers and their shapes, settings and activations, α,
   *  likelihood and σ, condition, latent family and prior).
   *
   *  The file's training settings are NOT adopted: `vae.config` stays this
   *  model's, and with it the objective (`elbo` or `iwae`, its k and
   *  gradient), β, seed (e.g. the default `binarizeSeed`), init, maxBatch
   *  and a categorical latent's temperature schedule; training after `load`
   *  uses them, and `save()` writes them. So `elbo.load(iwaeFile)` gives an
   *  ELBO model with the IWAE model's weights (fine-tuning under other
   *  settings); use `VAE.load(bytes)` for the model exactly as saved.
   *  Everything is validated first, so on error the model is unchanged. A
   *  weights-only file resets the Adam moments, the optimizer's step and the
   *  step/epoch counters. */
  load(bytes: Uint8Array, options: { schedule?: (step: number) => number } = {}): void {
    checkOptions("options", options, ["schedule"]);
    const { config, state } = decodeModel(bytes);
    if (architectureKey(config) !== architectureKey(this.config as ResolvedConfig)) {
      throw new ModelFormatError(`model file: its architecture (${describeArchitecture(config)}) differs from this model's (${describeArchitecture(this.config as ResolvedConfig)})`);
    }
    this.importState(state, options.schedule);
  }

  /** Everything that defines the model's numeric state, copied out. */
  exportState(): ModelState {
    return exportState(this.net, this.counters());
  }

  /** Applies a state after checking every part against this model; on any
   *  error nothing has been written. Without moments (a weights-only state)
   *  the moments, the optimizer's step and the counters start from zero. */
  importState(s: ModelState, schedule?: (step: number) => number): void {
    const staged = stageState(this.net, s, this.opt, schedule);
    const c = this.counters();
    writeState(this.net, staged, c);
    this.opt = c.optimizer;
    this.steps = c.steps;
    this.epochs = c.epochs;
    this.epochCursor = c.epochCursor;
  }

  private counters(): Counters {
    return { optimizer: this.opt, hostRng: this.hostRng, binarizeRng: this.binarizeRng, steps: this.steps, epochs: this.epochs, epochCursor: this.epochCursor };
  }
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function concat(parts: Float32Array[]): Float32Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
