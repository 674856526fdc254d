// Closed-form KL of a diagonal Gaussian to the standard normal
// (Kingma & Welling 2013, App. B), per example:
//   KL_b = ½ Σ_j (σ² + μ² − 1 − log σ²),  σ² = exp(logvar)
// h (B, 2L) rows are [μ (L) | logvar (L)]. Backward with weight w:
//   dμ      = w·μ
//   dlogvar = w·½·(exp(logvar) − 1)

/** Writes kl (B); sums in f64 in index order. */
export function kl_normal_forward(kl: usize, h: usize, B: i32, L: i32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    let s: f64 = 0;
    for (let j = 0; j < L; j++) {
      const mu = <f64>load<f32>(hr + (<usize>j << 2));
      const lv = <f64>load<f32>(hr + (<usize>(L + j) << 2));
      s += Math.exp(lv) + mu * mu - 1.0 - lv;
    }
    store<f32>(kl + (<usize>b << 2), <f32>(0.5 * s));
  }
}

/** Writes dh (B, 2L) = w·∂KL_b/∂h for every example b. */
export function kl_normal_backward(dh: usize, h: usize, B: i32, L: i32, w: f32): void {
  for (let b = 0; b < B; b++) {
    const hr = h + ((<usize>b * 2 * L) << 2);
    const dhr = dh + ((<usize>b * 2 * L) << 2);
    for (let j = 0; j < L; j++) {
      const o = <usize>j << 2;
      const lvo = <usize>(L + j) << 2;
      store<f32>(dhr + o, w * load<f32>(hr + o));
      store<f32>(dhr + lvo, w * 0.5 * (Mathf.exp(load<f32>(hr + lvo)) - 1));
    }
  }
}
