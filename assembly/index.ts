// Re-exports every kernel. Pointers are usize byte offsets into this module's
// memory, counts are element counts; no kernel allocates or grows memory.
export { gemm, gemm_scratch_bytes, gemm_tile_rows } from "./gemm";
export { dense_forward, dense_backward } from "./dense";
export {
  conv2d_forward, conv2d_backward, conv2d_transpose_forward, conv2d_transpose_backward,
  conv_scratch_bytes, conv_im2col, conv_col2im_acc,
} from "./conv";
export { activation_forward, activation_backward } from "./activation";
export { rng_seed, rng_uniform, rng_normal } from "./rng";
export { gaussian_sample_forward, gaussian_sample_backward } from "./gaussian";
export { kl_normal_forward, kl_normal_backward } from "./kl";
export {
  bernoulli_nll_forward, bernoulli_nll_backward, bernoulli_nll_forward_backward,
  gaussian_nll_forward, gaussian_nll_backward,
  gaussian_learned_nll_forward, gaussian_learned_nll_backward,
} from "./likelihood";
export { adam_step } from "./adam";
export { fill, copy, axpy, scale, sum_squares, all_finite } from "./vector";

/** First byte free for the host's arena (16-aligned), after static data. */
export function heap_base(): usize {
  return (__heap_base + 63) & ~<usize>63;
}
