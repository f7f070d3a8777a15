// How the transformer cuts an image [height, width, channels] into square patches, one token each.
// Pure arithmetic (no TF.js), shared by the model, the experiment checks and the size estimate.

export interface PatchGrid {
  rows: number;
  columns: number;
  /** rows x columns: the sequence length the encoder sees. */
  tokens: number;
  /** patchSize^2 x channels: the values of one patch, mapped to the stream width by the patch embedding. */
  patchValues: number;
}

/** Sides that cut both an image's height and width into whole patches, smallest first. */
export function patchSizesFor(height: number, width: number): number[] {
  const sizes: number[] = [];
  for (let p = 1; p <= Math.min(height, width); p++) if (height % p === 0 && width % p === 0) sizes.push(p);
  return sizes;
}

/** Why `patchSize` cannot cut an image of `exampleShape` ([height, width, channels]), with the fix; undefined when it can. */
export function patchSizeProblem(exampleShape: readonly number[], patchSize: number): { message: string; fix: string } | undefined {
  const [height, width] = exampleShape;
  if (Number.isInteger(patchSize) && patchSize >= 1 && height % patchSize === 0 && width % patchSize === 0) return undefined;
  const sizes = patchSizesFor(height, width);
  return {
    message: `model.patchSize ${patchSize} does not cut the ${height}x${width} images into whole patches`,
    fix: `use a patch size that divides ${height === width ? height : `both ${height} and ${width}`}: ${sizes.join(', ')}`,
  };
}

/** The patch grid of an image; throws the patchSizeProblem message when patchSize does not divide it. */
export function patchGrid(exampleShape: readonly number[], patchSize: number): PatchGrid {
  const problem = patchSizeProblem(exampleShape, patchSize);
  if (problem) throw new Error(`${problem.message}; ${problem.fix}`);
  const [height, width, channels] = exampleShape;
  const rows = height / patchSize;
  const columns = width / patchSize;
  return { rows, columns, tokens: rows * columns, patchValues: patchSize * patchSize * channels };
}
