// Which kinds of data each model family takes: the one table the experiment checks, their messages
// and the New Experiment flow's data choices derive from.
import type { ModelFamily } from '../protocol';
import type { DataKind } from '../data/types';

export const FAMILY_DATA_KINDS: Record<ModelFamily, readonly DataKind[]> = {
  // Flattens whatever it gets.
  mlp: ['image', 'tabular', 'sequence'],
  cnn: ['image'],
  resnet: ['image'],
  // Token sequences through a token embedding, images as a sequence of patches (ViT-style).
  transformer: ['sequence', 'image'],
};

/** How a family's needs read in a message: "images", "token sequences or images". */
export const DATA_KIND_NOUNS: Record<DataKind, string> = {
  image: 'images',
  tabular: 'tabular data',
  sequence: 'token sequences',
};

export function familyTakes(family: ModelFamily, kind: DataKind): boolean {
  return FAMILY_DATA_KINDS[family].includes(kind);
}

/** The families that take data of `kind`, in the table's order. */
export function familiesTaking(kind: DataKind): ModelFamily[] {
  return (Object.keys(FAMILY_DATA_KINDS) as ModelFamily[]).filter((family) => familyTakes(family, kind));
}
