// The figures of a run, each a Canvas ready for toPng(): samples from the
// prior, reconstructions, interpolation, imputation, the manifold of a 2-d
// latent, the latent scatter and the loss curve. Also the imputation error
// written to metrics.json. Inference goes through the library (vae.decode,
// reconstruct, interpolate, impute, encode); drawing through raster.ts/plot.ts.
// Not here: file writing or naming (train.ts, commands.ts).
import type { VAE } from "wasm-vae";
import { oneHot, type Dataset, type Split } from "./data.js";
import { lineChart, percentile, scatter, type Series } from "./plot.js";
import { Canvas, gridSize, PALETTE, tileAt, type Grid, type RGBA } from "./raster.js";
import { normalQuantile, pca2, seededNormals } from "./stats.js";

export interface FigureContext {
  vae: VAE;
  data: Dataset;
  /** Classes of a conditional model (its conditionDim), 0 otherwise. */
  classes: number;
  /** (h, w) of one image. */
  shape: [number, number];
  /** Channels of one image (rows are NHWC): 3 draws in colour; default 1. */
  channels?: number;
  /** Values mapped to black..white. */
  range: [number, number];
}

const TILE_SCALE = 2;
const PAD = 2;
const BACKGROUND: RGBA = [205, 205, 205, 255];
const HIDDEN: RGBA = [40, 70, 160, 255];

/** Rows `idx` of a split, copied. */
export function rowsOf(s: Split, dim: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((r, i) => out.set(s.x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/** One-hot conditions for rows `idx` of a split, or undefined for an unconditional model. */
export function conditionOf(ctx: FigureContext, s: Split, idx: number[]): Float32Array | undefined {
  if (ctx.classes === 0) return undefined;
  return oneHot(Uint8Array.from(idx, (i) => s.labels![i]), ctx.classes, "test labels");
}

function classRows(ctx: FigureContext, classes: number[]): Float32Array | undefined {
  return ctx.classes === 0 ? undefined : oneHot(Uint8Array.from(classes), ctx.classes, "--label");
}

/** Draws `cells` (rows of images, null = empty) on a grid; `tints[r][c]` may hide pixels. */
function drawGrid(ctx: FigureContext, cells: (Float32Array | null)[][], scale = TILE_SCALE, pad = PAD,
                  tints?: (((i: number) => RGBA | null) | undefined)[][]): Canvas {
  const [h, w] = ctx.shape;
  const g: Grid = { cols: Math.max(...cells.map((r) => r.length)), rows: cells.length, h, w, scale, pad };
  const { width, height } = gridSize(g);
  const cv = new Canvas(width, height, BACKGROUND);
  cells.forEach((row, r) => row.forEach((img, c) => {
    if (!img) return;
    const [x, y] = tileAt(g, c, r);
    cv.image(x, y, img, h, w, scale, ctx.range[0], ctx.range[1], tints?.[r]?.[c], ctx.channels);
  }));
  return cv;
}

function split(a: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < a.length; i += dim) out.push(a.subarray(i, i + dim));
  return out;
}

function chunk<T>(a: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += n) out.push(a.slice(i, i + n));
  return out;
}

/** n draws from the prior, z ~ N(0, t²I) from a seeded stream, in a grid
 *  of `cols` columns. Conditional models: row r draws class r mod classes,
 *  or every image draws `label`. */
export function samplesFigure(ctx: FigureContext, o: { n?: number; cols?: number; temperature?: number; seed?: number; label?: number } = {}): Canvas {
  const n = o.n ?? 64, cols = o.cols ?? 8, L = ctx.vae.config.latentDim;
  if (ctx.vae.config.latent.type !== "gaussian") {
    // issue 18: a non-Gaussian code is drawn by the model's prior (categorical: one-hot,
    // from the model's evaluation stream; a temperature other than 1 is refused by name)
    const classes = Array.from({ length: n }, (_, i) => o.label ?? Math.floor(i / cols) % Math.max(1, ctx.classes));
    const x = ctx.vae.sample(n, { condition: classRows(ctx, classes), ...(o.temperature !== undefined && o.temperature !== 1 ? { temperature: o.temperature } : {}) });
    return drawGrid(ctx, chunk(split(x, ctx.data.dim), cols));
  }
  const z = seededNormals(n * L, o.seed ?? 0);
  const t = o.temperature ?? 1;
  for (let i = 0; i < z.length; i++) z[i] *= t;
  const classes = Array.from({ length: n }, (_, i) => o.label ?? Math.floor(i / cols) % Math.max(1, ctx.classes));
  const x = ctx.vae.decode(z, { condition: classRows(ctx, classes) });
  return drawGrid(ctx, chunk(split(x, ctx.data.dim), cols));
}

/** The first n test images (rows of `cols`), each row followed by its reconstructions (decode of E[z|x]). */
export function reconstructionsFigure(ctx: FigureContext, o: { n?: number; cols?: number } = {}): Canvas {
  const D = ctx.data.dim, test = ctx.data.test;
  const n = Math.min(o.n ?? 32, test.n), cols = Math.min(o.cols ?? 16, n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const x = rowsOf(test, D, idx);
  const rec = ctx.vae.reconstruct(x, { condition: conditionOf(ctx, test, idx) });
  const orig = chunk(split(x, D), cols), recs = chunk(split(rec, D), cols);
  return drawGrid(ctx, orig.flatMap((row, i) => [row, recs[i]]));
}

/** Pairs of test examples to interpolate between: with labels, the first
 *  examples of classes (0, 1), (2, 3), …; otherwise rows (0, 1), (2, 3), …. */
function pairs(s: Split, count: number): [number, number][] {
  const out: [number, number][] = [];
  if (s.labels) {
    const first = new Map<number, number>();
    for (let i = 0; i < s.n; i++) if (!first.has(s.labels[i])) first.set(s.labels[i], i);
    const cls = [...first.keys()].sort((a, b) => a - b);
    for (let k = 0; k + 1 < cls.length && out.length < count; k += 2) out.push([first.get(cls[k])!, first.get(cls[k + 1])!]);
  }
  for (let i = 0; out.length < count && i + 1 < s.n; i += 2) out.push([i, i + 1]);
  return out;
}

/** Rows of: test image a, `steps` decodes from E[z|a] to E[z|b], test image b. */
export function interpolationFigure(ctx: FigureContext, o: { rows?: number; steps?: number } = {}): Canvas {
  const D = ctx.data.dim, test = ctx.data.test, steps = o.steps ?? 10;
  const cells = pairs(test, o.rows ?? 4).map(([a, b]) => {
    const xa = rowsOf(test, D, [a]), xb = rowsOf(test, D, [b]);
    const path = ctx.vae.interpolate(xa, xb, steps, { condition: conditionOf(ctx, test, [a]) });
    return [xa, ...split(path, D), xb];
  });
  return drawGrid(ctx, cells);
}

/** 1 = observed. Hides half of an h × w image: "bottom" (the default) hides
 *  rows ≥ h/2; a single-row "image" hides its right half instead. */
export function halfMask(shape: [number, number], which: "bottom" | "top" | "left" | "right" = "bottom"): Uint8Array {
  const [h, w] = shape;
  const m = new Uint8Array(h * w).fill(1);
  const kind = h === 1 && (which === "bottom" || which === "top") ? (which === "bottom" ? "right" : "left") : which;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const hide = kind === "bottom" ? r >= Math.floor(h / 2) : kind === "top" ? r < Math.ceil(h / 2)
        : kind === "right" ? c >= Math.floor(w / 2) : c < Math.ceil(w / 2);
      if (hide) m[r * w + c] = 0;
    }
  }
  return m;
}

/** A per-pixel mask repeated over the c channels of NHWC rows. */
function perValue(mask: Uint8Array, c = 1): Uint8Array {
  if (c === 1) return mask;
  const out = new Uint8Array(mask.length * c);
  for (let i = 0; i < out.length; i++) out[i] = mask[Math.floor(i / c)];
  return out;
}

/** Three rows per group of `cols`: the test images, the same with the masked
 *  half hidden (blue), and vae.impute's completion. */
export function imputationFigure(ctx: FigureContext, o: { n?: number; cols?: number; iterations?: number; mask?: "bottom" | "top" | "left" | "right" } = {}): Canvas {
  const D = ctx.data.dim, test = ctx.data.test;
  const n = Math.min(o.n ?? 16, test.n), cols = Math.min(o.cols ?? 16, n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const x = rowsOf(test, D, idx);
  const mask = halfMask(ctx.shape, o.mask);
  const done = ctx.vae.impute(x, perValue(mask, ctx.channels), { iterations: o.iterations, condition: conditionOf(ctx, test, idx) });
  const hide = (i: number) => (mask[i] ? null : HIDDEN);
  const orig = chunk(split(x, D), cols), comp = chunk(split(done, D), cols);
  const cells: Float32Array[][] = [], tints: (((i: number) => RGBA | null) | undefined)[][] = [];
  orig.forEach((row, i) => {
    cells.push(row, row, comp[i]);
    tints.push([], row.map(() => hide), []);
  });
  return drawGrid(ctx, cells, TILE_SCALE, PAD, tints);
}

/** Mean squared error on the hidden half of the first n test images:
 *  vae.impute's completion (its importance-weighted posterior mean), against
 *  two baselines: an unconditional sample of the model and the per-pixel mean
 *  of the training data (the best constant fill in MSE). */
export function imputationError(ctx: FigureContext, o: { n?: number; iterations?: number; mask?: "bottom" | "top" | "left" | "right" } = {}):
    { images: number; iterations: number; mask: string; hiddenValues: number; mseImputed: number; msePriorSample: number; mseMeanFill: number } {
  const D = ctx.data.dim, test = ctx.data.test;
  const n = Math.min(o.n ?? 100, test.n), iterations = o.iterations ?? 100;
  const idx = Array.from({ length: n }, (_, i) => i);
  const x = rowsOf(test, D, idx);
  const mask = perValue(halfMask(ctx.shape, o.mask), ctx.channels);
  const cond = conditionOf(ctx, test, idx);
  const done = ctx.vae.impute(x, mask, { iterations, condition: cond });
  const prior = ctx.vae.sample(n, { condition: cond });
  const ref = ctx.data.train ?? test;
  const mean = new Float64Array(D);
  for (let r = 0; r < ref.n; r++) for (let d = 0; d < D; d++) mean[d] += ref.x[r * D + d] / ref.n;
  let se = 0, sePrior = 0, seMean = 0, count = 0;
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < D; d++) {
      if (mask[d]) continue;
      const t = x[r * D + d];
      se += (done[r * D + d] - t) ** 2;
      sePrior += (prior[r * D + d] - t) ** 2;
      seMean += (mean[d] - t) ** 2;
      count++;
    }
  }
  return { images: n, iterations, mask: `${o.mask ?? "bottom"} half hidden`, hiddenValues: count, mseImputed: se / count, msePriorSample: sePrior / count, mseMeanFill: seMean / count };
}

/** A 2-d latent decoded on an n × n grid at normal quantiles (i + ½)/n:
 *  z1 grows left to right, z2 bottom to top. Conditional models use `label`. */
export function manifoldFigure(ctx: FigureContext, o: { n?: number; label?: number } = {}): Canvas {
  const n = o.n ?? 20, L = ctx.vae.config.latentDim;
  if (L !== 2) throw new Error(`manifold: needs a 2-d latent, this model has ${L}`);
  const q = Array.from({ length: n }, (_, i) => normalQuantile((i + 0.5) / n));
  const z = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) { z[(r * n + c) * 2] = q[c]; z[(r * n + c) * 2 + 1] = q[n - 1 - r]; }
  const label = o.label ?? (ctx.data.test.labels ? ctx.data.test.labels[0] : 0);
  const x = ctx.vae.decode(z, { condition: classRows(ctx, new Array(n * n).fill(label)) });
  return drawGrid(ctx, chunk(split(x, ctx.data.dim), n), 1, 0);
}

/** Latent means E[z|x] of the first `max` test examples, coloured by label:
 *  the two coordinates when L ≤ 2, else the first two principal components. */
export function latentFigure(ctx: FigureContext, o: { max?: number } = {}): { canvas: Canvas; points: number; projection: string } {
  const test = ctx.data.test, D = ctx.data.dim, L = ctx.vae.config.latentDim;
  const n = Math.min(o.max ?? 5000, test.n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const { mean } = ctx.vae.encode(test.x.subarray(0, n * D), { condition: conditionOf(ctx, test, idx) });
  let xs: Float64Array, ys: Float64Array, xl: string, yl: string, projection: string;
  if (L <= 2) {
    xs = new Float64Array(n); ys = new Float64Array(n);
    for (let i = 0; i < n; i++) { xs[i] = mean[i * L]; ys[i] = L === 2 ? mean[i * L + 1] : 0; }
    xl = "Z1"; yl = L === 2 ? "Z2" : ""; projection = L === 2 ? "latent dims 1 and 2" : "latent dim 1";
  } else {
    const p = pca2(mean, n, L);
    xs = p.x; ys = p.y;
    xl = `PC1 (${(100 * p.explained[0]).toFixed(0)}% VAR)`; yl = `PC2 (${(100 * p.explained[1]).toFixed(0)}% VAR)`;
    projection = `PCA of the ${L}-d means (power iteration), ${(100 * (p.explained[0] + p.explained[1])).toFixed(1)}% of the variance`;
  }
  const canvas = scatter(xs, ys, test.labels ? test.labels.subarray(0, n) : null,
    { size: 600, xLabel: xl, yLabel: yl, title: `LATENT MEANS OF ${n} TEST IMAGES` });
  return { canvas, points: n, projection };
}

export interface EpochRecord {
  epoch: number;
  train: { loss: number; reconstruction: number; kl: number };
  test: { loss: number; reconstruction: number; kl: number };
}

/** −ELBO per epoch (train mean over the epoch's batches, test after the
 *  epoch) and the per-batch train loss, against epochs. */
export function lossFigure(epochs: EpochRecord[], batchLoss: number[], batchesPerEpoch: number): Canvas {
  const E = Math.max(1, epochs.length);
  const batch: [number, number][] = batchLoss.map((v, i) => [(i + 1) / batchesPerEpoch, v]);
  const tr: [number, number][] = epochs.map((e) => [e.epoch, e.train.loss]);
  const te: [number, number][] = epochs.map((e) => [e.epoch, e.test.loss]);
  const epochVals = [...tr, ...te].map((p) => p[1]);
  const lo = Math.min(...epochVals, percentile(batchLoss, 0.01) || Infinity);
  const hi = Math.max(...epochVals, E === 1 ? percentile(batchLoss, 0.9) : -Infinity);
  const m = 0.08 * (hi - lo || Math.abs(hi) || 1);
  const series: Series[] = [
    { label: "TRAIN (BATCH)", color: [158, 202, 225, 255], points: batch, width: 1 },
    { label: "TRAIN (EPOCH)", color: PALETTE[0], points: tr, width: 3, dots: true },
    { label: "TEST", color: PALETTE[1], points: te, width: 3, dots: true },
  ];
  const xTicks = Array.from({ length: E + 1 }, (_, i) => i).filter((i) => E <= 20 || i % Math.ceil(E / 10) === 0);
  return lineChart(series, { width: 760, height: 460, xr: [0, E], yr: [lo - m, hi + m], xTicks, xLabel: "EPOCH", yLabel: "-ELBO (NATS)", title: "LOSS" });
}
