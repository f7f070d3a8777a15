// The evidence study's settings (scripts/evidence/studies.ts): every example resolves through the real
// resolver with the study's arms and seeds, and nothing else of the example changes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveExperiment } from '../../server/experiment/resolve';
import { BASELINE_NAMES } from '../../server/protocol';
import { jobCount } from '../../scripts/evidence/script-args';
import { STUDIES, STUDY_SEEDS, studiesById, studyExperiment } from '../../scripts/evidence/studies';

const ROOT = join(__dirname, '..', '..');

describe('evidence study settings', () => {
  for (const study of STUDIES) {
    it(`${study.id}: the example with every baseline and matched control, on the study's seeds`, () => {
      const example = JSON.parse(readFileSync(join(ROOT, study.file), 'utf8')) as Record<string, unknown>;
      const file = studyExperiment(example);
      const { experiment, problems } = resolveExperiment(file, join(ROOT, study.file));
      assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
      assert.deepEqual(experiment?.baselines, [...BASELINE_NAMES]);
      assert.deepEqual(experiment?.seeds, STUDY_SEEDS);
      const { baselines: _b, seeds: _s, ...rest } = file;
      const { baselines: _eb, seeds: _es, ...exampleRest } = example;
      assert.deepEqual(rest, exampleRest);
    });
  }

  it('--seeds replaces the study seeds', () => {
    assert.deepEqual(studyExperiment({ name: 'x' }, [7]).seeds, [7]);
  });

  it('refuses an unknown study and a bad --jobs with what to use', () => {
    assert.throws(() => studiesById(['nope']), /unknown study nope; use mlp/);
    assert.throws(() => jobCount('0'), /--jobs 0: give a whole number from 1/);
    assert.equal(jobCount('2'), 2);
    assert.equal(jobCount(undefined), undefined);
  });
});
