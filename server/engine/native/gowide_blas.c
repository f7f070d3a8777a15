// gowide_blas: single-precision matrix products for TF.js kernels, computed by OpenBLAS.
//
// The addon reads and writes the caller's Float32Arrays in place (for the wasm backend these are
// views of its WebAssembly heap), so no data is copied. This file exports sgemm (below) and
// setThreads/getThreads; gowide_conv.c adds the convolution kernels, gowide_elementwise.c the
// element-wise ones, gowide_attention.c attention's core:
//
//   sgemm(a, b, out, batchA, batchB, m, n, k, transposeA, transposeB, bias, activation, alpha[, threads[, tiles]])
//
// computes, for every batch index i in [0, max(batchA, batchB)),
//   out[i] = activation(op(a[i % batchA]) * op(b[i % batchB]) + bias)
// where op(x) is x or its transpose, op(a[i]) is m x k, op(b[i]) is k x n, out[i] is m x n, all
// row-major and contiguous. batchA and batchB must be equal or one of them 1. bias is null or a
// Float32Array of length n added to every row; activation is one of the codes below (the same
// numbering as the wasm backend's FusableActivation, without prelu); alpha is leakyrelu's slope.
// threads (default 1): a single product of 2^24 multiply-adds or more is split over that many
// threads of the conv kernels' pool, each a share of out's rows (or columns, when it has more).
// tiles (default true): small products where they fit run in gowide_tiles.c's register tiles.
// Every array length is checked against the sizes before anything is written.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <cblas.h>
#include <node_api.h>
#include "gowide_conv.h"

enum Activation {
  ACTIVATION_LINEAR = 0,
  ACTIVATION_RELU = 1,
  ACTIVATION_RELU6 = 2,
  ACTIVATION_LEAKYRELU = 4,
  ACTIVATION_SIGMOID = 5,
  ACTIVATION_ELU = 6,
};

#define ARGUMENT_COUNT 13 // and optional threads and tiles
#define MAX_THREADS 8
// Below this many multiply-adds a product stays on the calling thread: waking a pool thread
// costs more than it saves.
#define SPLIT_MIN_MACS (1 << 24)

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// Reads a Float32Array argument; returns false (with a pending JS exception) otherwise.
static bool get_float32_array(napi_env env, napi_value value, const char *name, float **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    char message[96];
    snprintf(message, sizeof message, "sgemm: %s must be a Float32Array", name);
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  *data = (float *)raw;
  return true;
}

static bool get_size(napi_env env, napi_value value, const char *name, int64_t *result) {
  if (napi_get_value_int64(env, value, result) != napi_ok || *result < 0 || *result > INT32_MAX) {
    char message[96];
    snprintf(message, sizeof message, "sgemm: %s must be a non-negative 32-bit integer", name);
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  return true;
}

static bool get_flag(napi_env env, napi_value value) {
  bool flag = false;
  napi_get_value_bool(env, value, &flag);
  return flag;
}

static float apply_activation(float value, int activation, float alpha) {
  switch (activation) {
    case ACTIVATION_RELU: return value > 0.0f ? value : 0.0f;
    case ACTIVATION_RELU6: return value < 0.0f ? 0.0f : (value > 6.0f ? 6.0f : value);
    case ACTIVATION_LEAKYRELU: return value > 0.0f ? value : alpha * value;
    case ACTIVATION_SIGMOID: return 1.0f / (1.0f + expf(-value));
    case ACTIVATION_ELU: return value > 0.0f ? value : expm1f(value);
    default: return value;
  }
}

// Adds bias (may be NULL) to each of `rows` rows of `columns` values, then applies the activation.
// Also used by the convolutions (gowide_conv.h).
void apply_bias_and_activation(float *out, size_t rows, size_t columns, const float *bias, int activation,
                                      float alpha) {
  if (bias == NULL && activation == ACTIVATION_LINEAR) return;
  for (size_t row = 0; row < rows; row++) {
    float *values = out + row * columns;
    if (bias != NULL) {
      for (size_t column = 0; column < columns; column++) values[column] += bias[column];
    }
    if (activation == ACTIVATION_RELU) {
      for (size_t column = 0; column < columns; column++) values[column] = values[column] > 0.0f ? values[column] : 0.0f;
    } else if (activation != ACTIVATION_LINEAR) {
      for (size_t column = 0; column < columns; column++) values[column] = apply_activation(values[column], activation, alpha);
    }
  }
}

// One cblas_sgemm call, out = op(a) op(b) (m x n, row stride ldo), and the share of it a thread
// computes: rows [first, last) of out, or columns when split_columns.
typedef struct {
  enum CBLAS_TRANSPOSE op_a, op_b;
  int m, n, k, lda, ldb, ldo;
  const float *a, *b;
  float *out;
} Product;

typedef struct {
  const Product *p;
  int first, last;
  bool split_columns;
  bool tiles;
  bool failed; // never set: gowide_run_threads' protocol
} ProductShare;

// Rows [first, last) of out (or columns, split_columns) as a product of their own.
static Product product_part(const Product *p, int first, int last, bool split_columns) {
  Product part = *p;
  if (split_columns) { // columns of op(b) and out
    part.n = last - first;
    part.b = p->b + (size_t)first * (p->op_b == CblasTrans ? (size_t)p->ldb : 1);
    part.out = p->out + first;
  } else { // rows of op(a) and out
    part.m = last - first;
    part.a = p->a + (size_t)first * (p->op_a == CblasTrans ? 1 : (size_t)p->lda);
    part.out = p->out + (size_t)first * (size_t)p->ldo;
  }
  return part;
}

// Products with at most SMALL_TILES columns (a multiple of 16) and terms per sum, a not
// transposed, also go to gowide_tiles.c's 4 x 16 tiles (a transposed b transposed first).
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
    for (int r = 0; r < p->k; r++) {
      for (int c = 0; c < p->n; c++) transposed[(size_t)r * (size_t)p->n + (size_t)c] = p->b[(size_t)c * (size_t)p->ldb + (size_t)r];
    }
    b = transposed;
    ldb = p->n;
  }
  gowide_product(gowide_rows_of(p->a, (size_t)p->lda), (size_t)p->m, (size_t)p->k, b, (size_t)ldb, (size_t)p->n, p->out, (size_t)p->ldo);
  free(transposed);
  return true;
}

// One product: in register tiles where they apply and tiles is set (faster than OpenBLAS there:
// see gowide_tiles.c), else OpenBLAS.
static void compute_product(const Product *p, bool tiles) {
  if (tiles && gowide_sgemm(p->op_a == CblasTrans, p->op_b == CblasTrans, (size_t)p->m, (size_t)p->n, (size_t)p->k, p->a, (size_t)p->lda,
                            p->b, (size_t)p->ldb, p->out, (size_t)p->ldo, false)) {
    return;
  }
  if (tiles && small_tiles_fit(p) && small_tile_product(p)) return;
  cblas_sgemm(CblasRowMajor, p->op_a, p->op_b, p->m, p->n, p->k, 1.0f, p->a, p->lda, p->b, p->ldb, 0.0f, p->out, p->ldo);
}

static void *product_share(void *argument) {
  const ProductShare *s = (const ProductShare *)argument;
  if (s->last <= s->first) return NULL;
  const Product part = product_part(s->p, s->first, s->last, s->split_columns);
  compute_product(&part, s->tiles);
  return NULL;
}

// The product on up to `threads` threads (the conv kernels' pool), split along the longer of
// out's two axes; small products on the calling thread alone.
static void run_product(const Product *p, int threads, bool tiles) {
  const bool split_columns = p->n > p->m;
  const int length = split_columns ? p->n : p->m;
  if ((double)p->m * p->n * p->k < SPLIT_MIN_MACS || length < 64 * threads) threads = 1;
  if (threads <= 1) {
    compute_product(p, tiles);
    return;
  }
  ProductShare shares[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    // Shares of whole 32s (the tiles' columns and OpenBLAS's blocks), the last takes the rest.
    const int first = (int)((int64_t)length * t / threads) & ~31, last = t == threads - 1 ? length : (int)((int64_t)length * (t + 1) / threads) & ~31;
    shares[t] = (ProductShare){p, first, last, split_columns, tiles, false};
  }
  gowide_run_threads(product_share, shares, sizeof shares[0], threads, offsetof(ProductShare, failed));
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = ARGUMENT_COUNT + 2;
  napi_value argv[ARGUMENT_COUNT + 2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < ARGUMENT_COUNT || argc > ARGUMENT_COUNT + 2) return throw_error(env, "sgemm: expected 13 to 15 arguments");
  int32_t threads = 1;
  if (argc > ARGUMENT_COUNT) napi_get_value_int32(env, argv[ARGUMENT_COUNT], &threads);
  const bool tiles = argc <= ARGUMENT_COUNT + 1 || get_flag(env, argv[ARGUMENT_COUNT + 1]);
  threads = threads < 1 ? 1 : (threads > MAX_THREADS ? MAX_THREADS : threads);

  float *a, *b, *out;
  size_t a_length, b_length, out_length;
  int64_t batch_a, batch_b, m, n, k;
  if (!get_float32_array(env, argv[0], "a", &a, &a_length) || !get_float32_array(env, argv[1], "b", &b, &b_length) ||
      !get_float32_array(env, argv[2], "out", &out, &out_length) || !get_size(env, argv[3], "batchA", &batch_a) ||
      !get_size(env, argv[4], "batchB", &batch_b) || !get_size(env, argv[5], "m", &m) ||
      !get_size(env, argv[6], "n", &n) || !get_size(env, argv[7], "k", &k)) {
    return NULL;
  }
  const bool transpose_a = get_flag(env, argv[8]);
  const bool transpose_b = get_flag(env, argv[9]);

  float *bias = NULL;
  napi_valuetype bias_type;
  napi_typeof(env, argv[10], &bias_type);
  if (bias_type != napi_null && bias_type != napi_undefined) {
    size_t bias_length;
    if (!get_float32_array(env, argv[10], "bias", &bias, &bias_length)) return NULL;
    if ((int64_t)bias_length != n) return throw_error(env, "sgemm: bias length must equal n");
  }
  int32_t activation = 0;
  double alpha = 0.0;
  napi_get_value_int32(env, argv[11], &activation);
  napi_get_value_double(env, argv[12], &alpha);
  if (activation != ACTIVATION_LINEAR && activation != ACTIVATION_RELU && activation != ACTIVATION_RELU6 &&
      activation != ACTIVATION_LEAKYRELU && activation != ACTIVATION_SIGMOID && activation != ACTIVATION_ELU) {
    return throw_error(env, "sgemm: unsupported activation code");
  }

  if (batch_a != batch_b && batch_a != 1 && batch_b != 1) {
    return throw_error(env, "sgemm: batchA and batchB must be equal or one of them 1");
  }
  const int64_t batch = batch_a > batch_b ? batch_a : batch_b;
  const size_t a_matrix = (size_t)(m * k), b_matrix = (size_t)(k * n), out_matrix = (size_t)(m * n);
  if (a_length < (size_t)batch_a * a_matrix || b_length < (size_t)batch_b * b_matrix ||
      out_length < (size_t)batch * out_matrix) {
    return throw_error(env, "sgemm: an array is shorter than its batch x rows x columns");
  }
  if (batch == 0 || out_matrix == 0) return NULL;

  if (k == 0) {
    // An empty sum: every product is zero (BLAS may leave out untouched when k is 0).
    for (size_t index = 0; index < (size_t)batch * out_matrix; index++) out[index] = 0.0f;
    apply_bias_and_activation(out, (size_t)(batch * m), (size_t)n, bias, activation, (float)alpha);
    return NULL;
  }
  const int lda = transpose_a ? (int)m : (int)k;
  const int ldb = transpose_b ? (int)k : (int)n;
  const enum CBLAS_TRANSPOSE op_a = transpose_a ? CblasTrans : CblasNoTrans;
  const enum CBLAS_TRANSPOSE op_b = transpose_b ? CblasTrans : CblasNoTrans;

  if (batch == 1 || (batch_b == 1 && !transpose_a)) {
    // One product; every a[i] times the same b is one too: the a matrices stacked are one (batch*m) x k matrix.
    const Product product = {op_a, op_b, (int)(batch * m), (int)n, (int)k, lda, ldb, (int)n, a, b, out};
    run_product(&product, threads, tiles);
  } else {
    for (int64_t i = 0; i < batch; i++) {
      const float *a_i = a + (batch_a == 1 ? 0 : (size_t)i * a_matrix);
      const float *b_i = b + (batch_b == 1 ? 0 : (size_t)i * b_matrix);
      cblas_sgemm(CblasRowMajor, op_a, op_b, (int)m, (int)n, (int)k, 1.0f, a_i, lda, b_i, ldb, 0.0f,
                  out + (size_t)i * out_matrix, (int)n);
    }
  }
  apply_bias_and_activation(out, (size_t)(batch * m), (size_t)n, bias, activation, (float)alpha);
  return NULL;
}

// setThreads(count): the number of threads OpenBLAS uses (declared in OpenBLAS's cblas.h);
// getThreads() reads it back.

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t count = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &count) != napi_ok || count < 1) {
    return throw_error(env, "setThreads: expected a positive integer");
  }
  openblas_set_num_threads(count);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, openblas_get_num_threads(), &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    GOWIDE_FUNCTION("sgemm", sgemm),
    GOWIDE_FUNCTION("setThreads", set_threads),
    GOWIDE_FUNCTION("getThreads", get_threads),
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  // How many arguments sgemm takes at most (13 before threads and tiles), for callers to check.
  napi_value sgemm_arguments;
  napi_create_int32(env, ARGUMENT_COUNT + 2, &sgemm_arguments);
  napi_set_named_property(env, exports, "sgemmArguments", sgemm_arguments);
  gowide_conv_register(env, exports);
  gowide_elementwise_register(env, exports);
  gowide_attention_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
