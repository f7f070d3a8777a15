// Placeholder: `gowide run` is being written; see issue 3.
export async function runCommand(_argv: string[]): Promise<number> {
  process.stderr.write('gowide run: not available yet\n');
  return 2;
}
