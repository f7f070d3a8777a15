// gather(x, indices, out, rows, rowSize): out[i, :] = x[indices[i], :]; returns false (nothing
// written) when an index is outside [0, rows).
#include "gowide_addon.h"

napi_value js_gather(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc;
  float *x, *out;
  int32_t *indices;
  size_t x_length, out_length, count;
  int64_t rows, row_size;
  if (!gowide_arguments(env, info, 5, 5, argv, &argc) || !gowide_floats(env, argv[0], &x, &x_length) ||
      !gowide_typed_array(env, argv[1], napi_int32_array, (void **)&indices, &count) || !gowide_floats(env, argv[2], &out, &out_length) ||
      !gowide_count(env, argv[3], &rows) || !gowide_count(env, argv[4], &row_size)) {
    return gowide_fail(env, "gather", "expected (Float32Array x, Int32Array indices, Float32Array out, rows, rowSize)");
  }
  if (x_length < (size_t)(rows * row_size) || out_length < count * (size_t)row_size) return gowide_fail(env, "gather", "an array is too short");
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
