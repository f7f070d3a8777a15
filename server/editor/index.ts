// The sidecar as a language server for *.gowide.json: diagnostics, hovers, code lenses and inlay
// hints, refreshed while metrics stream. sidecar.ts registers it and forwards training events.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeLensRefreshRequest,
  TextDocuments,
  TextDocumentSyncKind,
  type ClientCapabilities,
  type Connection,
  type ServerCapabilities,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { MetricRecord, RunSummary } from '../protocol';
import { blockCurves } from './block-losses';
import { experimentCodeLenses } from './code-lens';
import { experimentDiagnostics } from './diagnostics';
import { experimentHover } from './hover';
import { experimentInlayHints } from './inlay-hints';
import { RunData } from './run-data';

const DIAGNOSTICS_DELAY_MS = 150;
/** Metrics arrive every 200 ms while training; lenses and hints redraw at most this often. */
const REFRESH_DELAY_MS = 1000;

export interface EditorFeatures {
  capabilities: ServerCapabilities;
  /** Call from onInitialize with the client's capabilities (refresh support). */
  initialize(client: ClientCapabilities): void;
  onMetrics(runId: string, records: MetricRecord[]): void;
  onRunState(run: RunSummary): void;
}

export function isExperimentUri(uri: string): boolean {
  return uri.startsWith('file:') && uri.endsWith('.gowide.json');
}

function filePathOf(uri: string): string {
  return path.resolve(fileURLToPath(uri));
}

export function registerEditorFeatures(connection: Connection, log: (message: string) => void): EditorFeatures {
  const documents = new TextDocuments(TextDocument);
  const runData = new RunData();
  const pendingDiagnostics = new Map<string, NodeJS.Timeout>();
  let canRefreshLenses = false;
  let canRefreshHints = false;
  let refreshTimer: NodeJS.Timeout | undefined;

  const experimentDocuments = () => documents.all().filter((d) => isExperimentUri(d.uri));

  function publishDiagnostics(document: TextDocument): void {
    try {
      const diagnostics = experimentDiagnostics(document.getText(), filePathOf(document.uri));
      void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics });
    } catch (error) {
      log(`diagnostics for ${document.uri} failed: ${(error as Error).message}`);
    }
  }

  function scheduleDiagnostics(document: TextDocument): void {
    if (!isExperimentUri(document.uri)) return;
    clearTimeout(pendingDiagnostics.get(document.uri));
    pendingDiagnostics.set(
      document.uri,
      setTimeout(() => {
        pendingDiagnostics.delete(document.uri);
        const current = documents.get(document.uri);
        if (current) publishDiagnostics(current);
      }, DIAGNOSTICS_DELAY_MS),
    );
  }

  documents.onDidOpen((e) => scheduleDiagnostics(e.document));
  documents.onDidChangeContent((e) => scheduleDiagnostics(e.document));
  documents.onDidClose((e) => {
    clearTimeout(pendingDiagnostics.get(e.document.uri));
    pendingDiagnostics.delete(e.document.uri);
    if (isExperimentUri(e.document.uri)) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document || !isExperimentUri(document.uri)) return null;
    const file = filePathOf(document.uri);
    return experimentHover(document.getText(), file, params.position, blockCurves(runData.forExperiment(file).records)) ?? null;
  });

  connection.onCodeLens((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document || !isExperimentUri(document.uri)) return [];
    const file = filePathOf(document.uri);
    return experimentCodeLenses(document.getText(), file, runData.forExperiment(file).latest);
  });

  connection.languages.inlayHint.on((params) => {
    const document = documents.get(params.textDocument.uri);
    if (!document || !isExperimentUri(document.uri)) return [];
    const file = filePathOf(document.uri);
    const hints = experimentInlayHints(document.getText(), blockCurves(runData.forExperiment(file).records));
    return hints.filter((h) => h.position.line >= params.range.start.line && h.position.line <= params.range.end.line);
  });

  /** Redraws lenses and hints when a run of an open experiment changed, at most once a second. */
  function scheduleRefresh(runId: string): void {
    const experiment = runData.experimentOfRun(runId);
    const open = experimentDocuments().some((d) => experiment === undefined || filePathOf(d.uri) === experiment);
    if (!open || refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      if (canRefreshLenses) connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
      if (canRefreshHints) connection.languages.inlayHint.refresh().catch(() => undefined);
    }, REFRESH_DELAY_MS);
  }

  documents.listen(connection);

  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      codeLensProvider: { resolveProvider: false },
      inlayHintProvider: { resolveProvider: false },
    },
    initialize(client) {
      canRefreshLenses = client.workspace?.codeLens?.refreshSupport === true;
      canRefreshHints = client.workspace?.inlayHint?.refreshSupport === true;
    },
    onMetrics(runId, records) {
      runData.addRecords(runId, records);
      scheduleRefresh(runId);
    },
    onRunState(run) {
      runData.noteRun(run);
      scheduleRefresh(run.runId);
    },
  };
}
