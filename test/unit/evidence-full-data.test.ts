// The study at full data (scripts/evidence/full-data-*.ts): each study's derived experiment resolves and
// differs from its example only in the fields full-data-settings.ts lists, the table comes from hand-made
// results, and the command line refuses what it cannot run. The runs themselves are
// `npm run evidence:full-data`, not CI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { JsonReport } from '../../server/cli/report';
import { pairedComparisons } from '../../server/runs/paired';
import { meanAndStd } from '../../server/runs/summary';
import { checkedExperiment, experimentText } from '../../scripts/evidence/example-file';
import { readFullDataArgs } from '../../scripts/evidence/full-data-args';
import { fullDataTable, type FullDataResult } from '../../scripts/evidence/full-data-report';
import { FULL_DATA, FULL_DATA_SEEDS, fullDataFile } from '../../scripts/evidence/full-data-settings';
import { ranOnText, type StudyResult } from '../../scripts/evidence/run-study';
import { STUDIES, studiesById } from '../../scripts/evidence/studies';

const root = resolve(import.meta.dirname, '../..');

describe('the full-data experiment files', () => {
  it('sets all training and test images, scratch only and the seeds, and keeps everything else of each example', () => {
    assert.deepEqual(FULL_DATA, { data: { trainLimit: 0, testLimit: 0 }, baselines: ['scratch'] });
    assert.deepEqual(FULL_DATA_SEEDS, [1]);
    for (const study of STUDIES) {
      const examplePath = join(root, study.file);
      const example = JSON.parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown> & { data: Record<string, unknown> };
      const defaults = checkedExperiment(experimentText(example), examplePath, study.id);
      const { file, experiment } = fullDataFile(study, [1, 4]);
      assert.deepEqual(experiment, {
        ...defaults,
        name: `full-data-${study.id}`,
        description: file.description,
        data: { ...defaults.data, trainLimit: 0, testLimit: 0 },
        baselines: ['scratch'],
        seeds: [1, 4],
      }, study.id);
      assert.equal(experiment.data.validationSplit, 0.1, `${study.id}: a tenth held out for validation`);
      assert.equal(file.description, `${study.title} (${study.file}) at full data: every Fashion-MNIST training and test image, scratch as the only baseline, seeds 1, 4.`);
      const { name: _n, description: _d, data, baselines: _b, seeds: _s, ...rest } = file;
      const { name: _en, description: _ed, data: exampleData, baselines: _eb, seeds: _es, ...exampleRest } = example;
      assert.deepEqual(rest, exampleRest, `${study.id}: the file sets no other field`);
      assert.deepEqual(data, { ...exampleData, trainLimit: 0, testLimit: 0 }, study.id);
    }
  });
});

const ranOn = { nproc: 2, cpuModel: 'test CPU', flags: 'no AVX-512', host: 'h', node: process.version, tfjs: '4', commit: 'abc1234' };

/** A --json report from per-seed test accuracies, by the run summary's own arithmetic. */
function reportOf(perSeed: Partial<Record<'wide' | 'scratch' | 'win', number[]>>): JsonReport {
  const seeds = perSeed.scratch!.length;
  const outcomes = Array.from({ length: seeds }, (_, i) => ({ test: Object.fromEntries(Object.entries(perSeed).map(([a, v]) => [a, v[i]])) }));
  const arms = Object.fromEntries(Object.entries(perSeed).map(([a, v]) => [a, { accuracy: { ...meanAndStd(v), perSeed: v }, params: 100, seconds: 30 }]));
  return { experiment: 'x', backend: 'wasm', runDir: '/tmp/none', state: 'done', arms, paired: pairedComparisons(outcomes), diagnostics: undefined };
}

function fullRun(id: string, seeds: number[], perSeed: Parameters<typeof reportOf>[0], seconds = 1860): FullDataResult {
  const [study] = studiesById([id]);
  const { file, experiment } = fullDataFile(study, seeds);
  return { id, file, seeds, images: { train: 54000, validation: 6000, test: 10000 }, finishedAt: '2026-01-01T00:00:00.000Z', seconds, report: reportOf(perSeed), ranOn, experiment };
}

function keptStudy(id: string, seeds: number[], perSeed: Parameters<typeof reportOf>[0]): StudyResult {
  const [study] = studiesById([id]);
  const experiment = fullDataFile(study).experiment;
  return { study, seeds, report: reportOf(perSeed), experiment: { ...experiment, data: { ...experiment.data, trainLimit: 3000, testLimit: 3000 } } } as StudyResult;
}

describe('the full-data table', () => {
  const results = { resnet: fullRun('resnet', [1], { wide: [0.91], scratch: [0.88], win: [0.885] }) };
  const small = {
    resnet: keptStudy('resnet', [1, 2, 3], { wide: [0.80, 0.79, 0.79], scratch: [0.685, 0.685, 0.652], win: [0.757, 0.753, 0.761] }),
    cnn: keptStudy('cnn', [1, 2, 3], { wide: [0.82, 0.82, 0.83], scratch: [0.77, 0.78, 0.77], win: [0.80, 0.79, 0.80] }),
  };

  it('gives each study at full data beside its kept result at its own size, a study not run as not run', () => {
    const lines = fullDataTable(results, small).split('\n');
    assert.equal(lines[0], '| study | data | training + validation images | test images | seeds | wide | scratch | win | win - scratch, paired | minutes |');
    const wideEpochs = fullDataFile(studiesById(['resnet'])[0]).experiment.wide.epochs;
    const at = lines.indexOf(`| Residual CNN (\`resnet\`) | full | 54,000 + 6,000 | 10,000 | 1 | 91.00 (${wideEpochs} epochs) | 88.00 | 88.50 | +0.50 (1 of 1 ahead) | 31.0 |`);
    assert.ok(at > 0, lines.join('\n'));
    assert.equal(lines[at + 1], `| | study's size | 2,700 + 300 | 3,000 | 1, 2, 3 | 79.33 ± 0.58 (${wideEpochs} epochs) | 67.40 ± 1.91 | 75.70 ± 0.40 | +8.30 (3 of 3 ahead; seed 1: +7.20) | |`);
    const cnn = lines.findIndex((l) => l.startsWith('| Plain deep CNN (`cnn`) | full | not run |'));
    assert.ok(cnn > 0, 'the plain CNN is shown as not run');
    assert.match(lines[cnn + 1], /^\| \| study's size \| 2,700 \+ 300 \| 3,000 \| 1, 2, 3 \| .* \| \+2\.33 \(3 of 3 ahead\) \| \|$/, 'no seed pair without a full run');
    assert.match(lines.find((l) => l.includes('(`transformer`)'))!, /not run/);
    assert.match(lines[lines.indexOf('| Deep thin transformer on image patches (`transformer`) | full | not run | | |  |  |  | | |') + 1], /no kept result in docs\/evidence\/transformer\.json/);
    assert.match(lines.at(-1)!, /^Full-data runs ran on test CPU \(2 cores\) at abc1234\.$/);
  });

  it("gives the wide net's epochs only where the run recorded its experiment", () => {
    const { experiment: _recorded, ...keptWithout } = results.resnet;
    const lines = fullDataTable({ resnet: { ...keptWithout, report: reportOf({ wide: [0.91], scratch: [0.88], win: [0.885] }) } }, small).split('\n');
    assert.ok(lines.includes('| Residual CNN (`resnet`) | full | 54,000 + 6,000 | 10,000 | 1 | 91.00 | 88.00 | 88.50 | +0.50 (1 of 1 ahead) | 31.0 |'), lines.join('\n'));
  });

  it('marks a result that ran with other settings than the ones derived now', () => {
    const stale = { ...results.resnet, file: { ...results.resnet.file, data: { format: 'fashion-mnist', trainLimit: 12000, testLimit: 0 } } };
    const table = fullDataTable({ resnet: stale }, small);
    assert.match(table, /\| Residual CNN \(`resnet`\) \| full \| ran with other settings: re-run \|/);
    assert.match(table, /Full-data runs ran on -\./);
    assert.doesNotMatch(table, /seed 1:/, 'a stale run pairs nothing');
  });
});

describe('npm run evidence:full-data arguments', () => {
  const runs = '/tmp/full-data-runs';
  it('defaults to every study, seed 1, one process', () => {
    const args = readFullDataArgs([], runs);
    assert.deepEqual([args.studies, args.seeds, args.runsDir, args.jobs, args.reportOnly], [STUDIES, [1], runs, undefined, false]);
    const some = readFullDataArgs(['--only', 'resnet,cnn', '--seeds', '1,2', '--jobs', '1'], runs);
    assert.deepEqual([some.studies.map((s) => s.id), some.seeds, some.jobs], [['cnn', 'resnet'], [1, 2], 1]);
    assert.equal(readFullDataArgs(['--report-only'], runs).reportOnly, true);
  });

  it('refuses what it cannot run, saying what to fix', () => {
    assert.throws(() => readFullDataArgs(['--only', 'resnet,vit'], runs), /--only: unknown study vit; use mlp, cnn, resnet, transformer/);
    assert.throws(() => readFullDataArgs(['--seeds', '1,x'], runs), /--seeds 1,x: give whole numbers/);
    assert.throws(() => readFullDataArgs(['--seeds', '1,1'], runs), /--seeds 1,1: give distinct seeds/);
    assert.throws(() => readFullDataArgs(['--jobs', '0'], runs), /--jobs 0: give a whole number from 1/);
    assert.throws(() => readFullDataArgs(['--report-only', '--only', 'resnet'], runs), /--report-only runs nothing: .*drop --only/);
    assert.throws(() => readFullDataArgs(['--depth', '3'], runs), /Unknown option '--depth'[\s\S]*usage: npm run evidence:full-data/);
  });
});

describe('where a kept run ran', () => {
  it('names the OpenBLAS kernels where the run recorded them, since other kernels give other accuracies', () => {
    const ran = { cpuModel: 'Intel(R) Xeon(R) Processor', nproc: 2, commit: 'abc1234' };
    assert.equal(ranOnText(ran), 'Intel(R) Xeon(R) Processor (2 cores) at abc1234');
    assert.equal(ranOnText({ ...ran, blasCore: 'Prescott' }), 'Intel(R) Xeon(R) Processor (2 cores, OpenBLAS Prescott kernels) at abc1234');
  });
});
