// adam(x, g, m, v, xOut, mOut, vOut, params[, threads]): one Adam step of a variable x with
// gradient g and moments m, v in one pass (params below, at adam_run); a large variable's values
// split over the pool's threads (memory-bound: seven arrays streamed).
#include <math.h>
#include <stdlib.h>
#include "gowide_addon.h"

enum AdamParam { A_B1, A_1_B1, A_B2, A_1_B2, A_C1, A_C2, A_EPSILON, A_RATE, A_DECAY, A_COUNT };

// The same float operations, in the same order, as GroupOptimizer's Adam built from TF.js ops
// (server/method/optimizer.ts), each constant rounded to float32 as TF.js rounds a scalar:
//   m' = m b1 + g (1 - b1),  v' = v b2 + g^2 (1 - b2)
//   u = (m' / c1) / (sqrt(v' / c2) + epsilon)   (c1 = 1 - b1^t, c2 = 1 - b2^t)
//   u += x decay (when decay != 0),  x' = x - u rate
// (ISO C: no contraction into fused multiply-adds, so each product is rounded like TF.js's.)
VECTOR_CLONES static void adam_run(const float *restrict x, const float *restrict g, const float *restrict m, const float *restrict v,
                                   float *restrict x_out, float *restrict m_out, float *restrict v_out, size_t n, const float *p) {
  const float b1 = p[A_B1], one_b1 = p[A_1_B1], b2 = p[A_B2], one_b2 = p[A_1_B2], c1 = p[A_C1], c2 = p[A_C2];
  const float epsilon = p[A_EPSILON], rate = p[A_RATE], decay = p[A_DECAY];
  if (decay != 0.0f) {
    for (size_t i = 0; i < n; i++) {
      const float gi = g[i], mi = m[i] * b1 + gi * one_b1, vi = v[i] * b2 + (gi * gi) * one_b2;
      m_out[i] = mi;
      v_out[i] = vi;
      const float update = (mi / c1) / (sqrtf(vi / c2) + epsilon) + x[i] * decay;
      x_out[i] = x[i] - update * rate;
    }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i], mi = m[i] * b1 + gi * one_b1, vi = v[i] * b2 + (gi * gi) * one_b2;
    m_out[i] = mi;
    v_out[i] = vi;
    x_out[i] = x[i] - ((mi / c1) / (sqrtf(vi / c2) + epsilon)) * rate;
  }
}

typedef struct {
  float *arrays[8]; // x, g, m, v, xOut, mOut, vOut, params
} AdamJob;

static void adam_part(void *context, int64_t begin, int64_t end, int part) {
  (void)part;
  float *const *a = ((const AdamJob *)context)->arrays;
  adam_run(a[0] + begin, a[1] + begin, a[2] + begin, a[3] + begin, a[4] + begin, a[5] + begin, a[6] + begin, (size_t)(end - begin), a[7]);
}

// adam(Float32Array x, g, m, v, xOut, mOut, vOut, Float32Array params[, threads]): params are
// [b1, 1 - b1, b2, 1 - b2, c1, c2, epsilon, rate, decay] (see adam_run); the outputs are new arrays
// (restrict: no alias checks, which would stop the loop from vectorizing).
napi_value js_adam(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  size_t argc;
  AdamJob job;
  float **arrays = job.arrays;
  size_t lengths[8];
  bool ok = gowide_arguments(env, info, 8, 9, argv, &argc);
  for (size_t i = 0; ok && i < 8; i++) ok = gowide_floats(env, argv[i], &arrays[i], &lengths[i]);
  if (!ok) return gowide_fail(env, "adam", "expected (Float32Array x, g, m, v, xOut, mOut, vOut, params[, threads])");
  if (lengths[7] != A_COUNT) return gowide_fail(env, "adam", "params must hold 9 values");
  const size_t n = lengths[0];
  for (int i = 1; i < 7; i++) {
    if (lengths[i] != n) return gowide_fail(env, "adam", "x, g, m, v and the outputs must have one length");
  }
  gowide_parallel_ranges(adam_part, &job, (int64_t)n, 1, 16, gowide_optional_threads(env, argv, argc, 8));
  return NULL;
}
