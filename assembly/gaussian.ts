// Reparameterized sampler (Kingma & Welling 2013, §2.4):
//   z = μ + exp(½·logvar)·ε,   ε ~ N(0, I) given (drawn by rng_normal).
// h (B, 2L) is the encoder head, each row [μ (L) | logvar (L)].
// Forward keeps ε, so backward is
//   dμ      += dz
//   dlogvar += ½·dz·ε·exp(½·logvar)
// Not here: drawing ε (rng.ts), the KL term (kl.ts).

/** Writes z (B, L) from h (B, 2L) and eps (B, L). */
export function gaussian_sample_forward(z: usize, h: usize, eps: usize, B: i32, L: i32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    const zr = z + ((<usize>b * L) << 2);
    const er = eps + ((<usize>b * L) << 2);
    for (let j = 0; j < L; j++) {
      const o = <usize>j << 2;
      const mu = load<f32>(hr + o);
      const lv = load<f32>(hr + o + (<usize>L << 2));
      store<f32>(zr + o, mu + Mathf.exp(0.5 * lv) * load<f32>(er + o));
    }
  }
}

/** Accumulates dh (B, 2L) from dz (B, L), given h (B, 2L) and eps (B, L). */
export function gaussian_sample_backward(dh: usize, dz: usize, h: usize, eps: usize, B: i32, L: i32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    const dhr = dh + ((<usize>b * 2 * L) << 2);
    const dzr = dz + ((<usize>b * L) << 2);
    const er = eps + ((<usize>b * L) << 2);
    const lvo = <usize>L << 2;
    for (let j = 0; j < L; j++) {
      const o = <usize>j << 2;
      const g = load<f32>(dzr + o);
      const lv = load<f32>(hr + o + lvo);
      store<f32>(dhr + o, load<f32>(dhr + o) + g);
      store<f32>(dhr + o + lvo, load<f32>(dhr + o + lvo) + 0.5 * g * load<f32>(er + o) * Mathf.exp(0.5 * lv));
    }
  }
}
