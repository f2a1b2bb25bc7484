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
import { endWith, fail, SpanKind, withIncoming } from '../trace/trace.ts';
import { CallRequest, CastRequest, SystemRequest, TracedCallRequest, TracedCastRequest } from './messages.ts';
import type { FromImpl } from './messages.ts';
import type { Boot } from './start.ts';
import type { CallResult, GenServerBehaviour, InitResult, NoReplyResult } from './types.ts';

type AnyBehaviour<S> = GenServerBehaviour<S, unknown>;
type NoReplyCallback = 'handleCast' | 'handleInfo' | 'handleContinue';
type Outcome = void | Promise<void>;

/** What a result may ask for after it is applied (OTP's timeout and `{continue, _}`). */
interface Then {
  continue?: unknown;
  timeout?: number;
}

/** The `type` tag of a callback result, read defensively: callbacks are user code. */
function tagOf(result: unknown): unknown {
  return typeof result === 'object' && result !== null ? (result as { type?: unknown }).type : undefined;
}

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

class GenServerLoop<S> implements MessageHandler {
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
    switch (tagOf(result)) {
      case 'ok': {
        const ok = result as Extract<InitResult<S>, { type: 'ok' }>;
        this.state = ok.state;
        const pending = ok.continue !== undefined || ok.timeout !== undefined;
        // A continue requested by init runs before any message, guarded like a handler.
        return { type: 'run', handler: this, after: pending ? () => this.#then(ok) : undefined };
      }
      case 'stop':
        return { type: 'stop', reason: (result as Extract<InitResult<S>, { type: 'stop' }>).reason };
      case 'ignore':
        return { type: 'ignore' };
      default:
        return { type: 'stop', reason: badReturn('init', result) };
    }
  }

  describe(): Record<string, unknown> {
    // The last message it took (what OTP's crash report calls the last message), for the observer and `fdn info`.
    return this.last === undefined ? { state: this.#status() } : { state: this.#status(), lastMessage: summarize(this.last) };
  }

  handle(msg: unknown): Outcome {
    if (this.idleTimer !== null) {
      this.ctx.rt.clock.clearTimer(this.idleTimer);
      this.idleTimer = null;
    }
    this.last = msg;
    if (msg instanceof CallRequest) {
      return msg instanceof TracedCallRequest ? this.#traced('GenServer.handleCall', SpanKind.SERVER, msg, () => this.#onCall(msg)) : this.#onCall(msg);
    }
    if (msg instanceof CastRequest) {
      return msg instanceof TracedCastRequest ? this.#traced('GenServer.handleCast', SpanKind.CONSUMER, msg, () => this.#invoke('handleCast', msg.request)) : this.#invoke('handleCast', msg.request);
    }
    if (msg instanceof SystemRequest) return this.#exit(msg.reason);
    if (msg instanceof ExitMessageImpl && this.parent !== null && msg.from.equals(this.parent)) return this.#exit(msg.reason);
    if (msg instanceof IdleTimeout) {
      if (msg.generation !== this.idleGeneration) return;
      return this.#invoke('handleInfo', 'timeout');
    }
    return this.#invoke('handleInfo', msg);
  }

  // ==== Callbacks ====

  /** Handles a request that carried a trace context inside a span of its own, ended when the callback is done. */
  #traced(name: string, kind: SpanKind, msg: TracedCallRequest | TracedCastRequest, run: () => Outcome): Outcome {
    const attributes = { 'rpc.system': 'fdn', 'fdn.pid': this.ctx.self.toString(), 'fdn.node': this.ctx.self.node, 'fdn.name': this.#name() };
    return withIncoming(name, kind, msg.trace, msg.arrivedAt, attributes, (span) => {
      let outcome: Outcome;
      try {
        outcome = run();
      } catch (err) {
        fail(span, err);
        throw err;
      }
      if (!isThenable(outcome)) {
        span.end();
        return outcome;
      }
      return endWith(span, outcome);
    });
  }

  #onCall(msg: CallRequest): Outcome {
    const from = msg.from;
    from.replier = this.ctx.rt;
    if (msg.request instanceof SystemRequest) {
      reply(from, this.state);
      return;
    }
    if (typeof this.b.handleCall !== 'function') {
      return this.#exit(new ActorError(ErrorCode.BAD_ARGUMENT, `${this.#name()} received a call but its behaviour has no handleCall`));
    }
    let result: CallResult<S, unknown> | Promise<CallResult<S, unknown>>;
    try {
      result = this.b.handleCall(msg.request, from, this.state as S, this.ctx);
    } catch (err) {
      return this.#exit(err);
    }
    if (isThenable(result)) {
      return result.then(
        (r) => this.#afterCall(from, r),
        (err: unknown) => this.#exit(err),
      );
    }
    return this.#afterCall(from, result);
  }

  #afterCall(from: FromImpl, result: CallResult<S, unknown>): Outcome {
    switch (tagOf(result)) {
      case 'reply': {
        const r = result as Extract<CallResult<S, unknown>, { type: 'reply' }>;
        this.state = r.state;
        reply(from, r.reply);
        return this.#then(r);
      }
      case 'noreply': {
        const r = result as Extract<CallResult<S, unknown>, { type: 'noreply' }>;
        this.state = r.state;
        return this.#then(r);
      }
      case 'stop': {
        const r = result as Extract<CallResult<S, unknown>, { type: 'stop' }>;
        this.state = r.state;
        // As OTP: terminate runs first, then the caller gets its reply.
        return this.#exit(
          r.reason,
          'reply' in r
            ? () => {
                reply(from, r.reply);
              }
            : undefined,
        );
      }
      default:
        return this.#exit(badReturn('handleCall', result));
    }
  }

  #invoke(name: NoReplyCallback, arg: unknown): Outcome {
    if (typeof this.b[name] !== 'function') {
      if (name === 'handleInfo') {
        this.ctx.rt.logger.warn(`${this.#name()} got an unexpected message and has no handleInfo`, { pid: this.ctx.self.toString(), message: summarize(arg) });
        return;
      }
      return this.#exit(new ActorError(ErrorCode.BAD_ARGUMENT, `${this.#name()} received a ${name === 'handleCast' ? 'cast' : 'continue'} but its behaviour has no ${name}`));
    }
    let result: NoReplyResult<S> | Promise<NoReplyResult<S>> | undefined;
    try {
      // Called through the behaviour object, so `this` inside the callback is the behaviour.
      result = this.b[name](arg, this.state as S, this.ctx);
    } catch (err) {
      return this.#exit(err);
    }
    if (isThenable(result)) {
      return result.then(
        (r) => this.#afterNoReply(name, r),
        (err: unknown) => this.#exit(err),
      );
    }
    return this.#afterNoReply(name, result);
  }

  #afterNoReply(name: string, result: NoReplyResult<S> | undefined): Outcome {
    switch (tagOf(result)) {
      case 'noreply': {
        const r = result as Extract<NoReplyResult<S>, { type: 'noreply' }>;
        this.state = r.state;
        return this.#then(r);
      }
      case 'stop': {
        const r = result as Extract<NoReplyResult<S>, { type: 'stop' }>;
        this.state = r.state;
        return this.#exit(r.reason);
      }
      default:
        return this.#exit(badReturn(name, result));
    }
  }

  /** Applies a result's `continue` (run now) or `timeout` (arm the idle timer). */
  #then(result: Then): Outcome {
    if (result.continue !== undefined) return this.#invoke('handleContinue', result.continue);
    const timeout = result.timeout;
    if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
      const generation = ++this.idleGeneration;
      this.idleTimer = this.ctx.rt.clock.setTimer(timeout, () => {
        this.idleTimer = null;
        this.ctx.deliver(new IdleTimeout(generation));
      });
    }
  }

  // ==== Exit ====

  /**
   * Runs `terminate`, reports an abnormal reason, and ends the process. Callback crashes come
   * here too (OTP calls terminate for them); an error in terminate becomes the exit reason.
   */
  #exit(reason: ExitReason, beforeExit?: () => void): Outcome {
    if (this.idleTimer !== null) this.ctx.rt.clock.clearTimer(this.idleTimer);
    if (typeof this.b.terminate !== 'function') {
      this.#final(reason, beforeExit);
      return;
    }
    let result: void | Promise<void>;
    try {
      result = this.b.terminate(reason, this.state as S, this.ctx);
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
    if (typeof this.b.formatStatus !== 'function') return summarize(this.state);
    try {
      return summarize(this.b.formatStatus(this.state as S));
    } catch (err) {
      return `[formatStatus failed: ${String(err)}]`;
    }
  }

  #name(): string {
    return this.b.name ?? this.ctx.extras?.name ?? this.ctx.self.toString();
  }
}

/** What each callback may return, for the error when it returns something else. */
const RESULT_TYPES: Record<string, string> = {
  init: "{ type: 'ok', state } | { type: 'stop', reason } | { type: 'ignore' }",
  handleCall: "{ type: 'reply', reply, state } | { type: 'noreply', state } | { type: 'stop', reason, state }",
  handleCast: "{ type: 'noreply', state } | { type: 'stop', reason, state }",
  handleInfo: "{ type: 'noreply', state } | { type: 'stop', reason, state }",
  handleContinue: "{ type: 'noreply', state } | { type: 'stop', reason, state }",
};

function badReturn(callback: string, value: unknown): ActorError {
  const hint = value === undefined ? ' (did it forget to return, or return from an inner function?)' : '';
  return new ActorError(ErrorCode.BAD_RETURN_VALUE, `${callback} returned ${summarize(value, 200)}${hint}; ${callback} must return ${RESULT_TYPES[callback] ?? 'one of its result types'}`, {
    reason: { badReturnValue: value },
  });
}
