// The figures of a finished training run, written into its folder: each
// chart as PNG (and SVG for the line charts and the scatter), the data the
// report needs (report-data.json) and report.html. `check()` is called
// between figures so that Ctrl-C stops promptly.
// Not here: the specs (charts.ts), inference (figures.ts), the page (report.ts).
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { VAE } from "wasm-vae";
import { imputationErrorSpec, lossSpec, scheduleSpec, termsSpec, type KlConfig } from "./charts.js";
import { renderChart } from "./chart-render.js";
import type { Dataset } from "./data.js";
import {
  gridFigureSpec, imputationError, imputationFigure, interpolationFigure, latentFigure, latentFigureSpec, latentImages,
  manifoldFigure, reconstructionsFigure, samplesFigure, type FigureContext, type GridFigure,
} from "./figures.js";
import { writeOutput } from "./files.js";
import type { LatentViewChoice } from "./latent-view.js";
import { writeReport, type GridName, type ReportData, type ReportMetrics } from "./report.js";
import type { ImageShape } from "./tiles.js";

export type FileInfo = { width: number; height: number } | { bytes: number };

export interface RunFigureInput {
  runDir: string;
  vae: VAE;
  data: Dataset;
  classes: number;
  range: [number, number];
  /** The run's metrics so far (losses, settings); read, not changed. */
  metrics: ReportMetrics;
  latentView: LatentViewChoice;
  /** Test images whose hidden half every imputation method completes (--impute-images). */
  imputeImages?: number;
  check: () => void;
  log: (s: string) => void;
}

/** Renders `spec` and writes `<name>.png` (and `<name>.svg` when `svg`). */
export async function writeChart(dir: string, name: string, spec: TopLevelSpec, files: Record<string, FileInfo>, o: { svg?: boolean; scale?: number } = {}): Promise<void> {
  const r = await renderChart(spec, o.scale ?? 2);
  await writeOutput(join(dir, `${name}.png`), r.png);
  files[`${name}.png`] = { width: r.width, height: r.height };
  if (o.svg) {
    await writeOutput(join(dir, `${name}.svg`), r.svg);
    files[`${name}.svg`] = { bytes: Buffer.byteLength(r.svg) };
  }
}

/** Grids render at scale 1: their tiles are already at their pixel size. */
export async function writeGrid(dir: string, name: string, g: GridFigure, files: Record<string, FileInfo>): Promise<void> {
  await writeChart(dir, name, gridFigureSpec(g), files, { scale: 1 });
}

export async function writeRunFigures(r: RunFigureInput): Promise<{ files: Record<string, FileInfo>; imputation: ReturnType<typeof imputationError>; latent: { points: number; projection: string } }> {
  const { runDir, vae, data, classes, range, metrics: m, check } = r;
  const files: Record<string, FileInfo> = {};
  const c = vae.config;
  const seconds: Record<string, number> = {};
  const timed = async <T>(what: string, f: () => Promise<T> | T): Promise<T> => {
    check();
    const t0 = performance.now();
    const v = await f();
    seconds[what] = (seconds[what] ?? 0) + (performance.now() - t0) / 1000;
    return v;
  };

  await timed("charts", async () => {
    await writeChart(runDir, "loss", lossSpec(m.epochs, m.batchLoss, m.batchesPerEpoch, { warmup: m.settings.klWarmup > 0, objective: (m.settings.config as { objective?: { type: string; samples?: number } }).objective }), files, { svg: true });
    await writeChart(runDir, "terms", termsSpec(m.epochs, { config: m.settings.config as KlConfig }), files, { svg: true });
    await writeChart(runDir, "schedule", scheduleSpec({ lr: m.settings.lr, batchesPerEpoch: m.batchesPerEpoch, epochs: m.epochs.length,
      batchBeta: m.batchBeta, epochBeta: m.epochs.map((e) => ({ epoch: e.epoch, beta: e.beta })), warmupEpochs: m.settings.klWarmup }), files, { svg: true });
  });

  // (h, w, c) when the data says so (colour image folders), else (h, w)
  const d = data as Dataset & { shape?: ImageShape | null; classNames?: string[] | null };
  const shape = (d.shape ?? data.imageShape ?? null) as ImageShape | null;
  const ctx: FigureContext = { vae, data, classes, shape: shape ?? [1, data.dim], range, classNames: d.classNames ?? null };
  const lat = await timed("latent", () => latentFigure(ctx, { view: r.latentView, seed: c.seed }));
  Object.assign(seconds, Object.fromEntries(Object.entries(lat.seconds).map(([k, v]) => [`latent ${k}`, v])));
  await timed("charts", () => writeChart(runDir, "latent", latentFigureSpec(lat), files, { svg: true }));
  const imputation = await timed("imputation error", () => imputationError(ctx, { n: r.imputeImages ?? 100 }));
  await timed("charts", () => writeChart(runDir, "imputation-error", imputationErrorSpec(imputation), files, { svg: true }));

  const grids: Partial<Record<GridName, GridFigure>> = {};
  let images: string[] | null = null;
  if (shape) {
    grids.samples = await timed("grids", () => samplesFigure(ctx, { seed: c.seed }));
    grids.reconstructions = await timed("grids", () => reconstructionsFigure(ctx));
    grids.interpolation = await timed("grids", () => interpolationFigure(ctx));
    grids.imputation = await timed("grids", () => imputationFigure(ctx));
    // normal quantiles of a Gaussian code; a categorical one lives on the simplex
    if (c.latentDim === 2 && c.latent.type === "gaussian") grids.manifold = await timed("grids", () => manifoldFigure(ctx));
    for (const [name, g] of Object.entries(grids)) await timed("grids", () => writeGrid(runDir, name, g, files));
    images = await timed("latent images", () => latentImages(ctx, lat));
  } else {
    r.log(`note: rows of ${data.dim} values are not images (give --image-shape HxW to draw them): image figures skipped`);
  }

  check();
  const reportData: ReportData = {
    format: "wasm-vae-report-data", version: 1,
    latent: { views: lat.views.map((v) => ({ ...v, x: Array.from(v.x), y: Array.from(v.y) })), labels: lat.labels ? Array.from(lat.labels) : null, points: lat.points, projection: lat.projection, images, classNames: lat.classNames },
    grids, imputation, seconds,
  };
  const text = JSON.stringify(reportData);
  await writeOutput(join(runDir, "report-data.json"), text);
  files["report-data.json"] = { bytes: Buffer.byteLength(text) };
  return { files, imputation, latent: { points: lat.points, projection: lat.projection } };
}

/** report.html from the run folder (after metrics.json has its final state). */
export async function writeRunReport(runDir: string, files: Record<string, FileInfo>): Promise<void> {
  const path = await writeReport(runDir);
  const { stat } = await import("node:fs/promises");
  files["report.html"] = { bytes: (await stat(path)).size };
}
