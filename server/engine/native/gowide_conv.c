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
//   maxPool(x, y, y, geometry)                     y = max over each window (windows that tile x only)
//
// The im2col matrix (one row per output pixel, K columns) is never built for the whole batch: the
// output pixels are processed in chunks of rows that keep it in cache, and a 1x1 stride-1 unpadded
// convolution skips it (x itself is the matrix). Work is split over `threads` POSIX threads by
// chunks (each calling sgemm with OpenBLAS's own threading at 1); the filter gradient is summed per
// thread, then added up. Where out_c (of the conv, or of the input gradient's convs of dy) is 8 or
// 16 (or more with short windows), the forward conv and both gradients run a direct convolution
// instead (below).

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
  G_FLAGS, // bit 0: the direct convolution below where it applies (else im2col + sgemm); bit 1: the thread pool (else a thread per call);
           // bit 2: im2col's products in gowide_tiles.c's register tiles where they apply (else OpenBLAS);
           // bit 3: the direct convolution in one call per output row (else a call per block of pixels, as before)
  G_COUNT
};

typedef struct {
  int64_t batch, in_h, in_w, in_c, out_h, out_w, out_c, filter_h, filter_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t k;          // filter_h * filter_w * in_c: the im2col row length
  int64_t rows;       // batch * out_h * out_w: output pixels
  int64_t chunk_rows; // output pixels per im2col chunk
  int threads;
  bool direct;        // may use the direct convolution (G_FLAGS bit 0)
  bool pool;          // runs its threads on the pool (G_FLAGS bit 1; else starts them per call, as before the pool)
  bool tiles;         // im2col's products in register tiles where they apply (G_FLAGS bit 2)
  bool row_runs;      // the direct convolution in one call per output row (G_FLAGS bit 3)
  const float *bias;  // forward only: null or out_c values
  size_t bias_length;
  int activation;     // forward only: a code of apply_bias_and_activation
  float alpha;        // leakyrelu's slope
} Conv;

#define MAX_THREADS 8

// A pool of worker threads, started on first use and kept (waiting on a condition variable, no
// spinning) for the addon's lifetime: starting threads per call cost ~20-40 us each, and each new
// thread's first large allocations went to the kernel (mmap, page faults: up to ~2 ms of system
// time per conv call). run_threads runs fn on each of `threads` work items (an array of items of
// `size` bytes): the calling thread runs item 0, the workers and then the caller again claim the
// items left one at a time, so an item whose worker is not scheduled yet (another job on the other
// core) runs on the caller instead of being waited for. Calls from a second thread while the pool
// is busy, or when no worker can start, run every item on the calling thread. True when no item's
// bool at byte `failed` (offsetof its failed flag) is set.
static struct {
  pthread_mutex_t use;  // held by the caller running a job on the pool
  pthread_mutex_t lock; // guards the fields below
  pthread_cond_t start, done;
  int workers;          // workers started
  uint64_t generation;  // incremented per job
  void *(*fn)(void *);
  char *items;
  size_t size;
  int count, next;      // items in the job; the next one not claimed yet
  int running;          // items claimed by workers and not finished
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL, NULL, 0, 0, 0, 0};

// With pool.lock held: claims and runs the job's items left (the lock released while one runs).
static void run_unclaimed_items(bool worker) {
  while (pool.next < pool.count) {
    void *(*fn)(void *) = pool.fn;
    char *work = pool.items + pool.size * (size_t)pool.next++;
    if (worker) pool.running++;
    pthread_mutex_unlock(&pool.lock);
    fn(work);
    pthread_mutex_lock(&pool.lock);
    if (worker && --pool.running == 0) pthread_cond_signal(&pool.done);
  }
}

static void *pool_worker(void *argument) {
  (void)argument;
  uint64_t seen = 0;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    while (pool.generation == seen) pthread_cond_wait(&pool.start, &pool.lock);
    seen = pool.generation;
    run_unclaimed_items(true);
  }
  return NULL;
}

// A buffer of at least `count` floats owned by the calling thread (one per slot), kept between
// calls and grown when needed, so that the pool's threads do not allocate per call. NULL when out
// of memory. release_thread_buffers frees them (threads started per call, at their end).
static __thread float *thread_buffers[2];
static __thread size_t thread_buffer_sizes[2];

static float *thread_buffer(int slot, size_t count) {
  if (thread_buffer_sizes[slot] < count) {
    free(thread_buffers[slot]);
    thread_buffers[slot] = malloc(sizeof(float) * count);
    thread_buffer_sizes[slot] = thread_buffers[slot] == NULL ? 0 : count;
  }
  return thread_buffers[slot];
}

static void release_thread_buffers(void) {
  for (int slot = 0; slot < 2; slot++) {
    free(thread_buffers[slot]);
    thread_buffers[slot] = NULL;
    thread_buffer_sizes[slot] = 0;
  }
}

typedef struct {
  void *(*fn)(void *);
  void *item;
} OneShot;

static void *run_one_shot(void *argument) {
  const OneShot *job = (const OneShot *)argument;
  job->fn(job->item);
  release_thread_buffers();
  return NULL;
}

static bool run_threads(void *(*fn)(void *), void *work, size_t size, int threads, size_t failed, bool use_pool) {
  char *items = (char *)work;
  if (!use_pool || threads < 2) { // a thread per item but the first, started for this call
    pthread_t handles[MAX_THREADS];
    OneShot jobs[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    for (int t = 1; t < threads; t++) {
      jobs[t] = (OneShot){fn, items + size * (size_t)t};
      started[t] = pthread_create(&handles[t], NULL, run_one_shot, &jobs[t]) == 0;
    }
    fn(items);
    for (int t = 1; t < threads; t++) {
      if (started[t]) pthread_join(handles[t], NULL);
      else fn(items + size * (size_t)t);
    }
  } else {
    const bool owner = pthread_mutex_trylock(&pool.use) == 0;
    if (owner) {
      pthread_mutex_lock(&pool.lock);
      while (pool.workers < threads - 1) {
        pthread_t handle;
        if (pthread_create(&handle, NULL, pool_worker, NULL) != 0) break;
        pthread_detach(handle);
        pool.workers++;
      }
      pool.fn = fn;
      pool.items = items;
      pool.size = size;
      pool.count = threads;
      pool.next = 1; // item 0 is the caller's
      pool.running = 0;
      pool.generation++;
      pthread_cond_broadcast(&pool.start);
      pthread_mutex_unlock(&pool.lock);
      fn(items);
      pthread_mutex_lock(&pool.lock);
      run_unclaimed_items(false);
      while (pool.running > 0) pthread_cond_wait(&pool.done, &pool.lock);
      pthread_mutex_unlock(&pool.lock);
      pthread_mutex_unlock(&pool.use);
    } else {
      for (int t = 0; t < threads; t++) fn(items + size * (size_t)t);
    }
  }
  bool ok = true;
  for (int t = 0; t < threads; t++) ok = ok && !*(const bool *)(items + size * (size_t)t + failed);
  return ok;
}

bool gowide_run_threads(void *(*fn)(void *), void *work, size_t size, int threads, size_t failed_offset) {
  return run_threads(fn, work, size, threads, failed_offset, true);
}

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
    throw_error(env, function, "geometry must be an Int32Array of 18 values");
    return false;
  }
  const int32_t *g = (const int32_t *)raw;
  for (int i = 0; i < G_COUNT; i++) {
    // Batch, pads, chunk rows, threads and flags may be 0 (chunk rows and threads 0: the defaults).
    const bool may_be_zero =
        i == G_BATCH || i == G_PAD_TOP || i == G_PAD_LEFT || i == G_CHUNK_ROWS || i == G_THREADS || i == G_FLAGS;
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
  c->direct = (g[G_FLAGS] & 1) != 0;
  c->pool = (g[G_FLAGS] & 2) != 0;
  c->tiles = (g[G_FLAGS] & 4) != 0;
  c->row_runs = (g[G_FLAGS] & 8) != 0;
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
  float *col = identity ? NULL : thread_buffer(0, (size_t)(c->chunk_rows * c->k));
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
        float *out = w->out + row0 * c->out_c;
        if (!c->tiles || !gowide_sgemm(false, false, (size_t)count, (size_t)c->out_c, (size_t)c->k, matrix, (size_t)c->k, w->b, (size_t)c->out_c, out,
                                       (size_t)c->out_c, false)) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)count, (int)c->out_c, (int)c->k, 1.0f, matrix, (int)c->k, w->b,
                      (int)c->out_c, 0.0f, out, (int)c->out_c);
        }
        apply_bias_and_activation(w->out + row0 * c->out_c, (size_t)count, (size_t)c->out_c, c->bias, c->activation,
                                  c->alpha);
        break;
      }
      case WORK_FILTER: {
        const float *matrix = identity ? w->a + row0 * c->k : col;
        if (!identity) im2col(c, w->a, row0, count, col);
        const float *dy = w->b + row0 * c->out_c;
        if (!c->tiles || !gowide_sgemm(true, false, (size_t)c->k, (size_t)c->out_c, (size_t)count, matrix, (size_t)c->k, dy, (size_t)c->out_c,
                                       w->out, (size_t)c->out_c, !first)) {
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->k, (int)c->out_c, (int)count, 1.0f, matrix, (int)c->k, dy,
                      (int)c->out_c, first ? 0.0f : 1.0f, w->out, (int)c->out_c);
        }
        first = false;
        break;
      }
      case WORK_INPUT: {
        float *target = identity ? w->out + row0 * c->k : col;
        const float *dy = w->a + row0 * c->out_c;
        if (!c->tiles || !gowide_sgemm(false, true, (size_t)count, (size_t)c->k, (size_t)c->out_c, dy, (size_t)c->out_c, w->b, (size_t)c->out_c,
                                       target, (size_t)c->k, false)) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)count, (int)c->k, (int)c->out_c, 1.0f, dy, (int)c->out_c, w->b,
                      (int)c->out_c, 0.0f, target, (int)c->k);
        }
        if (!identity) col2im_add(c, col, row0, count, w->out);
        break;
      }
    }
  }
  if (w->kind == WORK_FILTER && first) memset(w->out, 0, sizeof(float) * (size_t)(c->k * c->out_c));
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
  bool ok = run_threads(run_work, work, sizeof work[0], threads, offsetof(Work, failed), c->pool);
  for (int t = 1; kind == WORK_FILTER && t < threads; t++) {
    const float *partial = partials + filter_size * (size_t)(t - 1);
    for (size_t i = 0; i < filter_size; i++) out[i] += partial[i];
  }
  free(partials);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Direct convolution for small channel counts (out_c 8 or 16, or any multiple of 8, computed in
// groups of up to 32 channels, where the window holds at most 32 values: 1x1 convs of up to 32
// input channels, an image's first conv; dilation 1; filters up to 8 x 8). sgemm on im2col rows
// with 8-16 output columns runs at 20-60 GFLOPS here; this computes
// blocks of P output pixels x out_c channels in registers instead (P = 8 / (out_c / 8) pixels,
// 8 vector accumulators), reading x straight from the image: for dilation 1 the window's row kh
// is one contiguous run of filter_w * in_c values, multiplied by rows of the filter (which,
// [fh, fw, ci, co], is a run of filter_w * in_c rows of out_c values per kh). Windows crossing the
// left or right edge read from a copy of the image padded with zero columns (made once per image,
// only when needed); window rows above or below the image read a row of zeros. Images are split
// over the threads. The input gradient is the same computation on dy with the filter flipped and
// its in/out channels swapped (per class of dx pixels for strides above 1: direct_input_gradient).

typedef float v8 __attribute__((vector_size(32)));

#define DIRECT_MAX_FILTER 8
#define DIRECT_MAX_PIXELS 8

typedef struct {
  int64_t batch, in_h, in_w, in_c, out_h, out_w, out_c, filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
  int64_t y_image, y_row, y_pixel; // floats between y's images, rows and pixels; 0: y is contiguous
  bool row_runs; // direct_images runs each output row in one call (direct_runs), not per block of pixels
} Direct;

// acc[p] += sum over kh, j of rows[p][kh][j] * filter[kh][j][0..co): P pixels, NV vectors of 8
// channels each; the result is stored to out[p]. Inlined into one function per (NV, P), so both
// loops over p and v unroll and the accumulators stay in registers.
static inline __attribute__((always_inline)) void direct_block(const float *const *rows, int64_t filter_h, int64_t span,
                                                                const float *filter, int64_t co, float *const *out,
                                                                const int NV, const int P) {
  v8 acc[DIRECT_MAX_PIXELS][4];
  for (int p = 0; p < P; p++) {
    for (int v = 0; v < NV; v++) acc[p][v] = (v8){0};
  }
  for (int64_t kh = 0; kh < filter_h; kh++) {
    const float *f = filter + kh * span * co;
    const float *r[DIRECT_MAX_PIXELS];
    for (int p = 0; p < P; p++) r[p] = rows[p * DIRECT_MAX_FILTER + kh];
    for (int64_t j = 0; j < span; j++) {
      v8 w[4];
      for (int v = 0; v < NV; v++) memcpy(&w[v], f + j * co + 8 * v, sizeof(v8));
      for (int p = 0; p < P; p++) {
        const float value = r[p][j];
        const v8 x = {value, value, value, value, value, value, value, value};
        for (int v = 0; v < NV; v++) acc[p][v] += x * w[v];
      }
    }
  }
  for (int p = 0; p < P; p++) {
    for (int v = 0; v < NV; v++) memcpy(out[p] + 8 * v, &acc[p][v], sizeof(v8));
  }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CONV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CONV_CLONES
#endif

#define DIRECT_BLOCK(NV, P)                                                                                         \
  CONV_CLONES static void direct_block_##NV(const float *const *rows, int64_t filter_h, int64_t span, const float *filter, \
                                            int64_t co, float *const *out) {                                        \
    direct_block(rows, filter_h, span, filter, co, out, NV, P);                                                     \
  }
DIRECT_BLOCK(1, 8)
DIRECT_BLOCK(2, 4)
DIRECT_BLOCK(3, 2)
DIRECT_BLOCK(4, 2)

typedef void (*DirectBlock)(const float *const *, int64_t, int64_t, const float *, int64_t, float *const *);
static const DirectBlock direct_blocks[4] = {direct_block_1, direct_block_2, direct_block_3, direct_block_4};
static const int direct_block_pixels[4] = {8, 4, 2, 2};

// A row of `count` output pixels in blocks of P (then one at a time): pixel p reads window row kh
// from rows[kh] + p * in_step and writes out + p * out_step. One call per row saves the per-block
// call and pixel arithmetic, which cost as much as the products on 1x1 convs of 8-16 channels.
static inline __attribute__((always_inline)) void direct_run(const float *const *rows, int64_t filter_h, int64_t span,
                                                              const float *filter, int64_t co, int64_t in_step, float *out,
                                                              int64_t out_step, int64_t count, const int NV, const int P) {
  const float *r[DIRECT_MAX_PIXELS * DIRECT_MAX_FILTER];
  float *o[DIRECT_MAX_PIXELS];
  int64_t p0 = 0;
  for (; p0 + P <= count; p0 += P) {
    for (int p = 0; p < P; p++) {
      for (int64_t kh = 0; kh < filter_h; kh++) r[p * DIRECT_MAX_FILTER + kh] = rows[kh] + (p0 + p) * in_step;
      o[p] = out + (p0 + p) * out_step;
    }
    direct_block(r, filter_h, span, filter, co, o, NV, P);
  }
  for (; p0 < count; p0++) {
    for (int64_t kh = 0; kh < filter_h; kh++) r[kh] = rows[kh] + p0 * in_step;
    o[0] = out + p0 * out_step;
    direct_block(r, filter_h, span, filter, co, o, NV, 1);
  }
}

#define DIRECT_RUN(NV, P)                                                                                              \
  CONV_CLONES static void direct_run_##NV(const float *const *rows, int64_t filter_h, int64_t span, const float *filter, \
                                          int64_t co, int64_t in_step, float *out, int64_t out_step, int64_t count) {  \
    direct_run(rows, filter_h, span, filter, co, in_step, out, out_step, count, NV, P);                                \
  }
DIRECT_RUN(1, 8)
DIRECT_RUN(2, 4)
DIRECT_RUN(3, 2)
DIRECT_RUN(4, 2)

typedef void (*DirectRun)(const float *const *, int64_t, int64_t, const float *, int64_t, int64_t, float *, int64_t, int64_t);
static const DirectRun direct_runs[4] = {direct_run_1, direct_run_2, direct_run_3, direct_run_4};

// Output channels are computed in groups of up to 32 (4 vectors of 8).
#define DIRECT_GROUP 32
// Convs with more than 16 output channels run directly only when their windows are this short
// (fh * fw * in_c); with longer ones sgemm was as fast or faster (32 -> 32 channels 3x3: the
// residual CNN 4x inside 262 -> 273 CPU ms a step with them direct).
#define DIRECT_NARROW_C 16
#define DIRECT_SHORT_K 32

// True when direct_images computes this conv (dilation already checked to be 1).
static bool direct_applies(const Direct *d) {
  return d->out_c % 8 == 0 && (d->out_c <= DIRECT_NARROW_C || d->filter_h * d->filter_w * d->in_c <= DIRECT_SHORT_K) &&
         d->filter_h <= DIRECT_MAX_FILTER && d->filter_w <= DIRECT_MAX_FILTER &&
         d->pad_top >= 0 && d->pad_left >= 0;
}

typedef struct {
  const Direct *d;
  const float *x, *filter;
  float *y;
  const float *bias; // null, or out_c values (then activation and alpha apply too)
  int activation;
  float alpha;
  int64_t image_begin, image_end;
  bool failed;
} DirectWork;

static void *direct_images(void *argument) {
  DirectWork *w = (DirectWork *)argument;
  const Direct *d = w->d;
  // Pixels per block: what the one channel group's kernel takes, or with several groups 8, which
  // each group's kernel covers in 8 / its pixels calls.
  const int pixels_per_block = d->out_c > DIRECT_GROUP ? DIRECT_MAX_PIXELS : direct_block_pixels[d->out_c / 8 - 1];
  const int64_t ci = d->in_c, span = d->filter_w * ci;
  // Zero columns needed left and right of the image for the windows at its edges.
  const int64_t last_column = (d->out_w - 1) * d->stride_w + d->filter_w - 1 - d->pad_left;
  const int64_t pad_right = last_column >= d->in_w ? last_column - d->in_w + 1 : 0;
  const bool padded = d->pad_left > 0 || pad_right > 0;
  const int64_t row_width = (d->pad_left + d->in_w + pad_right) * ci; // floats per (padded) image row
  // One thread buffer: a row of zeros, the padded image copy (its pad columns zeroed here, the
  // image columns copied per image) and an out_c scratch output.
  const size_t copy_size = padded ? (size_t)(row_width * d->in_h) : 0;
  float *buffer = thread_buffer(1, (size_t)row_width + copy_size + (size_t)d->out_c);
  float *zero_row = buffer, *image_copy = buffer + row_width, *scratch = buffer + row_width + copy_size;
  if (buffer == NULL) {
    w->failed = true;
  } else {
    memset(buffer, 0, sizeof(float) * ((size_t)row_width + copy_size));
    const int64_t pixels = d->out_h * d->out_w, image_size = d->in_h * d->in_w * ci;
    const int64_t y_row = d->y_row > 0 ? d->y_row : d->out_w * d->out_c, y_pixel = d->y_pixel > 0 ? d->y_pixel : d->out_c;
    const float *rows[DIRECT_MAX_PIXELS * DIRECT_MAX_FILTER];
    float *out[DIRECT_MAX_PIXELS];
    for (int64_t b = w->image_begin; b < w->image_end; b++) {
      const float *image = w->x + b * image_size;
      if (padded) { // the pad columns stay zero
        for (int64_t iy = 0; iy < d->in_h; iy++) {
          memcpy(image_copy + iy * row_width + d->pad_left * ci, image + iy * d->in_w * ci, sizeof(float) * (size_t)(d->in_w * ci));
        }
        image = image_copy;
      }
      float *y = w->y + b * (d->y_image > 0 ? d->y_image : pixels * d->out_c);
      if (d->row_runs) { // each output row and channel group in one call
        for (int64_t oy = 0; oy < d->out_h; oy++) {
          for (int64_t kh = 0; kh < d->filter_h; kh++) {
            const int64_t iy = oy * d->stride_h + kh - d->pad_top;
            rows[kh] = iy >= 0 && iy < d->in_h ? image + iy * row_width : zero_row;
          }
          for (int64_t g = 0; g < d->out_c; g += DIRECT_GROUP) {
            const int64_t width = d->out_c - g < DIRECT_GROUP ? d->out_c - g : DIRECT_GROUP;
            direct_runs[width / 8 - 1](rows, d->filter_h, span, w->filter + g, d->out_c, d->stride_w * ci, y + oy * y_row + g,
                                       y_pixel, d->out_w);
          }
        }
      }
      for (int64_t p0 = 0; !d->row_runs && p0 < pixels; p0 += pixels_per_block) {
        for (int p = 0; p < pixels_per_block; p++) {
          // Past the last pixel: repeat it into the scratch output (a partial last block).
          const int64_t q = p0 + p < pixels ? p0 + p : pixels - 1;
          const int64_t oy = q / d->out_w, column = (q % d->out_w) * d->stride_w * ci;
          for (int64_t kh = 0; kh < d->filter_h; kh++) {
            const int64_t iy = oy * d->stride_h + kh - d->pad_top;
            rows[p * DIRECT_MAX_FILTER + kh] = (iy >= 0 && iy < d->in_h ? image + iy * row_width : zero_row) + column;
          }
          out[p] = p0 + p < pixels ? y + oy * y_row + (q % d->out_w) * y_pixel : scratch;
        }
        for (int64_t g = 0; g < d->out_c; g += DIRECT_GROUP) {
          const int64_t width = d->out_c - g < DIRECT_GROUP ? d->out_c - g : DIRECT_GROUP;
          const int group_pixels = direct_block_pixels[width / 8 - 1];
          float *group_out[DIRECT_MAX_PIXELS];
          for (int p = 0; p < pixels_per_block; p++) group_out[p] = out[p] + g;
          for (int p = 0; p < pixels_per_block; p += group_pixels) {
            direct_blocks[width / 8 - 1](rows + p * DIRECT_MAX_FILTER, d->filter_h, span, w->filter + g, d->out_c, group_out + p);
          }
        }
      }
      if (w->bias != NULL || w->activation != 0) {
        apply_bias_and_activation(y, (size_t)pixels, (size_t)d->out_c, w->bias, w->activation, w->alpha);
      }
    }
  }
  return NULL;
}

// Runs direct_images over all images on `threads` threads; false on failure.
static bool direct_conv(const Direct *d, const float *x, const float *filter, float *y, const float *bias, int activation,
                        float alpha, int threads, bool use_pool) {
  if (threads > d->batch) threads = (int)d->batch;
  if (threads < 1) threads = 1;
  DirectWork work[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    work[t] = (DirectWork){d, x, filter, y, bias, activation, alpha, d->batch * t / threads, d->batch * (t + 1) / threads, false};
  }
  return run_threads(direct_images, work, sizeof work[0], threads, offsetof(DirectWork, failed), use_pool);
}

// The direct convolution computing c itself (y contiguous).
static Direct direct_of(const Conv *c) {
  return (Direct){c->batch, c->in_h, c->in_w, c->in_c, c->out_h, c->out_w, c->out_c, c->filter_h, c->filter_w,
                  c->stride_h, c->stride_w, c->pad_top, c->pad_left, 0, 0, 0, c->row_runs};
}

// The forward conv of c directly, when it applies (false: not done, use im2col).
static bool direct_forward(const Conv *c, const float *x, const float *filter, float *y, bool *ok) {
  const Direct d = direct_of(c);
  if (c->dilation_h != 1 || c->dilation_w != 1 || !direct_applies(&d)) return false;
  *ok = direct_conv(&d, x, filter, y, c->bias, c->activation, c->alpha, c->threads, c->pool);
  return true;
}

// The input gradient: dx[iy, ix, i] = sum over kh, kw, o of dy[(iy + pad_top - kh) / stride_h,
// (ix + pad_left - kw) / stride_w, o] * filter[kh, kw, i, o] where the divisions are exact. For
// stride 1 that is a conv of dy (pads filter - 1 - pad) with the filter flipped in both axes and its
// channel axes swapped. For stride s, each class of dx pixels (iy = ry + s a, ix = rx + s b) takes
// the taps kh = kh0 + s t (kh0 = (ry + pad_top) mod s), so it is such a conv too, with a sub-filter
// of those taps, writing every s-th pixel of dx; a class without taps is zero.
#define DIRECT_MAX_STRIDE 4

static bool direct_input_gradient(const Conv *c, const float *dy, const float *filter, float *dx, bool *ok) {
  const int64_t sh = c->stride_h, sw = c->stride_w, fh = c->filter_h, fw = c->filter_w, ci = c->in_c, co = c->out_c;
  if (c->dilation_h != 1 || c->dilation_w != 1 || sh > DIRECT_MAX_STRIDE || sw > DIRECT_MAX_STRIDE) return false;
  Direct classes[DIRECT_MAX_STRIDE * DIRECT_MAX_STRIDE];
  int64_t first_tap[DIRECT_MAX_STRIDE * DIRECT_MAX_STRIDE][2];
  for (int64_t ry = 0; ry < sh; ry++) {
    for (int64_t rx = 0; rx < sw; rx++) {
      const int64_t kh0 = (ry + c->pad_top) % sh, kw0 = (rx + c->pad_left) % sw;
      const int64_t taps_h = kh0 < fh ? (fh - kh0 + sh - 1) / sh : 0, taps_w = kw0 < fw ? (fw - kw0 + sw - 1) / sw : 0;
      const int64_t shift_h = (ry + c->pad_top - kh0) / sh, shift_w = (rx + c->pad_left - kw0) / sw;
      Direct *d = &classes[ry * sw + rx];
      *d = (Direct){c->batch, c->out_h, c->out_w, co, ry < c->in_h ? (c->in_h - ry + sh - 1) / sh : 0,
                    rx < c->in_w ? (c->in_w - rx + sw - 1) / sw : 0, ci, taps_h, taps_w, 1, 1, taps_h - 1 - shift_h,
                    taps_w - 1 - shift_w, c->in_h * c->in_w * ci, sh * c->in_w * ci, sw * ci, c->row_runs};
      first_tap[ry * sw + rx][0] = kh0;
      first_tap[ry * sw + rx][1] = kw0;
      const bool empty = taps_h == 0 || taps_w == 0 || d->out_h == 0 || d->out_w == 0;
      if (!empty && !direct_applies(d)) return false;
    }
  }
  float *sub_filters = malloc(sizeof(float) * (size_t)(fh * fw * ci * co)); // the classes' taps partition the filter's
  if (sub_filters == NULL) {
    *ok = false;
    return true;
  }
  *ok = true;
  float *sub = sub_filters;
  for (int64_t r = 0; r < sh * sw; r++) {
    const Direct *d = &classes[r];
    float *target_dx = dx + ((r / sw) * c->in_w + r % sw) * ci;
    if (d->filter_h == 0 || d->filter_w == 0) { // no tap reaches these pixels
      for (int64_t b = 0; b < c->batch; b++) {
        for (int64_t a = 0; a < d->out_h; a++) {
          for (int64_t x = 0; x < d->out_w; x++) memset(target_dx + b * d->y_image + a * d->y_row + x * d->y_pixel, 0, sizeof(float) * (size_t)ci);
        }
      }
      continue;
    }
    if (d->out_h == 0 || d->out_w == 0) continue;
    // sub[t, u, o, i] = filter[kh0 + sh (T - 1 - t), kw0 + sw (U - 1 - u), i, o]
    for (int64_t t = 0; t < d->filter_h; t++) {
      for (int64_t u = 0; u < d->filter_w; u++) {
        const int64_t kh = first_tap[r][0] + sh * (d->filter_h - 1 - t), kw = first_tap[r][1] + sw * (d->filter_w - 1 - u);
        const float *source = filter + (kh * fw + kw) * ci * co;
        float *target = sub + (t * d->filter_w + u) * co * ci;
        for (int64_t o = 0; o < co; o++) {
          for (int64_t i = 0; i < ci; i++) target[o * ci + i] = source[i * co + o];
        }
      }
    }
    *ok = direct_conv(d, dy, sub, target_dx, NULL, 0, 0.0f, c->threads, c->pool) && *ok;
    sub += d->filter_h * d->filter_w * co * ci;
  }
  free(sub_filters);
  return true;
}

// The filter gradient directly, for the same convs (see direct_applies): dfilter[kh, j, :] =
// sum over pixels of x's window row kh at j times dy[pixel, :]. A block of J window values (j0 ..
// j0 + J) x out_c sums in registers over one output row of pixels (J x NV vector accumulators,
// loaded from and stored to the thread's dfilter sum around the row), reading x the same way as
// direct_images (padded copy; window rows outside the image add nothing and are skipped).
static inline __attribute__((always_inline)) void filter_block(const float *row, int64_t step, const float *dy,
                                                                int64_t count, float *sums, int64_t co, const int NV,
                                                                const int J) {
  v8 acc[12][4];
  for (int j = 0; j < J; j++) {
    for (int v = 0; v < NV; v++) memcpy(&acc[j][v], sums + j * co + 8 * v, sizeof(v8));
  }
  for (int64_t ox = 0; ox < count; ox++) {
    v8 g[4];
    for (int v = 0; v < NV; v++) memcpy(&g[v], dy + ox * co + 8 * v, sizeof(v8));
    const float *x = row + ox * step;
    for (int j = 0; j < J; j++) {
      const float value = x[j];
      const v8 b = {value, value, value, value, value, value, value, value};
      for (int v = 0; v < NV; v++) acc[j][v] += b * g[v];
    }
  }
  for (int j = 0; j < J; j++) {
    for (int v = 0; v < NV; v++) memcpy(sums + j * co + 8 * v, &acc[j][v], sizeof(v8));
  }
}

#define FILTER_BLOCK(NV, J)                                                                                         \
  CONV_CLONES static void filter_block_##NV##_##J(const float *row, int64_t step, const float *dy, int64_t count,  \
                                                  float *sums, int64_t co) {                                       \
    filter_block(row, step, dy, count, sums, co, NV, J);                                                           \
  }
FILTER_BLOCK(1, 12)
FILTER_BLOCK(1, 1)
FILTER_BLOCK(2, 6)
FILTER_BLOCK(2, 1)
FILTER_BLOCK(3, 4)
FILTER_BLOCK(3, 1)
FILTER_BLOCK(4, 3)
FILTER_BLOCK(4, 1)

typedef void (*FilterBlock)(const float *, int64_t, const float *, int64_t, float *, int64_t);

typedef struct {
  const Direct *d;
  const float *x, *dy;
  float *sums; // this thread's dfilter sum, zeroed here
  int64_t image_begin, image_end;
  bool failed;
} FilterWork;

static void *direct_filter_images(void *argument) {
  FilterWork *w = (FilterWork *)argument;
  const Direct *d = w->d;
  static const FilterBlock wide[4] = {filter_block_1_12, filter_block_2_6, filter_block_3_4, filter_block_4_3};
  static const FilterBlock narrow[4] = {filter_block_1_1, filter_block_2_1, filter_block_3_1, filter_block_4_1};
  static const int wide_j[4] = {12, 6, 4, 3};
  const int64_t ci = d->in_c, span = d->filter_w * ci, co = d->out_c;
  memset(w->sums, 0, sizeof(float) * (size_t)(d->filter_h * span * co));
  const int64_t last_column = (d->out_w - 1) * d->stride_w + d->filter_w - 1 - d->pad_left;
  const int64_t pad_right = last_column >= d->in_w ? last_column - d->in_w + 1 : 0;
  const bool padded = d->pad_left > 0 || pad_right > 0;
  const int64_t row_width = (d->pad_left + d->in_w + pad_right) * ci;
  const size_t copy_size = padded ? (size_t)(row_width * d->in_h) : 0;
  float *image_copy = thread_buffer(1, copy_size + 1); // pad columns zeroed here, image columns copied per image
  if (image_copy == NULL) {
    w->failed = true;
    return NULL;
  }
  memset(image_copy, 0, sizeof(float) * copy_size);
  const int64_t pixels = d->out_h * d->out_w, image_size = d->in_h * d->in_w * ci;
  for (int64_t b = w->image_begin; b < w->image_end; b++) {
    const float *image = w->x + b * image_size;
    if (padded) {
      for (int64_t iy = 0; iy < d->in_h; iy++) {
        memcpy(image_copy + iy * row_width + d->pad_left * ci, image + iy * d->in_w * ci, sizeof(float) * (size_t)(d->in_w * ci));
      }
      image = image_copy;
    }
    const float *dy = w->dy + b * pixels * co;
    for (int64_t kh = 0; kh < d->filter_h; kh++) {
      for (int64_t oy = 0; oy < d->out_h; oy++) {
        const int64_t iy = oy * d->stride_h + kh - d->pad_top;
        if (iy < 0 || iy >= d->in_h) continue; // a row of zeros adds nothing
        const float *row = image + iy * row_width;
        const float *dy_row = dy + oy * d->out_w * co;
        for (int64_t g = 0; g < co; g += DIRECT_GROUP) { // channel groups of up to 32
          const int nv = (int)((co - g < DIRECT_GROUP ? co - g : DIRECT_GROUP) / 8);
          float *sums = w->sums + kh * span * co + g;
          int64_t j = 0;
          for (; j + wide_j[nv - 1] <= span; j += wide_j[nv - 1]) {
            wide[nv - 1](row + j, d->stride_w * ci, dy_row + g, d->out_w, sums + j * co, co);
          }
          for (; j < span; j++) narrow[nv - 1](row + j, d->stride_w * ci, dy_row + g, d->out_w, sums + j * co, co);
        }
      }
    }
  }
  return NULL;
}

// The filter gradient of c directly, when it applies (false: not done, use im2col).
static bool direct_filter_gradient(const Conv *c, const float *x, const float *dy, float *dfilter, bool *ok) {
  const Direct d = direct_of(c);
  if (c->dilation_h != 1 || c->dilation_w != 1 || !direct_applies(&d)) return false;
  int threads = c->threads > c->batch ? (int)c->batch : c->threads;
  if (threads < 1) threads = 1;
  const size_t filter_size = (size_t)(c->k * c->out_c);
  float *partials = threads > 1 ? malloc(sizeof(float) * filter_size * (size_t)(threads - 1)) : NULL;
  if (threads > 1 && partials == NULL) threads = 1;
  FilterWork work[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    work[t] = (FilterWork){&d, x, dy, t == 0 ? dfilter : partials + filter_size * (size_t)(t - 1), c->batch * t / threads,
                           c->batch * (t + 1) / threads, false};
  }
  *ok = run_threads(direct_filter_images, work, sizeof work[0], threads, offsetof(FilterWork, failed), c->pool);
  for (int t = 1; t < threads; t++) {
    const float *partial = partials + filter_size * (size_t)(t - 1);
    for (size_t i = 0; i < filter_size; i++) dfilter[i] += partial[i];
  }
  free(partials);
  return true;
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
  if (c.direct) {
    bool ok = true;
    const bool done = kind == WORK_FORWARD ? direct_forward(&c, arrays[0], arrays[1], arrays[2], &ok)
                      : kind == WORK_INPUT ? direct_input_gradient(&c, arrays[0], arrays[1], arrays[2], &ok)
                                           : direct_filter_gradient(&c, arrays[0], arrays[1], arrays[2], &ok);
    if (done) return ok ? NULL : throw_error(env, function, "out of memory");
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

// True when the pooling windows tile the input: stride = window, no padding or dilation, and no
// window past the input's end.
static bool pool_windows_tile(const Conv *c) {
  return c->stride_h == c->filter_h && c->stride_w == c->filter_w && c->dilation_h == 1 && c->dilation_w == 1 &&
         c->pad_top == 0 && c->pad_left == 0 && c->out_h * c->filter_h <= c->in_h && c->out_w * c->filter_w <= c->in_w;
}

// Runs fn (run_max_pool_grad or run_max_pool) over the images, split over c's threads.
static bool run_pool_images(void *(*fn)(void *), const Conv *c, const float *x, const float *dy, float *out, bool tiled) {
  int threads = c->threads > c->batch ? (int)c->batch : c->threads;
  if (threads < 1) threads = 1;
  PoolWork work[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    work[t] = (PoolWork){c, x, dy, out, c->batch * t / threads, c->batch * (t + 1) / threads, tiled, false};
  }
  return run_threads(fn, work, sizeof work[0], threads, offsetof(PoolWork, failed), c->pool);
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
  const bool tiled = pool_windows_tile(&c);
  if (!tiled) memset(arrays[2], 0, sizeof(float) * in_size);
  if (!run_pool_images(run_max_pool_grad, &c, arrays[0], arrays[1], arrays[2], tiled)) return throw_error(env, "maxPoolGrad", "out of memory");
  return NULL;
}

// maxPool(x, y, y, geometry) (the conv functions' argument layout, y given twice): max pooling
// where the windows tile the input (pool_windows_tile, as 2x2 stride 2 pooling), per window a
// vectorizable max over the channel rows of its positions; images split over the threads. Throws
// for other geometries (the caller keeps those on the wasm kernel). Its PoolWork's dx is y.
static void *run_max_pool(void *argument) {
  PoolWork *w = (PoolWork *)argument;
  const Conv *c = w->c;
  const int64_t channels = c->in_c;
  const size_t row = (size_t)(c->in_w * channels);
  for (int64_t b = w->image_begin; b < w->image_end; b++) {
    for (int64_t oy = 0; oy < c->out_h; oy++) {
      for (int64_t ox = 0; ox < c->out_w; ox++) {
        const float *corner = w->x + (size_t)(b * c->in_h + oy * c->filter_h) * row + (size_t)(ox * c->filter_w * channels);
        float *restrict out = w->dx + ((b * c->out_h + oy) * c->out_w + ox) * channels;
        memcpy(out, corner, sizeof(float) * (size_t)channels);
        for (int64_t fy = 0; fy < c->filter_h; fy++) {
          for (int64_t fx = fy == 0 ? 1 : 0; fx < c->filter_w; fx++) {
            const float *restrict values = corner + (size_t)fy * row + (size_t)(fx * channels);
            for (int64_t ch = 0; ch < channels; ch++) out[ch] = values[ch] > out[ch] ? values[ch] : out[ch];
          }
        }
      }
    }
  }
  return NULL;
}

static napi_value max_pool(napi_env env, napi_callback_info info) {
  float *arrays[3];
  size_t lengths[3];
  Conv c;
  if (!get_conv_args(env, info, "maxPool", arrays, lengths, &c)) return NULL;
  if (!pool_windows_tile(&c) || c.out_c != c.in_c) return throw_error(env, "maxPool", "only windows that tile the input");
  if (lengths[0] < (size_t)(c.batch * c.in_h * c.in_w * c.in_c) || lengths[1] < (size_t)(c.rows * c.in_c)) {
    return throw_error(env, "maxPool", "an array is too short");
  }
  run_pool_images(run_max_pool, &c, arrays[0], NULL, arrays[1], true);
  return NULL;
}

void gowide_conv_register(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    GOWIDE_FUNCTION("conv2d", conv2d),
    GOWIDE_FUNCTION("conv2dBackpropFilter", conv2d_backprop_filter),
    GOWIDE_FUNCTION("conv2dBackpropInput", conv2d_backprop_input),
    GOWIDE_FUNCTION("maxPoolGrad", max_pool_grad),
    GOWIDE_FUNCTION("maxPool", max_pool),
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
