// Two chart types drawn on a Canvas (raster.ts): a line chart with axes,
// "nice" ticks and a legend, and a scatter plot coloured by class. Plus the
// small numeric helpers they need (nice ticks, percentiles).
// Not here: the VAE figures themselves (figures.ts).
import { BLACK, Canvas, GREY, LIGHT, PALETTE, type RGBA } from "./raster.js";

const FONT = 2; // text scale: glyphs 6 × 10 pixels
const GLYPH_H = 5 * FONT;

export interface Area { x: number; y: number; w: number; h: number }

/** Ticks at 1, 2 or 5 × 10^k covering [lo, hi] with about `n` intervals. */
export function niceTicks(lo: number, hi: number, n = 5): { ticks: number[]; step: number } {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return { ticks, step };
}

export function formatTick(v: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toFixed(decimals);
}

/** The p-quantile (0..1) of the finite values in `a` (a copy is sorted). */
export function percentile(a: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(a).filter(Number.isFinite).sort();
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))));
  return s[i];
}

/** Axes: a frame around `area`, tick marks and labels, light grid lines. */
export function drawAxes(cv: Canvas, area: Area, xr: [number, number], yr: [number, number],
                         opts: { xTicks?: number[]; xStep?: number; xLabel?: string; yLabel?: string; title?: string } = {}): void {
  const { x, y, w, h } = area;
  const X = (v: number) => x + ((v - xr[0]) / (xr[1] - xr[0])) * (w - 1);
  const Y = (v: number) => y + h - 1 - ((v - yr[0]) / (yr[1] - yr[0])) * (h - 1);
  const yt = niceTicks(yr[0], yr[1], 5);
  for (const t of yt.ticks) {
    const py = Math.round(Y(t));
    cv.rect(x + 1, py, w - 2, 1, LIGHT);
    cv.rect(x - 5, py, 5, 1, BLACK);
    const s = formatTick(t, yt.step);
    cv.text(x - 8 - Canvas.textWidth(s, FONT), py - GLYPH_H / 2, s, BLACK, FONT);
  }
  const xt = opts.xTicks ? { ticks: opts.xTicks, step: opts.xStep ?? 1 } : niceTicks(xr[0], xr[1], 6);
  for (const t of xt.ticks) {
    const px = Math.round(X(t));
    cv.rect(px, y + 1, 1, h - 2, LIGHT);
    cv.rect(px, y + h, 1, 5, BLACK);
    const s = formatTick(t, xt.step);
    cv.text(px - Canvas.textWidth(s, FONT) / 2, y + h + 9, s, BLACK, FONT);
  }
  cv.frame(x - 1, y - 1, w + 2, h + 2, BLACK);
  if (opts.xLabel) cv.text(x + w / 2 - Canvas.textWidth(opts.xLabel, FONT) / 2, y + h + 26, opts.xLabel, GREY, FONT);
  if (opts.yLabel) cv.text(x, y - GLYPH_H - 6, opts.yLabel, GREY, FONT);
  if (opts.title) cv.text(Math.max(2, x + w / 2 - Canvas.textWidth(opts.title, FONT) / 2), 8, opts.title, BLACK, FONT);
}

export interface Series {
  label: string;
  color: RGBA;
  points: [number, number][];
  width?: number;
  /** Draw a dot at every point. */
  dots?: boolean;
}

/**
 * A line chart of several series; the y range is [yr[0], yr[1]] (values
 * outside are clipped to the frame). Returns the canvas.
 */
export function lineChart(series: Series[], o: { width: number; height: number; xr: [number, number]; yr: [number, number];
  xTicks?: number[]; xLabel?: string; yLabel?: string; title?: string }): Canvas {
  const cv = new Canvas(o.width, o.height);
  const area: Area = { x: 78, y: 58, w: o.width - 78 - 24, h: o.height - 58 - 56 };
  drawAxes(cv, area, o.xr, o.yr, { xTicks: o.xTicks, xLabel: o.xLabel, yLabel: o.yLabel, title: o.title });
  const X = (v: number) => area.x + ((v - o.xr[0]) / (o.xr[1] - o.xr[0])) * (area.w - 1);
  const Y = (v: number) => Math.min(area.y + area.h - 1, Math.max(area.y, area.y + area.h - 1 - ((v - o.yr[0]) / (o.yr[1] - o.yr[0])) * (area.h - 1)));
  for (const s of series) {
    const p = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    for (let i = 1; i < p.length; i++) cv.line(X(p[i - 1][0]), Y(p[i - 1][1]), X(p[i][0]), Y(p[i][1]), s.color, s.width ?? 1);
    if (s.dots || p.length === 1) for (const [a, b] of p) cv.dot(X(a), Y(b), 3.5, s.color);
  }
  // legend, top right, one row
  let lx = area.x + area.w - 8;
  for (const s of [...series].reverse()) {
    lx -= Canvas.textWidth(s.label, FONT);
    cv.text(lx, area.y - GLYPH_H - 6, s.label, BLACK, FONT);
    lx -= 22;
    cv.rect(lx, area.y - GLYPH_H / 2 - 7, 16, Math.max(2, s.width ?? 1), s.color);
    lx -= 18;
  }
  return cv;
}

/**
 * A scatter plot of (xs[i], ys[i]) coloured by class (PALETTE[label % 10]),
 * with a legend of the classes present. The ranges cover the 0.5..99.5
 * percentiles (outliers are drawn on the frame).
 */
export function scatter(xs: Float64Array, ys: Float64Array, labels: Uint8Array | null,
                        o: { size: number; xLabel: string; yLabel: string; title: string }): Canvas {
  const legend = labels ? 90 : 0;
  const cv = new Canvas(o.size + legend, o.size);
  const area: Area = { x: 78, y: 58, w: o.size - 78 - 24, h: o.size - 58 - 56 };
  const range = (a: Float64Array): [number, number] => {
    let lo = percentile(a, 0.005), hi = percentile(a, 0.995);
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const m = 0.05 * (hi - lo);
    return [lo - m, hi + m];
  };
  const xr = range(xs), yr = range(ys);
  drawAxes(cv, area, xr, yr, { xLabel: o.xLabel, yLabel: o.yLabel, title: o.title });
  const clampX = (v: number) => Math.min(area.x + area.w - 1, Math.max(area.x, area.x + ((v - xr[0]) / (xr[1] - xr[0])) * (area.w - 1)));
  const clampY = (v: number) => Math.min(area.y + area.h - 1, Math.max(area.y, area.y + area.h - 1 - ((v - yr[0]) / (yr[1] - yr[0])) * (area.h - 1)));
  for (let i = 0; i < xs.length; i++) {
    const c = labels ? PALETTE[labels[i] % PALETTE.length] : PALETTE[0];
    cv.dot(clampX(xs[i]), clampY(ys[i]), 2.2, c, 0.7);
  }
  if (labels) {
    const present = [...new Set(labels)].sort((a, b) => a - b).slice(0, 20);
    present.forEach((k, j) => {
      const ly = area.y + j * 22;
      cv.dot(o.size + 10, ly + 5, 5, PALETTE[k % PALETTE.length]);
      cv.text(o.size + 22, ly, String(k), BLACK, FONT);
    });
  }
  return cv;
}
