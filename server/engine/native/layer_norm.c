// layerNorm, layerNormGrad: tf.layers' LayerNormalization over the last axis computes moments as
// Mean, Sub, Square, Mean, tiles them and the scale and offset over the whole activation, and
// runs the batch-norm kernel; its gradient goes back through all of them. Here each row is read
// once (it stays in cache for its second look). The row statistics are float, two-pass, as
// tf.moments computes them: mean = sum x / D, variance = sum (x - mean)^2 / D. Row sums go through
// 8 partial sums (gowide_sum_contiguous, dot_contiguous): a single running sum is a chain of
// dependent adds, which made the gradient 3x slower on rows of 32.
#include <math.h>
#include <stdlib.h>
#include <stdatomic.h>
#include "gowide_addon.h"


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
  const float mean = gowide_sum_contiguous(x, (int64_t)d) / (float)d;
  for (size_t j = 0; j < d; j++) centered[j] = x[j] - mean;
  return 1.0f / sqrtf(dot_contiguous(centered, centered, d) / (float)d + epsilon);
}

// The arguments of both, read by norm_arguments; then checks that x (arrays[0]) holds whole rows,
// that the per-column arrays hold `columns` values and the full-size ones as many as x. False
// after throwing.
static bool layer_norm_arguments(napi_env env, napi_callback_info info, const char *name, size_t count, const bool *per_column,
                                 unsigned optional, float **arrays, size_t *rows, size_t *columns, float *epsilon, int *threads) {
  size_t lengths[8];
  int64_t d = 0;
  double eps = 0.0;
  if (count > 8 || !gowide_norm_arguments(env, info, name, count, optional, arrays, lengths, &d, &eps, threads)) return false;
  const size_t size = lengths[0];
  if (size == 0 || size % (size_t)d != 0) {
    gowide_fail(env, name, "x must hold whole rows");
    return false;
  }
  for (size_t i = 1; i < count; i++) {
    if (arrays[i] != NULL && lengths[i] != (per_column[i] ? (size_t)d : size)) {
      gowide_fail(env, name, "per-column arrays must hold `columns` values, the others as many as x");
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

// One call's arrays and sizes, shared by the threads that split its rows.
typedef struct {
  const float *x, *residual, *dy, *scale, *offset;
  float *out; // y, or dx
  size_t d;
  float epsilon;
  double *totals; // the gradient's: 2 d per part
  float *scratch; // 5 d per part: the gradient's float partial sums (2 d), then 3 rows of scratch
  _Atomic bool failed; // set by any thread that runs out of memory
} LayerNormJob;

static void layer_norm_part(void *context, int64_t begin, int64_t end, int part) {
  (void)part;
  LayerNormJob *j = (LayerNormJob *)context;
  const size_t d = j->d, first = (size_t)begin, rows = (size_t)(end - begin);
  const float *x = j->x + first * d, *residual = j->residual != NULL ? j->residual + first * d : NULL;
  float *out = j->out + first * d;
  if (d % 16 == 0) {
    layer_norm_rows16(x, residual, j->scale, j->offset, out, rows, d, j->epsilon);
    return;
  }
  float *centered = gowide_thread_buffer(0, 2 * d);
  if (centered == NULL) {
    j->failed = true;
    return;
  }
  float *summed = centered + d;
  for (size_t r = 0; r < rows; r++) {
    float *y = out + r * d;
    const float inv = row_center(row_or_sum(x, residual, r, d, summed), centered, d, j->epsilon);
    for (size_t c = 0; c < d; c++) {
      const float normalized = centered[c] * inv;
      y[c] = (j->scale != NULL ? normalized * j->scale[c] : normalized) + (j->offset != NULL ? j->offset[c] : 0.0f);
    }
  }
}

// layerNorm(Float32Array x, scale|null, offset|null, y, columns, epsilon[, threads]):
// y = (x - mean) / sqrt(variance + epsilon) * scale + offset, statistics per row.
// addLayerNorm(Float32Array a, b, scale|null, offset|null, y, columns, epsilon[, threads]): the same
// of x = a + b (a residual add and the LayerNorm after it). Rows split over the pool's threads.
static napi_value layer_norm_run(napi_env env, napi_callback_info info, const char *name, bool add) {
  static const bool per_column[2][5] = {{false, true, true, false}, {false, false, true, true, false}};
  float *a[5];
  size_t rows, d;
  float epsilon;
  int threads = 1;
  const unsigned shift = add ? 1 : 0; // the arrays after x move by one with b
  // Optional: scale, offset.
  if (!layer_norm_arguments(env, info, name, 4 + shift, per_column[shift], 3u << (1 + shift), a, &rows, &d, &epsilon, &threads)) return NULL;
  LayerNormJob job = {a[0], add ? a[1] : NULL, NULL, a[1 + shift], a[2 + shift], a[3 + shift], d, epsilon, NULL, NULL, false};
  gowide_parallel_ranges(layer_norm_part, &job, (int64_t)rows, (int64_t)d, 1, threads);
  return job.failed ? gowide_fail(env, name, "out of memory") : NULL;
}

napi_value js_layer_norm(napi_env env, napi_callback_info info) { return layer_norm_run(env, info, "layerNorm", false); }
napi_value js_add_layer_norm(napi_env env, napi_callback_info info) { return layer_norm_run(env, info, "addLayerNorm", true); }

// The gradient's rows [begin, end): dx, and the part's column sums of dy xhat and dy (its totals).
static void layer_norm_grad_part(void *context, int64_t begin, int64_t end, int part) {
  LayerNormJob *j = (LayerNormJob *)context;
  const size_t d = j->d, first = (size_t)begin, rows = (size_t)(end - begin);
  const float *x = j->x + first * d, *residual = j->residual != NULL ? j->residual + first * d : NULL, *dy_all = j->dy + first * d;
  const float *scale = j->scale;
  float *dx_all = j->out + first * d;
  double *totals = j->totals + 2 * d * (size_t)part;
  float *partial = j->scratch + 5 * d * (size_t)part;
  if (d % 16 == 0) {
    layer_norm_grad_rows16(x, residual, dy_all, scale, dx_all, rows, d, j->epsilon, totals, partial);
    return;
  }
  float *xhat = partial + 2 * d, *g = xhat + d, *summed = g + d;
  for (size_t r = 0; r < rows; r++) {
    const float *dy = dy_all + r * d;
    float *dx = dx_all + r * d;
    const float inv = row_center(row_or_sum(x, residual, r, d, summed), xhat, d, j->epsilon);
    for (size_t c = 0; c < d; c++) {
      xhat[c] *= inv;
      g[c] = scale != NULL ? dy[c] * scale[c] : dy[c];
      partial[c] += dy[c] * xhat[c];
      partial[d + c] += dy[c];
    }
    const float mean_g = gowide_sum_contiguous(g, (int64_t)d) / (float)d, mean_gx = dot_contiguous(g, xhat, d) / (float)d;
    for (size_t c = 0; c < d; c++) dx[c] = inv * (g[c] - mean_g - xhat[c] * mean_gx);
    if ((r + 1) % 64 == 0 || r + 1 == rows) {
      for (size_t c = 0; c < 2 * d; c++) {
        totals[c] += partial[c];
        partial[c] = 0.0f;
      }
    }
  }
}

// layerNormGrad(Float32Array x, dy, scale|null, dx, dscale, doffset, columns, epsilon[, threads]):
// with xhat = (x - mean) inv and g = dy scale per row of D values,
//   dx = inv (g - mean(g) - xhat mean(g xhat)),  dscale = sum over rows dy xhat,  doffset = sum dy.
// addLayerNormGrad(Float32Array a, b, dy, scale|null, dx, dscale, doffset, columns, epsilon[, threads]):
// the same with x = a + b (dx is the gradient of both a and b). Rows split over the pool's threads,
// each summing its columns into its own totals, added at the end.
static napi_value layer_norm_grad_run(napi_env env, napi_callback_info info, const char *name, bool add) {
  static const bool per_column[2][7] = {{false, false, true, false, true, true}, {false, false, false, true, false, true, true}};
  float *a[7];
  size_t rows, d;
  float epsilon;
  int threads = 1;
  const unsigned shift = add ? 1 : 0;
  // Optional: scale.
  if (!layer_norm_arguments(env, info, name, 6 + shift, per_column[shift], 1u << (2 + shift), a, &rows, &d, &epsilon, &threads)) return NULL;
  float *dscale = a[4 + shift], *doffset = a[5 + shift];
  threads = gowide_threads(threads, (int64_t)rows);
  // Per part: 2 d double totals; 2 d float partial sums (over blocks of 64 rows) and 3 d of scratch.
  double *totals = calloc(2 * d * (size_t)threads, sizeof(double));
  float *scratch = calloc(5 * d * (size_t)threads, sizeof(float));
  if (totals == NULL || scratch == NULL) {
    free(totals);
    free(scratch);
    return gowide_fail(env, name, "out of memory");
  }
  LayerNormJob job = {a[0], add ? a[1] : NULL, a[1 + shift], a[2 + shift], NULL, a[3 + shift], d, epsilon, totals, scratch, false};
  const int parts = gowide_parallel_ranges(layer_norm_grad_part, &job, (int64_t)rows, (int64_t)d, 1, threads);
  for (size_t c = 0; c < d; c++) {
    double scale_sum = 0.0, offset_sum = 0.0;
    for (int p = 0; p < parts; p++) {
      scale_sum += totals[2 * d * (size_t)p + c];
      offset_sum += totals[2 * d * (size_t)p + d + c];
    }
    dscale[c] = (float)scale_sum;
    doffset[c] = (float)offset_sum;
  }
  free(totals);
  free(scratch);
  return NULL;
}

napi_value js_layer_norm_grad(napi_env env, napi_callback_info info) { return layer_norm_grad_run(env, info, "layerNormGrad", false); }
napi_value js_add_layer_norm_grad(napi_env env, napi_callback_info info) { return layer_norm_grad_run(env, info, "addLayerNormGrad", true); }
