// Adam / AdamW owned by the host (Kingma & Ba 2014, Alg. 1; decoupled weight
// decay per Loshchilov & Hutter 2019). The moments live in the model's arena
// (twin blocks of the parameter block); this object holds the
// hyperparameters and the step count, and runs one flat kernel per step.
import { checkFinite, checkInt, checkOptions, fail } from "../base/validate.js";
import type { AdamState } from "../base/types.js";

export type { AdamState };

/** Settings of `new Adam(options)`. */
export interface AdamOptions {
  /** Learning rate, or a schedule from the 1-based step to a rate. Default 1e-3. */
  lr?: number | ((step: number) => number);
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  beta2?: number;
  /** ε added to √v̂ in the denominator. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay λ (AdamW): θ ← θ − lr·λ·θ. Default 0 (Adam). */
  weightDecay?: number;
  /** Clip the global gradient L2 norm to this value. Default: no clipping. */
  clipNorm?: number;
}

/** @internal What the optimizer needs from a model: one update of its flat blocks with
 *  this optimizer's hyperparameters at rate lr and 1-based step t; returns the
 *  gradient norm before clipping. */
export interface OptimizerTarget {
  adamUpdate(opt: Adam, lr: number, t: number): number;
}

/** The kernel runs in float32: a value must stay what it is when rounded to
 *  f32 (β < 1, ε > 0 and not denormal, finite rates). */
export function checkAdamHyperparameters(h: { beta1: unknown; beta2: unknown; eps: unknown; weightDecay: unknown }):
    { beta1: number; beta2: number; eps: number; weightDecay: number } {
  const beta1 = checkFinite("beta1", h.beta1, { min: 0, max: 1, maxExclusive: true });
  const beta2 = checkFinite("beta2", h.beta2, { min: 0, max: 1, maxExclusive: true });
  if (Math.fround(beta1) >= 1) fail("beta1", "a number < 1 in float32 (at most 0.99999994)", beta1);
  if (Math.fround(beta2) >= 1) fail("beta2", "a number < 1 in float32 (at most 0.99999994)", beta2);
  const eps = checkFinite("eps", h.eps, { min: 1e-30, max: 1e30 });
  const weightDecay = checkFinite("weightDecay", h.weightDecay, { min: 0, max: 1e30 });
  return { beta1, beta2, eps, weightDecay };
}

/** A learning rate as the kernel can use it: finite, in [0, 1e30]. */
export function checkLearningRate(name: string, lr: unknown): number {
  return checkFinite(name, lr, { min: 0, max: 1e30 });
}

const ADAM_KEYS = ["lr", "beta1", "beta2", "eps", "weightDecay", "clipNorm"] as const;
const STATE_KEYS: readonly string[] = ["step", ...ADAM_KEYS];

/**
 * Adam (Kingma & Ba 2014, Algorithm 1), AdamW with `weightDecay`
 * (Loshchilov & Hutter 2019), optional global gradient-norm clipping and a
 * learning-rate schedule. Attach it with `vae.optimizer = new Adam({ lr })`.
 */
export class Adam {
  /** Learning rate, or a schedule from the 1-based step to a rate. */
  lr: number | ((step: number) => number);
  /** First-moment decay β1. */
  readonly beta1: number;
  /** Second-moment decay β2. */
  readonly beta2: number;
  /** ε of the denominator. */
  readonly eps: number;
  /** Decoupled weight decay λ (0: plain Adam). */
  readonly weightDecay: number;
  /** Global gradient-norm clip, or null. */
  readonly clipNorm: number | null;
  /** Steps taken (t in Algorithm 1). */
  step = 0;

  constructor(options?: AdamOptions) {
    const o = checkOptions("options", options, ADAM_KEYS);
    const lr = o.lr ?? 1e-3;
    if (typeof lr === "function") this.lr = lr;
    else this.lr = checkLearningRate("lr", lr);
    const h = checkAdamHyperparameters({ beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0 });
    this.beta1 = h.beta1; this.beta2 = h.beta2; this.eps = h.eps; this.weightDecay = h.weightDecay;
    this.clipNorm = o.clipNorm === undefined ? null : checkFinite("clipNorm", o.clipNorm, { min: 0, minExclusive: true });
  }

  /** The learning rate for the 1-based step t. */
  rate(t: number): number {
    if (typeof this.lr === "number") return this.lr;
    const r = this.lr(t);
    // the argument name is only formatted when the check fails (this runs every step)
    if (!(typeof r === "number" && r >= 0 && r <= 1e30)) checkLearningRate(`lr schedule at step ${t}`, r);
    return r;
  }

  /** @internal One update of the target's parameters from its gradients; returns the
   *  gradient norm before clipping. `lr` is rate(step + 1) when the caller
   *  already has it (a schedule is then called once per step). */
  apply(target: OptimizerTarget, lr = this.rate(this.step + 1)): number {
    const t = this.step + 1;
    const gradNorm = target.adamUpdate(this, lr, t);
    this.step = t;
    return gradNorm;
  }

  /** Hyperparameters and step count (the moments travel with the model). */
  state(): AdamState {
    return { step: this.step, lr: typeof this.lr === "number" ? this.lr : null, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, clipNorm: this.clipNorm };
  }

  /** An Adam from saved state; `schedule` restores a learning-rate schedule
   *  (which cannot be saved: state.lr is then null). */
  static fromState(s: AdamState, schedule?: (step: number) => number): Adam {
    if (s === null || typeof s !== "object" || Array.isArray(s)) fail("state", "an AdamState object (from adam.state())", s);
    for (const k of Object.keys(s)) if (!STATE_KEYS.includes(k)) fail(`state.${k.slice(0, 40)}`, `unknown field (known: ${STATE_KEYS.join(", ")})`);
    if (s.lr !== null && typeof s.lr !== "number") fail("state.lr", "a number, or null for a schedule", s.lr);
    if (s.clipNorm !== null && s.clipNorm !== undefined && typeof s.clipNorm !== "number") fail("state.clipNorm", "a number or null", s.clipNorm);
    if (schedule !== undefined && typeof schedule !== "function") fail("schedule", "a function from the 1-based step to a learning rate", schedule);
    // a schedule cannot be saved: without one, training fails at its first step with this message
    const missing = (): number => fail("lr", "the learning-rate schedule this optimizer was saved with: pass { schedule } when loading, or set vae.optimizer = Adam.fromState(state, schedule)");
    const a = new Adam({ lr: schedule ?? (s.lr === null ? missing : s.lr), beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, clipNorm: s.clipNorm ?? undefined });
    a.step = checkInt("step", s.step, 0);
    return a;
  }
}
