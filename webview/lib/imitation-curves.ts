// The monitor's imitation loss curves, per block and seed, grown by each metrics message alone, so a
// message costs what it carries rather than what the run has logged (16 blocks x 100k steps took
// seconds a frame when every render rebuilt the curves from all records). What is drawn and what
// the webview saves are decimated: a plot is a few thousand pixels wide.
import type { MetricRecord } from '../../server/protocol';
import type { LossPoint } from './convergence';
import { isTrainingRecord } from './runs';

/** What the webview saves: decimated curves and the last record they include. */
export interface SavedCurves {
  upToSeq: number;
  curves: { block: number; seed: number; points: LossPoint[] }[];
}

/** Buckets per decimated curve; each keeps its lowest and highest loss. */
export const PLOT_BUCKETS = 1000;

const isImitationStep = (r: MetricRecord): boolean => r.phase === 'imitate' && r.block !== undefined && isTrainingRecord(r);

export class ImitationCurves {
  private readonly byBlock = new Map<number, Map<number, LossPoint[]>>();
  private readonly seen = new Set<number>();
  private readonly changed = new Set<number>();
  private readonly highestBlockBySeed = new Map<number, number>();
  private readonly decimated = new Map<number, Map<number, LossPoint[]>>();
  private upToSeq = -1;
  /** Records up to this seq came with a saved state; a host replaying them adds nothing. */
  private restoredUpTo = -1;
  private lastBlockSeen: number | undefined;

  constructor(saved?: SavedCurves) {
    if (!saved) return;
    for (const { block, seed, points } of saved.curves) {
      this.curve(block, seed).push(...points);
      this.noteBlock(block, seed);
    }
    this.restoredUpTo = this.upToSeq = saved.upToSeq;
  }

  /** Adds the imitation records not seen before. */
  add(records: readonly MetricRecord[]): void {
    for (const r of records) {
      if (r.seq <= this.restoredUpTo || this.seen.has(r.seq)) continue;
      this.seen.add(r.seq);
      this.upToSeq = Math.max(this.upToSeq, r.seq);
      if (!isImitationStep(r)) continue;
      const points = this.curve(r.block!, r.seed);
      const point = { step: r.step, loss: r.imitationLoss ?? r.loss };
      const last = points[points.length - 1];
      points.push(point);
      if (last && last.step > point.step) points.sort((a, b) => a.step - b.step);
      this.noteBlock(r.block!, r.seed);
      this.lastBlockSeen = r.block;
    }
  }

  /** Curves of one block by seed, in step order (full resolution). */
  block(index: number): Map<number, LossPoint[]> {
    return this.byBlock.get(index) ?? new Map();
  }

  /** Curves of one block by seed, decimated for drawing (cached until the block changes). */
  drawn(index: number): Map<number, LossPoint[]> {
    let drawn = this.decimated.get(index);
    if (!drawn) {
      drawn = new Map([...this.block(index)].map(([seed, points]) => [seed, decimate(points, PLOT_BUCKETS)]));
      this.decimated.set(index, drawn);
    }
    return drawn;
  }

  /** One more than the highest block with a record. */
  blockCount(): number {
    return Math.max(0, ...[...this.byBlock.keys()].map((b) => b + 1));
  }

  /** Whether a later block has started for this seed (so this one is finished). */
  laterBlockStarted(block: number, seed: number): boolean {
    return (this.highestBlockBySeed.get(seed) ?? -1) > block;
  }

  /** The block of the newest record. */
  lastBlock(): number | undefined {
    return this.lastBlockSeen;
  }

  /** Blocks whose curves changed since the last call. */
  takeChanged(): Set<number> {
    const changed = new Set(this.changed);
    this.changed.clear();
    return changed;
  }

  save(): SavedCurves {
    const curves: SavedCurves['curves'] = [];
    for (const block of this.byBlock.keys()) for (const [seed, points] of this.drawn(block)) curves.push({ block, seed, points });
    return { upToSeq: this.upToSeq, curves };
  }

  private curve(block: number, seed: number): LossPoint[] {
    const bySeed = this.byBlock.get(block) ?? new Map<number, LossPoint[]>();
    this.byBlock.set(block, bySeed);
    const points = bySeed.get(seed) ?? [];
    bySeed.set(seed, points);
    return points;
  }

  private noteBlock(block: number, seed: number): void {
    this.changed.add(block);
    this.decimated.delete(block);
    this.highestBlockBySeed.set(seed, Math.max(block, this.highestBlockBySeed.get(seed) ?? -1));
  }
}

/**
 * At most 2 x `buckets` points: the curve cut into equal runs of points, each kept as its lowest and
 * highest loss in step order, so spikes and the envelope survive. A non-finite loss is always kept
 * (the plot shows the gap; the convergence rule reads it as divergence).
 */
export function decimate(points: readonly LossPoint[], buckets: number): LossPoint[] {
  if (points.length <= 2 * buckets) return points.slice();
  const out: LossPoint[] = [];
  const size = points.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const bucket = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    const bad = bucket.find((p) => !Number.isFinite(p.loss));
    if (bad) {
      out.push(bad);
      continue;
    }
    let low = bucket[0];
    let high = bucket[0];
    for (const p of bucket) {
      if (p.loss < low.loss) low = p;
      if (p.loss > high.loss) high = p;
    }
    if (low === high) out.push(low);
    else out.push(...(low.step < high.step ? [low, high] : [high, low]));
  }
  return out;
}
