// buildNet: one entry point for every model family.
import { buildCnn } from './cnn';
import { buildMlp } from './mlp';
import { buildResnet } from './resnet';
import { buildTransformer } from './transformer';
import type { BlockNet, NetSpec } from './types';

export function buildNet(spec: NetSpec): BlockNet {
  switch (spec.family) {
    case 'mlp':
      return buildMlp(spec);
    case 'cnn':
      return buildCnn(spec);
    case 'resnet':
      return buildResnet(spec);
    case 'transformer':
      return buildTransformer(spec);
    default:
      throw new Error(`unknown model family "${(spec as { family: string }).family}" (use mlp, cnn, resnet or transformer)`);
  }
}
