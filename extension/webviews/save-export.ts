// Saves what a webview exported (CSV text or a PNG data URL) where the user chooses.
import * as vscode from 'vscode';

export async function saveExport(format: 'csv' | 'png', data: string, fileName: string, near?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const folder = near ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : undefined,
    filters: format === 'csv' ? { CSV: ['csv'] } : { PNG: ['png'] },
    saveLabel: `Export ${format.toUpperCase()}`,
  });
  if (!target) return undefined;
  const bytes = format === 'csv'
    ? new TextEncoder().encode(data)
    : Buffer.from(data.slice(data.indexOf(',') + 1), 'base64');
  await vscode.workspace.fs.writeFile(target, bytes);
  return target;
}
