// Memory-bound kernels for the TF.js wasm backend's training steps. The TF.js wasm kernels they
// replace walk broadcast shapes one index computation per element (Tile, broadcasting binary ops)
// or transpose before reducing (Sum and Mean over leading axes); these walk memory in order.
//
//   tile(x, out, shape, reps)          out = x repeated reps[d] times along each axis d
//   transpose(x, out, shape, perm)     out = x with its axes permuted (out axis d = x axis perm[d])
//   reduceSum(x, out, outer, reduce, inner, scale)
//                                      out[a, b] = scale * sum over r of x[a, r, b]
//   binary(op, a, b, out, dims)        out = a op b with broadcasting; dims = [rank, out sizes...,
//                                      a strides..., b strides...] (stride 0 on a broadcast axis);
//                                      also relu's and square's gradients (a = dy, b = x) and
//                                      max(0, a + b)
//   unary(op, x, out)                  out = f(x) for f = exp, erf, rsqrt, sqrt, log, tanh, sigmoid, gelu
//   erfGrad(x, dy, out[, op])          out = dy * 2/sqrt(pi) * exp(-x^2); op 1: GELU's gradient
//   reluGradSum(dy, x, dz, dbias, columns[, threads])
//                                      dz = the ReLU's gradient (binary's OP_RELU_GRAD) and dbias
//                                      its column sums: a bias's gradient in the same pass
//
// Shapes are given already simplified by the caller (axes of size 1 dropped, neighbouring axes
// of the same kind merged), so the loops stay short.
#include <math.h>
#include <stdlib.h>
#include "gowide_addon.h"

#define MAX_RANK 8

// The unary and binary loops are also compiled for AVX2 and AVX-512 (VECTOR_CLONES, gowide_addon.h).
// Measured per call: erf 13.6 -> 1.2 ns a value (with fast_erf, gowide_addon.h), a same-shape
// add of 800k values 0.22 -> 0.10 ms. Not for the batch-norm rows of 8-16 channels
// (batch_norm.c), which AVX-512 made 2x slower.

// Walks the outer axes [0, axes) of a strided loop like an odometer: the next index, and the two
// offsets (second may be NULL) moved by their strides.
typedef struct {
  int axes;
  int64_t size[MAX_RANK], stride[2][MAX_RANK], index[MAX_RANK];
  size_t offset[2];
} Odometer;

// Moves o to its `step`-th position from the start (index 0 on every axis, offsets 0).
static void odometer_seek(Odometer *o, int64_t step) {
  o->offset[0] = o->offset[1] = 0;
  for (int d = o->axes - 1; d >= 0; d--) {
    o->index[d] = step % o->size[d];
    step /= o->size[d];
    o->offset[0] += (size_t)(o->index[d] * o->stride[0][d]);
    o->offset[1] += (size_t)(o->index[d] * o->stride[1][d]);
  }
}

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
  if (!gowide_arguments(env, info, 4, 4, argv, &argc) || !gowide_floats(env, argv[0], &a->x, &a->x_length) ||
      !gowide_floats(env, argv[1], &a->out, &a->out_length) || !gowide_typed_array(env, argv[2], napi_int32_array, (void **)&a->shape, &a->rank) ||
      !gowide_typed_array(env, argv[3], napi_int32_array, (void **)&a->per_axis, &per_axis_length)) {
    gowide_fail(env, function, "expected (Float32Array x, Float32Array out, Int32Array shape, Int32Array of one value per axis)");
    return false;
  }
  if (a->rank < 1 || a->rank > MAX_RANK || per_axis_length != a->rank) {
    gowide_fail(env, function, "the shape and the per-axis values need the same rank, 1 to 8");
    return false;
  }
  return true;
}

napi_value js_tile(napi_env env, napi_callback_info info) {
  ShapeArgs a;
  if (!shape_arguments(env, info, "tile", &a)) return NULL;
  const int32_t *shape = a.shape, *reps = a.per_axis;
  const size_t rank = a.rank;
  float *x = a.x, *out = a.out;
  Tile t = {.rank = (int)rank};
  size_t x_size = 1, out_size = 1;
  for (size_t d = 0; d < rank; d++) {
    if (shape[d] < 0 || reps[d] < 0) return gowide_fail(env, "tile", "sizes and reps must be non-negative");
    t.shape[d] = shape[d];
    t.reps[d] = reps[d];
    x_size *= (size_t)shape[d];
    out_size *= (size_t)shape[d] * (size_t)reps[d];
  }
  if (a.x_length < x_size || a.out_length < out_size) return gowide_fail(env, "tile", "an array is shorter than its shape");
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

float gowide_sum_contiguous(const float *values, int64_t n) {
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

// target[b] = scale * sum over r < reduce of block[r * inner + b].
static void sum_block(const float *block, int64_t reduce, int64_t inner, float factor, float *target) {
  if (inner == 1) {
    target[0] = gowide_sum_contiguous(block, reduce) * factor;
    return;
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

typedef struct {
  const float *x;
  float *out;
  int64_t reduce, inner;
  float factor;
} ReduceJob;

// Blocks [begin, end) of the outer axis, each summed whole.
static void sum_blocks(void *context, int64_t begin, int64_t end, int part) {
  (void)part;
  const ReduceJob *j = (const ReduceJob *)context;
  for (int64_t a = begin; a < end; a++) sum_block(j->x + a * j->reduce * j->inner, j->reduce, j->inner, j->factor, j->out + a * j->inner);
}

// Rows [begin, end) of the single block, summed into the part's own row of out (the partials).
static void sum_rows_part(void *context, int64_t begin, int64_t end, int part) {
  const ReduceJob *j = (const ReduceJob *)context;
  sum_block(j->x + begin * j->inner, end - begin, j->inner, 1.0f, j->out + part * j->inner);
}

napi_value js_reduce_sum(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  size_t argc;
  float *x, *out;
  size_t x_length, out_length;
  int64_t outer, reduce, inner;
  double scale = 1.0;
  if (!gowide_arguments(env, info, 6, 7, argv, &argc) || !gowide_floats(env, argv[0], &x, &x_length) ||
      !gowide_floats(env, argv[1], &out, &out_length) || !gowide_count(env, argv[2], &outer) || !gowide_count(env, argv[3], &reduce) ||
      !gowide_count(env, argv[4], &inner) || napi_get_value_double(env, argv[5], &scale) != napi_ok) {
    return gowide_fail(env, "reduceSum", "expected (Float32Array x, Float32Array out, outer, reduce, inner, scale[, threads])");
  }
  if (x_length < (size_t)(outer * reduce * inner) || out_length < (size_t)(outer * inner)) {
    return gowide_fail(env, "reduceSum", "an array is too short");
  }
  ReduceJob job = {x, out, reduce, inner, (float)scale};
  int threads = gowide_optional_threads(env, argv, argc, 6);
  if (outer > 1 || threads < 2 || (double)(reduce * inner) < gowide_split_min_values()) {
    gowide_parallel_ranges(sum_blocks, &job, outer, reduce * inner, 1, threads);
    return NULL;
  }
  // One block (a bias's gradient: the sum over every axis but the channels'): each thread sums a
  // share of its rows into its own partial row, then the partials are added.
  threads = gowide_threads(threads, reduce);
  float *partials = malloc(sizeof(float) * (size_t)(threads * inner));
  if (partials == NULL) return gowide_fail(env, "reduceSum", "out of memory");
  job.out = partials;
  const int parts = gowide_parallel_ranges(sum_rows_part, &job, reduce, inner, 1, threads);
  for (int64_t b = 0; b < inner; b++) {
    float total = 0.0f;
    for (int p = 0; p < parts; p++) total += partials[p * inner + b];
    out[b] = total * (float)scale;
  }
  free(partials);
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// binary

// RELU_GRAD and SQUARE_GRAD are gradients with a = dy, b = x: dy where x > 0 (NaN x: NaN), else 0;
// dy * 2x. ADD_RELU: max(0, a + b) (NaN stays NaN, as the Relu kernel has it).
enum BinaryOp {
  OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_SQUARED_DIFFERENCE = 4, OP_RELU_GRAD = 5, OP_SQUARE_GRAD = 6, OP_ADD_RELU = 7
};

// The ReLU's gradient of one value: dy where x > 0, NaN where x is NaN, else 0.
static inline float relu_grad_value(float dy, float x) { return x > 0.0f ? dy : (x == x ? 0.0f : x); }

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
    case OP_RELU_GRAD: BINARY_RUN(relu_grad_value(p, q)); break;
    case OP_ADD_RELU: BINARY_RUN(p + q < 0.0f ? 0.0f : p + q); break;
    default: BINARY_RUN(p * (q * 2.0f)); break;
  }
}

// A binary op's innermost runs of n values, walked by an odometer over the outer axes.
typedef struct {
  int op;
  const float *a, *b;
  float *out;
  int64_t n, stride_a, stride_b;
  Odometer start;
} BinaryJob;

// Runs [begin, end).
static void binary_runs(void *context, int64_t begin, int64_t end, int part) {
  (void)part;
  const BinaryJob *j = (const BinaryJob *)context;
  Odometer o = j->start;
  odometer_seek(&o, begin);
  for (int64_t run = begin; run < end; run++, odometer_step(&o)) {
    binary_run(j->op, j->a + o.offset[0], j->stride_a, j->b + o.offset[1], j->stride_b, j->out + (size_t)run * (size_t)j->n, j->n);
  }
}

// Values [begin, end) of a binary op with a single run.
static void binary_values(void *context, int64_t begin, int64_t end, int part) {
  (void)part;
  const BinaryJob *j = (const BinaryJob *)context;
  binary_run(j->op, j->a + begin * j->stride_a, j->stride_a, j->b + begin * j->stride_b, j->stride_b, j->out + begin, end - begin);
}

napi_value js_binary(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc;
  int32_t op = -1;
  float *a, *b, *out;
  int32_t *dims;
  size_t a_length, b_length, out_length, dims_length;
  if (!gowide_arguments(env, info, 5, 6, argv, &argc) ||
      napi_get_value_int32(env, argv[0], &op) != napi_ok || !gowide_floats(env, argv[1], &a, &a_length) ||
      !gowide_floats(env, argv[2], &b, &b_length) || !gowide_floats(env, argv[3], &out, &out_length) ||
      !gowide_typed_array(env, argv[4], napi_int32_array, (void **)&dims, &dims_length)) {
    return gowide_fail(env, "binary", "expected (op, Float32Array a, Float32Array b, Float32Array out, Int32Array dims[, threads])");
  }
  if (op < OP_ADD || op > OP_ADD_RELU) return gowide_fail(env, "binary", "unknown op");
  const int rank = dims_length > 0 ? dims[0] : -1;
  if (rank < 1 || rank > MAX_RANK || dims_length != (size_t)(1 + 3 * rank)) {
    return gowide_fail(env, "binary", "dims must be [rank (1 to 8), out sizes, a strides, b strides]");
  }
  const int32_t *size = dims + 1, *stride_a = dims + 1 + rank, *stride_b = dims + 1 + 2 * rank;
  size_t total = 1, a_end = 1, b_end = 1; // one past the largest index read
  for (int d = 0; d < rank; d++) {
    if (size[d] < 1 || stride_a[d] < 0 || stride_b[d] < 0) return gowide_fail(env, "binary", "sizes must be positive, strides non-negative");
    total *= (size_t)size[d];
    a_end += (size_t)(size[d] - 1) * (size_t)stride_a[d];
    b_end += (size_t)(size[d] - 1) * (size_t)stride_b[d];
  }
  const int last = rank - 1;
  if (out_length < total || a_length < a_end || b_length < b_end) return gowide_fail(env, "binary", "an array is too short");
  if ((stride_a[last] != 0 && stride_a[last] != 1) || (stride_b[last] != 0 && stride_b[last] != 1)) {
    return gowide_fail(env, "binary", "the last axis' strides must be 0 or 1");
  }
  BinaryJob job = {op, a, b, out, size[last], stride_a[last], stride_b[last], {.axes = last}};
  for (int d = 0; d < last; d++) {
    job.start.size[d] = size[d];
    job.start.stride[0][d] = stride_a[d];
    job.start.stride[1][d] = stride_b[d];
  }
  const int64_t runs = (int64_t)(total / (size_t)job.n);
  const int threads = gowide_optional_threads(env, argv, argc, 5);
  if (runs == 1) { // one long run (same shapes, or a scalar operand): its values split, whole cache lines each
    gowide_parallel_ranges(binary_values, &job, job.n, 1, 16, threads);
  } else {
    gowide_parallel_ranges(binary_runs, &job, runs, job.n, 1, threads);
  }
  return NULL;
}

enum UnaryOp { U_EXP = 0, U_ERF = 1, U_RSQRT = 2, U_SQRT = 3, U_LOG = 4, U_TANH = 5, U_SIGMOID = 6, U_GELU = 7 };

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

// An element-wise op of one or two inputs over values [begin, end): unary (op a UnaryOp, y unused)
// or erf's and GELU's gradients (op 0 or 1, x and dy).
typedef struct {
  int op;
  bool gradient;
  const float *x, *dy;
  float *out;
} ValuesJob;

static void values_part(void *context, int64_t begin, int64_t end, int part) {
  (void)part;
  const ValuesJob *j = (const ValuesJob *)context;
  const size_t n = (size_t)(end - begin);
  if (!j->gradient) unary_run(j->op, j->x + begin, j->out + begin, n);
  else if (j->op == 0) erf_grad_run(j->x + begin, j->dy + begin, j->out + begin, n);
  else gelu_grad_run(j->x + begin, j->dy + begin, j->out + begin, n);
}

napi_value js_unary(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc;
  int32_t op = -1;
  float *x, *out;
  size_t n, out_length;
  if (!gowide_arguments(env, info, 3, 4, argv, &argc) || napi_get_value_int32(env, argv[0], &op) != napi_ok ||
      !gowide_floats(env, argv[1], &x, &n) || !gowide_floats(env, argv[2], &out, &out_length)) {
    return gowide_fail(env, "unary", "expected (op, Float32Array x, Float32Array out[, threads])");
  }
  if (out_length < n) return gowide_fail(env, "unary", "out is shorter than x");
  if (op < U_EXP || op > U_GELU) return gowide_fail(env, "unary", "unknown op");
  ValuesJob job = {op, false, x, NULL, out};
  gowide_parallel_ranges(values_part, &job, (int64_t)n, 1, 16, gowide_optional_threads(env, argv, argc, 3));
  return NULL;
}

// erfGrad(x, dy, out[, op[, threads]]): op 0 (default) erf's gradient, 1 GELU's.
napi_value js_erf_grad(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc;
  float *x, *dy, *out;
  size_t n, dy_length, out_length;
  int32_t op = 0;
  if (!gowide_arguments(env, info, 3, 5, argv, &argc) || !gowide_floats(env, argv[0], &x, &n) ||
      !gowide_floats(env, argv[1], &dy, &dy_length) || !gowide_floats(env, argv[2], &out, &out_length) ||
      (argc >= 4 && napi_get_value_int32(env, argv[3], &op) != napi_ok) || op < 0 || op > 1) {
    return gowide_fail(env, "erfGrad", "expected (Float32Array x, Float32Array dy, Float32Array out[, op 0 or 1[, threads]])");
  }
  if (dy_length < n || out_length < n) return gowide_fail(env, "erfGrad", "dy or out is shorter than x");
  ValuesJob job = {op, true, x, dy, out};
  gowide_parallel_ranges(values_part, &job, (int64_t)n, 1, 16, gowide_optional_threads(env, argv, argc, 4));
  return NULL;
}

// reluGradSum: rows [begin, end) into dz and the part's own totals of its columns. Short rows are
// taken `group` at a time as one run of up to SHORT_ROW_WIDTH values (a loop that vectorizes, as in
// sum_short_rows), summed in floats over 64 runs at a time, then added into doubles (a float
// running sum over 10^5 rows drifts).
typedef struct {
  const float *dy, *x;
  float *dz;
  double *totals; // per part: columns doubles
  int64_t columns;
} ReluGradSumJob;

VECTOR_CLONES static void relu_grad_run(const float *restrict dy, const float *restrict x, float *restrict dz, float *restrict acc, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float value = relu_grad_value(dy[i], x[i]);
    dz[i] = value;
    acc[i] += value;
  }
}

static void relu_grad_sum_rows(void *context, int64_t begin, int64_t end, int part) {
  const ReluGradSumJob *j = (const ReluGradSumJob *)context;
  const int64_t columns = j->columns;
  const int64_t group = columns < SHORT_ROW_WIDTH ? SHORT_ROW_WIDTH / columns : 1, width = group * columns;
  double *totals = j->totals + part * columns;
  float *acc = gowide_thread_buffer(1, (size_t)width);
  for (int64_t c = 0; c < columns; c++) totals[c] = 0.0;
  if (acc == NULL) { // out of memory: one value at a time, straight into the doubles
    for (int64_t i = begin * columns; i < end * columns; i++) {
      const float value = relu_grad_value(j->dy[i], j->x[i]);
      j->dz[i] = value;
      totals[i % columns] += value;
    }
    return;
  }
  int64_t runs = 0;
  for (int64_t r = begin; r < end;) {
    const int64_t rows = end - r >= group ? group : end - r, offset = r * columns;
    if (runs == 0) memset(acc, 0, sizeof(float) * (size_t)width);
    relu_grad_run(j->dy + offset, j->x + offset, j->dz + offset, acc, rows * columns);
    r += rows;
    if (++runs == 64 || r == end) {
      for (int64_t i = 0; i < width; i++) totals[i % columns] += acc[i];
      runs = 0;
    }
  }
}

napi_value js_relu_grad_sum(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc;
  float *dy, *x, *dz, *dbias;
  size_t n, x_length, dz_length, dbias_length;
  int64_t columns;
  if (!gowide_arguments(env, info, 5, 6, argv, &argc) || !gowide_floats(env, argv[0], &dy, &n) || !gowide_floats(env, argv[1], &x, &x_length) ||
      !gowide_floats(env, argv[2], &dz, &dz_length) || !gowide_floats(env, argv[3], &dbias, &dbias_length) || !gowide_count(env, argv[4], &columns)) {
    return gowide_fail(env, "reluGradSum", "expected (Float32Array dy, x, dz, dbias, columns[, threads])");
  }
  if (columns < 1 || n % (size_t)columns != 0 || x_length < n || dz_length < n || dbias_length < (size_t)columns) {
    return gowide_fail(env, "reluGradSum", "dy, x and dz must hold whole rows of `columns` values, dbias one row");
  }
  const int64_t rows = (int64_t)n / columns;
  const int threads = gowide_threads(gowide_optional_threads(env, argv, argc, 5), rows > 0 ? rows : 1);
  double *totals = malloc(sizeof(double) * (size_t)(threads * columns));
  if (totals == NULL) return gowide_fail(env, "reluGradSum", "out of memory");
  ReluGradSumJob job = {dy, x, dz, totals, columns};
  const int parts = gowide_parallel_ranges(relu_grad_sum_rows, &job, rows, columns, 1, threads);
  for (int64_t c = 0; c < columns; c++) {
    double total = 0.0;
    for (int p = 0; p < parts; p++) total += totals[p * columns + c];
    dbias[c] = (float)total;
  }
  free(totals);
  return NULL;
}

napi_value js_transpose(napi_env env, napi_callback_info info) {
  ShapeArgs a;
  size_t x_stride[MAX_RANK], size = 1; // x's strides and size
  bool seen[MAX_RANK] = {false};
  if (!shape_arguments(env, info, "transpose", &a)) return NULL;
  const int32_t *shape = a.shape, *perm = a.per_axis;
  const size_t rank = a.rank;
  const float *x = a.x;
  float *out = a.out;
  for (int d = (int)rank - 1; d >= 0; d--) {
    if (shape[d] < 0 || perm[d] < 0 || perm[d] >= (int32_t)rank || seen[perm[d]]) return gowide_fail(env, "transpose", "perm must be a permutation of the axes");
    seen[perm[d]] = true;
    x_stride[d] = size;
    size *= (size_t)shape[d];
  }
  if (a.x_length < size || a.out_length < size) return gowide_fail(env, "transpose", "an array is shorter than the shape");
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
