// The sidecar's editor features for *.gowide.json over real JSON-RPC: diagnostics on didOpen/didChange,
// hovers with parameter counts, code lenses per stage, inlay-hint sparklines from a recorded run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { CodeLens, Diagnostic, Hover, InlayHint, InlayHintLabelPart, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { initializeParams, startBuiltSidecar, type SidecarUnderTest } from './sidecar-process';
import { recordedExperimentText, workspaceWithRecordedRun } from './editor-fixture';

let sidecar: SidecarUnderTest;
let workspace: { dir: string; experimentPath: string };
const diagnostics = new Map<string, PublishDiagnosticsParams[]>();
const waiters: (() => void)[] = [];

function waitForDiagnostics(uri: string, version: number, timeoutMs = 10_000): Promise<Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version}`)), timeoutMs);
    const check = () => {
      const found = diagnostics.get(uri)?.find((d) => d.version === version);
      if (!found) return false;
      clearTimeout(timer);
      resolve(found.diagnostics);
      return true;
    };
    if (!check()) waiters.push(() => void check());
  });
}

before(async () => {
  workspace = workspaceWithRecordedRun();
  sidecar = startBuiltSidecar();
  sidecar.connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
    diagnostics.set(params.uri, [...(diagnostics.get(params.uri) ?? []), params]);
    for (const wake of waiters.splice(0)) wake();
  });
  const result = (await sidecar.connection.sendRequest('initialize', {
    ...initializeParams,
    capabilities: { workspace: { codeLens: { refreshSupport: true }, inlayHint: { refreshSupport: true } } },
  })) as { capabilities: Record<string, unknown> };
  assert.ok(result.capabilities.hoverProvider);
  assert.ok(result.capabilities.codeLensProvider);
  assert.ok(result.capabilities.inlayHintProvider);
  await sidecar.connection.sendNotification('initialized', {});
});

after(async () => {
  await sidecar?.stop();
  if (workspace) rmSync(workspace.dir, { recursive: true, force: true });
});

function messageOf(d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}

function open(uri: string, text: string, version = 1): Promise<void> {
  return sidecar.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'json', version, text } });
}

test('didOpen of an experiment with a bad field publishes a diagnostic that names the field, on its line', async () => {
  const uri = pathToFileURL(`${workspace.dir}/broken.gowide.json`).href;
  const text = '{\n  "name": "broken",\n  "data": { "format": "shapes" },\n  "model": { "family": "mlpp", "depth": 4, "width": 16 }\n}\n';
  await open(uri, text);
  const found = await waitForDiagnostics(uri, 1);
  const family = found.find((d) => messageOf(d).includes('model.family'));
  assert.ok(family, JSON.stringify(found));
  assert.equal(family.severity, 1);
  assert.equal(family.source, 'gowide');
  assert.equal(family.range.start.line, 3);
  assert.equal(text.split('\n')[3].slice(family.range.start.character, family.range.end.character), '"family"');

  // An edit that fixes it clears the diagnostic.
  await sidecar.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: text.replace('mlpp', 'mlp') }],
  });
  assert.deepEqual(await waitForDiagnostics(uri, 2), []);
});

test('a widening factor that makes the wide net exceed memory is an error on widen.factor', async () => {
  const uri = pathToFileURL(`${workspace.dir}/huge.gowide.json`).href;
  const text = JSON.stringify({ name: 'huge', data: { format: 'shapes' }, model: { family: 'mlp', depth: 8, width: 1024 }, widen: { factor: 32 } }, null, 2);
  await open(uri, text);
  const found = await waitForDiagnostics(uri, 1);
  const memory = found.find((d) => messageOf(d).startsWith('widen.factor') && /limit/.test(messageOf(d)));
  assert.ok(memory, JSON.stringify(found));
  assert.equal(text.split('\n')[memory.range.start.line].trim().startsWith('"factor"'), true);
});

test('hover on model.width shows thin and wide parameter counts', async () => {
  const uri = pathToFileURL(workspace.experimentPath).href;
  const text = recordedExperimentText();
  await open(uri, text);
  const line = text.split('\n').findIndex((l) => l.includes('"width"'));
  const hover = (await sidecar.connection.sendRequest('textDocument/hover', {
    textDocument: { uri },
    position: { line, character: text.split('\n')[line].indexOf('"width"') + 2 },
  })) as Hover;
  const value = (hover.contents as { value: string }).value;
  assert.match(value, /thin net \| [\d.]+k? \(/);
  assert.match(value, /wide net \| [\d.]+k? \(.*\), [\d.]+x/);
});

test('code lenses: one per stage key with the recorded state and figure, plus Run commands', async () => {
  const uri = pathToFileURL(workspace.experimentPath).href;
  const lenses = (await sidecar.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
  const titles = lenses.map((l) => l.command?.title ?? '');
  assert.ok(titles.some((t) => /done · val acc 67\.4%/.test(t)), titles.join('\n'));
  assert.ok(titles.some((t) => /done · warm-start acc/.test(t)), titles.join('\n'));
  const runWide = lenses.find((l) => l.command?.command === 'gowide.trainWide');
  assert.ok(runWide);
  assert.deepEqual(runWide.command!.arguments, [{ experimentPath: workspace.experimentPath }]);
  const text = recordedExperimentText();
  assert.equal(text.split('\n')[runWide.range.start.line].trim().startsWith('"wide"'), true);
  assert.ok(lenses.some((l) => l.command?.command === 'gowide.runAll'));
});

test('inlay hints: a sparkline per block after widen.factor, each with a plot in its tooltip', async () => {
  const uri = pathToFileURL(workspace.experimentPath).href;
  const hints = (await sidecar.connection.sendRequest('textDocument/inlayHint', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: 1000, character: 0 } },
  })) as InlayHint[];
  assert.equal(hints.length, 1);
  const parts = hints[0].label as InlayHintLabelPart[];
  const blocks = parts.filter((p) => p.value.startsWith('b'));
  assert.equal(blocks.length, 10);
  assert.match(blocks[0].value, /^b1 [▁▂▃▄▅▆▇█]{5} [\d.]+$/);
  const tooltip = blocks[0].tooltip as { kind: string; value: string };
  assert.match(tooltip.value, /!\[block 1 imitation loss\]\(data:image\/svg\+xml;base64,/);
  const text = recordedExperimentText();
  assert.ok(text.split('\n')[hints[0].position.line].includes('"factor"'));
});

test('inlay hints go next to each widen.perLayer entry when the file has per-block factors', async () => {
  const uri = pathToFileURL(workspace.experimentPath).href;
  const text = recordedExperimentText().replace('"factor": 4', '"factor": 4,\n    "perLayer": [4, 4, 4, 4, 4, 4, 4, 4, 4, 3]');
  await sidecar.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 5 }, contentChanges: [{ text }] });
  const hints = (await sidecar.connection.sendRequest('textDocument/inlayHint', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: 1000, character: 0 } },
  })) as InlayHint[];
  assert.equal(hints.length, 10);
  const line = text.split('\n').findIndex((l) => l.includes('perLayer'));
  assert.ok(hints.every((h) => h.position.line === line));
  assert.ok(hints[0].position.character < hints[1].position.character);
});
