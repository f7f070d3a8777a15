// The Ui interface over the real vscode API (the thin wrapper the command handlers use).
import * as vscode from 'vscode';
import type { InputOptions, PickRow, Ui } from './ui';

export const REPORT_SCHEME = 'gowide-report';

/** Read-only virtual documents for reports such as the engine report. */
export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name}.md` });
    this.contents.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function createVscodeUi(reports: ReportDocuments): Ui {
  return {
    async pick<T>(rows: PickRow<T>[], options: { title: string; placeholder?: string }): Promise<T | undefined> {
      const items = rows.map((row) => ({
        label: row.label,
        description: row.description,
        detail: row.detail,
        picked: row.picked,
        kind: row.separator ? vscode.QuickPickItemKind.Separator : vscode.QuickPickItemKind.Default,
        row,
      }));
      const chosen = await vscode.window.showQuickPick(items, {
        title: options.title,
        placeHolder: options.placeholder,
        matchOnDescription: true,
        matchOnDetail: true,
      });
      return chosen?.row.value;
    },
    input(options: InputOptions): Promise<string | undefined> {
      return Promise.resolve(
        vscode.window.showInputBox({
          title: options.title,
          prompt: options.prompt,
          value: options.value,
          placeHolder: options.placeholder,
          validateInput: options.validate,
          ignoreFocusOut: true,
        }),
      );
    },
    info: (message, ...actions) => Promise.resolve(vscode.window.showInformationMessage(message, ...actions)),
    warn: (message, ...actions) => Promise.resolve(vscode.window.showWarningMessage(message, ...actions)),
    error: (message, ...actions) => Promise.resolve(vscode.window.showErrorMessage(message, ...actions)),
    async showMarkdown(name: string, markdown: string): Promise<void> {
      const uri = reports.set(name, markdown);
      try {
        await vscode.commands.executeCommand('markdown.showPreview', uri);
      } catch {
        // The built-in markdown extension is disabled: show the source instead.
        const document = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(document, { preview: true });
      }
    },
    async openFile(fsPath: string): Promise<void> {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(fsPath));
      await vscode.window.showTextDocument(document);
    },
    workspaceFolders: () => (vscode.workspace.workspaceFolders ?? []).map((f) => ({ name: f.name, fsPath: f.uri.fsPath })),
    isWorkspaceTrusted: () => vscode.workspace.isTrusted,
    activeEditorPath: () => {
      const uri = vscode.window.activeTextEditor?.document.uri;
      return uri?.scheme === 'file' ? uri.fsPath : undefined;
    },
    async confirm(message: string, action: string): Promise<boolean> {
      return (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action;
    },
    async pickFolder(title: string, defaultPath?: string): Promise<string | undefined> {
      const chosen = await vscode.window.showOpenDialog({
        title,
        canSelectFiles: false,
        canSelectFolders: true,
        canSelectMany: false,
        openLabel: 'Choose Folder',
        defaultUri: defaultPath ? vscode.Uri.file(defaultPath) : undefined,
      });
      return chosen?.[0]?.fsPath;
    },
    async revealInOs(fsPath: string): Promise<void> {
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(fsPath));
    },
  };
}
