// Supervisor's public API: start a supervision tree and manage its children at run time.

import { isFdnError } from '@fdn/core';
import { ErrorCode } from '../errors.ts';
import { call, stop as stopServer } from '../gen-server/call.ts';
import type { Caller } from '../gen-server/call.ts';
import { startBehaviour } from '../gen-server/start.ts';
import { bootGenServer } from '../gen-server/server.ts';
import type { GenServerBehaviour, StartOptions } from '../gen-server/types.ts';
import type { Pid } from '../pid/pid.ts';
import type { ExitReason } from '../exit/reason.ts';
import type { Dest, ProcessContext } from '../process/types.ts';
import { normalizeSupervisorSpec } from './spec.ts';
import { supervisorBehaviour } from './server.ts';
import type { SupervisorReply, SupervisorRequest } from './server.ts';
import type { AnyChildSpec, ChildCounts, ChildInfo, SupervisorSpec } from './types.ts';

export type { AnyChildSpec, ChildCounts, ChildInfo, ChildSpec, ChildStart, ChildType, RestartType, Shutdown, Strategy, SupervisorSpec } from './types.ts';

/** A spec, or a function computing it inside the supervisor process (OTP's `init/1`). */
export type SupervisorInit = SupervisorSpec | ((ctx: ProcessContext) => SupervisorSpec);

/**
 * Starts a supervisor (not linked to the caller) and its children, in order. Resolves with its
 * pid once every child started. An invalid spec throws `FDN_ERR_INVALID_CHILD_SPEC` before
 * anything starts; a child that fails to start stops the others and rejects with a
 * `StartError` whose reason is `{ shutdown: { failedToStartChild: id, reason } }`.
 *
 * @example
 * const sup = await Supervisor.startLink(ctx, {
 *   strategy: 'oneForOne', intensity: 3, periodMs: 5_000,
 *   children: [{ id: 'cache', start: (c) => GenServer.startLink(c, cache, undefined) }],
 * });
 */
export function start(caller: Caller, spec: SupervisorInit, options?: StartOptions): Promise<Pid> {
  return startSupervisor(caller, spec, options, false);
}

/** As {@link start}, linked to the caller: the usual way to build a tree. */
export function startLink(caller: Caller, spec: SupervisorInit, options?: StartOptions): Promise<Pid> {
  return startSupervisor(caller, spec, options, true);
}

function startSupervisor(caller: Caller, spec: SupervisorInit, options: StartOptions | undefined, link: boolean): Promise<Pid> {
  if (typeof spec !== 'function') {
    try {
      normalizeSupervisorSpec(spec);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const behaviour = supervisorBehaviour as unknown as GenServerBehaviour<unknown, unknown>;
  return startBehaviour(caller, 'Supervisor', (ctx) => bootGenServer(ctx, behaviour, spec), options, link).catch((err: unknown) => {
    // A spec computed inside the supervisor and found invalid surfaces as itself.
    const reason = (err as { reason?: unknown }).reason;
    throw isFdnError(reason, ErrorCode.INVALID_CHILD_SPEC) ? reason : err;
  });
}

/**
 * Adds a child: a child spec (started at once, appended to the start order), or, for a
 * `simpleOneForOne` supervisor, the extra arguments for its template's `start`. Resolves with
 * the pid, or `undefined` if the child's start returned `'ignore'`.
 */
export function startChild(caller: Caller, supervisor: Dest, specOrArgs: AnyChildSpec | unknown[]): Promise<Pid | undefined> {
  const req: SupervisorRequest = Array.isArray(specOrArgs) ? { op: 'startDynamic', args: specOrArgs } : { op: 'startChild', spec: specOrArgs };
  return request(caller, supervisor, req) as Promise<Pid | undefined>;
}

/** Stops a child (by id; for `simpleOneForOne`, by pid). Its spec stays unless it is temporary. */
export function terminateChild(caller: Caller, supervisor: Dest, child: string | Pid): Promise<void> {
  return request(caller, supervisor, { op: 'terminateChild', child }) as Promise<void>;
}

/** Starts again a child that was terminated. */
export function restartChild(caller: Caller, supervisor: Dest, id: string): Promise<Pid | undefined> {
  return request(caller, supervisor, { op: 'restartChild', id }) as Promise<Pid | undefined>;
}

/** Removes the spec of a terminated child. */
export function deleteChild(caller: Caller, supervisor: Dest, id: string): Promise<void> {
  return request(caller, supervisor, { op: 'deleteChild', id }) as Promise<void>;
}

/** The children with their pids, newest first (as OTP's `which_children/1`). */
export function whichChildren(caller: Caller, supervisor: Dest): Promise<ChildInfo[]> {
  return request(caller, supervisor, { op: 'whichChildren' }) as Promise<ChildInfo[]>;
}

/** Counts of specs, running children, supervisors and workers (a `simpleOneForOne` has 1 spec, as in OTP). */
export function countChildren(caller: Caller, supervisor: Dest): Promise<ChildCounts> {
  return request(caller, supervisor, { op: 'countChildren' }) as Promise<ChildCounts>;
}

/**
 * Stops the supervisor in order (OTP's `supervisor:stop/3`): it stops its children in reverse
 * start order, each within its own `shutdown`, then exits with `reason` (default `normal`).
 * Resolves once it has exited; throws `FDN_ERR_NOPROC` if it is not alive and
 * `FDN_ERR_CALL_TIMEOUT` after `timeoutMs` (default: no limit). `GenServer.stop` on a supervisor
 * does the same.
 */
export function stop(caller: Caller, supervisor: Dest, reason: ExitReason = 'normal', timeoutMs: number = Number.POSITIVE_INFINITY): Promise<void> {
  return stopServer(caller, supervisor, reason, timeoutMs);
}

/** Throws `FDN_ERR_INVALID_CHILD_SPEC` if the spec is invalid (OTP's `check_childspecs`). */
export function checkSpec(spec: SupervisorSpec): void {
  normalizeSupervisorSpec(spec);
}

async function request(caller: Caller, supervisor: Dest, req: SupervisorRequest): Promise<unknown> {
  const reply = await call<SupervisorReply>(caller, supervisor, req, Number.POSITIVE_INFINITY);
  if ('error' in reply) throw reply.error;
  return reply.ok;
}
