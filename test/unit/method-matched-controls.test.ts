// The matched controls through the bundled CLI (`npm test` builds dist/ first): a tiny real run on the
// built-in shapes data with all five baselines and two seeds. scratch-steps and kd-steps take exactly
// win's optimisation steps, scratch-compute win's training FLOPs to within one step, and `paired`
// holds win minus each baseline over both seeds.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BUILTIN_DATASETS } from '../../server/data/builtin';
import { resolveExperiment } from '../../server/experiment/resolve';
import { buildNet } from '../../server/models';
import type { BlockNet } from '../../server/models/types';
import type { MetricRecord } from '../../server/protocol';

const root = path.resolve(__dirname, '..', '..');
const BASELINES = ['scratch', 'kd', 'scratch-steps', 'kd-steps', 'scratch-compute'];
const MODEL = { family: 'mlp', depth: 2, width: 8 } as const;
const BATCH = 64;

/** Steps each (seed, phase, block) took: its last recorded training step + 1 (steps count from 0). */
function stepsTaken(records: MetricRecord[]): Map<string, number> {
  const steps = new Map<string, number>();
  for (const r of records) {
    if (r.split === 'validation' || r.split === 'test' || r.step < 0) continue;
    const key = `${r.seed}/${r.phase}/${r.block ?? ''}`;
    steps.set(key, Math.max(steps.get(key) ?? 0, r.step + 1));
  }
  return steps;
}

test('gowide run --json with the matched controls: every arm, matched budgets, paired over 2 seeds', async () => {
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-matched-'));
  const file = path.join(dir, 'matched.gowide.json');
  const raw = {
      name: 'matched',
      data: { format: 'shapes', trainLimit: 600, testLimit: 200, validationSplit: 0.2 },
      model: MODEL,
      widen: { factor: 2 },
      wide: { epochs: 3, batchSize: BATCH, learningRate: 0.003 },
      imitate: { epochsPerLayer: 0.5, batchSize: BATCH },
      finetune: { epochs: 1, batchSize: BATCH },
      minWideAccuracy: 0,
      seeds: [1, 2],
      baselines: BASELINES,
  };
  fs.writeFileSync(file, JSON.stringify(raw));
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'gowide.js'), 'run', file, '--json', '--backend', 'wasm'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]);
  assert.deepEqual(Object.keys(report.arms).sort(), ['wide', 'win', ...BASELINES].sort());
  for (const arm of BASELINES) assert.equal(report.arms[arm].accuracy.perSeed.length, 2, arm);

  const records = fs.readFileSync(path.join(report.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricRecord);
  const steps = stepsTaken(records);
  const take = (seed: number, phase: string, block?: number) => steps.get(`${seed}/${phase}/${block ?? ''}`) ?? 0;

  // FLOPs per example of the nets the run built (they do not depend on the seed).
  const { model, widen } = resolveExperiment(raw, file).experiment!;
  assert.equal(widen.mode, 'all', 'the MLP widens block outputs, so win fits its head alone');
  const data = { exampleShape: [...BUILTIN_DATASETS.shapes.exampleShape], numClasses: BUILTIN_DATASETS.shapes.numClasses };
  await tf.setBackend('cpu');
  const build = (factor: number): BlockNet => buildNet({ family: 'mlp', model, data, factors: [factor, factor], mode: widen.mode, seed: 1 });
  const thin = build(1);
  const wide = build(2);
  const upTo = (net: BlockNet, last: number) => net.stem.flops + net.blocks.slice(0, last + 1).reduce((a, b) => a + b.flops, 0);
  try {
    for (const seed of [1, 2]) {
      // win: each imitated block, the head probe (widen mode "all", no block), fine-tuning.
      const imitation = [0, 1].map((block) => take(seed, 'imitate', block));
      const winSteps = imitation[0] + imitation[1] + take(seed, 'imitate') + take(seed, 'finetune');
      assert.ok(imitation.every((s) => s > 0) && take(seed, 'imitate') > 0 && take(seed, 'finetune') > 0);
      assert.equal(take(seed, 'scratch-steps'), winSteps, `seed ${seed}`);
      assert.equal(take(seed, 'kd-steps'), winSteps, `seed ${seed}`);
      assert.ok(take(seed, 'scratch') < winSteps, 'the epoch-matched scratch takes fewer steps than win');

      // Training FLOPs: batch x (3 x trained forward + teacher forward) per step; fine-tune has no teacher (kdWeight 0).
      const cost =
        take(seed, 'wide') * BATCH * 3 * wide.flops +
        imitation.reduce((sum, s, block) => sum + s * BATCH * (3 * upTo(thin, block) + upTo(wide, block)), 0) +
        (take(seed, 'imitate') + take(seed, 'finetune')) * BATCH * 3 * thin.flops;
      const matched = cost / (BATCH * 3 * thin.flops);
      assert.ok(Math.abs(take(seed, 'scratch-compute') - matched) <= 1, `seed ${seed}: ${take(seed, 'scratch-compute')} steps against ${matched}`);
    }
  } finally {
    thin.dispose();
    wide.dispose();
    tf.disposeVariables();
  }

  for (const arm of BASELINES) {
    const p = report.paired[`win-${arm}`];
    assert.ok(p, arm);
    assert.equal(p.seeds, 2);
    const differences = [0, 1].map((i) => report.arms.win.accuracy.perSeed[i] - report.arms[arm].accuracy.perSeed[i]);
    assert.ok(Math.abs(p.mean - (differences[0] + differences[1]) / 2) < 1e-12, arm);
    assert.ok(p.low < p.mean && p.mean < p.high, arm);
    assert.equal(p.ahead, differences.filter((d) => d > 0).length);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
