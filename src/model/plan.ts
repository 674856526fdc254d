// The memory plan: a pure function from a list of layers (and the VAE's own
// buffers) to named tensors with byte offsets (relative to the arena base) and
// shapes. It asks each layer's kind (layers/index.ts) for its parameters,
// whether its output is a buffer of its own, and its scratch. One arena holds
//   params | grads | adam.m | adam.v   four twin blocks with the same layout
//   buffers                             non-trainable tensors (batch_norm's
//                                       running statistics, saved; then its
//                                       per-step working ones): no optimizer sees them
//   rng                                 training and evaluation PRNG states
//   activations, buffers                sized for `batch` rows
//   scratch                             GEMM / im2col buffers (the largest need)
// Params come first, so a larger batch only moves the activation region up:
// parameter offsets never change for a given architecture.
import { kindOf, type LayerSpec } from "../layers/index.js";
import { gemmScratchBytes } from "../base/scratch.js";
import { checkInt, checkOptions, fail } from "../base/validate.js";
import { size } from "../base/shape.js";

export { gemmScratchBytes };
export type { LayerSpec };

/** What planMemory lays out: the layers (architectureOf(config).encoder then
 *  .decoder), the model's other per-row buffers, and the batch. */
export interface PlanSpec {
  /** Every layer, encoder then decoder: parameters in this order. */
  layers: LayerSpec[];
  /** The model's other per-row buffers, [name, floats per row], in order
   *  (after the layers' activations). */
  buffers: [string, number][];
  /** Buffers of a fixed size, [name, floats] (a learned prior's per-component
   *  terms), after the per-row ones. */
  fixed?: [string, number][];
  /** Rows the activations are sized for. */
  batch: number;
}

/** One named tensor of a MemoryPlan (float32, row-major). */
export interface TensorSpec {
  /** Byte offset from the arena base, 64-byte aligned. */
  offset: number;
  /** Its shape; activations and buffers have the batch as first dimension. */
  shape: number[];
  /** Element count (product of shape). */
  size: number;
}

/** The arena layout of a model: every tensor's offset and shape. Parameters
 *  come first, then their gradients and the Adam moments m and v (four twin
 *  blocks of the same layout), the random stream states, the activations and
 *  buffers for `batch` rows, and the scratch. */
export interface MemoryPlan {
  /** Every tensor by name: the parameters ("encoder.0.weight", …), their
   *  gradients and moments ("grad:", "m:", "v:" + name), the layers'
   *  buffers ("encoder.1.running_mean", …), "rng.train",
   *  "rng.eval", each layer's output and its gradient ("act:", "dact:" +
   *  layer name; none for flatten / reshape, which alias their input), the
   *  PlanSpec buffers, and "scratch". */
  tensors: Record<string, TensorSpec>;
  /** Byte offset and float count of each twin block (padding included). */
  blocks: {
    /** The parameters. */
    params: Block;
    /** Their gradients. */
    grads: Block;
    /** Adam's first moments. */
    m: Block;
    /** Adam's second moments. */
    v: Block;
    /** The saved non-trainable tensors (LayerSpec.buffers with `saved`),
     *  outside the twin blocks: Adam never touches them. Empty for most models. */
    buffers: Block;
  };
  /** Bytes of the whole arena (from its base). */
  totalBytes: number;
  /** Rows the activations and buffers are sized for (PlanSpec.batch). */
  batch: number;
}

/** A contiguous region of the arena. */
export interface Block {
  /** Byte offset from the arena base. */
  offset: number;
  /** Its length in floats. */
  floats: number;
}

const ALIGN = 64;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

const MAX_DIM = 1 << 24;

/** Checks a PlanSpec's structure (layers with a known kind, string names and
 *  integer shapes and parameter shapes; buffers [name, floats per row]; the
 *  batch); throws an ArgumentError naming the field. */
function checkPlanSpec(spec: PlanSpec): void {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) fail("spec", "a PlanSpec object { layers, buffers, batch }", spec);
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) fail("spec.layers", "a non-empty array of layers (architectureOf(config).encoder / .decoder)", spec.layers);
  const dims = (at: string, v: unknown) => {
    if (!Array.isArray(v) || v.length === 0) fail(at, "an array of integers ≥ 1", v);
    v.forEach((d, j) => checkInt(`${at}[${j}]`, d, 1, MAX_DIM));
  };
  spec.layers.forEach((l, i) => {
    const at = `spec.layers[${i}]`;
    if (l === null || typeof l !== "object") fail(at, "a layer object { kind, name, inShape, outShape, params, alias, … }", l);
    if (typeof l.name !== "string") fail(`${at}.name`, "a string", l.name);
    try { kindOf(l.kind); } catch { fail(`${at}.kind`, "a layer kind's name", l.kind); }
    dims(`${at}.inShape`, l.inShape);
    dims(`${at}.outShape`, l.outShape);
    if (!Array.isArray(l.params)) fail(`${at}.params`, "an array of { name, shape, init }", l.params);
    l.params.forEach((q, j) => {
      if (q === null || typeof q !== "object" || typeof q.name !== "string") fail(`${at}.params[${j}]`, "an object { name, shape, … } with a string name", q);
      dims(`${at}.params[${j}].shape`, q.shape);
    });
    if (l.buffers !== undefined) {
      if (!Array.isArray(l.buffers)) fail(`${at}.buffers`, "an array of { name, shape, init, saved } (or nothing)", l.buffers);
      l.buffers.forEach((q, j) => {
        if (q === null || typeof q !== "object" || typeof q.name !== "string") fail(`${at}.buffers[${j}]`, "an object { name, shape, init, saved } with a string name", q);
        dims(`${at}.buffers[${j}].shape`, q.shape);
        if (typeof q.init !== "number" || !Number.isFinite(q.init)) fail(`${at}.buffers[${j}].init`, "a finite number", q.init);
      });
    }
  });
  checkOptions("spec", spec, ["layers", "buffers", "batch", "fixed"]);
  if (!Array.isArray(spec.buffers)) fail("spec.buffers", "an array of [name, floats per row]", spec.buffers);
  spec.buffers.forEach((b, i) => {
    if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== "string") fail(`spec.buffers[${i}]`, "a pair [name, floats per row]", b);
    checkInt(`spec.buffers[${i}][1]`, b[1], 1, MAX_DIM);
  });
  checkInt("spec.batch", spec.batch, 1, MAX_ARENA_ROWS);
}

/** The most rows the arena's activations are planned for. */
export const MAX_ARENA_ROWS = 1 << 16;

/** Lays out the arena for `spec` (pure: no wasm). Parameter offsets depend
 *  only on the layers, never on the batch. Throws an ArgumentError naming
 *  the field of a malformed spec. */
export function planMemory(spec: PlanSpec): MemoryPlan {
  checkPlanSpec(spec);
  const tensors: Record<string, TensorSpec> = {};
  let at = 0;
  const put = (name: string, shape: number[]) => {
    const n = size(shape);
    tensors[name] = { offset: at, shape, size: n };
    at = align(at + n * 4);
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

  // Non-trainable buffers: the saved ones, then the working ones.
  const buffers = spec.layers.flatMap((l) => l.buffers ?? []);
  for (const b of buffers) if (b.saved) put(b.name, b.shape);
  const savedBlock = { offset: 4 * blockBytes, floats: (at - 4 * blockBytes) / 4 };
  for (const b of buffers) if (!b.saved) put(b.name, b.shape);

  put("rng.train", [4]);
  put("rng.eval", [4]);

  // Activations and buffers, sized for spec.batch rows.
  const B = spec.batch;
  for (const l of spec.layers) {
    if (l.alias) continue;                        // output = input (no copy)
    put(`act:${l.name}`, [B, ...l.outShape]);     // layer output (post-activation)
    put(`dact:${l.name}`, [B, ...l.outShape]);    // its gradient
  }
  for (const [name, perRow] of spec.buffers) put(name, [B, perRow]);
  for (const [name, floats] of spec.fixed ?? []) put(name, [floats]);

  let scratch = 0;
  for (const l of spec.layers) scratch = Math.max(scratch, kindOf(l.kind).scratchBytes(l, B));
  put("scratch", [scratch / 4]);

  return { tensors, blocks: { ...blocks, buffers: savedBlock }, totalBytes: at, batch: B };
}
