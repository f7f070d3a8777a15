// imitate.groups in an experiment file: "block", "stage", or a whole number of blocks from 1 to model.depth.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveExperiment } from '../../server/experiment/resolve';

const DEPTH = 7;
const file = (groups: unknown) => ({ name: 't', data: { format: 'shapes' }, model: { family: 'mlp', depth: DEPTH }, imitate: { groups } });
const resolveGroups = (groups: unknown) => resolveExperiment(file(groups), '/tmp/groups.gowide.json');
const groupsErrors = (groups: unknown) => resolveGroups(groups).problems.filter((p) => p.severity === 'error' && p.field === 'imitate.groups');

test('a whole number of blocks from 1 to model.depth is a grouping, as are the names', () => {
  for (const groups of [3, 1, DEPTH, 'block', 'stage']) {
    const { experiment, problems } = resolveGroups(groups);
    assert.deepEqual(problems.filter((p) => p.severity === 'error'), [], String(groups));
    assert.equal(experiment!.imitate.groups, groups);
  }
});

test('other values are refused at imitate.groups, the fix saying what to write', () => {
  const cases: [unknown, RegExp, RegExp][] = [
    [0, /whole number of blocks from 1, got 0/, /"block" or "stage", or a whole number of blocks from 1 to 7/],
    [2.5, /whole number of blocks from 1, got 2\.5/, /from 1 to 7 \(model\.depth\)/],
    ['x', /"x" is not an imitation grouping/, /"block" or "stage", or a whole number of blocks from 1 to 7/],
    [DEPTH + 1, /groups of 8 blocks is more than the net has \(model\.depth is 7\)/, /use 7 or fewer blocks per group, or "block" or "stage"/],
    ['3', /must be a number, not a string/, /write 3 without quotes/],
    [true, /a boolean is not an imitation grouping/, /from 1 to 7/],
  ];
  for (const [groups, message, fix] of cases) {
    const errors = groupsErrors(groups);
    assert.equal(errors.length, 1, `${JSON.stringify(groups)}: ${JSON.stringify(errors)}`);
    assert.match(errors[0].message, message);
    assert.match(errors[0].fix ?? '', fix);
    assert.equal(resolveGroups(groups).experiment, undefined, `${JSON.stringify(groups)} resolved`);
  }
});
