// The one header of the gowide_blas addon: what its source files share. One file per job:
//
//   module.c       the functions JavaScript sees (GOWIDE_EXPORTS below) registered on the module
//   napi_args.c    reading and checking N-API arguments, throwing "function: message" errors
//   thread_pool.c  the addon's worker threads, shared by every kernel that splits its work
//   activation.c   bias + activation after a product or a convolution
//   sgemm.c        sgemm (batched products, split over threads) and OpenBLAS's thread count
//   sgemm_tiles.c  products in register tiles, for the small and skinny ones OpenBLAS is slow on
//   conv.c         the convolutions' geometry and entry points: the direct convolution, else im2col
//   conv_im2col.c  convolutions as im2col + matrix products
//   conv_direct.c  the direct convolution for small channel counts
//   pooling.c      max pooling and its gradient
//   elementwise.c  tile, transpose, reduceSum, the broadcasting binary ops, the unary ops
//   softmax.c      softmax over rows
//   gather.c       rows of a matrix by index
//   batch_norm.c   batch normalization (inference, gradients, training kernels)
//   layer_norm.c   layer normalization and the residual add before it
//   adam.c         one Adam step
//   attention.c    the core of multi-head self-attention and its gradient
//
// Every exported function reads and writes the caller's Float32Arrays in place (for the wasm
// backend, views of its WebAssembly heap): nothing is copied. Every array length is checked against
// the sizes before anything is written.
#ifndef GOWIDE_ADDON_H
#define GOWIDE_ADDON_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// The exported functions: JavaScript name, C callback (defined in the file named).
#define GOWIDE_EXPORTS(X)                                                                        \
  X("sgemm", js_sgemm)                                   /* sgemm.c */                           \
  X("setThreads", js_set_threads)                                                                \
  X("getThreads", js_get_threads)                                                                \
  X("blasCore", js_blas_core)                                                                    \
  X("conv2d", js_conv2d)                                 /* conv.c */                            \
  X("conv2dBackpropFilter", js_conv2d_backprop_filter)                                           \
  X("conv2dBackpropInput", js_conv2d_backprop_input)                                             \
  X("maxPoolGrad", js_max_pool_grad)                     /* pooling.c */                         \
  X("maxPool", js_max_pool)                                                                      \
  X("tile", js_tile)                                     /* elementwise.c */                     \
  X("transpose", js_transpose)                                                                   \
  X("reduceSum", js_reduce_sum)                                                                  \
  X("binary", js_binary)                                                                         \
  X("unary", js_unary)                                                                           \
  X("erfGrad", js_erf_grad)                                                                      \
  X("reluGradSum", js_relu_grad_sum)                                                             \
  X("softmax", js_softmax)                               /* softmax.c */                         \
  X("gather", js_gather)                                 /* gather.c */                          \
  X("batchNorm", js_batch_norm)                          /* batch_norm.c */                      \
  X("batchNormGrad", js_batch_norm_grad)                                                         \
  X("batchNormGradFull", js_batch_norm_grad_full)                                                \
  X("batchNormTrain", js_batch_norm_train)                                                       \
  X("batchNormTrainGrad", js_batch_norm_train_grad)                                              \
  X("batchNormReluTrain", js_batch_norm_relu_train)                                              \
  X("batchNormReluTrainGrad", js_batch_norm_relu_train_grad)                                     \
  X("layerNorm", js_layer_norm)                          /* layer_norm.c */                      \
  X("layerNormGrad", js_layer_norm_grad)                                                         \
  X("addLayerNorm", js_add_layer_norm)                                                           \
  X("addLayerNormGrad", js_add_layer_norm_grad)                                                  \
  X("adam", js_adam)                                     /* adam.c */                            \
  X("attention", js_attention)                           /* attention.c */                       \
  X("attentionGrad", js_attention_grad)

#define GOWIDE_DECLARE_EXPORT(name, callback) napi_value callback(napi_env env, napi_callback_info info);
GOWIDE_EXPORTS(GOWIDE_DECLARE_EXPORT)
#undef GOWIDE_DECLARE_EXPORT

// ---------------------------------------------------------------------------------------------
// Vector code.

// Loops also compiled for AVX2 and AVX-512, picked at load time by the CPU (GCC target clones),
// so the addon stays portable (plain x86-64 otherwise).
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif
// 16 floats (or int32s) in one vector register where the CPU has them (GCC vector extensions).
typedef float Floats16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t Ints16 __attribute__((vector_size(64), aligned(4)));
// The lanes of v folded in halves with op (a function or macro of two vectors: max, sum); every
// lane holds the result.
#define FOLD_LANES(v, op)                                                                            \
  do {                                                                                               \
    v = op(v, __builtin_shuffle(v, (Ints16){8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7})); \
    v = op(v, __builtin_shuffle(v, (Ints16){4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11})); \
    v = op(v, __builtin_shuffle(v, (Ints16){2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13})); \
    v = op(v, __builtin_shuffle(v, (Ints16){1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14})); \
  } while (0)
static inline __attribute__((always_inline)) Floats16 lanes_sum(Floats16 a, Floats16 b) { return a + b; }

// exp and erf as straight-line float code, so that loops over them vectorize (libm's expf and
// erff are calls the compiler cannot vectorize; erff took ~8 ns a value).
//
// exp(x) = 2^n * e^r with n = round(x / ln 2), r = x - n ln 2 in [-0.35, 0.35]; e^r by its Taylor
// series to r^6 (relative error < 2e-7); 2^n built in the exponent bits. The rounding adds and
// subtracts 1.5 * 2^23, which leaves the nearest integer in the low mantissa bits.
static inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float shifter = 12582912.0f; // 1.5 * 2^23
  const float shifted = x * 1.44269504f + shifter;
  const float n = shifted - shifter;
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f; // ln 2 in two parts
  const float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  int32_t bits;
  memcpy(&bits, &shifted, sizeof bits);
  bits = (bits - 0x4B400000 + 127) << 23; // n + 127 in the exponent field
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// erf by Abramowitz and Stegun 7.1.26 (absolute error < 1.5e-7, the formula TF.js's cpu backend
// uses): erf(|x|) = 1 - (a1 t + ... + a5 t^5) exp(-x^2) with t = 1 / (1 + p |x|).
static inline float fast_erf(float x) {
  const float a = x < 0.0f ? -x : x;
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float y = 1.0f - poly * fast_exp(-a * a);
  return x < 0.0f ? -y : y;
}

// ---------------------------------------------------------------------------------------------
// N-API arguments (napi_args.c). The readers return false without throwing, so that the caller
// throws one message saying what it expected.

// Throws an Error "function: message"; returns NULL (what a callback then returns).
napi_value gowide_fail(napi_env env, const char *function, const char *message);
// Reads the call's arguments into argv (room for `most`); false unless there are least to most.
bool gowide_arguments(napi_env env, napi_callback_info info, size_t least, size_t most, napi_value *argv, size_t *argc);
// A typed array of type `wanted`: its data and element count.
bool gowide_typed_array(napi_env env, napi_value value, napi_typedarray_type wanted, void **data, size_t *length);
bool gowide_floats(napi_env env, napi_value value, float **data, size_t *length);
// null or undefined (then data NULL, length 0), or a Float32Array.
bool gowide_optional_floats(napi_env env, napi_value value, float **data, size_t *length);
// An integer in [0, 2^31).
bool gowide_count(napi_env env, napi_value value, int64_t *result);
bool gowide_flag(napi_env env, napi_value value);
// The optional thread count at argv[index] of a kernel that splits over the pool: at least 1,
// 1 when absent.
int gowide_optional_threads(napi_env env, const napi_value *argv, size_t argc, size_t index);
// The arguments of the normalization kernels: `count` Float32Arrays (those whose bit is set in
// `optional` may be null: NULL, length 0), then a positive count (channels, period or columns)
// and epsilon, and where threads is not NULL an optional thread count (default 1). False after
// throwing.
bool gowide_norm_arguments(napi_env env, napi_callback_info info, const char *name, size_t count, unsigned optional, float **arrays,
                           size_t *lengths, int64_t *per, double *epsilon, int *threads);

// ---------------------------------------------------------------------------------------------
// The thread pool (thread_pool.c).

#define GOWIDE_MAX_THREADS 8
// True on the pool's worker threads. They must not call getenv: it races with setenv (Node's
// process.env writes) on the calling thread.
bool gowide_on_pool_worker(void);
// `requested` threads (any int) limited to 1 .. GOWIDE_MAX_THREADS and to `items` work items.
int gowide_threads(int64_t requested, int64_t items);
// Runs fn on each of `threads` work items (an array of items of `size` bytes; the first on the
// calling thread, the others on the pool); false when an item's bool at byte failed_offset
// (offsetof its failed flag) is set.
bool gowide_run_threads(void *(*fn)(void *), void *work, size_t size, int threads, size_t failed_offset);
// Memory-bound passes of at least this many values split over the pool: one core alone streams a
// fraction of the memory bandwidth two do (a ReLU gradient of 6.4M values: 4.3 ms on one thread,
// 1.7 on two, this machine); from 2^14 values the thin MLP's [128, 256] passes split too, measured
// 1.04-1.06x against 2^16 (docs/BENCH.md). GOWIDE_SPLIT_MIN_VALUES overrides it, for measuring.
#define GOWIDE_SPLIT_MIN_VALUES (1 << 14)
double gowide_split_min_values(void);
// fn(context, begin, end, part) for parts [begin, end) of [0, count) in order, ends multiples of
// `align` except the last: `threads` parts on the pool when count * values_per_item reaches
// gowide_split_min_values(), else one part on the calling thread. Returns the number of parts (for
// callers that combine one partial result per part).
typedef void (*GowideRangeFn)(void *context, int64_t begin, int64_t end, int part);
int gowide_parallel_ranges(GowideRangeFn fn, void *context, int64_t count, int64_t values_per_item, int64_t align, int threads);
// A buffer of at least `count` floats owned by the calling thread (one per slot, 0 or 1), kept
// between calls and grown when needed, so that the pool's threads do not allocate per call. NULL
// when out of memory.
float *gowide_thread_buffer(int slot, size_t count);

// ---------------------------------------------------------------------------------------------
// Bias and activation (activation.c): the codes of the wasm backend's FusableActivation, without prelu.

enum GowideActivation {
  ACTIVATION_LINEAR = 0,
  ACTIVATION_RELU = 1,
  ACTIVATION_RELU6 = 2,
  ACTIVATION_LEAKYRELU = 4,
  ACTIVATION_SIGMOID = 5,
  ACTIVATION_ELU = 6,
};
bool gowide_activation_known(int32_t code);
// out[r, :] = activation(out[r, :] + bias) for `rows` rows; bias may be NULL; alpha: leakyrelu's slope.
void gowide_bias_and_activation(float *out, size_t rows, size_t columns, const float *bias, int activation, float alpha);
// The same for rows `row_stride` floats apart.
void gowide_bias_and_activation_strided(float *out, size_t rows, size_t columns, size_t row_stride, const float *bias, int activation, float alpha);

// ---------------------------------------------------------------------------------------------
// Products in register tiles (sgemm_tiles.c).

// A matrix operand: element (i, r) at data[i * row_stride + r * column_stride], so that a
// transposed block is read in place.
typedef struct {
  const float *data;
  size_t row_stride, column_stride;
} GowideOperand;
static inline GowideOperand gowide_rows_of(const float *data, size_t ld) { return (GowideOperand){data, ld, 1}; }
static inline GowideOperand gowide_columns_of(const float *data, size_t ld) { return (GowideOperand){data, 1, ld}; }
// out = a m for a `rows` x `inner`, m `inner` x n (row stride ldm), out `rows` x n (row stride ldo).
void gowide_product(GowideOperand a, size_t rows, size_t inner, const float *m, size_t ldm, size_t n, float *out, size_t ldo);
// dst (cols x rows, row-major) = the transpose of src (rows x cols, row stride ld_src), in 16 x 16
// blocks so that both sides stay within a few cache lines at a time.
void gowide_transpose(const float *src, size_t ld_src, size_t rows, size_t cols, float *dst);
// out = op(a) op(b) (out += with accumulate; op(a) m x k, op(b) k x n, row-major with leading
// dimensions lda, ldb, ldo) in register tiles of 8 x 32 where they beat OpenBLAS (narrow products:
// n 32 or 64, k at most 64, or m at most 32 when a is transposed; m at least 8 and a multiple of 8
// when a is transposed). False when they do not apply (or out of memory): then nothing was written.
bool gowide_tiled_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                        size_t ldb, float *out, size_t ldo, bool accumulate);

// ---------------------------------------------------------------------------------------------
// Rows and sums shared between kernels.

// Softmax over each row of `columns` values (out and x do not overlap; softmax.c).
void gowide_softmax_rows(const float *x, float *out, size_t rows, size_t columns);
// The sum of n contiguous values, in 8 partial sums so that it vectorizes (elementwise.c).
float gowide_sum_contiguous(const float *values, int64_t n);

// ---------------------------------------------------------------------------------------------
// Convolutions (conv.c, conv_im2col.c, conv_direct.c, pooling.c). Filters are [fh, fw, ci, co]
// (TF.js layout), i.e. a row-major K x co matrix with K = fh * fw * ci; images are NHWC.

// The geometry argument: an Int32Array of G_COUNT values in this order.
enum Geometry {
  G_BATCH, G_IN_H, G_IN_W, G_IN_C, G_OUT_H, G_OUT_W, G_OUT_C, G_FILTER_H, G_FILTER_W,
  G_STRIDE_H, G_STRIDE_W, G_DILATION_H, G_DILATION_W, G_PAD_TOP, G_PAD_LEFT, G_CHUNK_ROWS, G_THREADS,
  G_COUNT
};

typedef struct {
  int64_t batch, in_h, in_w, in_c, out_h, out_w, out_c, filter_h, filter_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t k;          // filter_h * filter_w * in_c: the im2col row length
  int64_t rows;       // batch * out_h * out_w: output pixels
  int64_t chunk_rows; // output pixels per im2col chunk
  int threads;
  const float *bias;  // forward only: null or out_c values
  size_t bias_length;
  int activation;     // forward only: a GowideActivation
  float alpha;        // leakyrelu's slope
} Conv;

// What a convolution computes: the forward conv, the filter gradient or the input gradient.
typedef enum { WORK_FORWARD, WORK_FILTER, WORK_INPUT } WorkKind;

// Reads the three arrays and the geometry of a conv-like call (conv2d's bias, activation and
// alpha when given); false after throwing (conv.c).
bool gowide_conv_arguments(napi_env env, napi_callback_info info, const char *function, float **arrays, size_t *lengths, Conv *c);
// The conv, or one of its gradients, as im2col + matrix products (conv_im2col.c): forward
// (x, filter, y), filter (x, dy, dfilter), input (dy, filter, dx). False when out of memory.
bool gowide_im2col_conv(const Conv *c, WorkKind kind, const float *a, const float *b, float *out);
// The same as the direct convolution where it applies (conv_direct.c): false when it does not
// (nothing written); *ok false when out of memory.
bool gowide_direct_conv(const Conv *c, WorkKind kind, const float *a, const float *b, float *out, bool *ok);

#endif
