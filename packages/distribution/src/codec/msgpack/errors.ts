// What the MessagePack writer and reader throw; the codec turns them into @fdn error codes.

/** A value that cannot be written (a function, a symbol, a cycle…). */
export class WriteError extends Error {
  override readonly name = 'WriteError';
}

/** Bytes that are not a valid message (truncated, an unknown extension, over a limit…). */
export class ReadError extends Error {
  override readonly name = 'ReadError';
}

/** A mistake in registering an extension (a programming error, raised at start). */
export class ExtensionError extends Error {
  override readonly name = 'ExtensionError';
}
