// Max pooling (NHWC) and its gradient, with the convolutions' argument layout (conv.c):
//
//   maxPoolGrad(x, dy, dx, geometry)   dx[argmax of each window] += dy (first max wins)
//   maxPool(x, y, y, geometry)         y = max over each window (windows that tile x only)
//
#include <math.h>
#include <stdlib.h>
#include "gowide_addon.h"

// maxPoolGrad: in_c is the channel count (out_c must equal it); the filter
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
  const int threads = gowide_threads(c->threads, c->batch);
  PoolWork work[GOWIDE_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    work[t] = (PoolWork){c, x, dy, out, c->batch * t / threads, c->batch * (t + 1) / threads, tiled, false};
  }
  return gowide_run_threads(fn, work, sizeof work[0], threads, offsetof(PoolWork, failed));
}

napi_value js_max_pool_grad(napi_env env, napi_callback_info info) {
  float *arrays[3];
  size_t lengths[3];
  Conv c;
  if (!gowide_conv_arguments(env, info, "maxPoolGrad", arrays, lengths, &c)) return NULL;
  const int64_t channels = c.in_c;
  const size_t in_size = (size_t)(c.batch * c.in_h * c.in_w * channels);
  if (c.out_c != channels || lengths[0] < in_size || lengths[2] < in_size ||
      lengths[1] < (size_t)(c.rows * channels)) {
    return gowide_fail(env, "maxPoolGrad", "an array is too short, or in and out channels differ");
  }
  const bool tiled = pool_windows_tile(&c);
  if (!tiled) memset(arrays[2], 0, sizeof(float) * in_size);
  if (!run_pool_images(run_max_pool_grad, &c, arrays[0], arrays[1], arrays[2], tiled)) return gowide_fail(env, "maxPoolGrad", "out of memory");
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

napi_value js_max_pool(napi_env env, napi_callback_info info) {
  float *arrays[3];
  size_t lengths[3];
  Conv c;
  if (!gowide_conv_arguments(env, info, "maxPool", arrays, lengths, &c)) return NULL;
  if (!pool_windows_tile(&c) || c.out_c != c.in_c) return gowide_fail(env, "maxPool", "only windows that tile the input");
  if (lengths[0] < (size_t)(c.batch * c.in_h * c.in_w * c.in_c) || lengths[1] < (size_t)(c.rows * c.in_c)) {
    return gowide_fail(env, "maxPool", "an array is too short");
  }
  run_pool_images(run_max_pool, &c, arrays[0], NULL, arrays[1], true);
  return NULL;
}
