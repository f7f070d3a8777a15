// Webview and workspace-trust security (issue 7):
// - the HTML of every webview has a strict CSP with a fresh nonce on each script and stylesheet, and
//   hostile titles and URIs cannot add markup; only html.ts builds webview HTML;
// - the built bundles load nothing remote (no fetch, sockets, beacons, remote CSS);
// - hostile messages from a webview are refused, accepted ones are rebuilt from known fields, numbers
//   stay within the schema, and an untrusted workspace cannot start training from a view;
// - every command that trains or changes run folders refuses in an untrusted workspace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CommandContext } from '../../extension/command-context';
import { COMMANDS } from '../../extension/commands';
import type { Ui } from '../../extension/ui';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../extension/webviews/html';
import { checkFromWebviewMessage } from '../../extension/webviews/validate-message';
import { FINETUNE_SETTING_KEYS } from '../../server/protocol';

const root = path.resolve(__dirname, '..', '..');
const BUNDLES = ['widening', 'monitor', 'compare', 'loss'];
const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

test('every webview page has a strict CSP and a nonce on each script and stylesheet; hostile titles and URIs stay text', () => {
  for (const bundle of BUNDLES) {
    const nonce = makeNonce();
    const html = webviewHtml({ title: bundle, cspSource: CSP_SOURCE, nonce, scriptUri: `${CSP_SOURCE}/dist/webview/${bundle}.js`, styleUri: `${CSP_SOURCE}/dist/webview/${bundle}.css` });
    const metas = [...html.matchAll(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/g)];
    assert.equal(metas.length, 1, `${bundle}: one CSP`);
    const policy = metas[0]![1]!.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const directives = new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), [`'nonce-${nonce}'`], 'scripts only by nonce');
    for (const [name, values] of directives) {
      for (const value of values) {
        assert.ok(![`'unsafe-inline'`, `'unsafe-eval'`, '*', 'http:', 'https:', 'data:'].includes(value) || (name === 'img-src' && value === 'data:'), `${bundle}: ${name} ${value}`);
        assert.ok(!/^https?:\/\//.test(value) || value === CSP_SOURCE, `${bundle}: ${name} allows ${value}`);
      }
    }
    const tags = [...html.matchAll(/<(script|link|style|iframe|object|embed|base|img)\b[^>]*>/g)].map((m) => m[0]);
    assert.deepEqual(tags.map((t) => t.split(/\s/)[0]), ['<link', '<script'], `${bundle}: one stylesheet and one script`);
    for (const tag of tags) {
      assert.ok(tag.includes(`nonce="${nonce}"`), `${bundle}: ${tag} carries the nonce`);
      assert.match(tag, new RegExp(`(src|href)="${CSP_SOURCE.replace(/[.+]/g, '\\$&')}/dist/webview/`), `${bundle}: ${tag} loads from the extension`);
    }
    assert.doesNotMatch(html, /\son\w+=/i, 'no inline event handlers');
  }
  const nonce = makeNonce();
  const hostile = webviewHtml({ title: '</title><script>alert(1)</script>', cspSource: `${CSP_SOURCE}" onload="x`, nonce, scriptUri: 'x"><script>alert(2)</script>', styleUri: "'><img src=x>" });
  assert.equal((hostile.match(/<script/g) ?? []).length, 1, 'no injected script tag');
  assert.equal((hostile.match(/<img/g) ?? []).length, 0, 'no injected image');
  assert.match(contentSecurityPolicy(CSP_SOURCE, nonce), /^default-src 'none'; /);
});

test('nonces are fresh and long enough to guess', () => {
  const nonces = Array.from({ length: 500 }, makeNonce);
  assert.equal(new Set(nonces).size, nonces.length);
  // 18 random bytes in base64 without + and /: 24 characters, rarely a few less; 16 is 95 bits.
  for (const n of nonces) assert.match(n, /^[A-Za-z0-9]{16,24}$/);
});

test('only html.ts builds webview HTML, through setWebviewHtml with a fresh nonce each time', () => {
  const assignments = sourceFiles(path.join(root, 'extension')).flatMap((file) =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /\.html\s*=[^=]/.test(line))
      .map((line) => `${path.relative(root, file)}: ${line.trim()}`),
  );
  assert.deepEqual(assignments, ['extension/webviews/host.ts: webview.html = webviewHtml({'], 'one place sets webview HTML');
  const host = fs.readFileSync(path.join(root, 'extension', 'webviews', 'host.ts'), 'utf8');
  assert.match(host, /nonce: makeNonce\(\)/);
  assert.match(host, /checkFromWebviewMessage\(raw, \{ trusted: vscode\.workspace\.isTrusted \}\)/, 'messages are checked with workspace trust');
  assert.match(host, /localResourceRoots: \[bundleRoot\(ctx\)\]/, 'webviews read only dist/webview');
});

test('the built webview bundles load nothing remote', (t) => {
  const dist = path.join(root, 'dist', 'webview');
  if (!fs.existsSync(path.join(dist, 'loss.js'))) {
    t.skip('dist/webview is not built (npm run build)');
    return;
  }
  for (const bundle of BUNDLES) {
    const js = fs.readFileSync(path.join(dist, `${bundle}.js`), 'utf8');
    const css = fs.readFileSync(path.join(dist, `${bundle}.css`), 'utf8');
    for (const api of ['fetch(', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'sendBeacon', 'importScripts', 'RTCPeerConnection', 'navigator.serviceWorker']) {
      assert.ok(!js.includes(api), `${bundle}.js uses ${api}`);
    }
    assert.doesNotMatch(js, /(src|href)\s*=\s*["'`]https?:/, `${bundle}.js points an element at a remote URL`);
    assert.doesNotMatch(js, /import\(\s*["'`]https?:/, `${bundle}.js imports remote code`);
    assert.doesNotMatch(css, /@import|url\(\s*["']?(https?:)?\/\//, `${bundle}.css loads a remote resource`);
  }
});

test('hostile webview messages are refused with a reason', () => {
  const protoSettings = JSON.parse('{"__proto__": {"polluted": 1}}');
  const hostile: unknown[] = [
    undefined, 42, [], [{ type: 'ready' }], { type: 42 }, { type: '__proto__' }, { type: 'constructor' }, { type: 'x'.repeat(100_000) },
    { type: 'setFactor', block: 'all', factor: Infinity }, { type: 'setFactor', block: 'all', factor: 1e308 }, { type: 'setFactor', block: 1.5, factor: 2 },
    { type: 'setFactor', block: [1], factor: 2 }, { type: 'setFactor', block: 2 ** 40, factor: 2 }, { type: 'setFactor', block: 0, factor: '2' },
    { type: 'startStage', stage: 'finetune', settings: protoSettings }, { type: 'startStage', stage: 'finetune', settings: { constructor: 1 } },
    { type: 'startStage', stage: 'finetune', settings: { learningRate: 0 } }, { type: 'startStage', stage: 'finetune', settings: { learningRate: 1e9 } },
    { type: 'startStage', stage: 'finetune', settings: { kdWeight: 2 } }, { type: 'startStage', stage: 'finetune', settings: { epochs: -1 } },
    { type: 'startStage', stage: 'finetune', settings: { temperature: NaN } }, { type: 'startStage', stage: 'finetune', settings: [] },
    { type: 'startStage', stage: ['finetune'] }, { type: 'startStage', stage: 'toString' },
    { type: 'stop', runId: '../../etc' }, { type: 'stop', runId: '/abs' }, { type: 'stop', runId: 'a/b' }, { type: 'stop', runId: '..' }, { type: 'stop', runId: '' },
    { type: 'stop', runId: { toString: () => 'r1' } }, { type: 'selectRun', runId: 'r1\u0000' }, { type: 'selectRun', runId: 'x'.repeat(300) }, { type: 'selectRun', runId: 'r..1' },
    { type: 'export', format: 'html', data: '<script>' }, { type: 'export', format: 'csv', data: 'x'.repeat(20_000_001) },
    { type: 'export', format: 'png', data: 'data:image/png;base64,AAAA"><script>' }, { type: 'export', format: 'png', data: 'data:image/svg+xml;base64,AAAA' },
    { type: 'export', format: 'csv', data: 'a', fileName: '.bashrc' }, { type: 'export', format: 'csv', data: 'a', fileName: '..' },
    { type: 'export', format: 'csv', data: 'a', fileName: 'x.csv/../../y.csv' }, { type: 'export', format: 'csv', data: 'a', fileName: 'evil.sh' },
    { type: 'export', format: 'png', data: 'data:image/png;base64,AAAA', fileName: 'x.csv' }, { type: 'export', format: 'csv', data: 'a', fileName: 'C:\\x.csv' },
  ];
  for (const message of hostile) {
    const checked = checkFromWebviewMessage(message);
    assert.equal(checked.ok, false, `accepted: ${JSON.stringify(message)?.slice(0, 120)}`);
    assert.ok(!checked.ok && checked.reason.length > 0 && checked.reason.length < 300, 'a short reason');
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
});

test('accepted messages are rebuilt from their known fields only', () => {
  const checked = checkFromWebviewMessage({ type: 'stop', runId: 'quickstart-20261125-101010-2', command: 'rm -rf /', __proto__: { admin: true } });
  assert.deepEqual(checked, { ok: true, message: { type: 'stop', runId: 'quickstart-20261125-101010-2' } });
  const settings = checkFromWebviewMessage({ type: 'startStage', stage: 'finetune', settings: { epochs: 3, learningRate: 0.001, kdWeight: 0.5, temperature: 4 }, extra: 1 });
  assert.deepEqual(settings, { ok: true, message: { type: 'startStage', stage: 'finetune', settings: { epochs: 3, learningRate: 0.001, kdWeight: 0.5, temperature: 4 } } });
  assert.deepEqual(checkFromWebviewMessage({ type: 'export', format: 'png', data: 'data:image/png;base64,iVBORw0KGgo=', fileName: 'compare-runs.png' }).ok, true);
});

test('the message ranges are the experiment schema\'s', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'server', 'experiment', 'gowide.schema.json'), 'utf8'));
  const finetune = schema.properties.finetune.properties;
  const start = (settings: Record<string, number>) => checkFromWebviewMessage({ type: 'startStage', stage: 'finetune', settings }).ok;
  for (const key of FINETUNE_SETTING_KEYS) {
    const field = finetune[key];
    assert.equal(start({ [key]: field.maximum }), true, `${key} at the schema's maximum`);
    assert.equal(start({ [key]: field.maximum * 1.01 }), false, `${key} above the schema's maximum`);
    if (field.exclusiveMinimum !== undefined) assert.equal(start({ [key]: field.exclusiveMinimum }), false, `${key} at the exclusive minimum`);
    else assert.equal(start({ [key]: field.minimum }), true, `${key} at the schema's minimum`);
  }
  const factor = schema.properties.widen.properties.factor;
  const setFactor = (value: number) => checkFromWebviewMessage({ type: 'setFactor', block: 0, factor: value }).ok;
  assert.deepEqual([setFactor(factor.minimum), setFactor(factor.maximum), setFactor(factor.minimum - 0.5), setFactor(factor.maximum + 1)], [true, true, false, false]);
});

test('a sweep from the widening view: factors in the schema range, a bounded list, a trusted workspace', () => {
  const sweep = (factors: unknown, trusted = true) => checkFromWebviewMessage({ type: 'startSweep', factors, extra: 1 }, { trusted });
  assert.deepEqual(sweep([2, 4, 8]), { ok: true, message: { type: 'startSweep', factors: [2, 4, 8] } });
  for (const bad of [[], [0.5], [2, 1000], ['4'], 4, new Array(65).fill(2)]) assert.equal(sweep(bad).ok, false, JSON.stringify(bad));
  const untrusted = sweep([2, 4], false);
  assert.ok(!untrusted.ok && /trusted workspace/.test(untrusted.reason));
});

test('in an untrusted workspace a view cannot start training, and every training or run-changing command refuses', async () => {
  for (const stage of ['wide', 'imitate', 'finetune', 'baselines', 'all']) {
    const checked = checkFromWebviewMessage({ type: 'startStage', stage }, { trusted: false });
    assert.equal(checked.ok, false);
    assert.match(!checked.ok ? checked.reason : '', /trusted workspace/);
    assert.equal(checkFromWebviewMessage({ type: 'startStage', stage }, { trusted: true }).ok, true);
  }
  assert.equal(checkFromWebviewMessage({ type: 'stop', runId: 'r1' }, { trusted: false }).ok, true, 'stopping stays allowed');

  const experimentPath = '/work/untrusted/quickstart.gowide.json';
  const run = { runId: 'r1', runDir: '/work/untrusted/.gowide-runs/r1', experimentPath, experiment: 'quickstart', state: 'stopped', startedAt: '2026-01-01T00:00:00Z', stages: [], arms: {} };
  const calls: string[] = [];
  const warnings: string[] = [];
  const record = (name: string) => async () => void calls.push(name);
  const ui = {
    isWorkspaceTrusted: () => false,
    warn: async (m: string) => (warnings.push(m), undefined),
    info: async () => undefined,
    error: async () => undefined,
    confirm: async () => true,
    pick: async () => undefined,
    pickFolder: async () => '/tmp/export-here',
    activeEditorPath: () => experimentPath,
    workspaceFolders: () => ['/work/untrusted'],
  } as unknown as Ui;
  const ctx = {
    ui,
    executeCommand: async () => undefined,
    findExperiments: async () => [experimentPath],
    listRuns: async () => [run],
    startStage: record('startStage'),
    deleteRun: record('deleteRun'),
    exportModel: record('exportModel'),
    followRun: async () => run,
  } as unknown as CommandContext;
  const refusing = ['gowide.trainWide', 'gowide.startImitation', 'gowide.launchFinetune', 'gowide.trainBaselines', 'gowide.runAll', 'gowide.resume', 'gowide.exportModel', 'gowide.deleteRun'];
  for (const id of refusing) {
    warnings.length = 0;
    await COMMANDS[id]!(ctx)({ kind: 'run', experimentPath, runId: 'r1' });
    assert.deepEqual(calls, [], `${id} did nothing`);
    assert.ok(warnings.some((w) => /needs a trusted workspace/.test(w)), `${id} said why: ${warnings.join(' | ')}`);
  }
});
