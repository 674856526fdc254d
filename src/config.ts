// The VAE's configuration: defaults, validation, and the layer list it implies.
import { ACTIVATIONS, type Activation } from "./wasm.js";
import type { LayerSpec, PlanSpec } from "./plan.js";
import { checkF32Range, checkInt, checkOneOf, checkOptions, fail } from "./validate.js";

export const LIKELIHOODS = ["bernoulli", "gaussian", "gaussian-learned"] as const;
export type Likelihood = (typeof LIKELIHOODS)[number];

export interface VAEConfig {
  /** Data dimension D (784 for MNIST). */
  inputDim: number;
  /** Encoder hidden sizes, input to latent; [] for none. Default [400]. */
  encoder?: number[];
  /** Latent dimension L. */
  latentDim: number;
  /** Decoder hidden sizes, latent to output. Default: the encoder reversed. */
  decoder?: number[];
  /** Hidden activation. Default "relu". */
  activation?: Activation;
  /** α of leaky_relu (default 0.01) or elu (default 1). */
  activationAlpha?: number;
  /** p(x|z): "bernoulli" on logits (default), "gaussian" with fixed `sigma`,
   *  or "gaussian-learned" (the decoder also outputs log σ per dimension). */
  likelihood?: Likelihood;
  /** σ of the fixed-σ Gaussian likelihood. Default 1. */
  sigma?: number;
  /** Width of the condition vector of a conditional VAE. Default 0. */
  conditionDim?: number;
  /** Weight β on the KL term (0 gives a plain autoencoder objective). Default 1. */
  beta?: number;
  /** Seed of weight initialisation, noise and shuffling. Default 0. */
  seed?: number;
  /** Weight initialisation: "glorot" uniform (default), "he" uniform, or
   *  "pytorch" (torch.nn.Linear's default: weights and biases U(±1/√in)). */
  init?: "glorot" | "he" | "pytorch";
  /** Rows the activations are sized for (grows on demand). Default 128. */
  maxBatch?: number;
}

export type ResolvedConfig = Required<VAEConfig>;

const MAX_WIDTH = 1 << 20;
const CONFIG_KEYS = ["inputDim", "encoder", "latentDim", "decoder", "activation", "activationAlpha", "likelihood", "sigma", "conditionDim", "beta", "seed", "init", "maxBatch"] as const;

/** Ranges in which the float32 kernels stay finite: σ of the fixed Gaussian
 *  (1/σ² and log σ), α of the activations, the KL weight β. */
export const SIGMA_MIN = 1e-6, SIGMA_MAX = 1e6;
export const ALPHA_MIN_ELU = 1e-6, ALPHA_MAX = 1e6;
export const BETA_MAX = 1e6;
/** Largest sampling temperature: |z| = temperature·|ε| ≤ 6.7e6. */
export const TEMPERATURE_MAX = 1e6;

/** β, the KL weight (config.beta or a per-step override). */
export function checkBeta(v: unknown, name = "beta"): number {
  return checkF32Range(name, v, 0, BETA_MAX);
}
/** |target| of the Gaussian likelihoods: a row's Σ (x − μ)²/σ² stays finite in float32. */
export const GAUSSIAN_TARGET_MAX = 1e8;

export function resolveConfig(c: VAEConfig): ResolvedConfig {
  if (c === null || typeof c !== "object" || Array.isArray(c)) fail("config", "an object with at least inputDim and latentDim", c);
  checkOptions("config", c, CONFIG_KEYS);
  const inputDim = checkInt("config.inputDim", c.inputDim, 1, MAX_WIDTH);
  const latentDim = checkInt("config.latentDim", c.latentDim, 1, MAX_WIDTH);
  const sizes = (name: string, v: unknown): number[] => {
    if (!Array.isArray(v)) fail(name, "an array of layer sizes (integers ≥ 1)", v);
    return v.map((s, i) => checkInt(`${name}[${i}]`, s, 1, MAX_WIDTH));
  };
  const encoder = sizes("config.encoder", c.encoder ?? [400]);
  const decoder = sizes("config.decoder", c.decoder ?? [...encoder].reverse());
  const activation = checkOneOf("config.activation", c.activation ?? "relu", ACTIVATIONS);
  const defaultAlpha = activation === "elu" ? 1 : 0.01;
  const activationAlpha = checkF32Range("config.activationAlpha", c.activationAlpha ?? defaultAlpha, 0, ALPHA_MAX);
  if (activation === "leaky_relu" && activationAlpha >= 1) fail("config.activationAlpha", "a number in [0, 1) for leaky_relu", activationAlpha);
  if (activation === "elu" && activationAlpha < ALPHA_MIN_ELU) {
    fail("config.activationAlpha", `a number in [${ALPHA_MIN_ELU}, ${ALPHA_MAX}] for elu (its backward reads the sign of α·(eˣ − 1) in float32)`, activationAlpha);
  }
  const likelihood = checkOneOf("config.likelihood", c.likelihood ?? "bernoulli", LIKELIHOODS);
  const sigma = checkF32Range("config.sigma", c.sigma ?? 1, SIGMA_MIN, SIGMA_MAX, "so (x − μ)²/σ² and log σ stay finite in float32");
  const conditionDim = checkInt("config.conditionDim", c.conditionDim ?? 0, 0, MAX_WIDTH);
  const beta = checkBeta(c.beta ?? 1, "config.beta");
  const seed = c.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) fail("config.seed", "an integer in [0, 2^53)", seed);
  const init = checkOneOf("config.init", c.init ?? "glorot", ["glorot", "he", "pytorch"] as const);
  const maxBatch = checkInt("config.maxBatch", c.maxBatch ?? 128, 1, 1 << 16);
  return { inputDim, encoder, latentDim, decoder, activation, activationAlpha, likelihood, sigma, conditionDim, beta, seed, init, maxBatch };
}

/** Layers in order: encoder.0 … encoder.{n} (the last outputs [μ | logvar]),
 *  then decoder.0 … decoder.{m} (the last outputs the likelihood parameters). */
export function layersOf(c: ResolvedConfig): { encoder: LayerSpec[]; decoder: LayerSpec[] } {
  const encDims = [c.inputDim + c.conditionDim, ...c.encoder, 2 * c.latentDim];
  const outDim = c.likelihood === "gaussian-learned" ? 2 * c.inputDim : c.inputDim;
  const decDims = [c.latentDim + c.conditionDim, ...c.decoder, outDim];
  const mk = (prefix: string, dims: number[]) =>
    dims.slice(1).map((outDim, i) => ({ name: `${prefix}.${i}`, inDim: dims[i], outDim }));
  return { encoder: mk("encoder", encDims), decoder: mk("decoder", decDims) };
}

export function planSpecOf(c: ResolvedConfig, batch: number): PlanSpec {
  const { encoder, decoder } = layersOf(c);
  return {
    layers: [...encoder, ...decoder],
    encoderIn: c.inputDim + c.conditionDim,
    inputDim: c.inputDim,
    latentDim: c.latentDim,
    conditionDim: c.conditionDim,
    outDim: decoder[decoder.length - 1].outDim,
    batch,
  };
}
