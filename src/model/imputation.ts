// Imputation of missing entries: E[x_miss | x_obs] under the model, three ways.
//   "miwae" (default)   self-normalized importance sampling (Mattei & Frellsen 2019)
//   "metropolis"        Metropolis-within-Gibbs (Mattei & Frellsen 2018)
//   "pseudo_gibbs"      encode → sample → decode, repeated (Rezende et al. 2014, §5.2)
// Inference.impute validates nothing itself: it hands its arguments here.
// Not here: the networks' forward passes (step.ts), the random streams (network.ts).
import type { ResolvedConfig } from "./config.js";
import type { Network } from "./network.js";
import type { Objective } from "./step.js";
import { checkCondition, checkValue } from "./rows.js";
import { NonFiniteLossError, type Rows } from "../base/types.js";
import { checkFinite, checkInt, checkOneOf, checkOptions, fail } from "../base/validate.js";
import type { Encoded, Proposal } from "../objectives/kinds.js";

const LOG_2PI = Math.log(2 * Math.PI);

/** miwae's defaults (ImputeOptions): measured on the `npm start` model
 *  (bench/results/impute-mnist.md). */
export const MIWAE_DEFAULTS = { samples: 1000, rounds: 10, proposalScale: 2, defensive: 0 } as const;

/** The imputation methods, the default first. */
export const IMPUTE_METHODS = ["miwae", "metropolis", "pseudo_gibbs"] as const;
/** An imputation method: "miwae", "metropolis" or "pseudo_gibbs". */
export type ImputeMethod = (typeof IMPUTE_METHODS)[number];
/** "pseudo-gibbs": the spelling before issue 16, a deprecated synonym of "pseudo_gibbs". */
export type DeprecatedImputeMethod = "pseudo-gibbs";

/** Options of impute (every one optional). */
export interface ImputeOptions {
  /** "miwae" (default), "metropolis" or "pseudo_gibbs" ("pseudo-gibbs", the
   *  spelling before issue 16, is a deprecated synonym). */
  method?: ImputeMethod | DeprecatedImputeMethod;
  /** miwae: importance samples per row, over all rounds (default 1000). */
  samples?: number;
  /** miwae: rounds of adaptation (default 10, at most `samples`): round r
   *  proposes from q(z | x̂) with x̂_miss the estimate of round r − 1 (the
   *  first: `initial`); the last round's samples give the result. */
  rounds?: number;
  /** miwae: the proposal's σ is the encoder's σ times this (default 2): a
   *  proposal wider than q(z|x̂) covers p(z | x_obs), which is wider than the
   *  posterior of a whole row. */
  proposalScale?: number;
  /** miwae: the fraction of the samples drawn from the prior p(z) instead of
   *  q(z|x̂), weighed by the mixture's density (defensive importance
   *  sampling, Hesterberg 1995): it bounds the weights by p(x_obs|z)/fraction
   *  where the proposal is narrower than p(z|x_obs). Default 0. */
  defensive?: number;
  /** metropolis / pseudo_gibbs: iterations (default 100 / 20). */
  iterations?: number;
  /** metropolis: iterations discarded before averaging (default a fifth). */
  burnIn?: number;
  /** Conditions (rows × conditionDim) of a conditional VAE. */
  condition?: Rows;
  /** Where missing entries start (the encoder's view of them). Default 0. */
  initial?: number;
}

/** What imputation needs of the inference module (Inference builds it; this
 *  module does not import inference.ts, which imports this one). */
export interface ImputeHost {
  readonly obj: Objective;
  readonly net: Network;
  readonly config: Readonly<ResolvedConfig>;
  encode(x: Float32Array, condition: Rows | undefined): Encoded;
  decode(z: Float32Array, condition: Rows | undefined): Float32Array;
  /** Standard normals or uniforms on [0, 1) from the evaluation stream. */
  draw(out: Float32Array, kind: "normal" | "uniform"): void;
  /** log p(z) of each row of z by the prior's module, or null for the N(0, I)
   *  prior (computed here). A prior that is the stochastic layers above z₁
   *  gives the one-sample estimate log p(z₁|z₂) + log p(z₂) − log q(z₂|z₁),
   *  z₂ drawn once per z₁ from the evaluation stream and kept with it: the
   *  methods then run on (z₁, z₂) with the proposal r(z₁)·q(z₂|z₁), whose
   *  target is p(x̂, z₁, z₂). */
  priorTerms: ((z: Float32Array) => Float64Array) | null;
}

/** Fills the entries of x where mask is 0; see VAE.impute. */
export function impute(host: ImputeHost, x: Rows, mask: ArrayLike<number | boolean>, options: ImputeOptions = {}): Float32Array {
  return host.net.keepStreams(() => {
    checkOptions("options", options, ["method", "samples", "rounds", "proposalScale", "defensive", "iterations", "burnIn", "condition", "initial"]);
    const config = host.config, D = config.inputDim;
    if (!(x instanceof Float32Array || x instanceof Float64Array || x instanceof Uint8Array || Array.isArray(x))) {
      fail("x", `a Float32Array, Uint8Array or number[] of rows × ${D} values`, x);
    }
    if (x.length === 0 || x.length % D !== 0) fail("x", `rows × ${D} values (a non-zero multiple of ${D})`, x.length);
    const rows = x.length / D;
    const cond = options.condition;
    checkCondition(config, "condition", cond, rows);
    if (!mask || typeof (mask as ArrayLike<unknown>).length !== "number") fail("mask", `an array of ${rows * D} (or ${D}) 0/1 values`, mask);
    if (mask.length !== rows * D && mask.length !== D) fail("mask", `length ${rows * D} (one per value) or ${D} (shared by all rows)`, mask.length);
    for (let i = 0; i < mask.length; i++) {
      const m = mask[i];
      if (!(m === 0 || m === 1 || m === true || m === false)) fail(`mask[${i}]`, "0/1 or a boolean (1 = observed)", m);
    }
    const method = checkOneOf("method", options.method ?? "miwae", IMPUTE_METHODS);
    if (method === "miwae") {
      for (const k of ["iterations", "burnIn"] as const) if (options[k] !== undefined) fail(k, `no ${k} with method "miwae" (it takes samples; ${k} is for "metropolis" and "pseudo_gibbs")`, options[k]);
    } else {
      for (const k of ["samples", "rounds", "proposalScale", "defensive"] as const) if (options[k] !== undefined) fail(k, `no ${k} with method "${method}" (${k} is for "miwae"; this method takes iterations)`, options[k]);
    }
    const samples = checkInt("samples", options.samples ?? MIWAE_DEFAULTS.samples, 1, 1 << 24);
    const rounds = checkInt("rounds", options.rounds ?? Math.min(MIWAE_DEFAULTS.rounds, samples), 1, samples);
    const proposalScale = checkFinite("proposalScale", options.proposalScale ?? MIWAE_DEFAULTS.proposalScale, { min: 0.01, max: 100 });
    const defensive = checkFinite("defensive", options.defensive ?? MIWAE_DEFAULTS.defensive, { min: 0, max: 1, maxExclusive: true });
    if (defensive > 0 && host.priorTerms) {
      // the defensive draws come from N(0, I); a two-level model's prior type reads "normal" but z₁'s prior is p(z₁ | z₂)
      fail("defensive", config.latents
        ? "0 with stochastic layers above the first (config.latents): the defensive draws come from N(0, I), and z₁'s prior is p(z₁ | z₂)"
        : `0 with this model's prior (${config.prior.type}): the defensive draws come from N(0, I), which is the prior only for { type: "normal" }`, defensive);
    }
    const iterations = checkInt("iterations", options.iterations ?? (method === "metropolis" ? 100 : 20), 1, 1 << 16);
    const burnIn = method === "metropolis" ? checkInt("burnIn", options.burnIn ?? Math.floor(iterations / 5), 0, iterations - 1) : 0;
    if (method === "pseudo_gibbs" && options.burnIn !== undefined) fail("burnIn", `no burnIn with method "pseudo_gibbs" (it is for "metropolis")`, options.burnIn);
    const init = options.initial ?? 0;
    checkValue(config, "initial", -1, init, true);
    const xs = x instanceof Uint8Array ? 1 / 255 : 1;
    const shared = mask.length === D;
    const obs = new Uint8Array(rows * D);
    for (let i = 0; i < rows * D; i++) { const m = mask[shared ? i % D : i]; obs[i] = m === 1 || m === true ? 1 : 0; }
    // observed entries must be valid data; missing ones are ignored (NaN is fine there)
    for (let i = 0; i < rows * D; i++) {
      if (!obs[i]) continue;
      const v = (x as ArrayLike<number>)[i];
      if (xs === 1) checkValue(config, "x", i, v, true, " (it is observed: mask 1)");
    }
    // x̂: observed entries, the missing ones at `initial`
    const cur = new Float32Array(rows * D);
    for (let i = 0; i < rows * D; i++) cur[i] = obs[i] ? (x as ArrayLike<number>)[i] * xs : init;
    const out = method === "miwae" ? miwae(host, cur, obs, cond, { samples, rounds, proposalScale, defensive })
      : method === "pseudo_gibbs" ? pseudoGibbs(host, cur, obs, cond, iterations)
      : metropolis(host, cur, obs, cond, iterations, burnIn);
    checkResult(out);
    return out;
  });
}

/**
 * Self-normalized importance sampling of E[x_miss | x_obs] (MIWAE imputation,
 * Mattei & Frellsen 2019): per row, z_k ~ r(z) for k = 1…K,
 *   log w_k = log p(x_obs | z_k) + log p(z_k) − log r(z_k)   (observed entries only)
 *   x_miss = Σ_k w̃_k · E[x_miss | z_k],  w̃ = w / Σ w,
 * a consistent estimate as K grows, for any proposal r that covers p(z | x_obs).
 * r is the encoder's q(z | x̂) with σ × proposalScale, adapted over `rounds`:
 * each round proposes from x̂ whose missing entries are the previous round's
 * estimate (the first: `initial`), and the last round's K draws give the
 * result (the samples are split evenly, the last round taking the remainder).
 * q(z | x̂) of a row whose missing entries sit at 0 describes a digit with a
 * blank half; the rounds move it to the completion, and the wider σ covers
 * p(z | x_obs), which is broader than the posterior of a whole row (measured
 * on MNIST: bench/results/impute-mnist.md). With `defensive` = α > 0, the first
 * ⌈α·K⌉ draws of each row come from the prior instead, and every weight uses
 * the mixture's density: log p(z) − log((1 − a)·q_s(z) + a·p(z)) =
 * −log((1 − a)·e^{−ρ} + a), ρ = log p(z) − log q_s(z), q_s the widened q and
 * a the realized fraction. The rows × K draws run through the decoder in
 * chunks of the arena's batch; per row a streaming log-sum-exp (running
 * maximum, rescaled sums) keeps memory at rows × D.
 */
function miwae(host: ImputeHost, cur: Float32Array, obs: Uint8Array, cond: Rows | undefined,
               o: { samples: number; rounds: number; proposalScale: number; defensive: number }): Float32Array {
  const per = Math.floor(o.samples / o.rounds);
  for (let round = 0; round < o.rounds; round++) {
    miwaeRound(host, cur, obs, cond, round < o.rounds - 1 ? per : o.samples - (o.rounds - 1) * per, o.proposalScale, o.defensive);
  }
  return cur;
}

/** One round of miwae: K draws per row from the latent family's proposal,
 *  q(z | x̂) widened by `scale` (Gaussian: σ·scale), cur's missing entries
 *  (x̂_miss) replaced by the estimate. */
function miwaeRound(host: ImputeHost, cur: Float32Array, obs: Uint8Array, cond: Rows | undefined, K: number, scale: number, defensive: number): void {
  const { obj, net, config } = host;
  const D = config.inputDim, L = config.latentDim, lik = config.likelihood;
  const rows = cur.length / D;
  const W = lik === "gaussian_learned" ? 2 * D : D;
  const logSigmaFixed = Math.log(config.sigma);
  const prop = proposalOf(host, cur, cond, scale);
  const cap = net.batch;
  const zc = new Float32Array(cap * L);
  const exOf = new Uint32Array(cap);
  const lseMax = new Float64Array(rows).fill(-Infinity), lseSum = new Float64Array(rows);
  const acc = new Float64Array(rows * D);
  const k = net.kernels.raw;
  const total = rows * K;
  const fromPrior = Math.min(K - 1, Math.ceil(defensive * K)), a = fromPrior / K;
  const logA = Math.log(a), log1mA = Math.log1p(-a);
  for (let done = 0; done < total; done += cap) {
    const B = Math.min(cap, total - done);
    if (prop.noise === "normal") k.rng_normal(net.ptr["rng.eval"], net.ptr["eps"], B * L);
    else k.rng_uniform(net.ptr["rng.eval"], net.ptr["eps"], B * L);
    let H = net.heap();
    const eps = net.ptr["eps"] >>> 2;
    for (let r = 0; r < B; r++) {
      const ex = Math.floor((done + r) / K), prior = (done + r) - ex * K < fromPrior;
      exOf[r] = ex;
      if (prior) zc.set(H.subarray(eps + r * L, eps + (r + 1) * L), r * L); // N(0, I): defensive needs the normal prior
      else prop.draw(ex, H, eps + r * L, zc, r * L);
    }
    const logp = host.priorTerms ? host.priorTerms(zc.subarray(0, B * L)) : null;
    obj.loadLatents(zc, B, 0);
    obj.loadDecoderCondition(cond, B, 0, exOf);
    obj.runDecoder(B);
    H = net.heap();
    const y = net.ptr["out"] >>> 2;
    for (let r = 0; r < B; r++) {
      const ex = exOf[r], o = y + r * W, xo = ex * D;
      // log p(x_obs | z): the observed entries only
      let lw = prop.logPriorOver(zc, r * L, ex, logp ? logp[r] : undefined);
      if (fromPrior > 0) { const u = log1mA - lw; lw = -(Math.max(u, logA) + Math.log1p(Math.exp(-Math.abs(u - logA)))); }
      for (let d = 0; d < D; d++) {
        if (!obs[xo + d]) continue;
        const v = H[o + d], t = cur[xo + d];
        if (lik === "bernoulli") lw -= Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v)));
        else {
          const ls = lik === "gaussian" ? logSigmaFixed : H[o + D + d], u = (t - v) * Math.exp(-ls);
          lw -= 0.5 * u * u + ls + 0.5 * LOG_2PI;
        }
      }
      // streaming Σ w·E[x_miss|z] and Σ w, relative to the running maximum
      let w: number;
      if (lw > lseMax[ex]) {
        const scale = Math.exp(lseMax[ex] - lw);
        lseSum[ex] *= scale;
        if (scale !== 1) for (let d = 0; d < D; d++) acc[xo + d] *= scale;
        lseMax[ex] = lw;
        w = 1;
      } else {
        w = Math.exp(lw - lseMax[ex]);
      }
      lseSum[ex] += w;
      if (w === 0) continue;
      for (let d = 0; d < D; d++) {
        if (obs[xo + d]) continue;
        const v = H[o + d];
        acc[xo + d] += w * (lik === "bernoulli" ? 1 / (1 + Math.exp(-v)) : v);
      }
    }
  }
  for (let i = 0; i < rows * D; i++) if (!obs[i]) cur[i] = acc[i] / lseSum[Math.floor(i / D)];
  checkResult(cur); // before the next round encodes it
}

/** z ~ q(z|x̂), x̂_miss = E[x_miss|z], repeated; the last iteration decodes
 *  E[z|x̂]: one plausible completion. */
function pseudoGibbs(host: ImputeHost, cur: Float32Array, obs: Uint8Array, cond: Rows | undefined, iterations: number): Float32Array {
  const D = host.config.inputDim, L = host.config.latentDim, rows = cur.length / D;
  const eps = new Float32Array(rows * L), z = new Float32Array(rows * L);
  for (let it = 0; it < iterations; it++) {
    const q = proposalOf(host, cur, cond, 1);
    if (it === iterations - 1) for (let r = 0; r < rows; r++) q.centre(r, z, r * L);
    else {
      host.draw(eps, q.noise);
      for (let r = 0; r < rows; r++) q.draw(r, eps, r * L, z, r * L);
    }
    checkResult(z, "z"); // an overflowing σ = e^(logvar/2) is the model's, not the caller's
    const rec = host.decode(z, cond);
    for (let i = 0; i < rows * D; i++) if (!obs[i]) cur[i] = rec[i];
  }
  return cur;
}

/**
 * Metropolis-within-Gibbs: z' ~ q(z|x̂) is accepted with probability
 * min(1, p(x̂|z')·p(z')·q(z|x̂) / (p(x̂|z)·p(z)·q(z'|x̂))), x̂ = (x_obs, x̂_miss);
 * then x̂_miss ~ p(x_miss|z). The chain targets p(z, x_miss | x_obs); the
 * result averages E[x_miss|z] over the iterations after burnIn.
 */
function metropolis(host: ImputeHost, cur: Float32Array, obs: Uint8Array, cond: Rows | undefined, iterations: number, burnIn: number): Float32Array {
  const D = host.config.inputDim, L = host.config.latentDim, rows = cur.length / D;
  const bern = host.config.likelihood === "bernoulli";
  const observed = cur.slice();
  const eps = new Float32Array(rows * L), z = new Float32Array(rows * L);
  let q = proposalOf(host, cur, cond, 1);
  host.draw(eps, q.noise);
  for (let r = 0; r < rows; r++) q.draw(r, eps, r * L, z, r * L);
  // the current state's decoder output and log p(x̂|z)
  const state = decodeWithLogLik(host, z, cur, cond);
  const statePrior = host.priorTerms ? host.priorTerms(z) : null;
  const zp = new Float32Array(rows * L), u = new Float32Array(Math.max(rows, rows * D));
  const acc = new Float64Array(rows * D);
  for (let it = 0; it < iterations; it++) {
    if (it > 0) q = proposalOf(host, cur, cond, 1);
    host.draw(eps, q.noise);
    for (let r = 0; r < rows; r++) q.draw(r, eps, r * L, zp, r * L);
    const prop = decodeWithLogLik(host, zp, cur, cond);
    const propPrior = host.priorTerms ? host.priorTerms(zp) : null;
    host.draw(u.subarray(0, rows), "uniform");
    for (let r = 0; r < rows; r++) {
      const logRatio = prop.logp[r] + q.logPriorOver(zp, r * L, r, propPrior?.[r])
        - (state.logp[r] + q.logPriorOver(z, r * L, r, statePrior?.[r]));
      if (Math.log(u[r]) < logRatio) {
        z.set(zp.subarray(r * L, (r + 1) * L), r * L);
        if (statePrior) statePrior[r] = propPrior![r];
        state.logp[r] = prop.logp[r];
        state.means.set(prop.means.subarray(r * D, (r + 1) * D), r * D);
        state.raw.set(prop.raw.subarray(r * D, (r + 1) * D), r * D);
        if (state.scales) state.scales.set(prop.scales!.subarray(r * D, (r + 1) * D), r * D);
      }
    }
    // x̂_miss ~ p(x_miss | z)
    if (bern) {
      host.draw(u, "uniform");
      for (let i = 0; i < rows * D; i++) if (!obs[i]) cur[i] = u[i] < state.means[i] ? 1 : 0;
    } else {
      const e = new Float32Array(rows * D);
      host.draw(e, "normal");
      for (let i = 0; i < rows * D; i++) if (!obs[i]) cur[i] = state.means[i] + state.scales![i] * e[i];
    }
    // x̂_miss changed: log p(x̂|z) of the kept z
    for (let r = 0; r < rows; r++) state.logp[r] = rowLogLik(host.config, state, cur, r);
    if (it >= burnIn) for (let i = 0; i < rows * D; i++) acc[i] += state.means[i];
  }
  const kept = iterations - burnIn;
  for (let i = 0; i < rows * D; i++) cur[i] = obs[i] ? observed[i] : acc[i] / kept;
  return cur;
}

/** The latent family's proposal from q(z | x̂) of the rows in cur. */
function proposalOf(host: ImputeHost, cur: Float32Array, cond: Rows | undefined, scale: number): Proposal {
  return host.obj.latent.proposal(host.encode(cur, cond), host.config.latentDim, host.config.latent, scale);
}

/** Results must be finite: a value that overflowed float32 (inputs or
 *  weights too large for the network) is an error, not a result. */
function checkResult(out: Float32Array, what = "result"): void {
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new NonFiniteLossError(`impute: ${what}[${i}] became ${out[i]} (float32 overflow): the inputs or the weights are too large in magnitude for this network`);
    }
  }
}

/** Decoder outputs of rows: means, raw outputs (Bernoulli logits, Gaussian
 *  log σ), σ (Gaussian) and log p(x̂|z) per row. */
interface DecodedRows {
  means: Float32Array;
  raw: Float32Array;
  scales: Float32Array | null;
  logp: Float64Array;
}

/** Decodes z (rows × L) and returns the means, raw outputs, σ and, per row,
 *  log p(x|z) over all entries (float64). */
function decodeWithLogLik(host: ImputeHost, z: Float32Array, x: Float32Array, cond: Rows | undefined): DecodedRows {
  const { obj, net, config } = host;
  const L = config.latentDim, D = config.inputDim;
  const rows = z.length / L;
  const lik = config.likelihood;
  const out: DecodedRows = { means: new Float32Array(rows * D), raw: new Float32Array(rows * D),
    scales: lik === "bernoulli" ? null : new Float32Array(rows * D), logp: new Float64Array(rows) };
  const W = lik === "gaussian_learned" ? 2 * D : D;
  const logSigma = Math.fround(Math.log(config.sigma));
  for (let start = 0; start < rows; start += net.batch) {
    const B = Math.min(net.batch, rows - start);
    obj.loadLatents(z, B, start);
    obj.loadDecoderCondition(cond, B, start, null);
    obj.runDecoder(B);
    const H = net.heap();
    const y = net.ptr["out"] >>> 2;
    for (let b = 0; b < B; b++) {
      const r = start + b;
      for (let d = 0; d < D; d++) {
        const o = y + b * W + d, i = r * D + d;
        if (lik === "bernoulli") {
          out.raw[i] = H[o];
          out.means[i] = 1 / (1 + Math.exp(-H[o]));
        } else {
          out.means[i] = H[o];
          out.raw[i] = lik === "gaussian" ? logSigma : H[o + D];
          out.scales![i] = Math.exp(out.raw[i]);
        }
      }
      out.logp[r] = rowLogLik(config, out, x, r);
    }
  }
  return out;
}

/** log p(x_r | decoder output of row r), summed over the D entries. */
function rowLogLik(config: Readonly<ResolvedConfig>, o: DecodedRows, x: Float32Array, r: number): number {
  const D = config.inputDim, bern = config.likelihood === "bernoulli";
  let lp = 0;
  for (let i = r * D; i < (r + 1) * D; i++) {
    const l = o.raw[i];
    if (bern) lp -= Math.max(l, 0) - l * x[i] + Math.log1p(Math.exp(-Math.abs(l)));
    else { const t = (x[i] - o.means[i]) * Math.exp(-l); lp -= 0.5 * t * t + l + 0.5 * LOG_2PI; }
  }
  return lp;
}
