// One process at a time per run folder: run.lock holds the owner's pid. A lock whose process is gone
// (killed, crashed) is stale and taken over; a live owner makes opening the run fail with a message.
//
// The lock is created whole (a temporary file with the pid, hard-linked to run.lock, which fails if
// run.lock exists), so nobody reads a half-written one. A stale lock is taken over by renaming it
// aside first: of two processes resuming the same killed run at once, only one can move a given file,
// and one that moved a live owner's fresh lock by mistake puts it back and gives way.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explainWriteError } from './write-errors';

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** The pid in a lock file; undefined when it is unreadable, empty or not a pid; null when it is gone. */
function ownerOf(file: string): number | undefined | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

const liveOther = (pid: number | undefined | null): pid is number => typeof pid === 'number' && pid !== process.pid && alive(pid);

/** Creates `file` holding our pid, whole, unless it exists (then false). */
function createLock(file: string): boolean {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, `${process.pid}\n`);
    try {
      fs.linkSync(temp, file);
      return true;
    } catch (err) {
      if (code(err) === 'EEXIST') return false;
      if (code(err) !== 'EPERM' && code(err) !== 'ENOTSUP' && code(err) !== 'ENOSYS') throw err;
    }
    // No hard links on this file system: exclusive create.
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (err) {
      if (code(err) === 'EEXIST') return false;
      throw err;
    }
  } catch (err) {
    throw explainWriteError(err, file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function inProgress(runDir: string, file: string, owner: number): Error {
  return new Error(`run ${path.basename(runDir)} is in progress in process ${owner}; stop it first (or remove ${file} if that process is not gowide)`);
}

export function acquireRunLock(runDir: string): () => void {
  const file = path.join(runDir, 'run.lock');
  if (held.has(file)) throw new Error(`run ${path.basename(runDir)} is already in progress in this process`);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createLock(file)) {
      held.add(file);
      return () => {
        held.delete(file);
        fs.rmSync(file, { force: true });
      };
    }
    const owner = ownerOf(file);
    if (owner === null) continue; // released meanwhile
    if (liveOther(owner)) throw inProgress(runDir, file, owner);
    // Stale: its process is gone. Move it aside, then check what was moved.
    const aside = `${file}.stale.${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch (err) {
      if (code(err) === 'ENOENT') continue; // another process took it over first
      throw explainWriteError(err, file);
    }
    const moved = ownerOf(aside);
    if (liveOther(moved)) {
      // Another process replaced the stale lock between our read and our rename: give it back.
      try {
        fs.linkSync(aside, file);
      } catch {
        // it already made a new one
      }
      fs.rmSync(aside, { force: true });
      throw inProgress(runDir, file, moved);
    }
    fs.rmSync(aside, { force: true });
  }
  throw new Error(`could not lock run folder ${runDir}: run.lock keeps changing; is another gowide process starting this run?`);
}
