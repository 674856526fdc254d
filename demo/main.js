// The demo page: MNIST from the demo server's IDX files, a VAE that lives and
// trains in a Web Worker (WorkerTrainer ↔ the single-file worker bundle), and
// views that ask the worker for reconstructions, samples, latent means,
// decodes, interpolations and imputations. The main thread parses the data
// and draws; it never runs a training step.
//
// Imports only light, dependency-free modules of the package's dist/ (the page
// side of the worker helper and the IDX reader); the wasm is inlined in the
// worker bundle.
import { WorkerTrainer } from "../dist/worker.js";
import { parseIdx } from "../dist/data/idx.js";
import { LABEL_COLORS, drawDigit, drawGrid, drawLines, drawScatter, inkBeyond, inkFraction, latentMap } from "./draw.js";

const $ = (sel) => document.querySelector(sel);
const SCATTER_N = 2000;
const RECON_N = 12;
const GRID = 15;
const FILES = {
  test: ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
  train: ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
};

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
  test: null,                 // { pixels: Uint8Array (n·784), labels: Uint8Array, n }
  counts: {},                 // split → rows stored in the worker
  training: false,
  fitPromise: null,
  lrApplied: null,            // the worker optimizer's lr
  chart: { step: [], loss: [], rec: [], kl: [], sps: [] },
  lastBatch: null,
  means: null, R: 3,          // latent means of the scatter digits and the plot range
  probe: null,
  interpNext: "a",
  mask: new Uint8Array(784),  // 1 = hidden from the model
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
    ? "SharedArrayBuffer: <b>on</b> (cross-origin isolated: the data is shared with the worker, not copied)"
    : "SharedArrayBuffer: <b>unavailable</b> (the page is not cross-origin isolated): the data is copied into the worker");
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

async function fetchBytes(name) {
  const res = await fetch(`../mnist/${name}`);
  if (!res.ok) throw new Error(`could not load ${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Fetches and checks a split, then hands its pixels to the worker: shared
 *  (SharedArrayBuffer), or copied (test: the page keeps it for drawing), or
 *  transferred (train: the page does not need it). */
async function loadSplit(split) {
  const [imagesName, labelsName] = FILES[split];
  status(`loading MNIST ${split} set…`);
  const [ib, lb] = await Promise.all([fetchBytes(imagesName), fetchBytes(labelsName)]);
  const images = parseIdx(ib, imagesName), labels = parseIdx(lb, labelsName);
  const [n, rows, cols] = images.shape;
  if (images.type !== "uint8" || rows !== 28 || cols !== 28 || labels.shape[0] !== n) {
    throw new Error(`${imagesName}: not MNIST (${images.type} ${images.shape.join("×")}, ${labels.shape[0]} labels)`);
  }
  let pixels = images.data;
  if (shared) {
    const s = new Uint8Array(new SharedArrayBuffer(pixels.length));
    s.set(pixels);
    pixels = s;
    await trainer.setData(split, pixels);
  } else {
    await trainer.setData(split, pixels, { transfer: split === "train" });
  }
  S.counts[split] = n;
  if (split === "test") S.test = { pixels, labels: labels.data, n };
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
function convLayers(likelihood) {
  return {
    inputShape: [28, 28, 1],
    encoder: [
      { type: "conv2d", filters: 16, kernel: 4, stride: 2, padding: "same" },
      { type: "conv2d", filters: 32, kernel: 4, stride: 2, padding: "same" },
      { type: "flatten" },
      { type: "dense", units: 128 },
    ],
    decoder: [
      { type: "dense", units: 128 },
      { type: "dense", units: 7 * 7 * 32 },
      { type: "reshape", shape: [7, 7, 32] },
      { type: "conv2d_transpose", filters: 16, kernel: 4, stride: 2, padding: "same" },
      { type: "conv2d_transpose", filters: likelihood === "gaussian-learned" ? 2 : 1, kernel: 4, stride: 2, padding: "same" },
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
    inputDim: 784, encoder: sizes("#encoder"), latentDim: int("#latent"), decoder,
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
  const config = readConfig();
  status("creating the model in the worker…");
  try {
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
  const split = $("#dataset").value;
  S.training = true;
  buttons();
  try {
    if (S.counts[split] === undefined) await loadSplit(split);
    const lr = Number($("#lr").value);
    const opts = { epochs: int("#epochs"), batchSize: int("#batch") };
    if (lr !== S.lrApplied) opts.optimizer = { lr };
    if (split === "train") opts.validation = { data: "test", start: 0, count: 2000 };
    status(`training on ${S.counts[split].toLocaleString("en")} ${split} images…`);
    S.fitPromise = trainer.fit(split, opts);
    if (opts.optimizer) S.lrApplied = lr;
    const h = await S.fitPromise;
    const last = h.epochs.at(-1);
    status(h.aborted ? `stopped at step ${S.lastBatch?.step ?? 0}` :
      `done: ${h.epochs.length} epoch(s), last epoch loss ${last?.loss.toFixed(2)}` +
      (last?.validation ? `, test loss ${last.validation.loss.toFixed(2)}` : ""));
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
    const a = Object.assign(document.createElement("a"), { href: url, download: `wasm-vae-mnist-step${S.info?.steps ?? 0}.wvae` });
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
  const L = S.info.config.latentDim;
  // reconstructions
  const rec = await trainer.reconstruct({ data: "test", start: 0, count: RECON_N });
  const rc = $("#recon"), ctx = rc.getContext("2d"), size = rc.width / RECON_N;
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, rc.width, rc.height);
  for (let k = 0; k < RECON_N; k++) {
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
  S.R = Math.min(10, Math.max(1, 1.1 * (abs[Math.floor(0.99 * (abs.length - 1))] || 1)));
  drawScatterNow();
  $("#latent-hint").textContent = L === 2
    ? `Means of ${n.toLocaleString("en")} test digits, coloured by label. Move the pointer over the plane to decode that point.`
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
  drawGrid($("#manifold"), await trainer.decode(z), GRID * GRID, GRID, 28);
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
  const observed = new Uint8Array(784);
  for (let i = 0; i < 784; i++) observed[i] = S.mask[i] ? 0 : 1;
  const out = await trainer.impute({ data: "test", start: idx, count: 1 }, observed); // E[x_miss | x_obs] by importance sampling (miwae)
  const cv = $("#impute-out");
  drawDigit(cv.getContext("2d"), out, 0, 0, 0, cv.width,
    (i, g) => (S.mask[i] ? [Math.round(g * 0.55), Math.round(g * 0.85), g] : null));
}

function maskBottomHalf() {
  S.mask.fill(0);
  S.mask.fill(1, 14 * 28);
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
    const k = Math.floor((e.offsetX / e.target.clientWidth) * RECON_N);
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
    const x = Math.floor((e.offsetX / pad.clientWidth) * 28), y = Math.floor((e.offsetY / pad.clientHeight) * 28);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const u = x + dx, v = y + dy;
        if (u >= 0 && u < 28 && v >= 0 && v < 28) S.mask[v * 28 + u] = 1;
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
  $("#legend").innerHTML = LABEL_COLORS.map((c, i) => `<span style="--c:${c}">${i}</span>`).join("");
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
    await loadSplit("test");
  } catch (e) {
    showError(e, "Could not load MNIST: ");
    status("no data");
    return;
  }
  await createModel();
  document.body.dataset.ready = "1";
}

window.wasmVaeDemo.ready = main();
