// Direct convolution for small channel counts (out_c 8 or 16, or any multiple of 8, computed in
// groups of up to 32 channels, where the window holds at most 32 values: 1x1 convs of up to 32
// input channels, an image's first conv; dilation 1; filters up to 8 x 8). sgemm on im2col rows
// with 8-16 output columns runs at 20-60 GFLOPS here; this computes a whole output row per call,
// in blocks of P output pixels x out_c channels in registers (P = 8 / (out_c / 8) pixels, 8 vector
// accumulators), reading x straight from the image: for dilation 1 the window's row kh
// is one contiguous run of filter_w * in_c values, multiplied by rows of the filter (which,
// [fh, fw, ci, co], is a run of filter_w * in_c rows of out_c values per kh). Windows crossing the
// left or right edge read from a copy of the image padded with zero columns (made once per image,
// only when needed); window rows above or below the image read a row of zeros. Images are split
// over the threads. The input gradient is the same computation on dy with the filter flipped and
// its in/out channels swapped (per class of dx pixels for strides above 1: direct_input_gradient).
#include <stdlib.h>
#include "gowide_addon.h"

typedef float v8 __attribute__((vector_size(32)));

#define DIRECT_MAX_FILTER 8
#define DIRECT_MAX_PIXELS 8

typedef struct {
  int64_t batch, in_h, in_w, in_c, out_h, out_w, out_c, filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
  int64_t y_image, y_row, y_pixel; // floats between y's images, rows and pixels; 0: y is contiguous
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
  VECTOR_CLONES static void direct_run_##NV(const float *const *rows, int64_t filter_h, int64_t span, const float *filter, \
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

// x's image rows as the direct kernels read them: with zero columns left and right where windows
// cross the image's edges, from a padded copy (copy_size floats; 0: the image is read in place).
typedef struct {
  int64_t row_width; // floats per (padded) image row
  size_t copy_size;
} PaddedRows;

static PaddedRows padded_rows(const Direct *d) {
  const int64_t last_column = (d->out_w - 1) * d->stride_w + d->filter_w - 1 - d->pad_left;
  const int64_t pad_right = last_column >= d->in_w ? last_column - d->in_w + 1 : 0;
  const int64_t row_width = (d->pad_left + d->in_w + pad_right) * d->in_c;
  return (PaddedRows){row_width, d->pad_left > 0 || pad_right > 0 ? (size_t)(row_width * d->in_h) : 0};
}

// Image b of x, or its copy into `copy` (whose pad columns the caller zeroed) when padded.
static const float *image_rows(const Direct *d, const PaddedRows *layout, const float *x, int64_t b, float *copy) {
  const int64_t ci = d->in_c;
  const float *image = x + b * d->in_h * d->in_w * ci;
  if (layout->copy_size == 0) return image;
  for (int64_t iy = 0; iy < d->in_h; iy++) {
    memcpy(copy + iy * layout->row_width + d->pad_left * ci, image + iy * d->in_w * ci, sizeof(float) * (size_t)(d->in_w * ci));
  }
  return copy;
}

static void *direct_images(void *argument) {
  DirectWork *w = (DirectWork *)argument;
  const Direct *d = w->d;
  const int64_t ci = d->in_c, span = d->filter_w * ci;
  const PaddedRows layout = padded_rows(d);
  // One thread buffer: a row of zeros (the window rows above or below the image), then the padded
  // image copy (its pad columns zeroed here, the image columns copied per image).
  float *buffer = gowide_thread_buffer(1, (size_t)layout.row_width + layout.copy_size);
  if (buffer == NULL) {
    w->failed = true;
    return NULL;
  }
  memset(buffer, 0, sizeof(float) * ((size_t)layout.row_width + layout.copy_size));
  const int64_t pixels = d->out_h * d->out_w;
  const int64_t y_row = d->y_row > 0 ? d->y_row : d->out_w * d->out_c, y_pixel = d->y_pixel > 0 ? d->y_pixel : d->out_c;
  const float *rows[DIRECT_MAX_FILTER];
  for (int64_t b = w->image_begin; b < w->image_end; b++) {
    const float *image = image_rows(d, &layout, w->x, b, buffer + layout.row_width);
    float *y = w->y + b * (d->y_image > 0 ? d->y_image : pixels * d->out_c);
    for (int64_t oy = 0; oy < d->out_h; oy++) { // each output row and channel group in one call
      for (int64_t kh = 0; kh < d->filter_h; kh++) {
        const int64_t iy = oy * d->stride_h + kh - d->pad_top;
        rows[kh] = iy >= 0 && iy < d->in_h ? image + iy * layout.row_width : buffer;
      }
      for (int64_t g = 0; g < d->out_c; g += DIRECT_GROUP) {
        const int64_t width = d->out_c - g < DIRECT_GROUP ? d->out_c - g : DIRECT_GROUP;
        direct_runs[width / 8 - 1](rows, d->filter_h, span, w->filter + g, d->out_c, d->stride_w * ci, y + oy * y_row + g, y_pixel,
                                   d->out_w);
      }
    }
    if (w->bias != NULL || w->activation != ACTIVATION_LINEAR) {
      gowide_bias_and_activation(y, (size_t)pixels, (size_t)d->out_c, w->bias, w->activation, w->alpha);
    }
  }
  return NULL;
}

// Runs direct_images over all images on `threads` threads; false on failure.
static bool direct_conv(const Direct *d, const float *x, const float *filter, float *y, const float *bias, int activation,
                        float alpha, int requested_threads) {
  const int threads = gowide_threads(requested_threads, d->batch);
  DirectWork work[GOWIDE_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    work[t] = (DirectWork){d, x, filter, y, bias, activation, alpha, d->batch * t / threads, d->batch * (t + 1) / threads, false};
  }
  return gowide_run_threads(direct_images, work, sizeof work[0], threads, offsetof(DirectWork, failed));
}

// The direct convolution computing c itself (y contiguous).
static Direct direct_of(const Conv *c) {
  return (Direct){c->batch, c->in_h, c->in_w, c->in_c, c->out_h, c->out_w, c->out_c, c->filter_h, c->filter_w,
                  c->stride_h, c->stride_w, c->pad_top, c->pad_left, 0, 0, 0};
}

// The forward conv of c directly, when it applies (false: not done, use im2col).
static bool direct_forward(const Conv *c, const float *x, const float *filter, float *y, bool *ok) {
  const Direct d = direct_of(c);
  if (c->dilation_h != 1 || c->dilation_w != 1 || !direct_applies(&d)) return false;
  *ok = direct_conv(&d, x, filter, y, c->bias, c->activation, c->alpha, c->threads);
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
                    taps_w - 1 - shift_w, c->in_h * c->in_w * ci, sh * c->in_w * ci, sw * ci};
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
    *ok = direct_conv(d, dy, sub, target_dx, NULL, ACTIVATION_LINEAR, 0.0f, c->threads) && *ok;
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
  VECTOR_CLONES static void filter_block_##NV##_##J(const float *row, int64_t step, const float *dy, int64_t count, \
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
  const PaddedRows layout = padded_rows(d);
  float *image_copy = gowide_thread_buffer(1, layout.copy_size + 1); // pad columns zeroed here, image columns copied per image
  if (image_copy == NULL) {
    w->failed = true;
    return NULL;
  }
  memset(image_copy, 0, sizeof(float) * layout.copy_size);
  const int64_t pixels = d->out_h * d->out_w;
  for (int64_t b = w->image_begin; b < w->image_end; b++) {
    const float *image = image_rows(d, &layout, w->x, b, image_copy);
    const float *dy = w->dy + b * pixels * co;
    for (int64_t kh = 0; kh < d->filter_h; kh++) {
      for (int64_t oy = 0; oy < d->out_h; oy++) {
        const int64_t iy = oy * d->stride_h + kh - d->pad_top;
        if (iy < 0 || iy >= d->in_h) continue; // a row of zeros adds nothing
        const float *row = image + iy * layout.row_width;
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
  int threads = gowide_threads(c->threads, c->batch);
  const size_t filter_size = (size_t)(c->k * c->out_c);
  float *partials = threads > 1 ? malloc(sizeof(float) * filter_size * (size_t)(threads - 1)) : NULL;
  if (threads > 1 && partials == NULL) threads = 1;
  FilterWork work[GOWIDE_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    work[t] = (FilterWork){&d, x, dy, t == 0 ? dfilter : partials + filter_size * (size_t)(t - 1), c->batch * t / threads,
                           c->batch * (t + 1) / threads, false};
  }
  *ok = gowide_run_threads(direct_filter_images, work, sizeof work[0], threads, offsetof(FilterWork, failed));
  for (int t = 1; t < threads; t++) {
    const float *partial = partials + filter_size * (size_t)(t - 1);
    for (size_t i = 0; i < filter_size; i++) dfilter[i] += partial[i];
  }
  free(partials);
  return true;
}

bool gowide_direct_conv(const Conv *c, WorkKind kind, const float *a, const float *b, float *out, bool *ok) {
  switch (kind) {
    case WORK_FORWARD: return direct_forward(c, a, b, out, ok);
    case WORK_INPUT: return direct_input_gradient(c, a, b, out, ok);
    default: return direct_filter_gradient(c, a, b, out, ok);
  }
}
