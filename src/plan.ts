// The memory plan: a pure function from a list of layers (and the VAE's own
// buffers) to named tensors with byte offsets (relative to the arena base) and
// shapes. It asks each layer's kind (layers/index.ts) for its parameters,
// whether its output is a buffer of its own, and its scratch. One arena holds
//   params | grads | adam.m | adam.v   four twin blocks with the same layout
//   rng                                 training and evaluation PRNG states
//   buffers, activations                sized for `batch` rows
//   scratch                             GEMM / im2col buffers (the largest need)
// Params come first, so a larger batch only moves the activation region up:
// parameter offsets never change for a given architecture.
import { kindOf, type LayerSpec } from "./layers/index.js";
import { gemmScratchBytes } from "./scratch.js";

export { gemmScratchBytes };
export type { LayerSpec };

export interface PlanSpec {
  /** Every layer, encoder then decoder: parameters in this order. */
  layers: LayerSpec[];
  /** The model's other per-row buffers, [name, floats per row], in order
   *  (before the layers' activations). */
  buffers: [string, number][];
  /** Rows the activations are sized for. */
  batch: number;
}

export interface TensorSpec {
  /** Byte offset from the arena base, 64-byte aligned. */
  offset: number;
  shape: number[];
  /** Element count (product of shape). */
  size: number;
}

export interface MemoryPlan {
  tensors: Record<string, TensorSpec>;
  /** Byte offset and float count of each twin block (padding included). */
  blocks: { params: Block; grads: Block; m: Block; v: Block };
  totalBytes: number;
  batch: number;
}

export interface Block {
  offset: number;
  floats: number;
}

const ALIGN = 64;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function planMemory(spec: PlanSpec): MemoryPlan {
  const tensors: Record<string, TensorSpec> = {};
  let at = 0;
  const put = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    tensors[name] = { offset: at, shape, size };
    at = align(at + size * 4);
  };

  // Parameter block; grads, m and v repeat it at fixed strides.
  const params = spec.layers.flatMap((l) => l.params);
  for (const p of params) put(p.name, p.shape);
  const blockBytes = at;
  const blocks = {
    params: { offset: 0, floats: blockBytes / 4 },
    grads: { offset: blockBytes, floats: blockBytes / 4 },
    m: { offset: 2 * blockBytes, floats: blockBytes / 4 },
    v: { offset: 3 * blockBytes, floats: blockBytes / 4 },
  };
  for (const [prefix, block] of [["grad", blocks.grads], ["m", blocks.m], ["v", blocks.v]] as const) {
    for (const p of params) {
      const t = tensors[p.name];
      tensors[`${prefix}:${p.name}`] = { offset: block.offset + t.offset, shape: p.shape, size: t.size };
    }
  }
  at = 4 * blockBytes;

  put("rng.train", [4]);
  put("rng.eval", [4]);

  // Buffers and activations, sized for spec.batch rows.
  const B = spec.batch;
  for (const [name, perRow] of spec.buffers) put(name, [B, perRow]);
  for (const l of spec.layers) {
    if (l.alias) continue;                        // output = input (no copy)
    put(`act:${l.name}`, [B, ...l.outShape]);     // layer output (post-activation)
    put(`dact:${l.name}`, [B, ...l.outShape]);    // its gradient
  }

  let scratch = 0;
  for (const l of spec.layers) scratch = Math.max(scratch, kindOf(l.kind).scratchBytes(l, B));
  put("scratch", [scratch / 4]);

  return { tensors, blocks, totalBytes: at, batch: B };
}
