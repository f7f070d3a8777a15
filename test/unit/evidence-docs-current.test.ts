// The committed documents say what the kept results say: every generated part of docs/EVIDENCE.md and
// README.md is what the evidence scripts would write from docs/evidence/*.json now, and the benchmark
// tables are what `npm run bench:tables` would write from docs/bench/*.json. A re-run that kept new
// JSON without regenerating every part that reads it (or a hand edit inside the markers) fails here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { generatedNames, replaceGenerated, ROOT } from '../../scripts/evidence/evidence-doc';
import { keptDocuments } from '../../scripts/evidence/kept-sections';


describe('the documents agree with the kept results', () => {
  for (const { file, parts } of keptDocuments()) {
    const name = relative(ROOT, file);
    it(`${name}: every generated part is what the kept JSON gives`, () => {
      const doc = readFileSync(file, 'utf8');
      assert.ok(Object.keys(parts).length > 0, `${name}: nothing is generated for it`);
      for (const [part, body] of Object.entries(parts)) {
        // Rewriting the part the way the scripts do changes nothing (a missing part would be appended).
        assert.ok(replaceGenerated(doc, part, body) === doc, `${name}, generated:${part} is out of date: run the evidence script that writes it with --report-only (docs/EVIDENCE.md, "Re-running the study")`);
      }
    });
    it(`${name}: every generated part has a kept source`, () => {
      const doc = readFileSync(file, 'utf8');
      assert.deepEqual(generatedNames(doc).filter((m) => !(m in parts)), [], `${name}: parts no script writes from the kept JSON`);
    });
  }

  it('the benchmark tables in README.md and docs/BENCH.md are what docs/bench/*.json gives', () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench/tables.ts', '--check'], { cwd: ROOT, stdio: 'pipe' });
  });
});
