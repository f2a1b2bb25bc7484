// The base of every @fdn error: a stable `code` that callers test, and a message that says what to do.

/**
 * Base class of `@fdn` errors. Test `err.code` (a stable string such as `FDN_ERR_NOPROC`),
 * not the message or the class.
 */
export class FdnError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is an {@link FdnError}, optionally with the given code. */
export function isFdnError(err: unknown, code?: string): err is FdnError {
  return err instanceof FdnError && (code === undefined || err.code === code);
}
