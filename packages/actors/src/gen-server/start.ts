// Starting a behaviour process and waiting for its init, shared by GenServer, Supervisor and
// StateMachine (OTP's proc_lib:start_link). A failed init never takes the caller down.

import { ErrorCode, StartError } from '../errors.ts';
import { formatReason } from '../exit/reason.ts';
import type { ExitReason } from '../exit/reason.ts';
import type { Pid } from '../pid/pid.ts';
import { toProcess } from '../process/process.ts';
import type { LoopStart, MessageHandler, Process, ProcessHost } from '../process/process.ts';
import { Runtime } from '../runtime/runtime.ts';
import type { Caller } from './call.ts';
import { isThenable } from '../util/thenable.ts';
import type { StartOptions } from './types.ts';

/** What a behaviour's boot step decides. */
export type Boot = { type: 'run'; handler: MessageHandler; after?: (() => void | PromiseLike<void>) | undefined } | { type: 'stop'; reason: ExitReason } | { type: 'ignore' };

const IGNORE_ALL: LoopStart = { handler: { handle: () => undefined } };

/**
 * Spawns a behaviour process, runs `boot` in it, and resolves with its pid once `boot` returns
 * a handler. If boot stops, ignores, throws, times out, or the process dies first, the process
 * is unlinked from the caller and ends, and the promise rejects with a `StartError`
 * (`reason` is the init's reason, or `'ignore'`).
 */
export function startBehaviour(
  caller: Caller,
  label: string,
  boot: (ctx: Process) => Boot | PromiseLike<Boot>,
  options: StartOptions | undefined,
  link: boolean,
): Promise<Pid> {
  const rt: ProcessHost = caller instanceof Runtime ? caller : toProcess(caller).rt;
  const parent = caller instanceof Runtime ? null : toProcess(caller);
  return new Promise<Pid>((resolve, reject) => {
    let settled = false;
    let timer: object | null = null;
    let removeExitHook: (() => void) | null = null;
    const settle = (ok: boolean, value: Pid | StartError): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) rt.clock.clearTimer(timer);
      removeExitHook?.();
      removeExitHook = null;
      if (ok) resolve(value as Pid);
      else reject(value);
    };
    const fail = (ctx: Process, reason: ExitReason, crashed: boolean): LoopStart => {
      // OTP's start_link leaves the link in place, so the caller gets the exit signal; by default @fdn unlinks first.
      if (parent !== null && options?.linkOnFailure !== true) ctx.unlink(parent.self);
      const what = reason === 'ignore' ? 'ignored its start' : `failed to start: ${formatReason(reason)}`;
      settle(false, new StartError(ErrorCode.START_FAILED, `${label} ${ctx.self} ${what}`, { reason }));
      if (crashed) rt.crash(ctx, reason);
      else rt.terminate(ctx, reason === 'ignore' ? 'normal' : reason);
      return IGNORE_ALL;
    };
    const decide = (ctx: Process, result: Boot): LoopStart => {
      if (!ctx.alive) return IGNORE_ALL;
      if (result.type === 'run') {
        settle(true, ctx.self);
        return { handler: result.handler, after: result.after };
      }
      return fail(ctx, result.type === 'stop' ? result.reason : 'ignore', false);
    };
    let proc: Process;
    try {
      const spawnOptions = { ...options?.spawn, label, ...(options?.name === undefined ? {} : { name: options.name }) };
      proc = rt.spawnLoop(
        parent,
        (ctx) => {
          let result: Boot | PromiseLike<Boot>;
          try {
            result = boot(ctx);
          } catch (err) {
            return fail(ctx, err, true);
          }
          if (isThenable(result)) {
            return Promise.resolve(result).then(
              (r) => decide(ctx, r),
              (err: unknown) => fail(ctx, err, true),
            );
          }
          return decide(ctx, result);
        },
        spawnOptions,
        link,
      );
    } catch (err) {
      reject(err);
      return;
    }
    // Removed once the start settles: a long-lived server must not keep this closure.
    removeExitHook = proc.onExit((reason) => {
      settle(false, new StartError(ErrorCode.START_FAILED, `${label} ${proc.self} exited during init: ${formatReason(reason)}`, { reason }));
    });
    const timeout = options?.timeout;
    if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
      timer = rt.clock.setTimer(timeout, () => {
        timer = null;
        if (settled) return;
        if (parent !== null) proc.unlink(parent.self);
        settle(false, new StartError(ErrorCode.START_FAILED, `${label} ${proc.self} did not finish init within ${timeout} ms`, { reason: 'timeout' }));
        rt.terminate(proc, 'killed');
      });
    }
  });
}
