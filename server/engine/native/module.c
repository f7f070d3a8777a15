// The gowide_blas addon's module: registers the functions of GOWIDE_EXPORTS (gowide_addon.h, which
// also says which file does what) on its exports.
#include "gowide_addon.h"

#define GOWIDE_DESCRIBE_EXPORT(name, callback) {name, NULL, callback, NULL, NULL, NULL, napi_default_jsproperty, NULL},

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor properties[] = {GOWIDE_EXPORTS(GOWIDE_DESCRIBE_EXPORT)};
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
