// The machine's float32 matrix-product peak as gowide reaches it: the native addon's sgemm (register
// tiles or OpenBLAS, split over `threads` as the training products of that size are) on a square
// product, in GFLOP/s (2 n^3 per product). The bench prints models' achieved GFLOP/s beside it.
import { loadBlasAddon } from '../../server/engine/native/blas-kernels';

export interface SgemmPeak {
  size: number;
  threads: number;
  gflops: number;
}

export function nativeSgemmPeak(size: number, threads: number, seconds = 1): SgemmPeak | { error: string } {
  const load = loadBlasAddon();
  if (!load.ok) return { error: load.reason };
  const { addon } = load;
  const a = Float32Array.from({ length: size * size }, (_, i) => ((i * 7) % 13) / 13);
  const b = Float32Array.from({ length: size * size }, (_, i) => ((i * 5) % 11) / 11);
  const out = new Float32Array(size * size);
  const product = () => addon.sgemm(a, b, out, 1, 1, size, size, size, false, false, null, 0, 1, threads);
  product();
  let count = 0;
  const start = performance.now();
  while (count < 2 || performance.now() - start < seconds * 1000) {
    product();
    count++;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { size, threads, gflops: (count * 2 * size ** 3) / elapsed / 1e9 };
}
