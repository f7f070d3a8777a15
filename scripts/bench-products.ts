// CPU time per matrix product of the native addon's sgemm, one thread, for the shapes gowide's
// models multiply, under each GOWIDE_TILES setting: the rule of gowide_tiled_sgemm (sgemm_tiles.c:
// the 8 x 32 register tiles for narrow products only), "all" (the tiles wherever they fit, the rule
// before 2026-12-06) and "0" (OpenBLAS, or the 4 x 16 tiles where those fit): whether the rule still
// picks the faster one on this machine. CPU time (user + system) rather than wall time, so that other jobs on the
// cores move the figures less; the two settings alternate, and the better of `--rounds` is kept.
//
//   node --import tsx scripts/bench-products.ts [--rounds 3] [--ms 200]
import { parseArgs } from 'node:util';
import { loadBlasAddon } from '../server/engine/native/blas-kernels';

interface Shape {
  /** What multiplies it. */
  use: string;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

const product = (use: string, m: number, n: number, k: number, transpose: '' | 'a' | 'b' = ''): Shape => ({ use, m, n, k, transposeA: transpose === 'a', transposeB: transpose === 'b' });

const SHAPES: Shape[] = [
  product('MLP 7x256 forward', 128, 256, 256),
  product('MLP 7x256 input gradient dy W^T', 128, 256, 256, 'b'),
  product('MLP 7x256 weight gradient x^T dy', 256, 256, 128, 'a'),
  product('MLP first layer forward', 128, 256, 784),
  product('transformer 4x32 projection', 4096, 32, 32),
  product('transformer 4x32 feed-forward', 4096, 64, 32),
  product('transformer 4x32 weight gradient', 32, 32, 4096, 'a'),
  product('transformer 4x wide projection', 4096, 128, 128),
  product('im2col conv 16 ch, 3x3', 4096, 16, 144),
  product('im2col conv 32 ch, 3x3', 4096, 32, 288),
  product('im2col conv 64 ch, 3x3', 4096, 64, 576),
  product('im2col filter gradient 64 ch', 576, 64, 1024, 'a'),
  product('im2col input gradient 64 ch', 4096, 576, 64, 'b'),
];

function options() {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, ms: { type: 'string' } } });
  return { rounds: Number(values.rounds ?? 3), ms: Number(values.ms ?? 200) };
}

function main(): void {
  const { rounds, ms } = options();
  const load = loadBlasAddon();
  if (!load.ok) throw new Error(load.reason);
  const { sgemm } = load.addon;
  console.log('| product | m x n x k | the rule (us) | GOWIDE_TILES=all (us) | GOWIDE_TILES=0 (us) | the rule against the faster of the others |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const s of SHAPES) {
    const random = (size: number) => Float32Array.from({ length: size }, () => Math.random() - 0.5);
    const [a, b, out] = [random(s.m * s.k), random(s.k * s.n), new Float32Array(s.m * s.n)];
    const call = () => sgemm(a, b, out, 1, 1, s.m, s.n, s.k, s.transposeA, s.transposeB, null, 0, 0, 1);
    /** CPU microseconds per call, over about `ms` milliseconds after a warm-up. */
    const time = (setting: string | undefined): number => {
      if (setting === undefined) delete process.env.GOWIDE_TILES;
      else process.env.GOWIDE_TILES = setting;
      for (let i = 0; i < 5; i++) call();
      const calls = Math.max(10, Math.round((ms * 1e6) / (2 * s.m * s.n * s.k * 1e-2)));
      const start = process.cpuUsage();
      for (let i = 0; i < calls; i++) call();
      const used = process.cpuUsage(start);
      return (used.user + used.system) / calls;
    };
    const settings = [undefined, 'all', '0'];
    const best = settings.map(() => Infinity);
    for (let r = 0; r < rounds; r++) settings.forEach((setting, i) => (best[i] = Math.min(best[i], time(setting))));
    delete process.env.GOWIDE_TILES;
    const dims = `${s.m} x ${s.n} x ${s.k}${s.transposeA ? ' (a^T)' : s.transposeB ? ' (b^T)' : ''}`;
    console.log(`| ${s.use} | ${dims} | ${best.map((t) => t.toFixed(0)).join(' | ')} | ${(best[0] / Math.min(best[1], best[2])).toFixed(2)} |`);
  }
}

main();
