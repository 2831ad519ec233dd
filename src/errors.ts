/**
 * Errors that hfpl raises for problems a user can fix (bad input, bad option, missing file).
 * The CLI prints them as one line without a stack and exits non-zero; anything else is a bug
 * and is printed with its stack.
 */
export type HfplErrorCode =
  | 'E_CONFIG' // an option or config file value is invalid
  | 'E_ARG' // a function argument has the wrong shape, rank, dtype or range
  | 'E_IO' // a file or folder is missing or unreadable
  | 'E_IMAGE' // an image is corrupt, truncated or of an unsupported format
  | 'E_MASK' // a mask is missing, of the wrong size, or holds a value that is no class
  | 'E_DATA' // a dataset is inconsistent (list entry with no file, unknown class, bad annotation)
  | 'E_RUN' // a run directory is in a state that forbids the action (e.g. finished, no --force)
  | 'E_ENGINE'; // the tensor engine could not be prepared

export class HfplError extends Error {
  readonly code: HfplErrorCode;
  constructor(code: HfplErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HfplError';
    this.code = code;
  }
}

export function isHfplError(e: unknown): e is HfplError {
  return e instanceof HfplError;
}

/** Throws an `E_ARG` error naming the argument unless `cond` holds. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new HfplError('E_ARG', message);
}
