// The VampPrior's pseudo-inputs (Tomczak & Welling 2018): K learned rows u_k
// that the encoder runs on every step; the mixture of its posteriors there is
// the prior (its log p(z) is prior-mixture.ts with equal weights, reading the
// encoder head's rows in place). As in the paper's code for binary and gray
// data, a pseudo-input is its parameter through hardtanh(0, 1) (`clamp` = 1);
// unbounded data uses the parameter itself (`clamp` = 0):
//   u = min(max(P, 0), 1)        du/dP = 1 on (0, 1), 0 outside
// Elementwise and cheap (K·D floats): one thread.

/** Writes x (n) = the pseudo-inputs from their parameter P (n). */
export function vamp_pseudo_forward(x: usize, P: usize, n: i32, clamp: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(P + o);
    store<f32>(x + o, clamp ? min<f32>(max<f32>(p, 0), 1) : p);
  }
}

/** Writes dP (n) = dx·du/dP: the gradient that reached the encoder's input
 *  rows of the pseudo-inputs, through the clamp. */
export function vamp_pseudo_backward(dP: usize, dx: usize, P: usize, n: i32, clamp: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(P + o);
    store<f32>(dP + o, !clamp || (p > 0 && p < 1) ? load<f32>(dx + o) : 0);
  }
}
