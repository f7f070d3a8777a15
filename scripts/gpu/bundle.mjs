// Bundles what scripts/gpu/check.sh runs on a GPU machine into one folder (argument): the CLI
// (`gowide info`), Dawn's adapter-discovery child beside it, and the GPU bench (scripts/bench/gpu.ts);
// minified, no source maps. `webgpu` stays external: check.sh unpacks it into node_modules/ beside.
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import { runtimeExternals } from '../runtime-externals.mjs';

const root = new URL('../..', import.meta.url).pathname;
const outdir = process.argv[2];
if (!outdir) throw new Error('usage: node scripts/gpu/bundle.mjs OUTDIR');
await esbuild.build({
  entryPoints: {
    cli: join(root, 'server/cli.ts'),
    'webgpu-discover': join(root, 'server/engine/webgpu-discover.ts'),
    'bench-gpu': join(root, 'scripts/bench/gpu.ts'),
  },
  outdir,
  bundle: true,
  minify: true,
  legalComments: 'none',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: runtimeExternals,
  logLevel: 'warning',
});
