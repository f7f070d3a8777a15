// The one feed of run data every view reads. Per run: a snapshot (summary, progress and every metric
// record so far, fetched once however many views follow the run), then live updates from the sidecar's
// notifications, de-duplicated here by seq. After a reconnect only the records after the last one
// delivered are fetched (afterSeq). It is also where run state and progress enter the extension: it
// keeps the RunTracker the explorer and the status bar read. No vscode import: unit-tested in Node.
import type { NotificationType, RequestType } from 'vscode-jsonrpc';
import {
  GetMetricsRequest,
  MetricsNotification,
  ProgressNotification,
  RunStateNotification,
  type MetricRecord,
  type MetricsParams,
  type PhaseName,
  type ProgressParams,
  type RunSummary,
  type ToWebviewMessage,
} from '../server/protocol';
import { runsFolderOf } from '../server/runs/names';
import { RunTracker } from './run-tracker';

/** The slice of the language client the feed needs (Ctx, or a connection in the tests). */
export interface RunFeedSource {
  sendRequest<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): { dispose(): void };
}

/** What a subscriber receives, in webview message shapes: a snapshot first, then metrics (new records
 *  only, in seq order), run and progress; another snapshot when the run's records were rewritten (a
 *  resume drops the records after its checkpoint); a notice when a fetch failed. */
export type RunFeedMessage = Extract<ToWebviewMessage, { type: 'snapshot' | 'metrics' | 'run' | 'progress' | 'notice' }>;
export type RunFeedListener = (message: RunFeedMessage) => void;

interface Subscriber {
  listener: RunFeedListener;
  /** The phases whose records this view draws; absent: all. */
  phases?: ReadonlySet<PhaseName>;
  /** Got its snapshot: live updates go to it from then on. */
  ready: boolean;
}

/** One followed run. Its records are kept while someone follows it, so a second view costs no request. */
interface Channel {
  run: RunSummary;
  /** Every record of the run in seq order, as the file has them (seq 0, 1, ...). */
  records: MetricRecord[];
  loaded: boolean;
  subscribers: Set<Subscriber>;
  /** Set while a request for the run's records is in flight; notifications meanwhile wait in `waiting`. */
  fetching: boolean;
  waiting: MetricRecord[];
}

export class RunFeed {
  readonly tracker: RunTracker;
  private readonly channels = new Map<string, Channel>();
  private readonly runListeners = new Set<(run: RunSummary) => void>();
  private readonly registrations: { dispose(): void }[];

  constructor(private readonly source: RunFeedSource, tracker = new RunTracker()) {
    this.tracker = tracker;
    this.registrations = [
      source.onNotification(MetricsNotification, (p) => this.receiveMetrics(p)),
      source.onNotification(RunStateNotification, (p) => this.receiveRunState(p.run)),
      source.onNotification(ProgressNotification, (p) => this.receiveProgress(p)),
    ];
  }

  /** Follows a run: `listener` gets its snapshot, then its updates, until the handle is disposed; with
   *  `phases`, only those phases' records (the imitation monitor draws nothing else). */
  subscribe(run: RunSummary, listener: RunFeedListener, options: { phases?: readonly PhaseName[] } = {}): { dispose(): void } {
    let channel = this.channels.get(run.runId);
    if (!channel) {
      channel = { run: this.tracker.summary(run.runId) ?? run, records: [], loaded: false, subscribers: new Set(), fetching: false, waiting: [] };
      this.channels.set(run.runId, channel);
    }
    const subscriber: Subscriber = { listener, ready: false, ...(options.phases ? { phases: new Set(options.phases) } : {}) };
    channel.subscribers.add(subscriber);
    if (channel.loaded && !channel.fetching) this.sendSnapshot(channel, subscriber);
    else if (!channel.fetching) void this.fetch(channel, 'snapshot');
    const followed = channel;
    return {
      dispose: () => {
        followed.subscribers.delete(subscriber);
        if (followed.subscribers.size === 0 && this.channels.get(followed.run.runId) === followed) this.channels.delete(followed.run.runId);
      },
    };
  }

  /** Every run state the sidecar reports, of any run (lists of runs follow it). */
  onRunState(listener: (run: RunSummary) => void): { dispose(): void } {
    this.runListeners.add(listener);
    return { dispose: () => this.runListeners.delete(listener) };
  }

  /** After the sidecar came back: each followed run fetches the records after the last one it has. */
  async resync(): Promise<void> {
    await Promise.all([...this.channels.values()].filter((c) => !c.fetching).map((c) => this.fetch(c, c.loaded ? 'newer' : 'snapshot')));
  }

  dispose(): void {
    for (const registration of this.registrations.splice(0)) registration.dispose();
    this.channels.clear();
    this.runListeners.clear();
  }

  private receiveMetrics(p: MetricsParams): void {
    const channel = this.channels.get(p.runId);
    if (!channel) return;
    if (channel.fetching) {
      channel.waiting.push(...p.records);
      return;
    }
    if (!channel.loaded) {
      // Its first fetch failed: this one reads the file, these records included.
      void this.fetch(channel, 'snapshot');
      return;
    }
    if ((p.records[0]?.seq ?? 0) > lastSeq(channel) + 1) {
      // Records went missing (a failed fetch, a lost connection): the file has them, these included.
      void this.fetch(channel, 'newer');
      return;
    }
    const fresh = this.take(channel, p.records);
    if (fresh === 'rewritten') void this.fetch(channel, 'snapshot');
    else this.sendMetrics(channel, fresh);
  }

  private receiveRunState(run: RunSummary): void {
    this.tracker.updateRun(run);
    const channel = this.channels.get(run.runId);
    if (channel) {
      channel.run = run;
      this.send(channel, { type: 'run', run });
    }
    for (const listener of [...this.runListeners]) listener(run);
  }

  private receiveProgress(progress: ProgressParams): void {
    this.tracker.updateProgress(progress);
    const channel = this.channels.get(progress.runId);
    if (channel) this.send(channel, { type: 'progress', progress });
  }

  /** Reads the run's records from the sidecar: all of them ('snapshot', sent to every subscriber), or
   *  those after the last held ('newer', sent as metrics). Notifications arriving meanwhile are merged after. */
  private async fetch(channel: Channel, what: 'snapshot' | 'newer'): Promise<void> {
    channel.fetching = true;
    const newer = what === 'newer' && channel.loaded;
    let records: MetricRecord[];
    try {
      records = await this.source.sendRequest(GetMetricsRequest, {
        runId: channel.run.runId,
        runsDir: runsFolderOf(channel.run.runDir),
        ...(newer ? { afterSeq: lastSeq(channel) } : {}),
      });
    } catch (error) {
      channel.fetching = false;
      channel.waiting = [];
      const message = `Could not read the records of run ${channel.run.runId}: ${error instanceof Error ? error.message : String(error)}`;
      for (const subscriber of [...channel.subscribers]) subscriber.listener({ type: 'notice', level: 'error', message });
      return;
    }
    channel.fetching = false;
    const waiting = channel.waiting.splice(0);
    if (!newer) {
      channel.records = records;
      channel.loaded = true;
    }
    const fresh = this.take(channel, newer ? [...records, ...waiting] : waiting);
    if (fresh === 'rewritten') return this.fetch(channel, 'snapshot');
    if (newer) this.sendMetrics(channel, fresh);
    for (const subscriber of [...channel.subscribers]) if (!newer || !subscriber.ready) this.sendSnapshot(channel, subscriber);
  }

  /** The records of `incoming` after the last held one, appended to the channel; 'rewritten' when one
   *  already held came back different (the run was resumed from a checkpoint and its file cut there). */
  private take(channel: Channel, incoming: readonly MetricRecord[]): MetricRecord[] | 'rewritten' {
    const fresh: MetricRecord[] = [];
    for (const record of incoming) {
      if (record.seq <= lastSeq(channel)) {
        if (heldRecord(channel, record.seq)?.time !== record.time) return 'rewritten';
        continue;
      }
      channel.records.push(record);
      fresh.push(record);
    }
    return fresh;
  }

  private sendMetrics(channel: Channel, records: MetricRecord[]): void {
    for (const subscriber of [...channel.subscribers]) {
      const wanted = subscriber.ready ? recordsFor(subscriber, records) : [];
      if (wanted.length > 0) subscriber.listener({ type: 'metrics', runId: channel.run.runId, records: wanted });
    }
  }

  private sendSnapshot(channel: Channel, subscriber: Subscriber): void {
    subscriber.ready = true;
    const progress = this.tracker.progressOf(channel.run.runId);
    subscriber.listener({ type: 'snapshot', run: channel.run, records: recordsFor(subscriber, channel.records), ...(progress ? { progress } : {}) });
  }

  /** To the subscribers that have their snapshot (the others get this in it). */
  private send(channel: Channel, message: RunFeedMessage): void {
    for (const subscriber of [...channel.subscribers]) if (subscriber.ready) subscriber.listener(message);
  }
}

/** A copy: the channel's array grows after it was handed out. */
function recordsFor(subscriber: Subscriber, records: readonly MetricRecord[]): MetricRecord[] {
  const phases = subscriber.phases;
  return phases ? records.filter((r) => phases.has(r.phase)) : [...records];
}

function lastSeq(channel: Channel): number {
  return channel.records[channel.records.length - 1]?.seq ?? -1;
}

function heldRecord(channel: Channel, seq: number): MetricRecord | undefined {
  const first = channel.records[0]?.seq ?? 0;
  return channel.records[seq - first];
}
