// `node bin/gowide.js run FILE --json` (the bundled CLI, built by `npm run build`, which `npm test`
// runs first) prints one JSON line with all four arms and the FLOPs of the net each trains.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(__dirname, '..', '..');

test('gowide run FILE --json prints the four arms, with their FLOPs, as the last stdout line', () => {
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-cli-'));
  const file = path.join(dir, 'cli-test.gowide.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'cli-test',
      data: { format: 'shapes', trainLimit: 600, testLimit: 200, validationSplit: 0.2 },
      model: { family: 'mlp', depth: 2, width: 8 },
      widen: { factor: 2 },
      wide: { epochs: 3, batchSize: 64, learningRate: 0.003 },
      imitate: { epochsPerLayer: 0.5, batchSize: 64 },
      finetune: { epochs: 1, batchSize: 64 },
      minWideAccuracy: 0.12,
      seeds: [1, 2],
    }),
  );
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'gowide.js'), 'run', file, '--json', '--backend', 'wasm', '--seeds', '3'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]);
  assert.equal(report.experiment, 'cli-test');
  assert.equal(report.backend, 'wasm');
  assert.ok(fs.existsSync(path.join(report.runDir, 'summary.json')));
  assert.equal(path.dirname(report.runDir), path.join(dir, '.gowide-runs'));
  for (const arm of ['wide', 'scratch', 'kd', 'win']) {
    const a = report.arms[arm];
    assert.ok(a, arm);
    assert.deepEqual(Object.keys(a.accuracy).sort(), ['mean', 'perSeed', 'std']);
    assert.equal(a.accuracy.perSeed.length, 1, '--seeds 3 runs one seed');
    assert.ok(a.params > 0 && a.seconds >= 0);
  }
  // FLOPs per example of the net each arm trains: the wide net for wide, the one thin net for the rest.
  const thinFlops = report.arms.win.flops;
  assert.ok(thinFlops > 0);
  for (const arm of ['scratch', 'kd']) assert.equal(report.arms[arm].flops, thinFlops, arm);
  assert.ok(report.arms.wide.flops > thinFlops, `wide ${report.arms.wide.flops} against thin ${thinFlops}`);
  assert.ok(Array.isArray(report.diagnostics.warmStartAccuracy));
});
