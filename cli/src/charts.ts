// Every figure of a run as a Vega-Lite specification, built from plain data
// (numbers, labels, image tiles as PNG data URLs): the loss per batch and per
// epoch, the reconstruction and KL terms, the learning rate and β schedule,
// the latent scatter, image grids and the imputation error. The same spec is
// rendered to SVG/PNG (chart-render.ts) and embedded in report.html, where
// `interactive` adds zoom and pan (scales bound to the pointer) and tooltips.
// Not here: inference (figures.ts), rendering (chart-render.ts).
import type { TopLevelSpec } from "vega-lite";
import { FONT_FAMILY } from "./chart-render.js";

/** Matplotlib's "tab10": the colour of class k is TAB10[k % 10]. */
export const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const CONFIG = {
  font: FONT_FAMILY,
  background: "white",
  padding: 8,
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: "#444", anchor: "start", offset: 10 },
  axis: { labelFontSize: 12, titleFontSize: 13, labelColor: "#222", titleColor: "#111", gridColor: "#e8e8e8", tickColor: "#666", domainColor: "#666" },
  legend: { labelFontSize: 12, titleFontSize: 12, titleColor: "#111", labelColor: "#222" },
  header: { labelFontSize: 13, titleFontSize: 13 },
  view: { stroke: "#bbb" },
} as const;

type Spec = TopLevelSpec & Record<string, unknown>;

function top(spec: Record<string, unknown>): Spec {
  return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", config: CONFIG, ...spec } as Spec;
}

/** A scale bound to the pointer: drag to pan, wheel to zoom (report only). */
const ZOOM = { name: "zoom", select: "interval", bind: "scales" } as const;

// ------------------------------------------------------------------ losses

/** Whole-epoch ticks once there is more than one epoch. */
const epochAxis = (E: number) => ({ tickMinStep: E > 1 ? 1 : 0.25, labelOverlap: true });

export interface EpochPoint {
  epoch: number;
  train: { loss: number; reconstruction: number; kl: number };
  test: { loss: number; reconstruction: number; kl: number };
}

export interface LossPoint { x: number; loss: number; series: string; epoch: number }

export const SERIES = {
  batch: "train, each batch",
  trainEpoch: "train, epoch mean",
  test: "test, after the epoch",
} as const;

/**
 * Where each loss value belongs on the epoch axis. Batch k (0-based over the
 * run) covers [k/B, (k+1)/B] and is drawn at its middle (k + ½)/B; the mean
 * over epoch e's batches at the middle of that epoch, e − ½ (the mean of its
 * batches' positions); the test −ELBO, computed after epoch e, at e.
 */
export function lossPoints(epochs: EpochPoint[], batchLoss: number[], batchesPerEpoch: number): LossPoint[] {
  const B = batchesPerEpoch;
  const out: LossPoint[] = batchLoss.map((v, k) => ({ x: (k + 0.5) / B, loss: v, series: SERIES.batch, epoch: Math.floor(k / B) + 1 }));
  for (const e of epochs) {
    out.push({ x: e.epoch - 0.5, loss: e.train.loss, series: SERIES.trainEpoch, epoch: e.epoch });
    out.push({ x: e.epoch, loss: e.test.loss, series: SERIES.test, epoch: e.epoch });
  }
  return out.filter((p) => Number.isFinite(p.loss));
}

/** The p-quantile (0..1) of the finite values in `a` (a copy is sorted). */
export function percentile(a: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(a).filter(Number.isFinite).sort();
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
}

/** −ELBO against epochs: per batch (thin), the epoch means and the test
 *  −ELBO (dots). The y range covers every epoch value and the batches from
 *  the 2nd percentile to the 95th; the first, much larger batches are cut at
 *  the top (the subtitle says how many), never drawn on the frame. */
export function lossSpec(epochs: EpochPoint[], batchLoss: number[], batchesPerEpoch: number,
                         o: { interactive?: boolean; warmup?: boolean; objective?: { type: string; samples?: number } } = {}): Spec {
  const pts = lossPoints(epochs, batchLoss, batchesPerEpoch);
  const E = Math.max(1, epochs.length, Math.ceil(batchLoss.length / batchesPerEpoch));
  const epochVals = pts.filter((p) => p.series !== SERIES.batch).map((p) => p.loss);
  const lo = Math.min(...epochVals, percentile(batchLoss, 0.02));
  const hi = Math.max(...epochVals, percentile(batchLoss, 0.95));
  const m = 0.06 * (hi - lo || Math.abs(hi) || 1);
  const domain = [lo - m, hi + m];
  const above = batchLoss.filter((v) => v > domain[1]).length;
  const iwae = o.objective?.type === "iwae";
  const sub = [`batch k at epoch (k + ½)/${batchesPerEpoch}, epoch means at e − ½, test −ELBO at e`];
  if (iwae) sub.push(`train: the IWAE bound −L_k, k = ${o.objective!.samples}${o.warmup ? ", with β warm-up" : ""}; test: −ELBO`);
  if (above > 0) sub.push(`${above} early batch value${above === 1 ? "" : "s"} above ${domain[1].toFixed(1)} run off the top${o.interactive ? " (scroll to zoom out)" : ""}`);
  const color = { field: "series", type: "nominal", title: null, scale: { domain: Object.values(SERIES), range: ["#9ecae1", TAB10[0], TAB10[1]] }, legend: { orient: "top", direction: "horizontal", labelLimit: 400, columnPadding: 8 } };
  const x = { field: "x", type: "quantitative", title: "epoch", scale: { domain: [0, E], nice: false, padding: 8 }, axis: epochAxis(E) };
  const y = { field: "loss", type: "quantitative", title: iwae ? "nats per image" : o.warmup ? "loss (−ELBO with β warm-up), nats" : "−ELBO, nats per image", scale: { domain, zero: false, nice: false } };
  const tooltip = o.interactive ? [{ field: "series" }, { field: "epoch" }, { field: "x", format: ".3f", title: "x (epochs)" }, { field: "loss", format: ".2f" }] : undefined;
  return top({
    title: { text: "Training loss", subtitle: sub },
    width: 640, height: 360,
    data: { values: pts },
    encoding: { x, y, color },
    layer: [
      { transform: [{ filter: `datum.series === '${SERIES.batch}'` }], mark: { type: "line", strokeWidth: 1, clip: true, ...(o.interactive ? {} : {}) },
        ...(o.interactive ? { params: [ZOOM] } : {}) },
      { transform: [{ filter: `datum.series !== '${SERIES.batch}'` }], mark: { type: "line", strokeWidth: 2.5, clip: true, point: { size: 45, filled: true } },
        ...(tooltip ? { encoding: { tooltip } } : {}) },
    ],
  });
}

/** The run's config, as much of it as names the KL term. */
export interface KlConfig { prior?: { type: string }; latent?: { type: string }; latents?: unknown[] }

/** What the KL panel shows: KL(q ‖ N(0, I)) for the default prior; a learned
 *  prior, the categorical latent's uniform prior and stochastic layers above
 *  the first are named (the term is against them, sampled where it has no
 *  closed form). */
export function klLabel(c: KlConfig | undefined): string {
  if (c?.latents && c.latents.length > 1) return "log q(z|x) − log p(z), sampled (all levels)";
  if (c?.latent?.type === "categorical") return "KL(q(z|x) ‖ uniform)";
  const prior = c?.prior?.type ?? "normal";
  return prior === "normal" ? "KL(q(z|x) ‖ N(0, I))" : `KL(q(z|x) ‖ ${prior} prior), sampled`;
}

/** Reconstruction −E_q[log p(x|z)] and the KL term (klLabel) per epoch, train
 *  (epoch mean, at e − ½) and test (after the epoch, at e), side by side. */
export function termsSpec(epochs: EpochPoint[], o: { interactive?: boolean; config?: KlConfig } = {}): Spec {
  const rec = "reconstruction −E[log p(x|z)]", kl = klLabel(o.config);
  const values = epochs.flatMap((e) => [
    { x: e.epoch - 0.5, value: e.train.reconstruction, term: rec, split: "train, epoch mean", epoch: e.epoch },
    { x: e.epoch, value: e.test.reconstruction, term: rec, split: "test, after the epoch", epoch: e.epoch },
    { x: e.epoch - 0.5, value: e.train.kl, term: kl, split: "train, epoch mean", epoch: e.epoch },
    { x: e.epoch, value: e.test.kl, term: kl, split: "test, after the epoch", epoch: e.epoch },
  ]).filter((p) => Number.isFinite(p.value));
  const E = Math.max(1, epochs.length);
  const panel = (term: string) => ({
    title: term, width: 300, height: 240,
    transform: [{ filter: { field: "term", equal: term } }],
    mark: { type: "line", strokeWidth: 2.5, point: { size: 45, filled: true }, clip: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: "epoch", scale: { domain: [0, E], nice: false, padding: 8 }, axis: epochAxis(E) },
      y: { field: "value", type: "quantitative", title: "nats per image", scale: { zero: false } },
      color: { field: "split", type: "nominal", title: null, scale: { domain: ["train, epoch mean", "test, after the epoch"], range: [TAB10[0], TAB10[1]] }, legend: { orient: "top", labelLimit: 400 } },
      ...(o.interactive ? { tooltip: [{ field: "split" }, { field: "epoch" }, { field: "value", format: ".3f" }] } : {}),
    },
    ...(o.interactive ? { params: [{ ...ZOOM, name: term === rec ? "zoomRec" : "zoomKl" }] } : {}),
  });
  return top({
    title: { text: "The two terms of the −ELBO", subtitle: "train values are epoch means (the KL unweighted by β), test values are computed after each epoch" },
    data: { values }, hconcat: [panel(rec), panel(kl)], resolve: { scale: { y: "independent" } },
  });
}

/** The learning rate and the KL weight β of every step, against epochs. */
export function scheduleSpec(o: { lr: number; batchesPerEpoch: number; epochs: number; batchBeta?: number[]; epochBeta: { epoch: number; beta: number }[]; warmupEpochs: number; interactive?: boolean }): Spec {
  const B = o.batchesPerEpoch, E = Math.max(1, o.epochs);
  const beta = o.batchBeta && o.batchBeta.length > 0
    ? o.batchBeta.map((b, k) => ({ x: (k + 0.5) / B, value: b }))
    : o.epochBeta.map((e) => ({ x: e.epoch, value: e.beta }));
  const lr = [{ x: 0, value: o.lr }, { x: E, value: o.lr }];
  const panel = (title: string, values: { x: number; value: number }[], ytitle: string, fmt: string) => ({
    title, width: 300, height: 200, data: { values },
    mark: { type: "line", strokeWidth: 2.5, color: TAB10[0], point: values.length <= 40 ? { filled: true, size: 35 } : false },
    encoding: {
      x: { field: "x", type: "quantitative", title: "epoch", scale: { domain: [0, E], nice: false, padding: 8 }, axis: epochAxis(E) },
      y: { field: "value", type: "quantitative", title: ytitle, axis: { format: fmt } },
      ...(o.interactive ? { tooltip: [{ field: "x", format: ".3f", title: "epoch" }, { field: "value", title: ytitle }] } : {}),
    },
  });
  return top({
    title: { text: "Schedule", subtitle: [`Adam learning rate (constant); β ${o.warmupEpochs > 0 ? `ramps linearly from 0 over ${o.warmupEpochs} epoch${o.warmupEpochs === 1 ? "" : "s"}` : "is constant (no --kl-warmup)"}`] },
    hconcat: [panel("learning rate", lr, "learning rate", ".1e"), panel("KL weight β", beta, "β", ".2f")],
  });
}

// ------------------------------------------------------------------ latent

export interface LatentView {
  /** "z", "pca" or "umap". */
  kind: string;
  title: string;
  xTitle: string;
  yTitle: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** The latent means of test images in one or more 2-d views, side by side,
 *  coloured by label (tab10) with a legend. `images[i]` (report only): the
 *  decode of point i's latent mean, shown in the tooltip when hovered. The
 *  views share one data table (view k's coordinates are fields xk, yk), so
 *  each image is stored once. */
export function latentSpec(views: LatentView[], labels: ArrayLike<number> | null,
                           o: { points: number; interactive?: boolean; images?: string[]; size?: number; classNames?: string[] | null } = { points: 0 }): Spec {
  const size = o.size ?? (views.length > 1 ? 380 : 460);
  const n = views[0]?.x.length ?? 0;
  const name = (k: number) => o.classNames?.[k] ?? String(k);
  const values = Array.from({ length: n }, (_, i) => {
    const row: Record<string, number | string> = { i, label: labels ? name(labels[i]) : "all" };
    views.forEach((v, k) => { row[`x${k}`] = v.x[i]; row[`y${k}`] = v.y[i]; });
    if (o.images) row.image = o.images[i];
    return row;
  });
  const ids = labels ? [...new Set(Array.from(labels))].sort((a, b) => a - b) : [0];
  const classes = labels ? ids.map(name) : ["all"];
  const panel = (v: LatentView, k: number) => {
    const tooltip = o.interactive ? [...(o.images ? [{ field: "image", title: "image" }] : []), { field: "label" }, { field: "i", title: "test image" },
      { field: `x${k}`, format: ".3f", title: v.xTitle }, { field: `y${k}`, format: ".3f", title: v.yTitle }] : undefined;
    return {
      title: v.title, width: size, height: size,
      mark: { type: "circle", size: n > 3000 ? 10 : 18, opacity: 0.75 },
      encoding: {
        x: { field: `x${k}`, type: "quantitative", title: v.xTitle, scale: { zero: false } },
        y: { field: `y${k}`, type: "quantitative", title: v.yTitle, scale: { zero: false } },
        color: { field: "label", type: "nominal", title: labels ? "label" : null, sort: classes,
          scale: { domain: classes, range: ids.map((k) => TAB10[k % 10]) }, legend: labels ? {} : null },
        ...(tooltip ? { tooltip } : {}),
      },
      ...(o.interactive ? { params: [{ ...ZOOM, name: `zoom_${v.kind}` }] } : {}),
    };
  };
  const hover = o.interactive && o.images ? "hover a point to see its decoded image" : "";
  const title = { text: `Latent means E[z|x] of ${o.points} test images`, subtitle: views.length > 1 ? `${views.map((v) => v.title).join(" beside ")}${hover ? `; ${hover}` : ""}` : hover };
  return views.length === 1 ? top({ data: { values }, ...panel(views[0], 0), title })
    : top({ title, data: { values }, hconcat: views.map(panel), resolve: { scale: { color: "shared" } } });
}

// ------------------------------------------------------------------ images

export interface Tile { col: number; row: number; url: string }

export interface GridOptions {
  title: string;
  subtitle?: string | string[];
  /** Displayed size of one tile, in SVG units. */
  tile: number;
  /** Gap between tiles. */
  gap?: number;
  rowLabels?: string[];
  colLabels?: string[];
  xTitle?: string;
  yTitle?: string;
}

/** A grid of image tiles (Vega-Lite `image` marks on band scales); optional
 *  labels name the rows (e.g. which row is the input) and columns (e.g. the
 *  z value of a manifold column). */
export function gridSpec(tiles: Tile[], cols: number, rows: number, o: GridOptions): Spec {
  const gap = o.gap ?? 2;
  const step = o.tile + gap;
  const labelAxis = (labels: string[] | undefined, title: string | undefined, orient: string) => labels
    ? { orient, title: title ?? null, ticks: false, domain: false, labelPadding: 4, labelExpr: `${JSON.stringify(labels)}[datum.value]`, labelFontSize: 11, labelAngle: 0 }
    : null;
  return top({
    title: { text: o.title, ...(o.subtitle ? { subtitle: o.subtitle } : {}) },
    width: cols * step, height: rows * step,
    data: { values: tiles },
    mark: { type: "image", width: o.tile, height: o.tile, smooth: false },
    encoding: {
      x: { field: "col", type: "ordinal", scale: { domain: Array.from({ length: cols }, (_, i) => i), paddingInner: gap / step, paddingOuter: gap / step / 2 }, axis: labelAxis(o.colLabels, o.xTitle, "bottom") },
      y: { field: "row", type: "ordinal", scale: { domain: Array.from({ length: rows }, (_, i) => i), paddingInner: gap / step, paddingOuter: gap / step / 2 }, axis: labelAxis(o.rowLabels, o.yTitle, "left") },
      url: { field: "url", type: "nominal" },
    },
    config: { ...CONFIG, view: { stroke: null } },
  });
}

// -------------------------------------------------------------- imputation

export interface ImputationErrorData {
  images: number;
  mask: string;
  iterations: number;
  mseImputed: number;
  msePriorSample: number;
  mseMeanFill: number;
  /** The per-pixel mean's rows: "test" (the split evaluated), or "training" in runs before that; absent: training. */
  meanOf?: "training" | "test";
  /** The test images and how they were binarized (absent in older runs). */
  testData?: string;
  /** Every vae.impute method's MSE and setting (NaN: refused by the model). */
  methods?: Record<string, { mse: number; setting: string }>;
}

/** MSE on the hidden half of each method, the per-pixel mean of the test
 *  split (a constant fill) as the baseline: a bar per method and a dashed
 *  rule at the baseline's value. */
export function imputationErrorSpec(e: ImputationErrorData, o: { interactive?: boolean } = {}): Spec {
  const methods = e.methods
    ? Object.entries(e.methods).filter(([, v]) => Number.isFinite(v.mse)).map(([k, v]) => ({ method: `vae.impute ${k}${k === "miwae" ? " (default)" : ""}, ${v.setting}`, mse: v.mse, kind: "model" }))
    : [{ method: "vae.impute (posterior mean)", mse: e.mseImputed, kind: "model" }];
  const values = [
    ...methods,
    { method: "a sample from the prior", mse: e.msePriorSample, kind: "model" },
    { method: `per-pixel ${e.meanOf ?? "training"} mean (baseline)`, mse: e.mseMeanFill, kind: "baseline" },
  ];
  const y = { field: "method", type: "nominal", title: null, sort: null, axis: { labelLimit: 260 } };
  return top({
    title: { text: "Imputation error", subtitle: [`mean squared error on the hidden values of ${e.images} test images (${e.mask}); lower is better`,
      ...(e.testData ? [`test images: ${e.testData}; baseline: their split's per-pixel mean`] : [])] },
    width: 420, height: 30 * values.length,
    data: { values },
    layer: [
      { mark: { type: "bar", height: 22 }, encoding: { y, x: { field: "mse", type: "quantitative", title: "MSE on the hidden values", axis: { tickCount: 5 } },
        color: { field: "kind", type: "nominal", legend: null, scale: { domain: ["model", "baseline"], range: [TAB10[0], "#999999"] } },
        ...(o.interactive ? { tooltip: [{ field: "method" }, { field: "mse", format: ".5f" }] } : {}) } },
      { mark: { type: "text", align: "left", dx: 4, fontSize: 12 }, encoding: { y, x: { field: "mse", type: "quantitative" }, text: { field: "mse", type: "quantitative", format: ".4f" } } },
      { data: { values: [{ base: e.mseMeanFill }] }, mark: { type: "rule", strokeDash: [5, 4], color: "#555" }, encoding: { x: { field: "base", type: "quantitative" } } },
    ],
  });
}
