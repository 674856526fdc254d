// Entry point "wasm-vae/kernels": the low-level pieces under the VAE class,
// for benchmarks, tests and code that drives the kernels itself. A library
// user needs none of them (the main entry "wasm-vae" has the model, training,
// data, persistence and interchange); they are kept apart so the main entry
// shows the supported API and these can change between minor versions.
// - the wasm kernels: Kernels (checked wrappers of every kernel), loadKernels,
//   loadThreadedKernels (the same on a shared memory with a thread pool),
//   resolveBuild, the build variants and convolution geometry types;
// - the memory planner of the arena (planMemory and its types);
// - the model file's codec (encodeModel / decodeModel, crc32, the versions);
// - entryLabel, the short label of a layer-list entry the CLI prints.
export { loadKernels, resolveBuild, Kernels } from "./kernels/wasm.js";
export type { Variant, Sources } from "./kernels/wasm.js";
export type { ConvGeometry, ConvKind } from "./kernels/conv-shape.js";
export { loadThreadedKernels } from "./threads/threads.js";
export { planMemory } from "./model/plan.js";
export type { MemoryPlan, TensorSpec, PlanSpec, Block } from "./model/plan.js";
export { encodeModel, decodeModel, crc32, FORMAT_VERSION, READ_VERSIONS } from "./persistence/io.js";
export type { FileHeader, LayerRecord } from "./persistence/io.js";
export { entryLabel } from "./model/config.js";
