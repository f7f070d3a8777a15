// Reading and checking the N-API arguments of the addon's functions (see gowide_addon.h).
#include <stdio.h>
#include "gowide_addon.h"

napi_value gowide_fail(napi_env env, const char *function, const char *message) {
  char text[200];
  snprintf(text, sizeof text, "%s: %s", function, message);
  napi_throw_error(env, NULL, text);
  return NULL;
}

bool gowide_arguments(napi_env env, napi_callback_info info, size_t least, size_t most, napi_value *argv, size_t *argc) {
  *argc = most;
  return napi_get_cb_info(env, info, argc, argv, NULL, NULL) == napi_ok && *argc >= least && *argc <= most;
}

bool gowide_typed_array(napi_env env, napi_value value, napi_typedarray_type wanted, void **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  return napi_is_typedarray(env, value, &is_typed_array) == napi_ok && is_typed_array &&
         napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) == napi_ok && type == wanted;
}

bool gowide_floats(napi_env env, napi_value value, float **data, size_t *length) {
  return gowide_typed_array(env, value, napi_float32_array, (void **)data, length);
}

bool gowide_optional_floats(napi_env env, napi_value value, float **data, size_t *length) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  if (type == napi_null || type == napi_undefined) {
    *data = NULL;
    *length = 0;
    return true;
  }
  return gowide_floats(env, value, data, length);
}

bool gowide_count(napi_env env, napi_value value, int64_t *result) {
  return napi_get_value_int64(env, value, result) == napi_ok && *result >= 0 && *result <= INT32_MAX;
}

bool gowide_flag(napi_env env, napi_value value) {
  bool flag = false;
  napi_get_value_bool(env, value, &flag);
  return flag;
}

int gowide_optional_threads(napi_env env, const napi_value *argv, size_t argc, size_t index) {
  int32_t requested = 1;
  if (argc > index) napi_get_value_int32(env, argv[index], &requested);
  return requested < 1 ? 1 : requested;
}

bool gowide_norm_arguments(napi_env env, napi_callback_info info, const char *name, size_t count, unsigned optional, float **arrays,
                           size_t *lengths, int64_t *per, double *epsilon, int *threads) {
  napi_value argv[16];
  size_t argc;
  if (count + 3 > 16 || !gowide_arguments(env, info, count + 2, threads != NULL ? count + 3 : count + 2, argv, &argc)) {
    gowide_fail(env, name, "wrong number of arguments");
    return false;
  }
  if (threads != NULL) *threads = gowide_optional_threads(env, argv, argc, count + 2);
  for (size_t i = 0; i < count; i++) {
    const bool read = ((optional >> i) & 1u) != 0 ? gowide_optional_floats(env, argv[i], &arrays[i], &lengths[i])
                                                  : gowide_floats(env, argv[i], &arrays[i], &lengths[i]);
    if (!read) {
      gowide_fail(env, name, "arrays must be Float32Arrays (the optional ones may be null)");
      return false;
    }
  }
  if (!gowide_count(env, argv[count], per) || *per < 1 || napi_get_value_double(env, argv[count + 1], epsilon) != napi_ok) {
    gowide_fail(env, name, "the channel (or period, column) count must be positive and epsilon a number");
    return false;
  }
  return true;
}
