// Canvas drawing for the demo: image grids (grey or colour, any h × w), line
// charts, the latent scatter.
// Plain 2-d canvas, no library. Nothing here talks to the worker.

export const LABEL_COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4",
  "#42d4f4", "#f032e6", "#9a6324", "#000075", "#808000"];

// one image tile (h × w) reused for every draw; setImageShape resizes it
let SHAPE = [28, 28, 1];
let tile, tctx, tdata;
function makeTile() {
  const [h, w] = SHAPE;
  tile = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(w, h) : Object.assign(document.createElement("canvas"), { width: w, height: h });
  tctx = tile.getContext("2d");
  tdata = tctx.createImageData(w, h);
}
makeTile();

/** The (h, w, c) of the rows drawImageRow draws: NHWC, c = 1 (grey) or 3 (RGB). */
export function setImageShape(shape) {
  SHAPE = [shape[0], shape[1], shape[2] ?? 1];
  makeTile();
}

export function imageShape() { return SHAPE; }

/** Value in [0, 1] of a row (Uint8Array pixels or floats, clamped). */
function px(rows, i) {
  const v = rows instanceof Uint8Array ? rows[i] / 255 : rows[i];
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Draws one image (row `r` of `rows`, h·w·c values, NHWC) into the square box
 * (x, y, size) of ctx, grey or RGB, letterboxed when it is not square.
 * `tint(i, g)` may return [r, g, b] to colour pixel i (g: its grey level).
 */
export function drawDigit(ctx, rows, r, x, y, size, tint) {
  const [h, w, c] = SHAPE, D = h * w * c, o = r * D, d = tdata.data;
  for (let i = 0; i < h * w; i++) {
    const R = Math.round(255 * px(rows, o + i * c));
    const G = c === 3 ? Math.round(255 * px(rows, o + i * c + 1)) : R, B = c === 3 ? Math.round(255 * px(rows, o + i * c + 2)) : R;
    const t = tint?.(i, Math.round((R + G + B) / 3));
    d[4 * i] = t ? t[0] : R; d[4 * i + 1] = t ? t[1] : G; d[4 * i + 2] = t ? t[2] : B; d[4 * i + 3] = 255;
  }
  tctx.putImageData(tdata, 0, 0);
  ctx.imageSmoothingEnabled = false;
  const s = size / Math.max(h, w);
  ctx.drawImage(tile, x + (size - w * s) / 2, y + (size - h * s) / 2, w * s, h * s);
}

/** A grid of `count` images, `cols` per row, each in a `size` px box. */
export function drawGrid(canvas, rows, count, cols, size) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let k = 0; k < count; k++) drawDigit(ctx, rows, k, (k % cols) * size, Math.floor(k / cols) * size, size);
}

/**
 * Line chart of several series over a shared x (training step).
 * series: [{ x: number[], y: number[], color }]; y range from the data
 * (ignoring the first 2% of points, which dwarf the rest at the start).
 */
export function drawLines(canvas, series, { digits = 1 } = {}) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  const padL = 48, padR = 8, padT = 8, padB = 18;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const all = series.filter((s) => s.y.length > 0);
  ctx.strokeStyle = "#d9dee3";
  ctx.strokeRect(padL + 0.5, padT + 0.5, W - padL - padR - 1, H - padT - padB - 1);
  if (all.length === 0) return;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of all) {
    x0 = Math.min(x0, s.x[0]); x1 = Math.max(x1, s.x[s.x.length - 1]);
    const skip = Math.floor(s.y.length * 0.02);
    for (let i = skip; i < s.y.length; i++) { const v = s.y[i]; if (Number.isFinite(v)) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); } }
  }
  if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
  const m = (y1 - y0) * 0.06; y0 -= m; y1 += m;
  if (x1 === x0) x1 = x0 + 1;
  const sx = (v) => padL + ((v - x0) / (x1 - x0)) * (W - padL - padR);
  const sy = (v) => padT + (1 - (Math.min(y1, Math.max(y0, v)) - y0) / (y1 - y0)) * (H - padT - padB);
  ctx.fillStyle = "#5b6570";
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "right";
  for (const v of [y0 + m, (y0 + y1) / 2, y1 - m]) ctx.fillText(v.toFixed(digits), padL - 4, sy(v) + 3);
  ctx.textAlign = "center";
  ctx.fillText(`step ${Math.round(x0)}`, padL + 24, H - 4);
  ctx.fillText(`${Math.round(x1)}`, W - padR - 14, H - 4);
  ctx.lineWidth = 1.25;
  for (const s of all) {
    ctx.strokeStyle = s.color;
    ctx.beginPath();
    // at most ~2 points per pixel
    const stride = Math.max(1, Math.floor(s.x.length / (2 * (W - padL - padR))));
    for (let i = 0; i < s.x.length; i += stride) {
      const X = sx(s.x[i]), Y = sy(s.y[i]);
      if (i === 0) ctx.moveTo(X, Y); else ctx.lineTo(X, Y);
    }
    ctx.stroke();
  }
}

/** Maps latent coordinates in [-R, R]² to canvas pixels and back. */
export function latentMap(canvas, R) {
  const W = canvas.width, H = canvas.height;
  return {
    R,
    toPx: (zx, zy) => [((zx + R) / (2 * R)) * W, ((R - zy) / (2 * R)) * H],
    toZ: (x, y) => [(x / W) * 2 * R - R, R - (y / H) * 2 * R],
  };
}

/** Scatter of 2-d points (means[2i], means[2i+1] of an (n, L) array) coloured by label. */
export function drawScatter(canvas, means, L, labels, n, map, probe) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = "#e3e7eb";
  ctx.beginPath();
  const [cx, cy] = map.toPx(0, 0);
  ctx.moveTo(cx, 0); ctx.lineTo(cx, H); ctx.moveTo(0, cy); ctx.lineTo(W, cy);
  ctx.stroke();
  for (let i = 0; i < n; i++) {
    // points beyond ±R (the 99th percentile) sit on the frame, not off the canvas
    const [px, py] = map.toPx(means[i * L], L > 1 ? means[i * L + 1] : 0);
    const x = Math.min(W - 2, Math.max(2, px)), y = Math.min(H - 2, Math.max(2, py));
    ctx.fillStyle = labels ? LABEL_COLORS[labels[i] % LABEL_COLORS.length] : "#1f6feb";
    ctx.globalAlpha = 0.7;
    ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
  }
  ctx.globalAlpha = 1;
  if (probe) {
    const [x, y] = map.toPx(probe[0], probe[1]);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(x, y, 6, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  ctx.fillStyle = "#5b6570";
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillText(`z₁ ∈ [−${map.R.toFixed(1)}, ${map.R.toFixed(1)}]`, 6, H - 6);
}

/** Fraction of the pixels of `canvas` that differ from `empty`, a canvas of
 *  the same size showing what `canvas` shows without data (the tests' "drawn"). */
export function inkBeyond(canvas, empty) {
  const a = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const b = empty.getContext("2d").getImageData(0, 0, empty.width, empty.height).data;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n / (a.length / 4);
}

/** Non-background pixels of a canvas (those unlike its top-left pixel). */
export function inkFraction(canvas) {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const r0 = data[0], g0 = data[1], b0 = data[2];
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] !== r0 || data[i + 1] !== g0 || data[i + 2] !== b0) n++;
  return n / (data.length / 4);
}
