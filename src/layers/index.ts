// The table of layer kinds. To add a kind: write src/layers/<kind>.ts
// exporting a LayerKind (kind.ts) and add it here; nothing else changes
// (the planner, the arena and the training step ask the table).
import { activation } from "./activation.js";
import { batchNorm } from "./batchnorm.js";
import { condition } from "./condition.js";
import { conv2d, conv2dTranspose } from "./conv.js";
import { dense } from "./dense.js";
import { dropout } from "./dropout.js";
import { flatten } from "./flatten.js";
import type { LayerKind } from "./kind.js";
import { params } from "./params.js";
import { reshape } from "./reshape.js";

/** Kinds a config may list, by their `type`. */
export const LAYER_KINDS: Readonly<Record<string, LayerKind>> = Object.freeze({
  dense, flatten, reshape, conv2d, conv2d_transpose: conv2dTranspose, activation, dropout, batch_norm: batchNorm,
});

/** Kinds the architecture inserts itself (not listable). */
const INTERNAL: Readonly<Record<string, LayerKind>> = Object.freeze({ condition, params });

export function kindOf(name: string): LayerKind {
  const k = LAYER_KINDS[name] ?? INTERNAL[name];
  if (!k) throw new Error(`wasm-vae: no layer kind "${name}" (a bug: please report it)`);
  return k;
}

export type { BufferSpec, LayerKind, LayerSpec, Layer, ParamSpec, Shape, StepContext } from "./kind.js";
export type { ActivationLayerConfig } from "./activation.js";
export type { DropoutLayerConfig } from "./dropout.js";
export type { BatchNormLayerConfig } from "./batchnorm.js";
