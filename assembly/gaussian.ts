// Reparameterized sampler (Kingma & Welling 2013, §2.4):
//   z = μ + exp(½·logvar)·ε,   ε ~ N(0, I) given (drawn by rng_normal).
// h (B, 2L) is the encoder head, each row [μ (L) | logvar (L)].
// Forward keeps ε, so backward is
//   dμ      += dz
//   dlogvar += ½·dz·ε·exp(½·logvar)
// Not here: drawing ε (rng.ts), the KL term (kl.ts).

/** Writes z (B, L) from h (B, 2L) and eps (B, L): the one-sample case of
 *  gaussian_sample_k_forward. */
export function gaussian_sample_forward(z: usize, h: usize, eps: usize, B: i32, L: i32): void {
  gaussian_sample_k_forward(z, h, eps, B, 1, L);
}

/** Accumulates dh (B, 2L) from dz (B, L), given h (B, 2L) and eps (B, L):
 *  the one-sample case of gaussian_sample_k_backward. */
export function gaussian_sample_backward(dh: usize, dz: usize, h: usize, eps: usize, B: i32, L: i32): void {
  gaussian_sample_k_backward(dh, dz, h, eps, B, 1, L);
}

// ---- S samples per row (importance weighting, sampled KL terms).
// Sample rows are b·S + s: z (B·S, L), eps (B·S, L), h (B, 2L).
//   z_bs = μ_b + σ_b·ε_bs
//   log q(z_bs|x_b) = −½ Σ_j ε_bsj² − ½ Σ_j logvar_bj − (L/2)·log 2π
// (z − μ)/σ = ε exactly, so under reparameterization log q depends on the
// parameters only through logvar: ∂log q/∂μ = 0, ∂log q/∂logvar_j = −½.
// With φ held fixed (DReG), log q depends on z: ∂log q/∂z = −(z − μ)/σ² = −ε/σ.

const HALF_LOG_2PI: f64 = 0.9189385332046727;

/** Writes z (B·S, L) from h (B, 2L) and eps (B·S, L). */
export function gaussian_sample_k_forward(z: usize, h: usize, eps: usize, B: i32, S: i32, L: i32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s;
      const zr = z + ((r * L) << 2), er = eps + ((r * L) << 2);
      for (let j = 0; j < L; j++) {
        const o = <usize>j << 2;
        const mu = load<f32>(hr + o);
        const lv = load<f32>(hr + o + (<usize>L << 2));
        store<f32>(zr + o, mu + Mathf.exp(0.5 * lv) * load<f32>(er + o));
      }
    }
  }
}

/** Accumulates dh (B, 2L) from dz (B·S, L): dμ += Σ_s dz_bs,
 *  dlogvar += Σ_s ½·dz_bs·ε_bs·σ_b (s in order; S = 1 is gaussian_sample_backward). */
export function gaussian_sample_k_backward(dh: usize, dz: usize, h: usize, eps: usize, B: i32, S: i32, L: i32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    const dhr = dh + ((<usize>b * 2 * L) << 2);
    const lvo = <usize>L << 2;
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s;
      const dzr = dz + ((r * L) << 2), er = eps + ((r * L) << 2);
      for (let j = 0; j < L; j++) {
        const o = <usize>j << 2;
        const g = load<f32>(dzr + o);
        const lv = load<f32>(hr + o + lvo);
        store<f32>(dhr + o, load<f32>(dhr + o) + g);
        store<f32>(dhr + o + lvo, load<f32>(dhr + o + lvo) + 0.5 * g * load<f32>(er + o) * Mathf.exp(0.5 * lv));
      }
    }
  }
}

/** Writes logq (B·S) = log q(z_bs|x_b) from h (B, 2L) and eps (B·S, L). */
export function gaussian_logq_forward(logq: usize, h: usize, eps: usize, B: i32, S: i32, L: i32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    let slv: f64 = 0;
    for (let j = 0; j < L; j++) slv += <f64>load<f32>(hr + ((<usize>(L + j)) << 2));
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s;
      const er = eps + ((r * L) << 2);
      let se: f64 = 0;
      for (let j = 0; j < L; j++) {
        const e = <f64>load<f32>(er + (<usize>j << 2));
        se += e * e;
      }
      store<f32>(logq + (r << 2), <f32>(-0.5 * se - 0.5 * slv - <f64>L * HALF_LOG_2PI));
    }
  }
}

/** The log q term's gradient with coefficients c (B·S) = ∂loss/∂log q:
 *  reparameterized (stopped = 0): dlogvar_b += −½·Σ_s c_bs into dh (B, 2L);
 *  DReG (stopped = 1): dz_bs += c_bs·(−ε_bs/σ_b) into dz (B·S, L). */
export function gaussian_logq_backward(dh: usize, dz: usize, h: usize, eps: usize, c: usize, B: i32, S: i32, L: i32, stopped: i32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    if (!stopped) {
      let cs: f32 = 0;
      for (let s = 0; s < S; s++) cs += load<f32>(c + ((<usize>b * S + s) << 2));
      const dlv = dh + ((<usize>(b * 2 * L + L)) << 2);
      for (let j = 0; j < L; j++) {
        const o = <usize>j << 2;
        store<f32>(dlv + o, load<f32>(dlv + o) - 0.5 * cs);
      }
      continue;
    }
    for (let s = 0; s < S; s++) {
      const r = <usize>b * S + s;
      const cr = load<f32>(c + (r << 2));
      const dzr = dz + ((r * L) << 2), er = eps + ((r * L) << 2);
      for (let j = 0; j < L; j++) {
        const o = <usize>j << 2;
        const invSigma = Mathf.exp(-0.5 * load<f32>(hr + o + (<usize>L << 2)));
        store<f32>(dzr + o, load<f32>(dzr + o) - cr * load<f32>(er + o) * invSigma);
      }
    }
  }
}
