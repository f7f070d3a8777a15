// 2-D convolution (NHWC) and its two gradients for the TF.js wasm backend's training kernels:
//
//   conv2d(x, filter, out, geometry[, bias, activation, alpha])
//                                                  out = activation(conv(x, filter) + bias)
//   conv2dBackpropFilter(x, dy, dfilter, geometry) the filter gradient
//   conv2dBackpropInput(dy, filter, dx, geometry)  the input gradient
//
// The geometry is one Int32Array (enum Geometry, gowide_addon.h). Each runs the direct convolution
// of conv_direct.c where it applies (small channel counts), else im2col + matrix products
// (conv_im2col.c), split over `threads` threads of the pool.
#include <stdlib.h>
#include "gowide_addon.h"

bool gowide_conv_arguments(napi_env env, napi_callback_info info, const char *function, float **arrays, size_t *lengths, Conv *c) {
  napi_value argv[7];
  size_t argc;
  if (!gowide_arguments(env, info, 4, 7, argv, &argc)) {
    gowide_fail(env, function, "expected 4 to 7 arguments");
    return false;
  }
  c->bias = NULL;
  c->bias_length = 0;
  c->activation = ACTIVATION_LINEAR;
  c->alpha = 0.0f;
  if (argc == 7) { // conv2d's bias, activation, alpha (checked by the caller)
    float *bias;
    if (!gowide_optional_floats(env, argv[4], &bias, &c->bias_length)) {
      gowide_fail(env, function, "bias must be null or a Float32Array");
      return false;
    }
    int32_t activation = 0;
    double alpha = 0.0;
    napi_get_value_int32(env, argv[5], &activation);
    napi_get_value_double(env, argv[6], &alpha);
    c->bias = bias;
    c->activation = activation;
    c->alpha = (float)alpha;
  }
  for (int i = 0; i < 3; i++) {
    if (!gowide_floats(env, argv[i], &arrays[i], &lengths[i])) {
      gowide_fail(env, function, "the first three arguments must be Float32Arrays");
      return false;
    }
  }
  size_t count = 0;
  int32_t *g = NULL;
  if (!gowide_typed_array(env, argv[3], napi_int32_array, (void **)&g, &count) || count != G_COUNT) {
    gowide_fail(env, function, "geometry must be an Int32Array of 17 values");
    return false;
  }
  for (int i = 0; i < G_COUNT; i++) {
    // Batch, pads, chunk rows and threads may be 0 (chunk rows and threads 0: the defaults).
    const bool may_be_zero = i == G_BATCH || i == G_PAD_TOP || i == G_PAD_LEFT || i == G_CHUNK_ROWS || i == G_THREADS;
    if (g[i] < (may_be_zero ? 0 : 1)) {
      gowide_fail(env, function, "geometry values must be positive (batch, pads non-negative)");
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
  c->threads = gowide_threads(g[G_THREADS], GOWIDE_MAX_THREADS);
  return true;
}

static bool lengths_fit(const Conv *c, size_t x_length, size_t filter_length, size_t y_length) {
  return x_length >= (size_t)(c->batch * c->in_h * c->in_w * c->in_c) && filter_length >= (size_t)(c->k * c->out_c) &&
         y_length >= (size_t)(c->rows * c->out_c);
}

// The three entry points: conv2d(x, filter, y, geometry[, bias, activation, alpha]),
// conv2dBackpropFilter(x, dy, dfilter, geometry) and conv2dBackpropInput(dy, filter, dx, geometry).
static napi_value run_conv_entry(napi_env env, napi_callback_info info, const char *function, WorkKind kind) {
  float *arrays[3];
  size_t lengths[3];
  Conv c;
  if (!gowide_conv_arguments(env, info, function, arrays, lengths, &c)) return NULL;
  // Where the conv's x, filter and y (its output) are among the three arrays, per kind.
  const int x = kind == WORK_INPUT ? 2 : 0;
  const int filter = kind == WORK_FILTER ? 2 : 1;
  const int y = kind == WORK_FORWARD ? 2 : kind == WORK_FILTER ? 1 : 0;
  if (!lengths_fit(&c, lengths[x], lengths[filter], lengths[y])) return gowide_fail(env, function, "an array is too short");
  if (kind == WORK_FORWARD) {
    if (c.bias != NULL && c.bias_length != (size_t)c.out_c) return gowide_fail(env, function, "bias length must equal out_c");
    if (!gowide_activation_known(c.activation)) return gowide_fail(env, function, "unsupported activation code");
  }
  bool ok = true;
  if (!gowide_direct_conv(&c, kind, arrays[0], arrays[1], arrays[2], &ok)) ok = gowide_im2col_conv(&c, kind, arrays[0], arrays[1], arrays[2]);
  return ok ? NULL : gowide_fail(env, function, "out of memory");
}

napi_value js_conv2d(napi_env env, napi_callback_info info) {
  return run_conv_entry(env, info, "conv2d", WORK_FORWARD);
}

napi_value js_conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  return run_conv_entry(env, info, "conv2dBackpropFilter", WORK_FILTER);
}

napi_value js_conv2d_backprop_input(napi_env env, napi_callback_info info) {
  return run_conv_entry(env, info, "conv2dBackpropInput", WORK_INPUT);
}
