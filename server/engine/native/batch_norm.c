// Batch normalization for the TF.js wasm backend:
//
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
//                                      over `threads` threads of the pool (gowide_split_min_values)
//   batchNormTrainGrad(x, dy, mean, variance, scale, dmean, dvariance, dx, dscale, doffset,
//                      channels, epsilon[, threads])
//                                      its gradients, through the batch statistics; two passes
//   batchNormReluTrain, batchNormReluTrainGrad
//                                      the same followed by a ReLU (below)
#include <math.h>
#include <stdlib.h>
#include "gowide_addon.h"

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

napi_value js_batch_norm(napi_env env, napi_callback_info info) {
  float *arrays[6];
  size_t lengths[6];
  int64_t period = 0;
  double epsilon = 0.0;
  // Optional: scale (no scale: 1), offset (0).
  if (!gowide_norm_arguments(env, info, "batchNorm", 6, 1u << 3 | 1u << 4, arrays, lengths, &period, &epsilon, NULL)) return NULL;
  const float *x = arrays[0], *mean = arrays[1], *variance = arrays[2], *scale = arrays[3], *offset = arrays[4];
  float *out = arrays[5];
  const size_t size = lengths[0], p = (size_t)period;
  if (size % p != 0 || lengths[5] < size) return gowide_fail(env, "batchNorm", "x must hold whole periods and out as many values");
  for (int i = 1; i < 5; i++) {
    if (arrays[i] != NULL && lengths[i] < p) return gowide_fail(env, "batchNorm", "statistics are shorter than the period");
  }
  // factor = scale / sqrt(variance + epsilon): out = (x - mean) * factor + offset.
  float *factor = malloc(2 * p * sizeof(float));
  if (factor == NULL) return gowide_fail(env, "batchNorm", "out of memory");
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

napi_value js_batch_norm_grad(napi_env env, napi_callback_info info) {
  float *arrays[10];
  size_t lengths[10];
  int64_t channels = 0;
  double epsilon = 0.0;
  // Optional: scale (no scale: 1).
  if (!gowide_norm_arguments(env, info, "batchNormGrad", 10, 1u << 4, arrays, lengths, &channels, &epsilon, NULL)) return NULL;
  float *x = arrays[0], *dy = arrays[1], *mean = arrays[2], *variance = arrays[3], *scale = arrays[4];
  float *dx = arrays[5], *dmean = arrays[6], *dvariance = arrays[7], *dscale = arrays[8], *doffset = arrays[9];
  const size_t size = lengths[0];
  const size_t c_count = (size_t)channels;
  if (size % c_count != 0 || lengths[1] < size || lengths[5] < size) return gowide_fail(env, "batchNormGrad", "x, dy and dx must hold whole rows of channels");
  for (int i = 2; i < 10; i++) {
    if (i == 5 || (i == 4 && scale == NULL)) continue;
    if (lengths[i] < c_count) return gowide_fail(env, "batchNormGrad", "per-channel arrays are shorter than channels");
  }
  const size_t rows = size / c_count;
  // Per-channel factors, then one pass over the rows for dx, S1 and S2 (in double: long sums).
  double *s1 = calloc(2 * c_count, sizeof(double));
  float *factor = malloc(c_count * sizeof(float));
  if (s1 == NULL || factor == NULL) {
    free(s1);
    free(factor);
    return gowide_fail(env, "batchNormGrad", "out of memory");
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
    return gowide_fail(env, "batchNormGrad", "out of memory");
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

napi_value js_batch_norm_grad_full(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  size_t argc;
  float *arrays[9] = {NULL};
  size_t lengths[9] = {0};
  double epsilon = 0.0;
  if (!gowide_arguments(env, info, 10, 10, argv, &argc)) return gowide_fail(env, "batchNormGradFull", "expected 10 arguments");
  for (int i = 0; i < 9; i++) {
    // scale (i = 4) may be null: 1
    const bool read = i == 4 ? gowide_optional_floats(env, argv[i], &arrays[i], &lengths[i]) : gowide_floats(env, argv[i], &arrays[i], &lengths[i]);
    if (!read) return gowide_fail(env, "batchNormGradFull", "arrays must be Float32Arrays (scale may be null)");
  }
  if (napi_get_value_double(env, argv[9], &epsilon) != napi_ok) return gowide_fail(env, "batchNormGradFull", "epsilon must be a number");
  const size_t n = lengths[0];
  for (int i = 1; i < 9; i++) {
    if (arrays[i] != NULL && lengths[i] < n) return gowide_fail(env, "batchNormGradFull", "every array must be as long as x");
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

typedef struct {
  size_t c, group, width, wide_rows, tail; // tail: values in the last, partial wide row
  bool vectors; // rows of 8, 16, 24 or 32 channels: the per-channel values in registers (below)
} WideRows;

static WideRows wide_rows(size_t rows, size_t c) {
  WideRows w = {.c = c, .group = c <= WIDE ? WIDE / c : 1};
  w.vectors = c % 8 == 0 && c <= 32;
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
// partial sums of channel_sums stay the same whatever the split); one share below
// gowide_split_min_values() values. Returns the number of shares.
static int slot_shares(const WideRows *w, int threads, SlotRange *shares) {
  const size_t slots = w->wide_rows + (w->tail > 0 ? 1 : 0), blocks = (slots + 63) / 64;
  size_t parts = (size_t)gowide_threads(threads, GOWIDE_MAX_THREADS);
  if ((double)slots * (double)w->width < gowide_split_min_values()) parts = 1;
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
  SlotRange ranges[GOWIDE_MAX_THREADS];
  const int shares = slot_shares(w, threads, ranges);
  double *others = shares > 1 ? malloc(2 * w->c * (size_t)(shares - 1) * sizeof(double)) : NULL;
  if (shares > 1 && others == NULL) return false;
  SumsShare work[GOWIDE_MAX_THREADS];
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
  SlotRange ranges[GOWIDE_MAX_THREADS];
  const int shares = slot_shares(w, threads, ranges);
  AffineShare work[GOWIDE_MAX_THREADS];
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
  if (!gowide_norm_arguments(env, info, name, count, optional, t->arrays, t->lengths, &t->channels, &t->epsilon, &t->threads)) return false;
  const size_t size = t->lengths[0], c_count = (size_t)t->channels;
  bool ok = size > 0 && size % c_count == 0;
  for (size_t i = 1; ok && i < count; i++) {
    ok = t->arrays[i] == NULL || t->lengths[i] >= (((full >> i) & 1u) != 0 ? size : c_count);
  }
  if (!ok) {
    gowide_fail(env, name, "x must hold whole rows of channels, the full-size arrays as many values, the others one per channel");
    return false;
  }
  t->w = wide_rows(size / c_count, c_count);
  t->totals = malloc(2 * c_count * sizeof(double));
  t->scratch = malloc((4 * t->w.width + extra * c_count) * sizeof(float));
  if (t->totals == NULL || t->scratch == NULL) {
    train_free(t);
    gowide_fail(env, name, "out of memory");
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
    return gowide_fail(env, name, "out of memory");
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

napi_value js_batch_norm_train(napi_env env, napi_callback_info info) { return batch_norm_train_run(env, info, "batchNormTrain", false); }
napi_value js_batch_norm_relu_train(napi_env env, napi_callback_info info) { return batch_norm_train_run(env, info, "batchNormReluTrain", true); }

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
    return gowide_fail(env, name, "out of memory");
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

napi_value js_batch_norm_train_grad(napi_env env, napi_callback_info info) { return batch_norm_train_grad_run(env, info, "batchNormTrainGrad", false); }
napi_value js_batch_norm_relu_train_grad(napi_env env, napi_callback_info info) { return batch_norm_train_grad_run(env, info, "batchNormReluTrainGrad", true); }
