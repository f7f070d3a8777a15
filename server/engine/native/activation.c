// Bias and activation after a matrix product (sgemm.c) or a convolution (conv_im2col.c,
// conv_direct.c): the codes of GowideActivation (gowide_addon.h).
#include <math.h>
#include "gowide_addon.h"

bool gowide_activation_known(int32_t code) {
  return code == ACTIVATION_LINEAR || code == ACTIVATION_RELU || code == ACTIVATION_RELU6 || code == ACTIVATION_LEAKYRELU ||
         code == ACTIVATION_SIGMOID || code == ACTIVATION_ELU;
}

static float apply_activation(float value, int activation, float alpha) {
  switch (activation) {
    case ACTIVATION_RELU: return value > 0.0f ? value : 0.0f;
    case ACTIVATION_RELU6: return value < 0.0f ? 0.0f : (value > 6.0f ? 6.0f : value);
    case ACTIVATION_LEAKYRELU: return value > 0.0f ? value : alpha * value;
    case ACTIVATION_SIGMOID: return 1.0f / (1.0f + expf(-value));
    case ACTIVATION_ELU: return value > 0.0f ? value : expm1f(value);
    default: return value;
  }
}

void gowide_bias_and_activation(float *out, size_t rows, size_t columns, const float *bias, int activation, float alpha) {
  gowide_bias_and_activation_strided(out, rows, columns, columns, bias, activation, alpha);
}

void gowide_bias_and_activation_strided(float *out, size_t rows, size_t columns, size_t row_stride, const float *bias, int activation, float alpha) {
  if (bias == NULL && activation == ACTIVATION_LINEAR) return;
  for (size_t row = 0; row < rows; row++) {
    float *values = out + row * row_stride;
    if (bias != NULL) {
      for (size_t column = 0; column < columns; column++) values[column] += bias[column];
    }
    if (activation == ACTIVATION_RELU) {
      for (size_t column = 0; column < columns; column++) values[column] = values[column] > 0.0f ? values[column] : 0.0f;
    } else if (activation != ACTIVATION_LINEAR) {
      for (size_t column = 0; column < columns; column++) values[column] = apply_activation(values[column], activation, alpha);
    }
  }
}
