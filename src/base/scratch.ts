// Bytes of kernel scratch, mirroring the *_scratch_bytes exports of assembly/
// (the kernel wrappers in wasm.ts re-check against the exports), so the pure
// planner can size the arena without loading wasm.

/** Bytes of GEMM scratch for an (M, K) left operand; mirrors
 *  gemm_scratch_bytes in assembly/gemm.ts (tests/kernels/codes.test.ts compares
 *  them for every class of shape). */
export function gemmScratchBytes(M: number, K: number): number {
  return ((M + 7) * K + K * 8 + 64) * 4;
}

/** Bytes of scratch dense_backward needs for a (B, IN) → (B, OUT) layer;
 *  mirrors dense_backward_scratch_bytes in assembly/dense.ts (its two
 *  products' op(A) packed side by side when they split over threads). */
export function denseBackwardScratchBytes(B: number, IN: number, OUT: number): number {
  const one = Math.max(gemmScratchBytes(IN, B), gemmScratchBytes(B, OUT));
  // the pair packs both products only when both are at least 128 deep (B and OUT: PACK_MIN_K in assembly/gemm.ts)
  return B >= 128 && OUT >= 128 ? Math.max(one, ((IN + 7) * B + (B + 7) * OUT) * 4 + 64) : one;
}
