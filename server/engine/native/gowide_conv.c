// gowide_conv: 2-D convolution (NHWC) and its two gradients via im2col + OpenBLAS sgemm, plus the
// gradient of max pooling, for the TF.js wasm backend's training kernels.
//
// Like sgemm in gowide_blas.c, every function reads and writes the caller's Float32Arrays in place
// (views of the wasm heap). The geometry is one Int32Array (see enum Geometry below). Filters are
// [fh, fw, ci, co] (TF.js layout), i.e. a row-major K x co matrix with K = fh*fw*ci.
//
//   conv2d(x, filter, out, geometry[, bias, activation, alpha])
//                                                  out = activation(im2col(x) . filter + bias)
//   conv2dBackpropFilter(x, dy, dfilter, geometry) dfilter = im2col(x)^T . dy
//   conv2dBackpropInput(dy, filter, dx, geometry)  dx = col2im(dy . filter^T)
//   maxPoolGrad(x, dy, dx, geometry)               dx[argmax of each window] += dy (first max wins)
//
// The im2col matrix (one row per output pixel, K columns) is never built for the whole batch: the
// output pixels are processed in chunks of rows that keep it in cache, and a 1x1 stride-1 unpadded
// convolution skips it (x itself is the matrix). Work is split over `threads` POSIX threads by
// chunks (each calling sgemm with OpenBLAS's own threading at 1); the filter gradient is summed per
// thread, then added up.

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <node_api.h>
#include "gowide_conv.h"

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
  int activation;     // forward only: a code of apply_bias_and_activation
  float alpha;        // leakyrelu's slope
} Conv;

#define MAX_THREADS 8

static napi_value throw_error(napi_env env, const char *function, const char *message) {
  char text[160];
  snprintf(text, sizeof text, "%s: %s", function, message);
  napi_throw_error(env, NULL, text);
  return NULL;
}

static bool get_float32_array(napi_env env, napi_value value, float **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_float32_array) {
    return false;
  }
  *data = (float *)raw;
  return true;
}

// Reads the three arrays and the geometry of a conv-like call; false with a pending exception.
static bool get_conv_args(napi_env env, napi_callback_info info, const char *function, float **arrays,
                          size_t *lengths, Conv *c) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    throw_error(env, function, "expected at least 4 arguments");
    return false;
  }
  c->bias = NULL;
  c->bias_length = 0;
  c->activation = 0;
  c->alpha = 0.0f;
  if (argc == 7) { // conv2d's bias, activation, alpha (checked by the caller)
    napi_valuetype bias_type;
    napi_typeof(env, argv[4], &bias_type);
    size_t bias_length = 0;
    float *bias = NULL;
    if (bias_type != napi_null && bias_type != napi_undefined &&
        !get_float32_array(env, argv[4], &bias, &bias_length)) {
      throw_error(env, function, "bias must be null or a Float32Array");
      return false;
    }
    int32_t activation = 0;
    double alpha = 0.0;
    napi_get_value_int32(env, argv[5], &activation);
    napi_get_value_double(env, argv[6], &alpha);
    c->bias = bias;
    c->bias_length = bias_length;
    c->activation = activation;
    c->alpha = (float)alpha;
  }
  for (int i = 0; i < 3; i++) {
    if (!get_float32_array(env, argv[i], &arrays[i], &lengths[i])) {
      throw_error(env, function, "the first three arguments must be Float32Arrays");
      return false;
    }
  }
  bool is_typed_array = false;
  napi_typedarray_type type;
  size_t count = 0;
  void *raw = NULL;
  if (napi_is_typedarray(env, argv[3], &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, argv[3], &type, &count, &raw, NULL, NULL) != napi_ok || type != napi_int32_array ||
      count != G_COUNT) {
    throw_error(env, function, "geometry must be an Int32Array of 17 values");
    return false;
  }
  const int32_t *g = (const int32_t *)raw;
  for (int i = 0; i < G_COUNT; i++) {
    // Batch, pads, chunk rows and threads may be 0 (chunk rows and threads 0: the defaults).
    const bool may_be_zero = i == G_BATCH || i == G_PAD_TOP || i == G_PAD_LEFT || i == G_CHUNK_ROWS || i == G_THREADS;
    if (g[i] < (may_be_zero ? 0 : 1)) {
      throw_error(env, function, "geometry values must be positive (batch, pads non-negative)");
      return false;
    }
  }
  c->batch = g[G_BATCH]; c->in_h = g[G_IN_H]; c->in_w = g[G_IN_W]; c->in_c = g[G_IN_C];
  c->out_h = g[G_OUT_H]; c->out_w = g[G_OUT_W]; c->out_c = g[G_OUT_C];
  c->filter_h = g[G_FILTER_H]; c->filter_w = g[G_FILTER_W];
  c->stride_h = g[G_STRIDE_H]; c->stride_w = g[G_STRIDE_W];
  c->dilation_h = g[G_DILATION_H]; c->dilation_w = g[G_DILATION_W];
  c->pad_top = g[G_PAD_TOP]; c->pad_left = g[G_PAD_LEFT];
  c->k = c->filter_h * c->filter_w * c->in_c;
  c->rows = c->batch * c->out_h * c->out_w;
  // Default chunk: about 1 MiB of im2col rows (fits in L2 next to the filter), at least 64 rows.
  int64_t chunk = g[G_CHUNK_ROWS] > 0 ? g[G_CHUNK_ROWS] : (1 << 18) / c->k;
  c->chunk_rows = chunk < 64 ? 64 : chunk;
  c->threads = g[G_THREADS] < 1 ? 1 : (g[G_THREADS] > MAX_THREADS ? MAX_THREADS : g[G_THREADS]);
  return true;
}

// True when the im2col matrix of x is x itself (1x1 filter, stride 1, no padding).
static bool im2col_is_identity(const Conv *c) {
  return c->filter_h == 1 && c->filter_w == 1 && c->stride_h == 1 && c->stride_w == 1 && c->pad_top == 0 &&
         c->pad_left == 0 && c->out_h == c->in_h && c->out_w == c->in_w;
}

// For output column ox, the filter columns [*first, *last) that land inside the input.
static void valid_filter_columns(const Conv *c, int64_t ox, int64_t *first, int64_t *last) {
  const int64_t start = ox * c->stride_w - c->pad_left;
  int64_t lo = 0, hi = c->filter_w;
  while (lo < hi && start + lo * c->dilation_w < 0) lo++;
  while (hi > lo && start + (hi - 1) * c->dilation_w >= c->in_w) hi--;
  *first = lo;
  *last = hi;
}

// Writes rows [row0, row0 + count) of im2col(x) into col (count x k).
static void im2col(const Conv *c, const float *x, int64_t row0, int64_t count, float *col) {
  const int64_t ci = c->in_c;
  for (int64_t r = 0; r < count; r++) {
    const int64_t p = row0 + r;
    const int64_t ox = p % c->out_w, oy = (p / c->out_w) % c->out_h, b = p / (c->out_w * c->out_h);
    int64_t kw0, kw1;
    valid_filter_columns(c, ox, &kw0, &kw1);
    const int64_t ix0 = ox * c->stride_w - c->pad_left;
    float *dst = col + r * c->k;
    for (int64_t kh = 0; kh < c->filter_h; kh++, dst += c->filter_w * ci) {
      const int64_t iy = oy * c->stride_h + kh * c->dilation_h - c->pad_top;
      if (iy < 0 || iy >= c->in_h || kw0 >= kw1) {
        memset(dst, 0, sizeof(float) * (size_t)(c->filter_w * ci));
        continue;
      }
      const float *src_row = x + ((b * c->in_h + iy) * c->in_w) * ci;
      if (kw0 > 0) memset(dst, 0, sizeof(float) * (size_t)(kw0 * ci));
      if (c->dilation_w == 1) {
        memcpy(dst + kw0 * ci, src_row + (ix0 + kw0) * ci, sizeof(float) * (size_t)((kw1 - kw0) * ci));
      } else {
        for (int64_t kw = kw0; kw < kw1; kw++) {
          memcpy(dst + kw * ci, src_row + (ix0 + kw * c->dilation_w) * ci, sizeof(float) * (size_t)ci);
        }
      }
      if (kw1 < c->filter_w) memset(dst + kw1 * ci, 0, sizeof(float) * (size_t)((c->filter_w - kw1) * ci));
    }
  }
}

// Adds rows [row0, row0 + count) of col (count x k) back into dx, the adjoint of im2col.
static void col2im_add(const Conv *c, const float *col, int64_t row0, int64_t count, float *dx) {
  const int64_t ci = c->in_c;
  for (int64_t r = 0; r < count; r++) {
    const int64_t p = row0 + r;
    const int64_t ox = p % c->out_w, oy = (p / c->out_w) % c->out_h, b = p / (c->out_w * c->out_h);
    int64_t kw0, kw1;
    valid_filter_columns(c, ox, &kw0, &kw1);
    const int64_t ix0 = ox * c->stride_w - c->pad_left;
    const float *src = col + r * c->k;
    for (int64_t kh = 0; kh < c->filter_h; kh++, src += c->filter_w * ci) {
      const int64_t iy = oy * c->stride_h + kh * c->dilation_h - c->pad_top;
      if (iy < 0 || iy >= c->in_h) continue;
      float *dst_row = dx + ((b * c->in_h + iy) * c->in_w) * ci;
      for (int64_t kw = kw0; kw < kw1; kw++) {
        float *dst = dst_row + (ix0 + kw * c->dilation_w) * ci;
        const float *values = src + kw * ci;
        for (int64_t i = 0; i < ci; i++) dst[i] += values[i];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Work split over threads: thread t takes chunks t, t + threads, ... For the input gradient,
// col2im of neighbouring output rows overlaps in dx, so there each thread takes a contiguous
// range of whole images instead (images never overlap).

typedef enum { WORK_FORWARD, WORK_FILTER, WORK_INPUT } WorkKind;

typedef struct {
  const Conv *c;
  WorkKind kind;
  const float *a;  // x (forward, filter) or dy (input)
  const float *b;  // filter (forward, input) or dy (filter)
  float *out;      // out, this thread's filter-gradient accumulator, or dx
  int64_t row_begin, row_end; // the rows this thread owns (input gradient) or all rows
  int thread, threads;
  bool failed;
} Work;

static void *run_work(void *argument) {
  Work *w = (Work *)argument;
  const Conv *c = w->c;
  const bool identity = im2col_is_identity(c);
  float *col = identity ? NULL : malloc(sizeof(float) * (size_t)(c->chunk_rows * c->k));
  if (!identity && col == NULL) {
    w->failed = true;
    return NULL;
  }
  bool first = true;
  const int64_t step = w->kind == WORK_INPUT ? c->chunk_rows : c->chunk_rows * w->threads;
  const int64_t begin = w->kind == WORK_INPUT ? w->row_begin : w->row_begin + c->chunk_rows * w->thread;
  for (int64_t row0 = begin; row0 < w->row_end; row0 += step) {
    const int64_t count = row0 + c->chunk_rows <= w->row_end ? c->chunk_rows : w->row_end - row0;
    switch (w->kind) {
      case WORK_FORWARD: {
        const float *matrix = identity ? w->a + row0 * c->k : col;
        if (!identity) im2col(c, w->a, row0, count, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)count, (int)c->out_c, (int)c->k, 1.0f, matrix,
                    (int)c->k, w->b, (int)c->out_c, 0.0f, w->out + row0 * c->out_c, (int)c->out_c);
        apply_bias_and_activation(w->out + row0 * c->out_c, (size_t)count, (size_t)c->out_c, c->bias, c->activation,
                                  c->alpha);
        break;
      }
      case WORK_FILTER: {
        const float *matrix = identity ? w->a + row0 * c->k : col;
        if (!identity) im2col(c, w->a, row0, count, col);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->k, (int)c->out_c, (int)count, 1.0f, matrix,
                    (int)c->k, w->b + row0 * c->out_c, (int)c->out_c, first ? 0.0f : 1.0f, w->out, (int)c->out_c);
        first = false;
        break;
      }
      case WORK_INPUT: {
        float *target = identity ? w->out + row0 * c->k : col;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)count, (int)c->k, (int)c->out_c, 1.0f,
                    w->a + row0 * c->out_c, (int)c->out_c, w->b, (int)c->out_c, 0.0f, target, (int)c->k);
        if (!identity) col2im_add(c, col, row0, count, w->out);
        break;
      }
    }
  }
  if (w->kind == WORK_FILTER && first) memset(w->out, 0, sizeof(float) * (size_t)(c->k * c->out_c));
  free(col);
  return NULL;
}

// Runs the work on c->threads threads (the calling thread is one of them); false on failure.
static bool run_parallel(const Conv *c, WorkKind kind, const float *a, const float *b, float *out) {
  int threads = c->threads;
  const int64_t chunks = (c->rows + c->chunk_rows - 1) / c->chunk_rows;
  if (kind == WORK_INPUT && threads > c->batch) threads = (int)c->batch;
  if (threads > chunks) threads = (int)chunks;
  if (threads < 1) threads = 1;
  const size_t filter_size = (size_t)(c->k * c->out_c);
  // Filter gradient: thread 0 writes out, the others their own accumulators, added up at the end.
  float *partials = NULL;
  if (kind == WORK_FILTER && threads > 1) {
    partials = malloc(sizeof(float) * filter_size * (size_t)(threads - 1));
    if (partials == NULL) threads = 1;
  }
  Work work[MAX_THREADS];
  pthread_t handles[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  const int64_t pixels_per_image = c->out_h * c->out_w;
  for (int t = 0; t < threads; t++) {
    Work *w = &work[t];
    w->c = c; w->kind = kind; w->a = a; w->b = b; w->failed = false;
    w->thread = t; w->threads = threads;
    w->out = kind == WORK_FILTER && t > 0 ? partials + filter_size * (size_t)(t - 1) : out;
    if (kind == WORK_INPUT) {
      w->row_begin = c->batch * t / threads * pixels_per_image;
      w->row_end = c->batch * (t + 1) / threads * pixels_per_image;
    } else {
      w->row_begin = 0;
      w->row_end = c->rows;
    }
  }
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&handles[t], NULL, run_work, &work[t]) == 0;
  run_work(&work[0]);
  bool ok = !work[0].failed;
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(handles[t], NULL);
    else run_work(&work[t]); // could not start a thread: do its share here
    ok = ok && !work[t].failed;
  }
  for (int t = 1; kind == WORK_FILTER && t < threads; t++) {
    const float *partial = partials + filter_size * (size_t)(t - 1);
    for (size_t i = 0; i < filter_size; i++) out[i] += partial[i];
  }
  free(partials);
  return ok;
}

static bool lengths_fit(const Conv *c, size_t x_length, size_t filter_length, size_t y_length) {
  return x_length >= (size_t)(c->batch * c->in_h * c->in_w * c->in_c) && filter_length >= (size_t)(c->k * c->out_c) &&
         y_length >= (size_t)(c->rows * c->out_c);
}

// The three conv entry points: conv2d(x, filter, y, geometry[, bias, activation, alpha]),
// conv2dBackpropFilter(x, dy, dfilter, geometry) and conv2dBackpropInput(dy, filter, dx, geometry).
static napi_value run_conv_entry(napi_env env, napi_callback_info info, const char *function, WorkKind kind) {
  float *arrays[3];
  size_t lengths[3];
  Conv c;
  if (!get_conv_args(env, info, function, arrays, lengths, &c)) return NULL;
  // Where the conv's x, filter and y (its output) are among the three arrays, per kind.
  const int x = kind == WORK_INPUT ? 2 : 0;
  const int filter = kind == WORK_FILTER ? 2 : 1;
  const int y = kind == WORK_FORWARD ? 2 : kind == WORK_FILTER ? 1 : 0;
  if (!lengths_fit(&c, lengths[x], lengths[filter], lengths[y])) return throw_error(env, function, "an array is too short");
  if (kind == WORK_FORWARD) {
    if (c.bias != NULL && c.bias_length != (size_t)c.out_c) return throw_error(env, function, "bias length must equal out_c");
    if (c.activation != 0 && c.activation != 1 && c.activation != 2 && c.activation != 4 && c.activation != 5 &&
        c.activation != 6) {
      return throw_error(env, function, "unsupported activation code");
    }
  }
  // The input gradient: col2im accumulates into dx; the identity case writes every element itself.
  if (kind == WORK_INPUT && !im2col_is_identity(&c)) {
    memset(arrays[2], 0, sizeof(float) * (size_t)(c.batch * c.in_h * c.in_w * c.in_c));
  }
  if (!run_parallel(&c, kind, arrays[0], arrays[1], arrays[2])) return throw_error(env, function, "out of memory");
  return NULL;
}

static napi_value conv2d(napi_env env, napi_callback_info info) {
  return run_conv_entry(env, info, "conv2d", WORK_FORWARD);
}

static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  return run_conv_entry(env, info, "conv2dBackpropFilter", WORK_FILTER);
}

static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  return run_conv_entry(env, info, "conv2dBackpropInput", WORK_INPUT);
}

// maxPoolGrad(x, dy, dx, geometry): in_c is the channel count (out_c must equal it); the filter
// size, strides, dilations and pads are the pooling window's. Images are split over the threads
// (windows of different images never share a dx element). Per window, the channels' best values
// and window positions are tracked branch-free (vectorizable); the first maximum wins.

typedef struct {
  const Conv *c;
  const float *x, *dy;
  float *dx;
  int64_t image_begin, image_end;
  bool tiled; // windows tile the input (stride = window, no padding or dilation): see run_max_pool_grad_tiled
  bool failed;
} PoolWork;

// Where values[ch] > best[ch]: best[ch] = values[ch], position[ch] = p. Branch-free, vectorizable.
static void update_best(const float *restrict values, float *restrict best, int32_t *restrict position, int32_t p,
                        int64_t channels) {
  for (int64_t ch = 0; ch < channels; ch++) {
    const float value = values[ch], current = best[ch];
    const int32_t mask = -(int32_t)(value > current); // all ones where greater (a select GCC vectorizes)
    best[ch] = value > current ? value : current;
    position[ch] = (p & mask) | (position[ch] & ~mask);
  }
}

// The gradient where the windows do not overlap (2x2 stride 2 pooling): each input value is in at
// most one window, so dx is written once, window by window (dy at the window's first maximum, 0
// elsewhere), with no zeroing pass before and no scattered adds; the input rows and columns no
// window covers are zeroed.
static void run_max_pool_grad_tiled(PoolWork *w, float *best, int32_t *best_position) {
  const Conv *c = w->c;
  const int64_t channels = c->in_c, covered_h = c->out_h * c->filter_h, covered_w = c->out_w * c->filter_w;
  const size_t row = (size_t)(c->in_w * channels);
  for (int64_t b = w->image_begin; b < w->image_end; b++) {
    const size_t image = (size_t)(b * c->in_h) * row;
    for (int64_t oy = 0; oy < c->out_h; oy++) {
      for (int64_t ox = 0; ox < c->out_w; ox++) {
        for (int64_t ch = 0; ch < channels; ch++) {
          best[ch] = -INFINITY;
          best_position[ch] = -1;
        }
        const size_t corner = image + (size_t)(oy * c->filter_h) * row + (size_t)(ox * c->filter_w * channels);
        for (int64_t fy = 0; fy < c->filter_h; fy++) {
          for (int64_t fx = 0; fx < c->filter_w; fx++) {
            const size_t offset = corner + (size_t)fy * row + (size_t)(fx * channels);
            update_best(w->x + offset, best, best_position, (int32_t)(fy * c->filter_w + fx), channels);
          }
        }
        const float *gradient = w->dy + ((b * c->out_h + oy) * c->out_w + ox) * channels;
        for (int64_t fy = 0; fy < c->filter_h; fy++) {
          for (int64_t fx = 0; fx < c->filter_w; fx++) {
            float *target = w->dx + corner + (size_t)fy * row + (size_t)(fx * channels);
            const int32_t p = (int32_t)(fy * c->filter_w + fx);
            for (int64_t ch = 0; ch < channels; ch++) {
              const float g = gradient[ch]; // loaded unconditionally: the select below then vectorizes
              target[ch] = best_position[ch] == p ? g : 0.0f;
            }
          }
        }
      }
      // Columns right of the last window.
      for (int64_t fy = 0; fy < c->filter_h && covered_w < c->in_w; fy++) {
        float *rest = w->dx + image + (size_t)(oy * c->filter_h + fy) * row + (size_t)(covered_w * channels);
        memset(rest, 0, sizeof(float) * (size_t)((c->in_w - covered_w) * channels));
      }
    }
    // Rows below the last window.
    if (covered_h < c->in_h) memset(w->dx + image + (size_t)covered_h * row, 0, sizeof(float) * (size_t)(c->in_h - covered_h) * row);
  }
}

static void *run_max_pool_grad(void *argument) {
  PoolWork *w = (PoolWork *)argument;
  const Conv *c = w->c;
  const int64_t channels = c->in_c, window = c->filter_h * c->filter_w;
  float *best = malloc(sizeof(float) * (size_t)channels);
  int32_t *best_position = malloc(sizeof(int32_t) * (size_t)channels);
  int64_t *offsets = malloc(sizeof(int64_t) * (size_t)window); // x offset of each window position
  if (best == NULL || best_position == NULL || offsets == NULL) {
    w->failed = true;
  } else if (w->tiled) {
    run_max_pool_grad_tiled(w, best, best_position);
  } else {
    for (int64_t b = w->image_begin; b < w->image_end; b++) {
      for (int64_t oy = 0; oy < c->out_h; oy++) {
        for (int64_t ox = 0; ox < c->out_w; ox++) {
          for (int64_t ch = 0; ch < channels; ch++) {
            best[ch] = -INFINITY;
            best_position[ch] = -1;
          }
          for (int64_t fy = 0; fy < c->filter_h; fy++) {
            const int64_t iy = oy * c->stride_h + fy * c->dilation_h - c->pad_top;
            if (iy < 0 || iy >= c->in_h) continue;
            for (int64_t fx = 0; fx < c->filter_w; fx++) {
              const int64_t ix = ox * c->stride_w + fx * c->dilation_w - c->pad_left;
              if (ix < 0 || ix >= c->in_w) continue;
              const int32_t position = (int32_t)(fy * c->filter_w + fx);
              const int64_t offset = ((b * c->in_h + iy) * c->in_w + ix) * channels;
              offsets[position] = offset;
              update_best(w->x + offset, best, best_position, position, channels);
            }
          }
          const float *gradient = w->dy + ((b * c->out_h + oy) * c->out_w + ox) * channels;
          for (int64_t ch = 0; ch < channels; ch++) {
            if (best_position[ch] >= 0) w->dx[offsets[best_position[ch]] + ch] += gradient[ch];
          }
        }
      }
    }
  }
  free(best);
  free(best_position);
  free(offsets);
  return NULL;
}

static napi_value max_pool_grad(napi_env env, napi_callback_info info) {
  float *arrays[3];
  size_t lengths[3];
  Conv c;
  if (!get_conv_args(env, info, "maxPoolGrad", arrays, lengths, &c)) return NULL;
  const int64_t channels = c.in_c;
  const size_t in_size = (size_t)(c.batch * c.in_h * c.in_w * channels);
  if (c.out_c != channels || lengths[0] < in_size || lengths[2] < in_size ||
      lengths[1] < (size_t)(c.rows * channels)) {
    return throw_error(env, "maxPoolGrad", "an array is too short, or in and out channels differ");
  }
  const bool tiled = c.stride_h == c.filter_h && c.stride_w == c.filter_w && c.dilation_h == 1 && c.dilation_w == 1 &&
                     c.pad_top == 0 && c.pad_left == 0 && c.out_h * c.filter_h <= c.in_h && c.out_w * c.filter_w <= c.in_w;
  if (!tiled) memset(arrays[2], 0, sizeof(float) * in_size);
  int threads = c.threads > c.batch ? (int)c.batch : c.threads;
  if (threads < 1) threads = 1;
  PoolWork work[MAX_THREADS];
  pthread_t handles[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (int t = 0; t < threads; t++) {
    work[t] = (PoolWork){&c, arrays[0], arrays[1], arrays[2], c.batch * t / threads, c.batch * (t + 1) / threads, tiled, false};
  }
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&handles[t], NULL, run_max_pool_grad, &work[t]) == 0;
  run_max_pool_grad(&work[0]);
  bool ok = !work[0].failed;
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(handles[t], NULL);
    else run_max_pool_grad(&work[t]);
    ok = ok && !work[t].failed;
  }
  if (!ok) return throw_error(env, "maxPoolGrad", "out of memory");
  return NULL;
}

void gowide_conv_register(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    GOWIDE_FUNCTION("conv2d", conv2d),
    GOWIDE_FUNCTION("conv2dBackpropFilter", conv2d_backprop_filter),
    GOWIDE_FUNCTION("conv2dBackpropInput", conv2d_backprop_input),
    GOWIDE_FUNCTION("maxPoolGrad", max_pool_grad),
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
