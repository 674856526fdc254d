// Re-exports every kernel. Pointers are usize byte offsets into this module's
// memory, counts are element counts; no kernel allocates or grows memory.
export { gemm, gemm_scratch_bytes, gemm_tile_rows } from "./gemm";
export { dense_forward, dense_backward, dense_backward_scratch_bytes } from "./dense";
export {
  conv2d_forward, conv2d_backward, conv2d_transpose_forward, conv2d_transpose_backward,
  conv_scratch_bytes, conv_im2col, conv_col2im_acc,
} from "./conv";
export { activation_forward, activation_backward } from "./activation";
export { dropout_apply } from "./dropout";
export { batchnorm_stats, batchnorm_invstd, batchnorm_forward, batchnorm_backward, batchnorm_update } from "./batchnorm";
export { rng_seed, rng_uniform, rng_normal } from "./rng";
export {
  gaussian_sample_forward, gaussian_sample_backward,
  gaussian_sample_k_forward, gaussian_sample_k_backward, gaussian_logq_forward, gaussian_logq_backward,
} from "./gaussian";
export { normal_logp_forward, normal_logp_backward } from "./prior";
export { prior_mixture_logp_forward, prior_mixture_logp_backward } from "./prior-mixture";
export { vamp_pseudo_forward, vamp_pseudo_backward } from "./prior-vamp";
export { iwae_forward, iwae_backward, rows_scale } from "./iwae";
// categorical latent (issue 18)
export {
  gumbel_from_uniform, categorical_sample_forward, categorical_sample_backward,
  categorical_kl_forward, categorical_kl_backward, categorical_logq_forward,
  concrete_log_density_forward, concrete_log_density_backward,
} from "./categorical";
export { gaussian_cond_logp_forward, gaussian_cond_logp_backward, hierarchy_logp_combine } from "./hierarchy";
export { kl_normal_forward, kl_normal_backward } from "./kl";
export {
  bernoulli_nll_forward, bernoulli_nll_backward, bernoulli_nll_forward_backward,
  gaussian_nll_forward, gaussian_nll_backward,
  gaussian_learned_nll_forward, gaussian_learned_nll_backward,
} from "./likelihood";
export { adam_step } from "./adam";
export { fill, copy, axpy, scale, sum_squares, all_finite, first_outside } from "./vector";
export { thread_run, threads_configure, threads_control, threads_inject_fault, threads_reset } from "./threads";
export { threads_count, threads_job_cap, threads_leave_last, threads_profile } from "./threads";
import { threads_end } from "./threads";

/** First byte free for the host's arena (64-aligned), after static data and
 *  (shared builds) the threads' control block and scratch. */
export function heap_base(): usize {
  return (threads_end() + 63) & ~<usize>63;
}
