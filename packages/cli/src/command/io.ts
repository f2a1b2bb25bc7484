// Where a command writes and what it reads: the process's streams and environment for the `fdn`
// binary, buffers in tests.

/** A command's surroundings. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The process's stdout, stderr and environment. */
export function processIo(): CommandIo {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    env: process.env,
  };
}
