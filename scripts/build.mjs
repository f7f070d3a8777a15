// Bundles the extension, the sidecar/CLI and the webview scripts with esbuild.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeExternals } from './runtime-externals.mjs';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const builds = [
  {
    ...common,
    entryPoints: { extension: join(root, 'extension/extension.ts') },
    outdir: dist,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    // webgpu-discover: the child process in which the webgpu probe asks Dawn for adapters.
    entryPoints: { cli: join(root, 'server/cli.ts'), 'webgpu-discover': join(root, 'server/engine/webgpu-discover.ts') },
    outdir: dist,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: runtimeExternals,
  },
];

const webviewDir = join(root, 'webview');
const webviewEntries = existsSync(webviewDir)
  ? readdirSync(webviewDir).filter((f) => f.endsWith('.main.ts'))
  : [];
if (webviewEntries.length > 0) {
  builds.push({
    ...common,
    entryPoints: Object.fromEntries(webviewEntries.map((f) => [f.replace(/\.main\.ts$/, ''), join(webviewDir, f)])),
    outdir: join(dist, 'webview'),
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
  });
}

function copyWasmBinaries() {
  const from = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  mkdirSync(dist, { recursive: true });
  for (const f of readdirSync(from).filter((f) => f.endsWith('.wasm'))) cpSync(join(from, f), join(dist, f));
}

/** The experiment file schema the extension contributes (package.json jsonValidation). */
function copyExperimentSchema() {
  const from = join(root, 'server/experiment/gowide.schema.json');
  if (!existsSync(from)) return;
  mkdirSync(dist, { recursive: true });
  cpSync(from, join(dist, 'gowide.schema.json'));
}

const present = builds.filter((b) => Object.values(b.entryPoints).every((p) => existsSync(p)));
copyWasmBinaries();
copyExperimentSchema();
if (watch) {
  for (const b of present) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(present.map((b) => esbuild.build(b)));
}
