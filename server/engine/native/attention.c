// The core of multi-head self-attention for the TF.js wasm backend's training
// steps, softmax(scale * q k^T) v for every example and head, and its gradients. q, k and v are
// read where the dense maps wrote them, [batch, sequence, heads * headDim] (a head is a block of
// columns), so the transposes to [batch, heads, sequence, headDim] and back, the scaling, the
// softmax and their gradients are not separate kernels.
//
//   attention(q, k, v, context, batch, sequence, heads, headDim, scale, threads)
//       context_bh = softmax(scale * q_bh k_bh^T) v_bh   (context in q's layout)
//   attentionGrad(q, k, v, dcontext, dq, dk, dv, batch, sequence, heads, headDim, scale, threads)
//       with probs = softmax(scale * q_bh k_bh^T) recomputed, dprobs = dcontext_bh v_bh^T:
//       dv_bh = probs^T dcontext_bh; dscores = probs * (dprobs - rowsum(dprobs * probs)) * scale;
//       dq_bh = dscores k_bh; dk_bh = dscores^T q_bh
//
// The probabilities are recomputed backwards rather than kept: an output of the forward kernel
// that nothing differentiates gets a gradient of zeros from TF.js, built in JavaScript and copied
// into the heap (4 MiB per layer and step for the wide transformer: more than the recomputation).
// The per-head products (32 x 32 x 16 for the bench's transformer) are sgemm_tiles.c's register
// tiles: OpenBLAS spent more time per call than computing on them (~17 GFLOPS). The (example,
// head) pairs are split over `threads` threads of the pool.

#include <stdlib.h>
#include "gowide_addon.h"

#define MAX_ARRAYS 8

typedef struct {
  const float *q, *k, *v, *dcontext;
  float *context, *dq, *dk, *dv;
  int64_t batch, sequence, heads, head_dim;
  float scale;
} Attention;

typedef struct {
  const Attention *a;
  int64_t first, last; // (example, head) pairs [first, last)
  bool failed;
} AttentionWork;

// Offset of a pair's block in q's layout (row stride heads * head_dim).
static size_t row_block(const Attention *a, int64_t pair) {
  return (size_t)((pair / a->heads) * a->sequence * a->heads + pair % a->heads) * (size_t)a->head_dim;
}

// out = m^T for m of `rows` rows (stride ld) and `columns` columns; out contiguous.
static void transpose_block(const float *restrict m, size_t rows, size_t columns, size_t ld, float *restrict out) {
  for (size_t c = 0; c < columns; c++) {
    for (size_t r = 0; r < rows; r++) out[c * rows + r] = m[r * ld + c];
  }
}

// dprobs (s x s, in place) := probs * (dprobs - rowsum(dprobs * probs)) * scale: the softmax's
// gradient, then the scale's. Rows of a multiple of 16: the row sums in 16 lanes, folded (a scalar
// sum is a chain of dependent adds).
VECTOR_CLONES static void softmax_grad_rows(float *restrict dprobs, const float *restrict probs, size_t s, float scale) {
  for (size_t i = 0; i < s; i++) {
    float *row = dprobs + i * s;
    const float *prow = probs + i * s;
    float dot = 0.0f;
    if (s % 16 == 0) {
      Floats16 sum = {0}, r, q;
      for (size_t j = 0; j < s; j += 16) {
        memcpy(&r, row + j, sizeof r);
        memcpy(&q, prow + j, sizeof q);
        sum += r * q;
      }
      FOLD_LANES(sum, lanes_sum);
      dot = sum[0];
    } else {
      for (size_t j = 0; j < s; j++) dot += row[j] * prow[j];
    }
    for (size_t j = 0; j < s; j++) row[j] = (row[j] - dot) * prow[j] * scale;
  }
}

// probs = softmax(scale * q k^T) of the pair whose block starts at `rows`; scratch: s * s + s * d floats.
static void pair_probs(const Attention *a, size_t rows, float *probs, float *scratch) {
  const size_t s = (size_t)a->sequence, d = (size_t)a->head_dim, ld = (size_t)(a->heads * a->head_dim);
  float *scores = scratch, *kt = scratch + s * s;
  transpose_block(a->k + rows, s, d, ld, kt);
  gowide_product(gowide_rows_of(a->q + rows, ld), s, d, kt, s, s, scores, s);
  for (size_t i = 0; i < s * s; i++) scores[i] *= a->scale;
  gowide_softmax_rows(scores, probs, s, s);
}

static void *attention_pairs(void *argument) {
  AttentionWork *w = (AttentionWork *)argument;
  const Attention *a = w->a;
  const size_t s = (size_t)a->sequence, d = (size_t)a->head_dim, ld = (size_t)(a->heads * a->head_dim);
  float *scratch = malloc(sizeof(float) * (2 * s * s + s * d)); // probs, then pair_probs' scratch
  if (scratch == NULL) {
    w->failed = true;
    return NULL;
  }
  for (int64_t pair = w->first; pair < w->last; pair++) {
    const size_t rows = row_block(a, pair);
    pair_probs(a, rows, scratch, scratch + s * s);
    gowide_product(gowide_rows_of(scratch, s), s, s, a->v + rows, ld, d, a->context + rows, ld);
  }
  free(scratch);
  return NULL;
}

static void *attention_grad_pairs(void *argument) {
  AttentionWork *w = (AttentionWork *)argument;
  const Attention *a = w->a;
  const size_t s = (size_t)a->sequence, d = (size_t)a->head_dim, ld = (size_t)(a->heads * a->head_dim);
  // probs, dscores, then pair_probs' scratch (of which v transposed takes the first s * d floats)
  float *scratch = malloc(sizeof(float) * (3 * s * s + s * d));
  if (scratch == NULL) {
    w->failed = true;
    return NULL;
  }
  float *p = scratch, *dscores = scratch + s * s, *vt = scratch + 2 * s * s;
  for (int64_t pair = w->first; pair < w->last; pair++) {
    const size_t rows = row_block(a, pair);
    const float *dc = a->dcontext + rows;
    pair_probs(a, rows, p, vt);
    transpose_block(a->v + rows, s, d, ld, vt);
    gowide_product(gowide_rows_of(dc, ld), s, d, vt, s, s, dscores, s); // dprobs = dcontext v^T
    gowide_product(gowide_columns_of(p, s), s, s, dc, ld, d, a->dv + rows, ld); // dv = probs^T dcontext
    softmax_grad_rows(dscores, p, s, a->scale);
    gowide_product(gowide_rows_of(dscores, s), s, s, a->k + rows, ld, d, a->dq + rows, ld); // dq = dscores k
    gowide_product(gowide_columns_of(dscores, s), s, s, a->q + rows, ld, d, a->dk + rows, ld); // dk = dscores^T q
  }
  free(scratch);
  return NULL;
}

// Splits the pairs over the threads and runs fn on each share; false when one failed.
static bool run_pairs(void *(*fn)(void *), const Attention *a, int threads) {
  const int64_t pairs = a->batch * a->heads;
  threads = gowide_threads(threads, pairs);
  AttentionWork work[GOWIDE_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    work[t] = (AttentionWork){a, pairs * t / threads, pairs * (t + 1) / threads, false};
  }
  return gowide_run_threads(fn, work, sizeof work[0], threads, offsetof(AttentionWork, failed));
}

// Reads `count` Float32Arrays of batch*sequence*heads*headDim values or more, then batch,
// sequence, heads, headDim (positive), scale and threads. False after throwing.
static bool attention_arguments(napi_env env, napi_callback_info info, const char *name, size_t count, float **arrays, Attention *a,
                                int *threads) {
  napi_value argv[MAX_ARRAYS + 6];
  size_t argc;
  if (!gowide_arguments(env, info, count + 6, count + 6, argv, &argc)) {
    gowide_fail(env, name, "wrong number of arguments");
    return false;
  }
  int64_t sizes[4];
  double scale;
  int32_t thread_count;
  for (int i = 0; i < 4; i++) {
    if (napi_get_value_int64(env, argv[count + (size_t)i], &sizes[i]) != napi_ok || sizes[i] < 1 || sizes[i] > INT32_MAX) {
      gowide_fail(env, name, "batch, sequence, heads and headDim must be positive integers");
      return false;
    }
  }
  if (napi_get_value_double(env, argv[count + 4], &scale) != napi_ok || napi_get_value_int32(env, argv[count + 5], &thread_count) != napi_ok) {
    gowide_fail(env, name, "scale and threads must be numbers");
    return false;
  }
  *a = (Attention){.batch = sizes[0], .sequence = sizes[1], .heads = sizes[2], .head_dim = sizes[3], .scale = (float)scale};
  *threads = gowide_threads(thread_count, GOWIDE_MAX_THREADS);
  const double rows = (double)a->batch * (double)a->sequence * (double)a->heads * (double)a->head_dim;
  if (rows > (double)INT32_MAX) {
    gowide_fail(env, name, "too large");
    return false;
  }
  for (size_t i = 0; i < count; i++) {
    size_t length;
    if (!gowide_floats(env, argv[i], &arrays[i], &length)) {
      gowide_fail(env, name, "arrays must be Float32Arrays");
      return false;
    }
    if ((double)length < rows) {
      gowide_fail(env, name, "an array is shorter than its shape");
      return false;
    }
  }
  return true;
}

// attention (grad false) or attentionGrad: q, k, v, then context, or dcontext, dq, dk, dv.
static napi_value attention_run(napi_env env, napi_callback_info info, const char *name, bool grad) {
  float *arrays[7];
  Attention a;
  int threads;
  if (!attention_arguments(env, info, name, grad ? 7 : 4, arrays, &a, &threads)) return NULL;
  a.q = arrays[0];
  a.k = arrays[1];
  a.v = arrays[2];
  if (grad) {
    a.dcontext = arrays[3];
    a.dq = arrays[4];
    a.dk = arrays[5];
    a.dv = arrays[6];
  } else {
    a.context = arrays[3];
  }
  if (!run_pairs(grad ? attention_grad_pairs : attention_pairs, &a, threads)) return gowide_fail(env, name, "out of memory");
  return NULL;
}

napi_value js_attention(napi_env env, napi_callback_info info) {
  return attention_run(env, info, "attention", false);
}

napi_value js_attention_grad(napi_env env, napi_callback_info info) {
  return attention_run(env, info, "attentionGrad", true);
}
