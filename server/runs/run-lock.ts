// One process at a time per run folder: run.lock holds the owner's pid. A lock whose process is gone
// (killed, crashed) is stale and taken over; a live owner makes opening the run fail with a message.
import * as fs from 'node:fs';
import * as path from 'node:path';

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireRunLock(runDir: string): () => void {
  const file = path.join(runDir, 'run.lock');
  if (held.has(file)) throw new Error(`run ${path.basename(runDir)} is already in progress in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.add(file);
      return () => {
        held.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(`run ${path.basename(runDir)} is in progress in process ${owner}; stop it first (or remove ${file} if that process is not gowide)`);
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock run folder ${runDir}`);
}
