// Renders a Vega-Lite specification headless: vega-lite compiles it to a
// Vega specification, vega lays it out and writes SVG (renderer "none": no
// canvas, no browser), and @resvg/resvg-js rasterizes the SVG to PNG with the
// DejaVu Sans files of the dejavu-fonts-ttf package (never the system's
// fonts: a fresh machine may have none). Without a canvas vega would guess
// text widths (0.8 em a character, too wide for DejaVu Sans); its
// textMetrics.width hook measures them instead from the same files' glyph
// advances, read with opentype.js, so titles, labels and legends are laid
// out for the font that draws them. The packages are dependencies of
// wasm-vae-cli, imported on first use so that the commands that draw nothing
// start without them.
// Not here: what a chart shows (charts.ts), image tiles (tiles.ts).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TopLevelSpec } from "vega-lite";

export class MissingDependencyError extends Error {
  override name = "MissingDependencyError";
}

/** The font family every chart uses (charts.ts sets it in each spec's config). */
export const FONT_FAMILY = "DejaVu Sans";

const require = createRequire(import.meta.url);

/** Imports `name`, or throws MissingDependencyError naming the fix. */
export async function need<T>(name: string, what: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    throw new MissingDependencyError(`the wasm-vae CLI ${what} with the package ${name}, which is not installed (it is a dependency of wasm-vae-cli: reinstall it, or npm i ${name})`, { cause: e });
  }
}

/** The TrueType files of DejaVu Sans (regular, bold, oblique) from dejavu-fonts-ttf. */
export function fontFiles(): string[] {
  let dir: string;
  try {
    dir = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
  } catch (e) {
    throw new MissingDependencyError("the wasm-vae CLI draws its figures' text with the fonts of the package dejavu-fonts-ttf, which is not installed (it is a dependency of wasm-vae-cli: reinstall it, or npm i dejavu-fonts-ttf)", { cause: e });
  }
  return ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"].map((f) => join(dir, f));
}

type Vega = typeof import("vega");
type VegaLite = typeof import("vega-lite");
type Resvg = typeof import("@resvg/resvg-js");
/** The part of an opentype.js Font that measuring needs. */
interface OtFont { unitsPerEm: number; charToGlyph(c: string): { advanceWidth?: number } }

/** Text widths in DejaVu Sans (regular, bold, oblique): Σ glyph advances × size / unitsPerEm. */
async function fontMeasure(): Promise<(item: { fontSize?: number; fontWeight?: string | number; fontStyle?: string }, text: unknown) => number> {
  const ot = await need<{ default: { parse(b: ArrayBuffer): OtFont } }>("opentype.js", "measures the text of its figures");
  const { readFileSync } = await import("node:fs");
  const [regular, bold, oblique] = fontFiles().map((f) => {
    const b = readFileSync(f);
    return ot.default.parse(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  });
  const cache = new Map<string, number>();   // font + character → advance in em
  const advance = (font: OtFont, key: string, ch: string) => {
    let a = cache.get(key + ch);
    if (a === undefined) { a = (font.charToGlyph(ch).advanceWidth ?? font.unitsPerEm * 0.6) / font.unitsPerEm; cache.set(key + ch, a); }
    return a;
  };
  return (item, text) => {
    const w = item.fontWeight, isBold = w === "bold" || w === "bolder" || (Number(w) >= 600);
    const [font, key] = isBold ? [bold, "b"] : item.fontStyle === "italic" || item.fontStyle === "oblique" ? [oblique, "o"] : [regular, "r"];
    const size = item.fontSize != null ? +item.fontSize || 0 : 11;
    let em = 0;
    for (const ch of String(text ?? "")) em += advance(font, key, ch);
    return em * size;
  };
}

let modules: Promise<{ vega: Vega; vl: VegaLite; resvg: Resvg }> | null = null;

/** Loads vega, vega-lite and resvg once; throws MissingDependencyError when one is missing. */
export function chartModules(): Promise<{ vega: Vega; vl: VegaLite; resvg: Resvg }> {
  modules ??= (async () => {
    const vega = await need<Vega>("vega", "lays out its figures");
    const vl = await need<VegaLite>("vega-lite", "describes its figures");
    const resvg = await need<Resvg>("@resvg/resvg-js", "rasterizes its figures to PNG");
    (vega as unknown as { textMetrics: { width: unknown } }).textMetrics.width = await fontMeasure();
    return { vega, vl, resvg };
  })();
  modules.catch(() => { modules = null; });
  return modules;
}

/** Vega-Lite → Vega specification (the form the report's pages embed too). */
export async function compileSpec(spec: TopLevelSpec): Promise<object> {
  const { vl } = await chartModules();
  return vl.compile(spec).spec;
}

/** The chart as SVG text (vega's headless renderer). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega } = await chartModules();
  const vg = await compileSpec(spec);
  const view = new vega.View(vega.parse(vg as import("vega").Spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface Rendered {
  svg: string;
  png: Buffer;
  /** PNG size in pixels. */
  width: number;
  height: number;
}

/** SVG and PNG of a chart; the PNG at `scale` pixels per SVG unit (2: sharp text). */
export async function renderChart(spec: TopLevelSpec, scale = 2): Promise<Rendered> {
  const { resvg } = await chartModules();
  const svg = await renderSvg(spec);
  const r = new resvg.Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  const img = r.render();
  return { svg, png: img.asPng(), width: img.width, height: img.height };
}
