// The @vscode-elements controls the webviews use (importing registers the custom elements).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';

/** The value of a vscode-textfield / vscode-single-select (a property, not an attribute). */
export function valueOf(element: Element): string {
  return String((element as unknown as { value?: unknown }).value ?? '');
}
