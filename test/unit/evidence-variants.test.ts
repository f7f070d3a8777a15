// Variants of the defaults on the list outside the study (scripts/evidence/variant-*.ts): each variant's
// experiment file keeps the thin budget and changes only its own fields, the table comes from a
// hand-made results object, and the command line refuses what it cannot run. The runs themselves are
// `npm run evidence:variants`, not CI.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonReport } from '../../server/cli/report';
import { baselineEpochs } from '../../server/method/stages/baselines';
import type { ArmName } from '../../server/protocol';
import { pairedComparisons } from '../../server/runs/paired';
import { meanAndStd } from '../../server/runs/summary';
import { resolveOutside, type OutsideResult } from '../../scripts/evidence/outside-report';
import { OUTSIDE_SEEDS, OUTSIDE_SETTINGS, outsideById, outsideExperiment } from '../../scripts/evidence/outside-settings';
import { readVariantArgs } from '../../scripts/evidence/variant-args';
import { variantsTable, type VariantResult, type VariantResults } from '../../scripts/evidence/variant-report';
import { METHOD_VARIANTS, VARIANT_BASELINES, variantFile, variantsByName, type MethodVariant } from '../../scripts/evidence/variant-settings';

describe('the variants\' experiment files', () => {
  it('names groups-2, groups-3, finetune-share, widen-whole and defaults once each', () => {
    assert.deepEqual(METHOD_VARIANTS.map((v) => v.name), ['groups-2', 'groups-3', 'finetune-share', 'widen-whole', 'defaults']);
    assert.deepEqual(variantsByName(['finetune-share', 'groups-2']).map((v) => v.name), ['groups-2', 'finetune-share']);
  });

  it('keeps every setting\'s thin budget, wide net and data, and changes only the variant\'s fields', () => {
    for (const s of OUTSIDE_SETTINGS) {
      const defaults = resolveOutside(s);
      for (const v of METHOD_VARIANTS) {
        const { file, experiment } = variantFile(s, v);
        const what = `${v.name} on ${s.id}`;
        assert.equal(baselineEpochs({ experiment }), baselineEpochs({ experiment: defaults }), `${what}: scratch epochs`);
        assert.deepEqual(experiment.wide, defaults.wide, what);
        assert.deepEqual([experiment.data, experiment.model, experiment.seeds], [defaults.data, defaults.model, defaults.seeds], what);
        assert.deepEqual(experiment.widen, { ...defaults.widen, ...v.overrides(defaults).widen }, what);
        assert.deepEqual(experiment.baselines, VARIANT_BASELINES);
        assert.deepEqual(file.data, outsideExperiment(s).data);
        const imitate = { ...defaults.imitate, ...v.overrides(defaults).imitate };
        const finetune = { ...defaults.finetune, ...v.overrides(defaults).finetune };
        assert.deepEqual([experiment.imitate, experiment.finetune], [imitate, finetune], what);
      }
      const share = variantFile(s, variantsByName(['finetune-share'])[0]).experiment;
      const removed = defaults.imitate.epochsPerLayer / 2;
      assert.equal(share.imitate.epochsPerLayer, removed, s.id);
      assert.equal(share.finetune.epochs, defaults.finetune.epochs + defaults.model.depth * removed, s.id);
      assert.equal(variantFile(s, variantsByName(['groups-3'])[0]).experiment.imitate.groups, 3);
      assert.deepEqual(variantFile(s, variantsByName(['widen-whole'])[0]).experiment.widen, { ...defaults.widen, mode: 'all' }, s.id);
      const unchanged = variantFile(s, variantsByName(['defaults'])[0]).experiment;
      assert.deepEqual([unchanged.widen, unchanged.imitate, unchanged.finetune], [defaults.widen, defaults.imitate, defaults.finetune], s.id);
    }
  });

  it('refuses a variant that changes the thin budget, and one the checker refuses', () => {
    const [s] = outsideById(['mlp-30x16']);
    const longer: MethodVariant = { name: 'longer', title: 'more fine-tuning', overrides: (e) => ({ finetune: { epochs: e.finetune.epochs + 1 } }) };
    assert.throws(() => variantFile(s, longer), /variant longer gives mlp-30x16 a thin budget of 22 epochs, not the default's 21/);
    const tooBig: MethodVariant = { name: 'groups-31', title: 'too big', overrides: () => ({ imitate: { groups: 31 } }) };
    assert.throws(() => variantFile(s, tooBig), /variant groups-31 of mlp-30x16 does not check:\n {2}imitate\.groups: groups of 31 blocks is more than the net has/);
  });
});

const ARMS = ['scratch', 'win'] as const;
const SEEDS = OUTSIDE_SEEDS;

/** A --json report from per-seed test accuracies, by the run summary's own arithmetic. */
function reportOf(scratch: number[], win: number[]): JsonReport {
  const perSeed = { scratch, win };
  const outcomes = SEEDS.map((_, i) => ({ test: { scratch: scratch[i], win: win[i] } as Partial<Record<ArmName, number>> }));
  const arms = Object.fromEntries(ARMS.map((a) => [a, { accuracy: { ...meanAndStd(perSeed[a]), perSeed: perSeed[a] }, params: 100, seconds: 30 }]));
  return { experiment: 'x', backend: 'wasm', runDir: '/tmp/none', state: 'done', arms, paired: pairedComparisons(outcomes), diagnostics: undefined };
}

const ranOn = { nproc: 2, cpuModel: 'test CPU', flags: 'no AVX-512', host: 'h', node: process.version, tfjs: '4', commit: 'abc1234' };

function listRun(id: string, scratch: number[], win: number[]): OutsideResult {
  const [s] = outsideById([id]);
  return { id, file: outsideExperiment(s, SEEDS), seeds: SEEDS, finishedAt: '2026-01-01T00:00:00.000Z', seconds: 60, report: reportOf(scratch, win), ranOn };
}

function variantRun(name: string, id: string, scratch: number[], win: number[]): VariantResult {
  const [s] = outsideById([id]);
  const file = variantFile(s, variantsByName([name])[0], SEEDS).file;
  return { variant: name, id, file, seeds: SEEDS, finishedAt: '2026-01-01T00:00:00.000Z', seconds: 90, report: reportOf(scratch, win), ranOn };
}

describe('the variants table', () => {
  const outside = { 'mlp-30x16': listRun('mlp-30x16', [0.77, 0.72], [0.71, 0.72]), 'mlp-12x32': listRun('mlp-12x32', [0.80, 0.79], [0.82, 0.82]) };
  const results: VariantResults = {
    'groups-3': {
      'mlp-30x16': variantRun('groups-3', 'mlp-30x16', [0.77, 0.72], [0.78, 0.71]),
      'mlp-12x32': variantRun('groups-3', 'mlp-12x32', [0.80, 0.79], [0.81, 0.80]),
    },
    'finetune-share': { 'mlp-30x16': variantRun('finetune-share', 'mlp-30x16', [0.77, 0.72], [0.75, 0.73]) },
  };

  it('gives per setting each variant\'s win - scratch and the defaults\', the best in bold', () => {
    const table = variantsTable(results, outside);
    const lines = table.split('\n');
    assert.equal(lines[0], "| setting | `groups-3` | `finetune-share` | defaults (the list's run) |", 'variants that ran, in their order; groups-2 has none');
    assert.equal(lines[2], '| `mlp-30x16` | **+0.00** (1 of 2; +1.0, -1.0) | -0.50 (1 of 2; -2.0, +1.0) | -3.00 (0 of 2; -6.0, +0.0) |');
    assert.equal(lines[3], '| `mlp-12x32` | +1.00 (2 of 2; +1.0, +1.0) | not run | **+2.50** (2 of 2; +2.0, +3.0) |');
    assert.equal(lines.filter((l) => l.startsWith('| `')).length, 2, 'only the settings a variant ran');
    assert.match(table, /seeds 1, 2\. Every variant's scratch arm gave the list's run's accuracies seed for seed\./);
    assert.match(table, /Variants ran on test CPU \(2 cores\) at abc1234 \(4\.5 min in all\)\./);
    assert.match(table, /- `groups-3`: imitate in groups of 3 consecutive blocks/);
    assert.match(table, /- `finetune-share`: half of the imitation epochs moved to fine-tuning/);
  });

  it('marks a result run with other settings, a scratch arm that is not the list\'s, and a missing list run', () => {
    const stale = { ...results['groups-3']['mlp-12x32'], file: { ...results['groups-3']['mlp-12x32'].file, imitate: { groups: 4 } } };
    const other: VariantResults = { 'groups-3': { 'mlp-12x32': stale, 'mlp-30x16': variantRun('groups-3', 'mlp-30x16', [0.70, 0.72], [0.78, 0.71]) } };
    const table = variantsTable(other, { 'mlp-30x16': outside['mlp-30x16'] });
    assert.match(table, /\| `mlp-12x32` \| ran with other settings: re-run \| not run \|/);
    assert.match(table, /Scratch differs from the list's run for groups-3 on mlp-30x16/);
    assert.equal(variantsTable({}, outside), 'No variant has run yet: `npm run evidence:variants`.');
  });
});

describe('npm run evidence:variants arguments', () => {
  const runs = '/tmp/variants-runs';
  it('defaults to every variant on every setting of the list, its seeds, one process', () => {
    const args = readVariantArgs([], runs);
    assert.deepEqual([args.settings, args.variants, args.seeds, args.runsDir, args.jobs, args.reportOnly], [OUTSIDE_SETTINGS, METHOD_VARIANTS, OUTSIDE_SEEDS, runs, undefined, false]);
    const some = readVariantArgs(['--only', 'mlp-30x16,mlp-12x32', '--variants', 'groups-2', '--seeds', '3,4', '--jobs', '2'], runs);
    assert.deepEqual([some.settings.map((s) => s.id), some.variants.map((v) => v.name), some.seeds, some.jobs], [['mlp-30x16', 'mlp-12x32'], ['groups-2'], [3, 4], 2]);
    assert.equal(readVariantArgs(['--report-only'], runs).reportOnly, true);
  });

  it('refuses what it cannot run, saying what to write', () => {
    const refusals: [string[], RegExp][] = [
      [['--variants', 'groups-9'], /--variants: unknown variant groups-9; use groups-2, groups-3, finetune-share, widen-whole/],
      [['--only', 'mlp-1x1'], /--only: unknown setting mlp-1x1; use mlp-30x16/],
      [['--seeds', '1,1'], /--seeds 1,1: give distinct seeds/],
      [['--seeds', '1.5'], /--seeds 1\.5: give whole numbers/],
      [['--jobs', '0'], /--jobs 0: give a whole number from 1/],
      [['--report-only', '--only', 'mlp-30x16', '--jobs', '2'], /--report-only runs nothing: .*; drop --only, --jobs/],
      [['--groups', '2'], /Unknown option '--groups'[\s\S]*usage: npm run evidence:variants/],
    ];
    for (const [argv, message] of refusals) assert.throws(() => readVariantArgs(argv, runs), message, argv.join(' '));
  });
});
