// The memory plan: a pure function from the model spec to named tensors with
// byte offsets (relative to the arena base) and shapes. One arena holds
//   params | grads | adam.m | adam.v   four twin blocks with the same layout
//   rng                                 training and evaluation PRNG states
//   activations                         sized for `batch` rows
//   scratch                             GEMM packing buffers
// Params come first, so a larger batch only moves the activation region up:
// parameter offsets never change for a given architecture.
import { gemmScratchBytes } from "./scratch.js";

export { gemmScratchBytes };

import { checkInt, checkOptions, fail } from "./validate.js";

export interface LayerSpec {
  /** "encoder.0", "decoder.2", ... */
  name: string;
  inDim: number;
  outDim: number;
}

export interface PlanSpec {
  layers: LayerSpec[];
  /** Encoder input width: inputDim + conditionDim. */
  encoderIn: number;
  /** Target width (the data dimension). */
  inputDim: number;
  latentDim: number;
  conditionDim: number;
  /** Decoder output width: inputDim, or 2·inputDim for a learned σ. */
  outDim: number;
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


const MAX_DIM = 1 << 20;

/** Checks a PlanSpec (every width and the batch a positive integer, the
 *  layers a non-empty list); throws an ArgumentError naming the field. */
function checkPlanSpec(spec: PlanSpec): void {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) fail("spec", "a PlanSpec object { layers, encoderIn, inputDim, latentDim, conditionDim, outDim, batch }", spec);
  checkOptions("spec", spec, ["layers", "encoderIn", "inputDim", "latentDim", "conditionDim", "outDim", "batch"]);
  for (const k of ["encoderIn", "inputDim", "latentDim", "outDim", "batch"] as const) checkInt(`spec.${k}`, spec[k], 1, MAX_DIM);
  checkInt("spec.conditionDim", spec.conditionDim, 0, MAX_DIM);
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) fail("spec.layers", "a non-empty array of { name, inDim, outDim }", spec.layers);
  spec.layers.forEach((l, i) => {
    if (l === null || typeof l !== "object") fail(`spec.layers[${i}]`, "an object { name, inDim, outDim }", l);
    if (typeof l.name !== "string") fail(`spec.layers[${i}].name`, "a string", l.name);
    checkInt(`spec.layers[${i}].inDim`, l.inDim, 1, MAX_DIM);
    checkInt(`spec.layers[${i}].outDim`, l.outDim, 1, MAX_DIM);
  });
}

export function planMemory(spec: PlanSpec): MemoryPlan {
  checkPlanSpec(spec);
  const tensors: Record<string, TensorSpec> = {};
  let at = 0;
  const put = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    tensors[name] = { offset: at, shape, size };
    at = align(at + size * 4);
  };

  // Parameter block; grads, m and v repeat it at fixed strides.
  const paramNames: [string, number[]][] = [];
  for (const l of spec.layers) {
    paramNames.push([`${l.name}.weight`, [l.inDim, l.outDim]]);
    paramNames.push([`${l.name}.bias`, [l.outDim]]);
  }
  for (const [n, s] of paramNames) put(n, s);
  const blockBytes = at;
  const blocks = {
    params: { offset: 0, floats: blockBytes / 4 },
    grads: { offset: blockBytes, floats: blockBytes / 4 },
    m: { offset: 2 * blockBytes, floats: blockBytes / 4 },
    v: { offset: 3 * blockBytes, floats: blockBytes / 4 },
  };
  for (const [prefix, block] of [["grad", blocks.grads], ["m", blocks.m], ["v", blocks.v]] as const) {
    for (const [n, s] of paramNames) {
      const t = tensors[n];
      tensors[`${prefix}:${n}`] = { offset: block.offset + t.offset, shape: s, size: t.size };
    }
  }
  at = 4 * blockBytes;

  put("rng.train", [4]);
  put("rng.eval", [4]);

  // Activations, sized for spec.batch rows.
  const B = spec.batch;
  const L = spec.latentDim;
  put("x.in", [B, spec.encoderIn]);            // encoder input [x | c]
  put("x.target", [B, spec.inputDim]);         // likelihood target x
  for (const l of spec.layers) {
    put(`act:${l.name}`, [B, l.outDim]);       // layer output (post-activation)
    put(`dact:${l.name}`, [B, l.outDim]);      // its gradient
  }
  put("eps", [B, L]);
  put("z", [B, L]);
  put("dz", [B, L]);
  put("z.in", [B, L + spec.conditionDim]);     // decoder input [z | c]
  put("dz.in", [B, L + spec.conditionDim]);
  put("nll", [B]);
  put("kl", [B]);

  let scratch = 0;
  for (const l of spec.layers) {
    scratch = Math.max(scratch, gemmScratchBytes(B, l.inDim), gemmScratchBytes(l.inDim, B), gemmScratchBytes(B, l.outDim));
  }
  put("scratch", [scratch / 4]);

  return { tensors, blocks, totalBytes: at, batch: B };
}
