// Image rows → small PNG files (data URLs) that the charts place as Vega-Lite
// `image` marks: an image row is (h, w, c) values, channels last (NHWC, c = 1
// grey or 3 RGB), mapped linearly from [lo, hi] to 0..255, each pixel
// repeated `up` × `up` times (nearest neighbour, so the renderer never blurs
// a digit). PNG encoding is pngjs's.
// Not here: layout of the grids (charts.ts), rendering (chart-render.ts).
import { need } from "./chart-render.js";

export type ImageShape = readonly [number, number] | readonly [number, number, number];

/** Colour of a hidden pixel (imputation figures): matplotlib's tab:blue. */
export const HIDDEN_RGB: readonly [number, number, number] = [31, 119, 180];

type PNGClass = typeof import("pngjs").PNG;
let png: PNGClass | null = null;

/** pngjs's PNG class (loaded once); MissingDependencyError when pngjs is missing. */
export async function pngModule(): Promise<PNGClass> {
  const PNG = png ?? (await need<{ default: typeof import("pngjs") }>("pngjs", "encodes its image tiles")).default.PNG;
  png = PNG;
  return PNG;
}

export function channelsOf(shape: ImageShape): number {
  return shape.length === 3 ? shape[2] : 1;
}

/**
 * One image as a PNG data URL. `values` has h·w·c entries (c from `shape`,
 * 1 or 3); `hidden(p)` true paints pixel p (0 ≤ p < h·w) in HIDDEN_RGB.
 * Needs pngModule() to have resolved (it is synchronous for speed).
 */
export function tileUrl(values: ArrayLike<number>, shape: ImageShape, range: readonly [number, number], up = 1,
                        hidden?: (p: number) => boolean): string {
  if (!png) throw new Error("tileUrl: await pngModule() first");
  const [h, w] = shape, c = channelsOf(shape);
  const [lo, hi] = range, span = hi - lo || 1;
  const W = w * up, H = h * up;
  const img = new png({ width: W, height: H });
  const d = img.data;
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, (v - lo) / span)));
  for (let r = 0; r < h; r++) {
    for (let q = 0; q < w; q++) {
      const p = r * w + q;
      let rgb: readonly [number, number, number];
      if (hidden?.(p)) rgb = HIDDEN_RGB;
      else if (c === 1) { const g = byte(values[p]); rgb = [g, g, g]; }
      else rgb = [byte(values[p * c]), byte(values[p * c + 1]), byte(values[p * c + 2])];
      for (let dy = 0; dy < up; dy++) {
        for (let dx = 0; dx < up; dx++) {
          const o = ((r * up + dy) * W + q * up + dx) * 4;
          d[o] = rgb[0]; d[o + 1] = rgb[1]; d[o + 2] = rgb[2]; d[o + 3] = 255;
        }
      }
    }
  }
  return "data:image/png;base64," + png.sync.write(img, { colorType: c === 1 && !hidden ? 0 : 2 }).toString("base64");
}
