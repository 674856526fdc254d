// Cold-start entry for tfjs-core + tfjs-backend-wasm, one thread (bundled by
// bench/coldstart.ts); the .wasm files come from node_modules (wasmDir).
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { firstStepTf } from "./tfjs-common.js";

export async function firstStep(o: { B: number; batch: Float32Array; wasmDir: string }) {
  setWasmPaths(o.wasmDir);
  setThreadsCount(1);
  return firstStepTf("wasm", o);
}
