// gowide_tiles: matrix products in register tiles (4 rows x 16 columns, or 8 x 32 when the first
// operand is read by columns), without OpenBLAS's packing of the operands, for the small and
// skinny products where that packing and its per-call cost outweigh the work: attention's
// per-head products (gowide_attention.c) and sgemm's small products (gowide_blas.c). Measured on
// one core, 4096 x 32 x 32: OpenBLAS 75 us, tiles 56; 4096 x 32 x 64: 146 and 86; the weight
// gradient x^T dy of 4096 x 32 by 4096 x 32: 83 and 35; at 4096 x 128 x 128 about even.
#include <stddef.h>
#include <string.h>
#include "gowide_conv.h"

// out = a m for rows a multiple of 4 and n of 16: tiles of 4 rows x 16 columns in registers.
VECTOR_CLONES static void product_tiles(GowideOperand a, size_t rows, size_t inner, const float *restrict m, size_t ldm, size_t n,
                                        float *restrict out, size_t ldo) {
  for (size_t i = 0; i < rows; i += 4) {
    const float *a0 = a.data + i * a.row_stride;
    for (size_t c = 0; c < n; c += 16) {
      Floats16 sum[4] = {{0}};
      for (size_t r = 0; r < inner; r++) {
        Floats16 row;
        memcpy(&row, m + r * ldm + c, sizeof row);
        const float *weights = a0 + r * a.column_stride;
        for (size_t t = 0; t < 4; t++) sum[t] += weights[t * a.row_stride] * row;
      }
      for (size_t t = 0; t < 4; t++) memcpy(out + (i + t) * ldo + c, &sum[t], sizeof sum[t]);
    }
  }
}

// out = a m for a read by columns (a.row_stride 1: a transposed in memory, such as the weight
// gradient x^T dy), rows a multiple of 8 and n of 32: tiles of 8 rows x 32 columns, so that each
// pass over m (long: the batch's rows) feeds 16 accumulators instead of 4.
VECTOR_CLONES static void product_tiles_transposed(GowideOperand a, size_t rows, size_t inner, const float *restrict m, size_t ldm,
                                                   size_t n, float *restrict out, size_t ldo) {
  for (size_t i = 0; i < rows; i += 8) {
    const float *a0 = a.data + i;
    for (size_t c = 0; c < n; c += 32) {
      Floats16 left[8] = {{0}}, right[8] = {{0}};
      for (size_t r = 0; r < inner; r++) {
        Floats16 row_left, row_right;
        memcpy(&row_left, m + r * ldm + c, sizeof row_left);
        memcpy(&row_right, m + r * ldm + c + 16, sizeof row_right);
        const float *weights = a0 + r * a.column_stride;
        for (size_t t = 0; t < 8; t++) {
          left[t] += weights[t] * row_left;
          right[t] += weights[t] * row_right;
        }
      }
      for (size_t t = 0; t < 8; t++) {
        memcpy(out + (i + t) * ldo + c, &left[t], sizeof left[t]);
        memcpy(out + (i + t) * ldo + c + 16, &right[t], sizeof right[t]);
      }
    }
  }
}

// The same for any sizes, a row at a time.
static void product_rows(GowideOperand a, size_t rows, size_t inner, const float *m, size_t ldm, size_t n, float *out, size_t ldo) {
  for (size_t i = 0; i < rows; i++) {
    float *target = out + i * ldo;
    for (size_t c = 0; c < n; c++) target[c] = 0.0f;
    for (size_t r = 0; r < inner; r++) {
      const float w = a.data[i * a.row_stride + r * a.column_stride];
      for (size_t c = 0; c < n; c++) target[c] += w * m[r * ldm + c];
    }
  }
}

void gowide_product(GowideOperand a, size_t rows, size_t inner, const float *m, size_t ldm, size_t n, float *out, size_t ldo) {
  if (a.row_stride == 1 && rows % 8 == 0 && n % 32 == 0) {
    product_tiles_transposed(a, rows, inner, m, ldm, n, out, ldo);
    return;
  }
  const size_t tiled = n % 16 == 0 ? rows - rows % 4 : 0;
  if (tiled > 0) product_tiles(a, tiled, inner, m, ldm, n, out, ldo);
  const GowideOperand rest = {a.data + tiled * a.row_stride, a.row_stride, a.column_stride};
  if (tiled < rows) product_rows(rest, rows - tiled, inner, m, ldm, n, out + tiled * ldo, ldo);
}
