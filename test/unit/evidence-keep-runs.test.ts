// The loop the long evidence scripts share: real runs of the built CLI on tiny experiments, the results
// file written after each, a failing run reported by its label while the others go on, and a results
// file that is not JSON refused before anything runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { readKept, runEachAndKeep, throwIfFailed, type RanFields } from '../../scripts/evidence/keep-runs';
import { resolveExperiment } from '../../server/experiment/resolve';
import { quickExperiment } from '../sidecar/reliability-helpers';

const root = resolve(import.meta.dirname, '../..');
if (!existsSync(join(root, 'dist', 'cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });

describe('evidence scripts: run each, keep each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gowide-keep-runs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a kept results file, has none when it is missing, and refuses one that is not JSON, saying what to do', () => {
    const file = join(dir, 'kept.json');
    assert.equal(readKept(file), undefined);
    writeFileSync(file, '{"a": 1}');
    assert.deepEqual(readKept(file), { a: 1 });
    writeFileSync(file, '{"a": 1');
    assert.throws(() => readKept(file), (e: Error) => e.message.startsWith(`${file} is not valid JSON`) && /fix or remove it; nothing was run/.test(e.message));
  });

  it('runs each experiment, keeps each finished run in the results file, and names the run that failed', async () => {
    const results: Record<string, RanFields & { file: string }> = {};
    const resultsFile = join(dir, 'results.json');
    const good = quickExperiment('keep-good', { seeds: [1] });
    // Refused by the CLI's checker when it runs: a data set that is not there.
    const broken = quickExperiment('keep-broken', { data: { format: 'csv', path: join(dir, 'missing.csv') } });
    const run = (name: string, experiment: Record<string, unknown>) => ({
      label: `${name} run`,
      name,
      experiment,
      keep: (ran: RanFields, file: string) => {
        results[name] = { ...ran, file };
      },
    });
    const failed = await runEachAndKeep({ runs: [run('broken', broken), run('good', good)], runsDir: join(dir, 'runs'), results, resultsFile });
    assert.deepEqual(failed, ['broken run']);
    assert.deepEqual(Object.keys(results), ['good']);
    const kept = JSON.parse(readFileSync(resultsFile, 'utf8')) as typeof results;
    assert.equal(kept.good.report.state, 'done');
    assert.ok(kept.good.report.arms.win && kept.good.seconds > 0);
    assert.equal(kept.good.ranOn.commit, execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(), 'the commit the CLI snapshot was copied at');
    assert.equal(kept.good.file, join(dir, 'runs', 'good.gowide.json'));
    assert.deepEqual(JSON.parse(readFileSync(kept.good.file, 'utf8')), good, 'the experiment file the run read');
    assert.deepEqual(kept.good.experiment, resolveExperiment(good, kept.good.file).experiment, 'the file as it resolved, every default filled in');
    assert.throws(() => throwIfFailed(failed), /1 run\(s\) failed and have no new result: broken run/);
    assert.doesNotThrow(() => throwIfFailed([]));
  });
});
