// Adam / AdamW owned by the host (Kingma & Ba 2014, Alg. 1; decoupled weight
// decay per Loshchilov & Hutter 2019). The moments live in the model's arena
// (twin blocks of the parameter block); this object holds the
// hyperparameters and the step count, and runs one flat kernel per step.
import { checkFinite, checkInt, fail } from "./validate.js";

export interface AdamOptions {
  /** Learning rate, or a schedule from the 1-based step to a rate. Default 1e-3. */
  lr?: number | ((step: number) => number);
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay λ (AdamW): θ ← θ − lr·λ·θ. Default 0 (Adam). */
  weightDecay?: number;
  /** Clip the global gradient L2 norm to this value. Default: no clipping. */
  clipNorm?: number;
}

export interface AdamState {
  step: number;
  lr: number | null;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clipNorm: number | null;
}

/** What the optimizer needs from a model: its flat blocks and a kernel call. */
export interface OptimizerTarget {
  adamUpdate(o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; t: number; clipNorm: number | null }): { gradNorm: number };
}

export class Adam {
  lr: number | ((step: number) => number);
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly clipNorm: number | null;
  /** Steps taken (t in Algorithm 1). */
  step = 0;

  constructor(o: AdamOptions = {}) {
    const lr = o.lr ?? 1e-3;
    if (typeof lr === "function") this.lr = lr;
    else this.lr = checkFinite("lr", lr, { min: 0 });
    this.beta1 = checkFinite("beta1", o.beta1 ?? 0.9, { min: 0, max: 1, maxExclusive: true });
    this.beta2 = checkFinite("beta2", o.beta2 ?? 0.999, { min: 0, max: 1, maxExclusive: true });
    this.eps = checkFinite("eps", o.eps ?? 1e-8, { min: 0, minExclusive: true });
    this.weightDecay = checkFinite("weightDecay", o.weightDecay ?? 0, { min: 0 });
    this.clipNorm = o.clipNorm === undefined ? null : checkFinite("clipNorm", o.clipNorm, { min: 0, minExclusive: true });
  }

  /** The learning rate for the 1-based step t. */
  rate(t: number): number {
    if (typeof this.lr === "number") return this.lr;
    const r = this.lr(t);
    if (typeof r !== "number" || !Number.isFinite(r) || r < 0) fail("lr schedule", `a finite rate ≥ 0 at step ${t}`, r);
    return r;
  }

  /** One update of the target's parameters from its gradients. */
  apply(target: OptimizerTarget): { gradNorm: number; lr: number } {
    const t = this.step + 1;
    const lr = this.rate(t);
    const { gradNorm } = target.adamUpdate({ lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, t, clipNorm: this.clipNorm });
    this.step = t;
    return { gradNorm, lr };
  }

  /** Hyperparameters and step count (the moments travel with the model). */
  state(): AdamState {
    return { step: this.step, lr: typeof this.lr === "number" ? this.lr : null, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, clipNorm: this.clipNorm };
  }

  static fromState(s: AdamState, schedule?: (step: number) => number): Adam {
    if (s.lr === null && !schedule) fail("schedule", "the lr schedule function (the saved optimizer used one)");
    const a = new Adam({ lr: schedule ?? (s.lr as number), beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, clipNorm: s.clipNorm ?? undefined });
    a.step = checkInt("step", s.step, 0);
    return a;
  }
}
