// Which thin blocks imitate together. "block": every block matches its own wide block's output (the
// plain recipe). "stage": the blocks that compute at one resolution train together and only the
// stage's last output is matched (the paper's ResNet recipe imitates stage outputs); the blocks inside
// a stage are free to find their own intermediate features. Measured on the plain CNN of the study
// (docs/EVIDENCE.md): a 16-channel block cannot reproduce a 64-channel block's map, and matching
// every block made those errors compound. A whole number k: groups of k consecutive blocks, bottom
// first, whatever the resolution (a middle way for deep nets of one stage, e.g. a 30-layer MLP).
import type { ImitationGrouping, ModelConfig } from '../../experiment/types';

export interface ImitationGroup {
  /** First and last block (inclusive); the last block's output is matched. */
  first: number;
  last: number;
}

/** Blocks after which the resolution changes (and the last block): where a stage ends. A plain CNN
 *  pools at the end of the blocks in downsampleAt; a residual block in downsampleAt strides at its
 *  start, so its stage begins there. Families without downsampling are one stage. */
function stageEnds(model: ModelConfig): number[] {
  const last = model.depth - 1;
  const ends =
    model.family === 'cnn'
      ? model.downsampleAt
      : model.family === 'resnet'
        ? model.downsampleAt.map((i) => i - 1)
        : [];
  return [...new Set([...ends.filter((i) => i >= 0 && i < last), last])].sort((a, b) => a - b);
}

/** Every k-th block and the last one: where groups of k consecutive blocks end. */
function everyKth(depth: number, k: number): number[] {
  const ends = Array.from({ length: Math.ceil(depth / k) }, (_, g) => (g + 1) * k - 1);
  ends[ends.length - 1] = depth - 1;
  return ends;
}

/** The groups of blocks from `startBlock` on, bottom first. A resumed imitation may start inside a
 *  group (a checkpoint written under another grouping): that group then starts at startBlock. */
export function imitationGroups(model: ModelConfig, grouping: ImitationGrouping, startBlock = 0): ImitationGroup[] {
  const ends = grouping === 'stage' ? stageEnds(model) : everyKth(model.depth, grouping === 'block' ? 1 : grouping);
  const groups: ImitationGroup[] = [];
  let first = 0;
  for (const last of ends) {
    if (last >= startBlock) groups.push({ first: Math.max(first, startBlock), last });
    first = last + 1;
  }
  return groups;
}

/** How the blocks imitate, for a sentence: "block by block", "stage by stage", "in groups of 3 blocks". */
export function groupingPhrase(grouping: ImitationGrouping): string {
  if (grouping === 'stage') return 'stage by stage';
  if (grouping === 'block' || grouping === 1) return 'block by block';
  return `in groups of ${grouping} blocks`;
}
