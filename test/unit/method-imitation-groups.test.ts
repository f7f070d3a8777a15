// Which blocks imitate together: one group per block, or one per resolution stage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MODEL } from '../../server/experiment/defaults';
import type { ModelConfig } from '../../server/experiment/types';
import { imitationGroups } from '../../server/method/stages/imitation-groups';

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

test('a resumed imitation starts at the first block not yet imitated, inside a group if need be', () => {
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'stage', 3)), ['3-5', '6-7']);
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'stage', 4)), ['4-5', '6-7']);
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'block', 7)), ['7-7']);
  assert.deepEqual(spans(imitationGroups(model('cnn', 8, [2, 5]), 'stage', 8)), []);
});
