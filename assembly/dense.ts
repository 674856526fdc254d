// Dense layer y = f(x·W + b) on the GEMM family.
//   x (B, IN), W (IN, OUT), b (OUT), y (B, OUT), all row-major f32.
// Backward, with g = dy ⊙ f'(y) (dW and db accumulated, or written):
//   dW += xᵀ·g      (IN, OUT)
//   db += Σ_b g     (OUT)
//   dx  = g·Wᵀ      (B, IN)   skipped when dx == 0 (the first layer)
import { gemm, INIT_ACC, INIT_BIAS, INIT_ZERO } from "./gemm";
import { activation_forward, activation_backward } from "./activation";
import { add_rows } from "./vector";

/** Writes y (B, OUT) = act(x (B, IN) · w (IN, OUT) + b (OUT)); clobbers scratch. */
export function dense_forward(y: usize, x: usize, w: usize, b: usize,
                              B: i32, IN: i32, OUT: i32, act: i32, alpha: f32,
                              scratch: usize): void {
  gemm(y, x, w, b, B, IN, OUT, 0, 0, INIT_BIAS, scratch);
  activation_forward(y, y, B * OUT, act, alpha);
}

/** Writes dy ← dy ⊙ act'(y) in place and dx (B, IN) (unless dx == 0);
 *  accumulates into dw (IN, OUT) and db (OUT) when `accumulate`, else writes
 *  them (one backward per step needs no zeroing pass); clobbers scratch. */
export function dense_backward(dx: usize, dw: usize, db: usize, dy: usize,
                               x: usize, w: usize, y: usize,
                               B: i32, IN: i32, OUT: i32, act: i32, alpha: f32,
                               accumulate: i32, scratch: usize): void {
  activation_backward(dy, dy, y, B * OUT, act, alpha);
  // dW (IN, OUT) [+]= xᵀ (IN, B) · g (B, OUT)
  gemm(dw, x, dy, 0, IN, B, OUT, 1, 0, accumulate ? INIT_ACC : INIT_ZERO, scratch);
  // db (OUT) [+]= Σ_b g[b, :], batch rows added in order
  if (!accumulate) memory.fill(db, 0, <usize>OUT << 2);
  add_rows(db, dy, B, OUT);
  // dx (B, IN) = g (B, OUT) · Wᵀ (OUT, IN)
  if (dx != 0) gemm(dx, dy, w, 0, B, OUT, IN, 0, 1, INIT_ZERO, scratch);
}
