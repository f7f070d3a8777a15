// buildNet: one entry point for every model family.
import { buildMlp } from './mlp';
import type { BlockNet, NetSpec } from './types';

export function buildNet(spec: NetSpec): BlockNet {
  switch (spec.family) {
    case 'mlp':
      return buildMlp(spec);
    default:
      throw new Error(`model family "${spec.family}" is not implemented yet`);
  }
}
