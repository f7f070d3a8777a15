// Turns the gowide.sidecar.command setting into the process the language client spawns.
// Pure, so it is unit-tested without VS Code.
import * as path from 'node:path';

export interface LaunchContext {
  /** Folder the extension is installed in (holds dist/cli.js). */
  extensionPath: string;
  /** The extension host's executable: Electron under desktop VS Code, node under code-server. */
  execPath: string;
  /** First workspace folder, used as the sidecar's working directory and for ${workspaceFolder}. */
  workspaceFolder?: string;
}

export interface SidecarLaunch {
  command: string;
  args: string[];
  /** A string setting runs through the shell, so `ssh host 'cd x && gowide sidecar --stdio'` works. */
  shell: boolean;
  /** Variables added to the inherited environment. */
  env: Record<string, string>;
  cwd: string;
  /** The command line in words, for the log. */
  description: string;
}

/**
 * Loads the bundled CLI and runs its `main`, whether or not dist/cli.js runs itself when executed.
 * With `-e`, process.argv[1] is the first argument after the script.
 */
const BOOTSTRAP =
  'require(process.argv[1]).main(process.argv.slice(2)).then(' +
  '(code) => { process.exitCode = code; }, ' +
  '(err) => { process.stderr.write(String(err && err.stack || err) + "\\n"); process.exitCode = 1; })';

export function bundledCliPath(extensionPath: string): string {
  return path.join(extensionPath, 'dist', 'cli.js');
}

export function expandVariables(text: string, context: LaunchContext): string {
  return text
    .replace(/\$\{extensionPath\}/g, context.extensionPath)
    .replace(/\$\{workspaceFolder\}/g, context.workspaceFolder ?? context.extensionPath);
}

/**
 * No setting (or an empty one): the extension host's own runtime runs the bundled sidecar, with
 * ELECTRON_RUN_AS_NODE=1 so Electron behaves as plain Node. That needs no `node` on PATH and matches
 * the Node version VS Code ships. An array setting is spawned as is; a string goes through the shell.
 */
export function resolveSidecarLaunch(setting: unknown, context: LaunchContext): SidecarLaunch {
  const cwd = context.workspaceFolder ?? context.extensionPath;
  if (Array.isArray(setting) && setting.length > 0 && setting.every((part) => typeof part === 'string')) {
    const [command, ...args] = (setting as string[]).map((part) => expandVariables(part, context));
    return { command, args, shell: false, env: {}, cwd, description: [command, ...args].join(' ') };
  }
  if (typeof setting === 'string' && setting.trim() !== '') {
    const line = expandVariables(setting.trim(), context);
    return { command: line, args: [], shell: true, env: {}, cwd, description: line };
  }
  const cli = bundledCliPath(context.extensionPath);
  return {
    command: context.execPath,
    args: ['-e', BOOTSTRAP, cli, 'sidecar', '--stdio'],
    shell: false,
    env: { ELECTRON_RUN_AS_NODE: '1' },
    cwd,
    description: `${context.execPath} ${cli} sidecar --stdio (ELECTRON_RUN_AS_NODE=1)`,
  };
}

/** The setting is string | string[]; anything else is a mistake worth telling the user about. */
export function launchSettingProblem(setting: unknown): string | undefined {
  if (setting === undefined || setting === null || setting === '') return undefined;
  if (typeof setting === 'string') return undefined;
  if (Array.isArray(setting) && setting.every((part) => typeof part === 'string')) return undefined;
  return 'gowide.sidecar.command must be a string (run through the shell) or an array of strings (command and arguments). Using the bundled sidecar instead.';
}
