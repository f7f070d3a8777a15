// Convolutions as im2col + matrix products (gowide_tiled_sgemm where its tiles apply, else
// OpenBLAS), for the convs the direct convolution (conv_direct.c) does not take.
//
// The im2col matrix (one row per output pixel, K = fh * fw * ci columns) is never built for the
// whole batch: the output pixels are processed in chunks of rows that keep it in cache, and a 1x1
// stride-1 unpadded convolution skips it (x itself is the matrix). Work is split over `threads`
// threads of the pool by chunks (each product single-threaded); the filter gradient is summed per
// thread, then added up.
#include <stdlib.h>
#include <cblas.h>
#include "gowide_addon.h"

// True when the im2col matrix of x is x itself (1x1 filter, stride 1, no padding).
static bool im2col_is_identity(const Conv *c) {
  return c->filter_h == 1 && c->filter_w == 1 && c->stride_h == 1 && c->stride_w == 1 && c->pad_top == 0 &&
         c->pad_left == 0 && c->out_h == c->in_h && c->out_w == c->in_w;
}

// Output pixel p's window: its image b and output row oy, its first input column ix0, and the
// filter columns [kw0, kw1) that land inside the input.
typedef struct {
  int64_t b, oy, ix0, kw0, kw1;
} Window;

static Window window_of(const Conv *c, int64_t p) {
  const int64_t ox = p % c->out_w;
  Window w = {p / (c->out_w * c->out_h), (p / c->out_w) % c->out_h, ox * c->stride_w - c->pad_left, 0, c->filter_w};
  while (w.kw0 < w.kw1 && w.ix0 + w.kw0 * c->dilation_w < 0) w.kw0++;
  while (w.kw1 > w.kw0 && w.ix0 + (w.kw1 - 1) * c->dilation_w >= c->in_w) w.kw1--;
  return w;
}

// Writes rows [row0, row0 + count) of im2col(x) into col (count x k).
static void im2col(const Conv *c, const float *x, int64_t row0, int64_t count, float *col) {
  const int64_t ci = c->in_c;
  for (int64_t r = 0; r < count; r++) {
    const Window w = window_of(c, row0 + r);
    const int64_t b = w.b, oy = w.oy, ix0 = w.ix0, kw0 = w.kw0, kw1 = w.kw1;
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
    const Window w = window_of(c, row0 + r);
    const int64_t b = w.b, oy = w.oy, ix0 = w.ix0;
    const float *src = col + r * c->k;
    for (int64_t kh = 0; kh < c->filter_h; kh++, src += c->filter_w * ci) {
      const int64_t iy = oy * c->stride_h + kh * c->dilation_h - c->pad_top;
      if (iy < 0 || iy >= c->in_h) continue;
      float *dst_row = dx + ((b * c->in_h + iy) * c->in_w) * ci;
      for (int64_t kw = w.kw0; kw < w.kw1; kw++) {
        float *dst = dst_row + (ix0 + kw * c->dilation_w) * ci;
        const float *values = src + kw * ci;
        for (int64_t i = 0; i < ci; i++) dst[i] += values[i];
      }
    }
  }
}

// Work split over threads: thread t takes chunks t, t + threads, ... For the input gradient,
// col2im of neighbouring output rows overlaps in dx, so there each thread takes a contiguous
// range of whole images instead (images never overlap).

typedef struct {
  const Conv *c;
  WorkKind kind;
  const float *a;  // x (forward, filter) or dy (input)
  const float *b;  // filter (forward, input) or dy (filter)
  float *out;      // out, this thread's filter-gradient accumulator, or dx
  int thread, threads;
  int64_t row_begin, row_end; // the rows this thread owns (input gradient) or all rows
  bool failed;
} Work;

static void *run_work(void *argument) {
  Work *w = (Work *)argument;
  const Conv *c = w->c;
  const bool identity = im2col_is_identity(c);
  float *col = identity ? NULL : gowide_thread_buffer(0, (size_t)(c->chunk_rows * c->k));
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
        if (!gowide_tiled_sgemm(false, false, (size_t)count, (size_t)c->out_c, (size_t)c->k, matrix, (size_t)c->k, w->b, (size_t)c->out_c, out,
                                       (size_t)c->out_c, false)) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)count, (int)c->out_c, (int)c->k, 1.0f, matrix, (int)c->k, w->b,
                      (int)c->out_c, 0.0f, out, (int)c->out_c);
        }
        gowide_bias_and_activation(w->out + row0 * c->out_c, (size_t)count, (size_t)c->out_c, c->bias, c->activation,
                                  c->alpha);
        break;
      }
      case WORK_FILTER: {
        const float *matrix = identity ? w->a + row0 * c->k : col;
        if (!identity) im2col(c, w->a, row0, count, col);
        const float *dy = w->b + row0 * c->out_c;
        if (!gowide_tiled_sgemm(true, false, (size_t)c->k, (size_t)c->out_c, (size_t)count, matrix, (size_t)c->k, dy, (size_t)c->out_c,
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
        if (!gowide_tiled_sgemm(false, true, (size_t)count, (size_t)c->k, (size_t)c->out_c, dy, (size_t)c->out_c, w->b, (size_t)c->out_c,
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

bool gowide_im2col_conv(const Conv *c, WorkKind kind, const float *a, const float *b, float *out) {
  // The input gradient: col2im accumulates into dx; the identity case writes every element itself.
  if (kind == WORK_INPUT && !im2col_is_identity(c)) memset(out, 0, sizeof(float) * (size_t)(c->batch * c->in_h * c->in_w * c->in_c));
  const int64_t chunks = (c->rows + c->chunk_rows - 1) / c->chunk_rows;
  int threads = gowide_threads(c->threads, kind == WORK_INPUT && c->batch < chunks ? c->batch : chunks);
  const size_t filter_size = (size_t)(c->k * c->out_c);
  // Filter gradient: thread 0 writes out, the others their own accumulators, added up at the end.
  float *partials = NULL;
  if (kind == WORK_FILTER && threads > 1) {
    partials = malloc(sizeof(float) * filter_size * (size_t)(threads - 1));
    if (partials == NULL) threads = 1;
  }
  Work work[GOWIDE_MAX_THREADS];
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
  bool ok = gowide_run_threads(run_work, work, sizeof work[0], threads, offsetof(Work, failed));
  for (int t = 1; kind == WORK_FILTER && t < threads; t++) {
    const float *partial = partials + filter_size * (size_t)(t - 1);
    for (size_t i = 0; i < filter_size; i++) out[i] += partial[i];
  }
  free(partials);
  return ok;
}

