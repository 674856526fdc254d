// Inference on a trained model: encode, decode, sample, reconstruct,
// interpolate, the ELBO, the importance-weighted log-likelihood (IWAE) and
// imputation of missing values. Every method validates its arguments before
// touching the arena, draws only from the evaluation stream, and puts the
// random streams back when it throws (Network.keepStreams). elbo and
// logLikelihood start that stream afresh from the seed on every call and
// leave the running one (sample, reconstruct, impute) where it was.
// Not here: training (step.ts), the arena (network.ts).
import { TEMPERATURE_MAX, type ResolvedConfig } from "./config.js";
import type { Network } from "./network.js";
import { impute, type ImputeOptions } from "./imputation.js";
import type { Objective } from "./step.js";
import { checkCondition, checkRows, checkValue } from "./rows.js";
import { NonFiniteLossError, type Rows } from "../base/types.js";
import { checkBool, checkFinite, checkInt, checkOptions, describe, fail } from "../base/validate.js";
import { activationCode } from "../kernels/wasm.js";
import { kindOf, type Layer } from "../layers/index.js";

/** The largest finite float32: a SIMD scan's bounds for "finite in float32". */
const F32_MAX = 3.4028234663852886e38;

export class Inference {
  private readonly obj: Objective;
  private readonly net: Network;
  private readonly config: Readonly<ResolvedConfig>;
  /** outputLayer's result and the decoder list it was made for (a new
   *  arena layout binds new layers). */
  private fused: Layer | null = null;
  private fusedFor: Layer[] | null = null;

  constructor(obj: Objective) {
    this.obj = obj;
    this.net = obj.net;
    this.config = obj.config;
  }

  /** issue 18: an ArgumentError naming `name` when the latent family refuses `key`. */
  private refused(key: string, name: string, got: unknown): void {
    const why = this.obj.latent.refuses?.[key];
    if (why !== undefined) fail(name, why, got);
  }

  /** Runs `fn(start, B)` over rows in chunks that fit the activations (with
   *  room for a learned prior's own encoder rows after them), or in chunks of
   *  `cap` rows. */
  private chunks(rows: number, fn: (start: number, B: number) => void, cap = this.net.batch - this.obj.priorRows /* [priors] */): void {
    for (let start = 0; start < rows; start += cap) fn(start, Math.min(cap, rows - start));
  }

  /** q(z|x): the mean and log-variance of each row (a categorical latent:
   *  E[z] = the class probabilities, log Var[z], and `logits` = log π). */
  encode(x: Rows, options: { condition?: Rows } = {}): { mean: Float32Array; logvar: Float32Array; logits?: Float32Array } {
    checkOptions("options", options, ["condition"]);
    const rows = checkRows(this.config, "x", x, this.config.inputDim, false);
    checkCondition(this.config, "condition", options.condition, rows);
    const L = this.config.latentDim;
    const own = this.obj.latent.encodeRows; // issue 18: a latent family's own summary of q
    if (own) {
      const r = own(this.heads(x, options.condition, rows), rows, L, this.config.latent);
      checkOutput("encode", "mean", r.mean); checkOutput("encode", "logvar", r.logvar);
      if (r.logits) checkOutput("encode", "logits", r.logits);
      return r;
    }
    const mean = new Float32Array(rows * L), logvar = new Float32Array(rows * L);
    this.chunks(rows, (start, B) => {
      this.obj.loadRows(x, options.condition, B, start, null);
      this.obj.runEncoder(B);
      const H = this.net.heap(), h = this.obj.head >>> 2;
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < L; j++) {
          mean[(start + b) * L + j] = H[h + b * 2 * L + j];
          logvar[(start + b) * L + j] = H[h + b * 2 * L + L + j];
        }
      }
    });
    checkOutput("encode", "mean", mean); checkOutput("encode", "logvar", logvar);
    return { mean, logvar };
  }

  /** p(x|z): Bernoulli probabilities, or Gaussian means, for each row of z. */
  decode(z: Rows, options: { condition?: Rows } = {}): Float32Array {
    checkOptions("options", options, ["condition"]);
    const L = this.config.latentDim, D = this.config.inputDim;
    const rows = checkRows(this.config, "z", z, L, false);
    checkCondition(this.config, "condition", options.condition, rows);
    const out = new Float32Array(rows * D);
    let finite = true;
    this.chunks(rows, (start, B) => {
      this.obj.loadLatents(z, B, start);
      this.obj.loadDecoderCondition(options.condition, B, start, null);
      if (!this.decodeLoaded(B, out, start)) finite = false;
    });
    if (!finite) checkOutput("decode", "result", out); // names the value
    return out;
  }

  /** Decoder forward of B rows in "z.in"; writes means into out rows
   *  [start, start+B). Returns false unless a SIMD scan found every value at
   *  "out" finite (then the caller's TypeScript check names the first that is not). */
  private decodeLoaded(B: number, out: Float32Array, start: number): boolean {
    this.runDecoderMeans(B);
    const D = this.config.inputDim, outp = this.net.ptr["out"], y = outp >>> 2, W = this.outputWidth();
    const scan = this.net.kernels.raw.first_outside;
    const finite = scan !== undefined && scan(outp, B * W, -F32_MAX, F32_MAX) === -1;
    const H = this.net.heap();
    if (W === D) out.set(H.subarray(y, y + B * D), start * D);
    else for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) out[(start + b) * D + d] = H[y + b * W + d];
    return finite;
  }

  /** Floats per row at "out" (gaussian_learned: [means | log σ]). */
  private outputWidth(): number {
    return this.config.likelihood === "gaussian_learned" ? 2 * this.config.inputDim : this.config.inputDim;
  }

  /** Decoder forward of B rows in "z.in"; leaves the means (Bernoulli: the
   *  sigmoid of the logits) at "out". */
  private runDecoderMeans(B: number): void {
    const last = this.outputLayer();
    if (last) { this.net.forward(this.net.dec, B, last); return; }
    this.obj.runDecoder(B);
    if (this.config.likelihood === "bernoulli") {
      const outp = this.net.ptr["out"];
      this.net.kernels.raw.activation_forward(outp, outp, B * this.config.inputDim, activationCode("sigmoid"), 0);
    }
  }

  /** A Bernoulli decoder's last layer with the sigmoid as its fused
   *  activation, when that layer fuses one and its own is the identity (the
   *  logits): one pass over the output instead of two, and a split product's
   *  sigmoid on every thread. The bits are those of the separate pass (an
   *  activation's value never depends on its position, assembly/activation.ts).
   *  Otherwise null (runDecoderMeans runs the sigmoid as its own pass). */
  private outputLayer(): Layer | null {
    const dec = this.net.dec;
    if (this.fusedFor !== dec) {
      const last = dec[dec.length - 1];
      const fuses = this.config.likelihood === "bernoulli" && !this.net.arch.channelSplit &&
        kindOf(last.kind).activates && last.act === activationCode("identity");
      this.fused = fuses ? { ...last, act: activationCode("sigmoid") } : null;
      this.fusedFor = dec;
    }
    return this.fused;
  }

  /** n draws from the model: z ~ N(0, temperature²·I), then decode. */
  sample(n: number, options: { temperature?: number; condition?: Rows } = {}): Float32Array {
    return this.net.keepStreams(() => {
      checkOptions("options", options, ["temperature", "condition"]);
      checkInt("n", n, 1, 1 << 24);
      // issue 18: a latent that takes no temperature says so first (not "expected ≥ 0" for −1, then "expected 1" for 0.5)
      if (options.temperature !== undefined && options.temperature !== 1) this.refused("sample.temperature", "temperature", options.temperature);
      const t = checkFinite("temperature", options.temperature ?? 1, { min: 0, max: TEMPERATURE_MAX, why: "so z = temperature·ε stays well inside float32" });
      checkCondition(this.config, "condition", options.condition, n); // before drawing: a bad call leaves rng.eval untouched
      const z = this.obj.prior.sample(n, this.config.latentDim, this.config.prior, t, (out, kind) => this.draw(out, kind), () => this.net.readTensors(""),
        () => this.priorHeads()!, this.config.latent); // [priors] heads of the prior's own rows; the latent's settings (a structured code)
      return this.decode(z, { condition: options.condition });
    });
  }

  /** decode(E[z|x]) for each row (or a sampled z with `sample: true`). */
  reconstruct(x: Rows, options: { condition?: Rows; sample?: boolean } = {}): Float32Array {
    return this.net.keepStreams(() => {
      checkOptions("options", options, ["condition", "sample"]);
      const sample = checkBool("sample", options.sample, false);
      const codeOf = this.obj.latent.codeOf; // issue 18: the family's mode or draw (categorical: one-hot)
      if (!sample && !codeOf) {
        const r = this.reconstructMean(x, options.condition);
        if (r) return r;
      }
      if (codeOf) {
        const rows = checkRows(this.config, "x", x, this.config.inputDim, false);
        checkCondition(this.config, "condition", options.condition, rows);
        const z = codeOf(this.heads(x, options.condition, rows), rows, this.config.latentDim, this.config.latent, sample ? (o, k) => this.draw(o, k) : null);
        return this.decode(z, { condition: options.condition });
      }
      const { mean, logvar } = this.encode(x, { condition: options.condition });
      if (sample) {
        const eps = new Float32Array(mean.length);
        this.draw(eps, "normal");
        for (let i = 0; i < mean.length; i++) mean[i] += Math.exp(0.5 * logvar[i]) * eps[i];
        checkOutput("reconstruct", "z", mean);
      }
      return this.decode(mean, { condition: options.condition });
    });
  }

  /**
   * decode(E[z|x]) for a latent whose head is [μ | log σ²] (the path of
   * encode without encodeRows), bit for bit, with less around the kernels:
   * μ goes from the head to the decoder input inside the arena (no
   * mean/logvar arrays, no second check of z), the sigmoid is fused into the
   * output layer, and the result is the one allocation. A float32 batch that
   * fits one chunk is copied into "x.in" (scratch) and range-checked there
   * by a SIMD scan (first_outside), as trainStep does; a bad value falls
   * through to checkRows, which names it. The head and the output are
   * checked finite by the same scan; when either is not, null is returned
   * and the general path runs again and throws its named error. Null too
   * when the build has no first_outside (options.wasm of an older build).
   */
  private reconstructMean(x: Rows, condition: Rows | undefined): Float32Array | null {
    const scan = this.net.kernels.raw.first_outside;
    if (scan === undefined || this.obj.latent.encodeRows) return null;
    const D = this.config.inputDim, L = this.config.latentDim, C = this.config.conditionDim;
    const cap = this.net.batch - this.obj.priorRows, p = this.net.ptr;
    let staged = false;
    const rows = checkRows(this.config, "x", x, D, false, (v) => {
      if (C > 0 || v.length > cap * D) return null;
      this.net.heap().set(v, p["x.in"] >>> 2);
      const bad = scan(p["x.in"], v.length, -F32_MAX, F32_MAX);
      staged = bad === -1;
      return bad;
    });
    checkCondition(this.config, "condition", condition, rows);
    const W = this.outputWidth();
    let out: Float32Array | null = null;
    for (let start = 0; start < rows; start += cap) {
      const B = Math.min(cap, rows - start);
      this.obj.loadRows(x, condition, B, start, null, staged);
      this.obj.runEncoder(B);
      const h = this.obj.head;
      if (scan(h, B * 2 * L, -F32_MAX, F32_MAX) !== -1) return null;
      this.net.copyColumns(h, 2 * L, p["z.in"], L + C, B, L);
      this.obj.loadDecoderCondition(condition, B, start, null);
      this.runDecoderMeans(B);
      const y = p["out"];
      if (scan(y, B * W, -F32_MAX, F32_MAX) !== -1) return null;
      const H = this.net.heap(), o = y >>> 2;
      if (W === D && B === rows) return H.slice(o, o + B * D); // one chunk: allocate and copy at once
      out ??= new Float32Array(rows * D);
      if (W === D) out.set(H.subarray(o, o + B * D), start * D);
      else for (let b = 0; b < B; b++) out.set(H.subarray(o + b * W, o + b * W + D), (start + b) * D);
    }
    return out;
  }

  /** Decodes `steps` points from E[z|xa] to E[z|xb], linear or spherical. */
  interpolate(xa: Rows, xb: Rows, steps: number, options: { spherical?: boolean; condition?: Rows } = {}): Float32Array {
    checkOptions("options", options, ["spherical", "condition"]);
    const spherical = checkBool("spherical", options.spherical, false);
    if (spherical) this.refused("interpolate.spherical", "spherical", spherical); // issue 18
    const D = this.config.inputDim, L = this.config.latentDim;
    if (checkRows(this.config, "xa", xa, D, false) !== 1) fail("xa", `one row of ${D} values`, describe(xa));
    if (checkRows(this.config, "xb", xb, D, false) !== 1) fail("xb", `one row of ${D} values`, describe(xb));
    checkInt("steps", steps, 2, 1 << 16);
    const cond = options.condition;
    checkCondition(this.config, "condition", cond, 1);
    const a = this.encode(xa, { condition: cond }).mean, b = this.encode(xb, { condition: cond }).mean;
    const z = new Float32Array(steps * L);
    let dot = 0, na = 0, nb = 0;
    for (let j = 0; j < L; j++) { dot += a[j] * b[j]; na += a[j] * a[j]; nb += b[j] * b[j]; }
    const omega = Math.acos(Math.max(-1, Math.min(1, dot / (Math.sqrt(na * nb) || 1))));
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      let wa = 1 - t, wb = t;
      if (spherical && omega > 1e-6) {
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

  /** Rows per chunk of elbo and logLikelihood: the config's maxBatch, not
   *  the arena's rows (which a larger training batch grows), so the order of
   *  their draws depends on the saved config alone. */
  private evalChunk(): number {
    return Math.min(this.net.batch - this.obj.priorRows, this.config.maxBatch); // [priors]
  }

  /** Per-row ELBO = −(reconstruction + KL) with one (or `samples`) z ~ q(z|x).
   *  The KL is in closed form where the latent family has one for the prior,
   *  else the average over the samples of log q(z|x) − log p(z). ε comes from
   *  the evaluation stream started afresh from the seed on every call
   *  (Network.withFreshEvalStream): the same weights, seed and maxBatch give
   *  the same bits, whatever ran before, and the running stream stays put. */
  elbo(x: Rows, options: { condition?: Rows; samples?: number } = {}): {
    elbo: Float32Array; reconstruction: Float32Array; kl: Float32Array;
  } {
    return this.net.keepStreams(() => {
      checkOptions("options", options, ["condition", "samples"]);
      const rows = checkRows(this.config, "x", x, this.config.inputDim, true);
      checkCondition(this.config, "condition", options.condition, rows);
      const S = checkInt("samples", options.samples ?? 1, 1, 1 << 16);
      const { latent, prior, parts } = this.obj, c = parts.c;
      const closed = latent.closedKL?.(c.prior) === true;
      const elbo = new Float32Array(rows), rec = new Float32Array(rows), kl = new Float32Array(rows);
      this.net.withFreshEvalStream(this.config.seed, () => this.chunks(rows, (start, B) => {
        this.obj.loadRows(x, options.condition, B, start, null);
        this.obj.runEncoderWithPrior(B); // [priors] the components of a VampPrior after the B rows
        if (closed) latent.kl!(c, B);
        this.obj.loadDecoderCondition(options.condition, B, start, null);
        const H = this.net.heap(), p = this.net.ptr;
        for (let s = 0; s < S; s++) {
          this.obj.drawNoise(B, "rng.eval");
          this.obj.runSampler(B);
          this.obj.runDecoder(B);
          this.obj.runLikelihood(B, false, 0);
          for (let b = 0; b < B; b++) rec[start + b] += H[(p["nll"] >>> 2) + b] / S;
          if (!closed) {
            latent.logq(c, B, 1);
            prior.logp(c, B);
            for (let b = 0; b < B; b++) kl[start + b] += (H[(p["logq"] >>> 2) + b] - H[(p["logp"] >>> 2) + b]) / S;
          }
        }
        for (let b = 0; b < B; b++) {
          if (closed) kl[start + b] = H[(p["kl"] >>> 2) + b];
          elbo[start + b] = -(rec[start + b] + kl[start + b]);
        }
      }, this.evalChunk()));
      checkOutput("elbo", "elbo", elbo);
      return { elbo, reconstruction: rec, kl };
    });
  }

  /** The encoder head's rows (rows × headWidth) for x. */
  private heads(x: Rows, condition: Rows | undefined, rows: number): Float32Array {
    const W = this.net.arch.headWidth, out = new Float32Array(rows * W);
    this.chunks(rows, (start, B) => {
      this.obj.loadRows(x, condition, B, start, null);
      this.obj.runEncoder(B);
      const h = this.obj.head >>> 2;
      out.set(this.net.heap().subarray(h, h + B * W), start * W);
    });
    return out;
  }

  /**
   * Importance-weighted estimate of log p(x) per row (Burda et al. 2015):
   *   log p(x) ≈ log (1/k) Σ_s p(x|z_s)·p(z_s)/q(z_s|x),  z_s ~ q(z|x)
   * in float64 with a streaming log-sum-exp; the k samples of all rows are
   * batched through the decoder.
   */
  logLikelihood(x: Rows, options: { samples?: number; condition?: Rows } = {}): Float64Array {
    return this.net.keepStreams(() => {
      checkOptions("options", options, ["samples", "condition"]);
      const D = this.config.inputDim, L = this.config.latentDim, C = this.config.conditionDim;
      const rows = checkRows(this.config, "x", x, D, true);
      checkCondition(this.config, "condition", options.condition, rows);
      const K = checkInt("samples", options.samples ?? 100, 1, 1 << 20);
      const heads = this.heads(x, options.condition, rows);
      const W = this.net.arch.headWidth;
      const { latent, prior, parts } = this.obj, c = parts.c;
      const cap = this.evalChunk(), ph = this.priorHeads(); // [priors]
      const lseMax = new Float64Array(rows).fill(-Infinity), lseSum = new Float64Array(rows);
      const exOf = new Int32Array(cap);
      const total = rows * K;
      const cArr = options.condition as ArrayLike<number> | undefined;
      const cScale = options.condition instanceof Uint8Array ? 1 / 255 : 1;
      const xScale = x instanceof Uint8Array ? 1 / 255 : 1;
      // sample rows in chunks of maxBatch (evalChunk): each is a copy of its row's
      // head, target and condition, so every module runs with S = 1; ε from
      // the evaluation stream started afresh from the seed (as elbo)
      this.net.withFreshEvalStream(this.config.seed, () => {
        for (let done = 0; done < total; done += cap) {
          const B = Math.min(cap, total - done);
          let H = this.net.heap();
          const p = this.net.ptr, ho = p["h"] >>> 2, tgt = p["x.target"] >>> 2, zin = p["z.in"] >>> 2;
          for (let r = 0; r < B; r++) {
            const ex = Math.floor((done + r) / K);
            exOf[r] = ex;
            H.set(heads.subarray(ex * W, (ex + 1) * W), ho + r * W);
            // target row (x.target may alias x.in; either way it is the likelihood's x)
            for (let d = 0; d < D; d++) H[tgt + r * D + d] = (x as ArrayLike<number>)[ex * D + d] * xScale;
            if (C > 0) for (let j = 0; j < C; j++) H[zin + r * (L + C) + L + j] = cArr![ex * C + j] * cScale;
          }
          if (ph) this.placePriorHeads(ph, B); // [priors]
          this.obj.drawNoise(B, "rng.eval");
          this.obj.runSampler(B);
          this.obj.runDecoder(B);
          this.obj.runLikelihood(B, false, 0);
          // Gaussian q with N(0, I): log p(z) − log q(z|x) in float64 from ε, z
          // and log σ² (the constants cancel); otherwise the modules' kernels
          // issue 18: the float64 path is the Gaussian's (a categorical latent's closed-form KL does not apply here)
          const exact = this.config.latent.type === "gaussian" && latent.closedKL?.(c.prior) === true;
          if (!exact) { latent.logq(c, B, 1); prior.logp(c, B); }
          H = this.net.heap();
          const nll = p["nll"] >>> 2, lq = p["logq"] >>> 2, lp = p["logp"] >>> 2, eps = p["eps"] >>> 2, z = p["z"] >>> 2;
          for (let r = 0; r < B; r++) {
            const ex = exOf[r];
            // log w = log p(x|z) + log p(z) − log q(z|x)
            let lw = -H[nll + r];
            if (exact) {
              for (let j = 0; j < L; j++) {
                const e = H[eps + r * L + j], zz = H[z + r * L + j], lv = heads[ex * W + L + j];
                lw += -0.5 * zz * zz + 0.5 * e * e + 0.5 * lv;
              }
            } else lw += H[lp + r] - H[lq + r];
            if (lw > lseMax[ex]) {
              lseSum[ex] = lseSum[ex] * Math.exp(lseMax[ex] - lw) + 1;
              lseMax[ex] = lw;
            } else {
              lseSum[ex] += Math.exp(lw - lseMax[ex]);
            }
          }
        }
      });
      const out = new Float64Array(rows);
      for (let i = 0; i < rows; i++) out[i] = lseMax[i] + Math.log(lseSum[i]) - Math.log(K);
      checkOutput("logLikelihood", "result", out);
      return out;
    });
  }

  /** Fills the entries of x where mask is 0; the methods and options are
   *  described at VAE.impute (the methods: imputation.ts). */
  impute(x: Rows, mask: ArrayLike<number | boolean>, options: ImputeOptions = {}): Float32Array {
    this.refused("impute", "impute", `latent ${JSON.stringify(this.config.latent.type)}`); // issue 18
    const normalPrior = this.obj.parts.c.prior.type === "normal";
    return impute({
      obj: this.obj, net: this.net, config: this.config,
      encode: (v, condition) => this.encode(v, { condition }),
      decode: (z, condition) => this.decode(z, { condition }),
      draw: (out, kind) => this.draw(out, kind),
      // N(0, I) on the host; any other prior by its module (see priorTerms)
      priorTerms: normalPrior ? null : (z) => this.priorTerms(z),
    }, x, mask, options);
  }

  // [priors] learned priors in inference
  /** The encoder head's rows at a learned prior's own encoder rows (the
   *  VampPrior's pseudo-inputs: priorRows × headWidth), or null for none. */
  private priorHeads(): Float32Array | null {
    const K = this.obj.priorRows;
    if (K === 0) return null;
    const c = this.obj.parts.c, W = this.net.arch.headWidth;
    c.priorRow = 0;
    this.obj.prior.loadEncoderRows!(c);
    this.obj.runEncoder(K);
    const h = this.obj.head >>> 2;
    return this.net.heap().slice(h, h + K * W);
  }

  /** Puts priorHeads() into the head rows B.. (where log p reads them). */
  private placePriorHeads(ph: Float32Array, B: number): void {
    this.net.heap().set(ph, (this.obj.head >>> 2) + B * this.net.arch.headWidth);
    this.obj.parts.c.priorRow = B;
  }

  /** log p(z) of each row of z (rows × L) by the prior's module (its own
   *  noise, if any, from the evaluation stream), in float64. */
  private priorTerms(z: Float32Array): Float64Array {
    const L = this.config.latentDim, rows = z.length / L, out = new Float64Array(rows);
    const { prior, parts } = this.obj, c = parts.c, ph = this.priorHeads(); // [priors]
    this.chunks(rows, (start, B) => {
      if (ph) this.placePriorHeads(ph, B); // [priors] the VampPrior's components after the B rows
      let H = this.net.heap();
      H.set(z.subarray(start * L, (start + B) * L), this.net.ptr["z"] >>> 2);
      prior.drawNoise?.(c, this.net.ptr["rng.eval"], B);
      prior.logp(c, B);
      H = this.net.heap();
      const lp = this.net.ptr["logp"] >>> 2;
      for (let b = 0; b < B; b++) out[start + b] = H[lp + b];
    });
    return out;
  }

  /** Fills out with standard normals or uniforms on [0, 1) from the
   *  evaluation stream, through the "eps" buffer in chunks it can hold. */
  private draw(out: Float32Array, kind: "normal" | "uniform"): void {
    const k = this.net.kernels.raw, cap = this.net.batch * this.config.latentDim;
    for (let start = 0; start < out.length; start += cap) {
      const n = Math.min(cap, out.length - start);
      if (kind === "normal") k.rng_normal(this.net.ptr["rng.eval"], this.net.ptr["eps"], n);
      else k.rng_uniform(this.net.ptr["rng.eval"], this.net.ptr["eps"], n);
      const e = this.net.ptr["eps"] >>> 2;
      out.set(this.net.heap().subarray(e, e + n), start);
    }
  }
}

/** Results of inference must be finite: a value that overflowed float32
 *  (inputs or weights too large for the network) is an error, not a result. */
function checkOutput(method: string, what: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new NonFiniteLossError(`${method}: ${what}[${i}] became ${a[i]} (float32 overflow): the inputs or the weights are too large in magnitude for this network`);
    }
  }
}
