// What the webview hosts need from the extension (the narrowest slice of Ctx), and the shared plumbing:
// HTML with a fresh nonce, tight localResourceRoots, validated incoming messages.
import * as vscode from 'vscode';
import type { RequestType } from 'vscode-jsonrpc';
import type { FromWebviewMessage, ToWebviewMessage } from '../../server/protocol';
import type { RunFeed } from '../run-feed';
import { makeNonce, webviewHtml } from './html';
import { checkFromWebviewMessage } from './validate-message';

export interface WebviewHostContext {
  sendRequest<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R>;
  /** Where dist/webview lives; defaults to this extension's folder. */
  readonly extensionUri?: vscode.Uri;
  /** Runs' summaries, progress and metrics: a snapshot then live updates, one feed for every view. */
  readonly feed: RunFeed;
}

export const EXTENSION_ID = 'gowide.gowide';

export function extensionUriOf(ctx: WebviewHostContext): vscode.Uri {
  const uri = ctx.extensionUri ?? vscode.extensions.getExtension(EXTENSION_ID)?.extensionUri;
  if (!uri) throw new Error(`Go Wide: cannot find the extension folder of ${EXTENSION_ID}.`);
  return uri;
}

function bundleRoot(ctx: WebviewHostContext): vscode.Uri {
  return vscode.Uri.joinPath(extensionUriOf(ctx), 'dist', 'webview');
}

/** Options for a panel or view: scripts on, resources only from dist/webview. */
export function webviewOptions(ctx: WebviewHostContext): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [bundleRoot(ctx)] };
}

export function setWebviewHtml(ctx: WebviewHostContext, webview: vscode.Webview, bundle: string, title: string): void {
  const root = bundleRoot(ctx);
  webview.html = webviewHtml({
    title,
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.js`)).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, `${bundle}.css`)).toString(),
  });
}

export function post(webview: vscode.Webview, message: ToWebviewMessage): void {
  void webview.postMessage(message);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Routes checked messages to `handle`; refused ones are logged to the webview as a notice. */
export function onWebviewMessage(webview: vscode.Webview, handle: (message: FromWebviewMessage) => Promise<void> | void): vscode.Disposable {
  return webview.onDidReceiveMessage(async (raw: unknown) => {
    const checked = checkFromWebviewMessage(raw, { trusted: vscode.workspace.isTrusted });
    if (!checked.ok) {
      post(webview, { type: 'notice', level: 'error', message: `Refused a message from the view (${checked.reason}).` });
      return;
    }
    try {
      await handle(checked.message);
    } catch (error) {
      post(webview, { type: 'notice', level: 'error', message: errorText(error) });
    }
  });
}

/** Applies a text replacement as a WorkspaceEdit (undoable) to the document at `uri`. */
export async function applyTextEdit(uri: vscode.Uri, edit: { start: number; end: number; text: string }): Promise<boolean> {
  const document = await vscode.workspace.openTextDocument(uri);
  const workspaceEdit = new vscode.WorkspaceEdit();
  workspaceEdit.replace(uri, new vscode.Range(document.positionAt(edit.start), document.positionAt(edit.end)), edit.text);
  return vscode.workspace.applyEdit(workspaceEdit);
}
