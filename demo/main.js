// The demo page: MNIST (trained on the 60,000 training digits, shown on the
// 10,000 held-out test digits, from the gzip'd IDX files of the built folder)
// or a folder of the user's own images (images.js), a VAE that lives and
// trains in a Web Worker (WorkerTrainer ↔ the single-file worker bundle), and
// views that ask the worker for reconstructions, samples, latent means,
// decodes, interpolations and imputations. The main thread parses the data
// and draws; it never runs a training step.
//
// Imports only light, dependency-free modules of the package's dist/ (the page
// side of the worker helper and the IDX reader); the wasm is inlined in the
// worker bundle.
import { WorkerTrainer } from "../dist/worker/worker.js";
import { parseIdx } from "../dist/data/idx.js";
import { LABEL_COLORS, drawDigit, drawGrid, drawLines, drawScatter, inkBeyond, inkFraction, latentMap, setImageShape } from "./draw.js";
import { entriesFromDrop, entriesFromInput, holdOut, pick, readImages } from "./images.js";

const $ = (sel) => document.querySelector(sel);
const SCATTER_N = 2000;
const RECON_N = 12;
const GRID = 15;
const FILES = {
  test: ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
  train: ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
};
const VALIDATION_ROWS = 2000;

const params = new URLSearchParams(location.search);
const shared = typeof SharedArrayBuffer === "function" && globalThis.crossOriginIsolated === true;
// ?relaxed=off simulates a browser without relaxed SIMD: the relaxed build's
// bytes are replaced by ones that do not validate, so the library's own
// detection falls back to the plain build (the tests use it).
const wasmOverride = params.get("relaxed") === "off" ? { relaxed: new Uint8Array([0]) } : undefined;
const worker = new Worker(new URL("../dist/browser/wasm-vae-worker.js", import.meta.url), { type: "module" });
const trainer = new WorkerTrainer(worker);

const S = {
  shared,
  info: null,                 // ModelInfo of the worker's model
  source: "mnist",            // "mnist" | "images": what the worker's splits hold
  shape: [28, 28, 1],         // (h, w, c) of a row, NHWC
  classNames: null,           // label names (the folders of the user's images), or null: 0–9
  test: null,                 // { pixels: Uint8Array (n·h·w·c), labels: Uint8Array | null, n }
  counts: {},                 // split → rows stored in the worker
  training: false,
  fitPromise: null,
  lrApplied: null,            // the worker optimizer's lr
  chart: { step: [], loss: [], rec: [], kl: [], sps: [] },
  lastBatch: null,
  means: null, R: 3,          // latent means of the scatter digits and the plot range
  probe: null,
  interpNext: "a",
  mask: new Uint8Array(784),  // per pixel (h·w), 1 = hidden from the model
  errors: [],
};
window.wasmVaeDemo = { state: S, trainer, ready: null, refresh: () => requestRefresh(), inkFraction, emptyOf, drawnFraction: (cv) => inkBeyond(cv, emptyOf(cv)) };

/** A canvas like `cv` drawn without data: a chart's frame and axes, the
 *  scatter's axes and legend, or a digit canvas's uniform background. */
function emptyOf(cv) {
  const c = Object.assign(document.createElement("canvas"), { width: cv.width, height: cv.height, id: cv.id });
  if (cv.id.startsWith("chart-")) drawLines(c, []);
  else if (cv.id === "scatter") drawScatter(c, new Float32Array(0), 2, [], 0, latentMap(c, S.R), null);
  else {
    const [r, g, b] = cv.getContext("2d").getImageData(0, 0, 1, 1).data;
    const ctx = c.getContext("2d");
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fillRect(0, 0, c.width, c.height);
  }
  return c;
}

// ------------------------------------------------------------------ status

function status(text) { $("#status").textContent = text; }

function showError(e, prefix = "") {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const el = $("#error");
  el.textContent = prefix + msg;
  el.hidden = false;
  S.errors.push(el.textContent);
}

function clearError() { $("#error").hidden = true; $("#error").textContent = ""; }

function buttons() {
  $("#train").disabled = S.training || !S.info;
  $("#stop").disabled = !S.training;
  $("#save").disabled = !S.info;
  document.body.dataset.training = S.training ? "1" : "0";
}

function showEnv() {
  const i = S.info, req = $("#build").value;
  const parts = [];
  if (i) {
    let b = `kernel build: <b>${i.build}</b>`;
    if (i.build === "relaxed") b += " (relaxed SIMD)";
    else if (!i.relaxedSimd) b += " — relaxed SIMD is unavailable in this browser, so the plain SIMD build runs";
    else if (req === "plain") b += " (chosen; relaxed SIMD is available)";
    parts.push(b);
  }
  parts.push(shared
    ? "SharedArrayBuffer: <b>on</b> (cross-origin isolated: the host sent the COOP/COEP headers, so the data is shared with the worker, not copied, and the kernels may use threads)"
    : "SharedArrayBuffer: <b>unavailable</b> (the page is not cross-origin isolated: the host did not send the COOP/COEP headers that the folder's _headers file asks for, " +
      "as GitHub Pages and plain servers do not): the data is copied into the worker, and it trains on one thread");
  if (i) {
    parts.push(i.threads > 1
      ? `threads: <b>${i.threads}</b> (the worker splits the kernels over ${i.threads - 1} helper worker${i.threads === 2 ? "" : "s"}; same results as one thread)`
      : `threads: <b>1</b>${i.threadsNote ? ` (${i.threadsNote})` : ""}`);
  }
  parts.push("training runs in a Web Worker");
  const env = $("#env");
  env.innerHTML = parts.join(" · ");
  env.dataset.build = i?.build ?? "";
  env.dataset.relaxed = String(i?.relaxedSimd ?? "");
  env.dataset.shared = String(shared);
  env.dataset.threads = String(i?.threads ?? "");
}

function summary() {
  const i = S.info;
  if (!i) return;
  const c = i.config;
  $("#model-summary").textContent =
    `${[c.inputDim, ...c.encoder.map(label), c.latentDim].join("–")} | ${[c.latentDim, ...c.decoder.map(label), c.inputDim].join("–")}, ` +
    `${c.activation}, ${c.likelihood}, β ${c.beta}, ${i.parameterCount.toLocaleString("en")} parameters, ` +
    `step ${i.steps}, epoch ${i.epochs}, lr ${i.optimizer.lr ?? "schedule"}`;
}

// -------------------------------------------------------------------- data

/** An MNIST IDX file of the built folder: mnist/<name>.gz, inflated here
 *  (a host that already sent it with Content-Encoding: gzip gives raw bytes). */
async function fetchBytes(name) {
  const res = await fetch(`../mnist/${name}.gz`);
  if (!res.ok) throw new Error(`could not load mnist/${name}.gz: HTTP ${res.status} (serve the folder of \`npm run demo:build\`)`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  if (typeof DecompressionStream !== "function") throw new Error("this browser has no DecompressionStream to inflate the MNIST files");
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}

/** Hands rows (uint8, n·D) to the worker: shared (SharedArrayBuffer), or
 *  copied (test: the page keeps it for drawing), or transferred (train). */
async function giveWorker(split, pixels) {
  if (shared) {
    const s = new Uint8Array(new SharedArrayBuffer(pixels.length));
    s.set(pixels);
    await trainer.setData(split, s);
    return s;
  }
  await trainer.setData(split, pixels, { transfer: split === "train" });
  return pixels;
}

/** Fetches and checks an MNIST split and gives it to the worker. */
async function loadSplit(split) {
  const [imagesName, labelsName] = FILES[split];
  status(`loading the MNIST ${split === "train" ? "training" : "test"} set…`);
  const [ib, lb] = await Promise.all([fetchBytes(imagesName), fetchBytes(labelsName)]);
  const images = parseIdx(ib, imagesName), labels = parseIdx(lb, labelsName);
  const [n, rows, cols] = images.shape;
  if (images.type !== "uint8" || rows !== 28 || cols !== 28 || labels.shape[0] !== n) {
    throw new Error(`${imagesName}: not MNIST (${images.type} ${images.shape.join("×")}, ${labels.shape[0]} labels)`);
  }
  const pixels = await giveWorker(split, images.data);
  S.counts[split] = n;
  if (split === "test") S.test = { pixels, labels: labels.data, n };
}

/** MNIST: the training set to train on, the test set to show (held out). */
async function useMnist() {
  S.source = "mnist";
  S.classNames = null;
  setShape([28, 28, 1]);
  await loadSplit("test");
  await loadSplit("train");
  describeData(`MNIST: training on the 60,000 training digits; every view shows the ${S.test.n.toLocaleString("en")} held-out test digits`);
}

function setShape(shape) {
  S.shape = shape;
  setImageShape(shape);
  S.mask = new Uint8Array(shape[0] * shape[1]);
  maskBottomHalf();
  legend();
}

function describeData(text) {
  $("#data-summary").textContent = text;
  document.body.dataset.source = S.source;
}

/** The user's folder: decoded here, split (1 in 10 files of each class held
 *  out for the views and validation), handed to the worker, and a new model
 *  for its shape. */
async function useFolder(entries) {
  clearError();
  await stopTraining();
  status(`reading ${entries.length} files…`);
  const sizeOpt = $("#img-size").value, chOpt = $("#img-channels").value;
  let r;
  try {
    r = await readImages(entries, {
      size: sizeOpt === "auto" ? null : sizeOpt.split("x").map(Number),
      channels: chOpt === "auto" ? null : Number(chOpt),
      onProgress: (k, n) => { if (k % 50 === 0 || k === n) status(`decoding images: ${k} / ${n}`); },
    });
  } catch (e) {
    showError(e, "Could not read the folder: ");
    status(S.info ? "kept the previous data and model" : "no data");
    return;
  }
  const { train, test } = holdOut(r.labels, r.n, 0.1);
  if (train.length === 0 || test.length === 0) {
    showError(new Error(`${r.n} image(s) are too few: 1 in 10 of each class is held out for testing, so at least 10 in one class are needed`), "Could not use the folder: ");
    return;
  }
  const D = r.shape[0] * r.shape[1] * r.shape[2];
  S.source = "images";
  S.classNames = r.classNames;
  setShape(r.shape);
  S.counts = {};
  await giveWorker("train", pick(r.pixels, D, train));
  S.counts.train = train.length;
  const testPixels = await giveWorker("test", pick(r.pixels, D, test));
  S.counts.test = test.length;
  S.test = { pixels: testPixels, labels: r.labels ? Uint8Array.from(test, (i) => r.labels[i]) : null, n: test.length };
  const skipped = r.skipped.length
    ? `; skipped ${r.skipped.length} file${r.skipped.length === 1 ? "" : "s"} that did not decode (${r.skipped.slice(0, 3).map((x) => x.path).join(", ")}${r.skipped.length > 3 ? ", …" : ""})` : "";
  describeData(`your images: ${r.n} files at ${r.shape[0]}×${r.shape[1]} ${r.shape[2] === 3 ? "RGB" : "grey"}` +
    `${r.classNames ? `, ${r.classNames.length} classes (${r.classNames.slice(0, 6).join(", ")}${r.classNames.length > 6 ? ", …" : ""})` : ", no labels"}; ` +
    `training on ${train.length}, the views show the ${test.length} held out (1 in 10 of each class)${skipped}`);
  $("#dataset").value = "images";
  $("#dataset").querySelector('option[value="images"]').disabled = false;
  S.skipped = r.skipped;
  await createModel();
}

// ------------------------------------------------------------------- model

function sizes(id) {
  const s = $(id).value.trim();
  if (s === "") return [];
  return s.split(/[\s,]+/).map(Number);
}

function int(id) { return Number($(id).value); }

/** A small convolutional VAE for a quick start in a page: conv 16, 32 (4×4,
 *  stride 2, "same") → dense 128; dense 128 → 7·7·32 → conv-transpose 16 →
 *  conv-transpose to the likelihood's channels (the output layer). */
function convLayers(likelihood, [h, w, c] = S.shape) {
  if (h % 4 !== 0 || w % 4 !== 0) throw new Error(`the convolutional net needs image sides that are multiples of 4, these are ${h}×${w}`);
  return {
    inputShape: [h, w, c],
    encoder: [
      { type: "conv2d", filters: 16, kernel: 4, stride: 2, padding: "same" },
      { type: "conv2d", filters: 32, kernel: 4, stride: 2, padding: "same" },
      { type: "flatten" },
      { type: "dense", units: 128 },
    ],
    decoder: [
      { type: "dense", units: 128 },
      { type: "dense", units: (h / 4) * (w / 4) * 32 },
      { type: "reshape", shape: [h / 4, w / 4, 32] },
      { type: "conv2d_transpose", filters: 16, kernel: 4, stride: 2, padding: "same" },
      { type: "conv2d_transpose", filters: likelihood === "gaussian_learned" ? 2 * c : c, kernel: 4, stride: 2, padding: "same" },
    ],
  };
}

/** "400", "conv2d(16)", "flatten", … for the model summary. */
const label = (e) => (typeof e === "number" ? String(e) : e.type === "dense" ? String(e.units)
  : e.filters !== undefined ? `${e.type}(${e.filters})` : e.type);

function readConfig() {
  const decoder = $("#decoder").value.trim() === "" ? undefined : sizes("#decoder");
  if ($("#arch").value === "conv") {
    return {
      ...convLayers($("#likelihood").value), latentDim: int("#latent"),
      activation: $("#activation").value, likelihood: $("#likelihood").value,
      beta: Number($("#beta").value), seed: int("#seed"), maxBatch: Math.max(1, int("#batch")),
    };
  }
  return {
    inputDim: S.shape[0] * S.shape[1] * S.shape[2], encoder: sizes("#encoder"), latentDim: int("#latent"), decoder,
    activation: $("#activation").value, likelihood: $("#likelihood").value,
    beta: Number($("#beta").value), seed: int("#seed"), maxBatch: Math.max(1, int("#batch")),
  };
}

function fillForm(c, lr) {
  const layered = [...c.encoder, ...c.decoder].some((e) => typeof e !== "number");
  $("#arch").value = layered ? "conv" : "mlp";
  if (!layered) {
    $("#encoder").value = c.encoder.join(", ");
    $("#decoder").value = c.decoder.join(", ") === [...c.encoder].reverse().join(", ") ? "" : c.decoder.join(", ");
  }
  $("#latent").value = c.latentDim;
  $("#activation").value = c.activation;
  $("#likelihood").value = c.likelihood;
  $("#beta").value = c.beta;
  $("#seed").value = c.seed;
  if (lr != null) $("#lr").value = lr;
}

async function stopTraining() {
  if (!S.training) return;
  await trainer.stop();
  await S.fitPromise?.catch(() => {});
}

function resetCharts() {
  S.chart = { step: [], loss: [], rec: [], kl: [], sps: [] };
  S.lastBatch = null;
  drawCharts();
  $("#stats").textContent = `step ${S.info?.steps ?? 0}`;
}

async function createModel() {
  clearError();
  await stopTraining();
  status("creating the model in the worker…");
  try {
    const config = readConfig();
    S.info = await trainer.create(config, { build: $("#build").value, wasm: wasmOverride });
  } catch (e) {
    showError(e, "Could not create the model: ");
    status(S.info ? "kept the previous model" : "no model");
    return;
  }
  S.lrApplied = S.info.optimizer.lr;
  S.probe = null;
  showEnv(); summary(); resetCharts(); buttons();
  status("model ready: press Train");
  await requestRefresh();
}

async function train() {
  if (S.training || !S.info) return;
  clearError();
  S.training = true;
  buttons();
  try {
    const lr = Number($("#lr").value);
    const opts = { epochs: int("#epochs"), batchSize: int("#batch") };
    if (lr !== S.lrApplied) opts.optimizer = { lr };
    opts.validation = { data: "test", start: 0, count: Math.min(VALIDATION_ROWS, S.counts.test) };
    status(`training on ${S.counts.train.toLocaleString("en")} ${S.source === "mnist" ? "MNIST training digits" : "of your images"} (validation: ${opts.validation.count.toLocaleString("en")} held-out test ${S.source === "mnist" ? "digits" : "images"})…`);
    S.fitPromise = trainer.fit("train", opts);
    if (opts.optimizer) S.lrApplied = lr;
    const h = await S.fitPromise;
    const last = h.epochs.at(-1);
    status(h.aborted ? `stopped at step ${S.lastBatch?.step ?? 0}` :
      `done: ${h.epochs.length} epoch(s), last epoch loss ${last?.loss.toFixed(2)}` +
      (last?.validation ? `, held-out test loss ${last.validation.loss.toFixed(2)}` : ""));
  } catch (e) {
    showError(e, "Training failed: ");
    status("training failed");
  } finally {
    S.training = false;
    S.fitPromise = null;
    try { S.info = await trainer.info(); } catch { /* keep the last info */ }
    summary(); buttons();
    void requestRefresh();
  }
}

async function save() {
  clearError();
  try {
    const bytes = await trainer.save();
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: `wasm-vae-${S.source}-step${S.info?.steps ?? 0}.wvae` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    status(`saved the model (${(bytes.length / 1024).toFixed(0)} KiB, optimizer state included)`);
  } catch (e) {
    showError(e, "Could not save: ");
  }
}

async function load(file) {
  clearError();
  const bytes = new Uint8Array(await file.arrayBuffer());
  await stopTraining();
  status(`loading ${file.name}…`);
  let info;
  try {
    info = await trainer.load(bytes);
  } catch (e) {
    showError(e, `Could not load "${file.name}": `);
    $("#error").append("\nThe current model is unchanged.");
    status("load failed: kept the current model");
    return;
  }
  S.info = info;
  S.lrApplied = info.optimizer.lr;
  S.probe = null;
  fillForm(info.config, info.optimizer.lr);
  showEnv(); summary(); resetCharts(); buttons();
  status(`loaded "${file.name}" (step ${info.steps}, epoch ${info.epochs})`);
  const D = S.shape[0] * S.shape[1] * S.shape[2];
  if (info.config.inputDim !== D) {
    showError(new Error(`the model reads rows of ${info.config.inputDim} values, the data on the page has ${D} (${S.shape.join("×")}): ` +
      "choose the data it was trained on before training or drawing"), `Loaded "${file.name}", but `);
    return;
  }
  await requestRefresh();
}

// ------------------------------------------------------------------- events

function onBatch(b) {
  const c = S.chart;
  c.step.push(b.step); c.loss.push(b.loss); c.rec.push(b.reconstruction); c.kl.push(b.kl); c.sps.push(b.samplesPerSecond);
  S.lastBatch = b;
  scheduleCharts();
  if (performance.now() - lastRefresh > 700) void requestRefresh();
}

let chartsQueued = false;
function scheduleCharts() {
  if (chartsQueued) return;
  chartsQueued = true;
  requestAnimationFrame(() => { chartsQueued = false; drawCharts(); });
}

function drawCharts() {
  const c = S.chart;
  drawLines($("#chart-loss"), [{ x: c.step, y: c.loss, color: "#1f6feb" }, { x: c.step, y: c.rec, color: "#2da44e" }]);
  drawLines($("#chart-kl"), [{ x: c.step, y: c.kl, color: "#d4a72c" }], { digits: 2 });
  drawLines($("#chart-speed"), [{ x: c.step, y: ema(c.sps, 0.1), color: "#8250df" }], { digits: 0 });
  const b = S.lastBatch;
  if (b) {
    const sps = ema(c.sps, 0.1).at(-1);
    $("#stats").textContent = `step ${b.step} · epoch ${b.epoch} · batch ${b.batch + 1}/${b.batches} · loss ${b.loss.toFixed(2)} = ` +
      `rec ${b.reconstruction.toFixed(2)} + ${b.beta === 1 ? "" : `${b.beta.toFixed(2)}·`}KL ${b.kl.toFixed(2)} · ${Math.round(sps).toLocaleString("en")} samples/s`;
  }
}

function ema(v, a) {
  const out = new Array(v.length);
  let m = v[0];
  for (let i = 0; i < v.length; i++) { m = i === 0 ? v[0] : m + a * (v[i] - m); out[i] = m; }
  return out;
}

// -------------------------------------------------------------------- views

let refreshing = null, again = false, lastRefresh = 0;

/** Redraws every model view; at most one refresh runs, the next one queues. */
function requestRefresh() {
  if (refreshing) { again = true; return refreshing; }
  lastRefresh = performance.now();
  refreshing = (async () => {
    try {
      await refreshViews();
    } catch (e) {
      showError(e, "Could not draw: ");
    } finally {
      refreshing = null;
      lastRefresh = performance.now();
      if (again) { again = false; void requestRefresh(); }
    }
  })();
  return refreshing;
}

async function refreshViews() {
  if (!S.info || !S.test) return;
  if (S.info.config.inputDim !== S.shape[0] * S.shape[1] * S.shape[2]) return;   // a loaded model for other data
  const L = S.info.config.latentDim;
  // reconstructions of the first held-out test images
  const m = Math.min(RECON_N, S.test.n);
  const rec = await trainer.reconstruct({ data: "test", start: 0, count: m });
  const rc = $("#recon"), ctx = rc.getContext("2d"), size = rc.width / RECON_N;
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, rc.width, rc.height);
  for (let k = 0; k < m; k++) {
    drawDigit(ctx, S.test.pixels, k, k * size, 0, size);
    drawDigit(ctx, rec, k, k * size, size, size);
  }
  // samples from the prior
  drawGrid($("#samples"), await trainer.sample(64), 64, 8, 56);
  // latent scatter (first two dims of the means) and its range
  const n = Math.min(SCATTER_N, S.test.n);
  const { mean } = await trainer.encode({ data: "test", start: 0, count: n });
  S.means = mean;
  const abs = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < Math.min(L, 2); j++) abs.push(Math.abs(mean[i * L + j]));
  abs.sort((a, b) => a - b);
  S.R = Math.min(50, Math.max(1, 1.1 * (abs[Math.floor(0.99 * (abs.length - 1))] || 1)));
  drawScatterNow();
  $("#latent-hint").textContent = L === 2
    ? `Means of ${n.toLocaleString("en")} held-out test ${S.source === "mnist" ? "digits" : "images"}, coloured by label. Move the pointer over the plane to decode that point.`
    : `Latent dimension ${L}: showing dims 1–2 of the means; pointer decodes use dims 1–2 with the rest at 0 (the manifold explorer is exact with a 2-d latent).`;
  // manifold over [-R, R]²
  const z = new Float32Array(GRID * GRID * L);
  for (let r = 0; r < GRID; r++) {
    for (let c = 0; c < GRID; c++) {
      const k = (r * GRID + c) * L;
      z[k] = -S.R + (2 * S.R * c) / (GRID - 1);
      if (L > 1) z[k + 1] = S.R - (2 * S.R * r) / (GRID - 1);
    }
  }
  drawGrid($("#manifold"), await trainer.decode(z), GRID * GRID, GRID, $("#manifold").width / GRID);
  $("#manifold-hint").textContent = `Decoded ${GRID}×${GRID} grid over z${L > 1 ? "₁, z₂" : "₁"} ∈ [−${S.R.toFixed(1)}, ${S.R.toFixed(1)}]` +
    (L > 2 ? " (other dims 0)." : ".");
  await drawInterpolation();
  await runImpute();
  await decodeProbe();
}

function drawScatterNow() {
  if (!S.means || !S.info) return;
  const n = S.means.length / S.info.config.latentDim;
  drawScatter($("#scatter"), S.means, S.info.config.latentDim, S.test.labels, n, latentMap($("#scatter"), S.R), S.probe);
}

async function drawInterpolation() {
  const n = S.test.n;
  const a = clampIndex("#interp-a", n), b = clampIndex("#interp-b", n);
  const steps = 10;
  const rows = await trainer.interpolate({ data: "test", start: a, count: 1 }, { data: "test", start: b, count: 1 }, steps,
    { spherical: $("#interp-spherical").checked });
  const cv = $("#interp"), ctx = cv.getContext("2d"), size = cv.height;
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, cv.width, cv.height);
  drawDigit(ctx, S.test.pixels, a, 0, 0, size);
  for (let s = 0; s < steps; s++) drawDigit(ctx, rows, s, (s + 1) * size, 0, size);
  drawDigit(ctx, S.test.pixels, b, (steps + 1) * size, 0, size);
}

function clampIndex(id, n) {
  const v = Math.min(n - 1, Math.max(0, Math.floor(Number($(id).value) || 0)));
  $(id).value = v;
  return v;
}

// manifold explorer: the pointer over the scatter decodes that latent point
let probeBusy = false, probeAgain = false;
async function decodeProbe() {
  if (!S.info) return;
  if (probeBusy) { probeAgain = true; return; }
  probeBusy = true;
  try {
    const L = S.info.config.latentDim;
    const p = S.probe ?? [0, 0];
    const z = new Float32Array(L);
    z[0] = p[0];
    if (L > 1) z[1] = p[1];
    const x = await trainer.decode(z);
    const cv = $("#probe");
    drawDigit(cv.getContext("2d"), x, 0, 0, 0, cv.width);
    $("#probe-z").textContent = `z = (${p[0].toFixed(2)}${L > 1 ? `, ${p[1].toFixed(2)}` : ""}${L > 2 ? ", 0, …" : ""})`;
  } catch (e) {
    showError(e, "Could not decode: ");
  } finally {
    probeBusy = false;
    if (probeAgain) { probeAgain = false; void decodeProbe(); }
  }
}

// imputation: draw a mask, the model fills the hidden pixels
function drawImputeInput() {
  if (!S.test) return;
  const idx = clampIndex("#impute-index", S.test.n);
  const cv = $("#impute-draw");
  drawDigit(cv.getContext("2d"), S.test.pixels, idx, 0, 0, cv.width,
    (i, g) => (S.mask[i] ? [Math.max(110, g), 24, 24] : null));
}

async function runImpute() {
  if (!S.info || !S.test) return;
  drawImputeInput();
  const idx = clampIndex("#impute-index", S.test.n);
  const [h, w, c] = S.shape;
  const observed = new Uint8Array(h * w * c);
  for (let i = 0; i < observed.length; i++) observed[i] = S.mask[Math.floor(i / c)] ? 0 : 1;
  const out = await trainer.impute({ data: "test", start: idx, count: 1 }, observed); // E[x_miss | x_obs] by importance sampling (miwae)
  const cv = $("#impute-out");
  drawDigit(cv.getContext("2d"), out, 0, 0, 0, cv.width,
    (i, g) => (S.mask[i] ? [Math.round(g * 0.55), Math.round(g * 0.85), g] : null));
}

function maskBottomHalf() {
  const [h, w] = S.shape;
  S.mask.fill(0);
  S.mask.fill(1, Math.floor(h / 2) * w);
}

/** Class colours and names (digits 0–9 for MNIST, the folders for the user's images). */
function legend() {
  const names = S.classNames ?? (S.source === "mnist" ? LABEL_COLORS.map((_, i) => String(i)) : []);
  $("#legend").innerHTML = "";
  names.forEach((name, i) => {
    const span = document.createElement("span");
    span.style.setProperty("--c", LABEL_COLORS[i % LABEL_COLORS.length]);
    span.textContent = name;
    $("#legend").append(span);
  });
}

// ---------------------------------------------------------------- wiring

function wire() {
  $("#create").addEventListener("click", () => void createModel());
  $("#train").addEventListener("click", () => void train());
  $("#stop").addEventListener("click", () => void trainer.stop());
  $("#save").addEventListener("click", () => void save());
  $("#load-file").addEventListener("change", (e) => {
    const f = e.target.files?.[0];
    e.target.value = "";
    if (f) void load(f);
  });
  $("#build").addEventListener("change", showEnv);
  for (const id of ["#interp-a", "#interp-b", "#interp-spherical"]) {
    $(id).addEventListener("change", () => void drawInterpolation().catch((e) => showError(e)));
  }
  $("#recon").addEventListener("click", (e) => {
    const k = Math.min(S.test.n - 1, Math.floor((e.offsetX / e.target.clientWidth) * RECON_N));
    $(S.interpNext === "a" ? "#interp-a" : "#interp-b").value = k;
    S.interpNext = S.interpNext === "a" ? "b" : "a";
    void drawInterpolation().catch((err) => showError(err));
  });
  const scatter = $("#scatter");
  scatter.addEventListener("pointermove", (e) => {
    const map = latentMap(scatter, S.R);
    S.probe = map.toZ((e.offsetX / scatter.clientWidth) * scatter.width, (e.offsetY / scatter.clientHeight) * scatter.height);
    drawScatterNow();
    void decodeProbe();
  });
  const pad = $("#impute-draw");
  const paint = (e) => {
    const [h, w] = S.shape, side = Math.max(h, w);
    // the image is letterboxed in the square pad (drawDigit)
    const x = Math.floor((e.offsetX / pad.clientWidth) * side - (side - w) / 2), y = Math.floor((e.offsetY / pad.clientHeight) * side - (side - h) / 2);
    const r = Math.max(1, Math.round(side / 28));
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const u = x + dx, v = y + dy;
        if (u >= 0 && u < w && v >= 0 && v < h) S.mask[v * w + u] = 1;
      }
    }
    drawImputeInput();
  };
  pad.addEventListener("pointerdown", (e) => { pad.setPointerCapture(e.pointerId); paint(e); });
  pad.addEventListener("pointermove", (e) => { if (e.buttons & 1) paint(e); });
  pad.addEventListener("pointerup", () => void runImpute().catch((e) => showError(e)));
  $("#impute-half").addEventListener("click", () => { maskBottomHalf(); void runImpute().catch((e) => showError(e)); });
  $("#impute-clear").addEventListener("click", () => { S.mask.fill(0); void runImpute().catch((e) => showError(e)); });
  $("#impute-run").addEventListener("click", () => void runImpute().catch((e) => showError(e)));
  $("#impute-index").addEventListener("change", () => void runImpute().catch((e) => showError(e)));
  legend();
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    void entriesFromDrop(e.dataTransfer).then((entries) => useFolder(entries), (err) => showError(err, "Could not read the drop: "));
  });
  $("#folder").addEventListener("change", (e) => {
    const entries = entriesFromInput(e.target.files ?? []);
    e.target.value = "";
    if (entries.length) void useFolder(entries);
  });
  $("#dataset").addEventListener("change", () => {
    if ($("#dataset").value === "mnist" && S.source !== "mnist") {
      void (async () => {
        await stopTraining();
        try { await useMnist(); } catch (e) { showError(e, "Could not load MNIST: "); return; }
        await createModel();
      })();
    }
  });
  trainer.on("batch", onBatch);
  trainer.on("error", (e) => { showError(e); status("the worker failed"); });
}

async function main() {
  wire();
  maskBottomHalf();
  showEnv();
  buttons();
  resetCharts();
  try {
    await useMnist();
  } catch (e) {
    showError(e, "Could not load MNIST: ");
    status("no data");
    return;
  }
  await createModel();
  document.body.dataset.ready = "1";
}

window.wasmVaeDemo.ready = main();
