// wasm-vae: variational autoencoders on WebAssembly SIMD kernels.
// The main entry: what a library user needs (the model, its config types,
// training, data, errors, save/load and interchange). The low-level pieces
// (kernels, memory planner, model-file codec) are in "wasm-vae/kernels".
import type { VAE } from "./vae.js";
import type { Rows } from "./base/types.js";
import { fit as fitModel, type BatchSource, type FitHistory, type FitOptions } from "./training/fit.js";

export { VAE, NonFiniteLossError } from "./vae.js";
export type { Rows, BatchInput, StepResult, ModelState, EpochCursor, EpochSums } from "./vae.js";
export type { VAEConfig, ResolvedConfig, Likelihood, DeprecatedLikelihood, LayerConfig, LayerEntry, Padding, LatentLevelConfig, ResolvedLevel,
  ObjectiveConfig, PriorConfig, LatentConfig } from "./model/config.js";
export type { Settings } from "./objectives/kinds.js";
export { architectureOf } from "./model/architecture.js";
export type { Architecture, LevelArch } from "./model/architecture.js";
export type { LayerSpec, ParamSpec, BufferSpec, ParamInit, Draw, InitScheme, LayerActivation, LayerType, ConfigOf, ActivationLayerConfig, BatchNormLayerConfig,
  Conv2dLayerConfig, Conv2dTransposeLayerConfig, ConvLayerSettings, KernelSize, DenseLayerConfig, DropoutLayerConfig, FlattenLayerConfig, ReshapeLayerConfig } from "./layers/index.js";
export { LIKELIHOODS } from "./model/config.js";
export { INIT_SCHEMES } from "./layers/index.js";
export { Adam } from "./optim/adam.js";
export type { AdamOptions, AdamState } from "./optim/adam.js";
export { binarize } from "./training/binarize.js";
export { IMPUTE_METHODS } from "./model/imputation.js";
export type { ImputeMethod, DeprecatedImputeMethod, ImputeOptions } from "./model/imputation.js";
export type { FitOptions, FitHistory, BatchInfo, EpochInfo, BatchSource } from "./training/fit.js";
export { relaxedSimdAvailable, ACTIVATIONS, WasmLoadError } from "./kernels/wasm.js";
export type { Build, BuildRequest, LoadOptions, Activation } from "./kernels/wasm.js";
export { ArgumentError, OPTION_SYNONYMS } from "./base/validate.js";
export { threadSupport, availableCores, ThreadError, MAX_THREADS, AUTO_THREADS_CAP } from "./threads/threads.js";
export type { ThreadsRequest } from "./threads/threads.js";
export { parseIdx, readIdxFile, loadIdxPair, IdxFormatError } from "./data/idx.js";
export type { IdxArray, IdxPair, IdxType, IdxData } from "./data/idx.js";
export { loadMnist, parseMnist, mnistFilePaths } from "./data/mnist.js";
export type { Mnist, MnistFilePaths, MnistSplit } from "./data/mnist.js";
export type { WasmBytes, WasmMemory, TransferList } from "./base/host-types.js";
export { ModelFormatError } from "./persistence/io.js";
export { exportModel, importModel, readModel, detectFormat, InteropFormatError, INTEROP_FORMATS, type InteropFormat, type ModelFiles, type ImportOptions, type ModelContents, type Interop, type Codec, type InteropSubject } from "./interop/index.js";

/**
 * Trains `model`: epochs over in-memory rows (Float32Array, Float64Array,
 * number[], or Uint8Array scaled by 1/255) with seeded shuffles, or over a
 * stream of batches (an iterable, async iterable, or a function returning
 * one per epoch). Same as `vae.fit(data, options)`.
 */
export function fit(model: VAE, data: Rows | BatchSource | (() => BatchSource), options?: FitOptions): Promise<FitHistory> {
  return fitModel(model, data, options);
}
