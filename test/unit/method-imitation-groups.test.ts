// Which blocks imitate together: one group per block, one per resolution stage, or groups of k blocks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MODEL } from '../../server/experiment/defaults';
import type { ModelConfig } from '../../server/experiment/types';
import { groupingPhrase, imitationGroups } from '../../server/method/stages/imitation-groups';

const model = (family: ModelConfig['family'], depth: number, downsampleAt: number[]): ModelConfig => ({ ...DEFAULT_MODEL[family], family, depth, downsampleAt });
const spans = (groups: { first: number; last: number }[]) => groups.map((g) => `${g.first}-${g.last}`);

test('"block": every block is its own group', () => {
  assert.deepEqual(spans(imitationGroups(model('cnn', 4, [1]), 'block')), ['0-0', '1-1', '2-2', '3-3']);
});

test('"stage" on a plain CNN: a stage ends with the block that pools', () => {
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'stage')), ['0-2', '3-5', '6-7']);
  // Pooling after the last block adds no stage.
  assert.deepEqual(spans(imitationGroups(model('cnn', 4, [1, 3]), 'stage')), ['0-1', '2-3']);
});

test('"stage" on a residual CNN: a stage starts with the block that strides', () => {
  assert.deepEqual(spans(imitationGroups(model('resnet', 6, [2, 4]), 'stage')), ['0-1', '2-3', '4-5']);
  assert.deepEqual(spans(imitationGroups(model('resnet', 3, [0]), 'stage')), ['0-2']);
});

test('"stage" on families without downsampling: the whole net is one stage', () => {
  assert.deepEqual(spans(imitationGroups(model('mlp', 5, []), 'stage')), ['0-4']);
});

test('a whole number k: groups of k consecutive blocks, bottom first, the last one shorter', () => {
  assert.deepEqual(spans(imitationGroups(model('mlp', 7, []), 3)), ['0-2', '3-5', '6-6']);
  assert.deepEqual(spans(imitationGroups(model('mlp', 6, []), 3)), ['0-2', '3-5']);
  assert.deepEqual(spans(imitationGroups(model('mlp', 6, []), 6)), ['0-5']);
  // k ignores the resolution stages.
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 2)), ['0-1', '2-3', '4-5', '6-7']);
  assert.deepEqual(imitationGroups(model('mlp', 7, []), 1), imitationGroups(model('mlp', 7, []), 'block'));
});

test('the grouping in words', () => {
  assert.deepEqual([groupingPhrase('block'), groupingPhrase('stage'), groupingPhrase(1), groupingPhrase(3)], ['block by block', 'stage by stage', 'block by block', 'in groups of 3 blocks']);
});

test('a resumed imitation starts at the first block not yet imitated, inside a group if need be', () => {
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'stage', 3)), ['3-5', '6-7']);
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'stage', 4)), ['4-5', '6-7']);
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'block', 7)), ['7-7']);
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'stage', 8)), []);
  // Groups of 3 on 7 blocks, from a checkpoint after block 3 (written under "block"): the group 3-5
  // starts at 4; from one after block 5, at the next group.
  assert.deepEqual(spans(imitationGroups(model('mlp', 7, []), 3, 4)), ['4-5', '6-6']);
  assert.deepEqual(spans(imitationGroups(model('mlp', 7, []), 3, 6)), ['6-6']);
});
