// The evidence lower bound with one reparameterized sample per row
// (Kingma & Welling 2013, eq. 10, negated), per row b:
//   loss_b = −log p(x_b|z_b) + β·KL_b
// KL_b in closed form where the latent family has one for the prior
// (Gaussian q, N(0, I) p: assembly/kl.ts); otherwise the single-sample
// estimate KL_b ≈ log q(z_b|x_b) − log p(z_b) (Tomczak & Welling 2018).
// Gradients with the batch mean (1/B): the likelihood's with weight 1/B; the
// closed-form KL's with β/B; the sampled KL's through z (prior) and the head
// (log q) with coefficients c_b = β/B.
import { checkOptions } from "../base/validate.js";
import type { ObjectiveKind, StepParts } from "./kinds.js";

/** Whether the KL term of this step is in closed form. */
export const closedForm = (p: StepParts): boolean => p.latent.closedKL?.(p.c.prior) === true;

export const elbo: ObjectiveKind = {
  settings(entry, at) {
    checkOptions(at, entry, []);
    return {};
  },
  samples: () => 1,
  forward(p, _s, B) {
    p.likelihood(B, true, 1 / B);
    if (closedForm(p)) {
      p.latent.kl!(p.c, B);
      return;
    }
    p.latent.logq(p.c, B, 1);
    p.prior.logp(p.c, B);
    const H = p.heap(), q = p.c.ptr["logq"] >>> 2, lp = p.c.ptr["logp"] >>> 2, kl = p.c.ptr["kl"] >>> 2;
    for (let b = 0; b < B; b++) H[kl + b] = H[q + b] - H[lp + b];
  },
  backward(p, _s, B, beta) {
    p.decoderBackward(B);
    const c = p.c, k = c.k;
    if (closedForm(p)) {
      p.latent.klBackward!(c, B, beta / B); // writes dh
      p.latent.sampleBackward(c, B, 1);
      return;
    }
    k.fill(c.ptr["coef.c"], B, beta / B);
    k.fill(c.ptr["dh"], B * p.headWidth, 0);
    p.prior.logpBackward(c, B);
    p.latent.sampleBackward(c, B, 1);
    p.latent.logqBackward(c, B, 1, false);
  },
  stats(p, _s, B, beta, out) {
    const H = p.heap(), nll = p.c.ptr["nll"] >>> 2, kl = p.c.ptr["kl"] >>> 2;
    let r = 0, q = 0;
    for (let b = 0; b < B; b++) { r += H[nll + b]; q += H[kl + b]; }
    out.reconstruction = r / B;
    out.kl = q / B;
    out.loss = out.reconstruction + beta * out.kl;
    return out;
  },
};
