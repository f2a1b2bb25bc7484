// GenServer's public API: start a server from a behaviour object, then call, cast and stop it.

import { ActorError, ErrorCode } from '../errors.ts';
import type { Pid } from '../pid/pid.ts';
import type { Caller } from './call.ts';
import { bootGenServer } from './server.ts';
import { startBehaviour } from './start.ts';
import type { GenServerBehaviour, StartOptions } from './types.ts';

export { call, cast, getState, reply, stop, DEFAULT_CALL_TIMEOUT } from './call.ts';
export type { Caller } from './call.ts';
export type { From } from './messages.ts';
export type { CallResult, GenServerBehaviour, InitResult, NoReplyResult, StartOptions } from './types.ts';

/**
 * Starts a GenServer (not linked to the caller) and resolves with its pid once `init`
 * returned `ok`. Rejects with a `StartError` (code `FDN_ERR_START_FAILED`, `reason` the init's
 * stop reason, the error it threw, `'ignore'`, or `'timeout'`), or `FDN_ERR_NAME_TAKEN`.
 */
export function start<S, A, C, R, K>(caller: Caller, behaviour: GenServerBehaviour<S, A, C, R, K>, args: A, options?: StartOptions): Promise<Pid> {
  return startServer(caller, behaviour, args, options, false);
}

/**
 * As {@link start}, linked to the calling process (the link exists before `init` runs).
 * A failed start unlinks first, so it never takes the caller down.
 */
export function startLink<S, A, C, R, K>(caller: Caller, behaviour: GenServerBehaviour<S, A, C, R, K>, args: A, options?: StartOptions): Promise<Pid> {
  return startServer(caller, behaviour, args, options, true);
}

function startServer<S, A, C, R, K>(caller: Caller, behaviour: GenServerBehaviour<S, A, C, R, K>, args: A, options: StartOptions | undefined, link: boolean): Promise<Pid> {
  const candidate: unknown = behaviour;
  if (typeof candidate !== 'object' || candidate === null || typeof (candidate as { init?: unknown }).init !== 'function') {
    return Promise.reject(new ActorError(ErrorCode.BAD_ARGUMENT, 'GenServer.start expects a behaviour object with an init(args, ctx) function'));
  }
  const b = behaviour as unknown as GenServerBehaviour<S, unknown>;
  return startBehaviour(caller, 'GenServer', (ctx) => bootGenServer(ctx, b, args), options, link);
}
