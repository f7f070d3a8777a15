// The extension's run feed against the real sidecar process: a run recorded by the sidecar in three
// stages, followed by two views through a snapshot, live notifications, a stage missed while no sidecar
// was connected (fetched after the restart with afterSeq) and a stage streamed by the new sidecar; each
// view sees every record exactly once, in order, for one GetMetrics per run plus the delta.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NotificationType, RequestParam, RequestType } from 'vscode-jsonrpc';
import { RunFeed, type RunFeedMessage, type RunFeedSource } from '../../extension/run-feed';
import {
  GetMetricsRequest,
  MetricsNotification,
  ProgressNotification,
  RunStateNotification,
  StartStageRequest,
  StopRequest,
  type GetMetricsParams,
  type MetricRecord,
} from '../../server/protocol';
import { startBuiltSidecar, type SidecarUnderTest } from '../sidecar/sidecar-process';

const FEED_NOTIFICATIONS = [MetricsNotification, RunStateNotification, ProgressNotification] as NotificationType<unknown>[];

/** The feed's side of the language client: whichever real sidecar is connected now (Ctx keeps its
 *  handlers across restarts the same way), with the GetMetrics requests it sent. */
class ReconnectingClient implements RunFeedSource {
  readonly getMetrics: GetMetricsParams[] = [];
  private current: SidecarUnderTest | undefined;
  private readonly handlers = new Map<string, Set<(params: unknown) => void>>();

  async connect(sidecar: SidecarUnderTest): Promise<void> {
    for (const type of FEED_NOTIFICATIONS) {
      sidecar.connection.onNotification(type, (params) => {
        if (this.current !== sidecar) return;
        for (const handler of this.handlers.get(type.method) ?? []) handler(params);
      });
    }
    await sidecar.initialize();
    this.current = sidecar;
  }

  /** What a crash looks like from the extension: nothing arrives, requests fail. */
  disconnect(): void {
    this.current = undefined;
  }

  /** Back to a sidecar connected before, its notifications in between lost. */
  reattach(sidecar: SidecarUnderTest): void {
    this.current = sidecar;
  }

  sendRequest<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
    if (type.method === GetMetricsRequest.method) this.getMetrics.push(params as GetMetricsParams);
    if (!this.current) return Promise.reject(new Error('the sidecar is not running'));
    return this.current.connection.sendRequest(type, params as RequestParam<P>);
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): { dispose(): void } {
    const set = this.handlers.get(type.method) ?? new Set();
    this.handlers.set(type.method, set);
    const untyped = handler as (params: unknown) => void;
    set.add(untyped);
    return { dispose: () => set.delete(untyped) };
  }
}

/** What one view received, and the records it shows: a snapshot replaces them, metrics append. */
class View {
  readonly messages: RunFeedMessage[] = [];
  readonly listener = (message: RunFeedMessage): void => void this.messages.push(message);
  count(type: RunFeedMessage['type']): number {
    return this.messages.filter((m) => m.type === type).length;
  }
  records(): MetricRecord[] {
    let shown: MetricRecord[] = [];
    for (const m of this.messages) {
      if (m.type === 'snapshot') shown = [...m.records];
      if (m.type === 'metrics') shown.push(...m.records);
    }
    return shown;
  }
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('run feed over the real sidecar', () => {
  let dir: string;
  const sidecars: SidecarUnderTest[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gowide-run-feed-'));
  });
  after(async () => {
    for (const sidecar of sidecars) await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeExperiment = (name: string, wideEpochs = 10): string => {
    const experimentPath = join(dir, `${name}.gowide.json`);
    writeFileSync(experimentPath, JSON.stringify({
      name,
      data: { format: 'shapes', trainLimit: 400, testLimit: 100, validationSplit: 0.2 },
      model: { family: 'mlp', depth: 3, width: 8 },
      widen: { factor: 2 },
      // Long enough for a few batches of notifications (one per 200 ms) while the views join.
      wide: { epochs: wideEpochs, batchSize: 8 },
      imitate: { epochsPerLayer: 1, batchSize: 16 },
      finetune: { epochs: 2 },
      seeds: [1],
      // What is learnt does not matter here, only what is recorded.
      minWideAccuracy: 0,
    }));
    return experimentPath;
  };

  const runsDir = (): string => join(dir, 'runs');

  /** A sidecar started and connected, and a feed over it. */
  const connectedFeed = async () => {
    const client = new ReconnectingClient();
    const sidecar = startBuiltSidecar();
    sidecars.push(sidecar);
    await client.connect(sidecar);
    return { client, sidecar, feed: new RunFeed(client) };
  };

  /** Starts the wide stage (not waited for) and a view that follows it from the run's first state. */
  const followNewRun = async (sidecar: SidecarUnderTest, feed: RunFeed, experimentPath: string) => {
    const { runId } = await sidecar.connection.sendRequest(StartStageRequest, { experimentPath, stage: 'wide', runsDir: runsDir() });
    await until('the run to start', () => feed.tracker.summary(runId) !== undefined);
    const view = new View();
    return { runId, view, follow: feed.subscribe(feed.tracker.summary(runId)!, view.listener) };
  };

  test('two views see every record once, in order, across a snapshot, live updates and a restart', async () => {
    const experimentPath = writeExperiment('feed');
    const { client, sidecar: first, feed } = await connectedFeed();
    const stage = async (sidecar: SidecarUnderTest, name: 'wide' | 'imitate' | 'finetune', runId?: string) => {
      const { summary } = await sidecar.connection.sendRequest(StartStageRequest, { experimentPath, stage: name, runsDir: runsDir(), runId, wait: true });
      assert.equal(summary?.state, 'done', summary?.error);
      return summary!;
    };
    const stored = (sidecar: SidecarUnderTest, runId: string) => sidecar.connection.sendRequest(GetMetricsRequest, { runId, runsDir: runsDir() });

    // Stage 1, live: A follows the run from its start, B joins while it trains.
    const wide = stage(first, 'wide');
    await until('the run to start', () => feed.tracker.known().length > 0);
    const run = feed.tracker.known()[0]!;
    const a = new View();
    const b = new View();
    const followA = feed.subscribe(run, a.listener);
    // The imitation monitor's kind of view: imitation records only.
    const monitor = new View();
    const followMonitor = feed.subscribe(run, monitor.listener, { phases: ['imitate'] });
    await until('view A: its snapshot and a live batch', () => a.count('snapshot') === 1 && a.count('metrics') >= 1);
    const followB = feed.subscribe(run, b.listener);
    assert.equal(b.count('snapshot'), 1, 'a second view gets the snapshot the feed holds, at once');
    await until('view B: a live batch', () => b.count('metrics') >= 1);
    await wide;
    const afterWide = (await stored(first, run.runId)).length;
    await until('the wide stage streamed', () => a.records().length === afterWide && b.records().length === afterWide, 10_000);
    assert.equal(client.getMetrics.length, 1, 'two views of one run: one GetMetrics');

    // Stage 2 while the extension has no sidecar: nothing arrives.
    client.disconnect();
    await stage(first, 'imitate', run.runId);
    const afterImitate = (await stored(first, run.runId)).length;
    assert.ok(afterImitate > afterWide, 'imitation recorded');
    assert.equal(a.records().length, afterWide, 'nothing reached the views while disconnected');

    // A new sidecar: the feed fetches only what it missed.
    const second = startBuiltSidecar();
    sidecars.push(second);
    await client.connect(second);
    await feed.resync();
    assert.equal(client.getMetrics.length, 2);
    assert.equal(client.getMetrics[1]!.afterSeq, afterWide - 1, 'after the restart: only the records after the last one held');
    assert.equal(a.records().length, afterImitate, 'the delta brought what was missed');

    // Stage 3, live from the new sidecar.
    await stage(second, 'finetune', run.runId);
    const all = await stored(second, run.runId);
    assert.ok(all.length > afterImitate, 'fine-tuning recorded');
    await until('the last record streamed', () => a.records().length >= all.length && b.records().length >= all.length, 10_000);

    for (const [name, view] of [['A', a], ['B', b]] as const) {
      assert.equal(view.count('snapshot'), 1, `${name}: one snapshot`);
      assert.deepEqual(view.records().map((r) => r.seq), all.map((r) => r.seq), `${name}: every record once, in seq order`);
      assert.deepEqual(view.records(), all, `${name}: the records as stored`);
      assert.equal(view.messages[0]!.type, 'snapshot', `${name}: the snapshot first`);
      assert.ok(view.count('run') > 0 && view.count('progress') > 0, `${name}: run state and progress followed`);
      assert.equal(view.count('notice'), 0, `${name}: no failed fetch`);
    }
    assert.ok(b.messages.some((m) => m.type === 'run' && m.run.state === 'done' && m.run.stages.some((s) => s.stage === 'finetune')), 'B saw the last stage end');
    const imitation = all.filter((r) => r.phase === 'imitate');
    assert.ok(imitation.length > 0);
    assert.deepEqual(monitor.records(), imitation, 'a view of one phase: its records, once, in order');
    assert.ok(monitor.messages.every((m) => m.type !== 'metrics' || m.records.length > 0), 'and no empty batches');

    const c = new View();
    const followC = feed.subscribe(run, c.listener);
    assert.deepEqual(c.records(), all, 'a third view: the snapshot held by the feed');
    assert.equal(client.getMetrics.length, 2, 'one GetMetrics for the run, plus the delta after the restart');

    for (const follow of [followA, followB, followC, followMonitor]) follow.dispose();
    feed.subscribe(run, new View().listener).dispose();
    assert.equal(client.getMetrics.length, 3, 'nobody followed the run in between: its records were let go and read again');
    feed.dispose();
  });

  test('a run resumed from its checkpoint, which drops the records after it, is sent again as a snapshot', async () => {
    // Long enough that the stop lands while the wide net trains (the training loop got faster).
    const experimentPath = writeExperiment('resumed', 300);
    const { client, sidecar, feed } = await connectedFeed();
    const { runId, view, follow } = await followNewRun(sidecar, feed, experimentPath);
    await until('two live batches', () => view.count('metrics') >= 2);
    await sidecar.connection.sendRequest(StopRequest, { runId });
    await until('the run to stop', () => view.messages.some((m) => m.type === 'run' && m.run.state === 'stopped'));
    const stopped = view.records().length;

    const resumed = await sidecar.connection.sendRequest(StartStageRequest, { experimentPath, stage: 'wide', runsDir: runsDir(), resume: true, wait: true });
    assert.equal(resumed.runId, runId);
    assert.equal(resumed.summary?.state, 'done', resumed.summary?.error);
    const dropped = Number(/(\d+) metric records after it dropped/.exec(sidecar.logs.map((l) => l.message).join('\n'))?.[1]);
    assert.ok(dropped > 0, `the resume dropped records (${dropped} of ${stopped})`);
    const all = await sidecar.connection.sendRequest(GetMetricsRequest, { runId, runsDir: runsDir() });
    await until('the last record streamed', () => view.records().length >= all.length && view.count('snapshot') === 2, 10_000);
    assert.deepEqual(view.records(), all, 'the view shows the records as stored, none of the dropped ones');
    assert.equal(client.getMetrics.length, 2, 'the snapshot, and one more when the records were rewritten');
    follow.dispose();
    feed.dispose();
  });

  test('records lost in transit are fetched when the next batch shows the gap', async () => {
    const experimentPath = writeExperiment('gap', 200);
    const { client, sidecar, feed } = await connectedFeed();
    const { runId, view, follow } = await followNewRun(sidecar, feed, experimentPath);
    const stored = () => sidecar.connection.sendRequest(GetMetricsRequest, { runId, runsDir: runsDir() });
    await until('a live batch', () => view.count('metrics') >= 1);
    client.disconnect();
    const held = view.records().length;
    await until('records written while nothing arrives', async () => (await stored()).length > held + 20);
    // The sidecar sends metrics at most every 200 ms: stay away long enough that a batch is really lost.
    await new Promise((resolve) => setTimeout(resolve, 600));
    client.reattach(sidecar);
    await until('the run to end', () => view.messages.some((m) => m.type === 'run' && m.run.state === 'done'));
    const all = await stored();
    await until('the last record', () => view.records().length >= all.length, 10_000);
    assert.deepEqual(view.records(), all, 'every record once, in order, the lost ones included');
    assert.equal(view.count('snapshot'), 1);
    assert.equal(client.getMetrics.length, 2, 'the snapshot and one fetch of what was lost');
    assert.equal(client.getMetrics[1]!.afterSeq, held - 1, 'from the last record held');
    follow.dispose();
    feed.dispose();
  });
});
