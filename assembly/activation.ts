// Elementwise activations, forward and backward. Every derivative is written
// in terms of the forward OUTPUT y, so a layer keeps only its output:
//   relu       f' = [y > 0]
//   leaky_relu f' = y > 0 ? 1 : α          (0 ≤ α < 1, so sign(y) = sign(x))
//   tanh       f' = 1 − y²
//   sigmoid    f' = y·(1 − y)
//   softplus   f' = σ(x) = 1 − e^(−y)      (a series in y for y < 0.1)
//   elu        f' = y > 0 ? 1 : y + α      (α > 0)
// All lanes, the n % 4 tail included, use exp4/log1p01x4 (simd.ts).
// Not here: activations whose derivative needs the input (e.g. GELU).

import { exp4, log1p01x4 } from "./simd";
import { argInt, argPtr, arg, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";
import { addInto } from "./vector";

export const ACT_IDENTITY: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_LEAKY_RELU: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_SIGMOID: i32 = 4;
export const ACT_SOFTPLUS: i32 = 5;
export const ACT_ELU: i32 = 6;

/** tanh per lane: Cephes tanhf's odd polynomial for |x| < 0.625, else
 *  sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|). */
// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const ax = f32x4.abs(x);
  const e = exp4(f32x4.mul(ax, f32x4.splat(-2)));
  const one = f32x4.splat(1);
  const big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  // copy the sign of x onto big
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const signed = v128.or(big, sign);
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

// Split over threads by ranges of 16 elements: a value's result never
// depends on its position, so any split gives the same bits.
// Work units for shouldSplit: a multiply-add ≈ 1, an exp ≈ 8.
// @ts-ignore: decorator
@inline function work(n: i32, kind: i32): f64 {
  return <f64>n * (kind == ACT_RELU || kind == ACT_LEAKY_RELU || kind == ACT_IDENTITY ? 1 : 8);
}

/** y (n) = f(x (n)); writes y (may alias x). */
export function activation_forward(y: usize, x: usize, n: i32, kind: i32, alpha: f32): void {
  if (!shouldSplit(work(n, kind))) {
    activationForwardRange(y, x, n, kind, alpha);
    return;
  }
  setArg(0, <f64>y); setArg(1, <f64>x); setArg(2, kind); setArg(3, alpha);
  parallelFor(forwardTask, rangeTasks(n, 16));
}

function forwardTask(t: i32, _scratch: usize): i32 {
  const i0 = rangeStart(t), o = <usize>i0 << 2;
  activationForwardRange(argPtr(0) + o, argPtr(1) + o, rangeEnd(t) - i0, argInt(2), <f32>arg(3));
  return 0;
}

/** dx (n) = dy (n) ⊙ f'(x), with f' from the forward output y (n).
 *  Writes dx (may alias dy). */
export function activation_backward(dx: usize, dy: usize, y: usize, n: i32, kind: i32, alpha: f32): void {
  if (!shouldSplit(work(n, kind))) {
    activationBackwardRange(dx, dy, y, n, kind, alpha);
    return;
  }
  setArg(0, <f64>dx); setArg(1, <f64>dy); setArg(2, <f64>y); setArg(3, kind); setArg(4, alpha);
  parallelFor(backwardTask, rangeTasks(n, 16));
}

function backwardTask(t: i32, _scratch: usize): i32 {
  const i0 = rangeStart(t), o = <usize>i0 << 2;
  activationBackwardRange(argPtr(0) + o, argPtr(1) + o, argPtr(2) + o, rangeEnd(t) - i0, argInt(3), <f32>arg(4));
  return 0;
}

/** The backward of a layer's activation and bias in one pass over dy:
 *  g = dy (rows, n) ⊙ f'(y (rows, n)), written over dy, and db (n) [+]= Σ_r g[r, :]
 *  (rows added in order; db written when !accumulate). Split by column
 *  ranges: each column's sum is one thread's, in row order, so the bits are
 *  those of activation_backward then add_rows on any thread count. */
export function activation_backward_bias(db: usize, dy: usize, y: usize, rows: i32, n: i32,
                                         kind: i32, alpha: f32, accumulate: i32): void {
  if (!accumulate) memory.fill(db, 0, <usize>n << 2);
  if (!shouldSplit(2 * work(rows * n, kind))) {
    backwardBiasColumns(db, dy, y, rows, n, 0, n, kind, alpha);
    return;
  }
  setArg(0, <f64>db); setArg(1, <f64>dy); setArg(2, <f64>y); setArg(3, rows); setArg(4, n);
  setArg(5, kind); setArg(6, alpha);
  parallelFor(backwardBiasTask, rangeTasks(n, 16));
}

function backwardBiasTask(t: i32, _scratch: usize): i32 {
  backwardBiasColumns(argPtr(0), argPtr(1), argPtr(2), argInt(3), argInt(4), rangeStart(t), rangeEnd(t), argInt(5), <f32>arg(6));
  return 0;
}

// Columns [j0, j1) of activation_backward_bias, row by row.
function backwardBiasColumns(db: usize, dy: usize, y: usize, rows: i32, n: i32, j0: i32, j1: i32, kind: i32, alpha: f32): void {
  const w = j1 - j0, dbj = db + (<usize>j0 << 2);
  for (let r = 0; r < rows; r++) {
    const o = (<usize>r * n + j0) << 2;
    activationBackwardRange(dy + o, dy + o, y + o, w, kind, alpha);
    addInto(dbj, dy + o, w);
  }
}

/** y (n) = f(x (n)) on the calling thread (gemm_act's epilogue: per tile row). */
export function activationForwardRange(y: usize, x: usize, n: i32, kind: i32, alpha: f32): void {
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
  // tanh, sigmoid, softplus, elu: four lanes through exp4; the last n % 4
  // values go through the same lanes, so a value's result never depends on
  // its position (a row gives the same bits in any batch)
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(y + off, smoothForward(v128.load(x + off), kind, alpha));
  }
  if (i < n) {
    const r = smoothForward(loadTail(x, i, n), kind, alpha);
    storeTail(y, i, n, r);
  }
}

// @ts-ignore: decorator
@inline function smoothForward(v: v128, kind: i32, alpha: f32): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  if (kind == ACT_TANH) return tanh4(v);
  if (kind == ACT_SIGMOID) {
    const e = exp4(f32x4.neg(f32x4.abs(v)));
    const q = f32x4.div(one, f32x4.add(one, e));
    return v128.bitselect(q, f32x4.mul(e, q), f32x4.ge(v, zero));
  }
  if (kind == ACT_SOFTPLUS) return f32x4.add(f32x4.max(v, zero), log1p01x4(exp4(f32x4.neg(f32x4.abs(v)))));
  if (kind == ACT_ELU) {
    return v128.bitselect(v, f32x4.mul(f32x4.splat(alpha), f32x4.sub(exp4(f32x4.min(v, zero)), one)), f32x4.gt(v, zero));
  }
  unreachable();
  return zero;
}

/** Lanes 0..n−i−1 from p[i..n) (1 to 3 values), the rest zero. */
// @ts-ignore: decorator
@inline function loadTail(p: usize, i: i32, n: i32): v128 {
  const o = p + (<usize>i << 2);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(o));
  if (i + 1 < n) v = f32x4.replace_lane(v, 1, load<f32>(o, 4));
  if (i + 2 < n) v = f32x4.replace_lane(v, 2, load<f32>(o, 8));
  return v;
}

// @ts-ignore: decorator
@inline function storeTail(p: usize, i: i32, n: i32, v: v128): void {
  const o = p + (<usize>i << 2);
  store<f32>(o, f32x4.extract_lane(v, 0));
  if (i + 1 < n) store<f32>(o, f32x4.extract_lane(v, 1), 4);
  if (i + 2 < n) store<f32>(o, f32x4.extract_lane(v, 2), 8);
}

function activationBackwardRange(dx: usize, dy: usize, y: usize, n: i32, kind: i32, alpha: f32): void {
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
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(dx + off, f32x4.mul(v128.load(dy + off), smoothDerivative(v128.load(y + off), kind, alpha)));
  }
  if (i < n) storeTail(dx, i, n, f32x4.mul(loadTail(dy, i, n), smoothDerivative(loadTail(y, i, n), kind, alpha)));
}

// f'(x) from y = f(x), four lanes.
// @ts-ignore: decorator
@inline function smoothDerivative(v: v128, kind: i32, alpha: f32): v128 {
  const one = f32x4.splat(1);
  if (kind == ACT_TANH) return f32x4.sub(one, f32x4.mul(v, v));
  if (kind == ACT_SIGMOID) return f32x4.mul(v, f32x4.sub(one, v));
  if (kind == ACT_SOFTPLUS) {
    // 1 − e^(−y) cancels for small y: there use y − y²/2 + y³/6 − y⁴/24 + y⁵/120
    // (|error| < y⁶/720, below f32 rounding for y < 0.1)
    let q = f32x4.splat(1.0 / 120.0);
    q = f32x4.add(f32x4.mul(q, v), f32x4.splat(-1.0 / 24.0));
    q = f32x4.add(f32x4.mul(q, v), f32x4.splat(1.0 / 6.0));
    q = f32x4.add(f32x4.mul(q, v), f32x4.splat(-0.5));
    q = f32x4.add(f32x4.mul(q, v), one);
    const series = f32x4.mul(q, v);
    return v128.bitselect(series, f32x4.sub(one, exp4(f32x4.neg(v))), f32x4.lt(v, f32x4.splat(0.1)));
  }
  if (kind == ACT_ELU) return v128.bitselect(one, f32x4.add(v, f32x4.splat(alpha)), f32x4.gt(v, f32x4.splat(0)));
  unreachable();
  return one;
}
