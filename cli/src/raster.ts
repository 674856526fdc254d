// A small RGBA raster for the CLI's figures: filled rectangles, lines, dots,
// greyscale image tiles, and text in a 3×5 pixel font, encoded to PNG with
// pngjs. Deliberately not a charting library: no anti-aliasing, no fonts
// beyond the glyphs below, no layout engine (plot.ts places things by hand).
// pngjs (a dependency of the CLI package) is imported lazily by toPng().

export type RGBA = readonly [number, number, number, number];

export const WHITE: RGBA = [255, 255, 255, 255];
export const BLACK: RGBA = [0, 0, 0, 255];
export const GREY: RGBA = [150, 150, 150, 255];
export const LIGHT: RGBA = [225, 225, 225, 255];
/** Matplotlib's "tab10" palette: the colour of digit class k is PALETTE[k % 10]. */
export const PALETTE: readonly RGBA[] = [
  [31, 119, 180, 255], [255, 127, 14, 255], [44, 160, 44, 255], [214, 39, 40, 255], [148, 103, 189, 255],
  [140, 86, 75, 255], [227, 119, 194, 255], [127, 127, 127, 255], [188, 189, 34, 255], [23, 190, 207, 255],
];

// 3×5 glyphs, rows top to bottom, "1" = ink.
const FONT: Record<string, string> = {
  "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
  "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
  "8": "111101111101111", "9": "111101111001111",
  A: "010101111101101", B: "110101110101110", C: "011100100100011", D: "110101101101110",
  E: "111100110100111", F: "111100110100100", G: "011100101101011", H: "101101111101101",
  I: "111010010010111", J: "001001001101010", K: "101101110101101", L: "100100100100111",
  M: "101111111101101", N: "110101101101101", O: "010101101101010", P: "110101110100100",
  Q: "010101101110011", R: "110101110101101", S: "011100010001110", T: "111010010010010",
  U: "101101101101111", V: "101101101101010", W: "101101111111101", X: "101101010101101",
  Y: "101101010010010", Z: "111001010100111",
  ".": "000000000000010", ",": "000000000010100", "-": "000000111000000", "−": "000000111000000",
  ":": "000010000010000", "/": "001001010100100", "(": "010100100100010", ")": "010001001001010",
  "=": "000111000111000", "+": "000010111010000", "%": "101001010100101", "_": "000000000000111",
  " ": "000000000000000",
};

export class Canvas {
  readonly width: number;
  readonly height: number;
  /** RGBA bytes, row-major, (height, width, 4). */
  readonly data: Uint8Array;

  constructor(width: number, height: number, background: RGBA = WHITE) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`canvas: expected a positive integer size, got ${width}×${height}`);
    }
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 4);
    this.rect(0, 0, width, height, background);
  }

  /** Blends colour c (its alpha × `alpha`) over the pixel at (x, y); clipped. */
  blend(x: number, y: number, c: RGBA, alpha = 1): void {
    x = Math.floor(x); y = Math.floor(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const a = (c[3] / 255) * alpha, o = (y * this.width + x) * 4, d = this.data;
    if (a >= 1) { d[o] = c[0]; d[o + 1] = c[1]; d[o + 2] = c[2]; d[o + 3] = 255; return; }
    d[o] = Math.round(d[o] * (1 - a) + c[0] * a);
    d[o + 1] = Math.round(d[o + 1] * (1 - a) + c[1] * a);
    d[o + 2] = Math.round(d[o + 2] * (1 - a) + c[2] * a);
    d[o + 3] = 255;
  }

  rect(x: number, y: number, w: number, h: number, c: RGBA, alpha = 1): void {
    const x0 = Math.max(0, Math.floor(x)), y0 = Math.max(0, Math.floor(y));
    const x1 = Math.min(this.width, Math.floor(x + w)), y1 = Math.min(this.height, Math.floor(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.blend(xx, yy, c, alpha);
  }

  /** A 1-pixel outline of the rectangle. */
  frame(x: number, y: number, w: number, h: number, c: RGBA): void {
    this.rect(x, y, w, 1, c); this.rect(x, y + h - 1, w, 1, c);
    this.rect(x, y, 1, h, c); this.rect(x + w - 1, y, 1, h, c);
  }

  /** A line from (x0, y0) to (x1, y1), `width` pixels thick (DDA, no anti-aliasing). */
  line(x0: number, y0: number, x1: number, y1: number, c: RGBA, width = 1): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = (width - 1) / 2;
    let lastX = NaN, lastY = NaN;
    for (let i = 0; i <= n; i++) {
      const x = Math.round(x0 + ((x1 - x0) * i) / n), y = Math.round(y0 + ((y1 - y0) * i) / n);
      if (x === lastX && y === lastY) continue;
      lastX = x; lastY = y;
      if (width <= 1) this.blend(x, y, c);
      else this.rect(x - r, y - r, width, width, c);
    }
  }

  /** A filled disc of radius r centred at (x, y). */
  dot(x: number, y: number, r: number, c: RGBA, alpha = 1): void {
    const r2 = r * r;
    for (let yy = Math.floor(y - r); yy <= Math.ceil(y + r); yy++) {
      for (let xx = Math.floor(x - r); xx <= Math.ceil(x + r); xx++) {
        const dx = xx + 0.5 - x, dy = yy + 0.5 - y;
        if (dx * dx + dy * dy <= r2) this.blend(xx, yy, c, alpha);
      }
    }
  }

  /**
   * Draws one image (h × w × channels values, row-major, channels last) at
   * (x, y), grey levels for one channel, RGB for three, each pixel a
   * `scale`×`scale` block; values map linearly from [lo, hi] to 0..255 and
   * are clamped. `tint(i)` may return a colour that replaces pixel i (e.g.
   * for hidden pixels).
   */
  image(x: number, y: number, values: ArrayLike<number>, h: number, w: number, scale: number,
        lo = 0, hi = 1, tint?: (i: number) => RGBA | null, channels = 1): void {
    const span = hi - lo || 1;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const i = r * w + c;
        const t = tint?.(i);
        let col: RGBA;
        if (t) col = t;
        else {
          const v = (k: number) => Math.round(255 * Math.min(1, Math.max(0, (values[i * channels + k] - lo) / span)));
          const g = v(0);
          col = channels === 3 ? [g, v(1), v(2), 255] : [g, g, g, 255];
        }
        this.rect(x + c * scale, y + r * scale, scale, scale, col);
      }
    }
  }

  /** Width in pixels of `s` drawn at `scale`. */
  static textWidth(s: string, scale = 1): number {
    return s.length === 0 ? 0 : (s.length * 4 - 1) * scale;
  }

  /** Text in the 3×5 font (upper case; unknown characters draw as blanks),
   *  top-left at (x, y). */
  text(x: number, y: number, s: string, c: RGBA, scale = 1): void {
    let cx = x;
    for (const ch of s.toUpperCase()) {
      const g = FONT[ch] ?? FONT[" "];
      for (let r = 0; r < 5; r++) {
        for (let k = 0; k < 3; k++) if (g[r * 3 + k] === "1") this.rect(cx + k * scale, y + r * scale, scale, scale, c);
      }
      cx += 4 * scale;
    }
  }

  /** The PNG file bytes (pngjs, 8-bit RGBA). pngjs is a dev dependency
   *  loaded on first use, so the commands that draw nothing run without it. */
  async toPng(): Promise<Buffer> {
    const PNG = await pngModule();
    const png = new PNG({ width: this.width, height: this.height });
    png.data.set(this.data);
    return PNG.sync.write(png, { colorType: 6 });
  }
}

export class MissingDependencyError extends Error {
  override name = "MissingDependencyError";
}

/** pngjs's PNG class; throws MissingDependencyError naming the fix when it is not installed. */
export async function pngModule(): Promise<typeof import("pngjs").PNG> {
  try {
    return (await import("pngjs")).default.PNG;
  } catch (e) {
    throw new MissingDependencyError("the wasm-vae CLI draws its figures with the package pngjs, which is not installed (it is a dependency of wasm-vae-cli: reinstall it, or npm i pngjs)", { cause: e });
  }
}

/** Layout of a grid of equal image tiles: `cols` × `rows` tiles of h × w
 *  values drawn at `scale`, `pad` pixels between and around them. */
export interface Grid { cols: number; rows: number; h: number; w: number; scale: number; pad: number }

export function gridSize(g: Grid): { width: number; height: number } {
  return { width: g.cols * (g.w * g.scale + g.pad) + g.pad, height: g.rows * (g.h * g.scale + g.pad) + g.pad };
}

/** Top-left pixel of tile (col, row). */
export function tileAt(g: Grid, col: number, row: number): [number, number] {
  return [g.pad + col * (g.w * g.scale + g.pad), g.pad + row * (g.h * g.scale + g.pad)];
}
