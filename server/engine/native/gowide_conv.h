// Shared declarations of the gowide_blas addon's source files.
// Convolution kernels (gowide_conv.c): adds their functions to exports.
#ifndef GOWIDE_CONV_H
#define GOWIDE_CONV_H
#include <node_api.h>
#include <stddef.h>
// One exported function in a napi_property_descriptor array: its JS name and C callback.
#define GOWIDE_FUNCTION(name, callback) {name, NULL, callback, NULL, NULL, NULL, napi_default_jsproperty, NULL}
void gowide_conv_register(napi_env env, napi_value exports);
// Element-wise, reduction and batch-norm kernels (gowide_elementwise.c): adds their functions to exports.
void gowide_elementwise_register(napi_env env, napi_value exports);
// From gowide_blas.c: out[r, :] = activation(out[r, :] + bias) for `rows` rows; bias may be NULL;
// activation codes as there (0 linear, 1 relu, 2 relu6, 4 leakyrelu, 5 sigmoid, 6 elu).
void apply_bias_and_activation(float *out, size_t rows, size_t columns, const float *bias, int activation, float alpha);
#endif
