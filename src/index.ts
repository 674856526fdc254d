// wasm-vae: variational autoencoders on WebAssembly SIMD kernels.
export { VAE, NonFiniteLossError } from "./vae.js";
export type { Rows, BatchInput, StepResult, ModelState, EpochCursor, EpochSums } from "./vae.js";
export type { VAEConfig, ResolvedConfig, Likelihood, LayerConfig, LayerEntry, Padding, LatentLevelConfig, ResolvedLevel,
  ObjectiveConfig, PriorConfig, LatentConfig } from "./model/config.js";
export type { Settings } from "./objectives/kinds.js";
export { architectureOf } from "./model/architecture.js";
export type { Architecture, LevelArch } from "./model/architecture.js";
export type { LayerSpec, ParamSpec, BufferSpec, ParamInit, Draw, InitScheme, LayerActivation, LayerType, ConfigOf, ActivationLayerConfig, BatchNormLayerConfig,
  Conv2dLayerConfig, Conv2dTransposeLayerConfig, ConvLayerSettings, KernelSize, DenseLayerConfig, DropoutLayerConfig, FlattenLayerConfig, ReshapeLayerConfig } from "./layers/index.js";
export { LIKELIHOODS, entryLabel } from "./model/config.js";
export { Adam } from "./optim/adam.js";
export type { AdamOptions, AdamState } from "./optim/adam.js";
export { fit } from "./training/fit.js";
export { binarize } from "./training/binarize.js";
export { IMPUTE_METHODS } from "./model/imputation.js";
export type { ImputeMethod, ImputeOptions } from "./model/imputation.js";
export type { FitOptions, FitHistory, BatchInfo, EpochInfo, BatchSource, Trainable } from "./training/fit.js";
export { planMemory } from "./model/plan.js";
export type { MemoryPlan, TensorSpec, PlanSpec, Block } from "./model/plan.js";
export { loadKernels, relaxedSimdAvailable, resolveBuild, Kernels, ACTIVATIONS, WasmLoadError } from "./kernels/wasm.js";
export type { Build, BuildRequest, LoadOptions, Activation, Variant, Sources } from "./kernels/wasm.js";
export type { ConvGeometry, ConvKind } from "./kernels/conv-shape.js";
export { ArgumentError } from "./base/validate.js";
export { loadThreadedKernels, threadSupport, availableCores, ThreadError, MAX_THREADS, AUTO_THREADS_CAP } from "./threads/threads.js";
export type { ThreadsRequest } from "./threads/threads.js";
export { parseIdx, readIdxFile, loadIdxPair, IdxFormatError } from "./data/idx.js";
export type { IdxArray, IdxPair, IdxType, IdxData } from "./data/idx.js";
export { loadMnist, parseMnist, mnistFilePaths } from "./data/mnist.js";
export type { Mnist, MnistFilePaths, MnistSplit } from "./data/mnist.js";
export type { WasmBytes, WasmMemory, TransferList } from "./base/host-types.js";
export { encodeModel, decodeModel, crc32, ModelFormatError, FORMAT_VERSION, READ_VERSIONS } from "./persistence/io.js";
export type { FileHeader, LayerRecord } from "./persistence/io.js";
export { exportModel, importModel, readModel, detectFormat, InteropFormatError, INTEROP_FORMATS, type InteropFormat, type ModelFiles, type ImportOptions, type ModelContents, type Interop, type Codec } from "./interop/index.js";
