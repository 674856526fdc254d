// The table of layer kinds. To add a kind: write src/layers/<kind>.ts
// exporting a LayerKind<its config type> (kind.ts) and add it here; nothing
// else changes (the planner, the arena, the training step and the
// interchange formats ask the table, and the public LayerConfig type is
// derived from it).
import { activation, type ActivationLayerConfig } from "./activation.js";
import { batchNorm, type BatchNormLayerConfig } from "./batchnorm.js";
import { condition } from "./condition.js";
import { conv2d, conv2dTranspose, type Conv2dLayerConfig, type Conv2dTransposeLayerConfig } from "./conv.js";
import { dense, type DenseLayerConfig } from "./dense.js";
import { dropout, type DropoutLayerConfig } from "./dropout.js";
import { flatten, type FlattenLayerConfig } from "./flatten.js";
import type { LayerKind } from "./kind.js";
import { params } from "./params.js";
import { reshape, type ReshapeLayerConfig } from "./reshape.js";

/** Kinds a config may list, by their `type`. */
export const LAYER_KINDS = Object.freeze({
  dense, flatten, reshape, conv2d, conv2d_transpose: conv2dTranspose, activation, dropout, batch_norm: batchNorm,
});

/** A `type` a config's layer object may name: a key of LAYER_KINDS. */
export type LayerType = keyof typeof LAYER_KINDS;

/** The config entry type of a kind (its LayerKind's type argument, carried by
 *  the type-only member `config`). */
export type ConfigOf<K> = K extends {
  /** Type only (LayerKind.config). */
  readonly config?: infer C;
} ? C : never;

/** One layer object of an encoder or decoder list: the config type of any
 *  kind in LAYER_KINDS (dense, flatten, reshape, conv2d, conv2d_transpose,
 *  activation, dropout; see the README's "Layers"). */
export type LayerConfig = { [T in LayerType]: ConfigOf<(typeof LAYER_KINDS)[T]> }[LayerType];

/** The kind a config names, or null (an own key of LAYER_KINDS only). */
export function listedKind(type: unknown): LayerKind | null {
  return typeof type === "string" && Object.prototype.hasOwnProperty.call(LAYER_KINDS, type) ? LAYER_KINDS[type as LayerType] : null;
}

/** Kinds the architecture inserts itself (not listable). */
const INTERNAL: Readonly<Record<string, LayerKind>> = Object.freeze({ condition, params });

export function kindOf(name: string): LayerKind {
  const k = listedKind(name) ?? INTERNAL[name];
  if (!k) throw new Error(`wasm-vae: no layer kind "${name}" (a bug: please report it)`);
  return k;
}

export type { BufferSpec, LayerActivation, LayerKind, LayerSpec, Layer, ParamSpec, Shape, StepContext } from "./kind.js";
export type { ConvLayerSettings, KernelSize } from "./conv.js";
export type { Draw, InitScheme, ParamInit } from "./init.js";
export { INIT_SCHEMES } from "./init.js";
export type {
  ActivationLayerConfig, BatchNormLayerConfig, Conv2dLayerConfig, Conv2dTransposeLayerConfig, DenseLayerConfig, DropoutLayerConfig, FlattenLayerConfig, ReshapeLayerConfig,
};
