// metrics.jsonl: one MetricRecord per line, append-only, seq strictly increasing without gaps. The log
// keeps a running sha256 of the file's bytes; each commit point of the journal records it, so a resume
// can tell whether the records before that point are still the ones written (see resume-point.ts).
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import type { MetricRecord } from '../protocol';
import { writeAll, writeFileAtomic } from './atomic';
import { explainWriteError, explainingWriteErrors } from './write-errors';

export type NewMetric = Omit<MetricRecord, 'runId' | 'seq' | 'time'> & { time?: number };

export class MetricsLog {
  private nextSeq: number;
  private fd: number;
  /** Bytes of whole records in the file: a failed append is cut back to this. */
  private size: number;
  /** sha256 of the file's first `size` bytes, updated on every append. */
  private readonly hash: Hash;

  constructor(
    private readonly file: string,
    private readonly runId: string,
  ) {
    if (fs.existsSync(file)) explainingWriteErrors(file, () => dropTornLine(file));
    const existing = fs.existsSync(file) ? readMetricsFile(file) : [];
    this.nextSeq = existing.length > 0 ? existing[existing.length - 1].seq + 1 : 0;
    this.fd = explainingWriteErrors(file, () => fs.openSync(file, 'a'));
    this.size = fs.fstatSync(this.fd).size;
    this.hash = createHash('sha256').update(fs.readFileSync(file).subarray(0, this.size));
  }

  /** Length and sha256 of the records written so far (recorded at each commit point). */
  digest(): { metricsBytes: number; metricsSha256: string } {
    return { metricsBytes: this.size, metricsSha256: this.hash.copy().digest('hex') };
  }

  /** The seq the next record gets: also the count of records in the file. */
  get count(): number {
    return this.nextSeq;
  }

  /** Numbers, stamps and appends records; returns them as written. A failed write (disk full) is cut
   *  back so the file keeps only whole records, and throws naming the file. */
  append(records: NewMetric[]): MetricRecord[] {
    if (records.length === 0) return [];
    const now = Date.now();
    const written = records.map((r, i) => ({ ...r, runId: this.runId, seq: this.nextSeq + i, time: r.time ?? now }) as MetricRecord);
    const bytes = Buffer.from(written.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
    try {
      writeAll(this.fd, bytes);
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, this.size);
      } catch {
        // readers and the next open skip a torn last line anyway
      }
      throw explainWriteError(err, this.file);
    }
    this.size += bytes.length;
    this.hash.update(bytes);
    this.nextSeq += written.length;
    return written;
  }

  /** Makes appended lines durable (called at checkpoints and at the end). */
  sync(): void {
    explainingWriteErrors(this.file, () => fs.fsyncSync(this.fd));
  }

  close(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      try {
        explainingWriteErrors(this.file, () => fs.fsyncSync(fd));
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

/** Parses metrics.jsonl, ignoring a torn last line left by a crash mid-write. */
export function readMetricsFile(file: string, afterSeq = -1): MetricRecord[] {
  if (!fs.existsSync(file)) return [];
  const out: MetricRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line) as MetricRecord;
      if (record.seq > afterSeq) out.push(record);
    } catch {
      // a torn line from an interrupted write
    }
  }
  return out;
}

/** A crash mid-write can leave a last line without its newline: cut it so appends start clean. */
function dropTornLine(file: string): void {
  const text = fs.readFileSync(file);
  if (text.length === 0 || text[text.length - 1] === 0x0a) return;
  fs.truncateSync(file, text.lastIndexOf(0x0a) + 1);
}

/** Keeps records seq 0..keep-1 (a continued run recomputes what came after its commit point) and
 *  drops a torn last line; rewrites the file atomically. Returns how many records were dropped. */
export function truncateMetricsFile(file: string, keep: number): number {
  if (!fs.existsSync(file)) return 0;
  const records = readMetricsFile(file);
  const kept = records.filter((r) => r.seq < keep);
  kept.forEach((r, i) => {
    if (r.seq !== i) throw new Error(`${file}: record ${i} has seq ${r.seq}; the metrics log has a gap`);
  });
  const text = kept.map((r) => JSON.stringify(r) + '\n').join('');
  if (kept.length !== records.length || fs.statSync(file).size !== Buffer.byteLength(text)) writeFileAtomic(file, text);
  return records.length - kept.length;
}
