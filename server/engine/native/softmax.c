// softmax(x, out, rows, columns): softmax over each row of `columns` values; gowide_softmax_rows
// is also attention's (attention.c).
#include <math.h>
#include <stdlib.h>
#include "gowide_addon.h"

VECTOR_CLONES static void softmax_rows(const float *x, float *out, size_t rows, size_t columns) {
  for (size_t r = 0; r < rows; r++) {
    const float *row = x + r * columns;
    float *target = out + r * columns;
    float max = row[0];
    for (size_t c = 1; c < columns; c++) max = row[c] > max ? row[c] : max;
    float total = 0.0f;
    for (size_t c = 0; c < columns; c++) {
      target[c] = fast_exp(row[c] - max);
      total += target[c];
    }
    const float inverse = 1.0f / total;
    for (size_t c = 0; c < columns; c++) target[c] *= inverse;
  }
}

// Rows of a multiple of 16 values: the max and the sum over 16 lanes in vector registers, then
// across the lanes by halves (softmax_rows' scalar max and sum took ~3/4 of its time on rows of 32).
static inline __attribute__((always_inline)) Floats16 lanes_max(Floats16 a, Floats16 b) {
  const Ints16 a_bigger = a > b;
  return (Floats16)((a_bigger & (Ints16)a) | (~a_bigger & (Ints16)b));
}

VECTOR_CLONES static void softmax_rows16(const float *restrict x, float *restrict out, size_t rows, size_t columns) {
  for (size_t r = 0; r < rows; r++) {
    const float *restrict row = x + r * columns;
    float *restrict target = out + r * columns;
    Floats16 max, chunk;
    memcpy(&max, row, sizeof max);
    for (size_t c = 16; c < columns; c += 16) {
      memcpy(&chunk, row + c, sizeof chunk);
      max = lanes_max(max, chunk);
    }
    FOLD_LANES(max, lanes_max);
    for (size_t c = 0; c < columns; c++) target[c] = fast_exp(row[c] - max[0]);
    Floats16 total = {0};
    for (size_t c = 0; c < columns; c += 16) {
      memcpy(&chunk, target + c, sizeof chunk);
      total += chunk;
    }
    FOLD_LANES(total, lanes_sum);
    const float inverse = 1.0f / total[0];
    for (size_t c = 0; c < columns; c++) target[c] *= inverse;
  }
}

void gowide_softmax_rows(const float *x, float *out, size_t rows, size_t columns) {
  if (columns % 16 == 0) softmax_rows16(x, out, rows, columns);
  else softmax_rows(x, out, rows, columns);
}

napi_value js_softmax(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc;
  float *x, *out;
  size_t x_length, out_length;
  int64_t rows, columns;
  if (!gowide_arguments(env, info, 4, 4, argv, &argc) || !gowide_floats(env, argv[0], &x, &x_length) ||
      !gowide_floats(env, argv[1], &out, &out_length) || !gowide_count(env, argv[2], &rows) || !gowide_count(env, argv[3], &columns) || columns < 1) {
    return gowide_fail(env, "softmax", "expected (Float32Array x, Float32Array out, rows, columns > 0)");
  }
  if (x_length < (size_t)(rows * columns) || out_length < (size_t)(rows * columns)) return gowide_fail(env, "softmax", "an array is too short");
  gowide_softmax_rows(x, out, (size_t)rows, (size_t)columns);
  return NULL;
}
