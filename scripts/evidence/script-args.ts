// The evidence scripts' command lines: node's parseArgs with the script's usage on a bad option, the
// --seeds list, and how a script ends on an error.
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options' values; an unknown or malformed option throws with the usage line. */
export function readOptions<T extends Options>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, strict: true }).values;
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : err}\n${usage}`);
  }
}

/** --seeds "1,2,3" as numbers (undefined when not given), or what to fix. */
export function seedList(text: string | undefined): number[] | undefined {
  const seeds = text?.split(',').map(Number);
  if (seeds?.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds ${text}: give whole numbers separated by commas, e.g. 1,2,3`);
  return seeds;
}

/** --jobs "2" as a number (undefined when not given), or what to fix. */
export function jobCount(text: string | undefined): number | undefined {
  const jobs = text === undefined ? undefined : Number(text);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`--jobs ${text}: give a whole number from 1`);
  return jobs;
}

/** The options of a script that runs experiments into a runs folder and rewrites a document. */
export interface RunScriptArgs {
  only?: string[];
  /** undefined when --seeds is not given (the script's own seeds apply). */
  seeds?: number[];
  runsDir: string;
  jobs?: number;
  reportOnly: boolean;
}

/** --only, --seeds, --runs-dir (default defaultRunsDir), --jobs and --report-only, or the usage on a bad option. */
export function readRunScriptArgs(argv: string[], usage: string, defaultRunsDir: string): RunScriptArgs {
  const values = readOptions(
    argv,
    { only: { type: 'string' }, seeds: { type: 'string' }, 'runs-dir': { type: 'string' }, jobs: { type: 'string' }, 'report-only': { type: 'boolean' } },
    usage,
  );
  return {
    only: values.only?.split(','),
    seeds: seedList(values.seeds),
    runsDir: resolve(values['runs-dir'] ?? defaultRunsDir),
    jobs: jobCount(values.jobs),
    reportOnly: values['report-only'] ?? false,
  };
}

/** Runs a script's main; an error ends it with its message alone (each says what to fix) and exit code 1. */
export function runScript(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
