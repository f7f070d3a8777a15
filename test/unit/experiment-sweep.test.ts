// Sweeps in experiment files: the grid's values checked as if written in their fields, problems placed
// at the sweep entry, the grid's size bounded by the schema's maxPoints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExperimentText } from '../../server/experiment/load';
import { resolveExperiment } from '../../server/experiment/resolve';
import { MAX_SWEEP_POINTS, SWEEP_FIELDS } from '../../server/experiment/sweep';

const FILE = '/tmp/sweep-test.gowide.json';
const withSweep = (sweep: unknown) => ({ name: 't', data: { format: 'shapes' }, model: { family: 'mlp', depth: 3, width: 8 }, sweep });
const errors = (raw: unknown) => resolveExperiment(raw, FILE).problems.filter((p) => p.severity === 'error');

describe('experiment sweeps', () => {
  it('a grid of two fields resolves every point, the first field varying slowest', () => {
    const result = resolveExperiment(withSweep({ 'model.width': [8, 16], 'widen.factor': [2, 4, 8] }), FILE);
    assert.deepEqual(result.problems, []);
    assert.ok(result.experiment, 'the file itself still resolves');
    const points = result.sweep!.points;
    assert.equal(points.length, 6);
    assert.deepEqual(points.map((p) => p.values), [8, 16].flatMap((w) => [2, 4, 8].map((f) => ({ 'model.width': w, 'widen.factor': f }))));
    assert.deepEqual(points.map((p) => [p.experiment.model.width, p.experiment.widen.factor]), [[8, 2], [8, 4], [8, 8], [16, 2], [16, 4], [16, 8]]);
    assert.ok(points.every((p) => !('sweep' in p.experiment)));
  });

  it('every listed field can be swept, per-block factors and depth included', () => {
    assert.ok(['widen.factor', 'widen.perLayer', 'model.width', 'model.depth', 'imitate.epochsPerLayer'].every((f) => SWEEP_FIELDS.includes(f)));
    const result = resolveExperiment(withSweep({ 'widen.perLayer': [[1, 2, 4], [4, 2, 1]], 'imitate.epochsPerLayer': [0.5, 1] }), FILE);
    assert.deepEqual(result.sweep!.points.map((p) => p.experiment.widen.perLayer), [[1, 2, 4], [1, 2, 4], [4, 2, 1], [4, 2, 1]]);
    const depths = resolveExperiment(withSweep({ 'model.depth': [2, 5] }), FILE).sweep!.points;
    // Defaults that depend on depth follow the point's depth (the wide net's epoch budget).
    assert.deepEqual(depths.map((p) => p.experiment.model.depth), [2, 5]);
    assert.notEqual(depths[0].experiment.wide.epochs, depths[1].experiment.wide.epochs);
  });

  it('a bad value gets resolve\'s own message at its sweep entry, with line and column', () => {
    const [bad] = errors(withSweep({ 'widen.factor': [2, 4, 100] }));
    assert.equal(bad.field, 'sweep["widen.factor"][2]');
    assert.equal(bad.message, errors({ ...withSweep(undefined), widen: { factor: 100 } }).find((p) => p.field === 'widen.factor')!.message);
    const text = JSON.stringify(withSweep({ 'widen.factor': [2, 4, 100] }), null, 2);
    const located = checkExperimentText(text, FILE).problems.find((p) => p.field === bad.field)!;
    assert.equal(text.split('\n')[located.line! - 1].trim(), '100', 'placed at the value itself');
  });

  it('a value that breaks another field names both', () => {
    const [bad] = errors(withSweep({ 'model.depth': [3, 4], 'widen.perLayer': [[2, 2, 2]] }));
    assert.equal(bad.field, 'sweep');
    assert.match(bad.message, /"model\.depth":4.*widen\.perLayer: perLayer has 3 factors but model\.depth is 4/);
  });

  it('unknown fields, empty lists, repeated values and non-objects are errors at the sweep entry', () => {
    const fields = (sweep: unknown) => errors(withSweep(sweep)).map((p) => p.field);
    assert.deepEqual(fields({ 'widen.fator': [2] }), ['sweep["widen.fator"]']);
    assert.match(errors(withSweep({ 'widen.fator': [2] }))[0].fix!, /widen\.factor/);
    assert.deepEqual(fields({ 'widen.factor': [] }), ['sweep["widen.factor"]']);
    assert.deepEqual(fields({ 'widen.factor': 4 }), ['sweep["widen.factor"]']);
    assert.deepEqual(fields({ 'widen.factor': [2, 2] }), ['sweep["widen.factor"][1]']);
    assert.deepEqual(fields([2, 4]), ['sweep']);
    assert.deepEqual(fields({}), ['sweep']);
  });

  it(`a grid of more than ${MAX_SWEEP_POINTS} points is refused with its shape`, () => {
    const side = Math.ceil(Math.sqrt(MAX_SWEEP_POINTS + 1));
    const values = Array.from({ length: side }, (_, i) => i + 1);
    const [bad] = errors(withSweep({ 'widen.factor': values, 'model.width': values }));
    assert.equal(bad.field, 'sweep');
    assert.match(bad.message, new RegExp(`${side * side} points \\(${side} x ${side}\\), more than ${MAX_SWEEP_POINTS}`));
    assert.deepEqual(errors(withSweep({ 'widen.factor': values.slice(0, 8), 'model.width': values.slice(0, 8) })), []);
  });
});
