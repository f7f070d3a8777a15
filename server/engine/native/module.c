// The gowide_blas addon's module: registers the functions of GOWIDE_EXPORTS (gowide_addon.h, which
// also says which file does what) on its exports, and flushes subnormal floats to zero.
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#include "gowide_addon.h"

// Training drives some values into subnormal floats, which x86 computes on many times slower: the
// thin 784-7x256 MLP's step went from 6.7 to 13.8 ms after ~700 steps, its tensors unchanged. So the
// addon sets flush-to-zero and denormals-are-zero on the thread that loads it (the backend's: its
// wasm and JavaScript arithmetic too), and its pool threads, created later, inherit it; TensorFlow
// does the same on CPU. GOWIDE_DENORMALS=keep leaves IEEE subnormals on.
static void flush_subnormals(void) {
#if defined(__SSE__)
  const char *keep = getenv("GOWIDE_DENORMALS");
  if (keep != NULL && strcmp(keep, "keep") == 0) return;
  _mm_setcsr(_mm_getcsr() | _MM_FLUSH_ZERO_ON | 0x0040 /* denormals-are-zero */);
#endif
}

#define GOWIDE_DESCRIBE_EXPORT(name, callback) {name, NULL, callback, NULL, NULL, NULL, napi_default_jsproperty, NULL},

static napi_value init(napi_env env, napi_value exports) {
  flush_subnormals();
  const napi_property_descriptor properties[] = {GOWIDE_EXPORTS(GOWIDE_DESCRIBE_EXPORT)};
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
