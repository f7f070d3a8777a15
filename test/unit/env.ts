// Tests that flip GOWIDE_* switches put back what was there, so later tests in the same process run
// under the environment they were started with.

/** Snapshots the named variables; the returned function puts them back (deleting those that were unset). */
export function savedEnv(names: readonly string[]): () => void {
  const saved = names.map((name) => [name, process.env[name]] as const);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Runs fn, then restores the named variables to what they were before it, whether fn throws or not. */
export async function restoringEnv<T>(names: readonly string[], fn: () => Promise<T> | T): Promise<T> {
  const restore = savedEnv(names);
  try {
    return await fn();
  } finally {
    restore();
  }
}
