// The same MLP VAE in jax-js (@jax-js/jax, wasm backend), the way a JAX user
// writes it: the loss as a function of a parameter tree, valueAndGrad, and
// one jit-compiled training step (loss, gradients and the Adam update fused
// into one compiled graph). The loss is src/vae.ts's: Bernoulli NLL on logits
// summed over pixels, max(l, 0) − l·x + log1p(e^−|l|), plus the closed-form KL,
// batch mean, with ε given. Adam is PyTorch's (bias-corrected, ε outside the
// square root). Weights come from VAE.getWeights() ((in, out) row-major).
//
// jax-js's wasm backend runs its kernels on a pool of Web Workers when the
// runtime has a global `Worker` and SharedArrayBuffer; Node has no global
// `Worker`, so in Node it runs on one thread (`jaxThreads()` says which).
// jax-js counts references: every array passed to a function is consumed, so
// an array used twice is passed as `a.ref` first.
// Not here: timing and the correctness gate (bench/limit.ts).
import { defaultDevice, init, jit, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";

type Arr = np.Array;
type Params = Record<string, Arr>;

export interface JaxVAESpec { inputDim: number; encoder: number[]; latentDim: number; decoder: number[] }

let ready: Promise<void> | null = null;
/** Starts the wasm device and makes it the default. */
export function initJax(): Promise<void> {
  ready ??= (async () => {
    const devices = await init("wasm");
    if (!devices.includes("wasm")) throw new Error(`jax-js: the wasm device did not start (got ${devices.join(", ")})`);
    defaultDevice("wasm");
  })();
  return ready;
}

/** Threads jax-js's wasm backend can use here: a worker pool needs a global
 *  Worker (browsers); Node has none, so 1. */
export function jaxThreads(): number {
  return typeof (globalThis as { Worker?: unknown }).Worker === "function" ? -1 : 1;
}

function names(prefix: string, dims: number[]): { w: string; b: string; relu: boolean }[] {
  return dims.slice(1).map((_, i) => ({ w: `${prefix}.${i}.weight`, b: `${prefix}.${i}.bias`, relu: i + 2 < dims.length }));
}

export class JaxVAE {
  readonly spec: JaxVAESpec;
  private params: Params;
  private m: Params;
  private v: Params;
  private t = 0;
  private readonly stepFn: (p: Params, m: Params, v: Params, x: Arr, eps: Arr, c1: Arr, c2: Arr) => [Arr, Params, Params, Params];
  private readonly gradFn: (p: Params, x: Arr, eps: Arr) => [Arr, Params];
  private readonly adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  constructor(spec: JaxVAESpec, weights: Record<string, Float32Array>) {
    this.spec = spec;
    const D = spec.inputDim, L = spec.latentDim;
    const enc = names("encoder", [D, ...spec.encoder, 2 * L]);
    const dec = names("decoder", [L, ...spec.decoder, D]);
    const dims = (ds: number[]) => ds.slice(1).map((o, i) => [ds[i], o]);
    const shapes = [...dims([D, ...spec.encoder, 2 * L]), ...dims([L, ...spec.decoder, D])];
    this.params = {};
    [...enc, ...dec].forEach((l, i) => {
      const [IN, OUT] = shapes[i];
      this.params[l.w] = np.array(weights[l.w]).reshape([IN, OUT]);
      this.params[l.b] = np.array(weights[l.b]);
    });
    this.m = tree.map((p: Arr) => np.zerosLike(p.ref), this.params) as Params;
    this.v = tree.map((p: Arr) => np.zerosLike(p.ref), this.params) as Params;

    const mlp = (p: Params, h: Arr, layers: typeof enc): Arr => {
      for (const l of layers) {
        const y = np.matmul(h, p[l.w]).add(p[l.b]);
        h = l.relu ? nn.relu(y) : y;
      }
      return h;
    };
    const loss = (p: Params, x: Arr, eps: Arr): Arr => {
      const B = x.shape[0];
      const h = mlp(p, x.ref, enc);
      const mu = h.ref.slice([], [0, L]);
      const logvar = h.slice([], [L, 2 * L]);
      const z = mu.ref.add(np.exp(logvar.ref.mul(0.5)).mul(eps));
      const l = mlp(p, z, dec);
      const nll = np.sum(nn.relu(l.ref).sub(l.ref.mul(x)).add(np.log1p(np.exp(np.abs(l).neg()))));
      const kl = np.sum(np.exp(logvar.ref).add(np.square(mu)).sub(1).sub(logvar)).mul(0.5);
      return nll.add(kl).div(B);
    };
    const vg = valueAndGrad(loss);
    this.gradFn = jit((p: Params, x: Arr, eps: Arr) => vg(p, x, eps)) as unknown as typeof this.gradFn;
    const { beta1, beta2, eps: e } = this.adam;
    this.stepFn = jit((p: Params, m: Params, v: Params, x: Arr, eps: Arr, c1: Arr, c2: Arr) => {
      const [value, g] = vg(tree.map((a: Arr) => a.ref, p) as Params, x, eps);
      const m2: Params = {}, v2: Params = {}, p2: Params = {};
      for (const k of Object.keys(p)) {
        m2[k] = m[k].mul(beta1).add(g[k].ref.mul(1 - beta1));
        v2[k] = v[k].mul(beta2).add(np.square(g[k]).mul(1 - beta2));
        // p − lr/(1 − β1ᵗ) · m / (sqrt(v/(1 − β2ᵗ)) + ε)
        p2[k] = p[k].sub(m2[k].ref.mul(c1.ref).div(np.sqrt(v2[k].ref.mul(c2.ref)).add(e)));
      }
      c1.dispose(); c2.dispose();
      return [value, p2, m2, v2];
    }) as unknown as typeof this.stepFn;
  }

  /** Loss and gradients for a fixed ε (the correctness gate). */
  computeGradients(batch: Float32Array, eps: Float32Array): { loss: number; gradients: Record<string, Float32Array> } {
    const D = this.spec.inputDim, L = this.spec.latentDim, B = batch.length / D;
    const p = tree.map((a: Arr) => a.ref, this.params) as Params;
    const [value, g] = this.gradFn(p, np.array(batch).reshape([B, D]), np.array(eps).reshape([B, L]));
    const gradients: Record<string, Float32Array> = {};
    for (const [k, a] of Object.entries(g)) gradients[k] = a.dataSync() as Float32Array;
    return { loss: (value.dataSync() as Float32Array)[0], gradients };
  }

  /** One training step (forward, backward, Adam) with ε given; returns the loss. */
  trainStep(batch: Float32Array, eps: Float32Array): number {
    const D = this.spec.inputDim, L = this.spec.latentDim, B = batch.length / D;
    const t = ++this.t, { lr, beta1, beta2 } = this.adam;
    const [value, p, m, v] = this.stepFn(this.params, this.m, this.v, np.array(batch).reshape([B, D]), np.array(eps).reshape([B, L]),
      np.array(lr / (1 - beta1 ** t)), np.array(1 / (1 - beta2 ** t)));
    this.params = p; this.m = m; this.v = v;
    return (value.dataSync() as Float32Array)[0];
  }

  /** C = A·B for (M, K)·(K, N), jit-compiled, operands already on the device
   *  (transA / transB: the stored operand is transposed first, in the graph). */
  static gemm(a: Float32Array, b: Float32Array, M: number, K: number, N: number, transA: boolean, transB: boolean, bias?: Float32Array): () => Float32Array {
    const A = transA ? np.array(a).reshape([K, M]) : np.array(a).reshape([M, K]);
    const Bm = transB ? np.array(b).reshape([N, K]) : np.array(b).reshape([K, N]);
    const c = bias ? np.array(bias) : np.zeros([N]);
    const f = jit((x: Arr, y: Arr, z: Arr) => {
      const p = np.matmul(transA ? x.transpose() : x, transB ? y.transpose() : y);
      return bias ? p.add(z) : (z.dispose(), p);
    });
    return () => f(A.ref, Bm.ref, c.ref).dataSync() as Float32Array;
  }
}
