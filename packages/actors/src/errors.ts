// Every error @fdn/actors throws: named classes with stable codes. Callers test `code`.

import { FdnError } from '@fdn/core';

/** Stable error codes of @fdn/actors. */
export const ErrorCode = {
  /** The target process is not alive (or the name is not registered). */
  NOPROC: 'FDN_ERR_NOPROC',
  /** A `call` got no reply within its timeout. */
  CALL_TIMEOUT: 'FDN_ERR_CALL_TIMEOUT',
  /** The called process exited before it replied; `reason` holds its exit reason. */
  CALL_EXIT: 'FDN_ERR_CALL_EXIT',
  /** A process tried to `call` itself, which can only deadlock. */
  CALLING_SELF: 'FDN_ERR_CALLING_SELF',
  /** The connection to the callee's node was lost during a `call`. */
  NOCONNECTION: 'FDN_ERR_NOCONNECTION',
  /** `spawn` or `GenServer.start` with a name another live process holds (OTP's `{already_started, Pid}`; `reason.alreadyStarted`). */
  NAME_TAKEN: 'FDN_ERR_NAME_TAKEN',
  /** @deprecated No longer thrown: `register` refuses with {@link ErrorCode.BADARG} (`reason.badarg: 'already_registered'`). */
  ALREADY_REGISTERED: 'FDN_ERR_ALREADY_REGISTERED',
  /** `register` refused, as OTP's `badarg`: `reason.badarg` says why (`noproc`, `already_registered`, `name_taken`, `reserved_name`, `bad_name`). */
  BADARG: 'FDN_ERR_BADARG',
  /** `send` to a local name that no process holds (Erlang's `badarg`). */
  NOT_REGISTERED: 'FDN_ERR_NOT_REGISTERED',
  /** A bad argument: a non-function body, an invalid option or name. */
  BAD_ARGUMENT: 'FDN_ERR_BAD_ARGUMENT',
  /** Two `receive` calls pending at once in one process. */
  RECEIVE_PENDING: 'FDN_ERR_RECEIVE_PENDING',
  /** A process's mailbox passed its bound under the `exit` overflow policy. */
  MAILBOX_OVERFLOW: 'FDN_ERR_MAILBOX_OVERFLOW',
  /** A child spec or supervisor spec is invalid; nothing was started. */
  INVALID_CHILD_SPEC: 'FDN_ERR_INVALID_CHILD_SPEC',
  /** A process failed to start (init stopped, threw, or timed out); `reason` says why. */
  START_FAILED: 'FDN_ERR_START_FAILED',
  /** A supervisor already has a child with this id. */
  CHILD_ALREADY_PRESENT: 'FDN_ERR_CHILD_ALREADY_PRESENT',
  /** A supervisor has no child with this id. */
  CHILD_NOT_FOUND: 'FDN_ERR_CHILD_NOT_FOUND',
  /** The child is running, so it cannot be restarted or deleted. */
  CHILD_RUNNING: 'FDN_ERR_CHILD_RUNNING',
  /** The operation does not apply to this supervisor strategy. */
  SIMPLE_ONE_FOR_ONE: 'FDN_ERR_SIMPLE_ONE_FOR_ONE',
  /** A behaviour callback returned something that is not one of its result types. */
  BAD_RETURN_VALUE: 'FDN_ERR_BAD_RETURN_VALUE',
  /** A process run with `runtime.run` exited other than by returning; `reason` says how. */
  EXITED: 'FDN_ERR_EXITED',
  /** The runtime was stopped. */
  RUNTIME_STOPPED: 'FDN_ERR_RUNTIME_STOPPED',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Errors thrown by @fdn/actors. `reason` carries an exit reason where one applies. */
export class ActorError extends FdnError {
  readonly reason: unknown;

  constructor(code: ErrorCodeValue, message: string, options?: { reason?: unknown; cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options?.reason;
  }
}

/** A `call` failed: timeout, noproc, the callee exited, or the connection was lost. */
export class CallError extends ActorError {}

/** A child or supervisor spec is invalid; thrown before anything starts. */
export class InvalidChildSpecError extends ActorError {
  constructor(message: string) {
    super(ErrorCode.INVALID_CHILD_SPEC, message);
  }
}

/** A process could not be started; `reason` is what init returned or threw. */
export class StartError extends ActorError {}
