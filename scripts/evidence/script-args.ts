// The evidence scripts' command lines: node's parseArgs with the script's usage on a bad option, and
// the --seeds list.
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
