// Shared by the interop tests: the configurations, random weights, bit and
// error comparisons, and the float64 PyTorch-convention forward pass that the
// tests check every format against. Nothing here calls src/interop: the
// safetensors parser and writer below are the test's own, from the format's
// definition, and the forward pass uses only the config and the tensors.
import { expect } from "vitest";
import { InteropFormatError, VAE, type ModelFiles, type VAEConfig } from "../../src/index.js";
import { resolveConfig } from "../../src/model/config.js";
import { actRef, type Act } from "../reference.js";
import { randomArray } from "../reference.js";

/** Every activation, likelihood and the condition, small enough to be quick. */
export const CONFIGS: Record<string, VAEConfig> = {
  "bernoulli relu 2 hidden": { inputDim: 13, encoder: [11, 7], latentDim: 3, decoder: [6, 9] },
  "gaussian_learned leaky_relu conditional": { inputDim: 9, encoder: [8], latentDim: 2, likelihood: "gaussian_learned", activation: "leaky_relu", activationAlpha: 0.2, conditionDim: 3 },
  "gaussian σ=0.5 elu α=0.7": { inputDim: 10, encoder: [6], latentDim: 4, likelihood: "gaussian", sigma: 0.5, activation: "elu", activationAlpha: 0.7 },
  "bernoulli elu α=1 conditional": { inputDim: 8, encoder: [5], latentDim: 2, activation: "elu", conditionDim: 2 },
  "bernoulli tanh": { inputDim: 12, encoder: [10, 6], latentDim: 3, activation: "tanh" },
  "gaussian softplus": { inputDim: 7, encoder: [9], latentDim: 2, likelihood: "gaussian", activation: "softplus" },
  "bernoulli sigmoid hidden": { inputDim: 6, encoder: [5], latentDim: 2, activation: "sigmoid" },
  "no hidden layers": { inputDim: 5, encoder: [], latentDim: 2, decoder: [] },
};

/** A model with every parameter (biases too) set to seeded uniforms in ±0.6. */
export async function randomModel(config: VAEConfig, seed: number): Promise<VAE> {
  const vae = await VAE.create(config, { build: "plain" });
  const w: Record<string, Float32Array> = {};
  Object.entries(vae.parameterShapes()).forEach(([name, shape], i) => {
    w[name] = randomArray(shape.reduce((a, b) => a * b, 1), seed * 101 + i, -0.6, 0.6);
  });
  vae.setWeights(w);
  // batch_norm's running statistics: random too (means ±0.6, variances in [0.2, 2])
  const bufs = vae.exportState().buffers;
  if (bufs) {
    vae.importState({ weights: w, buffers: Object.fromEntries(Object.entries(bufs).map(([n, t], i) =>
      [n, randomArray(t.length, seed * 211 + i, n.endsWith("running_var") ? 0.2 : -0.6, n.endsWith("running_var") ? 2 : 0.6)])) });
  }
  return vae;
}

/** Names of the tensors whose bits differ between two weight sets ([] when identical). */
export function differingTensors(a: Record<string, Float32Array>, b: Record<string, Float32Array>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => !a[n] || !b[n] ||
    !Buffer.from(a[n].buffer, a[n].byteOffset, a[n].byteLength).equals(Buffer.from(b[n].buffer, b[n].byteOffset, b[n].byteLength)));
}

/** max |a − b| / max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return m === 0 ? d : d / m;
}

export function expectClose(name: string, a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  const e = relErr(a, b);
  expect(e, `${name}: max|Δ|/max|ref| = ${e}`).toBeLessThan(tol);
}

// ------------------------------------------------------------- safetensors

export interface TestTensor {
  dtype: string;
  shape: number[];
  data: Float64Array;
  begin: number;
  end: number;
}

/** The test's own safetensors reader (F32, and I64 num_batches_tracked): header, metadata, tensors. */
export function parseSafetensors(bytes: Uint8Array): { headerLength: number; metadata: Record<string, string>; order: string[]; tensors: Map<string, TestTensor> } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const N = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + N)).toString("utf8"));
  const metadata = header.__metadata__ ?? {};
  const tensors = new Map<string, TestTensor>();
  const order: string[] = [];
  for (const [name, e] of Object.entries<any>(header)) {
    if (name === "__metadata__") continue;
    // F32, or an I64 num_batches_tracked of a BatchNorm (PyTorch's buffer)
    expect(e.dtype === "F32" || (e.dtype === "I64" && name.endsWith(".num_batches_tracked")), `${name}: ${e.dtype}`).toBe(true);
    const [begin, end] = e.data_offsets, w = e.dtype === "I64" ? 8 : 4;
    const data = new Float64Array((end - begin) / w);
    for (let i = 0; i < data.length; i++) data[i] = w === 8 ? Number(dv.getBigInt64(8 + N + begin + 8 * i, true)) : dv.getFloat32(8 + N + begin + 4 * i, true);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data, begin, end });
    order.push(name);
  }
  return { headerLength: N, metadata, order, tensors };
}

/** The test's own safetensors writer, laid out as the reference (Rust)
 *  implementation writes: tensors sorted by name, header padded with spaces
 *  to 8 bytes. `dtype` overrides the stored dtype name (the bytes stay F32;
 *  I64 writes 8-byte integers). */
export function writeSafetensorsAsTorch(tensors: Record<string, { shape: number[]; data: ArrayLike<number>; dtype?: string }>,
                                        metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let o = 0;
  for (const n of names) {
    const t = tensors[n];
    const bytes = t.dtype === "F16" ? 2 * t.data.length : t.dtype === "I64" ? 8 * t.data.length : 4 * t.data.length;
    header[n] = { dtype: t.dtype ?? "F32", shape: t.shape, data_offsets: [o, o + bytes] };
    o += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + o);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const n of names) {
    const t = tensors[n];
    if (t.dtype === "F16") { p += 2 * t.data.length; continue; }
    if (t.dtype === "I64") { for (let i = 0; i < t.data.length; i++, p += 8) dv.setBigInt64(p, BigInt(t.data[i]), true); continue; }
    for (let i = 0; i < t.data.length; i++, p += 4) dv.setFloat32(p, t.data[i], true);
  }
  return out;
}

// ----------------------------------------------- PyTorch-convention forward

/** The nn.Module of the README, in float64: nn.Linear layers y = x Wᵀ + b with
 *  W (out, in) named "{encoder|decoder}.{i}.weight", the hidden activation
 *  between layers, mean/logvar = chunk(2) of the encoder output, and the
 *  decoder's first D columns (through a sigmoid for Bernoulli). */
export function torchForward(config: VAEConfig, get: (name: string) => { shape: number[]; data: ArrayLike<number> },
                             part: "encoder" | "decoder", input: ArrayLike<number>, cond: ArrayLike<number> | undefined, rows: number):
    Float64Array[] {
  const D = config.inputDim, L = config.latentDim, C = config.conditionDim ?? 0;
  const hidden = (part === "encoder" ? config.encoder : config.decoder ?? [...(config.encoder ?? [400])].reverse()) ?? [400];
  const act = (config.activation ?? "relu") as Act;
  const alpha = config.activationAlpha ?? (act === "elu" ? 1 : 0.01);
  const inW = part === "encoder" ? D : L;
  // torch.cat([x, c], 1)
  let h = new Float64Array(rows * (inW + C));
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < inW; j++) h[r * (inW + C) + j] = input[r * inW + j];
    for (let j = 0; j < C; j++) h[r * (inW + C) + inW + j] = cond![r * C + j];
  }
  const n = hidden.length + 1;
  for (let i = 0; i < n; i++) {
    const W = get(`${part}.${i}.weight`), b = get(`${part}.${i}.bias`);
    const [out, inp] = W.shape;
    expect(b.shape).toEqual([out]);
    expect(h.length).toBe(rows * inp);
    const y = new Float64Array(rows * out);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < out; o++) {
        let s = b.data[o];
        for (let k = 0; k < inp; k++) s += h[r * inp + k] * W.data[o * inp + k];
        y[r * out + o] = i < n - 1 ? actRef(s, act, alpha) : s;
      }
    }
    h = y;
  }
  const W = h.length / rows;
  const cols = (from: number, to: number, f = (v: number) => v) => {
    const o = new Float64Array(rows * (to - from));
    for (let r = 0; r < rows; r++) for (let j = from; j < to; j++) o[r * (to - from) + j - from] = f(h[r * W + j]);
    return o;
  };
  if (part === "encoder") return [cols(0, L), cols(L, 2 * L)];
  const lik = config.likelihood ?? "bernoulli";
  if (lik === "bernoulli") return [cols(0, D, (v) => 1 / (1 + Math.exp(-v)))];
  return lik === "gaussian_learned" ? [cols(0, D), cols(D, 2 * D)] : [cols(0, D)];
}

/** Our weights as the PyTorch state_dict the README's module has, computed
 *  here from the definition (W_torch[o][i] = W_ours[i][o]). */
export function asTorchStateDict(vae: VAE): Record<string, { shape: number[]; data: Float32Array }> {
  const shapes = vae.parameterShapes(), w = vae.getWeights();
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    if (shape.length === 1) { out[name] = { shape, data: w[name] }; continue; }
    const [IN, OUT] = shape, t = new Float32Array(IN * OUT);
    for (let i = 0; i < IN; i++) for (let o = 0; o < OUT; o++) t[o * IN + i] = w[name][i * OUT + o];
    out[name] = { shape: [OUT, IN], data: t };
  }
  return out;
}

/** Seeded test inputs: x in [0, 1) (valid for every likelihood), c, z. */
export function inputs(config: VAEConfig, rows: number, seed: number) {
  const C = config.conditionDim ?? 0;
  return {
    x: randomArray(rows * config.inputDim, seed, 0, 1),
    c: C > 0 ? randomArray(rows * C, seed + 1, 0, 1) : undefined,
    z: randomArray(rows * config.latentDim, seed + 2, -2, 2),
  };
}

// ------------------------------------------------------------- fuzzing

/** mulberry32: a seeded uniform in [0, 1). */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Format-agnostic corruptions of a file's bytes. */
export const BYTE_MUTATIONS: Record<string, (b: Uint8Array, r: () => number) => Uint8Array> = {
  "bit flips anywhere": (b, r) => { const o = b.slice(); const n = 1 + Math.floor(r() * 3); for (let i = 0; i < n && o.length; i++) o[Math.floor(r() * o.length)] ^= 1 << Math.floor(r() * 8); return o; },
  "truncation": (b, r) => b.slice(0, Math.floor(r() * b.length)),
  "extra bytes": (b, r) => { const o = new Uint8Array(b.length + 1 + Math.floor(r() * 16)); o.set(b); for (let i = b.length; i < o.length; i++) o[i] = r() * 256; return o; },
  "random bytes": (_b, r) => { const o = new Uint8Array(Math.floor(r() * 64)); for (let i = 0; i < o.length; i++) o[i] = r() * 256; return o; },
};

/** Corrupts each file of `good` in turn (40 draws per mutation): `read` must
 *  throw InteropFormatError or return `config` (a format without a checksum
 *  can load a flipped weight bit, nothing else). Returns [refused, tried]. */
export function fuzzFiles(good: ModelFiles, read: (files: ModelFiles) => { config: unknown }, config: unknown, seed: number): [number, number] {
  const r = rng(seed);
  let refused = 0, tried = 0;
  for (const name of Object.keys(good)) {
    for (const [label, mutate] of Object.entries(BYTE_MUTATIONS)) {
      for (let i = 0; i < 40; i++) {
        tried++;
        try {
          expect(read({ ...good, [name]: mutate(good[name], r) }).config, `${name} ${label} #${i}`).toEqual(config);
        } catch (e) {
          expect(e, `${name} ${label} #${i}: ${String(e)}`).toBeInstanceOf(InteropFormatError);
          refused++;
        }
      }
    }
  }
  return [refused, tried];
}

// ------------------------------------- PyTorch-convention forward, any layers

type T4 = { data: Float64Array; C: number; H: number; W: number };

/** torch.nn.functional.pad(h, (left, right, top, bottom)) on NCHW, zeros. */
function padNchw(h: T4, rows: number, top: number, bottom: number, left: number, right: number): T4 {
  const H = h.H + top + bottom, W = h.W + left + right, out = new Float64Array(rows * h.C * H * W);
  for (let n = 0; n < rows * h.C; n++) for (let y = 0; y < h.H; y++) for (let x = 0; x < h.W; x++) out[(n * H + y + top) * W + x + left] = h.data[(n * h.H + y) * h.W + x];
  return { data: out, C: h.C, H, W };
}

/** nn.Conv2d(padding=0): w (out, in, kh, kw), y[n,o,i,j] = b[o] + Σ w[o,c,u,v]·h[n,c,i·sh+u,j·sw+v]. */
function conv2dNchw(h: T4, rows: number, w: { shape: number[]; data: ArrayLike<number> }, b: ArrayLike<number>, sh: number, sw: number): T4 {
  const [O, I, kh, kw] = w.shape;
  expect(I).toBe(h.C);
  const H = Math.floor((h.H - kh) / sh) + 1, W = Math.floor((h.W - kw) / sw) + 1, out = new Float64Array(rows * O * H * W);
  for (let n = 0; n < rows; n++) for (let o = 0; o < O; o++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    let s = b[o];
    for (let c = 0; c < I; c++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
      s += w.data[((o * I + c) * kh + u) * kw + v] * h.data[((n * I + c) * h.H + i * sh + u) * h.W + j * sw + v];
    }
    out[((n * O + o) * H + i) * W + j] = s;
  }
  return { data: out, C: O, H, W };
}

/** nn.ConvTranspose2d(padding=0, output_padding=(oph, opw)): w (in, out, kh, kw);
 *  y[n,o,i·sh+u,j·sw+v] += h[n,c,i,j]·w[c,o,u,v], plus b[o] everywhere;
 *  output (H − 1)·s + k + op. */
function convTranspose2dNchw(h: T4, rows: number, w: { shape: number[]; data: ArrayLike<number> }, b: ArrayLike<number>,
                             sh: number, sw: number, oph: number, opw: number): T4 {
  const [I, O, kh, kw] = w.shape;
  expect(I).toBe(h.C);
  const H = (h.H - 1) * sh + kh + oph, W = (h.W - 1) * sw + kw + opw, out = new Float64Array(rows * O * H * W);
  for (let n = 0; n < rows; n++) for (let o = 0; o < O; o++) out.fill(b[o], (n * O + o) * H * W, (n * O + o + 1) * H * W);
  for (let n = 0; n < rows; n++) for (let c = 0; c < I; c++) for (let i = 0; i < h.H; i++) for (let j = 0; j < h.W; j++) {
    const x = h.data[((n * I + c) * h.H + i) * h.W + j];
    for (let o = 0; o < O; o++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
      out[((n * O + o) * H + i * sh + u) * W + j * sw + v] += x * w.data[((c * O + o) * kh + u) * kw + v];
    }
  }
  return { data: out, C: O, H, W };
}

/** h[:, c0:c1, top:top+H, left:left+W] */
function cropNchw(h: T4, rows: number, c0: number, c1: number, top: number, left: number, H: number, W: number): T4 {
  const C = c1 - c0, out = new Float64Array(rows * C * H * W);
  for (let n = 0; n < rows; n++) for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    out[((n * C + c) * H + y) * W + x] = h.data[((n * h.C + c0 + c) * h.H + y + top) * h.W + x + left];
  }
  return { data: out, C, H, W };
}

/** h.permute(0, 2, 3, 1).flatten(1): NCHW → flat rows in NHWC order. */
function nhwcRows(h: T4, rows: number): Float64Array {
  const out = new Float64Array(rows * h.C * h.H * h.W);
  for (let n = 0; n < rows; n++) for (let c = 0; c < h.C; c++) for (let y = 0; y < h.H; y++) for (let x = 0; x < h.W; x++) {
    out[((n * h.H + y) * h.W + x) * h.C + c] = h.data[((n * h.C + c) * h.H + y) * h.W + x];
  }
  return out;
}

/** A layer of safetensors __metadata__.wasm_vae_layers (what the README's module reads). */
export interface TorchLayer {
  name: string; kind: string; in: number[]; out: number[]; activation: string;
  kernel?: number[]; stride?: number[]; pads?: number[]; output_padding?: number[];
  momentum?: number; eps?: number;
}

/** The README's nn.Module (WasmVAE) in float64, line by line, on the
 *  (batch_norm: nn.BatchNorm1d / 2d in eval, on the channel axis 1)
 *  tensors (`get`) and the layer list (`layers`) of a safetensors file:
 *  conv2d = nn.Conv2d(padding=0) on F.pad(h, (left, right, top, bottom));
 *  conv2d_transpose = nn.ConvTranspose2d(padding=0, output_padding) then the
 *  crop [top, top + Ho) × [left, left + Wo); flatten = torch.flatten(h, 1)
 *  ((C, H, W) order); a reshape to an image after a dense layer is
 *  h.view(-1, C, H, W), any other goes through NHWC order; the condition is
 *  torch.cat([h, c], 1) at a "condition" layer, else at the input; outputs are
 *  flat NHWC rows, image outputs split by channels. */
export function torchModuleForward(config: VAEConfig, layers: TorchLayer[], get: (name: string) => { shape: number[]; data: ArrayLike<number> },
                                   part: "encoder" | "decoder", input: ArrayLike<number>, cond: ArrayLike<number> | undefined, rows: number): Float64Array[] {
  const C = config.conditionDim ?? 0, lik = config.likelihood ?? "bernoulli", alpha = resolveConfig(config).activationAlpha;
  const mine = layers.filter((l) => l.name.startsWith(`${part}.`));
  const catC = (h: Float64Array) => {
    const n = h.length / rows, out = new Float64Array(rows * (n + C));
    for (let r = 0; r < rows; r++) { out.set(h.subarray(r * n, (r + 1) * n), r * (n + C)); for (let j = 0; j < C; j++) out[r * (n + C) + n + j] = cond![r * C + j]; }
    return out;
  };
  // h is an NCHW image (img) or flat rows (flat), the torch.flatten of a (C, H, W) image when chw is set
  let flat: Float64Array | null = Float64Array.from(input), img: T4 | null = null, chw: T4 | null = null, prev = "";
  if (C > 0 && !mine.some((l) => l.kind === "condition")) flat = catC(flat);
  /** nhwc(h, chw): h.permute(0, 2, 3, 1), or h.view(-1, *chw).permute(0, 2, 3, 1), or h, as flat rows */
  const nhwc = () => img ? nhwcRows(img, rows) : chw ? nhwcRows({ ...chw, data: flat! }, rows) : flat!;
  const act = (v: Float64Array, l: TorchLayer) => v.map((s) => actRef(s, l.activation as Act, alpha));
  for (const l of mine) {
    const [top, bottom, left, right] = l.pads ?? [0, 0, 0, 0];
    if (l.kind === "condition") flat = catC(flat!);
    else if (l.kind === "dense") {
      const W = get(`${l.name}.weight`), b = get(`${l.name}.bias`).data, [out, inp] = W.shape, y = new Float64Array(rows * out);
      expect(flat!.length).toBe(rows * inp);
      for (let r = 0; r < rows; r++) for (let o = 0; o < out; o++) {
        let s = b[o];
        for (let k = 0; k < inp; k++) s += flat![r * inp + k] * W.data[o * inp + k];
        y[r * out + o] = s;
      }
      flat = y; chw = null;
    } else if (l.kind === "conv2d") {
      img = conv2dNchw(padNchw(img!, rows, top, bottom, left, right), rows, get(`${l.name}.weight`), get(`${l.name}.bias`).data, l.stride![0], l.stride![1]);
    } else if (l.kind === "conv2d_transpose") {
      const y = convTranspose2dNchw(img!, rows, get(`${l.name}.weight`), get(`${l.name}.bias`).data, l.stride![0], l.stride![1], l.output_padding![0], l.output_padding![1]);
      img = cropNchw(y, rows, 0, y.C, top, left, l.out[0], l.out[1]);
    } else if (l.kind === "batch_norm") {
      // nn.BatchNorm1d / 2d in eval: (h − running_mean)/√(running_var + eps)·weight + bias, channel = axis 1
      const [w, b, rm, rv] = ["weight", "bias", "running_mean", "running_var"].map((t) => get(`${l.name}.${t}`).data);
      const norm = (v: number, c: number) => (v - rm[c]) / Math.sqrt(rv[c] + l.eps!) * w[c] + b[c];
      if (img) { const I = img, hw = I.H * I.W; img = { ...I, data: I.data.map((v, i) => norm(v, Math.floor(i / hw) % I.C)) }; }
      else { const n = flat!.length / rows; flat = flat!.map((v, i) => norm(v, i % n)); }
    } else if (l.kind === "activation" || l.kind === "dropout") {
      // the activation is applied below; dropout is the identity in eval
    } else if (l.out.length === 1) {
      if (img) { chw = { ...img }; flat = img.data; img = null; }
    } else {
      const [H, W, Ch] = l.out;
      if (prev === "dense") img = { data: flat!, C: Ch, H, W };
      else {
        const t = nhwc(), o = new Float64Array(t.length);
        for (let n = 0; n < rows; n++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < Ch; c++) o[((n * Ch + c) * H + y) * W + x] = t[((n * H + y) * W + x) * Ch + c];
        img = { data: o, C: Ch, H, W };
      }
      flat = null; chw = null;
    }
    if (img) img = { ...img, data: act(img.data, l) };
    else flat = act(flat!, l);
    prev = l.kind;
  }
  const n = part === "decoder" && lik !== "gaussian_learned" ? 1 : 2;
  const chunks = (h: Float64Array, parts: number) => {
    const w = h.length / rows / parts;
    return Array.from({ length: parts }, (_, p) => {
      const o = new Float64Array(rows * w);
      for (let r = 0; r < rows; r++) o.set(h.subarray(r * w * parts + p * w, r * w * parts + (p + 1) * w), r * w);
      return o;
    });
  };
  const outs = img
    ? Array.from({ length: n }, (_, p) => nhwcRows(cropNchw(img!, rows, (p * img!.C) / n, ((p + 1) * img!.C) / n, 0, 0, img!.H, img!.W), rows))
    : chunks(nhwc(), n);
  return part === "decoder" && lik === "bernoulli" ? [outs[0].map((s) => 1 / (1 + Math.exp(-s)))] : outs;
}
