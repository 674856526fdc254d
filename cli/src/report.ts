// report.html of a run: one self-contained page (vega, vega-lite and
// vega-embed inlined from their packages' browser builds, every chart's data
// inlined, nothing fetched) with the charts of charts.ts in their interactive
// form: zoom and pan on the loss curves, tooltips everywhere, and on the
// latent scatter the decoded image of the hovered point. Built from the run
// folder alone: metrics.json (losses, settings, timings) and report-data.json
// (what needs the model: latent views, decoded images, image grids), so
// `wasm-vae report RUN_DIR` rebuilds it at any time.
// Not here: computing the figures (figures.ts), the PNGs (run-figures.ts).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { Flags } from "./args.js";
import { UsageError } from "./args.js";
import { imputationErrorSpec, latentSpec, lossSpec, scheduleSpec, termsSpec, type EpochPoint, type KlConfig, type ImputationErrorData, type LatentView } from "./charts.js";
import { MissingDependencyError } from "./chart-render.js";
import { DataError } from "./data.js";
import { gridFigureSpec, type GridFigure } from "./figures.js";
import { writeOutput } from "./files.js";
import { fmt } from "./progress.js";

/** What the report reads from metrics.json (train.ts's RunMetrics has it all). */
export interface ReportMetrics {
  format: string;
  status: string;
  name: string;
  created: string;
  updated: string;
  commands: string[];
  settings: { epochs: number; batchSize: number; lr: number; klWarmup: number; build: string; config: object; arch?: string };
  data: { description: string; train: number; test: number; testSource: string; dim: number; imageShape: readonly number[] | null; classes: number };
  build: string;
  threads?: number;
  parameters: number;
  batchesPerEpoch: number;
  epochs: (EpochPoint & { beta: number; seconds: number; wallSeconds: number; samplesPerSecond: number })[];
  batchLoss: number[];
  batchBeta?: number[];
  final?: {
    test: { loss: number; reconstruction: number; kl: number; images: number };
    iwae: { logLikelihood: number; images: number; samples: number; seconds: number };
    imputation: ImputationErrorData & { hiddenValues: number };
    trainingSeconds: number;
    secondsPerEpoch: number;
    latent: { points: number; projection: string };
  };
  files?: Record<string, unknown>;
}

/** report-data.json: the figures that need the model, as data. */
export interface ReportData {
  format: "wasm-vae-report-data";
  version: 1;
  latent: { views: LatentView[]; labels: number[] | null; points: number; projection: string; images: string[] | null; classNames?: string[] | null };
  grids: Partial<Record<GridName, GridFigure>>;
  imputation: ImputationErrorData;
  seconds: Record<string, number>;
}

export const GRIDS = { samples: "Samples", reconstructions: "Reconstructions", interpolation: "Interpolation", manifold: "Manifold", imputation: "Imputation" } as const;
export type GridName = keyof typeof GRIDS;

const require = createRequire(import.meta.url);

/** The browser build of a package, e.g. vega/build/vega.min.js, found next to its entry point. */
async function browserBuild(pkg: string, file: string): Promise<string> {
  try {
    return await readFile(join(dirname(require.resolve(pkg)), file), "utf8");
  } catch (e) {
    throw new MissingDependencyError(`the wasm-vae CLI inlines ${pkg}'s ${file} into report.html, and it cannot be read (${pkg} is a dependency of wasm-vae-cli: reinstall it, or npm i ${pkg})`, { cause: e });
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
/** JSON inside <script>: no "</script>" or "<!--" can end the element early. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");
const n2 = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? "–" : fmt(v, d));

/** Every chart of the report, in page order: [id, heading, spec]. */
export function reportCharts(m: ReportMetrics, d: ReportData | null): [string, string, TopLevelSpec][] {
  const out: [string, string, TopLevelSpec][] = [];
  const E = m.epochs.length;
  if (m.batchLoss.length > 0 || E > 0) {
    out.push(["loss", "Loss", lossSpec(m.epochs, m.batchLoss, m.batchesPerEpoch, { interactive: true, warmup: m.settings.klWarmup > 0, objective: (m.settings.config as { objective?: { type: string; samples?: number } }).objective })]);
  }
  if (E > 0) out.push(["terms", "Reconstruction and KL", termsSpec(m.epochs, { interactive: true, config: m.settings.config as KlConfig })]);
  if (E > 0 || (m.batchBeta?.length ?? 0) > 0) {
    out.push(["schedule", "Learning rate and β", scheduleSpec({ lr: m.settings.lr, batchesPerEpoch: m.batchesPerEpoch, epochs: Math.max(E, m.settings.epochs),
      batchBeta: m.batchBeta, epochBeta: m.epochs.map((e) => ({ epoch: e.epoch, beta: e.beta })), warmupEpochs: m.settings.klWarmup, interactive: true })]);
  }
  if (d) {
    out.push(["latent", "Latent space", latentSpec(d.latent.views, d.latent.labels, { points: d.latent.points, interactive: true, images: d.latent.images ?? undefined, classNames: d.latent.classNames })]);
    for (const [k, title] of Object.entries(GRIDS) as [GridName, string][]) {
      const g = d.grids[k];
      if (g) out.push([k, title, gridFigureSpec(g)]);
    }
    out.push(["imputation-error", "Imputation error", imputationErrorSpec(d.imputation, { interactive: true })]);
  }
  return out;
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join("")}</table>`;
}

/** The whole page. `libs` are the three browser builds (vega, vega-lite, vega-embed). */
export function reportHtml(m: ReportMetrics, d: ReportData | null, libs: string[]): string {
  const charts = reportCharts(m, d);
  const specs = Object.fromEntries(charts.map(([id, , s]) => {
    const spec = s as TopLevelSpec & { config?: Record<string, unknown> };
    // the browser may lack DejaVu Sans: fall back to the usual sans-serif faces
    return [id, { ...spec, config: { ...spec.config, font: "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif" } }];
  }));
  const f = m.final;
  const c = m.settings.config as Record<string, unknown>;
  const totalWall = m.epochs.reduce((a, e) => a + e.wallSeconds, 0);
  const run = table([
    ["status", escapeHtml(m.status)],
    ["created / updated", `${escapeHtml(m.created)} / ${escapeHtml(m.updated)}`],
    ["commands", m.commands.map((s) => `<code>${escapeHtml(s)}</code>`).join("<br>")],
    ["data", `${escapeHtml(m.data.description)}: ${m.data.train} train, ${m.data.test} test (${escapeHtml(m.data.testSource)}); ${m.data.dim} values per row` +
      `${m.data.imageShape ? `, images ${m.data.imageShape.join("×")}` : ""}${m.data.classes ? `, ${m.data.classes} classes` : ""}`],
    ["model", `${m.parameters.toLocaleString("en-US")} parameters; ${escapeHtml(String(m.settings.arch ?? "mlp"))}, latent ${escapeHtml(String(c.latentDim))}, ${escapeHtml(String(c.likelihood))}, β ${escapeHtml(String(c.beta))}` +
      `${(c.objective as { type?: string; samples?: number } | undefined)?.type === "iwae" ? `, IWAE objective (k = ${(c.objective as { samples: number }).samples})` : ""}`],
    ["training", `${m.epochs.length} of ${m.settings.epochs} epochs, batch ${m.settings.batchSize} (${m.batchesPerEpoch} per epoch), Adam lr ${m.settings.lr}${m.settings.klWarmup ? `, KL warm-up ${m.settings.klWarmup} epochs` : ""}`],
    ["build and threads", `${escapeHtml(m.build)} build, ${m.threads ?? "?"} thread${m.threads === 1 ? "" : "s"} (results are bit-identical for any thread count)`],
    ["timings", `training ${n2(m.epochs.reduce((a, e) => a + e.seconds, 0), 1)} s (${n2(f?.secondsPerEpoch, 2)} s per epoch, ` +
      `${m.epochs.length ? Math.round(m.epochs.reduce((a, e) => a + e.samplesPerSecond, 0) / m.epochs.length).toLocaleString("en-US") : "–"} samples/s); with test passes and checkpoints ${n2(totalWall, 1)} s` +
      `${f ? `; IWAE ${n2(f.iwae.seconds, 1)} s` : ""}${d?.seconds ? Object.entries(d.seconds).map(([k, v]) => `; ${escapeHtml(k)} ${n2(v, 1)} s`).join("") : ""}`],
    ...(f ? [
      ["test −ELBO", `${n2(f.test.loss)} nats per image (reconstruction ${n2(f.test.reconstruction)} + KL ${n2(f.test.kl)}) on ${f.test.images} test images`],
      ["test log p(x)", `≈ ${n2(f.iwae.logLikelihood)} nats (IWAE, k = ${f.iwae.samples}, first ${f.iwae.images} test images)`],
      ["latent view", escapeHtml(f.latent.projection)],
    ] as [string, string][] : []),
  ]);
  const sections = charts.map(([id, title]) => `<section><h2>${escapeHtml(title)}</h2><div class="chart" id="chart-${id}" data-chart="${id}"></div></section>`).join("\n");
  const missing = d ? "" : `<p class="note">report-data.json is missing (the run did not finish): only the charts of metrics.json are shown.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wasm-vae run ${escapeHtml(m.name)}</title>
<style>
body { font-family: "DejaVu Sans", Verdana, Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1400px; padding: 0 16px; color: #111; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin: 28px 0 8px; border-top: 1px solid #ddd; padding-top: 16px; }
table { border-collapse: collapse; font-size: 14px; } th { text-align: left; vertical-align: top; padding: 3px 16px 3px 0; color: #444; font-weight: normal; white-space: nowrap; }
td { padding: 3px 0; } code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f6f6f6; padding: 10px; overflow: auto; max-height: 420px; }
.note { color: #8a4b00; } .hint { color: #555; font-size: 13px; }
#vg-tooltip-element img { width: 84px; max-width: 84px; max-height: 84px; object-fit: contain; image-rendering: pixelated; }
</style>
${libs.map((s) => `<script>${s.replace(/<\/script/gi, "<\\/script")}</script>`).join("\n")}
</head>
<body>
<h1>wasm-vae run ${escapeHtml(m.name)}</h1>
${run}
${missing}
<p class="hint">Charts: drag to pan and scroll to zoom the loss curves and the latent scatter (double-click resets); hover any point for its values; on the latent scatter, the tooltip shows the decoder's output at the point's latent mean.</p>
${sections}
<section><h2>Settings (metrics.json)</h2><pre>${escapeHtml(JSON.stringify(m.settings, null, 2))}</pre></section>
<script id="specs" type="application/json">${scriptJson(specs)}</script>
<script>
const specs = JSON.parse(document.getElementById("specs").textContent);
window.reportViews = {};   // the vega views by chart id, for scripting and tests
for (const el of document.querySelectorAll("[data-chart]")) {
  vegaEmbed(el, specs[el.dataset.chart], { renderer: "svg", actions: false })
    .then((r) => { window.reportViews[el.dataset.chart] = r.view; el.dataset.rendered = "true"; })
    .catch((e) => { el.dataset.rendered = "error"; el.textContent = "this chart failed to render: " + e.message; console.error(e); });
}
</script>
</body>
</html>
`;
}

/** The three browser builds, in load order. */
export async function reportLibraries(): Promise<string[]> {
  return Promise.all([browserBuild("vega", "vega.min.js"), browserBuild("vega-lite", "vega-lite.min.js"), browserBuild("vega-embed", "vega-embed.min.js")]);
}

async function readJson<T>(path: string, what: string, required: boolean): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new DataError((e as NodeJS.ErrnoException).code === "ENOENT" ? `${path}: no such file (${what})` : `${path}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new DataError(`${path}: cannot parse (${(e as Error).message})`);
  }
}

/** Writes `dir`/report.html (or `out`) from the run folder's files; returns the path. */
export async function writeReport(dir: string, out = join(dir, "report.html")): Promise<string> {
  const m = await readJson<ReportMetrics>(join(dir, "metrics.json"), "not a run folder: it has no metrics.json", true);
  if (!m || m.format !== "wasm-vae-run" || !m.settings) throw new DataError(`${join(dir, "metrics.json")}: not a wasm-vae run's metrics`);
  const d = await readJson<ReportData>(join(dir, "report-data.json"), "", false);
  if (d && d.format !== "wasm-vae-report-data") throw new DataError(`${join(dir, "report-data.json")}: not a wasm-vae report's data`);
  await writeOutput(out, reportHtml(m, d, await reportLibraries()));
  return out;
}

/** `wasm-vae report RUN_DIR [--out FILE]`. */
export async function reportCommand(f: Flags, log: (s: string) => void): Promise<number> {
  const dir = f.str("run");
  if (!dir) throw new UsageError("give the run folder: wasm-vae report runs/<name>");
  const out = await writeReport(resolve(dir), f.given("out") ? resolve(f.str("out")!) : undefined);
  log(`wrote ${out}`);
  return 0;
}
