// The few editor interactions that command handlers need, as an interface.
// vscode-ui.ts implements it over the vscode API; handlers depend only on this, so the command table
// loads (and is tested) in plain Node.

export interface PickRow<T> {
  label: string;
  description?: string;
  detail?: string;
  /** Absent on separators. */
  value?: T;
  separator?: boolean;
  picked?: boolean;
}

export interface InputOptions {
  title: string;
  prompt: string;
  value?: string;
  placeholder?: string;
  /** Returns the problem with the text, or undefined when it is acceptable. */
  validate?: (text: string) => string | undefined;
}

export interface Ui {
  pick<T>(rows: PickRow<T>[], options: { title: string; placeholder?: string }): Promise<T | undefined>;
  input(options: InputOptions): Promise<string | undefined>;
  info(message: string, ...actions: string[]): Promise<string | undefined>;
  warn(message: string, ...actions: string[]): Promise<string | undefined>;
  error(message: string, ...actions: string[]): Promise<string | undefined>;
  /** Shows read-only markdown, rendered when the markdown preview is available. */
  showMarkdown(name: string, markdown: string): Promise<void>;
  openFile(fsPath: string): Promise<void>;
  workspaceFolders(): { name: string; fsPath: string }[];
  isWorkspaceTrusted(): boolean;
  /** File of the active text editor, if any. */
  activeEditorPath(): string | undefined;
  /** A modal question with one action besides Cancel; true when the action was chosen. */
  confirm(message: string, action: string): Promise<boolean>;
  /** A folder chosen in the open dialog. */
  pickFolder(title: string, defaultPath?: string): Promise<string | undefined>;
  /** Shows a file or folder in the OS file manager. */
  revealInOs(fsPath: string): Promise<void>;
}
