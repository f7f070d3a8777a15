// Where gowide is installed: the folder holding its package.json (the CLI is bundled into dist/, tests
// run from the sources), so the CLI finds its examples and a launcher the CLI its jobs run.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function packageRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      try {
        if ((JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string }).name === 'gowide') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find gowide's package.json above ${from}`);
    dir = parent;
  }
}
