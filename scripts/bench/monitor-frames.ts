// The imitation monitor under a long run (issue 6): 16 blocks x 100k imitation records streamed into
// the real webview bundle in headless Chromium, as the extension host posts them (batches of records
// per `metrics` message), and the time from each message to the next painted frame.
import type { RunSummary } from '../../server/protocol';
import { launchChromium, openWebview, skipReason } from '../../test/webview/harness';

export interface MonitorFrames {
  blocks: number;
  pointsPerBlock: number;
  messages: number;
  recordsPerMessage: number;
  /** Milliseconds from a message's arrival in the page to the second animation frame after it (handled and drawn). */
  medianFrameMs: number;
  p95FrameMs: number;
  maxFrameMs: number;
  /** The whole stream, messages and renders. */
  totalSeconds: number;
  /** A restore: the page reopened from the saved state with every record in it. */
  restoreMs: number;
  pointsDrawn: number[];
}

const RUN_ID = 'bench-monitor';

function runSummary(blocks: number): RunSummary {
  return {
    runId: RUN_ID,
    runDir: '/tmp/bench-monitor',
    experiment: 'bench',
    experimentPath: '/tmp/bench.gowide.json',
    state: 'running',
    startedAt: new Date().toISOString(),
    arms: {},
    stages: [{ stage: 'imitate', state: 'running', blocks: Array.from({ length: blocks }, (_, index) => ({ index, state: 'running' as const })) }],
  };
}

/**
 * Posts block b's records from step `from` (a noisy decaying normalised MSE, as imitation logs it) from
 * inside the page and returns the milliseconds to the second animation frame after it: the webview's
 * own cost. Built in the page because Playwright's transport of 5,000 records (~0.3 s) would swamp it;
 * a string, not a function, so tsx adds no helper the page lacks.
 */
function postInPage(block: number, from: number, count: number, firstSeq: number): string {
  return `(async () => {
    const records = [];
    for (let i = 0; i < ${count}; i++) {
      const step = ${from} + i;
      const loss = 0.05 + 2 * Math.exp(-step / 20000) * (1 + 0.1 * Math.sin(step * 0.7 + ${block}));
      records.push({ runId: '${RUN_ID}', seq: ${firstSeq} + i, seed: 1, phase: 'imitate', block: ${block}, step, loss, imitationLoss: loss, split: 'train', time: 0 });
    }
    const t0 = performance.now();
    window.postMessage({ type: 'metrics', runId: '${RUN_ID}', records }, '*');
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    return performance.now() - t0;
  })()`;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

export async function monitorFrames(blocks = 16, pointsPerBlock = 100_000, recordsPerMessage = 5_000): Promise<MonitorFrames | { skipped: string }> {
  const skip = skipReason();
  if (skip) return { skipped: skip };
  const browser = await launchChromium();
  try {
    const view = await openWebview(browser, 'monitor', { width: 1200, height: 900 });
    await view.post({ type: 'run', run: runSummary(blocks) });
    let seq = 0;
    const frames: number[] = [];
    const started = performance.now();
    // Blocks imitate one after another, so the stream fills block 0, then block 1, ...
    for (let block = 0; block < blocks; block++) {
      for (let from = 0; from < pointsPerBlock; from += recordsPerMessage) {
        const count = Math.min(recordsPerMessage, pointsPerBlock - from);
        frames.push(await view.page.evaluate<number>(postInPage(block, from, count, seq)));
        seq += count;
      }
    }
    const totalSeconds = (performance.now() - started) / 1000;
    const pointsDrawn = await view.page.$$eval('.block', (cards) => cards.map((c) => Number((c.getAttribute('data-points') ?? '0').split(',')[0])));
    const saved = await view.savedState();
    await view.page.close();
    const t0 = performance.now();
    const restored = await openWebview(browser, 'monitor', { width: 1200, height: 900, state: saved });
    await restored.page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const restoreMs = performance.now() - t0;
    await restored.page.close();
    const sorted = [...frames].sort((a, b) => a - b);
    return {
      blocks,
      pointsPerBlock,
      messages: frames.length,
      recordsPerMessage,
      medianFrameMs: percentile(sorted, 0.5),
      p95FrameMs: percentile(sorted, 0.95),
      maxFrameMs: sorted[sorted.length - 1],
      totalSeconds,
      restoreMs,
      pointsDrawn,
    };
  } finally {
    await browser.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [blocks, points] = process.argv.slice(2).map(Number);
  monitorFrames(blocks || undefined, points || undefined).then((r) => console.log(JSON.stringify(r, null, 2)));
}
