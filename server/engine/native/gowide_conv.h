// Shared declarations of the gowide_blas addon's source files.
#ifndef GOWIDE_CONV_H
#define GOWIDE_CONV_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
// One exported function in a napi_property_descriptor array: its JS name and C callback.
#define GOWIDE_FUNCTION(name, callback) {name, NULL, callback, NULL, NULL, NULL, napi_default_jsproperty, NULL}
// Convolution kernels (gowide_conv.c): adds their functions to exports.
void gowide_conv_register(napi_env env, napi_value exports);
// Element-wise, reduction and batch-norm kernels (gowide_elementwise.c): adds their functions to exports.
void gowide_elementwise_register(napi_env env, napi_value exports);
// From gowide_blas.c: out[r, :] = activation(out[r, :] + bias) for `rows` rows; bias may be NULL;
// activation codes as there (0 linear, 1 relu, 2 relu6, 4 leakyrelu, 5 sigmoid, 6 elu).
void apply_bias_and_activation(float *out, size_t rows, size_t columns, const float *bias, int activation, float alpha);
// Attention's core (gowide_attention.c): adds its functions to exports.
void gowide_attention_register(napi_env env, napi_value exports);
// From gowide_conv.c: runs fn on each of `threads` work items of `size` bytes (the first on the
// calling thread, the others on the conv kernels' pool); false when an item's bool at
// failed_offset is set.
bool gowide_run_threads(void *(*fn)(void *), void *work, size_t size, int threads, size_t failed_offset);
// A matrix operand of gowide_product: element (i, r) at data[i * row_stride + r * column_stride],
// so that a transposed block is read in place.
typedef struct {
  const float *data;
  size_t row_stride, column_stride;
} GowideOperand;
static inline GowideOperand gowide_rows_of(const float *data, size_t ld) { return (GowideOperand){data, ld, 1}; }
static inline GowideOperand gowide_columns_of(const float *data, size_t ld) { return (GowideOperand){data, 1, ld}; }
// From gowide_tiles.c: out = a m for a `rows` x `inner`, m `inner` x n (row stride ldm), out
// `rows` x n (row stride ldo).
void gowide_product(GowideOperand a, size_t rows, size_t inner, const float *m, size_t ldm, size_t n, float *out, size_t ldo);
// From gowide_tiles.c: out = op(a) op(b) (out += with accumulate; op(a) m x k, op(b) k x n,
// row-major with leading dimensions lda, ldb, ldo) in register tiles of 8 x 32 where they beat
// OpenBLAS (n a multiple of 32, op(b) at most 2^18 values, m at least 8 and a multiple of 8 when a
// is transposed). False when they do not apply (or out of memory): then nothing was written.
bool gowide_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                  float *out, size_t ldo, bool accumulate);
// From gowide_elementwise.c: softmax over each row of `columns` values (out and x do not overlap).
void gowide_softmax_rows(const float *x, float *out, size_t rows, size_t columns);
#endif
