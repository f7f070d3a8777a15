// Matrix products in register tiles (4 rows x 16 columns, or 8 x 32 when the first
// operand is read by columns), without OpenBLAS's packing of the operands, for the small and
// skinny products where that packing and its per-call cost outweigh the work: attention's
// per-head products (attention.c), sgemm's products (sgemm.c) and the im2col convolutions'
// (conv_im2col.c). Measured on one core, 4096 x 32 x 32: OpenBLAS 75 us, tiles 56; 4096 x 32 x 64:
// 146 and 86; the weight gradient x^T dy of 4096 x 32 by 4096 x 32: 83 and 35; at 4096 x 128 x 128
// about even. Wider products go to OpenBLAS (gowide_tiled_sgemm says where, measured again).
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "gowide_addon.h"

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

// Tiles of 8 rows x 32 columns of out = a m (out += a m when accumulate), rows a multiple of 8 and
// n of 32: each pass over m (long for the weight gradient x^T dy: the batch's rows) feeds 16
// accumulators instead of 4. a's row i, term r at a.data[i * row_stride + r * column_stride].
VECTOR_CLONES static void product_tiles8(GowideOperand a, size_t rows, size_t inner, const float *restrict m, size_t ldm, size_t n,
                                         float *restrict out, size_t ldo, bool accumulate) {
  for (size_t i = 0; i < rows; i += 8) {
    const float *a0 = a.data + i * a.row_stride;
    for (size_t c = 0; c < n; c += 32) {
      Floats16 left[8] = {{0}}, right[8] = {{0}};
      for (size_t r = 0; r < inner; r++) {
        Floats16 row_left, row_right;
        memcpy(&row_left, m + r * ldm + c, sizeof row_left);
        memcpy(&row_right, m + r * ldm + c + 16, sizeof row_right);
        const float *weights = a0 + r * a.column_stride;
        for (size_t t = 0; t < 8; t++) {
          const float w = weights[t * a.row_stride];
          left[t] += w * row_left;
          right[t] += w * row_right;
        }
      }
      for (size_t t = 0; t < 8; t++) {
        float *target = out + (i + t) * ldo + c;
        if (accumulate) {
          Floats16 before_left, before_right;
          memcpy(&before_left, target, sizeof before_left);
          memcpy(&before_right, target + 16, sizeof before_right);
          left[t] += before_left;
          right[t] += before_right;
        }
        memcpy(target, &left[t], sizeof left[t]);
        memcpy(target + 16, &right[t], sizeof right[t]);
      }
    }
  }
}

// The same for any sizes, a row at a time.
static void product_rows(GowideOperand a, size_t rows, size_t inner, const float *m, size_t ldm, size_t n, float *out, size_t ldo,
                         bool accumulate) {
  for (size_t i = 0; i < rows; i++) {
    float *target = out + i * ldo;
    if (!accumulate) memset(target, 0, n * sizeof(float));
    for (size_t r = 0; r < inner; r++) {
      const float w = a.data[i * a.row_stride + r * a.column_stride];
      for (size_t c = 0; c < n; c++) target[c] += w * m[r * ldm + c];
    }
  }
}

void gowide_product(GowideOperand a, size_t rows, size_t inner, const float *m, size_t ldm, size_t n, float *out, size_t ldo) {
  const size_t tiled = n % 16 == 0 ? rows - rows % 4 : 0;
  if (tiled > 0) product_tiles(a, tiled, inner, m, ldm, n, out, ldo);
  const GowideOperand rest = {a.data + tiled * a.row_stride, a.row_stride, a.column_stride};
  if (tiled < rows) product_rows(rest, rows - tiled, inner, m, ldm, n, out + tiled * ldo, ldo, false);
}

void gowide_transpose(const float *src, size_t ld_src, size_t rows, size_t cols, float *dst) {
  // Element by element, the writes (or reads) stride a whole row apart: one cache line each.
  enum { BLOCK = 16 };
  for (size_t r0 = 0; r0 < rows; r0 += BLOCK) {
    const size_t r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    for (size_t c0 = 0; c0 < cols; c0 += BLOCK) {
      const size_t c1 = c0 + BLOCK < cols ? c0 + BLOCK : cols;
      for (size_t r = r0; r < r1; r++) {
        for (size_t c = c0; c < c1; c++) dst[c * rows + r] = src[r * ld_src + c];
      }
    }
  }
}

// GOWIDE_TILES=0 leaves every product to OpenBLAS, GOWIDE_TILES=all tiles every product they can
// compute (the rule before 2026-12-06: n a multiple of 32, op(b) at most 2^18 values), for measuring
// (scripts/bench-products.ts; read at each call on the calling thread, so that a benchmark can
// switch it between runs; the pool's workers use the value it read last).
typedef enum { TILES_WHERE_THEY_WIN, TILES_NEVER, TILES_WHEREVER_THEY_FIT } TilesMode;
static _Atomic int last_tiles_mode = TILES_WHERE_THEY_WIN;
static TilesMode tiles_mode(void) {
  if (!gowide_on_pool_worker()) {
    const char *text = getenv("GOWIDE_TILES");
    const bool never = text != NULL && strcmp(text, "0") == 0, everywhere = text != NULL && strcmp(text, "all") == 0;
    atomic_store(&last_tiles_mode, never ? TILES_NEVER : everywhere ? TILES_WHEREVER_THEY_FIT : TILES_WHERE_THEY_WIN);
  }
  return (TilesMode)atomic_load(&last_tiles_mode);
}

bool gowide_tiled_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                        float *out, size_t ldo, bool accumulate) {
  // Columns in 32s, and only narrow products. Measured on one core (2026-12-06, CPU time per call
  // against OpenBLAS, or the 4 x 16 tiles where those fit): these tiles win with at most 64 columns
  // and 64 terms (0.80-0.89 of the time at 512-4096 rows) and, for a transposed a (the weight
  // gradients x^T dy), out of at most 32 x 64 (32 x 32 x 4096: 0.79); with more columns or terms
  // OpenBLAS's packed kernels take 1.1-1.7x less (128 x 256 x 256: 1.30; 784 x 256 x 128, a
  // transposed: 1.65; the im2col product 4096 x 32 x 288: 1.08).
  const bool fit = n % 32 == 0 && m >= 8 && !(transpose_a && m % 8 != 0) && k * n <= (1u << 18);
  if (!fit) return false;
  const bool narrow = n <= 64 && (transpose_a ? m <= 32 : k <= 64);
  const TilesMode mode = tiles_mode();
  if (mode == TILES_NEVER || (mode == TILES_WHERE_THEY_WIN && !narrow)) return false;
  float *transposed = NULL;
  if (transpose_b) { // op(b)[r][c] = b[c * ldb + r]: b is n x k
    transposed = malloc(sizeof(float) * k * n);
    if (transposed == NULL) return false;
    gowide_transpose(b, ldb, n, k, transposed);
    b = transposed;
    ldb = n;
  }
  const GowideOperand op_a = transpose_a ? gowide_columns_of(a, lda) : gowide_rows_of(a, lda);
  const size_t tiled = m - m % 8;
  product_tiles8(op_a, tiled, k, b, ldb, n, out, ldo, accumulate);
  if (tiled < m) {
    const GowideOperand rest = {op_a.data + tiled * op_a.row_stride, op_a.row_stride, op_a.column_stride};
    product_rows(rest, m - tiled, k, b, ldb, n, out + tiled * ldo, ldo, accumulate);
  }
  free(transposed);
  return true;
}
