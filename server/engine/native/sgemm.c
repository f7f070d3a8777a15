// sgemm: single-precision matrix products for TF.js's BatchMatMul and _FusedMatMul, computed in the
// register tiles of sgemm_tiles.c where they beat OpenBLAS, else by OpenBLAS:
//
//   sgemm(a, b, out, batchA, batchB, m, n, k, transposeA, transposeB, bias, activation, alpha, threads)
//
// computes, for every batch index i in [0, max(batchA, batchB)),
//   out[i] = activation(op(a[i % batchA]) * op(b[i % batchB]) + bias)
// where op(x) is x or its transpose, op(a[i]) is m x k, op(b[i]) is k x n, out[i] is m x n, all
// row-major and contiguous. batchA and batchB must be equal or one of them 1. bias is null or a
// Float32Array of length n added to every row; activation is a GowideActivation code; alpha is
// leakyrelu's slope. A single product of 2^22 multiply-adds or more is split over `threads`
// threads of the pool, each a share of out's rows (or columns, when it has more).
//
// setThreads(count) sets the number of threads OpenBLAS uses; getThreads() reads it back.
// blasCore() names the kernels OpenBLAS chose for this CPU when it loaded ("SkylakeX", "Haswell"; its
// generic "Prescott" where it does not know the CPU): they set the speed and the summation order.

#include <stdlib.h>
#include <cblas.h>
#include "gowide_addon.h"

#define ARGUMENT_COUNT 14
// Below this many multiply-adds a product stays on the calling thread: handing a share to a pool
// thread costs more than it saves. (2^24 while the pool's threads slept between jobs.) GOWIDE_SPLIT_MIN_MACS overrides it, for measuring (read at each product
// that could split, so a benchmark can switch it between runs).
#define SPLIT_MIN_MACS (1 << 22)
static double split_min_macs(void) {
  const char *text = getenv("GOWIDE_SPLIT_MIN_MACS");
  const double value = text != NULL ? atof(text) : 0;
  return value > 0 ? value : SPLIT_MIN_MACS;
}

// One product out = activation(op(a) op(b) + bias) (m x n, row stride ldo; bias NULL or n
// values), and the share of it a thread computes: rows [first, last) of out, or columns when
// split_columns. Each share adds the bias and applies the activation to its own part of out
// while that part is still in cache.
typedef struct {
  enum CBLAS_TRANSPOSE op_a, op_b;
  int m, n, k, lda, ldb, ldo;
  const float *a, *b;
  float *out;
  const float *bias;
  int activation;
  float alpha;
} Product;

typedef struct {
  const Product *p;
  int first, last;
  bool split_columns;
  bool failed; // never set: gowide_run_threads' protocol
} ProductShare;

// Rows [first, last) of out (or columns, split_columns) as a product of their own.
static Product product_part(const Product *p, int first, int last, bool split_columns) {
  Product part = *p;
  if (split_columns) { // columns of op(b) and out
    part.n = last - first;
    part.b = p->b + (size_t)first * (p->op_b == CblasTrans ? (size_t)p->ldb : 1);
    part.out = p->out + first;
    if (p->bias != NULL) part.bias = p->bias + first;
  } else { // rows of op(a) and out
    part.m = last - first;
    part.a = p->a + (size_t)first * (p->op_a == CblasTrans ? 1 : (size_t)p->lda);
    part.out = p->out + (size_t)first * (size_t)p->ldo;
  }
  return part;
}

// Products with at most SMALL_TILES columns (a multiple of 16) and terms per sum, a not
// transposed, also go to the 4 x 16 tiles of gowide_product (a transposed b transposed first).
#define SMALL_TILES 64
static bool small_tiles_fit(const Product *p) {
  return p->op_a == CblasNoTrans && p->n % 16 == 0 && p->n <= SMALL_TILES && p->k <= SMALL_TILES;
}

// False when out of memory.
static bool small_tile_product(const Product *p) {
  float *transposed = NULL;
  const float *b = p->b;
  int ldb = p->ldb;
  if (p->op_b == CblasTrans) { // op(b)[r][c] = b[c * ldb + r]
    transposed = malloc(sizeof(float) * (size_t)p->k * (size_t)p->n);
    if (transposed == NULL) return false;
    gowide_transpose(p->b, (size_t)p->ldb, (size_t)p->n, (size_t)p->k, transposed);
    b = transposed;
    ldb = p->n;
  }
  gowide_product(gowide_rows_of(p->a, (size_t)p->lda), (size_t)p->m, (size_t)p->k, b, (size_t)ldb, (size_t)p->n, p->out, (size_t)p->ldo);
  free(transposed);
  return true;
}

// One product: in register tiles where they apply, else OpenBLAS.
static void multiply(const Product *p) {
  if (gowide_tiled_sgemm(p->op_a == CblasTrans, p->op_b == CblasTrans, (size_t)p->m, (size_t)p->n, (size_t)p->k, p->a, (size_t)p->lda,
                         p->b, (size_t)p->ldb, p->out, (size_t)p->ldo, false)) {
    return;
  }
  if (small_tiles_fit(p) && small_tile_product(p)) return;
  cblas_sgemm(CblasRowMajor, p->op_a, p->op_b, p->m, p->n, p->k, 1.0f, p->a, p->lda, p->b, p->ldb, 0.0f, p->out, p->ldo);
}

static void compute_product(const Product *p) {
  multiply(p);
  gowide_bias_and_activation_strided(p->out, (size_t)p->m, (size_t)p->n, (size_t)p->ldo, p->bias, p->activation, p->alpha);
}

static void *product_share(void *argument) {
  const ProductShare *s = (const ProductShare *)argument;
  if (s->last <= s->first) return NULL;
  const Product part = product_part(s->p, s->first, s->last, s->split_columns);
  compute_product(&part);
  return NULL;
}

// The product on up to `threads` threads, split along the longer of out's two axes; small
// products on the calling thread alone.
static void run_product(const Product *p, int threads) {
  const bool split_columns = p->n > p->m;
  const int length = split_columns ? p->n : p->m;
  if (threads <= 1 || length < 64 * threads || (double)p->m * p->n * p->k < split_min_macs()) threads = 1;
  if (threads <= 1) {
    compute_product(p);
    return;
  }
  ProductShare shares[GOWIDE_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    // Shares of whole 32s (the tiles' columns and OpenBLAS's blocks), the last takes the rest.
    const int first = (int)((int64_t)length * t / threads) & ~31, last = t == threads - 1 ? length : (int)((int64_t)length * (t + 1) / threads) & ~31;
    shares[t] = (ProductShare){p, first, last, split_columns, false};
  }
  gowide_run_threads(product_share, shares, sizeof shares[0], threads, offsetof(ProductShare, failed));
}

napi_value js_sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[ARGUMENT_COUNT];
  size_t argc;
  if (!gowide_arguments(env, info, ARGUMENT_COUNT, ARGUMENT_COUNT, argv, &argc)) return gowide_fail(env, "sgemm", "expected 14 arguments");
  float *a, *b, *out, *bias;
  size_t a_length, b_length, out_length, bias_length;
  int64_t batch_a, batch_b, m, n, k;
  int32_t activation = 0, requested_threads = 1;
  double alpha = 0.0;
  if (!gowide_floats(env, argv[0], &a, &a_length) || !gowide_floats(env, argv[1], &b, &b_length) || !gowide_floats(env, argv[2], &out, &out_length) ||
      !gowide_optional_floats(env, argv[10], &bias, &bias_length)) {
    return gowide_fail(env, "sgemm", "a, b and out must be Float32Arrays, bias null or one");
  }
  if (!gowide_count(env, argv[3], &batch_a) || !gowide_count(env, argv[4], &batch_b) || !gowide_count(env, argv[5], &m) ||
      !gowide_count(env, argv[6], &n) || !gowide_count(env, argv[7], &k)) {
    return gowide_fail(env, "sgemm", "batchA, batchB, m, n and k must be non-negative 32-bit integers");
  }
  const bool transpose_a = gowide_flag(env, argv[8]), transpose_b = gowide_flag(env, argv[9]);
  napi_get_value_int32(env, argv[11], &activation);
  napi_get_value_double(env, argv[12], &alpha);
  napi_get_value_int32(env, argv[13], &requested_threads);
  if (bias != NULL && (int64_t)bias_length != n) return gowide_fail(env, "sgemm", "bias length must equal n");
  if (!gowide_activation_known(activation)) return gowide_fail(env, "sgemm", "unsupported activation code");
  if (batch_a != batch_b && batch_a != 1 && batch_b != 1) return gowide_fail(env, "sgemm", "batchA and batchB must be equal or one of them 1");
  const int64_t batch = batch_a > batch_b ? batch_a : batch_b;
  const size_t a_matrix = (size_t)(m * k), b_matrix = (size_t)(k * n), out_matrix = (size_t)(m * n);
  if (a_length < (size_t)batch_a * a_matrix || b_length < (size_t)batch_b * b_matrix || out_length < (size_t)batch * out_matrix) {
    return gowide_fail(env, "sgemm", "an array is shorter than its batch x rows x columns");
  }
  if (batch == 0 || out_matrix == 0) return NULL;

  if (k == 0) {
    // An empty sum: every product is zero (BLAS may leave out untouched when k is 0).
    memset(out, 0, sizeof(float) * (size_t)batch * out_matrix);
    gowide_bias_and_activation(out, (size_t)(batch * m), (size_t)n, bias, activation, (float)alpha);
    return NULL;
  }
  const int lda = transpose_a ? (int)m : (int)k;
  const int ldb = transpose_b ? (int)k : (int)n;
  const enum CBLAS_TRANSPOSE op_a = transpose_a ? CblasTrans : CblasNoTrans;
  const enum CBLAS_TRANSPOSE op_b = transpose_b ? CblasTrans : CblasNoTrans;

  if (batch == 1 || (batch_b == 1 && !transpose_a)) {
    // One product; every a[i] times the same b is one too: the a matrices stacked are one (batch*m) x k matrix.
    const Product product = {op_a, op_b, (int)(batch * m), (int)n, (int)k, lda, ldb, (int)n, a, b, out, bias, activation, (float)alpha};
    run_product(&product, gowide_threads(requested_threads, GOWIDE_MAX_THREADS));
  } else {
    for (int64_t i = 0; i < batch; i++) {
      const float *a_i = a + (batch_a == 1 ? 0 : (size_t)i * a_matrix);
      const float *b_i = b + (batch_b == 1 ? 0 : (size_t)i * b_matrix);
      cblas_sgemm(CblasRowMajor, op_a, op_b, (int)m, (int)n, (int)k, 1.0f, a_i, lda, b_i, ldb, 0.0f, out + (size_t)i * out_matrix, (int)n);
    }
    gowide_bias_and_activation(out, (size_t)(batch * m), (size_t)n, bias, activation, (float)alpha);
  }
  return NULL;
}

napi_value js_set_threads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc;
  int32_t count = 0;
  if (!gowide_arguments(env, info, 1, 1, argv, &argc) || napi_get_value_int32(env, argv[0], &count) != napi_ok || count < 1) {
    return gowide_fail(env, "setThreads", "expected a positive integer");
  }
  openblas_set_num_threads(count);
  return NULL;
}

napi_value js_get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, openblas_get_num_threads(), &result);
  return result;
}

napi_value js_blas_core(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &result);
  return result;
}
