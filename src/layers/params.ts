// An internal parameter-only "layer": holds learned tensors that belong to no
// network (a learned prior's), so the planner lays them out in the parameter
// block and they are initialised, saved, updated by Adam and exported like
// any layer's. Its forward and backward do nothing (their owner computes
// with them and writes their gradients).
import type { LayerKind } from "./kind.js";

export const params: LayerKind = {
  settings: () => ({}),
  activates: false,
  outputShape: (inShape) => [...inShape],
  params: () => [],
  alias: true,
  scratchBytes: () => 0,
  forward() {},
  backward() {},
};
