/** The environment variable that sets how many threads of the addon's pool a kernel splits its work over. */
export const POOL_THREADS_VARIABLE = 'GOWIDE_POOL_THREADS';

/**
 * Threads of the addon's pool (thread_pool.c) for the convolutions, large matrix products, the
 * BatchNorm training kernels and the element-wise passes large enough to split: GOWIDE_POOL_THREADS (1 to 8), else 2 (the wasm backend waits while a
 * kernel runs, so both cores of a 2-core machine are free), or 1 when OpenBLAS itself is threaded
 * (GOWIDE_BLAS_THREADS above 1).
 */
export function poolThreads(): number {
  const requested = Number(process.env[POOL_THREADS_VARIABLE]);
  if (Number.isInteger(requested) && requested > 0) return Math.min(requested, 8);
  const blasThreads = Number(process.env.GOWIDE_BLAS_THREADS);
  return Number.isInteger(blasThreads) && blasThreads > 1 ? 1 : 2;
}
