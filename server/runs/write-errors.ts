// Errors writing a run folder, in words a user can act on: which file, what went wrong, what to do.
// A full disk or a folder without write permission ends the stage; everything written before the
// failing write stays valid (files are replaced atomically, metrics are cut back to their last whole
// line), so the run can be resumed once the cause is fixed.

const EXPLAINED = Symbol('gowide.writeErrorExplained');

export class RunWriteError extends Error {
  readonly [EXPLAINED] = true;
  constructor(
    message: string,
    /** The errno code (ENOSPC, EACCES...). */
    readonly code: string,
    /** The file or folder that could not be written. */
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RunWriteError';
  }
}

const RESUME = 'then resume the run (gowide run FILE --resume, or Go Wide: Resume); everything up to its last checkpoint is kept';

/**
 * A RunWriteError naming `target` for a file-system error with a code users can fix (disk full, no
 * permission, read-only file system, a file where a folder should be); any other error unchanged.
 */
export function explainWriteError(err: unknown, target?: string): unknown {
  if (!(err instanceof Error) || (err as { [EXPLAINED]?: boolean })[EXPLAINED]) return err;
  const e = err as NodeJS.ErrnoException;
  const where = target ?? e.path;
  if (!e.code || !where) return err;
  switch (e.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new RunWriteError(
        `could not write ${where}: the disk is full (${e.code}). Free some space on that disk, or choose a runs folder on another disk, ${RESUME}.`,
        e.code,
        where,
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new RunWriteError(
        `could not write ${where}: ${e.code === 'EROFS' ? 'the file system is read-only' : 'permission denied'} (${e.code}). ` +
          `Make that folder writable for this user, or choose another runs folder (--runs-dir, or the runsDir of startStage), ${RESUME}.`,
        e.code,
        where,
        { cause: err },
      );
    case 'ENOTDIR':
    case 'EEXIST':
      return new RunWriteError(
        `could not write ${where}: part of that path is a file, not a folder (${e.code}). Choose a runs folder that is a folder (--runs-dir, or the runsDir of startStage).`,
        e.code,
        where,
        { cause: err },
      );
    default:
      return err;
  }
}

/** Runs `write`, turning a file-system error into a RunWriteError that names `target`. */
export function explainingWriteErrors<T>(target: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw explainWriteError(err, target);
  }
}
