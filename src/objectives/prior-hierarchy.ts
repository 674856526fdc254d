// Stochastic layers above the first (Burda, Grosse & Salakhutdinov 2015, §5:
// x → z₁ → z₂), seen from the level below as its prior. Level i ≥ 2 has an
// encoder network with a Gaussian head, q(z_i | z_{i−1}) = N(μ, diag σ²), and
// a decoder network with a Gaussian head, p(z_{i−1} | z_i); the top level's
// prior is N(0, I). For the level below, this module is a PriorKind whose
// log p is the one-sample estimate, per sample row r (one z_i per z_{i−1}):
//   log p̂(z_{i−1}) = log p(z_{i−1}|z_i) + log p(z_i) − log q(z_i|z_{i−1}),
//   z_i = μ_i(z_{i−1}) + σ_i(z_{i−1})·ε_i
// (log p(z_i) is the next level's estimate, or N(0, I) at the top). So the
// objectives (elbo, iwae) run unchanged on
//   log w = log p(x|z₁) + log p(z₁|z₂) + log p(z₂) − log q(z₁|x) − log q(z₂|z₁)
// and the ELBO's KL term is this sampled estimate (no closed form is used).
// Backward with the objective's coefficients c_r on (log q − log p̂):
//   −c·log p(z_{i−1}|z_i): assembly/hierarchy.ts → dz_{i−1}, the decoder
//     head's gradient; the decoder's backward → its weights and dz_i
//   −c·log p(z_i): the level above (or N(0, I)) → dz_i
//   +c·log q(z_i|z_{i−1}) and the path through z_i: the Gaussian latent's
//     kernels → the encoder head's gradient; its backward → its weights and
//     the gradient it sends to z_{i−1}, added into dz_{i−1}.
// Random numbers: "eps" holds [ε₁ (rows × L₁) | ε₂ (rows × L₂) | …] for the
// rows of a call. Not here: the networks' layers (architecture.ts, network.ts).
import type { Layer } from "../layers/kind.js";
import type { RawExports } from "../kernels/wasm.js";
import { gaussian } from "./latent-gaussian.js";
import type { LatentContext, PriorKind, Settings } from "./kinds.js";

/** What the levels need of the arena (network.ts's Network). */
export interface LevelNetwork {
  readonly ptr: Record<string, number>;
  readonly levels: { enc: Layer[]; dec: Layer[] }[];
  readonly batch: number;
  readonly kernels: { raw: RawExports };
  forward(layers: Layer[], B: number): void;
  backward(layers: Layer[], B: number): void;
  heap(): Float32Array;
}

/** The settings the level below sees as its prior's (never a closed-form KL). */
export const HIERARCHY_PRIOR: Settings = Object.freeze({ type: "hierarchy" });
const GAUSSIAN: Settings = Object.freeze({ type: "gaussian" });

/** The prior of z₁ for levels of widths `sizes` (z₁ first), on `net`; `top`
 *  is p(z_top) with its settings. */
export function hierarchyPrior(net: LevelNetwork, sizes: readonly number[], top: PriorKind, topSettings: Settings): PriorKind {
  return levelPrior(net, sizes, 2, top, topSettings);
}

function levelPrior(net: LevelNetwork, sizes: readonly number[], i: number, top: PriorKind, topSettings: Settings): PriorKind {
  const isTop = i === sizes.length;
  const above = isTop ? top : levelPrior(net, sizes, i + 1, top, topSettings);
  const aboveSettings = isTop ? topSettings : HIERARCHY_PRIOR;
  const L = sizes[i - 1], Lb = sizes[i - 2], name = `level${i}`;
  let before = 0; // noise floats per row before ε_i
  for (let j = 0; j < i - 1; j++) before += sizes[j];
  const lv = () => net.levels[i - 2];
  const head = (ls: Layer[]) => ls[ls.length - 1];
  // level i's context: its head, ε_i, z_i, log q, log p(z_i), the coefficients
  const sub = (c: LatentContext, rows: number): LatentContext => {
    const P = net.ptr, e = head(lv().enc);
    return {
      k: c.k, L, latent: GAUSSIAN, prior: aboveSettings, step: c.step, training: c.training, // issue 18
      ptr: {
        h: e.y, dh: e.dy, eps: P["eps"] + 4 * rows * before, z: P[`${name}.z`], dz: P[`${name}.dz`],
        logq: P[`${name}.logq`], logp: P[`${name}.logp`], "coef.c": c.ptr["coef.c"],
      },
    };
  };
  return {
    settings(_e, at) {
      throw new Error(`wasm-vae: ${at}: the stochastic layers' prior is not a config entry (a bug: please report it)`);
    },
    params: () => [],
    drawNoise(c, rng, rows) {
      c.k.rng_normal(rng, net.ptr["eps"] + 4 * rows * before, rows * L);
      above.drawNoise?.(sub(c, rows), rng, rows);
    },
    logp(c, n) {
      const k = c.k, P = net.ptr, s = sub(c, n), d = head(lv().dec);
      net.forward(lv().enc, n);                 // q(z_i | z_{i−1}) head
      gaussian.sample(s, n, 1);                 // z_i
      gaussian.logq(s, n, 1);                   // log q(z_i | z_{i−1})
      above.logp(s, n);                         // log p(z_i)
      net.forward(lv().dec, n);                 // p(z_{i−1} | z_i) head
      k.gaussian_cond_logp_forward(P[`${name}.cond`], c.ptr["z"], d.y, n, Lb);
      k.hierarchy_logp_combine(c.ptr["logp"], P[`${name}.cond`], P[`${name}.logp`], P[`${name}.logq`], n);
    },
    logpBackward(c, n) {
      const k = c.k, P = net.ptr, s = sub(c, n), e = head(lv().enc), d = head(lv().dec);
      k.gaussian_cond_logp_backward(c.ptr["dz"], d.dy, c.ptr["z"], d.y, c.ptr["coef.c"], n, Lb);
      net.backward(lv().dec, n);                // writes dz_i and the decoder's gradients
      above.logpBackward(s, n);                 // dz_i += −c·∂log p(z_i)/∂z_i
      k.fill(e.dy, n * 2 * L, 0);
      gaussian.sampleBackward(s, n, 1);         // the path through z_i
      gaussian.logqBackward(s, n, 1, false);    // +c·log q(z_i | z_{i−1})
      net.backward(lv().enc, n);                // writes level.dx and the encoder's gradients
      k.axpy(c.ptr["dz"], P[`${name}.dx`], n * Lb, 1);
    },
    sample(n, _L, _s, temperature, draw, weights) {
      // ancestral: z_top ~ p(z_top), then z_{j−1} = μ + temperature·σ·ε under
      // p(z_{j−1} | z_j), down to this level's z_{i−1}
      const zTop = top.sample(n, sizes[sizes.length - 1], topSettings, temperature, draw, weights);
      let z = zTop;
      for (let j = sizes.length; j >= i; j--) z = stepDown(net, j, sizes, z, n, temperature, draw);
      return z;
    },
  };
}

/** z_{j−1} (n × L_{j−1}) drawn from p(z_{j−1} | z_j) for n rows of z_j, in
 *  chunks of the arena's rows. */
function stepDown(net: LevelNetwork, j: number, sizes: readonly number[], z: Float32Array, n: number, t: number,
                  draw: (out: Float32Array, kind: "normal" | "uniform") => void): Float32Array {
  const L = sizes[j - 1], Lb = sizes[j - 2], l = net.levels[j - 2], d = l.dec[l.dec.length - 1];
  const out = new Float32Array(n * Lb), eps = new Float32Array(n * Lb);
  draw(eps, "normal");
  const cap = net.batch;
  for (let start = 0; start < n; start += cap) {
    const B = Math.min(cap, n - start);
    net.heap().set(z.subarray(start * L, (start + B) * L), net.ptr[`level${j}.z`] >>> 2);
    net.forward(l.dec, B);
    const H = net.heap(), h = d.y >>> 2;
    for (let b = 0; b < B; b++) {
      for (let q = 0; q < Lb; q++) {
        const r = start + b;
        out[r * Lb + q] = H[h + b * 2 * Lb + q] + t * Math.exp(0.5 * H[h + b * 2 * Lb + Lb + q]) * eps[r * Lb + q];
      }
    }
  }
  return out;
}
