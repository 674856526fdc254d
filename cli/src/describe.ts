// One-line accounts of a model's network and of its issue-18 choices
// (objective, prior, latent family, stochastic layers), shared by the run
// header of `train` and by `info`, so both name what a model file holds.
import type { ResolvedConfig } from "wasm-vae";
import { entryLabel } from "wasm-vae/kernels";

/** The widths from x up through every stochastic layer and back:
 *  "784-400-20-400-784", or "784-200-200-100-100-100-50-100-100-100-200-200-784"
 *  for two levels (z₁ 100, z₂ 50). */
export function networkText(c: ResolvedConfig): string {
  const levels = c.latents ?? [{ encoder: c.encoder, size: c.latentDim, decoder: c.decoder }];
  const up = levels.flatMap((l) => [...l.encoder.map(entryLabel), String(l.size)]);
  // level i's decoder maps z_i back to the level below it (x for the first)
  const down = levels.map((l, i) => [...l.decoder.map(entryLabel), String(i === 0 ? c.inputDim : levels[i - 1].size)]).reverse().flat();
  return [String(c.inputDim), ...up, ...down].join("-");
}

/** "IWAE bound, k = 5, DReG gradient", "ELBO". */
export function objectiveText(c: ResolvedConfig): string {
  const o = c.objective as { type: string; samples?: number; gradient?: string };
  return o.type === "iwae" ? `IWAE bound, k = ${o.samples}${o.gradient === "dreg" ? ", DReG gradient" : ""}` : "ELBO";
}

/** "", ", vamp prior (K = 500)", ", categorical latent 20 × 10 (Gumbel-softmax, τ 1 → 0.5)",
 *  ", 2 stochastic layers (z₁ 100, z₂ 50)": what differs from one Gaussian
 *  latent under N(0, I). */
export function choicesText(c: ResolvedConfig): string {
  const parts: string[] = [];
  const pr = c.prior as { type: string; components?: number };
  if (pr.type !== "normal" && pr.type !== "uniform") parts.push(`${pr.type} prior (K = ${pr.components})`);
  const lt = c.latent as { type: string; variables?: number; classes?: number; straightThrough?: boolean; temperature?: { initial: number; min: number } };
  if (lt.type === "categorical") {
    parts.push(`categorical latent ${lt.variables} × ${lt.classes} (Gumbel-softmax, τ ${lt.temperature?.initial} → ${lt.temperature?.min}` +
      `${lt.straightThrough ? ", straight-through" : ""}; uniform prior)`);
  }
  if (c.latents && c.latents.length > 1) {
    parts.push(`${c.latents.length} stochastic layers (${c.latents.map((l, i) => `z${subscript(i + 1)} ${l.size}`).join(", ")})`);
  }
  return parts.map((p) => `, ${p}`).join("");
}

const subscript = (n: number) => String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[Number(d)]);

/** What the log-likelihood estimate of a categorical latent is (issue 18: "say so"). */
export function discreteNote(c: ResolvedConfig): string {
  return c.latent.type === "categorical" ? "; categorical latent: the importance-weighted bound with one-hot codes drawn from the discrete posterior" : "";
}
