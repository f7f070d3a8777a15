// gowide_elementwise: memory-bound kernels for the TF.js wasm backend's training steps, in C on
// the wasm heap like the rest of the addon (gowide_blas.c, gowide_conv.c). The TF.js wasm kernels
// they replace walk broadcast shapes one index computation per element (Tile, broadcasting binary
// ops) or transpose before reducing (Sum and Mean over leading axes); these walk memory in order.
//
//   tile(x, out, shape, reps)          out = x repeated reps[d] times along each axis d
//   reduceSum(x, out, outer, reduce, inner, scale)
//                                      out[a, b] = scale * sum over r of x[a, r, b]
//   binary(op, a, b, out, dims)        out = a op b with broadcasting; dims = [rank, out sizes...,
//                                      a strides..., b strides...] (stride 0 on a broadcast axis);
//                                      also relu's and square's gradients (a = dy, b = x) and
//                                      max(0, a + b)
//   unary(op, x, out)                  out = f(x) for f = exp, erf, rsqrt, sqrt, log, tanh, sigmoid, gelu
//   erfGrad(x, dy, out[, op])          out = dy * 2/sqrt(pi) * exp(-x^2); op 1: GELU's gradient
//   gather(x, indices, out, rows, rowSize)
//                                      out[i, :] = x[indices[i], :]; false (nothing written) when an
//                                      index is outside [0, rows)
//   transpose(x, out, shape, perm)     out = x with its axes permuted (out axis d = x axis perm[d])
//   softmax(x, out, rows, columns)     softmax over each row of `columns` values
//   batchNorm(x, mean, variance, scale, offset, out, period, epsilon)
//                                      out = (x - mean) / sqrt(variance + epsilon) * scale + offset,
//                                      the statistics repeating every `period` values of x
//   batchNormGrad(x, dy, mean, variance, scale, dx, dmean, dvariance, dscale, doffset,
//                 channels, epsilon)   the five gradients of per-channel batch normalization
//   batchNormGradFull(x, dy, mean, variance, scale, dx, dmean, dvariance, dscale, epsilon)
//                                      the same with statistics as large as x (LayerNorm's tiled
//                                      ones): one element-wise pass (doffset is dy itself)
//   batchNormTrain(x, scale, offset, y, mean, variance, channels, epsilon[, threads])
//                                      per-channel batch normalization in training: the batch's
//                                      mean and (biased) variance of each channel (the last axis),
//                                      and y normalized with them; two passes over x, each split
//                                      over `threads` threads of the conv pool (from 2^16 values)
//   batchNormTrainGrad(x, dy, mean, variance, scale, dmean, dvariance, dx, dscale, doffset,
//                      channels, epsilon[, threads])
//                                      its gradients, through the batch statistics; two passes
//   layerNorm(x, scale, offset, y, columns, epsilon)
//                                      layer normalization of each row of `columns` values (the
//                                      last axis), scale and offset per column; one pass
//   layerNormGrad(x, dy, scale, dx, dscale, doffset, columns, epsilon)
//                                      its gradients (the row statistics recomputed); one pass
//   addLayerNorm(a, b, scale, offset, y, columns, epsilon), addLayerNormGrad(a, b, dy, scale, dx,
//                dscale, doffset, columns, epsilon)
//                                      the same of x = a + b (a residual add, then LayerNorm)
//   adam(x, g, m, v, xOut, mOut, vOut, params)
//                                      one Adam step of a variable x with gradient g and moments
//                                      m, v in one pass (params below, at adam_run)
//
// Shapes are given already simplified by the caller (axes of size 1 dropped, neighbouring axes
// of the same kind merged), so the loops stay short. Every length is checked before writing.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <node_api.h>
#include "gowide_conv.h"

#define MAX_RANK 8

// The unary and binary loops are also compiled for AVX2 and AVX-512 (VECTOR_CLONES, gowide_conv.h).
// Measured per call: erf 13.6 -> 1.2 ns a value (with the straight-line erf below), a same-shape
// add of 800k values 0.22 -> 0.10 ms. Not for the batch-norm rows of 8-16 channels, which AVX-512
// made 2x slower.

static napi_value fail(napi_env env, const char *function, const char *message) {
  char text[160];
  snprintf(text, sizeof text, "%s: %s", function, message);
  napi_throw_error(env, NULL, text);
  return NULL;
}

static bool typed_array(napi_env env, napi_value value, napi_typedarray_type wanted, void **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok || type != wanted) {
    return false;
  }
  return true;
}

static bool floats(napi_env env, napi_value value, float **data, size_t *length) {
  return typed_array(env, value, napi_float32_array, (void **)data, length);
}

static bool is_nullish(napi_env env, napi_value value) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  return type == napi_null || type == napi_undefined;
}

static bool non_negative(napi_env env, napi_value value, int64_t *result) {
  return napi_get_value_int64(env, value, result) == napi_ok && *result >= 0 && *result <= INT32_MAX;
}

// The arguments of the normalization kernels: `count` Float32Arrays (those whose bit is set in
// `optional` may be null: NULL, length 0), then a positive count (channels, period or columns)
// and epsilon, and where threads is not NULL an optional thread count (default 1). False after
// throwing.
static bool norm_arguments(napi_env env, napi_callback_info info, const char *name, size_t count, unsigned optional, float **arrays,
                           size_t *lengths, int64_t *per, double *epsilon, int *threads) {
  napi_value argv[16];
  size_t argc = count + 3;
  const bool counted = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok &&
                       (argc == count + 2 || (threads != NULL && argc == count + 3));
  if (count + 3 > 16 || !counted) {
    fail(env, name, "wrong number of arguments");
    return false;
  }
  if (threads != NULL) {
    int32_t requested = 1;
    if (argc == count + 3) napi_get_value_int32(env, argv[count + 2], &requested);
    *threads = requested < 1 ? 1 : requested;
  }
  for (size_t i = 0; i < count; i++) {
    arrays[i] = NULL;
    lengths[i] = 0;
    if (((optional >> i) & 1u) != 0 && is_nullish(env, argv[i])) continue;
    if (!floats(env, argv[i], &arrays[i], &lengths[i])) {
      fail(env, name, "arrays must be Float32Arrays (the optional ones may be null)");
      return false;
    }
  }
  if (!non_negative(env, argv[count], per) || *per < 1 || napi_get_value_double(env, argv[count + 1], epsilon) != napi_ok) {
    fail(env, name, "the channel (or period, column) count must be positive and epsilon a number");
    return false;
  }
  return true;
}

// Walks the outer axes [0, axes) of a strided loop like an odometer: the next index, and the two
// offsets (second may be NULL) moved by their strides.
typedef struct {
  int axes;
  int64_t size[MAX_RANK], stride[2][MAX_RANK], index[MAX_RANK];
  size_t offset[2];
} Odometer;

static void odometer_step(Odometer *o) {
  for (int d = o->axes - 1; d >= 0; d--) {
    o->offset[0] += (size_t)o->stride[0][d];
    o->offset[1] += (size_t)o->stride[1][d];
    if (++o->index[d] < o->size[d]) return;
    o->offset[0] -= (size_t)(o->stride[0][d] * o->size[d]);
    o->offset[1] -= (size_t)(o->stride[1][d] * o->size[d]);
    o->index[d] = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// tile

// Copies the block out[0, block) so that it repeats `times` times, doubling the copied span.
static void repeat_block(float *out, size_t block, int64_t times) {
  size_t filled = block;
  const size_t total = block * (size_t)times;
  while (filled < total) {
    const size_t span = filled < total - filled ? filled : total - filled;
    memcpy(out + filled, out, span * sizeof(float));
    filled += span;
  }
}

typedef struct {
  int rank;
  int64_t shape[MAX_RANK], reps[MAX_RANK];
  size_t x_stride[MAX_RANK], out_stride[MAX_RANK];
} Tile;

// Writes the first repetition of axis `axis` (its x.shape[axis] slices, each tiled below), then
// repeats that block reps[axis] times.
static void tile_axis(const Tile *t, int axis, const float *x, float *out) {
  const int64_t size = t->shape[axis];
  if (axis == t->rank - 1) {
    memcpy(out, x, (size_t)size * sizeof(float));
  } else {
    for (int64_t i = 0; i < size; i++) tile_axis(t, axis + 1, x + i * t->x_stride[axis], out + i * t->out_stride[axis]);
  }
  repeat_block(out, (size_t)size * t->out_stride[axis], t->reps[axis]);
}

// The arguments of tile and transpose: (Float32Array x, Float32Array out, Int32Array shape,
// Int32Array per-axis values: reps or perm) with ranks 1 to 8 that agree.
typedef struct {
  float *x, *out;
  int32_t *shape, *per_axis;
  size_t x_length, out_length, rank;
} ShapeArgs;

// Reads them into a; false with a pending exception.
static bool shape_arguments(napi_env env, napi_callback_info info, const char *function, ShapeArgs *a) {
  size_t argc = 4, per_axis_length = 0;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 || !floats(env, argv[0], &a->x, &a->x_length) ||
      !floats(env, argv[1], &a->out, &a->out_length) || !typed_array(env, argv[2], napi_int32_array, (void **)&a->shape, &a->rank) ||
      !typed_array(env, argv[3], napi_int32_array, (void **)&a->per_axis, &per_axis_length)) {
    fail(env, function, "expected (Float32Array x, Float32Array out, Int32Array shape, Int32Array of one value per axis)");
    return false;
  }
  if (a->rank < 1 || a->rank > MAX_RANK || per_axis_length != a->rank) {
    fail(env, function, "the shape and the per-axis values need the same rank, 1 to 8");
    return false;
  }
  return true;
}

static napi_value tile(napi_env env, napi_callback_info info) {
  ShapeArgs a;
  if (!shape_arguments(env, info, "tile", &a)) return NULL;
  const int32_t *shape = a.shape, *reps = a.per_axis;
  const size_t rank = a.rank;
  float *x = a.x, *out = a.out;
  Tile t = {.rank = (int)rank};
  size_t x_size = 1, out_size = 1;
  for (size_t d = 0; d < rank; d++) {
    if (shape[d] < 0 || reps[d] < 0) return fail(env, "tile", "sizes and reps must be non-negative");
    t.shape[d] = shape[d];
    t.reps[d] = reps[d];
    x_size *= (size_t)shape[d];
    out_size *= (size_t)shape[d] * (size_t)reps[d];
  }
  if (a.x_length < x_size || a.out_length < out_size) return fail(env, "tile", "an array is shorter than its shape");
  if (out_size == 0) return NULL;
  t.x_stride[rank - 1] = 1;
  t.out_stride[rank - 1] = 1;
  for (int d = (int)rank - 2; d >= 0; d--) {
    t.x_stride[d] = t.x_stride[d + 1] * (size_t)t.shape[d + 1];
    t.out_stride[d] = t.out_stride[d + 1] * (size_t)(t.shape[d + 1] * t.reps[d + 1]);
  }
  tile_axis(&t, 0, x, out);
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// reduceSum

// The sum of n contiguous values, in 8 partial sums (so the compiler can vectorize it).
static float sum_contiguous(const float *values, int64_t n) {
  float partial[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) partial[j] += values[i + j];
  }
  float total = 0.0f;
  for (; i < n; i++) total += values[i];
  for (int j = 0; j < 8; j++) total += partial[j];
  return total;
}

// target[b] = sum over r of block[r * inner + b], for rows of fewer than 64 values (BatchNorm's
// channels): groups of `group` rows are added as one long row into a float accumulator (a loop that
// vectorizes, unlike one over 8 or 16 values), flushed into double totals every 64 groups.
#define SHORT_ROW_WIDTH 256
VECTOR_CLONES static void sum_short_rows(const float *block, int64_t reduce, int64_t inner, double *totals, float *target) {
  const int64_t group = SHORT_ROW_WIDTH / inner, width = group * inner, groups = reduce / group;
  float acc[SHORT_ROW_WIDTH];
  for (int64_t b = 0; b < inner; b++) totals[b] = 0.0;
  for (int64_t g0 = 0; g0 < groups; g0 += 64) {
    const int64_t g1 = g0 + 64 < groups ? g0 + 64 : groups;
    for (int64_t j = 0; j < width; j++) acc[j] = 0.0f;
    for (int64_t g = g0; g < g1; g++) {
      const float *row = block + g * width;
      for (int64_t j = 0; j < width; j++) acc[j] += row[j];
    }
    for (int64_t j = 0; j < width; j++) totals[j % inner] += acc[j];
  }
  for (int64_t r = groups * group; r < reduce; r++) {
    for (int64_t b = 0; b < inner; b++) totals[b] += block[r * inner + b];
  }
  for (int64_t b = 0; b < inner; b++) target[b] = (float)totals[b];
}

static napi_value reduce_sum(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  float *x, *out;
  size_t x_length, out_length;
  int64_t outer, reduce, inner;
  double scale = 1.0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6 || !floats(env, argv[0], &x, &x_length) ||
      !floats(env, argv[1], &out, &out_length) || !non_negative(env, argv[2], &outer) || !non_negative(env, argv[3], &reduce) ||
      !non_negative(env, argv[4], &inner) || napi_get_value_double(env, argv[5], &scale) != napi_ok) {
    return fail(env, "reduceSum", "expected (Float32Array x, Float32Array out, outer, reduce, inner, scale)");
  }
  if (x_length < (size_t)(outer * reduce * inner) || out_length < (size_t)(outer * inner)) {
    return fail(env, "reduceSum", "an array is too short");
  }
  const float factor = (float)scale;
  for (int64_t a = 0; a < outer; a++) {
    const float *block = x + a * reduce * inner;
    float *target = out + a * inner;
    if (inner == 1) {
      target[0] = sum_contiguous(block, reduce) * factor;
      continue;
    }
    if (inner < 64 && reduce >= 2 * (SHORT_ROW_WIDTH / inner)) {
      double totals[64];
      sum_short_rows(block, reduce, inner, totals, target);
    } else {
      memset(target, 0, sizeof(float) * (size_t)inner);
      for (int64_t r = 0; r < reduce; r++) {
        const float *row = block + r * inner;
        for (int64_t b = 0; b < inner; b++) target[b] += row[b];
      }
    }
    if (factor != 1.0f) {
      for (int64_t b = 0; b < inner; b++) target[b] *= factor;
    }
  }
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// binary

// RELU_GRAD and SQUARE_GRAD are gradients with a = dy, b = x: dy where x > 0 (NaN x: NaN), else 0;
// dy * 2x. ADD_RELU: max(0, a + b) (NaN stays NaN, as the Relu kernel has it).
enum BinaryOp {
  OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_SQUARED_DIFFERENCE = 4, OP_RELU_GRAD = 5, OP_SQUARE_GRAD = 6, OP_ADD_RELU = 7
};

// One innermost run of n values: a and b advance by their strides (0 or 1). Each case is its own
// loop so that the compiler vectorizes it.
#define BINARY_RUN(EXPRESSION)                                                   \
  do {                                                                           \
    if (sa == 1 && sb == 1) {                                                    \
      for (int64_t i = 0; i < n; i++) { const float p = a[i], q = b[i]; out[i] = (EXPRESSION); } \
    } else if (sa == 1) {                                                        \
      const float q = b[0];                                                      \
      for (int64_t i = 0; i < n; i++) { const float p = a[i]; out[i] = (EXPRESSION); } \
    } else if (sb == 1) {                                                        \
      const float p = a[0];                                                      \
      for (int64_t i = 0; i < n; i++) { const float q = b[i]; out[i] = (EXPRESSION); } \
    } else {                                                                     \
      const float p = a[0], q = b[0];                                            \
      for (int64_t i = 0; i < n; i++) out[i] = (EXPRESSION);                     \
    }                                                                            \
  } while (0)

VECTOR_CLONES static void binary_run(int op, const float *a, int64_t sa, const float *b, int64_t sb, float *out, int64_t n) {
  switch (op) {
    case OP_ADD: BINARY_RUN(p + q); break;
    case OP_SUB: BINARY_RUN(p - q); break;
    case OP_MUL: BINARY_RUN(p * q); break;
    case OP_DIV: BINARY_RUN(p / q); break;
    case OP_SQUARED_DIFFERENCE: BINARY_RUN((p - q) * (p - q)); break;
    case OP_RELU_GRAD: BINARY_RUN(q > 0.0f ? p : (q == q ? 0.0f : q)); break;
    case OP_ADD_RELU: BINARY_RUN(p + q < 0.0f ? 0.0f : p + q); break;
    default: BINARY_RUN(p * (q * 2.0f)); break;
  }
}

static napi_value binary(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t op = -1;
  float *a, *b, *out;
  int32_t *dims;
  size_t a_length, b_length, out_length, dims_length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 ||
      napi_get_value_int32(env, argv[0], &op) != napi_ok || !floats(env, argv[1], &a, &a_length) ||
      !floats(env, argv[2], &b, &b_length) || !floats(env, argv[3], &out, &out_length) ||
      !typed_array(env, argv[4], napi_int32_array, (void **)&dims, &dims_length)) {
    return fail(env, "binary", "expected (op, Float32Array a, Float32Array b, Float32Array out, Int32Array dims)");
  }
  if (op < OP_ADD || op > OP_ADD_RELU) return fail(env, "binary", "unknown op");
  const int rank = dims_length > 0 ? dims[0] : -1;
  if (rank < 1 || rank > MAX_RANK || dims_length != (size_t)(1 + 3 * rank)) {
    return fail(env, "binary", "dims must be [rank (1 to 8), out sizes, a strides, b strides]");
  }
  const int32_t *size = dims + 1, *stride_a = dims + 1 + rank, *stride_b = dims + 1 + 2 * rank;
  size_t total = 1, a_end = 1, b_end = 1; // one past the largest index read
  for (int d = 0; d < rank; d++) {
    if (size[d] < 1 || stride_a[d] < 0 || stride_b[d] < 0) return fail(env, "binary", "sizes must be positive, strides non-negative");
    total *= (size_t)size[d];
    a_end += (size_t)(size[d] - 1) * (size_t)stride_a[d];
    b_end += (size_t)(size[d] - 1) * (size_t)stride_b[d];
  }
  const int last = rank - 1;
  if (out_length < total || a_length < a_end || b_length < b_end) return fail(env, "binary", "an array is too short");
  if ((stride_a[last] != 0 && stride_a[last] != 1) || (stride_b[last] != 0 && stride_b[last] != 1)) {
    return fail(env, "binary", "the last axis' strides must be 0 or 1");
  }
  const int64_t n = size[last];
  Odometer o = {.axes = last};
  for (int d = 0; d < last; d++) {
    o.size[d] = size[d];
    o.stride[0][d] = stride_a[d];
    o.stride[1][d] = stride_b[d];
  }
  for (size_t done = 0; done < total; done += (size_t)n, odometer_step(&o)) {
    binary_run(op, a + o.offset[0], stride_a[last], b + o.offset[1], stride_b[last], out + done, n);
  }
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// unary, erfGrad, gather

enum UnaryOp { U_EXP = 0, U_ERF = 1, U_RSQRT = 2, U_SQRT = 3, U_LOG = 4, U_TANH = 5, U_SIGMOID = 6, U_GELU = 7 };

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

#define UNARY_LOOP(EXPRESSION) for (size_t i = 0; i < n; i++) { const float v = x[i]; out[i] = (EXPRESSION); }


VECTOR_CLONES static bool unary_run(int op, const float *x, float *out, size_t n) {
  switch (op) {
    case U_EXP: UNARY_LOOP(fast_exp(v)); break;
    case U_ERF: UNARY_LOOP(fast_erf(v)); break;
    case U_RSQRT: UNARY_LOOP(1.0f / sqrtf(v)); break;
    case U_SQRT: UNARY_LOOP(sqrtf(v)); break;
    case U_LOG: UNARY_LOOP(logf(v)); break;
    case U_TANH: UNARY_LOOP(tanhf(v)); break;
    case U_SIGMOID: UNARY_LOOP(1.0f / (1.0f + fast_exp(-v))); break;
    // x * Phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt 2)): tf.layers' 'gelu' in one pass instead of five kernels.
    case U_GELU: UNARY_LOOP(v * (0.5f * (1.0f + fast_erf(v / 1.41421356f)))); break;
    default: return false;
  }
  return true;
}

VECTOR_CLONES static void erf_grad_run(const float *x, const float *dy, float *out, size_t n) {
  const float two_over_root_pi = 1.1283791670955126f;
  for (size_t i = 0; i < n; i++) out[i] = dy[i] * two_over_root_pi * fast_exp(-x[i] * x[i]);
}

// GELU's gradient: dy * (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
VECTOR_CLONES static void gelu_grad_run(const float *x, const float *dy, float *out, size_t n) {
  const float one_over_root_two_pi = 0.3989422804014327f;
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    out[i] = dy[i] * (0.5f * (1.0f + fast_erf(v / 1.41421356f)) + v * one_over_root_two_pi * fast_exp(-0.5f * v * v));
  }
}

static napi_value unary(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t op = -1;
  float *x, *out;
  size_t n, out_length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 || napi_get_value_int32(env, argv[0], &op) != napi_ok ||
      !floats(env, argv[1], &x, &n) || !floats(env, argv[2], &out, &out_length)) {
    return fail(env, "unary", "expected (op, Float32Array x, Float32Array out)");
  }
  if (out_length < n) return fail(env, "unary", "out is shorter than x");
  if (!unary_run(op, x, out, n)) return fail(env, "unary", "unknown op");
  return NULL;
}

// erfGrad(x, dy, out[, op]): op 0 (default) erf's gradient, 1 GELU's.
static napi_value erf_grad(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  float *x, *dy, *out;
  size_t n, dy_length, out_length;
  int32_t op = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || !floats(env, argv[0], &x, &n) ||
      !floats(env, argv[1], &dy, &dy_length) || !floats(env, argv[2], &out, &out_length) ||
      (argc == 4 && napi_get_value_int32(env, argv[3], &op) != napi_ok) || op < 0 || op > 1) {
    return fail(env, "erfGrad", "expected (Float32Array x, Float32Array dy, Float32Array out[, op 0 or 1])");
  }
  if (dy_length < n || out_length < n) return fail(env, "erfGrad", "dy or out is shorter than x");
  if (op == 0) erf_grad_run(x, dy, out, n);
  else gelu_grad_run(x, dy, out, n);
  return NULL;
}

static napi_value gather(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  float *x, *out;
  int32_t *indices;
  size_t x_length, out_length, count;
  int64_t rows, row_size;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 || !floats(env, argv[0], &x, &x_length) ||
      !typed_array(env, argv[1], napi_int32_array, (void **)&indices, &count) || !floats(env, argv[2], &out, &out_length) ||
      !non_negative(env, argv[3], &rows) || !non_negative(env, argv[4], &row_size)) {
    return fail(env, "gather", "expected (Float32Array x, Int32Array indices, Float32Array out, rows, rowSize)");
  }
  if (x_length < (size_t)(rows * row_size) || out_length < count * (size_t)row_size) return fail(env, "gather", "an array is too short");
  napi_value result;
  for (size_t i = 0; i < count; i++) {
    if (indices[i] < 0 || indices[i] >= rows) {
      napi_get_boolean(env, false, &result);
      return result;
    }
  }
  for (size_t i = 0; i < count; i++) memcpy(out + i * (size_t)row_size, x + (size_t)indices[i] * (size_t)row_size, (size_t)row_size * sizeof(float));
  napi_get_boolean(env, true, &result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// transpose, softmax

static napi_value transpose(napi_env env, napi_callback_info info) {
  ShapeArgs a;
  if (!shape_arguments(env, info, "transpose", &a)) return NULL;
  const int32_t *shape = a.shape, *perm = a.per_axis;
  const size_t rank = a.rank;
  const float *x = a.x;
  float *out = a.out;
  size_t x_stride[MAX_RANK], size = 1;
  bool seen[MAX_RANK] = {false};
  for (int d = (int)rank - 1; d >= 0; d--) {
    if (shape[d] < 0 || perm[d] < 0 || perm[d] >= (int32_t)rank || seen[perm[d]]) return fail(env, "transpose", "perm must be a permutation of the axes");
    seen[perm[d]] = true;
    x_stride[d] = size;
    size *= (size_t)shape[d];
  }
  if (a.x_length < size || a.out_length < size) return fail(env, "transpose", "an array is shorter than the shape");
  if (size == 0) return NULL;
  // Walk out in order; the input offset follows an odometer over out's axes.
  const size_t last = rank - 1, n = (size_t)shape[perm[last]], stride = x_stride[perm[last]];
  Odometer o = {.axes = (int)last};
  for (size_t d = 0; d < last; d++) {
    o.size[d] = shape[perm[d]];
    o.stride[0][d] = (int64_t)x_stride[perm[d]];
  }
  for (size_t done = 0; done < size; done += n, odometer_step(&o)) {
    if (stride == 1) {
      memcpy(out + done, x + o.offset[0], n * sizeof(float));
    } else {
      for (size_t i = 0; i < n; i++) out[done + i] = x[o.offset[0] + i * stride];
    }
  }
  return NULL;
}

VECTOR_CLONES static void softmax_rows(const float *x, float *out, size_t rows, size_t columns) {
  for (size_t r = 0; r < rows; r++) {
    const float *row = x + r * columns;
    float *target = out + r * columns;
    float max = row[0];
    for (size_t c = 1; c < columns; c++) max = row[c] > max ? row[c] : max;
    float total = 0.0f;
    for (size_t c = 0; c < columns; c++) {
      target[c] = fast_exp(row[c] - max);
      total += target[c];
    }
    const float inverse = 1.0f / total;
    for (size_t c = 0; c < columns; c++) target[c] *= inverse;
  }
}

// Rows of a multiple of 16 values: the max and the sum over 16 lanes in vector registers, then
// across the lanes by halves (softmax_rows' scalar max and sum took ~3/4 of its time on rows of 32).
static inline __attribute__((always_inline)) Floats16 lanes_max(Floats16 a, Floats16 b) {
  const Ints16 a_bigger = a > b;
  return (Floats16)((a_bigger & (Ints16)a) | (~a_bigger & (Ints16)b));
}

VECTOR_CLONES static void softmax_rows16(const float *restrict x, float *restrict out, size_t rows, size_t columns) {
  for (size_t r = 0; r < rows; r++) {
    const float *restrict row = x + r * columns;
    float *restrict target = out + r * columns;
    Floats16 max, chunk;
    memcpy(&max, row, sizeof max);
    for (size_t c = 16; c < columns; c += 16) {
      memcpy(&chunk, row + c, sizeof chunk);
      max = lanes_max(max, chunk);
    }
    FOLD_LANES(max, lanes_max);
    for (size_t c = 0; c < columns; c++) target[c] = fast_exp(row[c] - max[0]);
    Floats16 total = {0};
    for (size_t c = 0; c < columns; c += 16) {
      memcpy(&chunk, target + c, sizeof chunk);
      total += chunk;
    }
    FOLD_LANES(total, lanes_sum);
    const float inverse = 1.0f / total[0];
    for (size_t c = 0; c < columns; c++) target[c] *= inverse;
  }
}

void gowide_softmax_rows(const float *x, float *out, size_t rows, size_t columns) {
  if (columns % 16 == 0) softmax_rows16(x, out, rows, columns);
  else softmax_rows(x, out, rows, columns);
}

static napi_value softmax(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  float *x, *out;
  size_t x_length, out_length;
  int64_t rows, columns;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 || !floats(env, argv[0], &x, &x_length) ||
      !floats(env, argv[1], &out, &out_length) || !non_negative(env, argv[2], &rows) || !non_negative(env, argv[3], &columns) || columns < 1) {
    return fail(env, "softmax", "expected (Float32Array x, Float32Array out, rows, columns > 0)");
  }
  if (x_length < (size_t)(rows * columns) || out_length < (size_t)(rows * columns)) return fail(env, "softmax", "an array is too short");
  gowide_softmax_rows(x, out, (size_t)rows, (size_t)columns);
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// batchNorm: mean, variance and the optional scale and offset hold `period` values each, applied
// to every run of `period` values of x (period = channels for per-channel statistics, = the size
// of x for LayerNorm's tiled ones).

static void batch_norm_rows(const float *x, const float *mean, const float *factor, const float *shift, float *out,
                                         size_t rows, size_t p) {
  for (size_t r = 0; r < rows; r++) {
    const float *x_row = x + r * p;
    float *out_row = out + r * p;
    for (size_t c = 0; c < p; c++) out_row[c] = (x_row[c] - mean[c]) * factor[c] + shift[c];
  }
}

static napi_value batch_norm(napi_env env, napi_callback_info info) {
  float *arrays[6];
  size_t lengths[6];
  int64_t period = 0;
  double epsilon = 0.0;
  // Optional: scale (no scale: 1), offset (0).
  if (!norm_arguments(env, info, "batchNorm", 6, 1u << 3 | 1u << 4, arrays, lengths, &period, &epsilon, NULL)) return NULL;
  const float *x = arrays[0], *mean = arrays[1], *variance = arrays[2], *scale = arrays[3], *offset = arrays[4];
  float *out = arrays[5];
  const size_t size = lengths[0], p = (size_t)period;
  if (size % p != 0 || lengths[5] < size) return fail(env, "batchNorm", "x must hold whole periods and out as many values");
  for (int i = 1; i < 5; i++) {
    if (arrays[i] != NULL && lengths[i] < p) return fail(env, "batchNorm", "statistics are shorter than the period");
  }
  // factor = scale / sqrt(variance + epsilon): out = (x - mean) * factor + offset.
  float *factor = malloc(2 * p * sizeof(float));
  if (factor == NULL) return fail(env, "batchNorm", "out of memory");
  float *shift = factor + p;
  for (size_t c = 0; c < p; c++) {
    factor[c] = (scale != NULL ? scale[c] : 1.0f) / sqrtf(variance[c] + (float)epsilon);
    shift[c] = offset != NULL ? offset[c] : 0.0f;
  }
  batch_norm_rows(x, mean, factor, shift, out, size / p, p);
  free(factor);
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// batchNormGrad
//
// y = (x - mean) * inv * scale + offset with inv = 1 / sqrt(variance + epsilon), per channel c
// (the last axis). With S1 = sum dy and S2 = sum dy * (x - mean) over every other axis:
//   dx = dy * scale * inv            dmean = -scale * inv * S1
//   dvariance = -0.5 * scale * inv^3 * S2      dscale = inv * S2      doffset = S1
// mean and variance are inputs of their own here (TF.js differentiates through them separately).

// Rows [r0, r1) of dx = dy * factor, adding dy and dy * (x - mean) into the per-channel s1 and s2.
static void batch_norm_grad_rows(const float *x, const float *dy, const float *mean, const float *factor, float *dx,
                                               float *s1, float *s2, size_t r0, size_t r1, size_t c_count) {
  for (size_t r = r0; r < r1; r++) {
    const float *x_row = x + r * c_count, *dy_row = dy + r * c_count;
    float *dx_row = dx + r * c_count;
    for (size_t c = 0; c < c_count; c++) {
      const float g = dy_row[c];
      dx_row[c] = g * factor[c];
      s1[c] += g;
      s2[c] += g * (x_row[c] - mean[c]);
    }
  }
}

static napi_value batch_norm_grad(napi_env env, napi_callback_info info) {
  float *arrays[10];
  size_t lengths[10];
  int64_t channels = 0;
  double epsilon = 0.0;
  // Optional: scale (no scale: 1).
  if (!norm_arguments(env, info, "batchNormGrad", 10, 1u << 4, arrays, lengths, &channels, &epsilon, NULL)) return NULL;
  float *x = arrays[0], *dy = arrays[1], *mean = arrays[2], *variance = arrays[3], *scale = arrays[4];
  float *dx = arrays[5], *dmean = arrays[6], *dvariance = arrays[7], *dscale = arrays[8], *doffset = arrays[9];
  const size_t size = lengths[0];
  const size_t c_count = (size_t)channels;
  if (size % c_count != 0 || lengths[1] < size || lengths[5] < size) return fail(env, "batchNormGrad", "x, dy and dx must hold whole rows of channels");
  for (int i = 2; i < 10; i++) {
    if (i == 5 || (i == 4 && scale == NULL)) continue;
    if (lengths[i] < c_count) return fail(env, "batchNormGrad", "per-channel arrays are shorter than channels");
  }
  const size_t rows = size / c_count;
  // Per-channel factors, then one pass over the rows for dx, S1 and S2 (in double: long sums).
  double *s1 = calloc(2 * c_count, sizeof(double));
  float *factor = malloc(c_count * sizeof(float));
  if (s1 == NULL || factor == NULL) {
    free(s1);
    free(factor);
    return fail(env, "batchNormGrad", "out of memory");
  }
  double *s2 = s1 + c_count;
  for (size_t c = 0; c < c_count; c++) {
    const float inv = 1.0f / sqrtf(variance[c] + (float)epsilon);
    factor[c] = (scale != NULL ? scale[c] : 1.0f) * inv;
  }
  float *row_s1 = calloc(2 * c_count, sizeof(float));
  if (row_s1 == NULL) {
    free(s1);
    free(factor);
    return fail(env, "batchNormGrad", "out of memory");
  }
  float *row_s2 = row_s1 + c_count;
  // Float partial sums over blocks of rows, added into the double totals after each block.
  const size_t block_rows = 64;
  for (size_t r0 = 0; r0 < rows; r0 += block_rows) {
    const size_t r1 = r0 + block_rows < rows ? r0 + block_rows : rows;
    batch_norm_grad_rows(x, dy, mean, factor, dx, row_s1, row_s2, r0, r1, c_count);
    for (size_t c = 0; c < c_count; c++) {
      s1[c] += row_s1[c];
      s2[c] += row_s2[c];
      row_s1[c] = 0.0f;
      row_s2[c] = 0.0f;
    }
  }
  for (size_t c = 0; c < c_count; c++) {
    const double inv = 1.0 / sqrt((double)variance[c] + epsilon);
    const double g = scale != NULL ? scale[c] : 1.0;
    dmean[c] = (float)(-g * inv * s1[c]);
    dvariance[c] = (float)(-0.5 * g * inv * inv * inv * s2[c]);
    dscale[c] = (float)(inv * s2[c]);
    doffset[c] = (float)s1[c];
  }
  free(s1);
  free(factor);
  free(row_s1);
  return NULL;
}

// Statistics as large as x: per element, with inv = 1 / sqrt(variance + epsilon) and g = scale,
// dx = dy g inv, dmean = -dx, dvariance = -0.5 dy g (x - mean) inv^3, dscale = dy (x - mean) inv.
VECTOR_CLONES static void batch_norm_grad_full_run(const float *x, const float *dy, const float *mean, const float *variance,
                                                   const float *scale, float *dx, float *dmean, float *dvariance, float *dscale,
                                                   size_t n, float epsilon) {
  for (size_t i = 0; i < n; i++) {
    const float inv = 1.0f / sqrtf(variance[i] + epsilon);
    const float g = scale != NULL ? scale[i] : 1.0f;
    const float centered = (x[i] - mean[i]) * inv;
    const float d = dy[i] * g * inv;
    dx[i] = d;
    dmean[i] = -d;
    dvariance[i] = -0.5f * d * centered * inv;
    dscale[i] = dy[i] * centered;
  }
}

static napi_value batch_norm_grad_full(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  float *arrays[9] = {NULL};
  size_t lengths[9] = {0};
  double epsilon = 0.0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 10) return fail(env, "batchNormGradFull", "expected 10 arguments");
  for (int i = 0; i < 9; i++) {
    if (i == 4 && is_nullish(env, argv[i])) continue; // no scale: 1
    if (!floats(env, argv[i], &arrays[i], &lengths[i])) return fail(env, "batchNormGradFull", "arrays must be Float32Arrays (scale may be null)");
  }
  if (napi_get_value_double(env, argv[9], &epsilon) != napi_ok) return fail(env, "batchNormGradFull", "epsilon must be a number");
  const size_t n = lengths[0];
  for (int i = 1; i < 9; i++) {
    if (arrays[i] != NULL && lengths[i] < n) return fail(env, "batchNormGradFull", "every array must be as long as x");
  }
  batch_norm_grad_full_run(arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], arrays[5], arrays[6], arrays[7], arrays[8], n,
                           (float)epsilon);
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// batchNormTrain, batchNormTrainGrad: BatchNorm in training as two kernels instead of ~12 passes
// (tf.layers' moments as Mean, Sub, Square, Mean; the batch-norm kernel; each one's gradient).
// x holds rows of `channels` values; N = rows.
//
// Rows of 8-16 channels are too short for a loop per row (its overhead made these kernels 4-7x
// slower than a memory-bound pass): the loops below run over "wide rows" of `group` rows at once
// (width = group * channels <= 256 values), with the per-channel values repeated across the width.
// Long per-channel sums go through float partial sums over blocks of 64 wide rows, added into
// double totals.

#define WIDE 256
#define MAX_NORM_THREADS 8

typedef struct {
  size_t c, group, width, wide_rows, tail; // tail: values in the last, partial wide row
  bool vectors; // rows of 8, 16, 24 or 32 channels: the per-channel values in registers (below)
} WideRows;

static WideRows wide_rows(size_t rows, size_t c) {
  WideRows w = {.c = c, .group = c <= WIDE ? WIDE / c : 1};
  // GOWIDE_NORM_VECTORS=0: the wide-row loops for every channel count (side-by-side benchmarks).
  const char *vectors = getenv("GOWIDE_NORM_VECTORS");
  w.vectors = c % 8 == 0 && c <= 32 && !(vectors != NULL && strcmp(vectors, "0") == 0);
  w.width = w.group * c;
  w.wide_rows = rows / w.group;
  w.tail = (rows % w.group) * c;
  return w;
}

// out[j] = values[j % c] for j < width.
static void repeat_channels(const float *values, float *out, const WideRows *w) {
  for (size_t j = 0; j < w->width; j++) out[j] = values[j % w->c];
}

enum ChannelSums { SUMS_SHIFTED, SUMS_GRAD, SUMS_GRAD_RELU };

// Adds one wide row of n values into a1, a2: SUMS_SHIFTED: (x - p), (x - p)^2; SUMS_GRAD: dy, dy (x - p);
// SUMS_GRAD_RELU: as SUMS_GRAD with dy taken as 0 where the ReLU's output r is not positive.
VECTOR_CLONES static void sums_row(int mode, const float *x, const float *dy, const float *r, const float *p, float *a1, float *a2,
                                   size_t n) {
  if (mode == SUMS_GRAD_RELU) {
    for (size_t j = 0; j < n; j++) {
      const float g = r[j] > 0.0f ? dy[j] : 0.0f;
      a1[j] += g;
      a2[j] += g * (x[j] - p[j]);
    }
  } else if (mode == SUMS_SHIFTED) {
    for (size_t j = 0; j < n; j++) {
      const float d = x[j] - p[j];
      a1[j] += d;
      a2[j] += d * d;
    }
  } else {
    for (size_t j = 0; j < n; j++) {
      a1[j] += dy[j];
      a2[j] += dy[j] * (x[j] - p[j]);
    }
  }
}

// Rows of c = 8 V channels (V = 1 to 4): the per-channel values and sums in V vector registers
// each, so that a pass loads each value of x (dy, r) once and stores nothing but its output. The
// wide-row loops above load and store their accumulators and repeated per-channel values per
// element and ran at about a quarter of a memory-bound pass.
typedef float F8 __attribute__((vector_size(32), aligned(4)));
typedef int32_t I8 __attribute__((vector_size(32), aligned(4)));

static inline __attribute__((always_inline)) F8 load8(const float *p) {
  F8 v;
  memcpy(&v, p, sizeof v);
  return v;
}

// v where keep is positive, else 0 (NaN keep: 0), as the scalar loops' r > 0 ? v : 0.
static inline __attribute__((always_inline)) F8 where_positive(F8 keep, F8 v) {
  return (F8)((I8)v & (keep > (F8){0}));
}

// sums_row's sums over `rows` rows of 8 V channels into the double totals t1, t2 (c each): U rows
// at a time in float registers, added into the totals every 64 rows.
static inline __attribute__((always_inline)) void sums_rows_v(int mode, const float *x, const float *dy, const float *r, const float *p,
                                                               size_t rows, double *t1, double *t2, const int V, const int U) {
  const size_t c = 8 * (size_t)V;
  F8 pv[4], a1[4][4], a2[4][4];
  for (int v = 0; v < V; v++) pv[v] = load8(p + 8 * v);
  for (size_t r0 = 0; r0 < rows; r0 += 64) {
    const size_t r1 = r0 + 64 < rows ? r0 + 64 : rows;
    for (int u = 0; u < U; u++) {
      for (int v = 0; v < V; v++) a1[u][v] = a2[u][v] = (F8){0};
    }
    for (size_t i = r0; i < r1; i += U) {
      const int n = r1 - i < (size_t)U ? (int)(r1 - i) : U;
      for (int u = 0; u < U; u++) {
        if (u >= n) break;
        for (int v = 0; v < V; v++) {
          const size_t o = (i + u) * c + 8 * (size_t)v;
          const F8 d = load8(x + o) - pv[v];
          if (mode == SUMS_SHIFTED) {
            a1[u][v] += d;
            a2[u][v] += d * d;
          } else {
            const F8 g = mode == SUMS_GRAD_RELU ? where_positive(load8(r + o), load8(dy + o)) : load8(dy + o);
            a1[u][v] += g;
            a2[u][v] += g * d;
          }
        }
      }
    }
    for (int u = 0; u < U; u++) {
      for (int v = 0; v < V; v++) {
        for (int l = 0; l < 8; l++) {
          t1[8 * v + l] += a1[u][v][l];
          t2[8 * v + l] += a2[u][v][l];
        }
      }
    }
  }
}

VECTOR_CLONES static void sums_rows_vectors(int mode, const float *x, const float *dy, const float *r, const float *p, size_t rows,
                                            size_t c, double *t1, double *t2) {
  switch (c) {
  case 8: sums_rows_v(mode, x, dy, r, p, rows, t1, t2, 1, 4); break;
  case 16: sums_rows_v(mode, x, dy, r, p, rows, t1, t2, 2, 2); break;
  case 24: sums_rows_v(mode, x, dy, r, p, rows, t1, t2, 3, 1); break;
  default: sums_rows_v(mode, x, dy, r, p, rows, t1, t2, 4, 1); break;
  }
}

// affine_row (below) over `rows` rows of 8 V channels, the per-channel values in registers.
static inline __attribute__((always_inline)) void affine_rows_v(const float *x, const float *dy, const float *r, bool relu, const float *p,
                                                                 const float *a, const float *b, const float *k, float *out, size_t rows,
                                                                 const int V) {
  const size_t c = 8 * (size_t)V;
  F8 pv[4], av[4], bv[4], kv[4];
  for (int v = 0; v < V; v++) {
    pv[v] = load8(p + 8 * v);
    av[v] = dy != NULL ? load8(a + 8 * v) : (F8){0};
    bv[v] = load8(b + 8 * v);
    kv[v] = load8(k + 8 * v);
  }
  for (size_t i = 0; i < rows; i++) {
    for (int v = 0; v < V; v++) {
      const size_t o = i * c + 8 * (size_t)v;
      const F8 d = load8(x + o) - pv[v];
      F8 y;
      if (dy == NULL) {
        y = d * bv[v] + kv[v];
        if (relu) y = where_positive(y, y);
      } else {
        const F8 g = relu ? where_positive(load8(r + o), load8(dy + o)) : load8(dy + o);
        y = av[v] * g + bv[v] * d + kv[v];
      }
      memcpy(out + o, &y, sizeof y);
    }
  }
}

VECTOR_CLONES static void affine_rows_vectors(const float *x, const float *dy, const float *r, bool relu, const float *p, const float *a,
                                              const float *b, const float *k, float *out, size_t rows, size_t c) {
  switch (c) {
  case 8: affine_rows_v(x, dy, r, relu, p, a, b, k, out, rows, 1); break;
  case 16: affine_rows_v(x, dy, r, relu, p, a, b, k, out, rows, 2); break;
  case 24: affine_rows_v(x, dy, r, relu, p, a, b, k, out, rows, 3); break;
  default: affine_rows_v(x, dy, r, relu, p, a, b, k, out, rows, 4); break;
  }
}

// Wide rows [first, last) of a pass, one thread's share.
typedef struct {
  size_t first, last;
} SlotRange;

// The shares of `slots` wide rows for up to `threads` threads, in whole blocks of 64 (the float
// partial sums of channel_sums stay the same whatever the split); one share below SPLIT_MIN_VALUES
// values. Returns the number of shares.
#define SPLIT_MIN_VALUES (1 << 16)
static int slot_shares(const WideRows *w, int threads, SlotRange *shares) {
  const size_t slots = w->wide_rows + (w->tail > 0 ? 1 : 0), blocks = (slots + 63) / 64;
  size_t parts = threads < 1 ? 1 : (threads > MAX_NORM_THREADS ? MAX_NORM_THREADS : (size_t)threads);
  if ((double)slots * (double)w->width < SPLIT_MIN_VALUES) parts = 1;
  if (parts > blocks) parts = blocks;
  for (size_t t = 0; t < parts; t++) {
    const size_t first = 64 * (blocks * t / parts), last = 64 * (blocks * (t + 1) / parts);
    shares[t] = (SlotRange){first, last < slots ? last : slots};
  }
  return (int)parts;
}

typedef struct {
  int mode;
  const float *x, *dy, *relu_out, *pw;
  const WideRows *w;
  SlotRange range;
  double *t1, *t2; // this share's totals, c each
  bool failed;
} SumsShare;

static void *sums_share(void *argument) {
  SumsShare *s = (SumsShare *)argument;
  const WideRows *w = s->w;
  float *a1 = malloc(2 * w->width * sizeof(float));
  if (a1 == NULL) {
    s->failed = true;
    return NULL;
  }
  float *a2 = a1 + w->width;
  for (size_t ch = 0; ch < w->c; ch++) s->t1[ch] = s->t2[ch] = 0.0;
  for (size_t r0 = s->range.first; r0 < s->range.last; r0 += 64) {
    const size_t r1 = r0 + 64 < s->range.last ? r0 + 64 : s->range.last;
    if (w->vectors) { // the block's whole rows of channels (the tail slot's too) in registers
      const size_t offset = r0 * w->width, values = (r1 <= w->wide_rows ? r1 - r0 : w->wide_rows - r0) * w->width + (r1 > w->wide_rows ? w->tail : 0);
      sums_rows_vectors(s->mode, s->x + offset, s->dy ? s->dy + offset : NULL, s->relu_out ? s->relu_out + offset : NULL, s->pw, values / w->c,
                        w->c, s->t1, s->t2);
      continue;
    }
    memset(a1, 0, 2 * w->width * sizeof(float));
    for (size_t r = r0; r < r1; r++) {
      const size_t offset = r * w->width;
      sums_row(s->mode, s->x + offset, s->dy ? s->dy + offset : NULL, s->relu_out ? s->relu_out + offset : NULL, s->pw, a1, a2,
               r < w->wide_rows ? w->width : w->tail);
    }
    for (size_t j = 0; j < w->width; j++) {
      s->t1[j % w->c] += a1[j];
      s->t2[j % w->c] += a2[j];
    }
  }
  free(a1);
  return NULL;
}

// Per-channel totals t1, t2 (c doubles each) of sums_row over all rows, on up to `threads`
// threads; p: per-channel values; relu_out: the ReLU's output (SUMS_GRAD_RELU only); scratch:
// width floats. False when out of memory.
static bool channel_sums(int mode, const float *x, const float *dy, const float *relu_out, const float *p, const WideRows *w,
                         double *t1, double *t2, float *scratch, int threads) {
  repeat_channels(p, scratch, w);
  SlotRange ranges[MAX_NORM_THREADS];
  const int shares = slot_shares(w, threads, ranges);
  double *others = shares > 1 ? malloc(2 * w->c * (size_t)(shares - 1) * sizeof(double)) : NULL;
  if (shares > 1 && others == NULL) return false;
  SumsShare work[MAX_NORM_THREADS];
  for (int t = 0; t < shares; t++) {
    double *totals = t == 0 ? NULL : others + 2 * w->c * (size_t)(t - 1);
    work[t] = (SumsShare){mode, x, dy, relu_out, scratch, w, ranges[t], t == 0 ? t1 : totals, t == 0 ? t2 : totals + w->c, false};
  }
  const bool ok = gowide_run_threads(sums_share, work, sizeof work[0], shares, offsetof(SumsShare, failed));
  for (int t = 1; t < shares; t++) {
    for (size_t ch = 0; ch < w->c; ch++) {
      t1[ch] += work[t].t1[ch];
      t2[ch] += work[t].t2[ch];
    }
  }
  free(others);
  return ok;
}

// out = a dy + b (x - p) + k per channel (a, b, k, p repeated over the width; dy may be NULL: a = 0).
// relu: without dy, out = max(0, b (x - p) + k); with dy, dy is taken as 0 where r (the ReLU's
// output) is not positive.
VECTOR_CLONES static void affine_row(const float *x, const float *dy, const float *r, bool relu, const float *p, const float *a,
                                     const float *b, const float *k, float *out, size_t n) {
  if (relu && dy == NULL) {
    for (size_t j = 0; j < n; j++) {
      const float v = (x[j] - p[j]) * b[j] + k[j];
      out[j] = v > 0.0f ? v : 0.0f;
    }
  } else if (relu) {
    for (size_t j = 0; j < n; j++) out[j] = a[j] * (r[j] > 0.0f ? dy[j] : 0.0f) + b[j] * (x[j] - p[j]) + k[j];
  } else if (dy == NULL) {
    for (size_t j = 0; j < n; j++) out[j] = (x[j] - p[j]) * b[j] + k[j];
  } else {
    for (size_t j = 0; j < n; j++) out[j] = a[j] * dy[j] + b[j] * (x[j] - p[j]) + k[j];
  }
}

typedef struct {
  const float *x, *dy, *relu_out, *pw, *aw, *bw, *kw;
  bool relu;
  float *out;
  const WideRows *w;
  SlotRange range;
  bool failed; // never set: gowide_run_threads' protocol
} AffineShare;

static void *affine_share(void *argument) {
  const AffineShare *s = (const AffineShare *)argument;
  const WideRows *w = s->w;
  const size_t total = w->wide_rows * w->width + w->tail, end = s->range.last * w->width < total ? s->range.last * w->width : total;
  if (w->vectors) {
    const size_t start = s->range.first * w->width;
    if (end > start) {
      affine_rows_vectors(s->x + start, s->dy ? s->dy + start : NULL, s->relu_out ? s->relu_out + start : NULL, s->relu, s->pw, s->aw,
                          s->bw, s->kw, s->out + start, (end - start) / w->c, w->c);
    }
    return NULL;
  }
  for (size_t start = s->range.first * w->width; start < end; start += w->width) {
    const size_t n = end - start < w->width ? end - start : w->width;
    affine_row(s->x + start, s->dy ? s->dy + start : NULL, s->relu_out ? s->relu_out + start : NULL, s->relu, s->pw, s->aw, s->bw, s->kw,
               s->out + start, n);
  }
  return NULL;
}

// affine_row over all rows, on up to `threads` threads; p, a, b, k: per-channel values (a unused
// without dy); scratch: 4 * width floats.
static void channel_affine(const float *x, const float *dy, const float *relu_out, bool relu, const float *p, const float *a,
                           const float *b, const float *k, float *out, const WideRows *w, float *scratch, int threads) {
  float *pw = scratch, *aw = scratch + w->width, *bw = aw + w->width, *kw = bw + w->width;
  repeat_channels(p, pw, w);
  if (dy != NULL) repeat_channels(a, aw, w);
  repeat_channels(b, bw, w);
  repeat_channels(k, kw, w);
  SlotRange ranges[MAX_NORM_THREADS];
  const int shares = slot_shares(w, threads, ranges);
  AffineShare work[MAX_NORM_THREADS];
  for (int t = 0; t < shares; t++) work[t] = (AffineShare){x, dy, relu_out, pw, aw, bw, kw, relu, out, w, ranges[t], false};
  gowide_run_threads(affine_share, work, sizeof work[0], shares, offsetof(AffineShare, failed));
}

// The arguments of batchNormTrain and batchNormTrainGrad, read and checked (x first: whole rows
// of channels; the arrays whose bit is set in `full` as long as x; the other present ones at least
// `channels` long), with the per-channel totals (2 * channels doubles) and the scratch (4 * width +
// extra * channels floats) allocated; train_free frees them.
typedef struct {
  float *arrays[11];
  size_t lengths[11];
  int64_t channels;
  double epsilon;
  int threads;
  WideRows w;
  double *totals;
  float *scratch;
} TrainArgs;

static void train_free(TrainArgs *t) {
  free(t->totals);
  free(t->scratch);
}

// False after throwing.
static bool train_arguments(napi_env env, napi_callback_info info, const char *name, size_t count, unsigned optional, unsigned full,
                            size_t extra, TrainArgs *t) {
  t->totals = NULL;
  t->scratch = NULL;
  if (!norm_arguments(env, info, name, count, optional, t->arrays, t->lengths, &t->channels, &t->epsilon, &t->threads)) return false;
  const size_t size = t->lengths[0], c_count = (size_t)t->channels;
  bool ok = size > 0 && size % c_count == 0;
  for (size_t i = 1; ok && i < count; i++) {
    ok = t->arrays[i] == NULL || t->lengths[i] >= (((full >> i) & 1u) != 0 ? size : c_count);
  }
  if (!ok) {
    fail(env, name, "x must hold whole rows of channels, the full-size arrays as many values, the others one per channel");
    return false;
  }
  t->w = wide_rows(size / c_count, c_count);
  t->totals = malloc(2 * c_count * sizeof(double));
  t->scratch = malloc((4 * t->w.width + extra * c_count) * sizeof(float));
  if (t->totals == NULL || t->scratch == NULL) {
    train_free(t);
    fail(env, name, "out of memory");
    return false;
  }
  return true;
}

// batchNormTrain(Float32Array x, scale|null, offset|null, y, mean, variance, channels, epsilon):
// mean and variance (biased: divided by N) of each channel over the rows of x, computed around the
// first row (so that the sum of squares does not cancel), then y = (x - mean) / sqrt(variance +
// epsilon) * scale + offset.
//
// batchNormReluTrain: the same arguments; y = max(0, that) (BatchNorm followed by a ReLU).
static napi_value batch_norm_train_run(napi_env env, napi_callback_info info, const char *name, bool relu) {
  TrainArgs t;
  // Optional: scale (no scale: 1), offset (0); as long as x: y.
  if (!train_arguments(env, info, name, 6, 1u << 1 | 1u << 2, 1u << 3, 2, &t)) return NULL;
  const float *x = t.arrays[0], *scale = t.arrays[1], *offset = t.arrays[2];
  float *y = t.arrays[3], *mean = t.arrays[4], *variance = t.arrays[5];
  const size_t c_count = (size_t)t.channels;
  const double epsilon = t.epsilon, *totals = t.totals;
  if (!channel_sums(SUMS_SHIFTED, x, NULL, NULL, x, &t.w, t.totals, t.totals + c_count, t.scratch, t.threads)) {
    train_free(&t);
    return fail(env, name, "out of memory");
  }
  float *factor = t.scratch + 4 * t.w.width, *shift = factor + c_count;
  const double n = (double)(t.lengths[0] / c_count);
  for (size_t c = 0; c < c_count; c++) {
    const double d = totals[c] / n, v = totals[c_count + c] / n - d * d;
    mean[c] = (float)(x[c] + d);
    variance[c] = (float)(v > 0.0 ? v : 0.0);
    factor[c] = (scale != NULL ? scale[c] : 1.0f) / sqrtf(variance[c] + (float)epsilon);
    shift[c] = offset != NULL ? offset[c] : 0.0f;
  }
  channel_affine(x, NULL, NULL, relu, mean, NULL, factor, shift, y, &t.w, t.scratch, t.threads);
  train_free(&t);
  return NULL;
}

static napi_value batch_norm_train(napi_env env, napi_callback_info info) {
  return batch_norm_train_run(env, info, "batchNormTrain", false);
}

static napi_value batch_norm_relu_train(napi_env env, napi_callback_info info) {
  return batch_norm_train_run(env, info, "batchNormReluTrain", true);
}

// batchNormTrainGrad(Float32Array x, dy, mean, variance, scale|null, dmean|null, dvariance|null,
// dx, dscale, doffset, channels, epsilon): with inv = 1 / sqrt(variance + epsilon), g = scale,
// S1 = sum dy, S2 = sum dy (x - mean) over the N rows (dmean, dvariance: gradients arriving at the
// mean and variance outputs, for the moving averages usually none):
//   dx = g inv (dy - S1 / N - (x - mean) inv^2 S2 / N) + dmean / N + dvariance 2 (x - mean) / N
//   dscale = inv S2,  doffset = S1
//
// batchNormReluTrainGrad: the same arguments and then y, batchNormReluTrain's output (as long as
// x): the gradient through the ReLU and the batch norm, dy taken as 0 where y is not positive.
static napi_value batch_norm_train_grad_run(napi_env env, napi_callback_info info, const char *name, bool relu) {
  TrainArgs t;
  // Optional: scale (no scale: 1), dmean, dvariance (0); as long as x: dy, dx (and y).
  const size_t count = relu ? 11 : 10;
  const unsigned full = 1u << 1 | 1u << 7 | (relu ? 1u << 10 : 0u);
  if (!train_arguments(env, info, name, count, 1u << 4 | 1u << 5 | 1u << 6, full, 3, &t)) return NULL;
  const float *relu_out = relu ? t.arrays[10] : NULL;
  const float *x = t.arrays[0], *dy = t.arrays[1], *mean = t.arrays[2], *variance = t.arrays[3], *scale = t.arrays[4];
  const float *dmean = t.arrays[5], *dvariance = t.arrays[6];
  float *dx = t.arrays[7], *dscale = t.arrays[8], *doffset = t.arrays[9];
  const size_t c_count = (size_t)t.channels;
  const double epsilon = t.epsilon, *totals = t.totals;
  if (!channel_sums(relu ? SUMS_GRAD_RELU : SUMS_GRAD, x, dy, relu_out, mean, &t.w, t.totals, t.totals + c_count, t.scratch, t.threads)) {
    train_free(&t);
    return fail(env, name, "out of memory");
  }
  float *a = t.scratch + 4 * t.w.width, *b = a + c_count, *k = b + c_count;
  const double n = (double)(t.lengths[0] / c_count);
  for (size_t c = 0; c < c_count; c++) {
    const double inv = 1.0 / sqrt((double)variance[c] + epsilon), g = scale != NULL ? scale[c] : 1.0;
    const double s1 = totals[c], s2 = totals[c_count + c];
    a[c] = (float)(g * inv);
    b[c] = (float)(-g * inv * inv * inv * s2 / n + (dvariance != NULL ? 2.0 * dvariance[c] / n : 0.0));
    k[c] = (float)(-g * inv * s1 / n + (dmean != NULL ? dmean[c] / n : 0.0));
    dscale[c] = (float)(inv * s2);
    doffset[c] = (float)s1;
  }
  channel_affine(x, dy, relu_out, relu, mean, a, b, k, dx, &t.w, t.scratch, t.threads);
  train_free(&t);
  return NULL;
}

static napi_value batch_norm_train_grad(napi_env env, napi_callback_info info) {
  return batch_norm_train_grad_run(env, info, "batchNormTrainGrad", false);
}

static napi_value batch_norm_relu_train_grad(napi_env env, napi_callback_info info) {
  return batch_norm_train_grad_run(env, info, "batchNormReluTrainGrad", true);
}

// ---------------------------------------------------------------------------------------------
// layerNorm, layerNormGrad: tf.layers' LayerNormalization over the last axis computes moments as
// Mean, Sub, Square, Mean, tiles them and the scale and offset over the whole activation, and
// runs the batch-norm kernel; its gradient goes back through all of them. Here each row is read
// once (it stays in cache for its second look). The row statistics are float, two-pass, as
// tf.moments computes them: mean = sum x / D, variance = sum (x - mean)^2 / D. Row sums go through
// 8 partial sums (sum_contiguous, dot_contiguous): a single running sum is a chain of dependent
// adds, which made the gradient 3x slower on rows of 32.

// The sum of a[i] b[i] over n values, in 8 partial sums.
static float dot_contiguous(const float *a, const float *b, size_t n) {
  float partial[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) partial[j] += a[i + j] * b[i + j];
  }
  float total = 0.0f;
  for (; i < n; i++) total += a[i] * b[i];
  for (int j = 0; j < 8; j++) total += partial[j];
  return total;
}

// centered = x - mean of one row of d values; returns 1 / sqrt(variance + epsilon).
static inline float row_center(const float *x, float *centered, size_t d, float epsilon) {
  const float mean = sum_contiguous(x, (int64_t)d) / (float)d;
  for (size_t j = 0; j < d; j++) centered[j] = x[j] - mean;
  return 1.0f / sqrtf(dot_contiguous(centered, centered, d) / (float)d + epsilon);
}

// The arguments of both, read by norm_arguments; then checks that x (arrays[0]) holds whole rows,
// that the per-column arrays hold `columns` values and the full-size ones as many as x. False
// after throwing.
static bool layer_norm_arguments(napi_env env, napi_callback_info info, const char *name, size_t count, const bool *per_column,
                                 unsigned optional, float **arrays, size_t *rows, size_t *columns, float *epsilon) {
  size_t lengths[8];
  int64_t d = 0;
  double eps = 0.0;
  if (count > 8 || !norm_arguments(env, info, name, count, optional, arrays, lengths, &d, &eps, NULL)) return false;
  const size_t size = lengths[0];
  if (size == 0 || size % (size_t)d != 0) {
    fail(env, name, "x must hold whole rows");
    return false;
  }
  for (size_t i = 1; i < count; i++) {
    if (arrays[i] != NULL && lengths[i] != (per_column[i] ? (size_t)d : size)) {
      fail(env, name, "per-column arrays must hold `columns` values, the others as many as x");
      return false;
    }
  }
  *rows = size / (size_t)d;
  *columns = (size_t)d;
  *epsilon = (float)eps;
  return true;
}

// Row r of x, or of x + residual (added into scratch, d floats) when residual is not NULL.
static inline const float *row_or_sum(const float *x, const float *residual, size_t r, size_t d, float *scratch) {
  const float *row = x + r * d;
  if (residual == NULL) return row;
  const float *extra = residual + r * d;
  for (size_t j = 0; j < d; j++) scratch[j] = row[j] + extra[j];
  return scratch;
}

// Rows of a multiple of 16 values (the transformers' 32 and 128): the row's values, its sums and
// the column updates in 16-lane vectors (the scalar loops' dependent sums dominated on such short
// rows; GCC's own AVX-512 versions of them were 2-3x slower still).

// Chunk c (16 values) of row x, plus residual's when it is not NULL.
static inline __attribute__((always_inline)) Floats16 row_chunk(const float *x, const float *residual, size_t c) {
  Floats16 chunk, extra;
  memcpy(&chunk, x + c, sizeof chunk);
  if (residual != NULL) {
    memcpy(&extra, residual + c, sizeof extra);
    chunk += extra;
  }
  return chunk;
}

// The mean and 1 / sqrt(variance + epsilon) of row x (+ residual) of d values.
static inline __attribute__((always_inline)) void row_statistics16(const float *x, const float *residual, size_t d, float epsilon, float *mean, float *inv) {
  Floats16 total = {0}, squares = {0};
  for (size_t c = 0; c < d; c += 16) total += row_chunk(x, residual, c);
  FOLD_LANES(total, lanes_sum);
  *mean = total[0] / (float)d;
  for (size_t c = 0; c < d; c += 16) {
    const Floats16 centered = row_chunk(x, residual, c) - *mean;
    squares += centered * centered;
  }
  FOLD_LANES(squares, lanes_sum);
  *inv = 1.0f / sqrtf(squares[0] / (float)d + epsilon);
}

VECTOR_CLONES static void layer_norm_rows16(const float *x, const float *residual, const float *scale, const float *offset, float *out,
                                            size_t rows, size_t d, float epsilon) {
  for (size_t r = 0; r < rows; r++) {
    const float *row = x + r * d, *extra = residual != NULL ? residual + r * d : NULL;
    float mean, inv;
    row_statistics16(row, extra, d, epsilon, &mean, &inv);
    for (size_t c = 0; c < d; c += 16) {
      Floats16 y = (row_chunk(row, extra, c) - mean) * inv, weight;
      if (scale != NULL) {
        memcpy(&weight, scale + c, sizeof weight);
        y *= weight;
      }
      if (offset != NULL) {
        memcpy(&weight, offset + c, sizeof weight);
        y += weight;
      }
      memcpy(out + r * d + c, &y, sizeof y);
    }
  }
}

// dx, and the column sums of dy xhat and dy added into totals (2 d doubles) through float partial
// sums over blocks of 64 rows (partial: 2 d floats, zero).
VECTOR_CLONES static void layer_norm_grad_rows16(const float *x, const float *residual, const float *dy_all, const float *scale,
                                                 float *dx_all, size_t rows, size_t d, float epsilon, double *totals, float *partial) {
  for (size_t r = 0; r < rows; r++) {
    const float *row = x + r * d, *extra = residual != NULL ? residual + r * d : NULL, *dy = dy_all + r * d;
    float mean, inv;
    row_statistics16(row, extra, d, epsilon, &mean, &inv);
    Floats16 sum_g = {0}, sum_gx = {0};
    for (size_t c = 0; c < d; c += 16) {
      const Floats16 xhat = (row_chunk(row, extra, c) - mean) * inv;
      Floats16 g, weight, column_xhat, column_dy;
      memcpy(&g, dy + c, sizeof g);
      memcpy(&column_xhat, partial + c, sizeof column_xhat);
      memcpy(&column_dy, partial + d + c, sizeof column_dy);
      column_xhat += g * xhat;
      column_dy += g;
      memcpy(partial + c, &column_xhat, sizeof column_xhat);
      memcpy(partial + d + c, &column_dy, sizeof column_dy);
      if (scale != NULL) {
        memcpy(&weight, scale + c, sizeof weight);
        g *= weight;
      }
      sum_g += g;
      sum_gx += g * xhat;
    }
    FOLD_LANES(sum_g, lanes_sum);
    FOLD_LANES(sum_gx, lanes_sum);
    const float mean_g = sum_g[0] / (float)d, mean_gx = sum_gx[0] / (float)d;
    for (size_t c = 0; c < d; c += 16) {
      const Floats16 xhat = (row_chunk(row, extra, c) - mean) * inv;
      Floats16 g, weight;
      memcpy(&g, dy + c, sizeof g);
      if (scale != NULL) {
        memcpy(&weight, scale + c, sizeof weight);
        g *= weight;
      }
      const Floats16 dx = (g - mean_g - xhat * mean_gx) * inv;
      memcpy(dx_all + r * d + c, &dx, sizeof dx);
    }
    if ((r + 1) % 64 == 0 || r + 1 == rows) {
      for (size_t j = 0; j < 2 * d; j++) {
        totals[j] += partial[j];
        partial[j] = 0.0f;
      }
    }
  }
}

// layerNorm(Float32Array x, scale|null, offset|null, y, columns, epsilon):
// y = (x - mean) / sqrt(variance + epsilon) * scale + offset, statistics per row.
// addLayerNorm(Float32Array a, b, scale|null, offset|null, y, columns, epsilon): the same of
// x = a + b (a residual add and the LayerNorm after it).
static napi_value layer_norm_run(napi_env env, napi_callback_info info, const char *name, bool add) {
  static const bool per_column[2][5] = {{false, true, true, false}, {false, false, true, true, false}};
  float *a[5];
  size_t rows, d;
  float epsilon;
  const unsigned shift = add ? 1 : 0; // the arrays after x move by one with b
  // Optional: scale, offset.
  if (!layer_norm_arguments(env, info, name, 4 + shift, per_column[shift], 3u << (1 + shift), a, &rows, &d, &epsilon)) return NULL;
  const float *residual = add ? a[1] : NULL, *scale = a[1 + shift], *offset = a[2 + shift];
  float *out = a[3 + shift];
  if (d % 16 == 0) {
    layer_norm_rows16(a[0], residual, scale, offset, out, rows, d, epsilon);
    return NULL;
  }
  float *centered = malloc(2 * d * sizeof(float)), *summed = centered + d;
  if (centered == NULL) return fail(env, name, "out of memory");
  for (size_t r = 0; r < rows; r++) {
    float *y = out + r * d;
    const float inv = row_center(row_or_sum(a[0], residual, r, d, summed), centered, d, epsilon);
    for (size_t j = 0; j < d; j++) {
      const float normalized = centered[j] * inv;
      y[j] = (scale != NULL ? normalized * scale[j] : normalized) + (offset != NULL ? offset[j] : 0.0f);
    }
  }
  free(centered);
  return NULL;
}

static napi_value layer_norm(napi_env env, napi_callback_info info) {
  return layer_norm_run(env, info, "layerNorm", false);
}

static napi_value add_layer_norm(napi_env env, napi_callback_info info) {
  return layer_norm_run(env, info, "addLayerNorm", true);
}

// layerNormGrad(Float32Array x, dy, scale|null, dx, dscale, doffset, columns, epsilon): with
// xhat = (x - mean) inv and g = dy scale per row of D values,
//   dx = inv (g - mean(g) - xhat mean(g xhat)),  dscale = sum over rows dy xhat,  doffset = sum dy.
// addLayerNormGrad(Float32Array a, b, dy, scale|null, dx, dscale, doffset, columns, epsilon): the
// same with x = a + b (dx is the gradient of both a and b).
static napi_value layer_norm_grad_run(napi_env env, napi_callback_info info, const char *name, bool add) {
  static const bool per_column[2][7] = {{false, false, true, false, true, true}, {false, false, false, true, false, true, true}};
  float *a[7];
  size_t rows, d;
  float epsilon;
  const unsigned shift = add ? 1 : 0;
  // Optional: scale.
  if (!layer_norm_arguments(env, info, name, 6 + shift, per_column[shift], 1u << (2 + shift), a, &rows, &d, &epsilon)) return NULL;
  const float *residual = add ? a[1] : NULL, *dy_all = a[1 + shift], *scale = a[2 + shift];
  float *dx_all = a[3 + shift], *dscale = a[4 + shift], *doffset = a[5 + shift];
  // Column sums: float partials over blocks of 64 rows, added into double totals.
  double *totals = calloc(2 * d, sizeof(double));
  float *partial = calloc(2 * d, sizeof(float));
  float *xhat = malloc(3 * d * sizeof(float));
  if (totals == NULL || partial == NULL || xhat == NULL) {
    free(totals);
    free(partial);
    free(xhat);
    return fail(env, name, "out of memory");
  }
  float *g = xhat + d, *summed = g + d;
  if (d % 16 == 0) layer_norm_grad_rows16(a[0], residual, dy_all, scale, dx_all, rows, d, epsilon, totals, partial);
  for (size_t r = 0; d % 16 != 0 && r < rows; r++) {
    const float *dy = dy_all + r * d;
    float *dx = dx_all + r * d;
    const float inv = row_center(row_or_sum(a[0], residual, r, d, summed), xhat, d, epsilon);
    for (size_t j = 0; j < d; j++) {
      xhat[j] *= inv;
      g[j] = scale != NULL ? dy[j] * scale[j] : dy[j];
      partial[j] += dy[j] * xhat[j];
      partial[d + j] += dy[j];
    }
    const float mean_g = sum_contiguous(g, (int64_t)d) / (float)d, mean_gx = dot_contiguous(g, xhat, d) / (float)d;
    for (size_t j = 0; j < d; j++) dx[j] = inv * (g[j] - mean_g - xhat[j] * mean_gx);
    if ((r + 1) % 64 == 0 || r + 1 == rows) {
      for (size_t j = 0; j < 2 * d; j++) {
        totals[j] += partial[j];
        partial[j] = 0.0f;
      }
    }
  }
  for (size_t j = 0; j < d; j++) {
    dscale[j] = (float)totals[j];
    doffset[j] = (float)totals[d + j];
  }
  free(totals);
  free(partial);
  free(xhat);
  return NULL;
}

static napi_value layer_norm_grad(napi_env env, napi_callback_info info) {
  return layer_norm_grad_run(env, info, "layerNormGrad", false);
}

static napi_value add_layer_norm_grad(napi_env env, napi_callback_info info) {
  return layer_norm_grad_run(env, info, "addLayerNormGrad", true);
}

// ---------------------------------------------------------------------------------------------
// adam

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

// adam(Float32Array x, g, m, v, xOut, mOut, vOut, Float32Array params): params are
// [b1, 1 - b1, b2, 1 - b2, c1, c2, epsilon, rate, decay] (see adam_run); the outputs are new arrays
// (restrict: no alias checks, which would stop the loop from vectorizing).
static napi_value adam(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  float *arrays[8];
  size_t lengths[8];
  bool ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 8;
  for (size_t i = 0; ok && i < 8; i++) ok = floats(env, argv[i], &arrays[i], &lengths[i]);
  if (!ok) return fail(env, "adam", "expected (Float32Array x, g, m, v, xOut, mOut, vOut, params)");
  if (lengths[7] != A_COUNT) return fail(env, "adam", "params must hold 9 values");
  const size_t n = lengths[0];
  for (int i = 1; i < 7; i++) {
    if (lengths[i] != n) return fail(env, "adam", "x, g, m, v and the outputs must have one length");
  }
  adam_run(arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], arrays[5], arrays[6], n, arrays[7]);
  return NULL;
}

void gowide_elementwise_register(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    GOWIDE_FUNCTION("tile", tile),
    GOWIDE_FUNCTION("reduceSum", reduce_sum),
    GOWIDE_FUNCTION("binary", binary),
    GOWIDE_FUNCTION("unary", unary),
    GOWIDE_FUNCTION("erfGrad", erf_grad),
    GOWIDE_FUNCTION("gather", gather),
    GOWIDE_FUNCTION("transpose", transpose),
    GOWIDE_FUNCTION("softmax", softmax),
    GOWIDE_FUNCTION("batchNorm", batch_norm),
    GOWIDE_FUNCTION("batchNormGradFull", batch_norm_grad_full),
    GOWIDE_FUNCTION("batchNormGrad", batch_norm_grad),
    GOWIDE_FUNCTION("batchNormTrain", batch_norm_train),
    GOWIDE_FUNCTION("batchNormTrainGrad", batch_norm_train_grad),
    GOWIDE_FUNCTION("batchNormReluTrain", batch_norm_relu_train),
    GOWIDE_FUNCTION("batchNormReluTrainGrad", batch_norm_relu_train_grad),
    GOWIDE_FUNCTION("layerNorm", layer_norm),
    GOWIDE_FUNCTION("layerNormGrad", layer_norm_grad),
    GOWIDE_FUNCTION("addLayerNorm", add_layer_norm),
    GOWIDE_FUNCTION("addLayerNormGrad", add_layer_norm_grad),
    GOWIDE_FUNCTION("adam", adam),
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
