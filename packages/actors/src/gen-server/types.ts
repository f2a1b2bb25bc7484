// GenServer's behaviour contract: callbacks and their discriminated-union results.

import type { ExitReason } from '../exit/reason.ts';
import type { ProcessContext, SpawnOptions } from '../process/types.ts';
import type { From } from './messages.ts';

/** What a callback may ask for after it returns: an idle timeout or an immediate continuation. */
export interface Then {
  /** If no message arrives within this many ms, `handleInfo('timeout', …)` runs. */
  timeout?: number;
  /** Run `handleContinue(continue, state)` before the next message (OTP's `{continue, C}`). */
  continue?: unknown;
}

/** Result of `init`. */
export type InitResult<S> = ({ type: 'ok'; state: S } & Then) | { type: 'stop'; reason: ExitReason } | { type: 'ignore' };

/** Result of `handleCall`: reply now, reply later (`noreply` + `GenServer.reply(from, …)`), or stop. */
export type CallResult<S, R> =
  | ({ type: 'reply'; reply: R; state: S } & Then)
  | ({ type: 'noreply'; state: S } & Then)
  | { type: 'stop'; reason: ExitReason; state: S; reply?: R };

/** Result of `handleCast`, `handleInfo` and `handleContinue`. */
export type NoReplyResult<S> = ({ type: 'noreply'; state: S } & Then) | { type: 'stop'; reason: ExitReason; state: S };

/** A callback result, returned at once or as a promise. */
export type MaybeAsync<T> = T | Promise<T>;

/**
 * A GenServer: a process that owns a state and answers calls, casts and plain messages.
 * Each callback gets the state and returns the next; `ctx` gives access to process primitives.
 * Callbacks may be async: the server handles one message at a time, the others wait.
 *
 * @example
 * const counter: GenServerBehaviour<number, number, 'get' | 'inc', number> = {
 *   init: (start) => ({ type: 'ok', state: start }),
 *   handleCall: (req, _from, n) =>
 *     req === 'inc' ? { type: 'reply', reply: n + 1, state: n + 1 } : { type: 'reply', reply: n, state: n },
 * };
 */
export interface GenServerBehaviour<S, A = undefined, Call = unknown, Reply = unknown, Cast = unknown> {
  /** Shown in crash reports and `processInfo` (default: the registered name or the pid). */
  readonly name?: string;
  init(args: A, ctx: ProcessContext): MaybeAsync<InitResult<S>>;
  handleCall?(request: Call, from: From, state: S, ctx: ProcessContext): MaybeAsync<CallResult<S, Reply>>;
  handleCast?(request: Cast, state: S, ctx: ProcessContext): MaybeAsync<NoReplyResult<S>>;
  /** Any other message: `EXIT` (when trapping exits), `DOWN`, timers, the string `'timeout'`. */
  handleInfo?(msg: unknown, state: S, ctx: ProcessContext): MaybeAsync<NoReplyResult<S>>;
  handleContinue?(arg: unknown, state: S, ctx: ProcessContext): MaybeAsync<NoReplyResult<S>>;
  /**
   * Runs before the server exits: after a `stop` result, `GenServer.stop`, a crash in a
   * callback, or an exit signal from its parent while trapping exits. Not run on `kill`.
   */
  terminate?(reason: ExitReason, state: S, ctx: ProcessContext): MaybeAsync<void>;
  /** What crash reports and `processInfo` show of the state (default: a short inspection). */
  formatStatus?(state: S): unknown;
}

/** Options of `GenServer.start` / `startLink`. */
export interface StartOptions {
  /** Register the server under this name. */
  name?: string;
  /** Fail the start (and kill the server) if `init` takes longer (default: no limit). */
  timeout?: number;
  /** Spawn options (mailbox bound, exit trapping from the start, …). */
  spawn?: Omit<SpawnOptions, 'name' | 'label'>;
  /**
   * With `startLink`: a failed start also reaches the caller as an exit signal with the init's
   * reason, as OTP's `start_link` does (a caller that does not trap exits then exits too; `ignore`
   * is a `normal` exit). Default false: the failure reaches the caller only as the rejected
   * promise (a `StartError`), and the caller is unlinked first.
   */
  linkOnFailure?: boolean;
}
