// The server side of a GenServer: dispatches calls, casts and infos to the behaviour's callbacks,
// applies their results, and turns crashes into terminate + an OTP-style report + exit.

import type { TimerHandle } from '@fdn/core';
import { ActorError, ErrorCode } from '../errors.ts';
import { ExitMessageImpl, isNormalExit } from '../exit/reason.ts';
import type { ExitReason } from '../exit/reason.ts';
import type { Pid } from '../pid/pid.ts';
import type { MessageHandler, Process } from '../process/process.ts';
import { isThenable } from '../util/thenable.ts';
import { summarize } from '../util/inspect.ts';
import { reply } from './call.ts';
import { CallRequest, CastRequest, SystemRequest } from './messages.ts';
import type { FromImpl } from './messages.ts';
import type { Boot } from './start.ts';
import type { CallResult, GenServerBehaviour, InitResult, NoReplyResult } from './types.ts';

type AnyBehaviour<S> = GenServerBehaviour<S, unknown, unknown, unknown, unknown>;
type Result<S> = CallResult<S, unknown> | NoReplyResult<S>;

/** Delivered to itself when an idle `timeout` requested by a callback passes. */
class IdleTimeout {
  constructor(readonly generation: number) {}
}

/** @internal Boots a GenServer in `ctx`: runs init and returns the message handler. */
export function bootGenServer<S>(ctx: Process, behaviour: AnyBehaviour<S>, args: unknown): Boot | Promise<Boot> {
  const server = new GenServerLoop<S>(ctx, behaviour);
  const result = behaviour.init(args, ctx);
  if (isThenable(result)) return Promise.resolve(result).then((r) => server.afterInit(r));
  return server.afterInit(result);
}

class GenServerLoop<S> {
  state: S | undefined = undefined;
  last: unknown = undefined;
  idleTimer: TimerHandle | null = null;
  idleGeneration = 0;
  readonly parent: Pid | null;

  constructor(
    readonly ctx: Process,
    readonly b: AnyBehaviour<S>,
  ) {
    this.parent = ctx.extras?.parent ?? null;
  }

  afterInit(result: InitResult<S>): Boot {
    switch (result.type) {
      case 'ok':
        this.state = result.state;
        this.ctx.ext().describe = () => ({ state: this.#status() });
        this.#after(result);
        return { type: 'run', handler: this.handle };
      case 'stop':
        return { type: 'stop', reason: result.reason };
      case 'ignore':
        return { type: 'ignore' };
      default:
        return { type: 'stop', reason: badReturn('init', result) };
    }
  }

  readonly handle: MessageHandler = (msg) => {
    if (this.idleTimer !== null) {
      this.ctx.rt.clock.clearTimer(this.idleTimer);
      this.idleTimer = null;
    }
    this.last = msg;
    if (msg instanceof CallRequest) return this.#onCall(msg);
    if (msg instanceof CastRequest) return this.#invoke(this.b.handleCast, 'handleCast', msg.request);
    if (msg instanceof SystemRequest) return this.#exit(msg.reason);
    if (msg instanceof ExitMessageImpl && this.parent !== null && msg.from.equals(this.parent)) return this.#exit(msg.reason);
    if (msg instanceof IdleTimeout) {
      if (msg.generation !== this.idleGeneration) return;
      return this.#invoke(this.b.handleInfo, 'handleInfo', 'timeout');
    }
    return this.#invoke(this.b.handleInfo, 'handleInfo', msg);
  };

  #onCall(msg: CallRequest): void | Promise<void> {
    const from = msg.from;
    from.replier = this.ctx.rt;
    if (msg.request instanceof SystemRequest) {
      reply(from, this.state);
      return;
    }
    const cb = this.b.handleCall;
    if (cb === undefined) return this.#crash(new ActorError(ErrorCode.BAD_ARGUMENT, `${this.#name()} received a call but its behaviour has no handleCall`));
    let result: CallResult<S, unknown> | Promise<CallResult<S, unknown>>;
    try {
      result = cb.call(this.b, msg.request, from, this.state as S, this.ctx);
    } catch (err) {
      return this.#crash(err);
    }
    if (isThenable(result)) {
      return result.then(
        (r) => this.#afterCall(from, r),
        (err: unknown) => this.#crash(err),
      );
    }
    return this.#afterCall(from, result);
  }

  #afterCall(from: FromImpl, result: CallResult<S, unknown>): void | Promise<void> {
    switch (result?.type) {
      case 'reply':
        this.state = result.state;
        reply(from, result.reply);
        return this.#after(result);
      case 'noreply':
        this.state = result.state;
        return this.#after(result);
      case 'stop':
        this.state = result.state;
        // As OTP: terminate runs first, then the caller gets its reply.
        return this.#exit(result.reason, 'reply' in result ? () => reply(from, result.reply) : undefined);
      default:
        return this.#crash(badReturn('handleCall', result));
    }
  }

  #invoke(
    cb: ((arg: unknown, state: S, ctx: Process) => NoReplyResult<S> | Promise<NoReplyResult<S>>) | undefined,
    name: string,
    arg: unknown,
  ): void | Promise<void> {
    if (cb === undefined) {
      if (name === 'handleInfo') {
        this.ctx.rt.logger.warn(`${this.#name()} got an unexpected message and has no handleInfo`, { pid: this.ctx.self.toString(), message: summarize(arg) });
        return;
      }
      return this.#crash(new ActorError(ErrorCode.BAD_ARGUMENT, `${this.#name()} received a ${name === 'handleCast' ? 'cast' : 'continue'} but its behaviour has no ${name}`));
    }
    let result: NoReplyResult<S> | Promise<NoReplyResult<S>>;
    try {
      result = cb.call(this.b, arg, this.state as S, this.ctx);
    } catch (err) {
      return this.#crash(err);
    }
    if (isThenable(result)) {
      return result.then(
        (r) => this.#afterNoReply(name, r),
        (err: unknown) => this.#crash(err),
      );
    }
    return this.#afterNoReply(name, result);
  }

  #afterNoReply(name: string, result: NoReplyResult<S>): void | Promise<void> {
    switch (result?.type) {
      case 'noreply':
        this.state = result.state;
        return this.#after(result);
      case 'stop':
        this.state = result.state;
        return this.#exit(result.reason);
      default:
        return this.#crash(badReturn(name, result));
    }
  }

  /** Applies `continue` and `timeout` requests of a result. */
  #after(result: Result<S> | InitResult<S>): void | Promise<void> {
    if (!('state' in result)) return;
    if ('continue' in result && result.continue !== undefined) {
      return this.#invoke(this.b.handleContinue, 'handleContinue', result.continue);
    }
    if ('timeout' in result && result.timeout !== undefined && result.timeout !== Number.POSITIVE_INFINITY) {
      const generation = ++this.idleGeneration;
      this.idleTimer = this.ctx.rt.clock.setTimer(result.timeout, () => {
        this.idleTimer = null;
        this.ctx.deliver(new IdleTimeout(generation));
      });
    }
  }

  /** A callback threw or returned garbage: terminate, report, exit with the error. */
  #crash(err: unknown): void | Promise<void> {
    return this.#exit(err);
  }

  /** Runs `terminate`, reports an abnormal reason, and ends the process. */
  #exit(reason: ExitReason, beforeExit?: () => void): void | Promise<void> {
    if (this.idleTimer !== null) this.ctx.rt.clock.clearTimer(this.idleTimer);
    const terminate = this.b.terminate;
    if (terminate === undefined) {
      this.#final(reason, beforeExit);
      return;
    }
    let result: void | Promise<void>;
    try {
      result = terminate.call(this.b, reason, this.state as S, this.ctx);
    } catch (err) {
      this.#final(err, beforeExit);
      return;
    }
    if (isThenable(result)) {
      return result.then(
        () => {
          this.#final(reason, beforeExit);
        },
        (err: unknown) => {
          this.#final(err, beforeExit);
        },
      );
    }
    this.#final(reason, beforeExit);
  }

  #final(reason: ExitReason, beforeExit: (() => void) | undefined): void {
    beforeExit?.();
    if (!isNormalExit(reason)) {
      this.ctx.rt.logger.error(`${this.ctx.extras?.label ?? 'GenServer'} ${this.#name()} terminating`, {
        pid: this.ctx.self.toString(),
        name: this.ctx.extras?.name ?? undefined,
        lastMessage: summarize(this.last),
        state: this.#status(),
        reason,
      });
    }
    this.ctx.rt.terminate(this.ctx, reason);
  }

  #status(): string {
    const format = this.b.formatStatus;
    if (format === undefined) return summarize(this.state);
    try {
      return summarize(format.call(this.b, this.state as S));
    } catch (err) {
      return `[formatStatus failed: ${String(err)}]`;
    }
  }

  #name(): string {
    return this.b.name ?? this.ctx.extras?.name ?? this.ctx.self.toString();
  }
}

function badReturn(callback: string, value: unknown): ActorError {
  return new ActorError(ErrorCode.BAD_RETURN_VALUE, `${callback} returned ${summarize(value, 200)}; expected one of its result types ({ type: 'reply' | 'noreply' | 'stop', … })`, {
    reason: { badReturnValue: value },
  });
}
