// The standard normal prior p(z) = N(0, I). Kernels: assembly/prior.ts.
import { checkOptions } from "../base/validate.js";
import type { PriorKind } from "./kinds.js";

export const normal: PriorKind = {
  settings(entry, at) {
    checkOptions(at, entry, []);
    return {};
  },
  params: () => [],
  logp(c, n) {
    c.k.normal_logp_forward(c.ptr["logp"], c.ptr["z"], n, c.L);
  },
  logpBackward(c, n) {
    c.k.normal_logp_backward(c.ptr["dz"], c.ptr["z"], c.ptr["coef.c"], n, c.L);
  },
  sample(n, L, _s, temperature, draw) {
    const z = new Float32Array(n * L);
    draw(z, "normal");
    for (let i = 0; i < z.length; i++) z[i] *= temperature;
    return z;
  },
};
