// The standard normal prior p(z) = N(0, I) on sample rows z (n, L):
//   log p(z) = −½ Σ_j z_j² − (L/2)·log 2π          (f64 sums, index order)
// Backward with per-row coefficients c (n), c_r = ∂loss/∂(log q − log p)_r:
//   dz_r += c_r·z_r                                 (−c_r·∂log p/∂z = c_r·z)
// Learned priors (mixture, VampPrior) are modules of their own.

const HALF_LOG_2PI: f64 = 0.9189385332046727;

/** Writes logp (n) for z (n, L). */
export function normal_logp_forward(logp: usize, z: usize, n: i32, L: i32): void {
  for (let r = 0; r < n; r++) {
    const zr = z + ((<usize>r * L) << 2);
    let s: f64 = 0;
    for (let j = 0; j < L; j++) {
      const v = <f64>load<f32>(zr + (<usize>j << 2));
      s += v * v;
    }
    store<f32>(logp + (<usize>r << 2), <f32>(-0.5 * s - <f64>L * HALF_LOG_2PI));
  }
}

/** Adds c_r·z_r to dz (n, L). */
export function normal_logp_backward(dz: usize, z: usize, c: usize, n: i32, L: i32): void {
  for (let r = 0; r < n; r++) {
    const cr = load<f32>(c + (<usize>r << 2));
    const zr = z + ((<usize>r * L) << 2), dr = dz + ((<usize>r * L) << 2);
    for (let j = 0; j < L; j++) {
      const o = <usize>j << 2;
      store<f32>(dr + o, load<f32>(dr + o) + cr * load<f32>(zr + o));
    }
  }
}
