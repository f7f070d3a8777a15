// The one error type the data loaders throw: it says which file is wrong, what is wrong, and what to do.
export class DataError extends Error {
  constructor(
    /** The file or folder at fault. */
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file}: ${problem}; ${fix}`);
    this.name = 'DataError';
  }
}
