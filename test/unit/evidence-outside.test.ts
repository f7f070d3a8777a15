// The pre-registered settings outside the study (scripts/evidence/outside-*.ts): every setting resolves
// through the real resolver with only data, net and factor set, and the document's list and results
// tables are generated from the data (the runs themselves are `npm run evidence:outside`, not CI).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonReport } from '../../server/cli/report';
import { DEFAULT_FINETUNE, DEFAULT_IMITATE, DEFAULT_WIDE, defaultImitationGroups, defaultWiden } from '../../server/experiment/defaults';
import { resolveExperiment } from '../../server/experiment/resolve';
import type { ArmName } from '../../server/protocol';
import { pairedComparisons } from '../../server/runs/paired';
import { meanAndStd } from '../../server/runs/summary';
import { outsideDiagnosisTable } from '../../scripts/evidence/outside-diagnosis';
import { countLine, outsideListTable, outsideResultsTable, resolveOutside, type OutsideResult } from '../../scripts/evidence/outside-report';
import { outsideGoal, OUTSIDE_SEEDS, OUTSIDE_SETTINGS, outsideById, outsideExperiment, type OutsideSetting } from '../../scripts/evidence/outside-settings';

const ARMS = ['wide', 'scratch', 'kd', 'win'] as const;

/** A --json report built by the run summary's own arithmetic from per-seed test accuracies. */
function reportOf(perSeed: Record<(typeof ARMS)[number], number[]>): JsonReport {
  const seeds = perSeed.win.length;
  const outcomes = Array.from({ length: seeds }, (_, i) => ({ test: Object.fromEntries(ARMS.map((a) => [a, perSeed[a][i]])) as Partial<Record<ArmName, number>> }));
  const arms = Object.fromEntries(ARMS.map((a) => [a, { accuracy: { ...meanAndStd(perSeed[a]), perSeed: perSeed[a] }, params: 1000, seconds: 60 }]));
  return { experiment: 'outside', backend: 'wasm', runDir: '/tmp/none', state: 'done', arms, paired: pairedComparisons(outcomes), diagnostics: undefined };
}

function resultOf(s: OutsideSetting, win: number[], scratch: number[]): OutsideResult {
  return {
    id: s.id,
    file: outsideExperiment(s, OUTSIDE_SEEDS.slice(0, win.length)),
    seeds: OUTSIDE_SEEDS.slice(0, win.length),
    finishedAt: '2025-01-01T00:00:00.000Z',
    seconds: 600,
    report: reportOf({ wide: win.map((w) => w + 0.02), scratch, kd: scratch.map((x) => x - 0.01), win }),
    ranOn: { nproc: 2, cpuModel: 'test CPU', flags: 'no AVX-512', host: 'h', node: process.version, tfjs: '4', commit: 'abc1234' },
  };
}

describe('the pre-registered settings outside the study', () => {
  it('lists 13 settings with distinct ids, 2 seeds, scratch and kd, and a goal of 12 (7 of 8 scaled)', () => {
    assert.equal(OUTSIDE_SETTINGS.length, 13);
    assert.equal(new Set(OUTSIDE_SETTINGS.map((s) => s.id)).size, 13);
    assert.deepEqual([8, 10, 13].map(outsideGoal), [7, 9, 12]);
    assert.deepEqual(OUTSIDE_SEEDS, [1, 2]);
    assert.throws(() => outsideById(['mlp-30x16', 'nope']), /unknown setting nope; use mlp-30x16/);
    assert.deepEqual(outsideById(['cnn-6x8']).map((s) => s.id), ['cnn-6x8']);
  });

  for (const s of OUTSIDE_SETTINGS) {
    it(`${s.id} resolves with only data, net and factor set; the rest are the defaults`, () => {
      const file = outsideExperiment(s);
      assert.deepEqual(Object.keys(file).sort(), ['baselines', 'data', 'description', 'model', 'name', 'seeds', 'widen']);
      assert.deepEqual(Object.keys(file.data as object).sort(), ['format', 'testLimit', 'trainLimit']);
      assert.deepEqual(Object.keys(file.widen as object), ['factor']);
      for (const key of Object.keys(file.model as object)) assert.ok(['family', 'depth', 'width', 'normalization', 'heads', 'patchSize'].includes(key), `model.${key} is set`);
      const { experiment, problems } = resolveExperiment(file, `/tmp/outside-${s.id}.gowide.json`);
      assert.deepEqual(problems, []);
      assert.ok(experiment);
      assert.deepEqual([experiment.model.family, experiment.model.depth, experiment.model.width], [s.model.family, s.model.depth, s.model.width]);
      if (s.model.normalization !== undefined) assert.equal(experiment.model.normalization, s.model.normalization);
      if (s.model.family !== 'transformer') assert.deepEqual([s.model.heads, s.model.patchSize], [undefined, undefined], 'heads and patchSize are transformer settings');
      else assert.deepEqual([experiment.model.heads, experiment.model.patchSize], [s.model.heads, s.model.patchSize]);
      assert.deepEqual(experiment.widen, { ...defaultWiden(s.model.family), factor: s.widen.factor });
      assert.deepEqual(experiment.imitate, { ...DEFAULT_IMITATE, groups: defaultImitationGroups(s.model.family) });
      assert.deepEqual(experiment.finetune, DEFAULT_FINETUNE);
      assert.deepEqual({ ...experiment.wide, epochs: DEFAULT_WIDE.epochs }, DEFAULT_WIDE);
      assert.deepEqual(experiment.seeds, [1, 2]);
      assert.deepEqual(experiment.baselines, ['scratch', 'kd']);
      assert.equal(experiment.data.validationSplit, 0.1);
    });
  }

  it('generates the list from the data: training + validation images from trainLimit, budgets from the defaults', () => {
    const table = outsideListTable();
    const rows = table.split('\n').slice(2);
    assert.equal(rows.length, 13);
    rows.forEach((row, i) => assert.ok(row.startsWith(`| ${i + 1} | \`${OUTSIDE_SETTINGS[i].id}\` |`), row));
    assert.match(rows[0], /MLP 30 x 16: 30 hidden layers of 16 units, no normalisation \| 4 \| 5,400 \+ 600 \(6,000\) \| 3,000 \| whole layers, block by block, 21 \(30 x 0.5 \+ 6\); 42 \|/);
    assert.match(rows[2], /12,000 \+ 1,333 \(13,333\)/);
    assert.match(rows[10], /transformer 8 x 16: 8 encoder layers of width 16, 2 heads, 7x7 patches, LayerNorm \| 4 \| 2,700 \+ 300 \(3,000\) \| 3,000 \| inside each block, block by block, /);
    assert.match(rows[8], /residual CNN 9 x 12: 9 bottleneck blocks, 12 channels outside, 3 inside, BatchNorm \| 4 \| 2,700 \+ 300 \(3,000\) \| 3,000 \| inside each block, stage by stage, 10.5 \(9 x 0.5 \+ 6\); 21 \|/);
    // A changed entry changes its row: nothing in the table is written by hand.
    const changed = { ...OUTSIDE_SETTINGS[4], data: { ...OUTSIDE_SETTINGS[4].data, trainLimit: 1000 }, model: { ...OUTSIDE_SETTINGS[4].model, normalization: true } };
    assert.match(outsideListTable([changed]), /CNN with BatchNorm 6 x 8: 6 conv layers of 8 channels, BatchNorm \| 4 \| 900 \+ 100 \(1,000\)/);
  });

  it('a setting the resolver refuses is named with the field and the fix', () => {
    const bad = { ...OUTSIDE_SETTINGS[0], model: { ...OUTSIDE_SETTINGS[0].model, depth: 0 } };
    assert.throws(() => outsideListTable([bad]), /outside setting mlp-30x16 does not resolve:\n {2}model\.depth: /);
  });

  it('the results table: every listed setting in order, results with paired differences, the rest not run yet', () => {
    const [a, b, c] = OUTSIDE_SETTINGS;
    const results = {
      [a.id]: resultOf(a, [0.80, 0.82], [0.79, 0.80]),
      [b.id]: resultOf(b, [0.84, 0.85], [0.85, 0.86]),
    };
    const table = outsideResultsTable(results, [a, b, c]);
    const lines = table.split('\n');
    assert.match(lines[2], /^\| `mlp-30x16`: MLP 30 x 16, factor 4, 5,400 training images \| 83.00 ± 1.41 \(82\.0, 84\.0\) \| 79\.50 ± 0\.71 \(79\.0, 80\.0\) \| 78\.50 ± 0\.71 \(78\.0, 79\.0\) \| \*\*81\.00 ± 1\.41 \(80\.0, 82\.0\)\*\* \| \+1\.50 \(-4\.85 to \+7\.85\) \| 2 of 2 \| 10\.0 \|$/);
    assert.match(lines[3], /^\| `mlp-10x48`: .* \| -1\.00 \(-1\.00 to -1\.00\) \| 0 of 2 \| 10\.0 \|$/);
    assert.equal(lines[4], '| `mlp-20x24`: MLP 20 x 24, factor 2, 12,000 training images | not run yet | | | | | | |');
    assert.match(table, /seeds 1, 2; ran on test CPU \(2 cores\) at abc1234\./);
    assert.ok(table.endsWith('**win ahead of scratch on 1 of 2** (the goal: at least 3 of 3: 1 of 3 not run yet).'), table.split('\n').pop());
  });

  it('a kept result of other settings than listed is not counted', () => {
    const s = OUTSIDE_SETTINGS[0];
    const kept = resultOf(s, [0.9, 0.9], [0.8, 0.8]);
    kept.file = { ...kept.file, widen: { factor: 2 } };
    const table = outsideResultsTable({ [s.id]: kept }, [s]);
    assert.match(table, /\| ran with other settings than listed: re-run it \|/);
    assert.match(table, /win ahead of scratch on 0 of 0/);
  });

  it('counts win ahead of scratch by the paired mean (a tie is not ahead) against the goal', () => {
    const all = (aheadCount: number) =>
      OUTSIDE_SETTINGS.map((s, i) => (i < aheadCount ? resultOf(s, [0.81, 0.80], [0.80, 0.80]) : resultOf(s, [0.80, 0.80], [0.80, 0.80])));
    assert.equal(countLine(all(12)), '**win ahead of scratch on 12 of 13** (the goal: at least 12 of 13: met).');
    assert.equal(countLine(all(11)), '**win ahead of scratch on 11 of 13** (the goal: at least 12 of 13: not met).');
    assert.equal(countLine(all(13).slice(0, 4)), '**win ahead of scratch on 4 of 4** (the goal: at least 12 of 13: 9 of 13 not run yet).');
  });

  it('the diagnosis takes the imitation share from the experiment the run recorded, and re-resolves a run kept without one', () => {
    const s = OUTSIDE_SETTINGS[0];
    const withDiagnostics = (experiment?: OutsideResult['experiment']): OutsideResult => {
      const r = resultOf(s, [0.81, 0.8], [0.8, 0.8]);
      r.report.diagnostics = { wideValidationAccuracy: [0.85, 0.85], warmStartAccuracy: [0.7, 0.7], imitation: [], stageSeconds: {} };
      return { ...r, experiment };
    };
    const today = resolveOutside(s, [1, 2]);
    const share = (e: typeof today) => `(${e.model.depth * e.imitate.epochsPerLayer} of ${e.model.depth * e.imitate.epochsPerLayer + e.finetune.epochs} epochs)`;
    const recorded = { ...today, imitate: { ...today.imitate, epochsPerLayer: today.imitate.epochsPerLayer * 2 } };
    assert.ok(outsideDiagnosisTable({ [s.id]: withDiagnostics(recorded) }).includes(share(recorded)), 'the recorded experiment');
    assert.ok(outsideDiagnosisTable({ [s.id]: withDiagnostics() }).includes(share(today)), "today's defaults");
  });
});
