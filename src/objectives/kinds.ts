// What an objective, a prior and a latent family are. Each is a table entry
// (objectives/index.ts) with its own kernels; the training step (objective.ts)
// and inference call them through these interfaces and never ask which one
// runs. Sample rows: the encoder runs on B rows; each row draws S samples
// (S = 1 for the ELBO), sample row b·S + s, so z, eps, nll, logq and logp are
// (B·S, …) and the decoder runs on B·S rows.
import type { ParamSpec } from "../layers/kind.js";
import type { StepResult } from "../base/types.js";
import type { RawExports } from "../kernels/wasm.js";

/** Settings of a table entry after validation: plain JSON, `type` included. */
export type Settings = Readonly<Record<string, unknown>> & {
  /** The table entry's name (e.g. "iwae", "normal", "gaussian"). */
  readonly type: string;
};

/** Arena pointers and sizes a module call works on. */
export interface LatentContext {
  k: RawExports;
  /** Every arena tensor by name: "h" (head, B × headWidth), "dh", "eps"
   *  (B·S × noiseWidth), "z" / "dz" (B·S × L), "logq", "logp", "nll",
   *  "kl" (B), "loss" (B), "wts", "coef.a", "coef.c" (B·S), the prior's
   *  parameters and their gradients ("grad:" + name). */
  ptr: Readonly<Record<string, number>>;
  /** Code width per sample row (config.latentDim). */
  L: number;
  /** The latent family's and the prior's settings. */
  latent: Settings;
  prior: Settings;
  // ---- learned priors (prior-mixture.ts, prior-vamp.ts)
  /** The first encoder row of the prior's own rows (PriorKind.encoderRows):
   *  the B data rows come first, so the step sets it to B (the model's
   *  context has it; a sub-context of the stochastic layers does not). */
  priorRow?: number;
  /** The likelihood ("bernoulli" data lies in [0, 1]). */
  likelihood?: string;
  /** Values per encoder input row. */
  inputDim?: number;
  // ---- categorical latent (issue 18): generic step hooks
  /** Training steps taken before this one (0-based; the model's `steps`):
   *  drives schedules such as the Gumbel-softmax temperature. */
  step: number;
  /** True inside a training step (forwardBackward); false in inference, where
   *  a relaxed latent samples its exact (discrete) posterior instead. */
  training: boolean;
  /** Samples per row of the training step (the objective's S; 1 in inference). */
  samples?: number;
}

/** A latent family: q(z|x) from the encoder's head and how z is sampled. */
export interface LatentKind {
  /** Validates the user's `latent` entry (`at` names it); returns its settings. */
  settings(entry: Record<string, unknown>, at: string): Record<string, unknown>;
  /** The code width when config.latentDim is omitted (e.g. variables × classes),
   *  or null when latentDim is required. */
  impliedLatentDim(s: Settings): number | null;
  /** Encoder head outputs per row (Gaussian: [μ | log σ²], 2L). */
  headWidth(L: number, s: Settings): number;
  /** Random numbers per sample row. */
  noiseWidth(L: number, s: Settings): number;
  /** Which priors it pairs with (names in PRIORS). */
  priors: readonly string[];
  /** Writes eps for `rows` sample rows from the stream at `rng`. */
  drawNoise(c: LatentContext, rng: number, rows: number): void;
  /** z (B·S rows) from the head and eps. */
  sample(c: LatentContext, B: number, S: number): void;
  /** Accumulates into dh the gradient that flows back from dz (B·S rows). */
  sampleBackward(c: LatentContext, B: number, S: number): void;
  /** logq (B·S) = log q(z|x) of each sample row. */
  logq(c: LatentContext, B: number, S: number): void;
  /** The gradient of Σ c_r·log q_r (c at "coef.c"): into dh, or, with
   *  `stopped` (q's parameters held fixed, DReG), into dz. */
  logqBackward(c: LatentContext, B: number, S: number, stopped: boolean): void;
  /** Closed-form KL(q(z|x) ‖ p(z)) for this prior, when there is one. */
  closedKL?(prior: Settings): boolean;
  /** kl (B) in closed form (only when closedKL(prior)). */
  kl?(c: LatentContext, B: number): void;
  /** Writes dh = w·∂KL/∂h (only when closedKL(prior)). */
  klBackward?(c: LatentContext, B: number, w: number): void;
  // ---- categorical latent (issue 18): generic optional hooks
  /** Throws an ArgumentError (naming `at`) for an objective it cannot train
   *  with (given its own settings too). */
  checkObjective?(objective: Settings, at: string, latent: Settings): void;
  /** encode's result from the head rows h (rows × headWidth); absent: the
   *  Gaussian split [μ | log σ²]. */
  encodeRows?(h: Float32Array, rows: number, L: number, s: Settings): { mean: Float32Array; logvar: Float32Array; logits?: Float32Array };
  /** A code per row from the head rows: the posterior's mode (draw null) or
   *  one draw z ~ q(z|x); absent: the Gaussian's μ or μ + σ·ε. */
  codeOf?(h: Float32Array, rows: number, L: number, s: Settings, draw: Draw | null): Float32Array;
  /** Settings that only drive training (not the weights' meaning): a model
   *  may load a file that differs in them (VAE.load keeps its own). */
  trainingSettings?: readonly string[];
  /** What imputation draws z from: q(z | x̂) from encode's result for the
   *  rows x̂ (rows × L each), widened by `scale` (imputation.ts). */
  proposal(enc: Encoded, L: number, s: Settings, scale: number): Proposal;
  /** Public methods or options it does not support: key ("impute",
   *  "interpolate.spherical", "sample.temperature") → what is expected
   *  instead and why (the text of the ArgumentError). */
  refuses?: Readonly<Record<string, string>>;
}

/** encode's result: rows × L each (a categorical latent adds its logits). */
export interface Encoded { mean: Float32Array; logvar: Float32Array; logits?: Float32Array }

/** A proposal r(z) per data row, built from q(z | x̂) (LatentKind.proposal). */
export interface Proposal {
  /** The noise a draw takes, L values, from the evaluation stream. */
  noise: "normal" | "uniform";
  /** Writes a draw z ~ r(· | row ex) at z[zo … zo+L) from the noise at e[eo …]. */
  draw(ex: number, e: ArrayLike<number>, eo: number, z: Float32Array, zo: number): void;
  /** log p(z) − log r(z | row ex), up to a constant shared by every z of the
   *  call: `logp` is the prior module's log p(z) when given, else the
   *  family's own prior's (N(0, I); uniform) is used. */
  logPriorOver(z: ArrayLike<number>, zo: number, ex: number, logp?: number): number;
  /** Writes row ex's representative code at z[zo …] (Gaussian: μ; categorical: the mode). */
  centre(ex: number, z: Float32Array, zo: number): void;
}

/** A prior p(z). */
export interface PriorKind {
  settings(entry: Record<string, unknown>, at: string): Record<string, unknown>;
  /** Its learned parameters (none for N(0, I)), named `prior.<…>`, with their
   *  initialisation; they live in the parameter block like a layer's. */
  params(L: number, inputDim: number, s: Settings): ParamSpec[];
  /** logp (n) = log p(z) for n sample rows. */
  logp(c: LatentContext, n: number): void;
  /** dz += c_r·(−∂log p/∂z_r) (c at "coef.c") and, for learned priors,
   *  the gradients of its parameters (written). */
  logpBackward(c: LatentContext, n: number): void;
  /** A prior with random numbers of its own (the stochastic layers above the
   *  first: ε_i of q(z_i | z_{i−1})) draws them for `rows` sample rows after
   *  the latent family's: "eps" holds [the latent's rows × noiseWidth | its
   *  own rows × its width] (objective.ts calls it after latent.drawNoise). */
  drawNoise?(c: LatentContext, rng: number, rows: number): void;
  /** n draws z ~ p(z) (n × L), scaled by `temperature` around the prior's
   *  centre, from `draw` (the evaluation stream) and the current weights;
   *  `priorHeads` runs the encoder on the prior's own rows (encoderRows) and
   *  returns their head rows (encoderRows × headWidth). */
  sample(n: number, L: number, s: Settings, temperature: number, draw: Draw, weights: () => Record<string, Float32Array>,
         priorHeads?: () => Float32Array, latent?: Settings): Float32Array; // latent: the latent family's settings (a structured code's shape)
  // ---- hooks of learned priors (all optional; N(0, I) has none)
  /** Per-row arena buffers it needs, [name, floats per row] (rows: the
   *  arena's, ≥ B·S sample rows): e.g. the responsibilities (K per row). */
  buffers?(L: number, s: Settings): [string, number][];
  /** Arena buffers of a fixed size it needs, [name, floats]. */
  fixedBuffers?(L: number, s: Settings): [string, number][];
  /** Encoder rows it runs after the B data rows (the VampPrior's K
   *  pseudo-inputs): the encoder runs on B + encoderRows rows, its head rows
   *  B.. are the prior's, and logp/logpBackward read and write them (dh rows
   *  B.. are the prior's to write). 0 when absent. */
  encoderRows?(s: Settings): number;
  /** Writes its encoder input rows c.priorRow.. (before the encoder's forward). */
  loadEncoderRows?(c: LatentContext): void;
  /** After the encoder's backward: the gradient that reached its input rows
   *  ("dx.in" rows c.priorRow..) into its parameters' gradients (written). */
  encoderRowsBackward?(c: LatentContext): void;
}

/** Standard normals or uniforms on [0, 1) from the evaluation stream. */
export type Draw = (out: Float32Array, kind: "normal" | "uniform") => void;

/** What an objective drives: the parts of the step around it. */
export interface StepParts {
  c: LatentContext;
  latent: LatentKind;
  prior: PriorKind;
  /** −log p(x|z) of `rows` decoder rows into "nll"; with `grad`, also its
   *  gradient (scaled by w) into the decoder's output gradient. */
  likelihood(rows: number, grad: boolean, w: number): void;
  /** Scales the decoder's output gradient rows by the per-row weights at `coef`. */
  scaleOutputGradient(rows: number, coef: number): void;
  /** Backward through the decoder: from its output gradient to dz (rows). */
  decoderBackward(rows: number): void;
  /** The arena as floats (re-read after any call that may grow memory). */
  heap(): Float32Array;
  /** Encoder head outputs per row (the latent family's headWidth). */
  headWidth: number;
}

/** An objective: the per-row loss over S samples and its gradient. */
export interface ObjectiveKind {
  settings(entry: Record<string, unknown>, at: string): Record<string, unknown>;
  /** Samples per row in training (S). */
  samples(s: Settings): number;
  /** After the decoder's forward on B·S rows: writes "nll" (and the
   *  likelihood's gradient where it is known now), "loss" (B) and "kl" (B:
   *  the KL term reported, closed-form or log q − log p). */
  forward(p: StepParts, s: Settings, B: number, beta: number): void;
  /** Writes dh (the encoder head's gradient) and every decoder and prior
   *  gradient; the step then runs the encoder's backward. */
  backward(p: StepParts, s: Settings, B: number, beta: number): void;
  /** The batch means reported for the step (after forward): loss, the
   *  reconstruction term −log p(x|z) and the KL term. */
  stats(p: StepParts, s: Settings, B: number, beta: number, out: StepResult): StepResult;
}
