// The figures of a run as Vega-Lite specifications (charts.ts): samples from
// the prior, reconstructions, interpolation, imputation, the manifold of a
// 2-d latent, the latent scatter, and the imputation error written to
// metrics.json. Inference goes through the library (vae.decode, reconstruct,
// interpolate, impute, encode); images become PNG tiles (tiles.ts), 1 or 3
// channels.
// Not here: rendering (chart-render.ts), file writing (run-figures.ts, commands.ts).
import { IMPUTE_METHODS, type ImputeMethod, type VAE } from "wasm-vae";
import { gridSpec, latentSpec, type GridOptions, type LatentView, type Tile } from "./charts.js";
import { binarizedNote, oneHot, type Dataset, type Split } from "./data.js";
import { latentViews, type LatentViewChoice } from "./latent-view.js";
import { fmt, fmtSigned } from "./progress.js";
import { normalQuantile, seededNormals } from "./stats.js";
import { channelsOf, pngModule, tileUrl, type ImageShape } from "./tiles.js";

export type { EpochPoint as EpochRecord } from "./charts.js";

export interface FigureContext {
  vae: VAE;
  data: Dataset;
  /** Classes of a conditional model (its conditionDim), 0 otherwise. */
  classes: number;
  /** (h, w) or (h, w, c) of one image, channels last; c is 1 or 3. */
  shape: ImageShape;
  /** Channels when `shape` is (h, w) (default 1). */
  channels?: number;
  /** Names of the labels 0, 1, … (e.g. class folders), for legends. */
  classNames?: string[] | null;
  /** Values mapped to black..white. */
  range: [number, number];
}

/** Displayed tile size (SVG units, = PNG pixels: grids render at scale 1)
 *  and the integer upscaling of the tile image: images up to 32 pixels wide
 *  are enlarged to at least 28 pixels (8 → 32, 28 → 28), then by `scale`;
 *  wider ones are shown at their size up to 64, larger ones 64 wide (the
 *  renderer scales those). */
export function tileLayout(shape: ImageShape, scale = 2): { tile: number; up: number } {
  const w = shape[1];
  if (w <= 32) { const up = Math.ceil(28 / w) * scale; return { tile: w * up, up }; }
  if (w <= 64) return { tile: w, up: 1 };
  return { tile: 64, up: 1 };
}

/** (h, w, c) of the context's images. */
export function shapeOf(ctx: FigureContext): ImageShape {
  return ctx.shape.length === 3 ? ctx.shape : [ctx.shape[0], ctx.shape[1], ctx.channels ?? 1];
}

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

/** A grid figure: its tiles and layout; `gridSpec(...)` draws it. */
export interface GridFigure { tiles: Tile[]; cols: number; rows: number; options: GridOptions }

export function gridFigureSpec(g: GridFigure): ReturnType<typeof gridSpec> {
  return gridSpec(g.tiles, g.cols, g.rows, g.options);
}

/** Tiles of `cells` (rows of images, null = empty); `hidden[r]` (pixel → true)
 *  paints the hidden pixels of row r. */
async function tilesOf(ctx: FigureContext, cells: (Float32Array | null)[][], up: number,
                       hidden?: (((p: number) => boolean) | undefined)[]): Promise<Tile[]> {
  await pngModule();
  const tiles: Tile[] = [];
  cells.forEach((row, r) => row.forEach((img, c) => {
    if (img) tiles.push({ col: c, row: r, url: tileUrl(img, shapeOf(ctx), ctx.range, up, hidden?.[r]) });
  }));
  return tiles;
}

async function grid(ctx: FigureContext, cells: (Float32Array | null)[][], o: Omit<GridOptions, "tile">, scale = 2,
                    hidden?: (((p: number) => boolean) | undefined)[]): Promise<GridFigure> {
  const { tile, up } = tileLayout(shapeOf(ctx), scale);
  return { tiles: await tilesOf(ctx, cells, up, hidden), cols: Math.max(...cells.map((r) => r.length)), rows: cells.length, options: { ...o, tile } };
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
export async function samplesFigure(ctx: FigureContext, o: { n?: number; cols?: number; temperature?: number; seed?: number; label?: number } = {}): Promise<GridFigure> {
  const n = o.n ?? 64, cols = o.cols ?? 8, L = ctx.vae.config.latentDim;
  if (ctx.vae.config.latent.type !== "gaussian") {
    // issue 18: a non-Gaussian code is drawn by the model's prior (categorical: one-hot,
    // from the model's evaluation stream; a temperature other than 1 is refused by name)
    const classes = Array.from({ length: n }, (_, i) => o.label ?? Math.floor(i / cols) % Math.max(1, ctx.classes));
    const x = ctx.vae.sample(n, { condition: classRows(ctx, classes), ...(o.temperature !== undefined && o.temperature !== 1 ? { temperature: o.temperature } : {}) });
    const cells = chunk(split(x, ctx.data.dim), cols);
    const rowLabels = ctx.classes > 0 && o.label === undefined ? cells.map((_, r) => `class ${(r % ctx.classes)}`) : undefined;
    return grid(ctx, cells, { title: `${n} samples from the prior`, subtitle: `decoder means at one-hot codes with uniform classes (${ctx.vae.config.latent.type} latent)`, rowLabels });
  }
  const seed = o.seed ?? 0, t = o.temperature ?? 1;
  const z = seededNormals(n * L, seed);
  for (let i = 0; i < z.length; i++) z[i] *= t;
  const classes = Array.from({ length: n }, (_, i) => o.label ?? Math.floor(i / cols) % Math.max(1, ctx.classes));
  const x = ctx.vae.decode(z, { condition: classRows(ctx, classes) });
  const cells = chunk(split(x, ctx.data.dim), cols);
  const cond = ctx.classes === 0 ? "" : o.label !== undefined ? `, class ${o.label}` : "; row r shows class r";
  const rowLabels = ctx.classes > 0 && o.label === undefined ? cells.map((_, r) => `class ${(r % ctx.classes)}`) : undefined;
  return grid(ctx, cells, { title: `${n} samples from the prior`, subtitle: `decoder means at z ~ N(0, ${t === 1 ? "I" : `${t}²·I`}), seed ${seed}${cond}`, rowLabels });
}

/** The first n test images (rows of `cols`), each row followed by its reconstructions (decode of E[z|x]). */
export async function reconstructionsFigure(ctx: FigureContext, o: { n?: number; cols?: number } = {}): Promise<GridFigure> {
  const D = ctx.data.dim, test = ctx.data.test;
  const n = Math.min(o.n ?? 32, test.n), cols = Math.min(o.cols ?? 16, n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const x = rowsOf(test, D, idx);
  const rec = ctx.vae.reconstruct(x, { condition: conditionOf(ctx, test, idx) });
  const orig = chunk(split(x, D), cols), recs = chunk(split(rec, D), cols);
  const cells = orig.flatMap((row, i) => [row, recs[i]]);
  return grid(ctx, cells, { title: "Reconstructions", subtitle: `the first ${n} test images${binarizedCaption(ctx)} (input rows) above the decoder means at E[z|x] (reconstruction rows)`,
    rowLabels: cells.map((_, r) => (r % 2 === 0 ? "input" : "reconstruction")) });
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
export async function interpolationFigure(ctx: FigureContext, o: { rows?: number; steps?: number } = {}): Promise<GridFigure> {
  const D = ctx.data.dim, test = ctx.data.test, steps = o.steps ?? 10;
  const ps = pairs(test, o.rows ?? 4);
  const cells = ps.map(([a, b]) => {
    const xa = rowsOf(test, D, [a]), xb = rowsOf(test, D, [b]);
    const path = ctx.vae.interpolate(xa, xb, steps, { condition: conditionOf(ctx, test, [a]) });
    return [xa, ...split(path, D), xb];
  });
  const name = (i: number) => (test.labels ? `${test.labels[i]}` : `#${i}`);
  return grid(ctx, cells, {
    title: "Interpolation in the latent space",
    subtitle: `each row: test image a, the decodes of ${steps} points from E[z|a] to E[z|b] (t = 0 … 1), test image b${test.labels ? "; rows are named by the labels of a and b" : ""}`,
    colLabels: ["a", ...Array.from({ length: steps }, (_, j) => (steps === 1 ? "0" : (j / (steps - 1)).toFixed(2))), "b"], xTitle: "t",
    rowLabels: ps.map(([a, b]) => `${name(a)} → ${name(b)}`),
  });
}

export type MaskSide = "bottom" | "top" | "left" | "right";

/** 1 = observed, one entry per value of an (h, w, c) image (channels last;
 *  the c values of a pixel share its entry). Hides half of the image:
 *  "bottom" (the default) hides rows ≥ h/2; a single-row "image" hides its
 *  right half instead. */
export function halfMask(shape: ImageShape, which: MaskSide = "bottom"): Uint8Array {
  const [h, w] = shape, c = channelsOf(shape);
  const m = new Uint8Array(h * w * c).fill(1);
  const kind = h === 1 && (which === "bottom" || which === "top") ? (which === "bottom" ? "right" : "left") : which;
  for (let r = 0; r < h; r++) {
    for (let q = 0; q < w; q++) {
      const hide = kind === "bottom" ? r >= Math.floor(h / 2) : kind === "top" ? r < Math.ceil(h / 2)
        : kind === "right" ? q >= Math.floor(w / 2) : q < Math.ceil(w / 2);
      if (hide) m.fill(0, (r * w + q) * c, (r * w + q + 1) * c);
    }
  }
  return m;
}

/** The hidden band in words, e.g. "bottom half (rows 14–27 of 28)". */
export function describeMask(shape: ImageShape, which: MaskSide = "bottom"): string {
  const [h, w] = shape;
  const kind = h === 1 && (which === "bottom" || which === "top") ? (which === "bottom" ? "right" : "left") : which;
  const band = kind === "bottom" ? `rows ${Math.floor(h / 2)}–${h - 1} of ${h}` : kind === "top" ? `rows 0–${Math.ceil(h / 2) - 1} of ${h}`
    : kind === "right" ? `columns ${Math.floor(w / 2)}–${w - 1} of ${w}` : `columns 0–${Math.ceil(w / 2) - 1} of ${w}`;
  return `${kind} half (${band})`;
}

/** " (binarized once with seed 0)" when the test images were, else "". */
function binarizedCaption(ctx: FigureContext): string {
  return ctx.data.testBinarizeSeed === undefined ? "" : ` (binarized once with seed ${ctx.data.testBinarizeSeed})`;
}

/** Three rows per group of `cols`: the test images, the same with the masked
 *  half hidden (blue), and vae.impute's completion. */
export async function imputationFigure(ctx: FigureContext, o: { n?: number; cols?: number; iterations?: number; samples?: number; method?: ImputeMethod; mask?: MaskSide } = {}): Promise<GridFigure> {
  const D = ctx.data.dim, test = ctx.data.test;
  const n = Math.min(o.n ?? 16, test.n), cols = Math.min(o.cols ?? 16, n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const x = rowsOf(test, D, idx);
  const mask = halfMask(shapeOf(ctx), o.mask);
  const method = o.method ?? "miwae";
  const done = ctx.vae.impute(x, mask, { method, ...(method === "miwae" ? { samples: o.samples } : { iterations: o.iterations }), condition: conditionOf(ctx, test, idx) });
  const c = channelsOf(shapeOf(ctx));
  const hide = (p: number) => mask[p * c] === 0;
  const orig = chunk(split(x, D), cols), comp = chunk(split(done, D), cols);
  const cells: Float32Array[][] = [], hidden: (((p: number) => boolean) | undefined)[] = [], rowLabels: string[] = [];
  orig.forEach((row, i) => {
    cells.push(row, row, comp[i]);
    hidden.push(undefined, hide, undefined);
    rowLabels.push("input", "hidden (blue)", "imputed");
  });
  return grid(ctx, cells, {
    title: "Imputation",
    subtitle: [`hidden: the ${describeMask(shapeOf(ctx), o.mask)}, drawn in blue; imputed by vae.impute (${method === "miwae" ? `miwae, k = ${o.samples ?? 1000}` : `${method}, ${o.iterations ?? (method === "metropolis" ? 100 : 20)} iterations`})`,
      `each group: the input row${binarizedCaption(ctx)}, the observed part, the completion`],
    rowLabels,
  }, 2, hidden);
}

export type ImputationError = {
  images: number; iterations: number; samples: number; mask: string; hiddenValues: number; mseImputed: number; msePriorSample: number; mseMeanFill: number;
  /** The rows of the per-pixel mean: the test split (in train and in the impute command alike; runs before it: "training"). */
  meanOf: "training" | "test";
  /** How many rows the per-pixel mean is over (absent in older runs). */
  meanRows?: number;
  /** The test images: where they came from and how they were binarized (absent in older runs). */
  testData?: string;
  /** Every vae.impute method's MSE, time and setting (mseImputed is the default's, "miwae"). */
  methods: Record<ImputeMethod, { mse: number; seconds: number; setting: string }>;
};

/** Mean squared error on the hidden half of the first n test images of
 *  every vae.impute method (mseImputed: the default, "miwae", the
 *  importance-weighted posterior mean), against two baselines: an
 *  unconditional sample of the model and the per-pixel mean of the whole
 *  test split, the images as evaluated (binarized when the run trained on
 *  binarized data). `wasm-vae train` and `wasm-vae impute` both call this on
 *  the test split they loaded, so their baselines are the same computation
 *  on the same data (the training split is not at hand in the latter). */
export function imputationError(ctx: FigureContext, o: { n?: number; iterations?: number; samples?: number; mask?: MaskSide } = {}): ImputationError {
  const D = ctx.data.dim, test = ctx.data.test;
  const n = Math.min(o.n ?? 100, test.n), iterations = o.iterations ?? 100, samples = o.samples ?? 1000;
  const idx = Array.from({ length: n }, (_, i) => i);
  const x = rowsOf(test, D, idx);
  const mask = halfMask(shapeOf(ctx), o.mask);
  const cond = conditionOf(ctx, test, idx);
  const mseOf = (done: Float32Array) => {
    let se = 0, count = 0;
    for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) if (!mask[d]) { se += (done[r * D + d] - x[r * D + d]) ** 2; count++; }
    return se / count;
  };
  const methods = {} as Record<ImputeMethod, { mse: number; seconds: number; setting: string }>;
  for (const method of IMPUTE_METHODS) {
    const t0 = performance.now();
    try {
      const done = ctx.vae.impute(x, mask, { method, ...(method === "miwae" ? { samples } : { iterations }), condition: cond });
      methods[method] = { mse: mseOf(done), seconds: (performance.now() - t0) / 1000, setting: method === "miwae" ? `k = ${samples}` : `${iterations} iterations` };
    } catch (e) {
      // a method this model's modules refuse (the library names why) is reported, not fatal
      if ((e as Error).name !== "ArgumentError") throw e;
      methods[method] = { mse: NaN, seconds: 0, setting: `not available: ${(e as Error).message}` };
    }
  }
  const prior = ctx.vae.sample(n, { condition: cond });
  const ref = test;
  const mean = new Float64Array(D);
  for (let r = 0; r < ref.n; r++) for (let d = 0; d < D; d++) mean[d] += ref.x[r * D + d] / ref.n;
  const meanFill = new Float32Array(n * D);
  for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) meanFill[r * D + d] = mean[d];
  let count = 0;
  for (let d = 0; d < D; d++) if (!mask[d]) count += n;
  return { images: n, iterations, samples, mask: `${o.mask ?? "bottom"} half hidden`, hiddenValues: count, mseImputed: methods.miwae.mse,
    msePriorSample: mseOf(prior), mseMeanFill: mseOf(meanFill), meanOf: "test", meanRows: ref.n,
    testData: `${ctx.data.testSource}${binarizedNote(ctx.data)}`, methods };
}

/** The lines that print imputationError's figures: which test images, the
 *  two baselines (and what the per-pixel mean is over), every method beside the mean. */
export function imputationLines(e: ReturnType<typeof imputationError>): string[] {
  const rel = (v: number) => `${fmtSigned(100 * (v / e.mseMeanFill - 1), 1)}% vs mean`;
  return [
    `imputation, MSE on the hidden ${e.mask.replace(" hidden", "")} of the first ${e.images} test images (${e.testData ?? "test split"}):`,
    `  baselines: per-pixel mean of the ${e.meanRows ?? "?"} ${e.meanOf} images ${fmt(e.mseMeanFill, 4)}, a sample from the prior ${fmt(e.msePriorSample, 4)}`,
    ...IMPUTE_METHODS.map((k) => `  ${(k + (k === "miwae" ? " (default)" : "")).padEnd(18)} ` + (Number.isNaN(e.methods[k].mse) ? e.methods[k].setting
      : `${fmt(e.methods[k].mse, 4)}  (${rel(e.methods[k].mse)}; ${e.methods[k].setting}, ${fmt(e.methods[k].seconds, 1)} s)`)),
  ];
}

/** A 2-d latent decoded on an n × n grid at normal quantiles (i + ½)/n:
 *  z1 grows left to right, z2 bottom to top. Conditional models use `label`. */
export async function manifoldFigure(ctx: FigureContext, o: { n?: number; label?: number } = {}): Promise<GridFigure> {
  const n = o.n ?? 20, L = ctx.vae.config.latentDim;
  if (L !== 2) throw new Error(`manifold: needs a 2-d latent, this model has ${L}`);
  const q = Array.from({ length: n }, (_, i) => normalQuantile((i + 0.5) / n));
  const z = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) { z[(r * n + c) * 2] = q[c]; z[(r * n + c) * 2 + 1] = q[n - 1 - r]; }
  const label = o.label ?? (ctx.data.test.labels ? ctx.data.test.labels[0] : 0);
  const x = ctx.vae.decode(z, { condition: classRows(ctx, new Array(n * n).fill(label)) });
  const every = Math.max(1, Math.ceil(n / 7));
  const mark = (v: number, i: number) => (i % every === 0 ? fmt(v) : "");
  return grid(ctx, chunk(split(x, ctx.data.dim), n), {
    title: "The decoder over the 2-d latent",
    subtitle: `z₁ and z₂ from ${fmt(q[0])} to ${fmt(q[n - 1])}: the N(0, 1) quantiles (i + ½)/${n}${ctx.classes > 0 ? `, class ${label}` : ""}`,
    colLabels: q.map(mark), rowLabels: q.map((_, r) => mark(q[n - 1 - r], n - 1 - r)), xTitle: "z₁", yTitle: "z₂",
  }, 1);
}

export interface LatentFigure {
  views: LatentView[];
  labels: Uint8Array | null;
  points: number;
  projection: string;
  /** n × L latent means. */
  mean: Float32Array;
  classNames: string[] | null;
  seconds: Record<string, number>;
}

/** Latent means E[z|x] of the first `max` test examples and their 2-d views
 *  (the coordinates for L ≤ 2; else UMAP beside PCA, or PCA alone). */
export async function latentFigure(ctx: FigureContext, o: { max?: number; view?: LatentViewChoice; seed?: number } = {}): Promise<LatentFigure> {
  const test = ctx.data.test, D = ctx.data.dim, L = ctx.vae.config.latentDim;
  const n = Math.min(o.max ?? 2000, test.n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const { mean } = ctx.vae.encode(test.x.subarray(0, n * D), { condition: conditionOf(ctx, test, idx) });
  const v = await latentViews(mean, n, L, o.view ?? "umap", o.seed ?? 0);
  return { views: v.views, labels: test.labels ? test.labels.subarray(0, n) : null, points: n, projection: v.projection, mean, seconds: v.seconds, classNames: ctx.classNames ?? null };
}

/** The scatter of a latent figure (the PNG's spec). */
export function latentFigureSpec(f: LatentFigure, o: { interactive?: boolean; images?: string[] } = {}): ReturnType<typeof latentSpec> {
  return latentSpec(f.views, f.labels, { points: f.points, classNames: f.classNames, ...o });
}

/** Decodes of the latent means (the report's hover images), PNG tiles at the image's own size (the page enlarges them). */
export async function latentImages(ctx: FigureContext, f: LatentFigure): Promise<string[]> {
  await pngModule();
  const idx = Array.from({ length: f.points }, (_, i) => i);
  const x = ctx.vae.decode(f.mean, { condition: conditionOf(ctx, ctx.data.test, idx) });
  const D = ctx.data.dim;
  return idx.map((i) => tileUrl(x.subarray(i * D, (i + 1) * D), shapeOf(ctx), ctx.range));
}
