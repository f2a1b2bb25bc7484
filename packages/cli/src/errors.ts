// Errors of @fdn/cli, each with a stable code and a message that says what to do.

import { FdnError } from '@fdn/core';

/** The stable codes of @fdn/cli's errors (`err.code`). */
export const CliErrorCode = {
  /** The operations endpoint's options are invalid (the message names the option and what to do). */
  BAD_CONFIG: 'FDN_ERR_OPERATIONS_CONFIG',
  /** The operations endpoint could not listen (the port is taken, or the address is not this machine's). */
  LISTEN_FAILED: 'FDN_ERR_OPERATIONS_LISTEN',
  /** `fdn` could not attach to the cluster: no secret, no contact, the contact did not answer or refused the secret. */
  ATTACH_FAILED: 'FDN_ERR_ATTACH',
  /** `fdn` was called wrongly (an unknown command or option, a bad value). */
  USAGE: 'FDN_ERR_USAGE',
} as const;

/** The exit codes of the `fdn` command. */
export const ExitCode = {
  OK: 0,
  /** The cluster answered with an error, or some node did not answer. */
  FAILED: 1,
  /** Wrong usage: see `fdn help <command>`. */
  USAGE: 2,
  /** Could not attach to the cluster (secret, contact, network). */
  ATTACH: 3,
} as const;

/** One of the {@link CliErrorCode} values. */
export type CliErrorCodeValue = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** An error of @fdn/cli: a stable `code` and a message that says what to do. */
export class CliError extends FdnError {
  declare readonly code: CliErrorCodeValue;
}
