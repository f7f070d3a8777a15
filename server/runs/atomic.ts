// Crash-safe file replacement: write a temporary file beside the target, fsync it, rename it over
// the target, then fsync the folder so the rename itself is durable. A failed write (disk full, no
// permission) removes its temporary file and leaves the target as it was.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explainWriteError } from './write-errors';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = fs.openSync(temp, 'w');
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (err) {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // the folder itself is unreachable: nothing was created in it
    }
    throw explainWriteError(err, file);
  }
  syncFolder(path.dirname(file));
}

/** Writes every byte of `data` at the file position, or throws: fs.writeSync may write fewer bytes
 *  than asked when the disk fills up, and says so only in its return value. */
export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    const n = fs.writeSync(fd, data, done, data.length - done);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    done += n;
  }
}

export function syncFolder(folder: string): void {
  try {
    const fd = fs.openSync(folder, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot open folders; the rename is still atomic there.
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
