// The headline pair (scripts/evidence/headline-*.ts): the two experiment files derived from the
// residual study's example, the table and paired difference generated from a hand-made results
// object, and the command line's refusals. The runs themselves are `npm run evidence:headline`, not CI.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseRunArgs } from '../../server/cli/run-command';
import type { JsonReport } from '../../server/cli/report';
import { defaultDownsampleAt } from '../../server/experiment/defaults';
import { baselineEpochs } from '../../server/method/stages/baselines';
import { phasesOf } from '../../server/method/seed-pipeline';
import { meanAndStd } from '../../server/runs/summary';
import { readHeadlineArgs } from '../../scripts/evidence/headline-args';
import { headlineDifferences, headlineSection, type HeadlineResults, type HeadlineRun } from '../../scripts/evidence/headline-report';
import { HEADLINE_PAIR, HEADLINE_RUNS, headlineFiles } from '../../scripts/evidence/headline-settings';

const root = resolve(import.meta.dirname, '../..');
const examplePath = join(root, HEADLINE_PAIR.study.file);
const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown> & { model: Record<string, unknown>; imitate: Record<string, unknown> };

describe('the headline pair: the two experiment files', () => {
  const files = headlineFiles(example, examplePath);
  const thin = files.thin.experiment;
  const deep = files.deep.experiment;

  it('is the residual study example at depth d with the three stages, against twice the depth from scratch', () => {
    assert.equal(HEADLINE_PAIR.study.file, 'examples/fashion-mnist-resnet.gowide.json');
    assert.equal(HEADLINE_PAIR.depthMultiplier, 2);
    assert.deepEqual(HEADLINE_PAIR.seeds, [1, 2, 3]);
    // thin: the example as it is, but for its name, description and seeds.
    const { name: _n, description: _d, seeds, ...thinRest } = files.thin.file;
    const { name: _en, description: _ed, seeds: _es, ...exampleRest } = example;
    assert.deepEqual(thinRest, exampleRest);
    assert.deepEqual(seeds, [1, 2, 3]);
    assert.deepEqual(thin.baselines, ['scratch', 'kd']);
    // deep: twice the depth, the same width and everything else in the model, scratch only.
    assert.equal(deep.model.depth, 2 * thin.model.depth);
    assert.deepEqual(files.deep.file.model, { ...example.model, depth: 2 * (example.model.depth as number) });
    assert.equal(deep.model.width, thin.model.width);
    assert.deepEqual(deep.baselines, ['scratch']);
    assert.deepEqual(files.deep.file.seeds, [1, 2, 3]);
    assert.notEqual(files.thin.file.name, files.deep.file.name);
  });

  it('gives the deep scratch arm the thin scratch arm\'s epoch budget, changing only imitate.epochsPerLayer', () => {
    assert.equal(baselineEpochs({ experiment: thin }), 9, 'the study: 6 x 0.5 + 6');
    assert.equal(baselineEpochs({ experiment: deep }), baselineEpochs({ experiment: thin }));
    assert.deepEqual(files.deep.file.imitate, { ...example.imitate, epochsPerLayer: (example.imitate.epochsPerLayer as number) / 2 });
    assert.deepEqual(deep.finetune, thin.finetune);
    assert.deepEqual({ ...deep.wide, epochs: 0 }, { ...thin.wide, epochs: 0 }, 'the standard schedule the scratch arms train with');
  });

  it('places each net\'s downsampling at the family default for its own depth', () => {
    assert.ok(!('downsampleAt' in example.model), 'the example leaves it to the default');
    assert.deepEqual(thin.model.downsampleAt, defaultDownsampleAt('resnet', 6));
    assert.deepEqual(deep.model.downsampleAt, defaultDownsampleAt('resnet', 12));
    assert.deepEqual(deep.model.downsampleAt, [3, 7]);
  });

  it('runs the deep net\'s scratch arm alone (no wide net), the thin net\'s every stage', () => {
    const stageOf = (args: string[]) => parseRunArgs(['x.gowide.json', ...args]).stage;
    assert.deepEqual(phasesOf(stageOf(HEADLINE_RUNS.deep.args), deep.baselines), ['scratch']);
    assert.deepEqual(phasesOf(stageOf(HEADLINE_RUNS.thin.args), thin.baselines), ['wide', 'imitate', 'finetune', 'scratch', 'kd']);
  });

  it('makes a relative data path absolute, since the files are written into the runs folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gowide-headline-'));
    mkdirSync(join(dir, 'data', 'mnist'), { recursive: true });
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) writeFileSync(join(dir, 'data', 'mnist', name), '');
    const derived = headlineFiles({ ...example, data: { format: 'idx', path: 'data/mnist' } }, join(dir, 'example.gowide.json'));
    assert.equal((derived.deep.file.data as { path: string }).path, join(dir, 'data', 'mnist'));
    assert.equal((derived.thin.file.data as { path: string }).path, join(dir, 'data', 'mnist'));
  });

  it('refuses an example the pair cannot double, saying what to fix', () => {
    assert.throws(() => headlineFiles({ ...example, model: { ...example.model, downsampleAt: [1, 3] } }, examplePath), /sets model\.downsampleAt: .*remove it/);
    const { depth: _depth, ...noDepth } = example.model;
    assert.throws(() => headlineFiles({ ...example, model: noDepth }, examplePath), /sets no model\.depth/);
    assert.throws(() => headlineFiles({ ...example, sweep: { 'widen.factor': [2, 4] } }, examplePath), /names a sweep/);
    assert.throws(() => headlineFiles({ ...example, baselines: ['kd'] }, examplePath), /leave out scratch/);
    assert.throws(() => headlineFiles(example, examplePath, [1], 1), /multiplier must be a whole number from 2/);
    assert.throws(() => headlineFiles({ ...example, model: { ...example.model, width: 0 } }, examplePath), (e: Error) => /does not check/.test(e.message) && /model\.width/.test(e.message));
  });
});

/** A --json report with the given per-seed accuracies, params and FLOPs per arm. */
function reportOf(arms: Record<string, { perSeed: number[]; params: number; flops: number }>): JsonReport {
  return {
    experiment: 'headline',
    backend: 'wasm',
    runDir: '/tmp/none',
    state: 'done',
    arms: Object.fromEntries(Object.entries(arms).map(([arm, a]) => [arm, { accuracy: { ...meanAndStd(a.perSeed), perSeed: a.perSeed }, params: a.params, flops: a.flops, seconds: 30 }])),
    paired: undefined,
    diagnostics: undefined,
  };
}

describe('the headline pair: the generated table', () => {
  const files = headlineFiles(example, examplePath);
  const ranOn = { nproc: 2, cpuModel: 'test CPU', flags: 'no AVX-512', host: 'h', node: process.version, tfjs: '4', commit: 'abc1234' };
  const run = (id: 'thin' | 'deep', report: JsonReport, seeds = [1, 2, 3]): HeadlineRun => ({ file: files[id].file, args: HEADLINE_RUNS[id].args, seeds, finishedAt: '2026-01-02T03:04:05.000Z', seconds: 300, report, ranOn });
  const thinReport = reportOf({
    wide: { perSeed: [0.8, 0.79, 0.79], params: 63322, flops: 2_000_000 },
    scratch: { perSeed: [0.68, 0.69, 0.65], params: 6298, flops: 400_000 },
    kd: { perSeed: [0.69, 0.68, 0.66], params: 6298, flops: 400_000 },
    win: { perSeed: [0.76, 0.75, 0.77], params: 6298, flops: 400_000 },
  });
  const deepReport = reportOf({ scratch: { perSeed: [0.7, 0.72, 0.71], params: 11746, flops: 700_000 } });
  const results: HeadlineResults = { example: HEADLINE_PAIR.study.file, depthMultiplier: 2, runs: { thin: run('thin', thinReport), deep: run('deep', deepReport) } };

  it('shows params, FLOPs, epochs and accuracy for the three nets and the wide one, read from the reports', () => {
    const section = headlineSection(results, files);
    const rows = section.split('\n\n')[0].split('\n').slice(2);
    assert.equal(rows.length, 4);
    assert.match(rows[0], /^\| residual CNN 6 x 16 \| three stages .*\| 6,298 \| 400,000 \| 9 \(6 x 0.5 imitation \+ 6 fine-tune\) \| \*\*76.00 ± 1.00\*\* \| 76.0, 75.0, 77.0 \| 30 \|$/);
    assert.match(rows[1], /^\| residual CNN 6 x 16 \| from scratch \| 6,298 \| 400,000 \| 9 \| 67.33 ± 2.08 \| 68.0, 69.0, 65.0 \|/);
    assert.match(rows[2], /^\| residual CNN 12 x 16 \| from scratch \| 11,746 \| 700,000 \| 9 \| \*\*71.00 ± 1.00\*\* \| 70.0, 72.0, 71.0 \|/);
    // Without a recorded experiment the kept file is resolved with today's defaults: twice the thin budget.
    assert.match(rows[3], /^\| residual CNN 6 x 16 widened 4x \(inside each block\) \| the wide net .*\| 63,322 \| 2,000,000 \| 18 \|/);
    assert.doesNotMatch(section, /Stale/);
    // A run that recorded what it resolved is shown as it ran, whatever the defaults are now.
    const thinAsRan = { ...files.thin.experiment, wide: { ...files.thin.experiment.wide, epochs: 9 } };
    const recorded = { ...results, runs: { ...results.runs, thin: { ...run('thin', thinReport), experiment: thinAsRan } } };
    assert.match(headlineSection(recorded, files).split('\n')[5], /^\| residual CNN 6 x 16 widened 4x \(inside each block\) \| the wide net .*\| 63,322 \| 2,000,000 \| 9 \|/);
    assert.match(section, /`gowide run headline-deep.gowide.json --stage baselines` took 5.0 min/);
  });

  it('pairs thin three-stage with deep scratch seed by seed, with the 95% interval of the mean', () => {
    const d = headlineDifferences(results);
    assert.ok(typeof d !== 'string');
    assert.deepEqual(d.differences.map((x) => Math.round(x * 1e6) / 1e6), [0.06, 0.03, 0.06]);
    // mean 5.00 points, std sqrt(3) points, t(2) = 4.3027: half width 4.3027 x 1.7321 / sqrt(3) = 4.30.
    assert.match(headlineSection(results), /\| thin three-stage - deep scratch \| \*\*\+5.00\*\* \| \+0.70 to \+9.30 \| 3 of 3 \| 1: \+6.00, 2: \+3.00, 3: \+6.00 \|/);
  });

  it('says what is missing instead of pairing runs that do not pair', () => {
    const onlyThin = headlineSection({ ...results, runs: { thin: results.runs.thin } });
    assert.match(onlyThin, /\| the deep net \| from scratch \| not run yet \|/);
    assert.match(onlyThin, /Thin three-stage minus deep scratch: needs both runs\./);
    const otherSeeds = { ...results, runs: { thin: results.runs.thin, deep: run('deep', reportOf({ scratch: { perSeed: [0.7, 0.72], params: 1, flops: 1 } }), [1, 2]) } };
    assert.match(headlineSection(otherSeeds), /the runs have other seeds \(thin 1, 2, 3; deep 1, 2\): re-run both/);
  });

  it('marks a kept run whose file the pair no longer derives as stale', () => {
    const changed = headlineFiles({ ...example, finetune: { ...(example.finetune as object), epochs: 8 } }, examplePath);
    assert.match(headlineSection(results, changed), /\*\*Stale\*\*: the kept thin and deep run\(s\) used other settings/);
    // The description is commentary: a kept run described otherwise (another checkout's path) is current.
    const described = { ...results, runs: { ...results.runs, thin: { ...results.runs.thin!, file: { ...files.thin.file, description: 'elsewhere' } } } };
    assert.doesNotMatch(headlineSection(described, files), /Stale/);
  });
});

describe('the headline pair: the command line', () => {
  const runs = '/tmp/headline-runs';
  it('defaults to seeds 1, 2, 3 and one process, and passes --jobs through', () => {
    assert.deepEqual(readHeadlineArgs([], runs), { seeds: [1, 2, 3], runsDir: runs, jobs: undefined, reportOnly: false });
    assert.deepEqual(readHeadlineArgs(['--jobs', '2', '--seeds', '4,5'], runs), { seeds: [4, 5], runsDir: runs, jobs: 2, reportOnly: false });
    assert.equal(readHeadlineArgs(['--report-only'], runs).reportOnly, true);
  });

  it('refuses bad arguments, saying what to fix', () => {
    assert.throws(() => readHeadlineArgs(['--jobs', '0'], runs), /--jobs 0: give a whole number from 1/);
    assert.throws(() => readHeadlineArgs(['--seeds', '1,x'], runs), /--seeds 1,x: give whole numbers/);
    assert.throws(() => readHeadlineArgs(['--seeds', '1,1'], runs), /--seeds 1,1: give distinct seeds/);
    assert.throws(() => readHeadlineArgs(['--only', 'thin'], runs), /usage: npm run evidence:headline/);
    assert.throws(() => readHeadlineArgs(['--report-only', '--jobs', '2'], runs), /--report-only runs nothing/);
  });
});
