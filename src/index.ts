// wasm-vae: variational autoencoders on WebAssembly SIMD kernels.
export { VAE, NonFiniteLossError } from "./model.js";
export type { Rows, BatchInput, StepResult, ModelState, EpochCursor } from "./model.js";
export type { VAEConfig, ResolvedConfig, Likelihood } from "./config.js";
export { LIKELIHOODS } from "./config.js";
export { Adam } from "./adam.js";
export type { AdamOptions, AdamState } from "./adam.js";
export { fit } from "./fit.js";
export type { FitOptions, FitHistory, BatchInfo, EpochInfo, BatchSource } from "./fit.js";
export { planMemory } from "./plan.js";
export type { MemoryPlan, TensorSpec, PlanSpec } from "./plan.js";
export { loadKernels, relaxedSimdAvailable, resolveBuild, Kernels, ACTIVATIONS } from "./wasm.js";
export type { Build, BuildRequest, LoadOptions, Activation } from "./wasm.js";
export { ArgumentError } from "./validate.js";
export { loadThreadedKernels, threadSupport, availableCores, ThreadError, MAX_THREADS, AUTO_THREADS_CAP } from "./threads.js";
export type { ThreadsRequest } from "./threads.js";
export { parseIdx, readIdxFile, loadIdxPair, IdxFormatError } from "./data/idx.js";
export { loadMnist, parseMnist, mnistFilePaths } from "./data/mnist.js";
export { encodeModel, decodeModel, crc32, ModelFormatError, FORMAT_VERSION } from "./io.js";
