// The VAE: one arena of wasm memory (params | grads | m | v | rng |
// activations | scratch, planned by plan.ts), a training step that reads like
// llm.c (forward, zero grad, backward, update), and the inference methods.
//
// Loss per batch of B rows (Kingma & Welling 2013, eq. 10, negated):
//   loss = (1/B) Σ_b [ −log p(x_b | z_b) + β·KL(q(z|x_b) ‖ N(0, I)) ]
// with one reparameterized sample z_b = μ_b + σ_b·ε_b per row.
//
// Hot paths call the raw kernels with pointers from the plan; every public
// method validates its arguments first (validate.ts) so no wasm trap escapes.
import { Adam, checkLearningRate } from "./adam.js";
import { fit, type BatchSource, type FitHistory, type FitOptions } from "./fit.js";
import { layersOf, planSpecOf, resolveConfig, type ResolvedConfig, type VAEConfig } from "./config.js";
import { decodeModel, encodeModel, ModelFormatError } from "./io.js";
import { planMemory, type MemoryPlan } from "./plan.js";
import { HostRng } from "./random.js";
import { loadThreadedKernels } from "./threads.js";
import { activationCode, type Build, type Kernels, type LoadOptions } from "./wasm.js";
import type { LayerSpec } from "./plan.js";
import { checkFinite, checkInt, describe, fail } from "./validate.js";

const LOG_2PI = Math.log(2 * Math.PI);
const ACT_IDENTITY = 0;
const ACT_SIGMOID = 4;

/** Rows of data: a Float32Array (values as given) or a Uint8Array (scaled by
 *  1/255), row-major with `dim` columns. */
export type Rows = Float32Array | Float64Array | Uint8Array | number[];

export interface StepResult {
  /** Batch mean of −log p(x|z) + β·KL. */
  loss: number;
  /** Batch mean of −log p(x|z). */
  reconstruction: number;
  /** Batch mean of KL(q(z|x) ‖ N(0, I)). */
  kl: number;
}

export interface BatchInput {
  x: Rows;
  /** (rows × conditionDim) condition vectors of a conditional VAE. */
  condition?: Rows;
}

export class NonFiniteLossError extends Error {
  override name = "NonFiniteLossError";
}

interface Layer extends LayerSpec {
  act: number;
  w: number; b: number; dw: number; db: number;
  /** Absolute pointers of this layer's input, output and their gradients. */
  x: number; y: number; dx: number; dy: number;
}

export class VAE {
  readonly config: Readonly<ResolvedConfig>;
  /** The kernel build that runs ("plain" or "relaxed"). */
  readonly build: Build;
  readonly kernels: Kernels;
  private opt!: Adam;
  /** Training steps taken (one per batch). */
  steps = 0;
  /** Completed epochs of `fit`. */
  epochs = 0;
  /** Host-side random stream (epoch shuffles). */
  hostRng: HostRng;
  /** Where an in-memory fit epoch stopped when it was aborted (null between
   *  epochs): the next fit redoes that epoch's shuffle and continues after
   *  the batches already done. Saved with the optimizer state. */
  epochCursor: EpochCursor | null = null;

  private plan!: MemoryPlan;
  private ptr: Record<string, number> = {};
  private enc: Layer[] = [];
  private dec: Layer[] = [];
  private heapBuf: ArrayBuffer | SharedArrayBuffer | null = null;
  private heapF: Float32Array = new Float32Array(0);

  private constructor(config: ResolvedConfig, kernels: Kernels) {
    this.config = Object.freeze({ ...config, encoder: [...config.encoder], decoder: [...config.decoder] });
    this.kernels = kernels;
    this.build = kernels.build;
    this.opt = new Adam();
    this.hostRng = new HostRng(config.seed, 1);
    this.layout(config.maxBatch);
    this.initialize();
  }

  /** The optimizer used by trainStep and fit. Attaching a fresh Adam (step 0)
   *  starts its moments from zero; an Adam restored with a step count (from
   *  Adam.fromState) keeps the moments in the arena. */
  get optimizer(): Adam {
    return this.opt;
  }

  set optimizer(a: Adam) {
    if (!(a instanceof Adam)) fail("optimizer", "an Adam instance", a);
    if (a !== this.opt && a.step === 0) this.resetMoments();
    this.opt = a;
  }

  /** Forgets an interrupted epoch: the next fit starts a fresh one. */
  discardPartialEpoch(): void {
    this.epochCursor = null;
  }

  /** Zeroes the Adam moments (m and v blocks). */
  resetMoments(): void {
    const { m, v } = this.plan.blocks;
    this.kernels.raw.fill(this.kernels.base + m.offset, m.floats, 0);
    this.kernels.raw.fill(this.kernels.base + v.offset, v.floats, 0);
  }

  /** Creates a model (wasm instantiation is asynchronous). `options.threads`
   *  (a count or "auto", the default) splits the kernels over threads. */
  static async create(config: VAEConfig, options: LoadOptions = {}): Promise<VAE> {
    const c = resolveConfig(config);
    const kernels = await loadThreadedKernels(options);
    return new VAE(c, kernels);
  }

  /** Threads the kernels run on (1 where threads are unavailable: see
   *  `kernels.threadsHandle.note`). */
  get threads(): number {
    return this.kernels.threads;
  }

  /** Stops the model's helper threads (it keeps working on one thread). Not
   *  needed before a Node process exits: idle threads never keep it alive. */
  dispose(): void {
    this.kernels.dispose();
  }

  // ---------------------------------------------------------------- memory

  /** Plans the arena for `batch` rows and grows memory once to hold it. */
  private layout(batch: number): void {
    const plan = planMemory(planSpecOf(this.config, batch));
    this.kernels.reserve(plan.totalBytes);
    this.plan = plan;
    const base = this.kernels.base;
    this.ptr = {};
    for (const [name, t] of Object.entries(plan.tensors)) this.ptr[name] = base + t.offset;
    const { encoder, decoder } = layersOf(this.config);
    const p = this.ptr;
    const cond = this.config.conditionDim > 0;
    const hidden = activationCode(this.config.activation);
    const mk = (l: LayerSpec, i: number, n: number, x: number, dx: number): Layer => ({
      ...l,
      act: i === n - 1 ? ACT_IDENTITY : hidden,
      w: p[`${l.name}.weight`], b: p[`${l.name}.bias`],
      dw: p[`grad:${l.name}.weight`], db: p[`grad:${l.name}.bias`],
      x, y: p[`act:${l.name}`], dx, dy: p[`dact:${l.name}`],
    });
    this.enc = [];
    encoder.forEach((l, i) => {
      const prev = i === 0 ? null : this.enc[i - 1];
      this.enc.push(mk(l, i, encoder.length, prev ? prev.y : p["x.in"], prev ? prev.dy : 0));
    });
    this.dec = [];
    // without a condition the sampler writes straight into the decoder input
    if (!cond) { p["z"] = p["z.in"]; p["dz"] = p["dz.in"]; p["x.target"] = p["x.in"]; }
    decoder.forEach((l, i) => {
      const prev = i === 0 ? null : this.dec[i - 1];
      this.dec.push(mk(l, i, decoder.length, prev ? prev.y : p["z.in"], prev ? prev.dy : p["dz.in"]));
    });
    this.heapBuf = null;
  }

  /** Makes room for `rows` rows of activations (grows memory; parameters stay put). */
  private ensureBatch(rows: number): void {
    if (rows > this.plan.batch) this.layout(rows);
  }

  /** Rows the activations currently hold. */
  get batchCapacity(): number {
    return this.plan.batch;
  }

  /** A Float32Array over all of memory, re-created whenever memory grew. */
  private heap(): Float32Array {
    const buf = this.kernels.memory.buffer;
    if (buf !== this.heapBuf) {
      this.heapBuf = buf;
      this.heapF = new Float32Array(buf);
    }
    return this.heapF;
  }

  private initialize(): void {
    const k = this.kernels.raw;
    const seed = this.config.seed;
    const lo = seed >>> 0, hi = Math.floor(seed / 2 ** 32) >>> 0;
    k.rng_seed(this.ptr["rng.train"], lo, hi);
    k.rng_seed(this.ptr["rng.eval"], lo, (hi ^ 0x80000000) >>> 0);
    const { params, grads, m, v } = this.plan.blocks;
    const base = this.kernels.base;
    for (const b of [params, grads, m, v]) k.fill(base + b.offset, b.floats, 0);
    const H = this.heap();
    const init = this.config.init;
    for (const l of [...this.enc, ...this.dec]) {
      const a = init === "he" ? Math.sqrt(6 / l.inDim) : init === "pytorch" ? 1 / Math.sqrt(l.inDim) : Math.sqrt(6 / (l.inDim + l.outDim));
      // weights U(−a, a); biases 0, or U(−a, a) for "pytorch"
      for (const [p, n] of init === "pytorch" ? [[l.w, l.inDim * l.outDim], [l.b, l.outDim]] : [[l.w, l.inDim * l.outDim]]) {
        k.rng_uniform(this.ptr["rng.train"], p, n);
        const o = p >> 2;
        for (let i = 0; i < n; i++) H[o + i] = (2 * H[o + i] - 1) * a;
      }
    }
  }

  // -------------------------------------------------------------- parameters

  /** Parameter names with their shapes, in arena order. */
  parameterShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const l of [...this.enc, ...this.dec]) {
      out[`${l.name}.weight`] = [l.inDim, l.outDim];
      out[`${l.name}.bias`] = [l.outDim];
    }
    return out;
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    let n = 0;
    for (const l of [...this.enc, ...this.dec]) n += l.inDim * l.outDim + l.outDim;
    return n;
  }

  /** Copies of every parameter tensor (weights are (in, out) row-major). */
  getWeights(): Record<string, Float32Array> {
    return this.readTensors("");
  }

  /** Copies of the gradient of every parameter from the last backward pass. */
  getGradients(): Record<string, Float32Array> {
    return this.readTensors("grad:");
  }

  private readTensors(prefix: string): Record<string, Float32Array> {
    const H = this.heap();
    const out: Record<string, Float32Array> = {};
    for (const name of Object.keys(this.parameterShapes())) {
      const t = this.plan.tensors[`${prefix}${name}`];
      const o = this.ptr[`${prefix}${name}`] >> 2;
      out[name] = H.slice(o, o + t.size);
    }
    return out;
  }

  /** Sets some or all parameters. Every given tensor is checked (name, length,
   *  finite values) before any is written, so a bad call changes nothing. */
  setWeights(weights: Record<string, ArrayLike<number>>): void {
    if (weights === null || typeof weights !== "object") fail("weights", "an object of name → Float32Array", weights);
    const shapes = this.parameterShapes();
    const staged: [number, Float32Array][] = [];
    for (const [name, arr] of Object.entries(weights)) {
      const shape = shapes[name];
      if (!shape) fail(`weights["${name}"]`, `a parameter name (one of ${Object.keys(shapes).join(", ")})`);
      const n = shape.reduce((a, b) => a * b, 1);
      if (!arr || typeof (arr as ArrayLike<number>).length !== "number") fail(`weights["${name}"]`, `an array of ${n} numbers`, arr);
      if (arr.length !== n) fail(`weights["${name}"]`, `${n} values for shape [${shape.join(", ")}]`, arr.length);
      const f = Float32Array.from(arr);
      for (let i = 0; i < n; i++) if (!Number.isFinite(f[i])) fail(`weights["${name}"][${i}]`, "a finite number", arr[i]);
      staged.push([this.ptr[name], f]);
    }
    const H = this.heap();
    for (const [p, f] of staged) H.set(f, p >> 2);
  }

  // ------------------------------------------------------------------ input

  /** Validates rows of data for this model; returns the row count. */
  checkRows(name: string, x: unknown, dim: number, targets: boolean): number {
    if (!(x instanceof Float32Array || x instanceof Float64Array || x instanceof Uint8Array || Array.isArray(x))) {
      fail(name, `a Float32Array, Uint8Array or number[] of rows × ${dim} values`, x);
    }
    const arr = x as ArrayLike<number>;
    if (arr.length === 0) fail(name, `at least one row of ${dim} values (it is empty)`);
    if (arr.length % dim !== 0) fail(name, `a length that is a multiple of ${dim} (rows × ${dim})`, arr.length);
    const bern = targets && this.config.likelihood === "bernoulli";
    if (x instanceof Float32Array || x instanceof Float64Array) {
      // fast scan; on a failure, fall through to the scan that names the value
      let ok = true;
      if (bern) { for (let i = 0; i < x.length; i++) { const v = x[i]; if (!(v >= 0 && v <= 1)) { ok = false; break; } } }
      else { for (let i = 0; i < x.length; i++) { const v = x[i]; if (v - v !== 0) { ok = false; break; } } }
      if (ok) return arr.length / dim;
    }
    if (!(x instanceof Uint8Array)) {
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (typeof v !== "number" || !Number.isFinite(v)) fail(`${name}[${i}]`, "a finite number", v);
        if (bern && (v < 0 || v > 1)) fail(`${name}[${i}]`, "a value in [0, 1] for the Bernoulli likelihood", v);
      }
    }
    return arr.length / dim;
  }

  private checkCondition(name: string, c: unknown, rows: number): void {
    const C = this.config.conditionDim;
    if (C === 0) {
      if (c !== undefined && c !== null) fail(name, "no condition (this model has conditionDim 0)", c);
      return;
    }
    if (c === undefined || c === null) fail(name, `a condition of rows × ${C} values (this is a conditional VAE)`);
    const n = this.checkRows(name, c, C, false);
    if (n !== rows) fail(name, `${rows} rows of ${C} values, one per data row`, `${n} rows`);
  }

  /** Writes rows [start, start+B) (or rows perm[start..]) of x and c into the
   *  encoder input and target buffers. Allocation-free. */
  private loadRows(x: ArrayLike<number>, c: ArrayLike<number> | undefined, B: number, start: number,
                   perm: Uint32Array | null): void {
    const H = this.heap();
    const D = this.config.inputDim, C = this.config.conditionDim, W = D + C;
    const xin = this.ptr["x.in"] >> 2, tgt = this.ptr["x.target"] >> 2;
    const s = x instanceof Uint8Array ? 1 / 255 : 1;
    if (!perm && C === 0 && start === 0 && x.length === B * D && (x instanceof Float32Array || x instanceof Float64Array)) {
      H.set(x, xin); // the whole batch in one copy
      return;
    }
    for (let b = 0; b < B; b++) {
      const r = perm ? perm[start + b] : start + b;
      const src = r * D, dst = xin + b * W;
      if (s === 1) for (let d = 0; d < D; d++) H[dst + d] = x[src + d];
      else for (let d = 0; d < D; d++) H[dst + d] = x[src + d] * s;
      if (C > 0) {
        const t = tgt + b * D;
        for (let d = 0; d < D; d++) H[t + d] = H[dst + d];
        const cs = c instanceof Uint8Array ? 1 / 255 : 1;
        for (let j = 0; j < C; j++) H[dst + D + j] = c![r * C + j] * cs;
      }
    }
  }

  /** Writes the condition part of the decoder input for B rows. */
  private loadDecoderCondition(c: ArrayLike<number> | undefined, B: number, start: number, perm: Uint32Array | null): void {
    const C = this.config.conditionDim;
    if (C === 0) return;
    const H = this.heap();
    const L = this.config.latentDim, W = L + C;
    const zin = this.ptr["z.in"] >> 2;
    const cs = c instanceof Uint8Array ? 1 / 255 : 1;
    for (let b = 0; b < B; b++) {
      const r = perm ? perm[start + b] : start + b;
      for (let j = 0; j < C; j++) H[zin + b * W + L + j] = c![r * C + j] * cs;
    }
  }

  // ------------------------------------------------------- forward/backward

  private runEncoder(B: number): void {
    const k = this.kernels.raw, s = this.ptr["scratch"], alpha = this.config.activationAlpha;
    for (const l of this.enc) k.dense_forward(l.y, l.x, l.w, l.b, B, l.inDim, l.outDim, l.act, alpha, s);
  }

  /** z = μ + σ·ε into the decoder input; ε already in "eps". */
  private runSampler(B: number): void {
    const k = this.kernels.raw, L = this.config.latentDim, C = this.config.conditionDim;
    const h = this.enc[this.enc.length - 1].y;
    k.gaussian_sample_forward(this.ptr["z"], h, this.ptr["eps"], B, L);
    if (C > 0) this.copyColumns(this.ptr["z"], L, this.ptr["z.in"], L + C, B, L);
  }

  private runDecoder(B: number): void {
    const k = this.kernels.raw, s = this.ptr["scratch"], alpha = this.config.activationAlpha;
    for (const l of this.dec) k.dense_forward(l.y, l.x, l.w, l.b, B, l.inDim, l.outDim, l.act, alpha, s);
  }

  /** Per-row −log p(x|z) into "nll" (and its gradient, scaled by w, into the
   *  decoder output's gradient when `grad`). */
  private runLikelihood(B: number, grad: boolean, w: number): void {
    const k = this.kernels.raw, D = this.config.inputDim;
    const out = this.dec[this.dec.length - 1];
    const nll = this.ptr["nll"], x = this.ptr["x.target"];
    switch (this.config.likelihood) {
      case "bernoulli":
        if (grad) k.bernoulli_nll_forward_backward(nll, out.dy, out.y, x, B, D, w);
        else k.bernoulli_nll_forward(nll, out.y, x, B, D);
        break;
      case "gaussian":
        k.gaussian_nll_forward(nll, out.y, x, B, D, this.config.sigma);
        if (grad) k.gaussian_nll_backward(out.dy, out.y, x, B, D, this.config.sigma, w);
        break;
      case "gaussian-learned":
        k.gaussian_learned_nll_forward(nll, out.y, x, B, D);
        if (grad) k.gaussian_learned_nll_backward(out.dy, out.y, x, B, D, w);
        break;
    }
  }

  /** Copies B rows of `cols` floats between buffers with different row widths. */
  private copyColumns(src: number, srcW: number, dst: number, dstW: number, B: number, cols: number): void {
    const H = this.heap();
    const s = src >> 2, d = dst >> 2;
    for (let b = 0; b < B; b++) for (let j = 0; j < cols; j++) H[d + b * dstW + j] = H[s + b * srcW + j];
  }

  /** Backward through decoder, sampler/KL and encoder; writes every
   *  parameter's gradient (each layer's dW and db once). `scoreFunction` swaps the reparameterized
   *  encoder gradient for REINFORCE (Williams 1992). */
  private runBackward(B: number, beta: number, scoreFunction: { baseline: boolean } | null): void {
    const k = this.kernels.raw, s = this.ptr["scratch"], alpha = this.config.activationAlpha;
    const L = this.config.latentDim, C = this.config.conditionDim;
    for (let i = this.dec.length - 1; i >= 0; i--) {
      const l = this.dec[i];
      k.dense_backward(l.dx, l.dw, l.db, l.dy, l.x, l.w, l.y, B, l.inDim, l.outDim, l.act, alpha, 0, s);
    }
    const top = this.enc[this.enc.length - 1];
    // dh = (β/B)·∂KL/∂h (written), then the sampler adds ∂z/∂h·dz
    k.kl_normal_backward(top.dy, top.y, B, L, beta / B);
    if (scoreFunction) {
      this.scoreFunctionGrad(B, top.y, top.dy, scoreFunction.baseline);
    } else {
      if (C > 0) this.copyColumns(this.ptr["dz.in"], L + C, this.ptr["dz"], L, B, L);
      k.gaussian_sample_backward(top.dy, this.ptr["dz"], top.y, this.ptr["eps"], B, L);
    }
    for (let i = this.enc.length - 1; i >= 0; i--) {
      const l = this.enc[i];
      k.dense_backward(l.dx, l.dw, l.db, l.dy, l.x, l.w, l.y, B, l.inDim, l.outDim, l.act, alpha, 0, s);
    }
  }

  /** Score-function gradient of E_q[−log p(x|z)] w.r.t. h = [μ | logvar]:
   *    (f_b − c_b)·∇_h log q(z_b|x_b),  f_b = nll_b
   *    ∂log q/∂μ = ε/σ,   ∂log q/∂logvar = ½(ε² − 1)
   *  c_b = 0, or with `baseline` the mean of the OTHER rows' f (leave-one-out,
   *  so c_b is independent of z_b and the estimator stays unbiased).
   *  Accumulated (weight 1/B) into dh. */
  private scoreFunctionGrad(B: number, h: number, dh: number, baseline: boolean): void {
    const H = this.heap(), L = this.config.latentDim;
    const nll = this.ptr["nll"] >> 2, eps = this.ptr["eps"] >> 2, ho = h >> 2, dho = dh >> 2;
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

  private batchStats(B: number, beta: number, out: StepResult): StepResult {
    const H = this.heap();
    const nll = this.ptr["nll"] >> 2, kl = this.ptr["kl"] >> 2;
    let r = 0, q = 0;
    for (let b = 0; b < B; b++) { r += H[nll + b]; q += H[kl + b]; }
    out.reconstruction = r / B;
    out.kl = q / B;
    out.loss = out.reconstruction + beta * out.kl;
    return out;
  }

  /** One full forward + backward of B loaded rows. ε is drawn from the
   *  training stream unless `noiseGiven` (already in "eps"). */
  private forwardBackward(B: number, beta: number, noiseGiven: boolean, out: StepResult,
                          scoreFunction: { baseline: boolean } | null = null,
                          c?: ArrayLike<number>, start = 0, perm: Uint32Array | null = null): StepResult {
    const k = this.kernels.raw, L = this.config.latentDim;
    this.runEncoder(B);
    if (!noiseGiven) k.rng_normal(this.ptr["rng.train"], this.ptr["eps"], B * L);
    this.runSampler(B);
    if (this.config.conditionDim > 0) this.loadDecoderCondition(c, B, start, perm);
    this.runDecoder(B);
    this.runLikelihood(B, true, 1 / B);
    k.kl_normal_forward(this.ptr["kl"], this.enc[this.enc.length - 1].y, B, L);
    this.batchStats(B, beta, out);
    if (!Number.isFinite(out.loss)) {
      throw new NonFiniteLossError(`the loss became ${out.loss} at step ${this.steps + 1} (reconstruction ${out.reconstruction}, KL ${out.kl}); the weights are those of the last finite step. Lower the learning rate or enable clipNorm.`);
    }
    // every dense_backward writes its dW and db: no zeroing pass
    this.runBackward(B, beta, scoreFunction);
    return out;
  }

  /** Adam update over the whole block (called by Adam.apply); returns the
   *  gradient norm before clipping. An Adam's hyperparameters were checked when
   *  it was made; lr and t are checked here without allocating. */
  adamUpdate(o: Adam, lr: number, t: number): number {
    if (!(o instanceof Adam)) fail("optimizer", "an Adam instance", o);
    checkInt("t", t, 1);
    checkLearningRate("lr", lr);
    const k = this.kernels.raw, base = this.kernels.base;
    const { params, grads, m, v } = this.plan.blocks;
    const gradNorm = Math.sqrt(k.sum_squares(base + grads.offset, grads.floats));
    if (!Number.isFinite(gradNorm)) {
      throw new NonFiniteLossError(`the gradient norm became ${gradNorm} at step ${this.steps + 1}; the weights are those of the last finite step. Lower the learning rate or enable clipNorm.`);
    }
    if (o.clipNorm !== null && gradNorm > o.clipNorm) k.scale(base + grads.offset, grads.floats, o.clipNorm / gradNorm);
    const bc1 = 1 / (1 - Math.pow(o.beta1, t)), bc2 = 1 / (1 - Math.pow(o.beta2, t));
    const kept = k.adam_step(base + params.offset, base + grads.offset, base + m.offset, base + v.offset, params.floats,
      lr, o.beta1, 1 - o.beta1, o.beta2, 1 - o.beta2, o.eps, 1 - lr * o.weightDecay, bc1, bc2);
    if (kept) {
      throw new NonFiniteLossError(`the Adam update at step ${this.steps + 1} was not finite for some parameters; those kept their previous values (the others and the Adam moments were updated), and training stopped. Lower the learning rate, raise eps, or enable clipNorm.`);
    }
    return gradNorm;
  }

  // --------------------------------------------------------------- training

  private normBatch(batch: Rows | BatchInput, name: string): { x: Rows; c?: Rows; rows: number } {
    const isInput = batch !== null && typeof batch === "object" && !ArrayBuffer.isView(batch) && !Array.isArray(batch);
    const x = isInput ? (batch as BatchInput).x : (batch as Rows);
    const c = isInput ? (batch as BatchInput).condition : undefined;
    const rows = this.checkRows(isInput ? `${name}.x` : name, x, this.config.inputDim, true);
    this.checkCondition(`${name}.condition`, c, rows);
    return { x, c, rows };
  }

  /**
   * One training step on a batch: forward, zero grad, backward, Adam update.
   * `out` (optional) is filled and returned, so a loop can run allocation-free.
   */
  trainStep(batch: Rows | BatchInput, options: { beta?: number; out?: StepResult } = {}): StepResult {
    checkOptions("options", options, ["beta", "out"]);
    const { x, c, rows } = this.normBatch(batch, "batch");
    const beta = options.beta === undefined ? this.config.beta : checkFinite("beta", options.beta, { min: 0 });
    const out = options.out ?? { loss: 0, reconstruction: 0, kl: 0 };
    if (out === null || typeof out !== "object" || Object.isFrozen(out)) fail("options.out", "a writable object to fill with {loss, reconstruction, kl}", out);
    this.ensureBatch(rows);
    this.loadRows(x, c, rows, 0, null);
    return this.stepLoaded(rows, beta, out, c, 0, null);
  }

  /** A step on rows already validated; used by fit. */
  stepRows(x: ArrayLike<number>, c: ArrayLike<number> | undefined, start: number, B: number,
           perm: Uint32Array | null, beta: number, out: StepResult): StepResult {
    // the rows themselves were validated once by the caller (fit); these checks are O(1)
    const total = x.length / this.config.inputDim;
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(start) || start < 0 || start + B > total) {
      fail("stepRows", `start ≥ 0 and B ≥ 1 with start + B ≤ ${total} rows`, `start ${start}, B ${B}`);
    }
    if (perm && perm.length !== total) fail("perm", `a permutation of ${total} rows`, perm.length);
    if (!Number.isFinite(beta) || beta < 0) fail("beta", "a finite number ≥ 0", beta);
    this.ensureBatch(B);
    this.loadRows(x, c, B, start, perm);
    return this.stepLoaded(B, beta, out, c, start, perm);
  }

  private stepLoaded(B: number, beta: number, out: StepResult, c: ArrayLike<number> | undefined,
                     start: number, perm: Uint32Array | null): StepResult {
    const lr = this.opt.rate(this.opt.step + 1); // a bad lr schedule fails before anything moves
    this.forwardBackward(B, beta, false, out, null, c, start, perm);
    this.opt.apply(this, lr);
    this.steps += 1;
    return out;
  }

  /**
   * Loss and the gradient of every parameter on a batch, without updating.
   * `noise` (rows × latentDim) fixes ε; otherwise it is drawn from the training
   * stream. `estimator: "score"` gives the REINFORCE encoder gradient.
   */
  computeGradients(batch: Rows | BatchInput, options: {
    noise?: Rows; beta?: number; estimator?: "reparameterized" | "score"; baseline?: boolean;
  } = {}): StepResult & { gradients: Record<string, Float32Array> } {
    checkOptions("options", options, ["noise", "beta", "estimator", "baseline"]);
    const { x, c, rows } = this.normBatch(batch, "batch");
    const beta = options.beta === undefined ? this.config.beta : checkFinite("beta", options.beta, { min: 0 });
    const est = options.estimator ?? "reparameterized";
    if (est !== "reparameterized" && est !== "score") fail("estimator", `"reparameterized" or "score"`, est);
    this.ensureBatch(rows);
    const L = this.config.latentDim;
    if (options.noise !== undefined) {
      const n = this.checkRows("noise", options.noise, L, false);
      if (n !== rows) fail("noise", `${rows} rows × ${L} values (one ε per row)`, `${n} rows`);
    }
    this.loadRows(x, c, rows, 0, null);
    if (options.noise !== undefined) this.heap().set(Float32Array.from(options.noise as ArrayLike<number>), this.ptr["eps"] >> 2);
    const out = { loss: 0, reconstruction: 0, kl: 0 };
    this.forwardBackward(rows, beta, options.noise !== undefined, out,
      est === "score" ? { baseline: options.baseline ?? false } : null, c, 0, null);
    return { ...out, gradients: this.getGradients() };
  }

  /**
   * Variance of the encoder gradient under the reparameterized and the
   * score-function estimators on one batch: the mean over encoder parameters
   * of the per-parameter variance across `samples` draws of ε (the same draws
   * for both). The reparameterized one is typically orders of magnitude lower.
   */
  estimatorVariance(batch: Rows | BatchInput, options: { samples?: number; baseline?: boolean } = {}): {
    reparameterized: number; score: number;
  } {
    checkOptions("options", options, ["samples", "baseline"]);
    const S = checkInt("samples", options.samples ?? 16, 2, 100000);
    const { x, c, rows } = this.normBatch(batch, "batch");
    const L = this.config.latentDim;
    const noises: Float32Array[] = [];
    this.ensureBatch(rows);
    for (let s = 0; s < S; s++) {
      this.kernels.raw.rng_normal(this.ptr["rng.eval"], this.ptr["eps"], rows * L);
      noises.push(this.heap().slice(this.ptr["eps"] >> 2, (this.ptr["eps"] >> 2) + rows * L));
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
  }

  /** Trains with fit.ts: in-memory rows or a stream of batches. */
  fit(data: Rows | BatchSource | (() => BatchSource), options: FitOptions = {}): Promise<FitHistory> {
    return fit(this, data, options);
  }

  // --------------------------------------------------------------- inference

  /** Runs `fn(start, B)` over rows in chunks that fit the activations. */
  private chunks(rows: number, fn: (start: number, B: number) => void): void {
    const cap = this.plan.batch;
    for (let start = 0; start < rows; start += cap) fn(start, Math.min(cap, rows - start));
  }

  /** q(z|x): the mean and log-variance of each row. */
  encode(x: Rows, options: { condition?: Rows } = {}): { mean: Float32Array; logvar: Float32Array } {
    checkOptions("options", options, ["condition"]);
    const rows = this.checkRows("x", x, this.config.inputDim, false);
    this.checkCondition("condition", options.condition, rows);
    const L = this.config.latentDim;
    const mean = new Float32Array(rows * L), logvar = new Float32Array(rows * L);
    this.chunks(rows, (start, B) => {
      this.loadRows(x, options.condition, B, start, null);
      this.runEncoder(B);
      const H = this.heap(), h = this.enc[this.enc.length - 1].y >> 2;
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < L; j++) {
          mean[(start + b) * L + j] = H[h + b * 2 * L + j];
          logvar[(start + b) * L + j] = H[h + b * 2 * L + L + j];
        }
      }
    });
    return { mean, logvar };
  }

  /** p(x|z): Bernoulli probabilities, or Gaussian means, for each row of z. */
  decode(z: Rows, options: { condition?: Rows } = {}): Float32Array {
    checkOptions("options", options, ["condition"]);
    const L = this.config.latentDim, D = this.config.inputDim;
    const rows = this.checkRows("z", z, L, false);
    this.checkCondition("condition", options.condition, rows);
    const out = new Float32Array(rows * D);
    this.chunks(rows, (start, B) => {
      this.loadLatents(z, B, start);
      this.loadDecoderCondition(options.condition, B, start, null);
      this.decodeLoaded(B, out, start);
    });
    return out;
  }

  /** Decoder forward of B rows in "z.in"; writes means into out rows [start, start+B). */
  private decodeLoaded(B: number, out: Float32Array, start: number): void {
    this.runDecoder(B);
    const D = this.config.inputDim, last = this.dec[this.dec.length - 1];
    const W = this.config.likelihood === "gaussian-learned" ? 2 * D : D;
    if (this.config.likelihood === "bernoulli") this.kernels.raw.activation_forward(last.y, last.y, B * D, ACT_SIGMOID, 0);
    const H = this.heap(), y = last.y >> 2;
    if (W === D) out.set(H.subarray(y, y + B * D), start * D);
    else for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) out[(start + b) * D + d] = H[y + b * W + d];
  }

  /** n draws from the model: z ~ N(0, temperature²·I), then decode. */
  sample(n: number, options: { temperature?: number; condition?: Rows } = {}): Float32Array {
    checkOptions("options", options, ["temperature", "condition"]);
    checkInt("n", n, 1, 1 << 24);
    const t = checkFinite("temperature", options.temperature ?? 1, { min: 0 });
    this.checkCondition("condition", options.condition, n); // before drawing: a bad call leaves rng.eval untouched
    const L = this.config.latentDim;
    const z = new Float32Array(n * L);
    this.draw(z, "normal");
    for (let i = 0; i < z.length; i++) z[i] *= t;
    return this.decode(z, { condition: options.condition });
  }

  /** decode(E[z|x]) for each row (or a sampled z with `sample: true`). */
  reconstruct(x: Rows, options: { condition?: Rows; sample?: boolean } = {}): Float32Array {
    checkOptions("options", options, ["condition", "sample"]);
    const { mean, logvar } = this.encode(x, { condition: options.condition });
    if (options.sample) {
      const eps = new Float32Array(mean.length);
      this.draw(eps, "normal");
      for (let i = 0; i < mean.length; i++) mean[i] += Math.exp(0.5 * logvar[i]) * eps[i];
    }
    return this.decode(mean, { condition: options.condition });
  }

  /** Decodes `steps` points from E[z|xa] to E[z|xb], linear or spherical. */
  interpolate(xa: Rows, xb: Rows, steps: number, options: { spherical?: boolean; condition?: Rows } = {}): Float32Array {
    checkOptions("options", options, ["spherical", "condition"]);
    const D = this.config.inputDim, L = this.config.latentDim;
    if (this.checkRows("xa", xa, D, false) !== 1) fail("xa", `one row of ${D} values`, describe(xa));
    if (this.checkRows("xb", xb, D, false) !== 1) fail("xb", `one row of ${D} values`, describe(xb));
    checkInt("steps", steps, 2, 1 << 16);
    const cond = options.condition;
    this.checkCondition("condition", cond, 1);
    const a = this.encode(xa, { condition: cond }).mean, b = this.encode(xb, { condition: cond }).mean;
    const z = new Float32Array(steps * L);
    let dot = 0, na = 0, nb = 0;
    for (let j = 0; j < L; j++) { dot += a[j] * b[j]; na += a[j] * a[j]; nb += b[j] * b[j]; }
    const omega = Math.acos(Math.max(-1, Math.min(1, dot / (Math.sqrt(na * nb) || 1))));
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      let wa = 1 - t, wb = t;
      if (options.spherical && omega > 1e-6) {
        wa = Math.sin((1 - t) * omega) / Math.sin(omega);
        wb = Math.sin(t * omega) / Math.sin(omega);
      }
      for (let j = 0; j < L; j++) z[s * L + j] = wa * a[j] + wb * b[j];
    }
    let condRep: Float32Array | undefined;
    if (cond) {
      const C = this.config.conditionDim;
      condRep = new Float32Array(steps * C);
      for (let s = 0; s < steps; s++) for (let j = 0; j < C; j++) condRep[s * C + j] = (cond as ArrayLike<number>)[j] * (cond instanceof Uint8Array ? 1 / 255 : 1);
    }
    return this.decode(z, { condition: condRep });
  }

  /** Per-row ELBO = −(reconstruction + KL) with one (or `samples`) z ~ q(z|x). */
  elbo(x: Rows, options: { condition?: Rows; samples?: number } = {}): {
    elbo: Float32Array; reconstruction: Float32Array; kl: Float32Array;
  } {
    checkOptions("options", options, ["condition", "samples"]);
    const rows = this.checkRows("x", x, this.config.inputDim, true);
    this.checkCondition("condition", options.condition, rows);
    const S = checkInt("samples", options.samples ?? 1, 1, 1 << 16);
    const L = this.config.latentDim;
    const elbo = new Float32Array(rows), rec = new Float32Array(rows), kl = new Float32Array(rows);
    this.chunks(rows, (start, B) => {
      this.loadRows(x, options.condition, B, start, null);
      this.runEncoder(B);
      this.kernels.raw.kl_normal_forward(this.ptr["kl"], this.enc[this.enc.length - 1].y, B, L);
      this.loadDecoderCondition(options.condition, B, start, null);
      const H = this.heap();
      for (let s = 0; s < S; s++) {
        this.kernels.raw.rng_normal(this.ptr["rng.eval"], this.ptr["eps"], B * L);
        this.runSampler(B);
        this.runDecoder(B);
        this.runLikelihood(B, false, 0);
        for (let b = 0; b < B; b++) rec[start + b] += H[(this.ptr["nll"] >> 2) + b] / S;
      }
      for (let b = 0; b < B; b++) {
        kl[start + b] = H[(this.ptr["kl"] >> 2) + b];
        elbo[start + b] = -(rec[start + b] + kl[start + b]);
      }
    });
    return { elbo, reconstruction: rec, kl };
  }

  /**
   * Importance-weighted estimate of log p(x) per row (Burda et al. 2015):
   *   log p(x) ≈ log (1/k) Σ_s p(x|z_s)·p(z_s)/q(z_s|x),  z_s ~ q(z|x)
   * in float64 with a streaming log-sum-exp; the k samples of all rows are
   * batched through the decoder.
   */
  logLikelihood(x: Rows, options: { samples?: number; condition?: Rows } = {}): Float64Array {
    checkOptions("options", options, ["samples", "condition"]);
    const D = this.config.inputDim, L = this.config.latentDim, C = this.config.conditionDim;
    const rows = this.checkRows("x", x, D, true);
    this.checkCondition("condition", options.condition, rows);
    const K = checkInt("samples", options.samples ?? 100, 1, 1 << 20);
    const { mean, logvar } = this.encode(x, { condition: options.condition });
    const cap = this.plan.batch;
    const lseMax = new Float64Array(rows).fill(-Infinity), lseSum = new Float64Array(rows);
    const exOf = new Int32Array(cap);
    const k = this.kernels.raw;
    const total = rows * K;
    const h = this.enc[this.enc.length - 1].y;
    const cArr = options.condition as ArrayLike<number> | undefined;
    const cScale = options.condition instanceof Uint8Array ? 1 / 255 : 1;
    const xScale = x instanceof Uint8Array ? 1 / 255 : 1;
    for (let done = 0; done < total; done += cap) {
      const B = Math.min(cap, total - done);
      let H = this.heap();
      const ho = h >> 2, tgt = this.ptr["x.target"] >> 2, zin = this.ptr["z.in"] >> 2;
      for (let r = 0; r < B; r++) {
        const ex = Math.floor((done + r) / K);
        exOf[r] = ex;
        for (let j = 0; j < L; j++) {
          H[ho + r * 2 * L + j] = mean[ex * L + j];
          H[ho + r * 2 * L + L + j] = logvar[ex * L + j];
        }
        // target row (x.target may alias x.in; either way it is the likelihood's x)
        for (let d = 0; d < D; d++) H[tgt + r * D + d] = (x as ArrayLike<number>)[ex * D + d] * xScale;
        if (C > 0) for (let j = 0; j < C; j++) H[zin + r * (L + C) + L + j] = cArr![ex * C + j] * cScale;
      }
      k.rng_normal(this.ptr["rng.eval"], this.ptr["eps"], B * L);
      this.runSampler(B);
      this.runDecoder(B);
      this.runLikelihood(B, false, 0);
      H = this.heap();
      const eps = this.ptr["eps"] >> 2, z = this.ptr["z"] >> 2, nll = this.ptr["nll"] >> 2;
      for (let r = 0; r < B; r++) {
        const ex = exOf[r];
        // log w = log p(x|z) + log p(z) − log q(z|x)
        let lw = -H[nll + r];
        for (let j = 0; j < L; j++) {
          const e = H[eps + r * L + j], zz = H[z + r * L + j], lv = logvar[ex * L + j];
          lw += -0.5 * zz * zz + 0.5 * e * e + 0.5 * lv;
        }
        if (lw > lseMax[ex]) {
          lseSum[ex] = lseSum[ex] * Math.exp(lseMax[ex] - lw) + 1;
          lseMax[ex] = lw;
        } else {
          lseSum[ex] += Math.exp(lw - lseMax[ex]);
        }
      }
    }
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) out[i] = lseMax[i] + Math.log(lseSum[i]) - Math.log(K);
    return out;
  }

  /**
   * Fills the entries of x where mask is 0 (observed where 1) by iterating
   * encode → sample z → decode on the missing entries while the observed ones
   * stay fixed (Rezende et al. 2014, §5.2). Missing entries start at `initial`
   * (default 0).
   * - method "metropolis" (default; Mattei & Frellsen 2018): z' ~ q(z|x̂) is
   *   accepted with probability
   *     min(1, p(x_obs|z')·p(z')·q(z|x̂) / (p(x_obs|z)·p(z)·q(z'|x̂))),
   *   then x̂_miss ~ p(x_miss|z). This chain targets p(z, x_miss | x_obs); the
   *   result is E[x_miss | z] averaged over the iterations after `burnIn`
   *   (default a fifth), an estimate of the posterior mean E[x_miss | x_obs].
   * - method "pseudo-gibbs": z ~ q(z|x̂), x̂_miss = E[x_miss|z], the last
   *   iteration decoding E[z|x̂]: one plausible completion.
   */
  impute(x: Rows, mask: ArrayLike<number | boolean>, options: {
    iterations?: number; burnIn?: number; method?: "metropolis" | "pseudo-gibbs"; condition?: Rows; initial?: number;
  } = {}): Float32Array {
    checkOptions("options", options, ["iterations", "burnIn", "method", "condition", "initial"]);
    const D = this.config.inputDim, L = this.config.latentDim;
    if (!(x instanceof Float32Array || x instanceof Float64Array || x instanceof Uint8Array || Array.isArray(x))) {
      fail("x", `a Float32Array, Uint8Array or number[] of rows × ${D} values`, x);
    }
    if (x.length === 0 || x.length % D !== 0) fail("x", `rows × ${D} values (a non-zero multiple of ${D})`, x.length);
    const rows = x.length / D;
    const cond = options.condition;
    this.checkCondition("condition", cond, rows);
    if (!mask || typeof (mask as ArrayLike<unknown>).length !== "number") fail("mask", `an array of ${rows * D} (or ${D}) 0/1 values`, mask);
    if (mask.length !== rows * D && mask.length !== D) fail("mask", `length ${rows * D} (one per value) or ${D} (shared by all rows)`, mask.length);
    for (let i = 0; i < mask.length; i++) {
      const m = mask[i];
      if (!(m === 0 || m === 1 || m === true || m === false)) fail(`mask[${i}]`, "0/1 or a boolean (1 = observed)", m);
    }
    const method = options.method ?? "metropolis";
    if (method !== "metropolis" && method !== "pseudo-gibbs") fail("method", `"metropolis" or "pseudo-gibbs"`, method);
    const iterations = checkInt("iterations", options.iterations ?? (method === "metropolis" ? 100 : 20), 1, 1 << 16);
    const burnIn = checkInt("burnIn", options.burnIn ?? Math.floor(iterations / 5), 0, iterations - 1);
    const bern = this.config.likelihood === "bernoulli";
    const init = checkFinite("initial", options.initial ?? 0, bern ? { min: 0, max: 1 } : {});
    const xs = x instanceof Uint8Array ? 1 / 255 : 1;
    const cur = new Float32Array(rows * D);
    const shared = mask.length === D;
    const obs = new Uint8Array(rows * D);
    for (let i = 0; i < rows * D; i++) { const m = mask[shared ? i % D : i]; obs[i] = m === 1 || m === true ? 1 : 0; }
    // observed entries must be valid data; missing ones are ignored (NaN is fine there)
    for (let i = 0; i < rows * D; i++) {
      if (!obs[i]) continue;
      const v = (x as ArrayLike<number>)[i];
      if (typeof v !== "number" || !Number.isFinite(v)) fail(`x[${i}]`, "a finite number (it is observed: mask 1)", v);
      if (bern && xs === 1 && (v < 0 || v > 1)) fail(`x[${i}]`, "a value in [0, 1] for the Bernoulli likelihood", v);
    }
    for (let i = 0; i < rows * D; i++) cur[i] = obs[i] ? (x as ArrayLike<number>)[i] * xs : init;
    const eps = new Float32Array(rows * L), z = new Float32Array(rows * L);

    if (method === "pseudo-gibbs") {
      for (let it = 0; it < iterations; it++) {
        const q = this.encode(cur, { condition: cond });
        if (it === iterations - 1) z.set(q.mean);
        else {
          this.draw(eps, "normal");
          for (let i = 0; i < rows * L; i++) z[i] = q.mean[i] + Math.exp(0.5 * q.logvar[i]) * eps[i];
        }
        const rec = this.decode(z, { condition: cond });
        for (let i = 0; i < rows * D; i++) if (!obs[i]) cur[i] = rec[i];
      }
      return cur;
    }

    // Metropolis-within-Gibbs. log q(z|x̂) up to a constant, per row:
    const logq = (zz: Float32Array, q: { mean: Float32Array; logvar: Float32Array }, r: number) => {
      let v = 0;
      for (let j = 0; j < L; j++) {
        const i = r * L + j, t = (zz[i] - q.mean[i]) * Math.exp(-0.5 * q.logvar[i]);
        v += -0.5 * t * t - 0.5 * q.logvar[i];
      }
      return v;
    };
    const logPrior = (zz: Float32Array, r: number) => {
      let v = 0;
      for (let j = 0; j < L; j++) v -= 0.5 * zz[r * L + j] * zz[r * L + j];
      return v;
    };
    let q = this.encode(cur, { condition: cond });
    this.draw(eps, "normal");
    for (let i = 0; i < rows * L; i++) z[i] = q.mean[i] + Math.exp(0.5 * q.logvar[i]) * eps[i];
    // the current state's decoder output and log p(x_obs|z) (x_obs never changes)
    const state = this.decodeWithLogLik(z, cur, obs, cond);
    const zp = new Float32Array(rows * L), u = new Float32Array(Math.max(rows, rows * D));
    const acc = new Float64Array(rows * D);
    for (let it = 0; it < iterations; it++) {
      if (it > 0) q = this.encode(cur, { condition: cond });
      this.draw(eps, "normal");
      for (let i = 0; i < rows * L; i++) zp[i] = q.mean[i] + Math.exp(0.5 * q.logvar[i]) * eps[i];
      const prop = this.decodeWithLogLik(zp, cur, obs, cond);
      this.draw(u.subarray(0, rows), "uniform");
      for (let r = 0; r < rows; r++) {
        const logRatio = prop.logp[r] + logPrior(zp, r) - logq(zp, q, r) - (state.logp[r] + logPrior(z, r) - logq(z, q, r));
        if (Math.log(u[r]) < logRatio) {
          z.set(zp.subarray(r * L, (r + 1) * L), r * L);
          state.logp[r] = prop.logp[r];
          state.means.set(prop.means.subarray(r * D, (r + 1) * D), r * D);
          if (state.scales) state.scales.set(prop.scales!.subarray(r * D, (r + 1) * D), r * D);
        }
      }
      // x̂_miss ~ p(x_miss | z)
      if (bern) {
        this.draw(u, "uniform");
        for (let i = 0; i < rows * D; i++) if (!obs[i]) cur[i] = u[i] < state.means[i] ? 1 : 0;
      } else {
        const e = new Float32Array(rows * D);
        this.draw(e, "normal");
        for (let i = 0; i < rows * D; i++) if (!obs[i]) cur[i] = state.means[i] + state.scales![i] * e[i];
      }
      if (it >= burnIn) for (let i = 0; i < rows * D; i++) acc[i] += state.means[i];
    }
    const kept = iterations - burnIn;
    for (let i = 0; i < rows * D; i++) cur[i] = obs[i] ? (x as ArrayLike<number>)[i] * xs : acc[i] / kept;
    return cur;
  }

  /** Fills out with standard normals or uniforms on [0, 1) from the
   *  evaluation stream, through the "eps" buffer in chunks it can hold. */
  private draw(out: Float32Array, kind: "normal" | "uniform"): void {
    const k = this.kernels.raw, cap = this.plan.batch * this.config.latentDim;
    for (let start = 0; start < out.length; start += cap) {
      const n = Math.min(cap, out.length - start);
      if (kind === "normal") k.rng_normal(this.ptr["rng.eval"], this.ptr["eps"], n);
      else k.rng_uniform(this.ptr["rng.eval"], this.ptr["eps"], n);
      const e = this.ptr["eps"] >> 2;
      out.set(this.heap().subarray(e, e + n), start);
    }
  }

  /** Writes rows [start, start+B) of z (rows × L) into the decoder input. */
  private loadLatents(z: ArrayLike<number>, B: number, start: number): void {
    const H = this.heap(), L = this.config.latentDim, W = L + this.config.conditionDim;
    const zin = this.ptr["z.in"] >> 2, zs = z instanceof Uint8Array ? 1 / 255 : 1;
    for (let b = 0; b < B; b++) for (let j = 0; j < L; j++) H[zin + b * W + j] = z[(start + b) * L + j] * zs;
  }

  /** Decodes z (rows × L) and returns the means (and σ for a Gaussian) and,
   *  per row, log p(x_obs|z) over the entries with obs = 1 (float64). */
  private decodeWithLogLik(z: Float32Array, x: Float32Array, obs: Uint8Array, cond: Rows | undefined):
      { means: Float32Array; scales: Float32Array | null; logp: Float64Array } {
    const L = this.config.latentDim, D = this.config.inputDim;
    const rows = z.length / L;
    const lik = this.config.likelihood;
    const means = new Float32Array(rows * D), logp = new Float64Array(rows);
    const scales = lik === "bernoulli" ? null : new Float32Array(rows * D);
    const W = lik === "gaussian-learned" ? 2 * D : D;
    const logSigma = Math.log(this.config.sigma);
    this.chunks(rows, (start, B) => {
      this.loadLatents(z, B, start);
      this.loadDecoderCondition(cond, B, start, null);
      this.runDecoder(B);
      const H = this.heap();
      const y = this.dec[this.dec.length - 1].y >> 2;
      for (let b = 0; b < B; b++) {
        const r = start + b;
        let lp = 0;
        for (let d = 0; d < D; d++) {
          const o = y + b * W + d, i = r * D + d;
          let m: number;
          if (lik === "bernoulli") {
            const l = H[o];
            m = 1 / (1 + Math.exp(-l));
            if (obs[i]) lp -= Math.max(l, 0) - l * x[i] + Math.log1p(Math.exp(-Math.abs(l)));
          } else {
            m = H[o];
            const ls = lik === "gaussian" ? logSigma : H[o + D];
            scales![i] = Math.exp(ls);
            if (obs[i]) { const t = (x[i] - m) * Math.exp(-ls); lp -= 0.5 * t * t + ls + 0.5 * LOG_2PI; }
          }
          means[i] = m;
        }
        logp[r] = lp;
      }
    });
    return { means, scales, logp };
  }

  // ------------------------------------------------------------ save/load

  /** The model as bytes in the versioned, checksummed format of io.ts; with
   *  `optimizer` (default true) also the Adam moments, PRNG states and
   *  counters, so training resumes bit-identically. */
  save(options: { optimizer?: boolean } = {}): Uint8Array {
    checkOptions("options", options, ["optimizer"]);
    return encodeModel(this.config as ResolvedConfig, this.exportState(), this.parameterShapes(), this.build, options.optimizer ?? true);
  }

  /** A new model from saved bytes. A file saved while training with an lr
   *  schedule needs that `schedule` again to continue training. */
  static async load(bytes: Uint8Array, options: LoadOptions & { schedule?: (step: number) => number } = {}): Promise<VAE> {
    checkOptions("options", options, ["build", "deterministic", "wasm", "threads", "schedule"]);
    const { config, state } = decodeModel(bytes);
    const vae = await VAE.create(config, options);
    vae.importState(state, options.schedule);
    return vae;
  }

  /** Loads saved bytes into this model. The file must have this model's
   *  architecture (sizes, activation and α, likelihood and σ, condition);
   *  β, seed, init and maxBatch stay this model's. Everything is validated
   *  first, so on error the model is unchanged. A weights-only file resets
   *  the Adam moments, the optimizer's step and the step/epoch counters. */
  load(bytes: Uint8Array, options: { schedule?: (step: number) => number } = {}): void {
    checkOptions("options", options, ["schedule"]);
    const { config, state } = decodeModel(bytes);
    const arch = (c: ResolvedConfig) => JSON.stringify([layersOf(c), c.activation, c.activationAlpha, c.likelihood, c.sigma, c.conditionDim]);
    if (arch(config) !== arch(this.config as ResolvedConfig)) {
      throw new ModelFormatError(`model file: its architecture (${describeArch(config)}) differs from this model's (${describeArch(this.config as ResolvedConfig)})`);
    }
    this.importState(state, options.schedule);
  }

  // ------------------------------------------------------------ raw state

  /** Everything that defines the model's numeric state, copied out. */
  exportState(): ModelState {
    const H = this.heap();
    const u = (name: string) => new Uint32Array(H.buffer, this.ptr[name], 4).slice();
    return {
      weights: this.getWeights(), m: this.readTensors("m:"), v: this.readTensors("v:"),
      rngTrain: u("rng.train"), rngEval: u("rng.eval"), hostRng: this.hostRng.s.slice(),
      optimizer: this.optimizer.state(), steps: this.steps, epochs: this.epochs,
      epochCursor: this.epochCursor ? { ...this.epochCursor, hostRng: this.epochCursor.hostRng.slice() } : null,
    };
  }

  /** Applies a state after checking every part against this model; on any
   *  error nothing has been written. Without moments (a weights-only state)
   *  the moments, the optimizer's step and the counters start from zero. */
  importState(s: ModelState, schedule?: (step: number) => number): void {
    const shapes = this.parameterShapes();
    const staged: [number, Float32Array][] = [];
    if ((s.m === undefined) !== (s.v === undefined)) fail("state", "both Adam moments (m and v) or neither");
    for (const [part, prefix, required] of [[s.weights, "", true], [s.m, "m:", false], [s.v, "v:", false]] as const) {
      if (!part) { if (required) fail("state.weights", "the model's weights"); continue; }
      for (const [n, shape] of Object.entries(shapes)) {
        const t = part[n];
        const size = shape.reduce((a, b) => a * b, 1);
        if (!(t instanceof Float32Array) || t.length !== size) fail(`state ${prefix || "weights:"}${n}`, `${size} floats for shape [${shape.join(", ")}]`, t);
        for (let i = 0; i < size; i++) if (!Number.isFinite(t[i])) fail(`state ${prefix || "weights:"}${n}[${i}]`, "a finite number", t[i]);
        staged.push([this.ptr[`${prefix}${n}`], t]);
      }
      for (const n of Object.keys(part)) if (!shapes[n]) fail(`state ${prefix || "weights:"}${n}`, "a parameter of this model");
    }
    for (const k of ["rngTrain", "rngEval", "hostRng"] as const) {
      const r = s[k];
      if (r !== undefined && (!(r instanceof Uint32Array) || r.length !== 4 || (r[0] | r[1] | r[2] | r[3]) === 0)) fail(`state.${k}`, "4 u32 words, not all zero", r);
    }
    if (schedule !== undefined && typeof schedule !== "function") fail("schedule", "a function from the 1-based step to a learning rate", schedule);
    const keep = typeof this.opt.lr === "function" ? this.opt.lr : undefined;
    const optimizer = s.optimizer ? Adam.fromState(s.optimizer, schedule ?? keep) : null;
    if (s.epochCursor) {
      const c = s.epochCursor;
      if (!(c.hostRng instanceof Uint32Array) || c.hostRng.length !== 4 || (c.hostRng[0] | c.hostRng[1] | c.hostRng[2] | c.hostRng[3]) === 0) fail("state.epochCursor.hostRng", "4 u32 words, not all zero", c.hostRng);
      checkInt("state.epochCursor.batchSize", c.batchSize, 1);
      checkInt("state.epochCursor.rows", c.rows, 1);
      checkInt("state.epochCursor.batch", c.batch, 0, Math.ceil(c.rows / c.batchSize));
      if (typeof c.shuffle !== "boolean") fail("state.epochCursor.shuffle", "a boolean", c.shuffle);
    }
    if (s.steps !== undefined) checkInt("state.steps", s.steps, 0);
    if (s.epochs !== undefined) checkInt("state.epochs", s.epochs, 0);
    // everything checked: now write
    const H = this.heap();
    for (const [p, t] of staged) H.set(t, p >> 2);
    if (!s.m) {
      this.resetMoments();
      this.opt = new Adam({ lr: schedule ?? this.opt.lr, beta1: this.opt.beta1, beta2: this.opt.beta2, eps: this.opt.eps, weightDecay: this.opt.weightDecay, clipNorm: this.opt.clipNorm ?? undefined });
      this.steps = 0;
      this.epochs = 0;
      this.epochCursor = null;
    }
    if (s.rngTrain) new Uint32Array(H.buffer, this.ptr["rng.train"], 4).set(s.rngTrain);
    if (s.rngEval) new Uint32Array(H.buffer, this.ptr["rng.eval"], 4).set(s.rngEval);
    if (s.hostRng) this.hostRng.s.set(s.hostRng);
    if (optimizer) this.opt = optimizer;
    if (s.steps !== undefined) this.steps = s.steps;
    if (s.epochs !== undefined) this.epochs = s.epochs;
    if (s.epochCursor !== undefined) this.epochCursor = s.epochCursor ? { ...s.epochCursor, hostRng: s.epochCursor.hostRng.slice() } : null;
  }
}

export interface EpochCursor {
  /** The shuffle stream's state before the interrupted epoch's shuffle. */
  hostRng: Uint32Array;
  /** Batches of that epoch already trained. */
  batch: number;
  batchSize: number;
  rows: number;
  shuffle: boolean;
}

export interface ModelState {
  weights: Record<string, Float32Array>;
  /** Adam moments per parameter. */
  m?: Record<string, Float32Array>;
  v?: Record<string, Float32Array>;
  rngTrain?: Uint32Array;
  rngEval?: Uint32Array;
  hostRng?: Uint32Array;
  optimizer?: import("./adam.js").AdamState;
  steps?: number;
  epochs?: number;
  epochCursor?: EpochCursor | null;
}

/** Options objects may be omitted, never null or a non-object, and hold only
 *  known keys (a misspelt option is an error, not silently ignored). */
function checkOptions(name: string, o: unknown, known: readonly string[]): void {
  if (o === null || typeof o !== "object" || Array.isArray(o)) fail(name, "an options object (or nothing)", o);
  for (const k in o as object) {
    if (Object.prototype.hasOwnProperty.call(o, k) && !known.includes(k)) fail(`${name}.${k}`, `no such option (known: ${known.join(", ") || "none"})`);
  }
}

function describeArch(c: ResolvedConfig): string {
  return `${[c.inputDim + c.conditionDim, ...c.encoder, c.latentDim].join("-")} | ${[c.latentDim + c.conditionDim, ...c.decoder, c.inputDim].join("-")}, ${c.likelihood}`;
}

function concat(parts: Float32Array[]): Float32Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

