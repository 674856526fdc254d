// The importance-weighted bound (Burda, Grosse & Salakhutdinov 2015) with
// k samples per row, negated, per row b:
//   loss_b = −log (1/k) Σ_s w_bs,  log w_bs = log p(x_b|z_bs) + β·(log p(z_bs) − log q(z_bs|x_b))
// (β = 1 is the paper's bound). Gradient by reparameterization through the
// normalized weights w̃_bs (assembly/iwae.ts): the likelihood's rows get
// w̃_bs/B, the prior and log q terms β·w̃_bs/B. With `gradient: "dreg"`
// (Tucker et al. 2018) the encoder's path through z takes w̃_bs² and q's
// direct dependence on its parameters is dropped; the decoder's gradient is
// unchanged. k = 1 is the ELBO: the step is exactly elbo's (closed-form KL
// where there is one), weights and gradients bit for bit.
import { checkInt, checkOneOf, checkOptions } from "../base/validate.js";
import { elbo } from "./elbo.js";
import type { ObjectiveKind } from "./kinds.js";

/** Largest k (a step's decoder runs on batch × k rows). */
export const IWAE_MAX_SAMPLES = 4096;

const one = (s: Record<string, unknown>) => s.samples === 1 && s.gradient !== "dreg";

export const iwae: ObjectiveKind = {
  settings(entry, at) {
    checkOptions(at, entry, ["samples", "gradient"]);
    const samples = checkInt(`${at}.samples`, entry.samples ?? 5, 1, IWAE_MAX_SAMPLES);
    const gradient = checkOneOf(`${at}.gradient`, entry.gradient ?? "iwae", ["iwae", "dreg"] as const);
    return { samples, gradient };
  },
  samples: (s) => s.samples as number,
  forward(p, s, B, beta) {
    if (one(s)) return elbo.forward(p, s, B, beta);
    const S = s.samples as number, n = B * S, c = p.c, P = c.ptr;
    p.likelihood(n, true, 1); // gradient rows scaled by w̃/B in backward
    p.latent.logq(c, B, S);
    p.prior.logp(c, n);
    c.k.iwae_forward(P["loss"], P["wts"], P["nll"], P["logp"], P["logq"], B, S, beta);
  },
  backward(p, s, B, beta) {
    if (one(s)) return elbo.backward(p, s, B, beta);
    const S = s.samples as number, n = B * S, c = p.c, P = c.ptr, k = c.k;
    const dreg = s.gradient === "dreg";
    k.iwae_backward(P["coef.a"], P["coef.c"], P["wts"], n, beta, 1 / B, dreg ? 1 : 0);
    p.scaleOutputGradient(n, P["coef.a"]);
    p.decoderBackward(n);
    if (dreg) k.rows_scale(P["dz"], P["wts"], n, c.L); // w̃/B → w̃²/B on the encoder's path
    k.fill(P["dh"], B * p.headWidth, 0);
    p.prior.logpBackward(c, n);
    p.latent.logqBackward(c, B, S, dreg);
    p.latent.sampleBackward(c, B, S);
  },
  stats(p, s, B, beta, out) {
    if (one(s)) return elbo.stats(p, s, B, beta, out);
    // loss: the batch mean of −L_k; reconstruction and kl: means over all
    // k·B samples of −log p(x|z) and log q(z|x) − log p(z)
    const S = s.samples as number, n = B * S, H = p.heap(), P = p.c.ptr;
    const loss = P["loss"] >>> 2, nll = P["nll"] >>> 2, q = P["logq"] >>> 2, lp = P["logp"] >>> 2;
    let l = 0, r = 0, kl = 0;
    for (let b = 0; b < B; b++) l += H[loss + b];
    for (let i = 0; i < n; i++) { r += H[nll + i]; kl += H[q + i] - H[lp + i]; }
    out.loss = l / B;
    out.reconstruction = r / n;
    out.kl = kl / n;
    return out;
  },
};
