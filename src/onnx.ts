// Entry point "wasm-vae/onnx": exportModel / importModel with ONNX besides
// safetensors and TensorFlow.js. Kept apart from the main entry because the
// ONNX codec needs protobufjs, an optional peer dependency of wasm-vae
// (npm i protobufjs); the main entry's only dependency stays @assemblyscript/loader.
import { makeInterop, safetensorsCodec, tfjsCodec, type Codec, type Interop } from "./interop/index.js";
import { exportOnnx, importOnnx } from "./interop/onnx.js";

export { exportOnnx, importOnnx, OPSET } from "./interop/onnx.js";
export { detectFormat, InteropFormatError, INTEROP_FORMATS } from "./interop/index.js";
export type { Codec, ImportOptions, Interop, InteropFormat, ModelContents, ModelFiles } from "./interop/index.js";

/** ONNX: encoder.onnx and decoder.onnx (opset 13). */
export const onnxCodec: Codec = { write: exportOnnx, read: importOnnx };

const all = makeInterop({ safetensors: safetensorsCodec, tfjs: tfjsCodec, onnx: onnxCodec });
/** The model's parameters and config as the files of `format`: "safetensors", "tfjs" or "onnx". */
export const exportModel: Interop["exportModel"] = all.exportModel;
/** Config and parameters from interchange files of any of the three formats, checked throughout. */
export const readModel: Interop["readModel"] = all.readModel;
/** A new VAE from interchange files of any of the three formats; a failed import creates nothing. */
export const importModel: Interop["importModel"] = all.importModel;
