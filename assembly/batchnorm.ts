// Batch normalization (Ioffe & Szegedy 2015) over N rows of C channels,
// x (N, C) row-major: N = B for flat rows (per feature), N = B·H·W for NHWC
// images (per channel). Per channel c:
//   training:   μ = Σ_n x/N,  σ² = Σ_n (x − μ)²/N (biased, two passes, f64),
//               s = 1/√(σ² + ε),  x̂ = (x − μ)·s,  y = γ·x̂ + β
//   inference:  the same map with the running μ and σ² (batchnorm_invstd).
// Backward (the full batch-statistics gradient, μ and σ² depend on x):
//   dβ = Σ_n dy,  dγ = Σ_n dy·x̂,
//   dx = γ·s·(dy − dβ/N − x̂·dγ/N)
// Running statistics (PyTorch's convention, momentum m as Keras):
//   μ_run ← m·μ_run + (1 − m)·μ,  σ²_run ← m·σ²_run + (1 − m)·σ²·N/(N − 1).
// Every sum is f64 over n = 0 … N−1 in order. Threads split by channels
// (ranges of 4): a channel is one thread's, so any split gives the same bits.
// Not here: the layer (src/layers/batchnorm.ts keeps μ, σ², s from the
// forward for its backward and commits the running statistics after a step).

import { argInt, argPtr, arg, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

/** Writes mean (C), vari (C, biased) and invstd (C) = 1/√(vari + eps) of x
 *  (N, C); sums (C f64) is scratch. */
export function batchnorm_stats(mean: usize, vari: usize, invstd: usize, sums: usize, x: usize, N: i32, C: i32, eps: f64): void {
  if (!shouldSplit(<f64>N * <f64>C * 2)) {
    statsRange(mean, vari, invstd, sums, x, N, C, eps, 0, C);
    return;
  }
  setArg(0, <f64>mean); setArg(1, <f64>vari); setArg(2, <f64>invstd); setArg(3, <f64>sums); setArg(4, <f64>x);
  setArg(5, N); setArg(6, C); setArg(7, eps);
  parallelFor(statsTask, rangeTasks(C, 4));
}

function statsTask(t: i32, _scratch: usize): i32 {
  statsRange(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argPtr(4), argInt(5), argInt(6), arg(7), rangeStart(t), rangeEnd(t));
  return 0;
}

// channels [c0, c1): μ (f64 kept in sums), then Σ (x − μ)² in sums
function statsRange(mean: usize, vari: usize, invstd: usize, sums: usize, x: usize, N: i32, C: i32, eps: f64, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) store<f64>(sums + (<usize>c << 3), 0);
  for (let n = 0; n < N; n++) {
    const row = x + ((<usize>n * C) << 2);
    for (let c = c0; c < c1; c++) {
      const s = sums + (<usize>c << 3);
      store<f64>(s, load<f64>(s) + <f64>load<f32>(row + (<usize>c << 2)));
    }
  }
  for (let c = c0; c < c1; c++) {
    const s = sums + (<usize>c << 3);
    const mu = load<f64>(s) / <f64>N;
    store<f32>(mean + (<usize>c << 2), <f32>mu);
    store<f64>(s, 0);
  }
  for (let n = 0; n < N; n++) {
    const row = x + ((<usize>n * C) << 2);
    for (let c = c0; c < c1; c++) {
      const s = sums + (<usize>c << 3);
      const d = <f64>load<f32>(row + (<usize>c << 2)) - <f64>load<f32>(mean + (<usize>c << 2));
      store<f64>(s, load<f64>(s) + d * d);
    }
  }
  for (let c = c0; c < c1; c++) {
    const v = load<f64>(sums + (<usize>c << 3)) / <f64>N;
    store<f32>(vari + (<usize>c << 2), <f32>v);
    store<f32>(invstd + (<usize>c << 2), <f32>(1.0 / Math.sqrt(v + eps)));
  }
}

/** invstd (C) = 1/√(vari (C) + eps) (inference: the running variance). */
export function batchnorm_invstd(invstd: usize, vari: usize, C: i32, eps: f64): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(invstd + o, <f32>(1.0 / Math.sqrt(<f64>load<f32>(vari + o) + eps)));
  }
}

/** y (N, C) = γ·(x − mean)·invstd + β per channel; writes y (may alias x). */
export function batchnorm_forward(y: usize, x: usize, gamma: usize, beta: usize, mean: usize, invstd: usize, N: i32, C: i32): void {
  if (!shouldSplit(<f64>N * <f64>C)) {
    forwardRange(y, x, gamma, beta, mean, invstd, N, C, 0, C);
    return;
  }
  setArg(0, <f64>y); setArg(1, <f64>x); setArg(2, <f64>gamma); setArg(3, <f64>beta); setArg(4, <f64>mean); setArg(5, <f64>invstd);
  setArg(6, N); setArg(7, C);
  parallelFor(forwardTask, rangeTasks(C, 4));
}

function forwardTask(t: i32, _scratch: usize): i32 {
  forwardRange(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argPtr(4), argPtr(5), argInt(6), argInt(7), rangeStart(t), rangeEnd(t));
  return 0;
}

// x̂ = (x − μ)·s and y = γ·x̂ + β, each one f32 operation (the backward
// recomputes x̂ with the same two)
function forwardRange(y: usize, x: usize, gamma: usize, beta: usize, mean: usize, invstd: usize, N: i32, C: i32, c0: i32, c1: i32): void {
  for (let n = 0; n < N; n++) {
    const o = (<usize>n * C) << 2;
    for (let c = c0; c < c1; c++) {
      const q = <usize>c << 2;
      const xh = (load<f32>(x + o + q) - load<f32>(mean + q)) * load<f32>(invstd + q);
      store<f32>(y + o + q, load<f32>(gamma + q) * xh + load<f32>(beta + q));
    }
  }
}

/** From dy (N, C) and the forward's x, mean, invstd: writes dgamma (C),
 *  dbeta (C) and, unless dx is 0, dx (N, C); sums (2·C f64) is scratch. */
export function batchnorm_backward(dx: usize, dgamma: usize, dbeta: usize, sums: usize, dy: usize, x: usize, gamma: usize,
                                   mean: usize, invstd: usize, N: i32, C: i32): void {
  if (!shouldSplit(<f64>N * <f64>C * 2)) {
    backwardRange(dx, dgamma, dbeta, sums, dy, x, gamma, mean, invstd, N, C, 0, C);
    return;
  }
  setArg(0, <f64>dx); setArg(1, <f64>dgamma); setArg(2, <f64>dbeta); setArg(3, <f64>sums); setArg(4, <f64>dy); setArg(5, <f64>x);
  setArg(6, <f64>gamma); setArg(7, <f64>mean); setArg(8, <f64>invstd); setArg(9, N); setArg(10, C);
  parallelFor(backwardTask, rangeTasks(C, 4));
}

function backwardTask(t: i32, _scratch: usize): i32 {
  backwardRange(argPtr(0), argPtr(1), argPtr(2), argPtr(3), argPtr(4), argPtr(5), argPtr(6), argPtr(7), argPtr(8),
    argInt(9), argInt(10), rangeStart(t), rangeEnd(t));
  return 0;
}

function backwardRange(dx: usize, dgamma: usize, dbeta: usize, sums: usize, dy: usize, x: usize, gamma: usize,
                       mean: usize, invstd: usize, N: i32, C: i32, c0: i32, c1: i32): void {
  // sums: Σ dy at [0, C), Σ dy·x̂ at [C, 2C) (f64 slots)
  const sb = sums, sg = sums + (<usize>C << 3);
  for (let c = c0; c < c1; c++) { store<f64>(sb + (<usize>c << 3), 0); store<f64>(sg + (<usize>c << 3), 0); }
  for (let n = 0; n < N; n++) {
    const o = (<usize>n * C) << 2;
    for (let c = c0; c < c1; c++) {
      const q = <usize>c << 2, e = <usize>c << 3;
      const g = <f64>load<f32>(dy + o + q);
      const xh = (load<f32>(x + o + q) - load<f32>(mean + q)) * load<f32>(invstd + q);
      store<f64>(sb + e, load<f64>(sb + e) + g);
      store<f64>(sg + e, load<f64>(sg + e) + g * <f64>xh);
    }
  }
  for (let c = c0; c < c1; c++) {
    const e = <usize>c << 3, q = <usize>c << 2;
    store<f32>(dbeta + q, <f32>load<f64>(sb + e));
    store<f32>(dgamma + q, <f32>load<f64>(sg + e));
  }
  if (dx == 0) return;
  const invN = 1.0 / <f64>N;
  for (let n = 0; n < N; n++) {
    const o = (<usize>n * C) << 2;
    for (let c = c0; c < c1; c++) {
      const q = <usize>c << 2, e = <usize>c << 3;
      const xh = (load<f32>(x + o + q) - load<f32>(mean + q)) * load<f32>(invstd + q);
      // dx = γ·s·(dy − Σdy/N − x̂·Σ(dy·x̂)/N), in f64, rounded once
      const k = <f64>load<f32>(gamma + q) * <f64>load<f32>(invstd + q);
      const v = <f64>load<f32>(dy + o + q) - load<f64>(sb + e) * invN - <f64>xh * (load<f64>(sg + e) * invN);
      store<f32>(dx + o + q, <f32>(k * v));
    }
  }
}

/** Running statistics after a training forward of N rows (N ≥ 2):
 *  rmean ← m·rmean + (1 − m)·mean, rvar ← m·rvar + (1 − m)·vari·N/(N − 1)
 *  (unbiased, as PyTorch), in f64, per channel. */
export function batchnorm_update(rmean: usize, rvar: usize, mean: usize, vari: usize, C: i32, momentum: f64, N: i32): void {
  const m = momentum, r = 1.0 - m, unbias = <f64>N / <f64>(N - 1);
  for (let c = 0; c < C; c++) {
    const q = <usize>c << 2;
    store<f32>(rmean + q, <f32>(m * <f64>load<f32>(rmean + q) + r * <f64>load<f32>(mean + q)));
    store<f32>(rvar + q, <f32>(m * <f64>load<f32>(rvar + q) + r * (<f64>load<f32>(vari + q) * unbias)));
  }
}
