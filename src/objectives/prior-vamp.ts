// The VampPrior (Tomczak & Welling 2018): the mixture of the encoder's own
// posteriors at K learned pseudo-inputs u_k,
//   p(z) = (1/K) Σ_k q(z | u_k).
// Parameter prior.pseudo_inputs (K, D) ~ N(0.05, 0.01²) (the paper's code's
// default, pseudoinputs_mean / _std); for Bernoulli data each pseudo-input is
// its parameter through hardtanh(0, 1), as in that code, so it stays in the
// data's range (other likelihoods use it as is).
// Every step the encoder runs on B + K rows: the data rows, then the
// pseudo-inputs (loadEncoderRows), so the head rows B..B+K−1 are the
// components (μ_k, log σ²_k) and log p(z) reads them in place
// (assembly/prior-mixture.ts with equal weights). Its backward writes dh for
// those rows; one encoder backward then carries both paths into the encoder's
// weights, and the gradient reaching the input rows B.. is the pseudo-inputs'
// (encoderRowsBackward, through the clamp: assembly/prior-vamp.ts).
// No closed-form KL: the objective uses log q(z|x) − log p(z) of the sample.
import type { ParamSpec } from "../layers/kind.js";
import { checkOptions } from "../base/validate.js";
import type { LatentContext, PriorKind, Settings } from "./kinds.js";
import { componentsOf } from "./prior-mixture.js";

const K = (s: Settings) => s.components as number;
const clamp = (c: LatentContext) => c.likelihood === "bernoulli";
/** Byte offset of encoder row r in a buffer of `width` floats per row. */
const row = (r: number | undefined, width: number) => 4 * (r ?? 0) * width;

export const vamp: PriorKind = {
  settings(entry, at) {
    checkOptions(at, entry, ["components"]);
    return { components: componentsOf(entry, at, 500) };
  },
  params(_L, D, s): ParamSpec[] {
    return [{ name: "prior.pseudo_inputs", shape: [K(s), D], init: { normal: [0.05, 0.01] } }];
  },
  buffers: (_L, s) => [["prior.resp", K(s)]],
  fixedBuffers: (L, s) => [["prior.prep", K(s) * (L + 1)]],
  encoderRows: (s) => K(s),
  loadEncoderRows(c) {
    const p = c.ptr, D = c.inputDim!;
    c.k.vamp_pseudo_forward(p["x.in"] + row(c.priorRow, D), p["prior.pseudo_inputs"], K(c.prior) * D, clamp(c) ? 1 : 0);
  },
  encoderRowsBackward(c) {
    const p = c.ptr, D = c.inputDim!;
    c.k.vamp_pseudo_backward(p["grad:prior.pseudo_inputs"], p["dx.in"] + row(c.priorRow, D), p["prior.pseudo_inputs"], K(c.prior) * D, clamp(c) ? 1 : 0);
  },
  // the components: head rows priorRow.. = [μ_k (L) | log σ²_k (L)]
  logp(c, n) {
    const p = c.ptr, L = c.L, mu = p["h"] + row(c.priorRow, 2 * L);
    c.k.prior_mixture_logp_forward(p["logp"], p["prior.resp"], p["prior.prep"], p["z"], mu, mu + 4 * L, 2 * L, 0, n, K(c.prior), L);
  },
  logpBackward(c, n) {
    const p = c.ptr, L = c.L, mu = p["h"] + row(c.priorRow, 2 * L), dmu = p["dh"] + row(c.priorRow, 2 * L);
    c.k.prior_mixture_logp_backward(p["dz"], dmu, dmu + 4 * L, 0, p["z"], mu, p["prior.prep"], 2 * L, 0, p["prior.resp"], p["coef.c"], n, K(c.prior), L);
  },
  // k uniform, then z ~ q(z|u_k) with σ scaled by the temperature
  sample(n, L, s, temperature, draw, _weights, priorHeads) {
    if (!priorHeads) throw new Error("wasm-vae: the VampPrior samples through the encoder (a bug: please report it)");
    const h = priorHeads(), k = K(s);
    const u = new Float32Array(n), z = new Float32Array(n * L);
    draw(u, "uniform");
    draw(z, "normal");
    for (let i = 0; i < n; i++) {
      const c = Math.min(k - 1, Math.floor(u[i] * k)), hr = c * 2 * L;
      for (let j = 0; j < L; j++) z[i * L + j] = h[hr + j] + temperature * Math.exp(0.5 * h[hr + L + j]) * z[i * L + j];
    }
    return z;
  },
};
