// What a command module works with: the global options, the context it runs in, and option parsers.

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Attached } from './attach.ts';
import type { CommandIo } from './io.ts';

/** The global options every command that attaches takes. */
export interface Globals {
  contact?: string;
  secretFile?: string;
  json: boolean;
  timeout: number;
}

/** What a command module gets to register itself and run. */
export interface CommandContext {
  readonly io: CommandIo;
  /** Attaches (from `cmd`'s global options), runs `fn`, detaches; its return is the exit code. */
  withCluster(cmd: Command, fn: (cluster: Attached, globals: Globals) => Promise<number>): Promise<void>;
  /** Sets the exit code of a command that does not attach. */
  exit(code: number): void;
  /** The command keeps running after its action (a node, a server): the binary must not exit. */
  keepRunning(): void;
}

/** A command of `fdn`: adds itself (its arguments, options, action) to the program. */
export interface CommandDefinition {
  register(program: Command, context: CommandContext): void;
}

/** A whole number option within bounds. */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${String(min)} to ${String(max)}`);
    return n;
  };
}
