// The training step on the arena: loading rows, the forward pass (encoder
// network → latent head → sampler → decoder network → likelihood), the
// objective and its backward pass, and the Adam update over the whole
// parameter block. Which objective, prior and latent family run is the
// config's (objectives/index.ts tables); this file only composes them:
//   encoder (B rows) → h;  eps, z = sample(h, eps) (B·S rows, S the
//   objective's samples per row);  decoder (B·S rows);  objective.forward
//   (likelihood, KL or importance weights);  objective.backward (decoder,
//   prior, latent: writes dh);  encoder backward.
// Default (ELBO, Gaussian q, N(0, I)): Kingma & Welling 2013, eq. 10, negated:
//   loss = (1/B) Σ_b [ −log p(x_b | z_b) + β·KL(q(z|x_b) ‖ N(0, I)) ].
// Stochastic layers above z₁ (config.latents) are z₁'s prior module
// (objectives/prior-hierarchy.ts), chosen once here; the step is the same.
// The networks are walked by network.ts, which never asks which kinds they hold.
// Not here: validation of user input (rows.ts, vae.ts), inference (inference.ts).
import { Adam, checkLearningRate } from "../optim/adam.js";
import type { ResolvedConfig } from "./config.js";
import type { Network } from "./network.js";
import { MAX_ARENA_ROWS } from "./plan.js";
import { latentOf, objectiveOf, priorOf, type LatentContext, type LatentKind, type ObjectiveKind, type PriorKind, type StepParts } from "../objectives/index.js";
import { HIERARCHY_PRIOR, hierarchyPrior } from "../objectives/prior-hierarchy.js";
import { NonFiniteLossError, type StepResult } from "../base/types.js";
import { checkInt, fail } from "../base/validate.js";

export class Objective {
  readonly net: Network;
  readonly config: Readonly<ResolvedConfig>;

  readonly objective: ObjectiveKind;
  readonly prior: PriorKind;
  readonly latent: LatentKind;
  /** What the objective, prior and latent modules call (pointers read live:
   *  a larger batch re-lays the arena out). */
  readonly parts: StepParts;
  /** Samples per row in training (the objective's S). */
  readonly samples: number;
  /** Encoder rows a learned prior adds after the data rows (VampPrior: K). */
  readonly priorRows: number;
  /** Where the training step's likelihood reads its targets: x.target, or
   *  (S > 1) x.rep. Inference always reads x.target. */
  private stepTarget = "x.target";
  /** The batch stageInput copied into "x.in" (loadRows then skips its copy), or null. */
  private staged: Float32Array | null = null;
  /** stageInput bound once (trainStep passes it to the row check without allocating). */
  readonly scanStaged: (x: Float32Array, lo: number, hi: number) => number | null = (x, lo, hi) => this.stageInput(x, lo, hi);

  constructor(net: Network, config: Readonly<ResolvedConfig>) {
    this.net = net;
    this.config = config;
    this.objective = objectiveOf(config.objective.type);
    // with stochastic layers above the first, z₁'s prior is theirs (prior-hierarchy.ts)
    const levels = config.latents;
    this.prior = levels ? hierarchyPrior(net, levels.map((l) => l.size), priorOf(config.prior.type), config.prior) : priorOf(config.prior.type);
    this.latent = latentOf(config.latent.type);
    this.samples = this.objective.samples(config.objective);
    const c: LatentContext = {
      k: net.kernels.raw, get ptr() { return net.ptr; }, L: config.latentDim, latent: config.latent, prior: levels ? HIERARCHY_PRIOR : config.prior,
      priorRow: 0, likelihood: config.likelihood, inputDim: config.inputDim,
      step: 0, training: false, samples: this.samples, // issue 18: step and training set by forwardBackward
    };
    this.priorRows = net.arch.priorRows;
    const outW = net.dims.outputDim;
    this.parts = {
      c, latent: this.latent, prior: this.prior, headWidth: net.arch.headWidth,
      likelihood: (rows, grad, w) => this.runLikelihood(rows, grad, w, this.stepTarget),
      scaleOutputGradient: (rows, coef) => net.kernels.raw.rows_scale(net.ptr["dout"], coef, rows, outW),
      decoderBackward: (rows) => this.decoderBackward(rows),
      heap: () => net.heap(),
    };
  }

  /** Rows the arena must hold for a batch of B (the decoder runs B·S, the
   *  encoder B + the prior's rows). */
  rowsFor(B: number): number {
    return Math.max(B * this.samples, B + this.priorRows); // [priors] B + priorRows
  }

  /** rowsFor(B), or an ArgumentError naming the caller's batch (`name`) when
   *  a step on B rows needs more arena rows than the planner allows (the
   *  planner's own error would name its internal spec.batch). */
  stepRowsFor(B: number, name: string): number {
    const rows = this.rowsFor(B);
    if (rows > MAX_ARENA_ROWS) {
      const most = Math.min(Math.floor(MAX_ARENA_ROWS / this.samples), MAX_ARENA_ROWS - this.priorRows);
      const why = B * this.samples >= B + this.priorRows ? `its decoder runs on rows × ${this.samples} importance samples`
        : `its encoder runs on the rows and the prior's ${this.priorRows} pseudo-inputs`;
      fail(name, `at most ${most} rows per training step (${why}, at most ${MAX_ARENA_ROWS} rows in all)`, B);
    }
    return rows;
  }

  // [priors] a learned prior's own encoder rows after the B data rows
  /** Runs the encoder on B loaded data rows and the prior's rows after them. */
  runEncoderWithPrior(B: number): void {
    if (this.priorRows > 0) {
      this.parts.c.priorRow = B;
      this.prior.loadEncoderRows!(this.parts.c);
    }
    this.runEncoder(B + this.priorRows);
  }

  /** The training step's range check (rows.ts RangeScan): copies a whole
   *  unconditional batch into "x.in" when the arena already holds its rows
   *  (no re-layout follows), then scans the copy with a read-only SIMD kernel;
   *  loadRows reuses the copy (takeStaged). "x.in" is scratch every pass writes before it
   *  reads it, so a batch that fails the check changes no state. Returns
   *  null (the caller scans in TypeScript) when it cannot stage. */
  stageInput(x: Float32Array, lo: number, hi: number): number | null {
    this.staged = null;
    const D = this.config.inputDim;
    // (a module built before first_outside, passed as options.wasm, lacks it)
    if (this.net.kernels.raw.first_outside === undefined || this.config.conditionDim > 0 || this.rowsFor(x.length / D) > this.net.plan.batch) return null;
    const xin = this.net.ptr["x.in"];
    this.net.heap().set(x, xin >>> 2);
    const bad = this.net.kernels.raw.first_outside!(xin, x.length, lo, hi);
    if (bad === -1) this.staged = x;
    return bad;
  }

  /** Whether x is the batch the last stageInput copied into "x.in" (and
   *  forgets it): trainStep asks right after its row check. */
  takeStaged(x: unknown): boolean {
    const s = this.staged === x;
    this.staged = null;
    return s;
  }

  /** Writes rows [start, start+B) (or rows perm[start..]) of x and c into the
   *  encoder input, target and condition buffers (`staged`: the whole batch is
   *  already in "x.in", stageInput). Allocation-free. */
  loadRows(x: ArrayLike<number>, c: ArrayLike<number> | undefined, B: number, start: number,
           perm: Uint32Array | null, staged = false): void {
    const net = this.net, H = net.heap(), p = net.ptr;
    const D = this.config.inputDim, C = this.config.conditionDim;
    const atInput = net.arch.conditionAtInput, W = atInput ? D + C : D;
    const xin = p["x.in"] >>> 2, tgt = p["x.target"] >>> 2, cin = atInput ? xin + D : (p["c.in"] ?? 0) >>> 2;
    const cw = atInput ? W : C;
    const s = x instanceof Uint8Array ? 1 / 255 : 1;
    if (!perm && C === 0 && start === 0 && x.length === B * D && (x instanceof Float32Array || x instanceof Float64Array)) {
      if (!staged) H.set(x, xin); // the whole batch in one copy (unless stageInput made it)
      return;
    }
    for (let b = 0; b < B; b++) {
      const r = perm ? perm[start + b] : start + b;
      const src = r * D, dst = xin + b * W;
      if (s === 1) for (let d = 0; d < D; d++) H[dst + d] = x[src + d];
      else for (let d = 0; d < D; d++) H[dst + d] = x[src + d] * s;
      if (C > 0) {
        if (atInput) {
          const t = tgt + b * D;
          for (let d = 0; d < D; d++) H[t + d] = H[dst + d];
        }
        const cs = c instanceof Uint8Array ? 1 / 255 : 1;
        for (let j = 0; j < C; j++) H[cin + b * cw + j] = c![r * C + j] * cs;
      }
    }
  }

  /** Writes the condition part of the decoder input for B rows (each
   *  repeated for its S sample rows b·S + s). */
  loadDecoderCondition(c: ArrayLike<number> | undefined, B: number, start: number, perm: Uint32Array | null, S = 1): void {
    const C = this.config.conditionDim;
    if (C === 0) return;
    const H = this.net.heap();
    const L = this.config.latentDim, W = L + C;
    const zin = this.net.ptr["z.in"] >>> 2;
    const cs = c instanceof Uint8Array ? 1 / 255 : 1;
    for (let b = 0; b < B; b++) {
      const r = perm ? perm[start + b] : start + b;
      for (let s = 0; s < S; s++) for (let j = 0; j < C; j++) H[zin + (b * S + s) * W + L + j] = c![r * C + j] * cs;
    }
  }

  /** The likelihood's targets for B·S sample rows: x.target itself (S = 1)
   *  or each row repeated S times into x.rep. */
  private repeatTargets(B: number, S: number): void {
    if (S === 1) { this.stepTarget = "x.target"; return; }
    const H = this.net.heap(), D = this.config.inputDim;
    const src = this.net.ptr["x.target"] >>> 2, dst = this.net.ptr["x.rep"] >>> 2;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) H.copyWithin(dst + (b * S + s) * D, src + b * D, src + (b + 1) * D); // no view per row
    }
    this.stepTarget = "x.rep";
  }

  /** Writes rows [start, start+B) of z (rows × L) into the decoder input. */
  loadLatents(z: ArrayLike<number>, B: number, start: number): void {
    const H = this.net.heap(), L = this.config.latentDim, W = L + this.config.conditionDim;
    const zin = this.net.ptr["z.in"] >>> 2, zs = z instanceof Uint8Array ? 1 / 255 : 1;
    for (let b = 0; b < B; b++) for (let j = 0; j < L; j++) H[zin + b * W + j] = z[(start + b) * L + j] * zs;
  }

  /** The Gaussian head's output h = [μ | log σ²] (B, 2L). */
  get head(): number {
    const e = this.net.enc;
    return e[e.length - 1].y;
  }

  get headGrad(): number {
    const e = this.net.enc;
    return e[e.length - 1].dy;
  }

  runEncoder(B: number): void {
    this.net.forward(this.net.enc, B);
  }

  /** z (B·S sample rows) from the head and "eps" into the decoder input. */
  runSampler(B: number, S = 1): void {
    const p = this.net.ptr, L = this.config.latentDim, C = this.config.conditionDim;
    this.latent.sample(this.parts.c, B, S);
    if (C > 0) this.net.copyColumns(p["z"], L, p["z.in"], L + C, B * S, L);
  }

  /** Draws the latent family's noise for `rows` sample rows from a stream. */
  drawNoise(rows: number, stream: "rng.train" | "rng.eval"): void {
    this.latent.drawNoise(this.parts.c, this.net.ptr[stream], rows);
    this.prior.drawNoise?.(this.parts.c, this.net.ptr[stream], rows);
  }

  /** The decoder network; its output (as the likelihood reads it) is at "out". */
  runDecoder(B: number): void {
    this.net.forward(this.net.dec, B);
    if (this.net.arch.channelSplit) this.splitChannels(B, false);
  }

  /** Between the decoder's image output y (B, H, W, 2C) and the likelihood's
   *  planar rows (B, [means (H·W·C) | log σ (H·W·C)]): forward copies y into
   *  "out"; backward (`grad`) copies "dout" back into dy. */
  private splitChannels(B: number, grad: boolean): void {
    const net = this.net, H = net.heap(), last = net.dec[net.dec.length - 1];
    const C = this.config.inputShape[2], D = this.config.inputDim, pixels = D / C;
    const img = (grad ? last.dy : last.y) >>> 2, flat = (grad ? net.ptr["dout"] : net.ptr["out"]) >>> 2;
    for (let b = 0; b < B; b++) {
      for (let q = 0; q < pixels; q++) {
        const i = img + b * 2 * D + q * 2 * C, f = flat + b * 2 * D + q * C;
        for (let j = 0; j < C; j++) {
          if (grad) { H[i + j] = H[f + j]; H[i + C + j] = H[f + D + j]; }
          else { H[f + j] = H[i + j]; H[f + D + j] = H[i + C + j]; }
        }
      }
    }
  }

  /** Per-row −log p(x|z) into "nll" (and its gradient, scaled by w, into
   *  "dout" when `grad`), against the targets at `target` (B rows). */
  runLikelihood(B: number, grad: boolean, w: number, target = "x.target"): void {
    const k = this.net.kernels.raw, p = this.net.ptr, D = this.config.inputDim;
    const out = p["out"], dout = p["dout"], nll = p["nll"], x = p[target];
    switch (this.config.likelihood) {
      case "bernoulli":
        if (grad) k.bernoulli_nll_forward_backward(nll, dout, out, x, B, D, w);
        else k.bernoulli_nll_forward(nll, out, x, B, D);
        break;
      case "gaussian":
        k.gaussian_nll_forward(nll, out, x, B, D, this.config.sigma);
        if (grad) k.gaussian_nll_backward(dout, out, x, B, D, this.config.sigma, w);
        break;
      case "gaussian_learned":
        k.gaussian_learned_nll_forward(nll, out, x, B, D);
        if (grad) k.gaussian_learned_nll_backward(dout, out, x, B, D, w);
        break;
    }
  }

  /** Backward through the decoder for `rows` rows: from "dout" to dz. */
  private decoderBackward(rows: number): void {
    const net = this.net, p = net.ptr, L = this.config.latentDim, C = this.config.conditionDim;
    if (net.arch.channelSplit) this.splitChannels(rows, true);
    net.backward(net.dec, rows);
    if (C > 0) net.copyColumns(p["dz.in"], L + C, p["dz"], L, rows, L);
  }

  /** Score-function gradient of E_q[−log p(x|z)] w.r.t. h = [μ | logvar]:
   *    (f_b − c_b)·∇_h log q(z_b|x_b),  f_b = nll_b
   *    ∂log q/∂μ = ε/σ,   ∂log q/∂logvar = ½(ε² − 1)
   *  c_b = 0, or with `baseline` the mean of the OTHER rows' f (leave-one-out,
   *  so c_b is independent of z_b and the estimator stays unbiased).
   *  Accumulated (weight 1/B) into dh. ELBO, Gaussian q, N(0, I) only. */
  private scoreFunctionGrad(B: number, baseline: boolean): void {
    const H = this.net.heap(), L = this.config.latentDim, p = this.net.ptr;
    const nll = p["nll"] >>> 2, eps = p["eps"] >>> 2, ho = p["h"] >>> 2, dho = p["dh"] >>> 2;
    let sum = 0;
    for (let b = 0; b < B; b++) sum += H[nll + b];
    for (let b = 0; b < B; b++) {
      const c = baseline && B > 1 ? (sum - H[nll + b]) / (B - 1) : 0;
      const f = (H[nll + b] - c) / B;
      for (let j = 0; j < L; j++) {
        const e = H[eps + b * L + j];
        const lv = H[ho + b * 2 * L + L + j];
        H[dho + b * 2 * L + j] += f * e * Math.exp(-0.5 * lv);
        H[dho + b * 2 * L + L + j] += f * 0.5 * (e * e - 1);
      }
    }
  }

  /** Whether the score-function estimator applies (ELBO, Gaussian q, N(0, I)). */
  get scoreFunctionAvailable(): boolean {
    return this.samples === 1 && this.config.objective.type === "elbo" && this.config.latent.type === "gaussian" && this.parts.c.prior.type === "normal";
  }

  /** One full forward + backward of B loaded rows. ε is drawn from the
   *  training stream unless `noiseGiven` (already in "eps"). `step` is the
   *  1-based step this is part of (error messages; the latent modules get
   *  step − 1, the steps taken before it). The arena must hold
   *  rowsFor(B) rows. */
  forwardBackward(B: number, beta: number, noiseGiven: boolean, out: StepResult, step: number,
                  scoreFunction: { baseline: boolean } | null = null,
                  c?: ArrayLike<number>, start = 0, perm: Uint32Array | null = null): StepResult {
    // issue 18: the latent modules see the step (schedules) and that this is training
    this.parts.c.step = step - 1;
    this.parts.c.training = true;
    try {
      return this.trainingPass(B, beta, noiseGiven, out, step, scoreFunction, c, start, perm);
    } finally {
      this.parts.c.training = false;
    }
  }

  private trainingPass(B: number, beta: number, noiseGiven: boolean, out: StepResult, step: number,
                       scoreFunction: { baseline: boolean } | null, c: ArrayLike<number> | undefined,
                       start: number, perm: Uint32Array | null): StepResult {
    const S = this.samples, o = this.objective, s = this.config.objective, parts = this.parts;
    this.net.ctx.train = true; // a training forward: dropout layers drop (layers/dropout.ts)
    try {
      this.runEncoderWithPrior(B); // [priors] B (+ the prior's rows)
      if (!noiseGiven) this.drawNoise(B * S, "rng.train");
      this.runSampler(B, S);
      if (this.config.conditionDim > 0) this.loadDecoderCondition(c, B, start, perm, S);
      this.repeatTargets(B, S);
      this.runDecoder(B * S);
    } finally {
      this.net.ctx.train = false;
    }
    o.forward(parts, s, B, beta);
    o.stats(parts, s, B, beta, out);
    if (!Number.isFinite(out.loss)) {
      throw new NonFiniteLossError(`the loss became ${out.loss} at step ${step} (reconstruction ${out.reconstruction}, KL ${out.kl}); the weights are those of the last finite step. Lower the learning rate or enable clipNorm.`);
    }
    // every layer's backward writes its parameters' gradients: no zeroing pass
    if (scoreFunction) {
      const k = this.net.kernels.raw, p = this.net.ptr, L = this.config.latentDim;
      this.decoderBackward(B); // decoder gradients; dz is not used
      k.kl_normal_backward(p["dh"], p["h"], B, L, beta / B);
      this.scoreFunctionGrad(B, scoreFunction.baseline);
    } else {
      o.backward(parts, s, B, beta);
    }
    this.net.backward(this.net.enc, B + this.priorRows); // [priors] the prior wrote dh rows B..
    if (this.priorRows > 0) this.prior.encoderRowsBackward!(parts.c);
    return out;
  }

  /** Adam update over the whole block; returns the gradient norm before
   *  clipping. An Adam's hyperparameters were checked when it was made; lr
   *  and t are checked here without allocating. */
  adamUpdate(o: Adam, lr: number, t: number, step: number): number {
    if (!(o instanceof Adam)) fail("optimizer", "an Adam instance", o);
    checkInt("t", t, 1);
    checkLearningRate("lr", lr);
    const k = this.net.kernels.raw, base = this.net.kernels.base;
    const { params, grads, m, v } = this.net.plan.blocks;
    const gradNorm = Math.sqrt(k.sum_squares(base + grads.offset, grads.floats));
    if (!Number.isFinite(gradNorm)) {
      throw new NonFiniteLossError(`the gradient norm became ${gradNorm} at step ${step}; the weights are those of the last finite step. Lower the learning rate or enable clipNorm.`);
    }
    if (o.clipNorm !== null && gradNorm > o.clipNorm) k.scale(base + grads.offset, grads.floats, o.clipNorm / gradNorm);
    const bc1 = 1 / (1 - Math.pow(o.beta1, t)), bc2 = 1 / (1 - Math.pow(o.beta2, t));
    const kept = k.adam_step(base + params.offset, base + grads.offset, base + m.offset, base + v.offset, params.floats,
      lr, o.beta1, 1 - o.beta1, o.beta2, 1 - o.beta2, o.eps, 1 - lr * o.weightDecay, bc1, bc2);
    if (kept) {
      throw new NonFiniteLossError(`the Adam update at step ${step} was not finite for some parameters; those kept their previous values (the others and the Adam moments were updated), and training stopped. Lower the learning rate, raise eps, or enable clipNorm.`);
    }
    return gradNorm;
  }
}
