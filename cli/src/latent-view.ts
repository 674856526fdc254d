// 2-d views of latent means for the scatter plot: the coordinates themselves
// (L ≤ 2), the first two principal components (stats.ts) and UMAP (umap-js,
// McInnes et al. 2018) driven by a seeded uniform stream, so the same means
// and seed give the same picture on every run.
// Not here: drawing (charts.ts), encoding (figures.ts).
import type { LatentView } from "./charts.js";
import { need } from "./chart-render.js";
import { pca2 } from "./stats.js";

export const LATENT_VIEWS = ["umap", "pca"] as const;
export type LatentViewChoice = (typeof LATENT_VIEWS)[number];

/** Fewer points than this get PCA alone: a UMAP of a handful of points shows nothing. */
export const UMAP_MIN_POINTS = 16;

/** Uniforms in [0, 1) from mulberry32 (Tommy Ettinger's 32-bit generator). */
export function seededUniform(seed: number): () => number {
  let s = (Math.floor(seed) ^ 0x2545f491) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** UMAP of n rows of L values to 2-d: 15 neighbours, min_dist 0.1 (umap-learn's
 *  defaults), 200 optimisation epochs (umap-learn's choice for large data;
 *  umap-js would run 500 below 2,500 rows, 4× slower here), every random
 *  draw (initialisation, neighbour search, negative samples) from
 *  seededUniform(seed). */
export async function umap2(rows: ArrayLike<number>, n: number, L: number, seed: number): Promise<{ x: Float64Array; y: Float64Array }> {
  const { UMAP } = await need<typeof import("umap-js")>("umap-js", "computes the UMAP view of the latent space");
  const data = Array.from({ length: n }, (_, i) => Array.from({ length: L }, (_, j) => rows[i * L + j]));
  const u = new UMAP({ nComponents: 2, nNeighbors: Math.max(2, Math.min(15, n - 1)), minDist: 0.1, nEpochs: 200, random: seededUniform(seed) });
  const e = u.fit(data);
  return { x: Float64Array.from(e, (p) => p[0]), y: Float64Array.from(e, (p) => p[1]) };
}

/** The views of n latent means (rows of L): the coordinates for L ≤ 2;
 *  otherwise PCA, preceded by UMAP when `choice` is "umap". `projection` is
 *  one line for metrics.json. */
export async function latentViews(mean: ArrayLike<number>, n: number, L: number, choice: LatentViewChoice, seed: number):
    Promise<{ views: LatentView[]; projection: string; seconds: Record<string, number> }> {
  if (L <= 2) {
    const x = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) { x[i] = mean[i * L]; y[i] = L === 2 ? mean[i * L + 1] : 0; }
    return {
      views: [{ kind: "z", title: L === 2 ? "the 2-d latent" : "the 1-d latent", xTitle: "z₁", yTitle: L === 2 ? "z₂" : "(none)", x, y }],
      projection: L === 2 ? "latent dims 1 and 2" : "latent dim 1", seconds: {},
    };
  }
  const views: LatentView[] = [];
  const seconds: Record<string, number> = {};
  let projection = "";
  if (choice === "umap" && n < UMAP_MIN_POINTS) {
    projection = `UMAP skipped (${n} points; it needs ${UMAP_MIN_POINTS}), `;
  } else if (choice === "umap") {
    const t0 = performance.now();
    const u = await umap2(mean, n, L, seed);
    seconds.umap = (performance.now() - t0) / 1000;
    views.push({ kind: "umap", title: `UMAP of the ${L}-d means`, xTitle: "UMAP 1", yTitle: "UMAP 2", ...u });
    projection = `UMAP of the ${L}-d means (umap-js, 15 neighbours, min_dist 0.1, 200 epochs, seed ${seed}) beside `;
  }
  const t0 = performance.now();
  const p = pca2(mean, n, L);
  seconds.pca = (performance.now() - t0) / 1000;
  const pct = (f: number) => `${(100 * f).toFixed(0)}% of variance`;
  views.push({ kind: "pca", title: `PCA of the ${L}-d means`, xTitle: `PC1 (${pct(p.explained[0])})`, yTitle: `PC2 (${pct(p.explained[1])})`, x: p.x, y: p.y });
  projection += `PCA of the ${L}-d means (power iteration), ${(100 * (p.explained[0] + p.explained[1])).toFixed(1)}% of the variance`;
  return { views, projection, seconds };
}
