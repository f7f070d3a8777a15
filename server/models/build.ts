// buildNet: one entry point for every model family.
import { buildCnn } from './cnn';
import { buildMlp } from './mlp';
import { buildResnet } from './resnet';
import type { BlockNet, NetSpec } from './types';

export function buildNet(spec: NetSpec): BlockNet {
  switch (spec.family) {
    case 'mlp':
      return buildMlp(spec);
    case 'cnn':
      return buildCnn(spec);
    case 'resnet':
      return buildResnet(spec);
    default:
      throw new Error(`model family "${spec.family}" is not implemented yet`);
  }
}
