// The CLI's charts: Vega-Lite specs put every loss value at the right x,
// render headless to SVG (axis titles, legend) and to PNG (decodes, 2× the
// SVG size, text drawn with the packaged font, not blank); image grids keep
// colour; the half mask covers every channel; UMAP is deterministic for a
// seed; the report page inlines everything and fetches nothing.
import { describe, expect, it } from "vitest";
import pngjs from "pngjs";
import { gridSpec, imputationErrorSpec, latentSpec, lossPoints, lossSpec, scheduleSpec, SERIES, termsSpec } from "../../cli/src/charts.js";
import { fontFiles, renderChart, renderSvg } from "../../cli/src/chart-render.js";
import { describeMask, halfMask, imputationFigure, reconstructionsFigure, samplesFigure, tileLayout, type FigureContext } from "../../cli/src/figures.js";
import { VAE } from "../../src/index.js";
import { latentViews, umap2 } from "../../cli/src/latent-view.js";
import { reportHtml, reportLibraries, type ReportData, type ReportMetrics } from "../../cli/src/report.js";
import { pngModule, tileUrl } from "../../cli/src/tiles.js";

const decode = (png: Buffer) => pngjs.PNG.sync.read(png);

/** Pixels that are not (near) white. */
function inked(img: pngjs.PNG, x0 = 0, y0 = 0, x1 = img.width, y1 = img.height): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const o = (y * img.width + x) * 4;
    if (img.data[o] < 200 || img.data[o + 1] < 200 || img.data[o + 2] < 200) n++;
  }
  return n;
}

const epochs = [1, 2, 3].map((e) => ({
  epoch: e, train: { loss: 200 - 10 * e, reconstruction: 180 - 10 * e, kl: 20 }, test: { loss: 195 - 10 * e, reconstruction: 176 - 10 * e, kl: 19 },
}));
const batchLoss = Array.from({ length: 12 }, (_, k) => 400 / (k + 1) + 150);

describe("loss positions", () => {
  it("batches at (k + ½)/B, epoch means at e − ½, test values at e", () => {
    const p = lossPoints(epochs, batchLoss, 4);
    const xs = (s: string) => p.filter((q) => q.series === s).map((q) => q.x);
    expect(xs(SERIES.batch)).toEqual([0.125, 0.375, 0.625, 0.875, 1.125, 1.375, 1.625, 1.875, 2.125, 2.375, 2.625, 2.875]);
    expect(xs(SERIES.trainEpoch)).toEqual([0.5, 1.5, 2.5]);
    expect(xs(SERIES.test)).toEqual([1, 2, 3]);
    // epoch 1's batches all lie in (0, 1), and its mean sits at their mean x
    const first = p.filter((q) => q.series === SERIES.batch && q.epoch === 1).map((q) => q.x);
    expect(first.every((x) => x > 0 && x < 1)).toBe(true);
    expect(first.reduce((a, b) => a + b) / first.length).toBe(0.5);
    expect(p.filter((q) => q.series === SERIES.trainEpoch).map((q) => q.loss)).toEqual([190, 180, 170]);
  });

  it("an IWAE run says what its train loss is", async () => {
    const svg = await renderSvg(lossSpec(epochs, batchLoss, 4, { objective: { type: "iwae", samples: 5 } }));
    expect(svg).toContain("train: the IWAE bound −L_k, k = 5; test: −ELBO");
    expect(svg).toContain("nats per image");
  });

  it("the spec carries those points and cuts, not clamps, the early batches", () => {
    const spec = lossSpec(epochs, batchLoss, 4) as { data: { values: { x: number; series: string }[] }; encoding: { y: { scale: { domain: number[] } } }; title: { subtitle: string[] } };
    expect(spec.data.values.filter((v) => v.series === SERIES.test).map((v) => v.x)).toEqual([1, 2, 3]);
    const [, hi] = spec.encoding.y.scale.domain;
    expect(hi).toBeLessThan(550);           // the first batch (550) is above the range …
    expect(spec.title.subtitle.join(" ")).toMatch(/early batch values? above .* run off the top/);
  });
});

describe("headless rendering (vega → SVG, resvg → PNG)", () => {
  it("the loss chart's SVG has its axis titles and legend, the PNG is 2× and not blank", async () => {
    const r = await renderChart(lossSpec(epochs, batchLoss, 4));
    for (const t of ["epoch", "−ELBO, nats per image", "Training loss", SERIES.batch, SERIES.trainEpoch, SERIES.test]) expect(r.svg).toContain(t);
    const w = Number(/<svg[^>]* width="(\d+(?:\.\d+)?)"/.exec(r.svg)![1]), h = Number(/<svg[^>]* height="(\d+(?:\.\d+)?)"/.exec(r.svg)![1]);
    const img = decode(r.png);
    expect([img.width, img.height]).toEqual([r.width, r.height]);
    expect(img.width).toBe(Math.ceil(2 * w));
    expect(img.height).toBe(Math.ceil(2 * h));
    expect(img.width).toBeGreaterThan(1000);
    expect(inked(img)).toBeGreaterThan(img.width * img.height * 0.01);
  });

  it("draws text with the packaged DejaVu Sans (system fonts are not loaded)", async () => {
    expect(fontFiles().every((f) => f.endsWith(".ttf"))).toBe(true);
    const text = (s: string) => ({ $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: 200, height: 60, background: "white", config: { view: { stroke: null } },
      data: { values: [{ t: s }] }, mark: { type: "text", fontSize: 30, font: "DejaVu Sans" }, encoding: { text: { field: "t" } } }) as never;
    const blank = decode((await renderChart(text(""))).png), written = decode((await renderChart(text("Ag −β"))).png);
    expect(inked(blank)).toBe(0);
    expect(inked(written)).toBeGreaterThan(300);
  });

  // review of issue 18: every run's KL panel said "KL(q(z|x) ‖ N(0, I))", also
  // for a learned prior, a categorical latent and stochastic layers
  it("the KL panel names the prior the term is against", async () => {
    const cases: [object | undefined, string][] = [
      [undefined, "KL(q(z|x) ‖ N(0, I))"],
      [{ prior: { type: "normal" }, latent: { type: "gaussian" } }, "KL(q(z|x) ‖ N(0, I))"],
      [{ prior: { type: "vamp" }, latent: { type: "gaussian" } }, "KL(q(z|x) ‖ vamp prior), sampled"],
      [{ prior: { type: "mixture" }, latent: { type: "gaussian" } }, "KL(q(z|x) ‖ mixture prior), sampled"],
      [{ prior: { type: "uniform" }, latent: { type: "categorical" } }, "KL(q(z|x) ‖ uniform)"],
      [{ prior: { type: "normal" }, latent: { type: "gaussian" }, latents: [{}, {}] }, "log q(z|x) − log p(z), sampled (all levels)"],
    ];
    for (const [config, label] of cases) {
      const svg = await renderSvg(termsSpec(epochs, { config: config as never }));
      expect(svg, label).toContain(label);
      if (label !== "KL(q(z|x) ‖ N(0, I))") expect(svg).not.toContain("N(0, I)");
    }
  });

  it("the terms, schedule, latent and imputation-error charts render with their titles", async () => {
    const terms = await renderSvg(termsSpec(epochs));
    expect(terms).toContain("reconstruction −E[log p(x|z)]");
    expect(terms).toContain("KL(q(z|x) ‖ N(0, I))");
    const beta = Array.from({ length: 12 }, (_, k) => Math.min(1, (k + 1) / 6));
    const sched = await renderSvg(scheduleSpec({ lr: 1e-3, batchesPerEpoch: 4, epochs: 3, batchBeta: beta, epochBeta: [], warmupEpochs: 1.5 }));
    for (const t of ["learning rate", "KL weight β", "1.0e-3", "ramps linearly from 0 over 1.5 epochs"]) expect(sched).toContain(t);
    const lat = await renderChart(latentSpec([{ kind: "pca", title: "PCA", xTitle: "PC1 (60% of variance)", yTitle: "PC2 (20% of variance)", x: [0, 1, 2, 3], y: [1, 0, 1, 0] }], [0, 1, 2, 1], { points: 4 }));
    for (const t of ["PC1 (60% of variance)", "PC2 (20% of variance)", "label", "Latent means E[z|x] of 4 test images"]) expect(lat.svg).toContain(t);
    // one circle per point, in tab10's colours of classes 0, 1, 2
    expect(lat.svg.match(/<path[^>]*fill="#(1f77b4|ff7f0e|2ca02c)"/g)!.length).toBeGreaterThanOrEqual(4 + 3);
    // class names (e.g. image folders) name the legend; colours stay tab10 by class index
    const named = await renderSvg(latentSpec([{ kind: "z", title: "z", xTitle: "z₁", yTitle: "z₂", x: [0, 1], y: [1, 0] }], [0, 2], { points: 2, classNames: ["cats", "dogs", "owls"] }));
    expect(named).toContain("cats");
    expect(named).toContain("owls");
    expect(named).not.toContain("dogs");                            // class 1 has no point
    expect(named).toMatch(/fill="#2ca02c"/);                         // owls = class 2 = tab:green
    const imp = await renderSvg(imputationErrorSpec({ images: 10, mask: "bottom half hidden", iterations: 5, mseImputed: 0.02, msePriorSample: 0.09, mseMeanFill: 0.06 }));
    for (const t of ["vae.impute (posterior mean)", "per-pixel training mean (baseline)", "0.0200", "0.0600"]) expect(imp).toContain(t);
  });
});

describe("image grids", () => {
  it("tiles keep colour (3 channels), grey stays grey, hidden pixels are blue", async () => {
    await pngModule();
    const red = new Float32Array(4 * 4 * 3).map((_, i) => (i % 3 === 0 ? 1 : 0));   // (4, 4, 3), pure red
    const url = tileUrl(red, [4, 4, 3], [0, 1], 3);
    const tile = decode(Buffer.from(url.split(",")[1], "base64"));
    expect([tile.width, tile.height]).toEqual([12, 12]);
    expect([...tile.data.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
    const grey = decode(Buffer.from(tileUrl(new Float32Array(4).fill(0.5), [2, 2], [0, 1]).split(",")[1], "base64"));
    expect([...grey.data.subarray(0, 3)]).toEqual([128, 128, 128]);
    const hid = decode(Buffer.from(tileUrl(new Float32Array(4), [2, 2], [0, 1], 1, (p) => p >= 2).split(",")[1], "base64"));
    expect([...hid.data.subarray(8, 11)]).toEqual([31, 119, 180]);
    expect([...hid.data.subarray(0, 3)]).toEqual([0, 0, 0]);

    // a 2 × 1 grid of a red and a blue image: the rendered PNG shows both colours
    const blue = new Float32Array(4 * 4 * 3).map((_, i) => (i % 3 === 2 ? 1 : 0));
    const spec = gridSpec([{ col: 0, row: 0, url }, { col: 1, row: 0, url: tileUrl(blue, [4, 4, 3], [0, 1], 3) }], 2, 1, { title: "colour", tile: 12, rowLabels: ["input"] });
    const r = await renderChart(spec, 1);
    expect(r.svg).toContain("input");
    const img = decode(r.png);
    let reds = 0, blues = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      if (img.data[i] === 255 && img.data[i + 1] === 0 && img.data[i + 2] === 0) reds++;
      if (img.data[i] === 0 && img.data[i + 1] === 0 && img.data[i + 2] === 255) blues++;
    }
    expect(reds).toBeGreaterThanOrEqual(100);   // 12 × 12 tiles, edges may blend
    expect(blues).toBeGreaterThanOrEqual(100);
  });

  it("the figures of a model on (4, 4, 3) colour images draw colour tiles, and hide the bottom half in every channel", async () => {
    const D = 4 * 4 * 3, n = 3;
    // image i: pixel p has channels (p/16, i/2, 1 − p/16)
    const x = new Float32Array(n * D).map((_, k) => { const i = Math.floor(k / D), p = Math.floor((k % D) / 3), c = k % 3; return c === 0 ? p / 16 : c === 1 ? i / 2 : 1 - p / 16; });
    const vae = await VAE.create({ inputDim: D, encoder: [8], latentDim: 2, seed: 3 }, { threads: 1 });
    const ctx: FigureContext = { vae, classes: 0, shape: [4, 4, 3], range: [0, 1],
      data: { train: null, test: { x, labels: null, n }, dim: D, imageShape: [4, 4], description: "", testSource: "" } };
    const rgb = (url: string, p: number) => { const t = decode(Buffer.from(url.split(",")[1], "base64")); const o = p * 4; return [...t.data.subarray(o, o + 3)]; };
    const rec = await reconstructionsFigure(ctx, { n, cols: n });
    expect(rec.options.tile).toBe(4 * 14);       // 4-pixel images enlarged 7×, then 2×
    const input1 = rec.tiles.find((t) => t.row === 0 && t.col === 1)!;
    // pixel (0, 0) of image 1 is (0, 0.5, 1); pixel (3, 3), drawn at (3·14, 3·14), is (15/16, 0.5, 1/16)
    expect(rgb(input1.url, 0)).toEqual([0, 128, 255]);
    expect(rgb(input1.url, (3 * 14) * 56 + 3 * 14)).toEqual([239, 128, 16]);
    const imp = await imputationFigure(ctx, { n, cols: n, iterations: 2 });
    const hidden = imp.tiles.find((t) => t.row === 1 && t.col === 0)!;
    expect(rgb(hidden.url, 0)).toEqual([0, 0, 255]);                 // row 0 observed: the image's own colour
    expect(rgb(hidden.url, (2 * 14) * 56)).toEqual([31, 119, 180]);  // row 2 hidden: tab:blue
    const samples = await samplesFigure(ctx, { n: 4, cols: 2 });
    const t = decode(Buffer.from(samples.tiles[0].url.split(",")[1], "base64"));
    let coloured = 0;
    for (let o = 0; o < t.data.length; o += 4) if (t.data[o] !== t.data[o + 1] || t.data[o + 1] !== t.data[o + 2]) coloured++;
    expect(coloured).toBeGreaterThan(0);                              // decoded colour, not grey
    vae.dispose();
  });

  it("the reconstruction and imputation captions say when the test images were binarized (and with which seed), and only then", async () => {
    const D = 16, n = 2;
    const vae = await VAE.create({ inputDim: D, encoder: [8], latentDim: 2, seed: 3 }, { threads: 1 });
    const data = { train: null, test: { x: new Float32Array(n * D).map((_, i) => (i % 3) / 2), labels: null, n }, dim: D, imageShape: [4, 4] as [number, number], description: "", testSource: "" };
    const text = (o: { subtitle?: string | string[] }) => [o.subtitle ?? ""].flat().join(" | ");
    const grey: FigureContext = { vae, classes: 0, shape: [4, 4], range: [0, 1], data };
    const bits: FigureContext = { ...grey, data: { ...data, testBinarizeSeed: 3 } };
    expect(text((await reconstructionsFigure(grey, { n })).options)).not.toContain("binarized");
    expect(text((await reconstructionsFigure(bits, { n })).options)).toContain("the first 2 test images (binarized once with seed 3) (input rows)");
    expect(text((await imputationFigure(grey, { n, iterations: 1, method: "pseudo_gibbs" })).options)).not.toContain("binarized");
    expect(text((await imputationFigure(bits, { n, iterations: 1, method: "pseudo_gibbs" })).options)).toContain("each group: the input row (binarized once with seed 3)");
    vae.dispose();
  });

  it("the half mask covers every channel of a pixel, and is described in words", () => {
    expect(Array.from(halfMask([2, 2, 3]))).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(halfMask([1, 2, 3], "left"))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(describeMask([28, 28])).toBe("bottom half (rows 14–27 of 28)");
    expect(describeMask([28, 28, 3], "left")).toBe("left half (columns 0–13 of 28)");
  });

  it("tile layout: small images enlarged by whole factors, large ones shown 64 wide", () => {
    expect(tileLayout([28, 28])).toEqual({ tile: 56, up: 2 });
    expect(tileLayout([28, 28], 1)).toEqual({ tile: 28, up: 1 });
    expect(tileLayout([8, 8])).toEqual({ tile: 64, up: 8 });
    expect(tileLayout([8, 8], 1)).toEqual({ tile: 32, up: 4 });
    expect(tileLayout([32, 32, 3])).toEqual({ tile: 64, up: 2 });
    expect(tileLayout([48, 48, 3])).toEqual({ tile: 48, up: 1 });
    expect(tileLayout([128, 128, 3])).toEqual({ tile: 64, up: 1 });
  });
});

describe("latent views", () => {
  // three well separated clusters in 5-d
  const n = 60, L = 5;
  const rows = new Float64Array(n * L).map((_, i) => {
    const r = Math.floor(i / L), j = i % L;
    return (r % 3) * 10 * (j === r % 3 ? 1 : 0) + Math.sin(i * 12.9898) * 0.3;
  });

  it("UMAP is deterministic for a seed, and changes with it", async () => {
    const a = await umap2(rows, n, L, 7), b = await umap2(rows, n, L, 7), c = await umap2(rows, n, L, 8);
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    expect(Array.from(b.y)).toEqual(Array.from(a.y));
    expect(Array.from(c.x)).not.toEqual(Array.from(a.x));
    expect(a.x.every(Number.isFinite) && a.y.every(Number.isFinite)).toBe(true);
  });

  it("UMAP beside PCA above 2-d, PCA alone with pca, the coordinates themselves at 2-d", async () => {
    expect((await latentViews(rows, n, L, "umap", 0)).views.map((v) => v.kind)).toEqual(["umap", "pca"]);
    expect((await latentViews(rows, n, L, "pca", 0)).views.map((v) => v.kind)).toEqual(["pca"]);
    const few = await latentViews(rows.subarray(0, 15 * L), 15, L, "umap", 0);
    expect(few.views.map((v) => v.kind)).toEqual(["pca"]);
    expect(few.projection).toMatch(/^UMAP skipped \(15 points; it needs 16\), PCA/);
    const two = await latentViews([1, 2, 3, 4], 2, 2, "umap", 0);
    expect(two.views.map((v) => v.kind)).toEqual(["z"]);
    expect([Array.from(two.views[0].x), Array.from(two.views[0].y)]).toEqual([[1, 3], [2, 4]]);
  });
});

describe("report page", () => {
  it("inlines the libraries and the data, and references nothing outside the file", async () => {
    const m: ReportMetrics = {
      format: "wasm-vae-run", status: "complete", name: "t<x>", created: "c", updated: "u", commands: ["wasm-vae train"],
      settings: { epochs: 3, batchSize: 4, lr: 1e-3, klWarmup: 0, build: "plain", config: { latentDim: 2 } },
      data: { description: "d", train: 12, test: 4, testSource: "s", dim: 4, imageShape: [2, 2], classes: 0 },
      build: "plain", threads: 2, parameters: 10, batchesPerEpoch: 4,
      epochs: epochs.map((e) => ({ ...e, beta: 1, seconds: 1, wallSeconds: 1.5, samplesPerSecond: 12 })), batchLoss,
    };
    const d: ReportData = { format: "wasm-vae-report-data", version: 1, seconds: {},
      latent: { views: [{ kind: "z", title: "z", xTitle: "z₁", yTitle: "z₂", x: [0, 1], y: [1, 0] }], labels: null, points: 2, projection: "p", images: null },
      grids: {}, imputation: { images: 1, mask: "m", iterations: 1, mseImputed: 1, msePriorSample: 2, mseMeanFill: 3 } };
    const html = reportHtml(m, d, await reportLibraries());
    expect(html).toContain("<title>wasm-vae run t&lt;x&gt;</title>");
    for (const id of ["loss", "terms", "schedule", "latent", "imputation-error"]) expect(html).toContain(`data-chart="${id}"`);
    // the page's own markup (outside the inlined scripts) loads nothing
    const markup = html.replace(/<script>[\s\S]*?<\/script>/g, "<script></script>");
    expect(/<(script|link|img|iframe)[^>]+(src|href)=/i.test(markup)).toBe(false);
    expect(markup.match(/<script>/g)!.length).toBe(4);          // vega, vega-lite, vega-embed, the embedding code
    expect(html.length).toBeGreaterThan(500_000);                // the three libraries are in the file
    expect(html).toContain("2 threads");
  });
});
