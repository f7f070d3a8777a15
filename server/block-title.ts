// How the UI names an imitated block (no imports: the extension and the webviews both use it).

/** 1-based: "Block 3", or "Blocks 1-3" for blocks that imitated together as one group. */
export function blockTitle(block: { index: number; from?: number }): string {
  return block.from !== undefined && block.from < block.index ? `Blocks ${block.from + 1}-${block.index + 1}` : `Block ${block.index + 1}`;
}
