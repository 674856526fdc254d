// Cold-start entry for tfjs-core + tfjs-backend-cpu (bundled by bench/coldstart.ts).
import "@tensorflow/tfjs-backend-cpu";
import { firstStepTf } from "./tfjs-common.js";

export function firstStep(o: { B: number; batch: Float32Array }) {
  return firstStepTf("cpu", o);
}
