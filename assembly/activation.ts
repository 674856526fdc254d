// Elementwise activations, forward and backward. Every derivative is written
// in terms of the forward OUTPUT y, so a layer keeps only its output:
//   relu       f' = [y > 0]
//   leaky_relu f' = y > 0 ? 1 : α          (0 ≤ α < 1, so sign(y) = sign(x))
//   tanh       f' = 1 − y²
//   sigmoid    f' = y·(1 − y)
//   softplus   f' = σ(x) = 1 − e^(−y)      (computed as −expm1(−y))
//   elu        f' = y > 0 ? 1 : y + α      (α > 0)
// Not here: activations whose derivative needs the input (e.g. GELU).

export const ACT_IDENTITY: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_LEAKY_RELU: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_SIGMOID: i32 = 4;
export const ACT_SOFTPLUS: i32 = 5;
export const ACT_ELU: i32 = 6;

// @ts-ignore: decorator
@inline export function sigmoidf(x: f32): f32 {
  if (x >= 0) return 1 / (1 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (1 + e);
}

// @ts-ignore: decorator
@inline export function softplusf(x: f32): f32 {
  return max<f32>(x, 0) + Mathf.log1p(Mathf.exp(-Mathf.abs(x)));
}

/** y (n) = f(x (n)); writes y (may alias x). */
export function activation_forward(y: usize, x: usize, n: i32, kind: i32, alpha: f32): void {
  let i = 0;
  if (kind == ACT_IDENTITY) {
    if (y != x) memory.copy(y, x, <usize>n << 2);
    return;
  }
  if (kind == ACT_RELU || kind == ACT_LEAKY_RELU) {
    const zero = f32x4.splat(0);
    const va = f32x4.splat(kind == ACT_RELU ? 0 : alpha);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      const v = v128.load(x + off);
      // x > 0 ? x : α·x
      v128.store(y + off, v128.bitselect(v, f32x4.mul(v, va), f32x4.gt(v, zero)));
    }
    const a: f32 = kind == ACT_RELU ? 0 : alpha;
    for (; i < n; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      store<f32>(y + (<usize>i << 2), v > 0 ? v : a * v);
    }
    return;
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const v = load<f32>(x + off);
    let r: f32;
    if (kind == ACT_TANH) r = Mathf.tanh(v);
    else if (kind == ACT_SIGMOID) r = sigmoidf(v);
    else if (kind == ACT_SOFTPLUS) r = softplusf(v);
    else if (kind == ACT_ELU) r = v > 0 ? v : alpha * Mathf.expm1(v);
    else { unreachable(); r = 0; }
    store<f32>(y + off, r);
  }
}

/** dx (n) = dy (n) ⊙ f'(x), with f' from the forward output y (n).
 *  Writes dx (may alias dy). */
export function activation_backward(dx: usize, dy: usize, y: usize, n: i32, kind: i32, alpha: f32): void {
  let i = 0;
  if (kind == ACT_IDENTITY) {
    if (dx != dy) memory.copy(dx, dy, <usize>n << 2);
    return;
  }
  if (kind == ACT_RELU || kind == ACT_LEAKY_RELU) {
    const zero = f32x4.splat(0);
    const va = f32x4.splat(kind == ACT_RELU ? 0 : alpha);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      const g = v128.load(dy + off);
      v128.store(dx + off, v128.bitselect(g, f32x4.mul(g, va), f32x4.gt(v128.load(y + off), zero)));
    }
    const a: f32 = kind == ACT_RELU ? 0 : alpha;
    for (; i < n; i++) {
      const off = <usize>i << 2;
      const g = load<f32>(dy + off);
      store<f32>(dx + off, load<f32>(y + off) > 0 ? g : a * g);
    }
    return;
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const g = load<f32>(dy + off);
    const v = load<f32>(y + off);
    let d: f32;
    if (kind == ACT_TANH) d = 1 - v * v;
    else if (kind == ACT_SIGMOID) d = v * (1 - v);
    else if (kind == ACT_SOFTPLUS) d = -Mathf.expm1(-v);
    else if (kind == ACT_ELU) d = v > 0 ? 1 : v + alpha;
    else { unreachable(); d = 0; }
    store<f32>(dx + off, g * d);
  }
}
