// Dropout (Srivastava et al. 2014), inverted as in Keras and PyTorch: during
// training each value is kept with probability 1 − rate and scaled by
// 1/(1 − rate), so inference is the identity. The mask comes from uniforms u
// the host draws from the model's kernel (training) stream:
//   keep_i = u_i ≥ rate,   out_i = keep_i ? in_i·scale : 0.
// Forward (out = y, in = x) and backward (out = dx, in = dy, the same u) are
// the same map: ∂y_i/∂x_i = keep_i·scale.
// Split over threads by ranges of 16 values: a value's result depends only on
// its own u_i, so any split gives the same bits.
// Not here: drawing u (rng.ts), keeping it between forward and backward
// (src/layers/dropout.ts replays the stream).

import { argPtr, arg, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

/** out (n) = [u (n) ≥ rate] ⊙ in (n) · scale; writes out (may alias in). */
export function dropout_apply(out: usize, inp: usize, u: usize, n: i32, rate: f32, scale: f32): void {
  if (!shouldSplit(<f64>n)) {
    dropoutRange(out, inp, u, n, rate, scale);
    return;
  }
  setArg(0, <f64>out); setArg(1, <f64>inp); setArg(2, <f64>u); setArg(3, rate); setArg(4, scale);
  parallelFor(applyTask, rangeTasks(n, 16));
}

function applyTask(t: i32, _scratch: usize): i32 {
  const i0 = rangeStart(t), o = <usize>i0 << 2;
  dropoutRange(argPtr(0) + o, argPtr(1) + o, argPtr(2) + o, rangeEnd(t) - i0, <f32>arg(3), <f32>arg(4));
  return 0;
}

function dropoutRange(out: usize, inp: usize, u: usize, n: i32, rate: f32, scale: f32): void {
  const vr = f32x4.splat(rate), vs = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const keep = f32x4.ge(v128.load(u + o), vr);
    v128.store(out + o, v128.and(f32x4.mul(v128.load(inp + o), vs), keep));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(u + o) >= rate ? load<f32>(inp + o) * scale : 0);
  }
}
