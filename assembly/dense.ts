// Dense layer y = f(x·W + b) on the GEMM family.
//   x (B, IN), W (IN, OUT), b (OUT), y (B, OUT), all row-major f32.
// Backward, with g = dy ⊙ f'(y) (dW and db accumulated, or written):
//   dW += xᵀ·g      (IN, OUT)
//   db += Σ_b g     (OUT)
//   dx  = g·Wᵀ      (B, IN)   skipped when dx == 0 (the first layer)
import { gemm, gemm_act, gemm_pair, gemm_pair_scratch_bytes, gemm_scratch_bytes, INIT_ACC, INIT_BIAS, INIT_ZERO, PACK_MIN_K } from "./gemm";
import { activation_backward_bias } from "./activation";

/** Writes y (B, OUT) = act(x (B, IN) · w (IN, OUT) + b (OUT)); clobbers scratch. */
export function dense_forward(y: usize, x: usize, w: usize, b: usize,
                              B: i32, IN: i32, OUT: i32, act: i32, alpha: f32,
                              scratch: usize): void {
  // bias and activation in the GEMM's tile stores (one pass over y)
  gemm_act(y, x, w, b, B, IN, OUT, 0, 0, INIT_BIAS, scratch, act, alpha);
}

/** Bytes of scratch dense_backward needs (its two products, packed side by
 *  side when they split over threads: gemm_pair's packBoth, which needs both
 *  products' K, B and OUT, to be at least PACK_MIN_K). */
export function dense_backward_scratch_bytes(B: i32, IN: i32, OUT: i32): usize {
  const one = max(gemm_scratch_bytes(IN, B), gemm_scratch_bytes(B, OUT));
  return B >= PACK_MIN_K && OUT >= PACK_MIN_K ? max(one, gemm_pair_scratch_bytes(IN, B, B, OUT)) : one;
}

/** Writes dy ← dy ⊙ act'(y) in place and dx (B, IN) (unless dx == 0);
 *  accumulates into dw (IN, OUT) and db (OUT) when `accumulate`, else writes
 *  them (one backward per step needs no zeroing pass); clobbers scratch
 *  (dense_backward_scratch_bytes(B, IN, OUT) bytes). */
export function dense_backward(dx: usize, dw: usize, db: usize, dy: usize,
                               x: usize, w: usize, y: usize,
                               B: i32, IN: i32, OUT: i32, act: i32, alpha: f32,
                               accumulate: i32, scratch: usize): void {
  // g = dy ⊙ act'(y) in place and db (OUT) [+]= Σ_b g[b, :] (batch rows in order), one pass
  activation_backward_bias(db, dy, y, B, OUT, act, alpha, accumulate);
  // dW (IN, OUT) [+]= xᵀ (IN, B) · g (B, OUT)
  const initW = accumulate ? INIT_ACC : INIT_ZERO;
  // dx (B, IN) = g (B, OUT) · Wᵀ (OUT, IN): with dW, one job on threads
  if (dx != 0) {
    gemm_pair(dw, x, dy, IN, B, OUT, 1, 0, initW, dx, dy, w, B, OUT, IN, 0, 1, INIT_ZERO, scratch, 1);
    return;
  }
  gemm(dw, x, dy, 0, IN, B, OUT, 1, 0, initW, scratch);
}
