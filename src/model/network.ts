// The arena and the networks in it: one block of wasm memory laid out by
// plan.ts, the encoder and decoder as lists of layers bound to pointers,
// weight initialisation, and the generic forward/backward walks over a list
// (llm.c's gpt2_forward / gpt2_backward: each layer's kind does its part).
// Not here: the VAE objective (step.ts), inference (inference.ts).
import { levelLayers, type Architecture } from "./architecture.js";
import { kindOf, type Layer, type LayerSpec, type StepContext } from "../layers/index.js";
import { size } from "../base/shape.js";
import { drawOf, type InitScheme } from "../layers/init.js";
import { planMemory, type MemoryPlan } from "./plan.js";
import type { HostRng } from "../base/random.js";
import { activationCode, type Kernels } from "../kernels/wasm.js";
import { fail } from "../base/validate.js";

/** The most bytes a wasm32 memory holds. */
const WASM32_BYTES = 4 * 1024 ** 3;

export interface NetworkDims {
  inputDim: number;
  latentDim: number;
  conditionDim: number;
  /** Floats per row of the decoder output. */
  outputDim: number;
  /** Random numbers per sample row (the latent family's noise width). */
  noiseWidth: number;
}

export class Network {
  readonly kernels: Kernels;
  readonly arch: Architecture;
  readonly dims: NetworkDims;
  plan!: MemoryPlan;
  /** Absolute byte pointers of every planned tensor, plus the aliases below. */
  ptr: Record<string, number> = {};
  enc: Layer[] = [];
  dec: Layer[] = [];
  /** Parameter-only layers (a learned prior's tensors). */
  extra: Layer[] = [];
  /** The stochastic layers above the first (arch.levels), bound: level i's
   *  encoder reads z_{i−1}, its decoder z_i ("level<i>.z"). */
  levels: { enc: Layer[]; dec: Layer[] }[] = [];
  /** Context of the kind calls (kernels, scratch, α, condition rows). */
  ctx!: StepContext;
  /** The host-side random stream (epoch shuffles), kept with the arena's two
   *  so keepStreams can restore all three. */
  readonly hostRng: HostRng;
  private readonly alpha: number;
  private heapBuf: ArrayBuffer | SharedArrayBuffer | null = null;
  private heapF: Float32Array = new Float32Array(0);
  private heapU: Uint32Array = new Uint32Array(0);
  /** Random streams saved by the outermost keepStreams (train, eval, host). */
  private savedStreams = new Uint32Array(12);
  private streamDepth = 0;

  constructor(kernels: Kernels, arch: Architecture, dims: NetworkDims, alpha: number, batch: number, hostRng: HostRng) {
    this.kernels = kernels;
    this.arch = arch;
    this.dims = dims;
    this.alpha = alpha;
    this.hostRng = hostRng;
    this.layout(batch);
  }

  /** The per-row buffers of the VAE around the two networks. */
  private buffers(): [string, number][] {
    const { inputDim: D, latentDim: L, conditionDim: C, outputDim, noiseWidth } = this.dims;
    const a = this.arch;
    const b: [string, number][] = [
      ["x.in", a.conditionAtInput ? D + C : D],   // encoder input [x | c], or x
      ["x.target", D],                             // likelihood target x
      ["x.rep", D],                                // targets of the sample rows b·S + s (S > 1)
      ["eps", noiseWidth], ["z", L], ["dz", L],
      ["z.in", L + C], ["dz.in", L + C],           // decoder input [z | c]
      ["nll", 1], ["kl", 1],
      // objectives (per sample row): log q(z|x), log p(z), the per-row loss,
      // normalized importance weights and the gradient coefficients
      ["logq", 1], ["logp", 1], ["loss", 1], ["wts", 1], ["coef.a", 1], ["coef.c", 1],
    ];
    if (C > 0 && !a.conditionAtInput) b.push(["c.in", C]);                  // condition rows for the encoder
    if (a.channelSplit) b.push(["out.planar", outputDim], ["dout.planar", outputDim]); // [means | log σ]
    // learned priors: their own buffers; the encoder input's gradient when the
    // prior runs encoder rows of its own (the VampPrior's pseudo-inputs)
    b.push(...a.priorBuffers);
    if (a.priorRows > 0) b.push(["dx.in", a.conditionAtInput ? D + C : D]);
    // stochastic layer i ≥ 2: z_i and its gradient, the gradient its encoder
    // sends to z_{i−1}, and per sample row log q(z_i|z_{i−1}), log p(z_i)
    // (from the levels above) and log p(z_{i−1}|z_i)
    a.levels.forEach((l, k) => {
      const n = `level${k + 2}`;
      b.push([`${n}.z`, l.size], [`${n}.dz`, l.size], [`${n}.dx`, l.below], [`${n}.logq`, 1], [`${n}.logp`, 1], [`${n}.cond`, 1]);
    });
    return b;
  }

  /** Plans the arena for `batch` rows and grows memory once to hold it. An
   *  arena past the 4 GiB of a wasm32 memory is refused by the caller's
   *  argument (`name`, which had the value `got`), before anything changes. */
  layout(batch: number, name = "config.maxBatch", got: unknown = batch): void {
    const a = this.arch, { conditionDim: C } = this.dims;
    const plan = planMemory({ layers: [...a.encoder, ...a.decoder, ...levelLayers(a), ...a.extra], buffers: this.buffers(), batch, fixed: a.priorFixed });
    const need = this.kernels.base + plan.totalBytes;
    if (need > WASM32_BYTES) {
      fail(name, `fewer rows: ${batch} rows of this network's activations need ${need} bytes, more than the 4 GiB a wasm32 memory can hold`, got);
    }
    this.kernels.reserve(plan.totalBytes);
    this.plan = plan;
    const base = this.kernels.base;
    const p: Record<string, number> = {};
    for (const [name, t] of Object.entries(plan.tensors)) p[name] = base + t.offset;
    // without a condition the sampler writes straight into the decoder input
    if (C === 0) { p["z"] = p["z.in"]; p["dz"] = p["dz.in"]; }
    // x.in holding x alone is the likelihood's target too
    if (!a.conditionAtInput) p["x.target"] = p["x.in"];
    this.ptr = p;
    this.enc = this.bind(a.encoder, p["x.in"], p["dx.in"] ?? 0);
    this.dec = this.bind(a.decoder, p["z.in"], p["dz.in"]);
    this.levels = a.levels.map((l, k) => {
      const n = `level${k + 2}`, below = k === 0 ? p["z"] : p[`level${k + 1}.z`];
      return { enc: this.bind(l.encoder, below, p[`${n}.dx`]), dec: this.bind(l.decoder, p[`${n}.z`], p[`${n}.dz`]) };
    });
    this.extra = this.bind(a.extra, 0, 0);
    const head = this.enc[this.enc.length - 1];
    p["h"] = head.y; p["dh"] = head.dy;
    const last = this.dec[this.dec.length - 1];
    p["out"] = a.channelSplit ? p["out.planar"] : last.y;
    p["dout"] = a.channelSplit ? p["dout.planar"] : last.dy;
    this.ctx = { k: this.kernels.raw, scratch: p["scratch"], alpha: this.alpha, condition: p["c.in"] ?? 0, rng: p["rng.train"], train: false };
    this.heapBuf = null;
  }

  /** Binds a list to pointers: each layer reads the previous one's output. */
  private bind(specs: LayerSpec[], x: number, dx: number): Layer[] {
    const p = this.ptr, out: Layer[] = [];
    for (const s of specs) {
      const y = s.alias ? x : p[`act:${s.name}`], dy = s.alias ? dx : p[`dact:${s.name}`];
      out.push({
        ...s, x, dx, y, dy, act: activationCode(s.activation),
        p: s.params.map((q) => p[q.name]), g: s.params.map((q) => p[`grad:${q.name}`]),
        b: (s.buffers ?? []).map((q) => p[q.name]),
      });
      x = y; dx = dy;
    }
    return out;
  }

  /** Rows the activations hold. */
  get batch(): number {
    return this.plan.batch;
  }

  /** Makes room for `rows` rows of activations (grows memory; parameters
   *  stay put); `name` and `got` name the caller's argument in an error. */
  ensureBatch(rows: number, name = "rows", got: unknown = rows): void {
    if (rows > this.plan.batch) this.layout(rows, name, got);
  }

  /** A Float32Array over all of memory, re-created whenever memory grew. */
  heap(): Float32Array {
    const buf = this.kernels.memory.buffer;
    if (buf !== this.heapBuf) {
      this.heapBuf = buf;
      this.heapF = new Float32Array(buf);
      this.heapU = new Uint32Array(buf);
    }
    return this.heapF;
  }

  /** Runs fn; if it throws, the training, evaluation and host random streams
   *  are put back as they were before it (a call that throws changes
   *  nothing). Nested calls save and restore once, at the outermost. */
  keepStreams<T>(fn: () => T): T {
    if (this.streamDepth++ === 0) this.copyStreams(true);
    try {
      return fn();
    } catch (e) {
      if (this.streamDepth === 1) this.copyStreams(false);
      throw e;
    } finally {
      this.streamDepth--;
    }
  }

  /** Saves (or puts back) the three random streams. */
  copyStreams(save: boolean): void {
    this.heap();
    const U = this.heapU, S = this.savedStreams, t = this.ptr["rng.train"] >>> 2, e = this.ptr["rng.eval"] >>> 2;
    for (let i = 0; i < 4; i++) {
      if (save) { S[i] = U[t + i]; S[4 + i] = U[e + i]; S[8 + i] = this.hostRng.s[i]; }
      else { U[t + i] = S[i]; U[e + i] = S[4 + i]; this.hostRng.s[i] = S[8 + i]; }
    }
  }

  /** Seeds rng.eval from `seed` as a new model's is seeded: the 64-bit seed
   *  with its top bit flipped (rng.train gets the seed itself). */
  private seedEval(seed: number): void {
    const lo = seed >>> 0, hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.kernels.raw.rng_seed(this.ptr["rng.eval"], lo, (hi ^ 0x80000000) >>> 0);
  }

  /** Runs fn with rng.eval started afresh from `seed` (the state a new model
   *  with that seed has), then puts the running rng.eval back, also when fn
   *  throws: what fn draws depends on the seed alone, not on the draws of
   *  earlier calls, and the running stream does not move. */
  withFreshEvalStream<T>(seed: number, fn: () => T): T {
    this.heap();
    const saved = this.heapU.slice(this.ptr["rng.eval"] >>> 2, (this.ptr["rng.eval"] >>> 2) + 4);
    this.seedEval(seed);
    try {
      return fn();
    } finally {
      this.heap(); // fn may have grown memory
      this.heapU.set(saved, this.ptr["rng.eval"] >>> 2);
    }
  }

  /** Seeds both streams, zeroes the four blocks, and initialises every
   *  parameter tensor, layer by layer in arena order, as its ParamSpec.init
   *  says under the config's scheme (layers/init.ts: drawOf). */
  initialize(seed: number, init: InitScheme): void {
    const k = this.kernels.raw;
    const lo = seed >>> 0, hi = Math.floor(seed / 2 ** 32) >>> 0;
    k.rng_seed(this.ptr["rng.train"], lo, hi);
    this.seedEval(seed);
    const { params, grads, m, v } = this.plan.blocks;
    const base = this.kernels.base;
    for (const b of [params, grads, m, v]) k.fill(base + b.offset, b.floats, 0);
    const H = this.heap();
    // non-trainable buffers: their constants (no draws)
    for (const l of this.layers()) (l.buffers ?? []).forEach((q, i) => k.fill(l.b[i], size(q.shape), q.init));
    for (const l of this.layers()) {
      l.params.forEach((q, i) => {
        const d = drawOf(q.init, init), n = size(q.shape), o = l.p[i] >>> 2;
        if ("constant" in d) { k.fill(l.p[i], n, d.constant); return; }
        if ("normal" in d) { // N(mean, std²)
          const [mean, std] = d.normal;
          k.rng_normal(this.ptr["rng.train"], l.p[i], n);
          for (let j = 0; j < n; j++) H[o + j] = mean + std * H[o + j];
          return;
        }
        k.rng_uniform(this.ptr["rng.train"], l.p[i], n);
        if ("uniform" in d) {
          const [lo, hi] = d.uniform;
          for (let j = 0; j < n; j++) H[o + j] = lo + (hi - lo) * H[o + j];
        } else {
          const a = d.symmetric;
          for (let j = 0; j < n; j++) H[o + j] = (2 * H[o + j] - 1) * a;
        }
      });
    }
  }

  /** Every layer with parameters' owner, in arena order: encoder, decoder,
   *  the levels above the first (each encoder, decoder), extra. */
  layers(): Layer[] {
    return [...this.enc, ...this.dec, ...this.levels.flatMap((l) => [...l.enc, ...l.dec]), ...this.extra];
  }

  /** Each layer's forward, in order (`last`, when given, runs in place of
   *  the list's last layer: inference's output layer with the likelihood's
   *  link fused into its activation, Inference.outputLayer). */
  forward(layers: Layer[], B: number, last?: Layer): void {
    const n = layers.length - (last ? 1 : 0);
    for (let i = 0; i < n; i++) kindOf(layers[i].kind).forward(this.ctx, layers[i], B);
    if (last) kindOf(last.kind).forward(this.ctx, last, B);
  }

  /** Each layer's backward, in reverse order (the last layer's dy is set). */
  backward(layers: Layer[], B: number): void {
    for (let i = layers.length - 1; i >= 0; i--) kindOf(layers[i].kind).backward(this.ctx, layers[i], B);
  }

  /** After a training step succeeded: each layer's commit (batch_norm's
   *  running statistics), in arena order. */
  commit(): void {
    for (const l of this.layers()) kindOf(l.kind).commit?.(this.ctx, l);
  }

  /** Saved buffer (non-trainable tensor) names with their shapes, in arena order. */
  bufferShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const l of this.layers()) for (const q of l.buffers ?? []) if (q.saved) out[q.name] = [...q.shape];
    return out;
  }

  /** Copies of every saved buffer. */
  readBuffers(): Record<string, Float32Array> {
    const H = this.heap(), out: Record<string, Float32Array> = {};
    for (const l of this.layers()) {
      (l.buffers ?? []).forEach((q, i) => {
        if (q.saved) out[q.name] = H.slice(l.b[i] >>> 2, (l.b[i] >>> 2) + size(q.shape));
      });
    }
    return out;
  }

  /** Parameter names with their shapes, in arena order. */
  parameterShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const l of this.layers()) for (const q of l.params) out[q.name] = [...q.shape];
    return out;
  }

  /** Copies of every parameter tensor (prefix "" ), gradient ("grad:") or
   *  Adam moment ("m:", "v:"). */
  readTensors(prefix: string): Record<string, Float32Array> {
    const H = this.heap();
    const out: Record<string, Float32Array> = {};
    for (const l of this.layers()) {
      for (const q of l.params) {
        const t = this.plan.tensors[`${prefix}${q.name}`];
        const o = this.ptr[`${prefix}${q.name}`] >>> 2;
        out[q.name] = H.slice(o, o + t.size);
      }
    }
    return out;
  }

  /** Writes checked tensors: [pointer, values]. */
  writeTensors(staged: [number, Float32Array][]): void {
    const H = this.heap();
    for (const [p, f] of staged) H.set(f, p >>> 2);
  }

  /** Zeroes the Adam moments (m and v blocks). */
  resetMoments(): void {
    const { m, v } = this.plan.blocks;
    this.kernels.raw.fill(this.kernels.base + m.offset, m.floats, 0);
    this.kernels.raw.fill(this.kernels.base + v.offset, v.floats, 0);
  }

  /** Copies B rows of `cols` floats between buffers with different row widths. */
  copyColumns(src: number, srcW: number, dst: number, dstW: number, B: number, cols: number): void {
    const H = this.heap();
    const s = src >>> 2, d = dst >>> 2;
    for (let b = 0; b < B; b++) for (let j = 0; j < cols; j++) H[d + b * dstW + j] = H[s + b * srcW + j];
  }
}
