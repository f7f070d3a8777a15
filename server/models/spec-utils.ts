// Width arithmetic and spec checks shared by the families.
import type { NetSpec } from './types';

export function checkSpec(spec: NetSpec): void {
  const { model, factors } = spec;
  if (!Number.isInteger(model.depth) || model.depth < 1) throw new Error(`model.depth must be a positive integer, got ${model.depth}`);
  if (!(model.width >= 1)) throw new Error(`model.width must be >= 1, got ${model.width}`);
  if (factors.length !== model.depth) {
    throw new Error(`NetSpec.factors has ${factors.length} entries, expected one per block (${model.depth})`);
  }
  factors.forEach((f, i) => {
    if (!(f > 0)) throw new Error(`NetSpec.factors[${i}] must be positive, got ${f}`);
  });
  if (!(spec.data.numClasses >= 2)) throw new Error(`data.numClasses must be >= 2, got ${spec.data.numClasses}`);
}

/** round(base * factor), at least 1. */
export function scaled(base: number, factor: number): number {
  return Math.max(1, Math.round(base * factor));
}

/** Width of block i's output: widened in mode "all", the thin interface width in mode "inside". */
export function interfaceWidth(spec: NetSpec, block: number): number {
  return spec.mode === 'all' ? scaled(spec.model.width, spec.factors[block]) : spec.model.width;
}
