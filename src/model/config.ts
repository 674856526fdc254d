// The VAE's configuration: defaults and validation. The networks it implies
// are built by architecture.ts.
import { LAYER_KINDS, listedKind, type LayerActivation, type LayerConfig } from "../layers/index.js";
import { INIT_SCHEMES, type InitScheme } from "../layers/init.js";
import { LATENTS, OBJECTIVES, PRIORS, type Settings } from "../objectives/index.js";
import { ACTIVATIONS, type Activation } from "../kernels/wasm.js";
import { checkF32Range, checkInt, checkOneOf, checkOptions, fail } from "../base/validate.js";
import { size } from "../base/shape.js";

/** Every decoder likelihood p(x|z) a config may name (VAEConfig.likelihood). */
export const LIKELIHOODS = ["bernoulli", "gaussian", "gaussian_learned"] as const;
/** A likelihood name: one of {@link LIKELIHOODS}. "bernoulli" reads the
 *  decoder's output as logits (targets in [0, 1]); "gaussian" as means with
 *  the config's fixed σ; "gaussian_learned" as means and log σ per dimension. */
export type Likelihood = (typeof LIKELIHOODS)[number];
/** "gaussian-learned": the spelling before issue 16, a deprecated synonym of
 *  "gaussian_learned" (model files saved before carry it; they load as they are). */
export type DeprecatedLikelihood = "gaussian-learned";

/** Padding of a convolution: "same", "valid", p on every side, or
 *  [top, bottom, left, right]. */
export type { Padding } from "../kernels/conv-shape.js";
/** One layer of an encoder or decoder list, derived from the table of layer
 *  kinds (layers/index.ts; see the README's "Layers"). A bare number n in a
 *  list means { type: "dense", units: n }. `activation` defaults to the
 *  config's `activation`. */
export type { LayerConfig } from "../layers/index.js";

/** A bare number (a dense layer of that many units) or a layer object. */
export type LayerEntry = number | LayerConfig;

/** A model's configuration (VAE.create). Only `latentDim` (or `latents`) and `inputDim` (or
 *  `inputShape`) are required; every other field has the default it states.
 *  Checked by VAE.create, which throws an ArgumentError naming the field. */
export interface VAEConfig {
  /** Data dimension D (784 for MNIST): the floats of one row. May be omitted
   *  when `inputShape` is given. */
  inputDim?: number;
  /** Shape of one input row: (D) for flat data, NHWC (H, W, C) for images
   *  (a row is then H·W·C floats, channels last). Default [inputDim]. */
  inputShape?: number[];
  /** Encoder layers, input to the Gaussian head; [] for none. Default [400]. */
  encoder?: LayerEntry[];
  /** Latent dimension L (the code's width). Required for the Gaussian
   *  latent (unless `latents` gives it); omitted for a categorical one
   *  (variables × classes). */
  latentDim?: number;
  /** Decoder layers, latent to output. Default: the encoder reversed (bare
   *  numbers only; required when the encoder lists layer objects). */
  decoder?: LayerEntry[];
  /** Hidden activation. Default "relu" ("linear", Keras' name, is "identity"). */
  activation?: LayerActivation;
  /** α of leaky_relu (default 0.01) or elu (default 1). */
  activationAlpha?: number;
  /** p(x|z): "bernoulli" on logits (default), "gaussian" with fixed `sigma`,
   *  or "gaussian_learned" (the decoder also outputs log σ per dimension;
   *  "gaussian-learned" is a deprecated synonym). */
  likelihood?: Likelihood | DeprecatedLikelihood;
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
  init?: InitScheme;
  /** Rows the activations are sized for (grows on demand). Default 128. */
  maxBatch?: number;
  /** The training objective: { type: "elbo" } (default) or { type: "iwae",
   *  samples: k, gradient?: "iwae" | "dreg" } (README "Objectives"). */
  objective?: ObjectiveConfig;
  /** The prior p(z): { type: "normal" } (N(0, I), the Gaussian's default),
   *  { type: "mixture", components: K }, { type: "vamp", components: K }, or
   *  { type: "uniform" } (the categorical latent's). */
  prior?: PriorConfig;
  /** The latent family q(z|x): { type: "gaussian" } (default) or
   *  { type: "categorical", variables, classes, temperature?, straightThrough? }. */
  latent?: LatentConfig;
  /** Stochastic layers (README "Two stochastic layers"), from x upwards:
   *  entry i's `encoder` maps the level below (x for the first) to z_i,
   *  `size` is z_i's width and its `decoder` maps z_i back to the level
   *  below. Replaces `encoder` / `latentDim` / `decoder` (one entry is exactly
   *  the one-level model they describe). */
  latents?: LatentLevelConfig[];
}

/** One stochastic layer of VAEConfig.latents. */
export interface LatentLevelConfig {
  /** Layers from the level below (x, or z_{i−1}) to the Gaussian head of
   *  q(z_i | level below). Default [400] for the first level; required above. */
  encoder?: LayerEntry[];
  /** Width of z_i (an integer ≥ 1). */
  size: number;
  /** Layers from z_i to the level below: for the first level to the
   *  likelihood's output, above to the Gaussian head [μ | log σ²] of
   *  p(z_{i−1} | z_i). Default: the encoder reversed (bare numbers only). */
  decoder?: LayerEntry[];
}

/** A level of ResolvedConfig.latents: every field checked and filled in. */
export interface ResolvedLevel {
  /** The level's encoder layers (checked). */
  encoder: LayerEntry[];
  /** Width of z_i. */
  size: number;
  /** The level's decoder layers (checked; the default filled in). */
  decoder: LayerEntry[];
}

/** VAEConfig.objective: which bound training maximizes. */
export type ObjectiveConfig =
  | {
    /** The evidence lower bound, one reparameterized sample per row. */
    type: "elbo";
  }
  | {
    /** The importance-weighted bound L_k (Burda et al. 2015). */
    type: "iwae";
    /** k, the importance samples per row (default 5; k = 1 is the ELBO). */
    samples?: number;
    /** "iwae" (default): reparameterized through the normalized weights;
     *  "dreg": doubly reparameterized (Tucker et al. 2018). */
    gradient?: "iwae" | "dreg";
  };

/** VAEConfig.prior: the prior over the latent code. */
export type PriorConfig = {
  /** The standard normal N(0, I). */
  type: "normal";
} | {
  /** A learned mixture of K diagonal Gaussians (parameters prior.means,
   *  prior.logvars, prior.logits). */
  type: "mixture";
  /** K, the number of components (default 10). */
  components?: number;
} | {
  /** The VampPrior (Tomczak & Welling 2018): the mixture of the encoder's
   *  posteriors at K learned pseudo-inputs (parameter prior.pseudo_inputs). */
  type: "vamp";
  /** K, the number of pseudo-inputs (default 500). */
  components?: number;
} | {
  /** Uniform over the classes of each variable of a categorical latent
   *  (its only prior, and its default). */
  type: "uniform";
};

/** VAEConfig.latent: the family of q(z|x). */
export type LatentConfig =
  | {
    /** A diagonal Gaussian (the encoder outputs μ and log σ²). */
    type: "gaussian";
  }
  | {
    /** `variables` categorical variables of `classes` classes each, trained
     *  through the Gumbel-softmax relaxation (Jang et al. 2017); the code is
     *  variables × classes wide (omit `latentDim`). README "Discrete latents". */
    type: "categorical";
    /** N, the number of categorical variables (an integer ≥ 1). */
    variables: number;
    /** K, the classes of each variable (an integer ≥ 2). */
    classes: number;
    /** τ = max(min, initial·exp(−rate·t)) at training step t (steps taken).
     *  Defaults: initial 1, min 0.5 (or initial, if smaller), rate 3e-5. */
    temperature?: {
      /** τ0, the temperature at step 0 (in [0.001, 1000]; default 1). */
      initial?: number;
      /** τ_min, the floor (in [0.001, initial]; default 0.5, or initial if smaller). */
      min?: number;
      /** r, the decay rate per step (in [0, 1]; default 3e-5). */
      rate?: number;
    };
    /** Forward the one-hot argmax, backward through the relaxed sample
     *  (straight-through Gumbel-softmax). Default false. */
    straightThrough?: boolean;
  };

/** A VAEConfig with every default filled in and every value checked
 *  (VAE.config; what a model file stores). */
export type ResolvedConfig = Required<Omit<VAEConfig, "objective" | "prior" | "latent" | "latents" | "activation">> & {
  /** The hidden activation (Keras' "linear" resolved to "identity"). */
  activation: Activation;
  /** The objective's settings, `type` included, defaults filled in. */
  objective: ObjectiveConfig & Settings;
  /** The prior's settings. */
  prior: PriorConfig & Settings;
  /** The latent family's settings. */
  latent: LatentConfig & Settings;
  /** Present with two or more stochastic layers: every level, the first
   *  repeated in `encoder` / `latentDim` / `decoder`. Absent for one level. */
  latents?: ResolvedLevel[];
};

const MAX_WIDTH = 1 << 20;
const CONFIG_KEYS = ["inputDim", "inputShape", "encoder", "latentDim", "decoder", "activation", "activationAlpha", "likelihood", "sigma", "conditionDim", "beta", "seed", "init", "maxBatch", "objective", "prior", "latent", "latents"] as const;

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

/** A short label of a list entry: "400" for a dense layer (number or object),
 *  "conv2d(32)", "conv2d_transpose(1)", "flatten", "reshape(7×7×64)". */
export function entryLabel(e: LayerEntry): string {
  if (typeof e === "number") return String(e);
  switch (e.type) {
    case "dense": return String(e.units);
    case "conv2d": case "conv2d_transpose": return `${e.type}(${e.filters})`;
    case "reshape": return `reshape(${e.shape.join("×")})`;
    default: return e.type;
  }
}

/** Checks one list entry: a bare number stays a number; an object becomes
 *  { type, ...the kind's normalized settings, activation? }. */
function layerEntry(at: string, e: unknown): LayerEntry {
  if (typeof e === "number") return checkInt(at, e, 1, MAX_WIDTH);
  if (e === null || typeof e !== "object" || Array.isArray(e)) fail(at, `a layer size (integer ≥ 1) or a layer object { type: ${Object.keys(LAYER_KINDS).map((k) => JSON.stringify(k)).join(" | ")}, … }`, e);
  const { type, activation, ...rest } = e as Record<string, unknown>;
  const kind = listedKind(type);
  if (!kind) fail(`${at}.type`, `one of ${Object.keys(LAYER_KINDS).map((k) => JSON.stringify(k)).join(", ")}`, type);
  const out: Record<string, unknown> = { type, ...kind.settings(rest, at) };
  if (activation !== undefined) {
    if (!kind.activates) fail(`${at}.activation`, `no activation on a ${type} layer`, activation);
    // Keras' "linear" is our "identity"
    out.activation = activation === "linear" ? "identity" : checkOneOf(`${at}.activation`, activation, [...ACTIVATIONS, "linear"]);
  }
  return out as unknown as LayerConfig;
}

function layerList(name: string, v: unknown): LayerEntry[] {
  if (!Array.isArray(v)) fail(name, "an array of layer sizes (integers ≥ 1) or layer objects", v);
  return v.map((e, i) => layerEntry(`${name}[${i}]`, e));
}

export function resolveConfig(c: VAEConfig): ResolvedConfig {
  if (c === null || typeof c !== "object" || Array.isArray(c)) fail("config", "an object with at least inputDim (or inputShape) and latentDim", c);
  checkOptions("config", c, CONFIG_KEYS);
  let inputDim: number, inputShape: number[];
  if (c.inputShape !== undefined) {
    const s = c.inputShape as unknown;
    if (!Array.isArray(s) || (s.length !== 1 && s.length !== 3)) fail("config.inputShape", "[D] or NHWC [H, W, C] (integers ≥ 1)", s);
    inputShape = s.map((d, i) => checkInt(`config.inputShape[${i}]`, d, 1, MAX_WIDTH));
    inputDim = size(inputShape);
    if (inputDim > MAX_WIDTH) fail("config.inputShape", `at most ${MAX_WIDTH} values per row`, inputDim);
    if (c.inputDim !== undefined && c.inputDim !== inputDim) fail("config.inputDim", `${inputDim} (the size of inputShape [${inputShape.join(", ")}]) or nothing`, c.inputDim);
  } else {
    inputDim = checkInt("config.inputDim", c.inputDim, 1, MAX_WIDTH);
    inputShape = [inputDim];
  }
  const objective = tableEntry("config.objective", c.objective, OBJECTIVES, "elbo") as ResolvedConfig["objective"];
  const latent = tableEntry("config.latent", c.latent, LATENTS, "gaussian") as ResolvedConfig["latent"];
  const latentKind = LATENTS[latent.type];
  // issue 18: the default prior is the latent family's first (gaussian: normal; categorical: uniform)
  const prior = tableEntry("config.prior", c.prior, PRIORS, latentKind.priors[0]) as ResolvedConfig["prior"];
  latentKind.checkObjective?.(objective, "config.objective", latent);
  if (!latentKind.priors.includes(prior.type)) {
    fail("config.prior.type", `a prior the ${latent.type} latent pairs with (${latentKind.priors.map((p) => JSON.stringify(p)).join(", ")})`, prior.type);
  }
  if (objective.gradient === "dreg" && prior.type !== "normal") {
    fail("config.objective.gradient", `"iwae" with a learned prior (DReG's weights apply to the encoder's path; a learned prior's parameters would need the plain IWAE weights)`, "dreg");
  }
  const levels = c.latents === undefined ? null : latentLevels(c, objective, prior, latent);
  let latentDim: number, encoder: LayerEntry[], decoder: LayerEntry[];
  if (levels) {
    ({ encoder, size: latentDim, decoder } = levels[0]);
    const implied = latentKind.impliedLatentDim(latent);
    if (implied !== null && implied !== latentDim) fail("config.latents[0].size", `${implied} (what the ${latent.type} latent implies)`, latentDim);
  } else {
    const implied = latentKind.impliedLatentDim(latent);
    if (implied === null) latentDim = checkInt("config.latentDim", c.latentDim, 1, MAX_WIDTH);
    else {
      if (c.latentDim !== undefined && c.latentDim !== implied) fail("config.latentDim", `${implied} (what the ${latent.type} latent implies) or nothing`, c.latentDim);
      latentDim = implied;
    }
    encoder = layerList("config.encoder", c.encoder ?? [400]);
    if (c.decoder === undefined && encoder.some((e) => typeof e !== "number")) {
      fail("config.decoder", "a decoder layer list (it is required when the encoder lists layer objects)");
    }
    decoder = layerList("config.decoder", c.decoder ?? [...encoder].reverse());
  }
  const activation = c.activation === "linear" ? "identity" : checkOneOf("config.activation", c.activation ?? "relu", ACTIVATIONS);
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
  const init = checkOneOf("config.init", c.init ?? "glorot", INIT_SCHEMES);
  const maxBatch = checkInt("config.maxBatch", c.maxBatch ?? 128, 1, 1 << 16);
  if (levels && levels.length > 1 && conditionDim > 0) {
    fail("config.conditionDim", "0 with two or more stochastic layers (config.latents): a conditional hierarchy is not supported", conditionDim);
  }
  const out: ResolvedConfig = { inputDim, inputShape, encoder, latentDim, decoder, activation, activationAlpha, likelihood, sigma, conditionDim, beta, seed, init, maxBatch, objective, prior, latent };
  if (levels && levels.length > 1) out.latents = levels;
  return out;
}

/** Most stochastic layers a config may list. */
export const MAX_LEVELS = 8;

/** Checks config.latents. The first level's lists and size are also allowed
 *  in config.encoder / latentDim / decoder only when they are exactly the
 *  same (as VAE.config shows them); any other value is refused. */
function latentLevels(c: VAEConfig, objective: Settings, prior: Settings, latent: Settings): ResolvedLevel[] {
  const v = c.latents as unknown;
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_LEVELS) fail("config.latents", `a list of 1 to ${MAX_LEVELS} stochastic layers { encoder, size, decoder }`, v);
  const levels = v.map((e, i): ResolvedLevel => {
    const at = `config.latents[${i}]`;
    if (e === null || typeof e !== "object" || Array.isArray(e)) fail(at, "an object { encoder: [...], size: n, decoder: [...] }", e);
    checkOptions(at, e, ["encoder", "size", "decoder"]);
    const l = e as LatentLevelConfig;
    if (i > 0 && l.encoder === undefined) fail(`${at}.encoder`, "a layer list (e.g. [100, 100]) from the level below to this level's Gaussian head");
    const encoder = layerList(`${at}.encoder`, l.encoder ?? [400]);
    const size = checkInt(`${at}.size`, l.size, 1, MAX_WIDTH);
    if (l.decoder === undefined && encoder.some((x) => typeof x !== "number")) fail(`${at}.decoder`, "a decoder layer list (it is required when the encoder lists layer objects)");
    const decoder = layerList(`${at}.decoder`, l.decoder ?? [...encoder].reverse());
    return { encoder, size, decoder };
  });
  const first = levels[0];
  const same: [keyof VAEConfig, unknown][] = [["encoder", first.encoder], ["latentDim", first.size], ["decoder", first.decoder]];
  for (const [key, want] of same) {
    const given = c[key];
    if (given !== undefined && JSON.stringify(key === "latentDim" ? given : layerList(`config.${key}`, given)) !== JSON.stringify(want)) {
      fail(`config.${key}`, `nothing with config.latents (config.latents[0] gives the first level's ${key === "latentDim" ? "size" : key})`, given);
    }
  }
  if (levels.length > 1) {
    const why = "with two or more stochastic layers (config.latents)";
    if (latent.type !== "gaussian") fail("config.latent.type", `"gaussian" ${why}: every level is a diagonal Gaussian`, latent.type);
    if (prior.type !== "normal") fail("config.prior.type", `"normal" ${why}: the top level's prior is N(0, I), the others are the levels' p(z_i | z_{i+1})`, prior.type);
    if (objective.gradient === "dreg") fail("config.objective.gradient", `"iwae" ${why}: DReG is not implemented for stochastic layers`, "dreg");
  }
  return levels;
}

/** Resolves a table entry ({ type, …settings }) of an objective, prior or
 *  latent family: the default's settings when omitted. */
function tableEntry(name: string, v: unknown, table: Readonly<Record<string, { settings(e: Record<string, unknown>, at: string): Record<string, unknown> }>>, def: string): Settings {
  const names = Object.keys(table).map((k) => JSON.stringify(k)).join(", ");
  if (v === undefined) return Object.freeze({ type: def, ...table[def].settings({}, name) });
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(name, `an object { type: ${names.replace(/, /g, " | ")}, … }`, v);
  const { type, ...rest } = v as Record<string, unknown>;
  if (typeof type !== "string" || !Object.prototype.hasOwnProperty.call(table, type)) fail(`${name}.type`, `one of ${names}`, type);
  return Object.freeze({ type, ...table[type].settings(rest, name) });
}
