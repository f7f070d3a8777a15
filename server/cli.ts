// The gowide command line: bin/gowide.js calls main() from the bundled dist/cli.js.
import { version } from '../package.json';
import { BACKEND_NAMES, type BackendName, type EngineInfo, type EngineProbeReport } from './protocol';
import { BackendUnavailableError, initEngine, NoBackendError } from './engine/engine';
import { adapterFacts, heldBackReason, probedAdapter } from './engine/webgpu-adapter';
import { runCommand } from './cli/run-command';
import { startSidecar } from './sidecar';

const USAGE = `gowide ${version}: train deep thin networks with "Go Wide, Then Narrow" on TF.js

Usage:
  gowide sidecar --stdio              JSON-RPC training sidecar on stdin/stdout (what the VS Code extension starts)
  gowide info [--json] [--backend B]  TF.js backends on this machine: which one is used and why others are not
  gowide run [FILE] [--backend B] [--json] [--runs-dir DIR] [--seeds 1,2] [--stage S] [--quiet]
             [--run RUN_ID | --resume] [--launcher local|slurm] [--jobs N] [--slurm-option ARG ...]
             [--gpus-per-job N] [--detach] [--max-retries N]
                                      run an experiment headless: the wide net, the three-stage thin net
                                      and the scratch and kd baselines (no FILE: the offline quick start);
                                      with a launcher, each seed's wide net, thin net and baselines run as
                                      separate jobs (--jobs N local processes at once, or Slurm batch jobs)
  gowide help | --help | --version

Backends, best first: ${BACKEND_NAMES.join(', ')}.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sidecar':
      return sidecarCommand(rest);
    case 'info':
      return infoCommand(rest);
    case 'run':
      return runCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case '-v':
      process.stdout.write(`${version}\n`);
      return 0;
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    default:
      process.stderr.write(`gowide: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function sidecarCommand(args: string[]): Promise<number> {
  if (!args.includes('--stdio')) {
    process.stderr.write(
      'gowide sidecar: only the stdio transport is supported; run "gowide sidecar --stdio" ' +
        '(for a remote machine, make the launch command e.g. "ssh HOST gowide sidecar --stdio")\n',
    );
    return 2;
  }
  const unknown = args.filter((arg) => arg !== '--stdio' && !arg.startsWith('--clientProcessId'));
  if (unknown.length > 0) {
    process.stderr.write(`gowide sidecar: unknown option ${unknown[0]}\n`);
    return 2;
  }
  startSidecar();
  // The sidecar lives until stdin closes or the client sends "exit"; both end the process.
  return new Promise<number>(() => undefined);
}

interface InfoOptions {
  json: boolean;
  backend?: BackendName;
}

function parseInfoArgs(args: string[]): InfoOptions | string {
  const options: InfoOptions = { json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--json') options.json = true;
    else if (arg === '--backend' || arg.startsWith('--backend=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      if (!value || !(BACKEND_NAMES as readonly string[]).includes(value)) {
        return `--backend must be one of ${BACKEND_NAMES.join(', ')}${value ? `, got "${value}"` : ''}`;
      }
      options.backend = value as BackendName;
    } else return `unknown option ${arg}`;
  }
  return options;
}

async function infoCommand(args: string[]): Promise<number> {
  const options = parseInfoArgs(args);
  if (typeof options === 'string') {
    process.stderr.write(`gowide info: ${options}\n`);
    return 2;
  }
  let info: EngineInfo | EngineProbeReport | undefined;
  let failure: string | undefined;
  try {
    info = await initEngine({ backend: options.backend });
  } catch (error) {
    if (error instanceof BackendUnavailableError || error instanceof NoBackendError) {
      info = error.info;
      failure = error.message;
    } else throw error;
  }
  if (options.json) {
    // A failed engine reports active: null, never the backend that was asked for.
    process.stdout.write(JSON.stringify(failure ? { ...info, error: failure } : info, null, 2) + '\n');
  } else {
    if (info) process.stdout.write(formatInfo(info));
    if (failure) process.stderr.write(`gowide info: ${failure}\n`);
  }
  return failure ? 1 : 0;
}

function formatInfo(info: EngineInfo | EngineProbeReport): string {
  const lines = [
    info.active ? `Active backend: ${info.active}${info.requested ? ' (requested)' : ''}` : 'Active backend: none',
    `Device:         ${info.active ? info.device : '-'}`,
    `TF.js:          ${info.tfjsVersion}`,
    `Node:           ${info.nodeVersion}`,
    '',
    'Backends (best first):',
  ];
  const width = Math.max(...info.backends.map((b) => b.name.length));
  for (const probe of info.backends) {
    const mark = probe.ok ? 'ok  ' : 'no  ';
    const held = probe.name !== info.active ? heldBackReason(probe) : undefined;
    const detail = probe.ok ? `trains (${probe.seconds.toFixed(2)} s probe)${held ? `; ${held}` : ''}` : probe.reason;
    lines.push(`  ${probe.name.padEnd(width)}  ${mark}${detail}`);
  }
  const adapter = probedAdapter(info);
  if (adapter) {
    lines.push('', 'WebGPU adapter:', ...adapterFacts(adapter).map(([label, value]) => `  ${`${label}:`.padEnd(14)}${value}`));
  }
  if (info.notes.length > 0) lines.push('', 'Notes:', ...info.notes.map((note) => `  - ${note}`));
  return lines.join('\n') + '\n';
}

// `node dist/cli.js ...` runs the CLI directly, as bin/gowide.js does through main().
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`gowide: ${error instanceof Error && error.stack ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
