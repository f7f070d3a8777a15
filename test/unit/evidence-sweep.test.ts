// `npm run evidence:sweep`'s parts: the sweep file built from a study's example (the MLP's factors, the CNNs' budgets), the launcher
// flags checked by the CLI's parser, and, from a tiny real sweep run with the built CLI as one process
// and from the script's copy of dist/ on the local launcher (--jobs 2), the kept result, the
// EVIDENCE.md table and comparison, and the chart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkExperimentText } from '../../server/experiment/load';
import { WIDE_EPOCHS_PER_THIN_EPOCH } from '../../server/experiment/defaults';
import type { LaunchOptions } from '../../server/protocol';
import { replaceGenerated } from '../../scripts/evidence/evidence-doc';
import { accuracyDifferences, sweepSection, sweepPointsTable, launcherComparison } from '../../scripts/evidence/sweep-section';
import { FACTOR_STUDY, launcherLabel, runSweepStudy, sweepFileText, sweepRunArgs, sweepStudyById, valueLabel, type SweepResult, type SweepStudy } from '../../scripts/evidence/sweep-study';
import { snapshotBuild } from '../../scripts/evidence/run-study';
import { sweepChartSvg } from '../../scripts/evidence/sweep-svg';
import { quickExperiment } from '../sidecar/reliability-helpers';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });

describe('sweep evidence: the sweep file', () => {
  const examplePath = join(root, FACTOR_STUDY.example);
  const exampleText = readFileSync(examplePath, 'utf8');

  it('is the MLP study example plus its sweep over widen.factor 2, 4, 8, and resolves to three ordinary points', () => {
    const sweepPath = join(tmpdir(), 'mlp-factors.gowide.json');
    const { text, seeds } = sweepFileText(exampleText, examplePath, sweepPath, FACTOR_STUDY);
    const { sweep, ...settings } = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(settings, JSON.parse(exampleText), 'every other setting is the example\'s');
    assert.deepEqual(sweep, { 'widen.factor': [2, 4, 8] });
    assert.deepEqual(seeds, [1, 2, 3]);
    const checked = checkExperimentText(text, sweepPath);
    assert.deepEqual(checked.sweep?.points.map((p) => p.experiment.widen.factor), [2, 4, 8]);
    assert.deepEqual(checked.sweep?.points.map((p) => p.experiment.model), [1, 2, 3].map(() => checked.experiment!.model), 'the thin net is the same at every factor');
  });

  it('makes a data path relative to the example absolute, since the sweep file lives in the runs folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gowide-factor-paths-'));
    try {
      mkdirSync(join(dir, 'examples', 'data'), { recursive: true });
      for (const file of [join(dir, 'examples', 'data', 'train.csv'), join(dir, 'test.csv')]) writeFileSync(file, 'label,a,b\n0,1,2\n1,3,4\n');
      const example = { ...JSON.parse(exampleText), data: { format: 'csv', path: 'data/train.csv', testPath: join(dir, 'test.csv') } };
      const { text } = sweepFileText(JSON.stringify(example), join(dir, 'examples', 'x.gowide.json'), join(dir, 'runs', 'x.gowide.json'), { field: 'widen.factor', values: [2] });
      const data = (JSON.parse(text) as { data: { path: string; testPath: string } }).data;
      assert.equal(data.path, join(dir, 'examples', 'data', 'train.csv'));
      assert.equal(data.testPath, join(dir, 'test.csv'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an example that already sweeps, and a sweep that would not check, saying what to fix', () => {
    const sweeping = JSON.stringify({ ...JSON.parse(exampleText), sweep: { 'model.width': [8] } });
    assert.throws(() => sweepFileText(sweeping, examplePath, '/tmp/x.gowide.json', { field: 'widen.factor', values: [2] }), /already names a sweep/);
    assert.throws(() => sweepFileText(exampleText, examplePath, '/tmp/x.gowide.json', { field: 'widen.factor', values: [2, 0] }), (e: Error) => /does not check/.test(e.message) && /widen\.factor/.test(e.message));
  });

  it('writes a budget study\'s overrides (its arms and seeds) over the example, and every point gives the wide net and scratch the grown budget', () => {
    for (const id of ['cnn-budget', 'resnet-budget']) {
      const study = sweepStudyById(id);
      const path = join(root, study.example);
      const exampleSettings = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      const { text, seeds } = sweepFileText(readFileSync(path, 'utf8'), path, join(tmpdir(), `${id}.gowide.json`), study);
      const { sweep, ...settings } = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual(settings, { ...exampleSettings, baselines: ['scratch', 'scratch-steps'], seeds: [1, 2, 3, 4, 5] });
      assert.deepEqual(sweep, { 'finetune.epochs': study.values });
      assert.deepEqual(seeds, [1, 2, 3, 4, 5]);
      const points = checkExperimentText(text, path).sweep!.points.map((p) => p.experiment);
      assert.deepEqual(points.map((e) => e.finetune.epochs), study.values);
      // The wide net's default schedule is a multiple of the thin budget (imitation + fine-tune): it grows with it.
      assert.deepEqual(points.map((e) => e.wide.epochs), points.map((e) => Math.ceil(WIDE_EPOCHS_PER_THIN_EPOCH * (e.model.depth * e.imitate.epochsPerLayer + e.finetune.epochs))));
      assert.equal(valueLabel(study, 14), '14 epochs');
    }
    assert.equal(valueLabel(FACTOR_STUDY, 4), '×4');
    assert.throws(() => sweepStudyById('mlp-budget'), /unknown sweep study mlp-budget; use mlp-factors, cnn-budget, resnet-budget/);
  });

  it('passes the launcher flags to gowide run, checked by its own parser', () => {
    const base = { sweepPath: '/r/s.gowide.json', runsDir: '/r' };
    const plain = sweepRunArgs({ ...base, launchArgs: [] });
    assert.deepEqual(plain.argv, ['run', '/r/s.gowide.json', '--json', '--quiet', '--runs-dir', '/r']);
    assert.equal(launcherLabel(plain.launch), 'one-process');
    const local = sweepRunArgs({ ...base, seeds: [1], launchArgs: ['--jobs', '2'] });
    assert.deepEqual(local.argv.slice(-4), ['--seeds', '1', '--jobs', '2']);
    assert.deepEqual(local.launch, { launcher: 'local', jobs: 2 });
    assert.equal(launcherLabel(sweepRunArgs({ ...base, launchArgs: ['--launcher', 'slurm', '--slurm-option=--time=10'] }).launch), 'slurm');
    assert.throws(() => sweepRunArgs({ ...base, launchArgs: ['--launcher', 'slurm', '--jobs', '2'] }), /--jobs is for the local launcher/);
    assert.throws(() => sweepRunArgs({ ...base, launchArgs: ['--launcher', 'pbs'] }), /not a launcher/);
  });
});

describe('sweep evidence: a tiny sweep run as one process and on the local launcher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gowide-factor-evidence-'));
  const study: SweepStudy = { id: 'tiny-factors', title: 'Tiny MLP: which factor pays', question: 'Which factor pays?', example: 'tiny.gowide.json', field: 'widen.factor', values: [2, 4], unit: 'x' };
  let oneProcess: SweepResult;
  let local: SweepResult;
  let launchAsked: LaunchOptions | undefined;

  before(async () => {
    writeFileSync(join(dir, study.example), JSON.stringify(quickExperiment('tiny', { baselines: ['scratch', 'kd'], seeds: [1, 2] })));
    const run = (launchArgs: string[], cliFor: (launch: LaunchOptions | undefined) => string) =>
      runSweepStudy({ study, root: dir, cli: cliFor, runsDir: join(dir, 'runs'), launchArgs, log: () => undefined });
    oneProcess = await run([], () => cli);
    // As the script runs it: from a copy of dist/, which a launched run's jobs must be able to start.
    local = await run(['--jobs', '2'], (launch) => {
      launchAsked = launch;
      return snapshotBuild(root, join(dir, 'snapshot'));
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the CLI\'s sweep JSON with the wall time, the launcher options and where it ran', () => {
    assert.equal(oneProcess.launcher, 'one-process');
    assert.equal(oneProcess.launch, undefined);
    assert.equal(local.launcher, 'local');
    assert.deepEqual(local.launch, { launcher: 'local', jobs: 2 });
    assert.deepEqual(local.launchArgs, ['--jobs', '2']);
    assert.deepEqual(launchAsked, local.launch, 'the CLI copy is made for the launch the flags ask');
    for (const r of [oneProcess, local]) {
      assert.deepEqual(r.seeds, [1, 2]);
      assert.ok(r.wallSeconds > 0);
      assert.ok(r.ranOn.commit && r.ranOn.nproc > 0);
      assert.ok(typeof r.load.start === 'number' && typeof r.load.end === 'number', 'the load average beside the wall time');
      assert.deepEqual(r.sweep.sweep.map((p) => [p.values['widen.factor'], p.state]), [[2, 'done'], [4, 'done']]);
      assert.deepEqual(Object.keys(r.sweep.sweep[0].arms).sort(), ['kd', 'scratch', 'wide', 'win']);
    }
    const sweepFile = JSON.parse(readFileSync(join(dir, 'runs', 'tiny-factors.gowide.json'), 'utf8')) as { sweep: unknown };
    assert.deepEqual(sweepFile.sweep, { 'widen.factor': [2, 4] });
  });

  it('tables every factor: each arm\'s mean ± std, win - each baseline paired, the wide net\'s params and FLOPs, seconds', () => {
    const rows = sweepPointsTable(oneProcess).split('\n');
    assert.match(rows[0], /^\| widen\.factor \| wide \(teacher\) \| scratch \| kd \(logits only\) \| \*\*win \(three-stage\)\*\* \| win - scratch \(points\) \| win - kd \(logits only\) \(points\) \| wide net params/);
    assert.equal(rows.length, 2 + 2);
    oneProcess.sweep.sweep.forEach((point, i) => {
      const cells = rows[2 + i].split('|').slice(1, -1).map((c) => c.trim());
      assert.equal(cells[0], String(point.values['widen.factor']));
      const pct = (x: number) => (x * 100).toFixed(2);
      const a = point.arms;
      assert.deepEqual(cells.slice(1, 5), [a.wide!, a.scratch!, a.kd!, a.win!].map((arm) => `${pct(arm.accuracy.mean)} ± ${pct(arm.accuracy.std)}`));
      const paired = point.paired!['win-scratch']!;
      assert.ok(cells[5].startsWith(`${paired.mean >= 0 ? '+' : ''}${pct(paired.mean)} (ahead on ${paired.ahead} of 2`), cells[5]);
      const pairedKd = point.paired!['win-kd']!;
      assert.ok(cells[6].startsWith(`${pairedKd.mean >= 0 ? '+' : ''}${pct(pairedKd.mean)} (ahead on ${pairedKd.ahead} of 2`), cells[6]);
      assert.equal(cells[7], a.wide!.params.toLocaleString('en-US'));
      assert.equal(cells[8], a.wide!.flops.toLocaleString('en-US'));
      assert.equal(cells[9].split(' / ').length, 3);
    });
    assert.ok(oneProcess.sweep.sweep[1].arms.wide!.params > oneProcess.sweep.sweep[0].arms.wide!.params, 'factor 4 widens more than 2');
  });

  it('puts the launchers\' wall times side by side and finds the same accuracies for the same seeds', () => {
    assert.equal(launcherComparison([local]), '', 'nothing to compare without the one-process run');
    const rows = launcherComparison([local, oneProcess]).split('\n');
    assert.match(rows[2], /^\| one process \| \(none\) \| [\d.]+ min \| 1\.00 \|/);
    const ratio = (local.wallSeconds / oneProcess.wallSeconds).toFixed(2);
    assert.match(rows[3], new RegExp(`^\\| local \\| \`--jobs 2\` \\| [\\d.]+ min \\| ${ratio} `));
    assert.match(rows[3], /\| yes, all 16 /, 'same seeds, same accuracies (2 factors x 4 arms x 2 seeds)');

    const moved = structuredClone(local);
    moved.sweep.sweep[1].arms.kd!.accuracy.perSeed[1] += 0.02;
    const d = accuracyDifferences(oneProcess, moved);
    assert.ok(typeof d !== 'string');
    assert.deepEqual(d.differ.map((x) => x.at), ['4 kd seed 2']);
    assert.match(launcherComparison([oneProcess, moved]), /\*\*no\*\*: 1 of 16 differ, the most at 4 kd seed 2/);
    assert.match(launcherComparison([oneProcess, { ...local, seeds: [1] }]), /not comparable: seeds 1 against 1, 2/);
  });

  it('draws one series per arm, a point with a ±std bar per factor, and each factor\'s cost under it', () => {
    const svg = sweepChartSvg({ title: study.title, sweep: oneProcess.sweep, field: study.field, label: (v) => valueLabel(study, v) });
    const series = [...svg.matchAll(/<path data-arm="([^"]+)" d="([^"]+)"/g)];
    assert.deepEqual(series.map((m) => m[1]), ['wide', 'scratch', 'kd', 'win']);
    for (const [, , d] of series) assert.equal(d.split(/[ML]/).filter((s) => s.trim()).length, 2, 'a point per factor');
    assert.equal([...svg.matchAll(/<path d="M[\d.]+,[\d.]+ V/g)].length, 4 * 2, 'an error bar per arm and factor');
    assert.equal([...svg.matchAll(/>×(\d+)</g)].map((m) => m[1]).join(), '2,4');
    assert.equal([...svg.matchAll(/wide [\d.]+K? params/g)].length, 2);
    assert.equal([...svg.matchAll(/[\d.]+K? FLOPs\/example/g)].length, 2);
  });

  it('writes its section between the generated:mlp-factors markers, the prose around them kept', () => {
    const doc = '# Evidence\n\nBefore.\n\n<!-- generated:mlp-factors -->\nold\n<!-- /generated:mlp-factors -->\n\nAfter.\n';
    const section = sweepSection([local, oneProcess], 'evidence/mlp-factors.png');
    const written = replaceGenerated(doc, 'mlp-factors', section);
    assert.ok(written.startsWith('# Evidence\n\nBefore.\n\n<!-- generated:mlp-factors -->\n'));
    assert.ok(written.endsWith('<!-- /generated:mlp-factors -->\n\nAfter.\n'));
    assert.ok(!written.includes('\nold\n'));
    assert.ok(section.includes(sweepPointsTable(oneProcess)), 'the table shows the one-process run');
    assert.ok(section.includes(launcherComparison([local, oneProcess])));
    assert.ok(section.includes('![Tiny MLP: which factor pays](evidence/mlp-factors.png)'));
    assert.ok(section.startsWith('**Which factor pays?** Sweep of `tiny.gowide.json`'), section.slice(0, 80));
    assert.match(sweepSection([], 'x.png'), /not measured yet: run `npm run evidence:sweep`/);
  });
});
