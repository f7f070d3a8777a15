// The webview hosts' pure parts: message validation, experiment-file edits, stats (the convergence rule: convergence.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFromWebviewMessage } from '../../extension/webviews/validate-message';
import { finetuneSettingsEdit, setFactorEdit, type TextReplacement } from '../../extension/webviews/experiment-edit';
import { mean, std, toCsv } from '../../webview/lib/stats';
import { parseFactor } from '../../webview/lib/widening';

const apply = (text: string, e: TextReplacement): string => text.slice(0, e.start) + e.text + text.slice(e.end);

describe('checkFromWebviewMessage', () => {
  it('accepts the protocol messages', () => {
    for (const m of [{ type: 'ready' }, { type: 'setFactor', block: 'all', factor: 2 }, { type: 'setFactor', block: 3, factor: 1.5 },
      { type: 'startStage', stage: 'finetune', settings: { epochs: 3, learningRate: 0.001 } }, { type: 'stop', runId: 'r1' },
      { type: 'selectRun', runId: 'r1' }, { type: 'export', format: 'csv', data: 'a,b\n' }, { type: 'export', format: 'png', data: 'data:image/png;base64,AAAA', fileName: 'x.png' }]) {
      assert.deepEqual(checkFromWebviewMessage(m), { ok: true, message: m }, JSON.stringify(m));
    }
  });
  it('refuses malformed ones with a reason', () => {
    for (const m of [null, 'ready', { type: 'nope' }, { type: 'setFactor', block: 1, factor: 0.5 }, { type: 'setFactor', block: -1, factor: 2 },
      { type: 'setFactor', block: 1, factor: 'NaN' }, { type: 'startStage', stage: 'evil' }, { type: 'startStage', stage: 'finetune', settings: { rm: 1 } },
      { type: 'export', format: 'png', data: 'javascript:1' }, { type: 'export', format: 'csv', data: 'x', fileName: '../../etc/passwd' }, { type: 'stop' }]) {
      const checked = checkFromWebviewMessage(m);
      assert.equal(checked.ok, false, JSON.stringify(m));
      assert.ok(!checked.ok && checked.reason.length > 0);
    }
  });
});

describe('experiment edits', () => {
  const text = '{\n  "name": "q",\n  "model": { "family": "mlp", "depth": 3, "width": 8 },\n  "widen": {\n    "factor": 4\n  },\n  "finetune": { "epochs": 6 }\n}\n';
  it('sets one block through perLayer and all blocks through factor, keeping the rest of the file', () => {
    const one = setFactorEdit(text, 1, 2, 3);
    assert.ok(one.ok);
    const after = apply(text, one.edit);
    assert.deepEqual(JSON.parse(after).widen, { factor: 4, perLayer: [4, 2, 4] });
    assert.equal(after.slice(0, 70), text.slice(0, 70));
    const all = setFactorEdit(after, 'all', 3, 3);
    assert.ok(all.ok);
    assert.deepEqual(JSON.parse(apply(after, all.edit)).widen, { factor: 3 });
  });
  it('adds a missing widen section and refuses bad factors and broken JSON', () => {
    const bare = '{\n  "name": "q"\n}\n';
    const added = setFactorEdit(bare, 'all', 2, 3);
    assert.ok(added.ok);
    assert.deepEqual(JSON.parse(apply(bare, added.edit)), { widen: { factor: 2 }, name: 'q' });
    assert.equal(setFactorEdit(text, 'all', 0.5, 3).ok, false);
    assert.equal(setFactorEdit(text, 5, 2, 3).ok, false);
    assert.equal(setFactorEdit('{"widen": ', 'all', 2, 3).ok, false);
  });
  it('merges fine-tuning settings into the finetune section', () => {
    const edit = finetuneSettingsEdit(text, { epochs: 3, learningRate: 0.0005 });
    assert.ok(edit.ok);
    assert.deepEqual(JSON.parse(apply(text, edit.edit)).finetune, { epochs: 3, learningRate: 0.0005 });
  });
});

describe('stats and inputs', () => {
  it('mean, sample std and CSV quoting', () => {
    assert.equal(mean([1, 2, 3]), 2);
    assert.equal(std([1, 2, 3]), 1);
    assert.equal(std([5]), 0);
    assert.equal(toCsv(['a', 'b'], [['x,y', 1]]), 'a,b\n"x,y",1\n');
  });
  it('factor input', () => {
    assert.deepEqual(parseFactor(' 2.5 '), { ok: true, factor: 2.5 });
    assert.equal(parseFactor('0.9').ok, false);
    assert.equal(parseFactor('abc').ok, false);
    assert.equal(parseFactor('').ok, false);
  });
});
