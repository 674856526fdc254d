// The tables of objectives, priors and latent families. To add one: write its
// module here (kinds.ts says what it provides) with its kernels in assembly/,
// and add it to its table; the training step, inference and the config ask
// the tables.
import { elbo } from "./elbo.js";
import { iwae } from "./iwae.js";
import type { LatentKind, ObjectiveKind, PriorKind } from "./kinds.js";
import { gaussian } from "./latent-gaussian.js";
import { mixture } from "./prior-mixture.js";
import { normal } from "./prior-normal.js";
import { vamp } from "./prior-vamp.js";
import { categorical } from "./latent-categorical.js"; // issue 18
import { uniform } from "./prior-uniform.js"; // issue 18

/** Objectives a config may name (`objective.type`). */
export const OBJECTIVES: Readonly<Record<string, ObjectiveKind>> = Object.freeze({ elbo, iwae });
/** Priors a config may name (`prior.type`). */
export const PRIORS: Readonly<Record<string, PriorKind>> = Object.freeze({ normal, mixture, vamp, uniform });
/** Latent families a config may name (`latent.type`). */
export const LATENTS: Readonly<Record<string, LatentKind>> = Object.freeze({ gaussian, categorical });

function entryOf<T>(table: Readonly<Record<string, T>>, name: string, what: string): T {
  const k = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  if (!k) throw new Error(`wasm-vae: no ${what} "${name}" (a bug: please report it)`);
  return k;
}
export const objectiveOf = (name: string): ObjectiveKind => entryOf(OBJECTIVES, name, "objective");
export const priorOf = (name: string): PriorKind => entryOf(PRIORS, name, "prior");
export const latentOf = (name: string): LatentKind => entryOf(LATENTS, name, "latent family");

export type { LatentContext, LatentKind, ObjectiveKind, PriorKind, Settings, StepParts, Draw } from "./kinds.js";
