// Entry point "wasm-vae/onnx": exportModel / importModel with ONNX besides
// safetensors and TensorFlow.js. Kept apart from the main entry because the
// ONNX codec needs protobufjs, an optional peer dependency of wasm-vae
// (npm i protobufjs); the main entry's only dependency stays @assemblyscript/loader.
import { makeInterop, safetensorsCodec, tfjsCodec, type Codec } from "./interop/index.js";
import { exportOnnx, importOnnx } from "./interop/onnx.js";

export { exportOnnx, importOnnx, OPSET } from "./interop/onnx.js";
export { detectFormat, InteropFormatError, INTEROP_FORMATS } from "./interop/index.js";
export type { ImportOptions, InteropFormat, ModelFiles } from "./interop/index.js";

export const onnxCodec: Codec = { write: exportOnnx, read: importOnnx };

export const { exportModel, importModel, readModel } = makeInterop({ safetensors: safetensorsCodec, tfjs: tfjsCodec, onnx: onnxCodec });
