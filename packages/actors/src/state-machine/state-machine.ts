// StateMachine: OTP's gen_statem, in two forms. A StateMachineBehaviour (`init` + `handleEvent`)
// is gen_statem itself: postpone, inserted events, enter calls, event/state/generic timeouts,
// call/cast/info, deferred replies (gen-statem.ts). An xstate v5 machine is the other: the process
// owns an xstate actor, mailbox messages become events, `call` and `cast` work on it, delayed
// transitions run on the runtime clock, and a failing action crashes the process like a GenServer
// callback would. `start` tells them apart by shape.

import { createActor, emit } from 'xstate';
import type { ActionArgs, ActionFunction, Actor, AnyEventObject, AnyStateMachine, EventObject, MachineContext, ParameterizedObject } from 'xstate';
import type { Clock } from '@fdn/core';
import { ActorError, ErrorCode } from '../errors.ts';
import { call as genCall, cast as genCast, reply as genReply, stop as genStop } from '../gen-server/call.ts';
import type { Caller } from '../gen-server/call.ts';
import type { From } from '../gen-server/messages.ts';
import { bootGenServer } from '../gen-server/server.ts';
import { startBehaviour } from '../gen-server/start.ts';
import type { CallResult, GenServerBehaviour, NoReplyResult, StartOptions } from '../gen-server/types.ts';
import type { Pid } from '../pid/pid.ts';
import { toProcess } from '../process/process.ts';
import type { Dest } from '../process/types.ts';
import type { ExitReason } from '../exit/reason.ts';
import { genStatemBehaviour } from './gen-statem.ts';
import type { StateMachineBehaviour } from './types.ts';
import { summarize } from '../util/inspect.ts';

/** The emitted event type whose `value` becomes a call's reply (see {@link replyWith}). */
export const REPLY_EVENT = 'fdn.reply';

/**
 * An xstate action that makes the current `call` return `value(args)`.
 *
 * @example
 * on: { balance: { actions: replyWith(({ context }) => context.balance) } }
 */
// Typed like xstate's own `emit`, so the event types are inferred from where it is used.
export function replyWith<TContext extends MachineContext, TExpressionEvent extends EventObject, TParams extends ParameterizedObject['params'] | undefined, TEvent extends EventObject>(
  value: (args: ActionArgs<TContext, TExpressionEvent, TEvent>, params: TParams) => unknown,
): ActionFunction<TContext, TExpressionEvent, TEvent, TParams, never, never, never, never, AnyEventObject> {
  return emit<TContext, TExpressionEvent, TParams, TEvent, AnyEventObject>((args, params) => ({ type: REPLY_EVENT, value: value(args, params) }));
}

/** What a `call` returns when the machine emitted no reply: its state after the event. */
export interface MachineState {
  value: unknown;
  context: unknown;
  status: string;
}

/** Options of `StateMachine.start`. */
export interface StateMachineOptions extends StartOptions {
  /** The machine's input (xstate `input`). */
  input?: unknown;
}

/** Messages that are not events (no string `type`) arrive as `{ type: 'info', message }`. */
export interface InfoEvent {
  type: 'info';
  message: unknown;
}

class MachineEnded {
  constructor(readonly error: unknown) {}
}

interface MachineState$ {
  actor: Actor<AnyStateMachine>;
  /** Replies emitted while handling the current call. */
  replies: unknown[] | null;
  lastEvent: unknown;
}

/**
 * Starts a state machine process (not linked); resolves once it started. Either a gen_statem
 * behaviour (`init(args)` + `handleEvent`) with its `args`, or an xstate machine (options:
 * `input`, …).
 */
export function start<S, D, A>(caller: Caller, behaviour: StateMachineBehaviour<S, D, A>, args: A, options?: StartOptions): Promise<Pid>;
export function start(caller: Caller, machine: AnyStateMachine, options?: StateMachineOptions): Promise<Pid>;
export function start(caller: Caller, machine: unknown, argsOrOptions?: unknown, options?: StartOptions): Promise<Pid> {
  return startEither(caller, machine, argsOrOptions, options, false);
}

/** As {@link start}, linked to the caller. */
export function startLink<S, D, A>(caller: Caller, behaviour: StateMachineBehaviour<S, D, A>, args: A, options?: StartOptions): Promise<Pid>;
export function startLink(caller: Caller, machine: AnyStateMachine, options?: StateMachineOptions): Promise<Pid>;
export function startLink(caller: Caller, machine: unknown, argsOrOptions?: unknown, options?: StartOptions): Promise<Pid> {
  return startEither(caller, machine, argsOrOptions, options, true);
}

/** Answers a call later, from any callback or process (gen_statem:reply/2). */
export function reply(from: From, value: unknown): void {
  genReply(from, value);
}

/**
 * Stops the machine in order (gen_statem:stop/3): it runs `terminate` and exits with `reason`;
 * resolves once it exited. Fails as `GenServer.stop`.
 */
export function stop(caller: Caller, machine: Dest, reason: ExitReason = 'normal', timeoutMs?: number): Promise<void> {
  return genStop(caller, machine, reason, timeoutMs);
}

function startEither(caller: Caller, machine: unknown, argsOrOptions: unknown, options: StartOptions | undefined, link: boolean): Promise<Pid> {
  if (typeof machine === 'object' && machine !== null && typeof (machine as { handleEvent?: unknown }).handleEvent === 'function') {
    const b = machine as StateMachineBehaviour<unknown, unknown, unknown>;
    if (typeof b.init !== 'function') return Promise.reject(new ActorError(ErrorCode.BAD_ARGUMENT, 'a state machine behaviour needs init(args, ctx) beside handleEvent'));
    const behaviour = genStatemBehaviour(b) as unknown as GenServerBehaviour<unknown, unknown>;
    return startBehaviour(caller, 'StateMachine', (ctx) => bootGenServer(ctx, behaviour, argsOrOptions), options, link);
  }
  return startMachine(caller, machine as AnyStateMachine, argsOrOptions as StateMachineOptions | undefined, link);
}

/**
 * Sends `event` and waits for the answer. A gen_statem behaviour gets `{ type: 'call', from,
 * content: event }` and answers with a `reply` action or `StateMachine.reply(from, …)`. An xstate
 * machine returns the value of a {@link replyWith} action that ran for the event, else its state
 * after it ({@link MachineState}). Fails like `GenServer.call`.
 */
export function call<Reply = MachineState>(caller: Caller, machine: Dest, event: unknown, timeoutMs?: number): Promise<Reply> {
  return genCall<Reply>(caller, machine, event, timeoutMs);
}

/** Sends `event` without waiting (a behaviour gets `{ type: 'cast', content: event }`). */
export function cast(caller: Caller, machine: Dest, event: unknown): void {
  genCast(caller, machine, event);
}

function startMachine(caller: Caller, machine: AnyStateMachine, options: StateMachineOptions | undefined, link: boolean): Promise<Pid> {
  const candidate: unknown = machine;
  if (typeof candidate !== 'object' || candidate === null || typeof (candidate as { transition?: unknown }).transition !== 'function') {
    return Promise.reject(new ActorError(ErrorCode.BAD_ARGUMENT, 'StateMachine.start expects an xstate machine (createMachine / setup(...).createMachine)'));
  }
  const behaviour = machineBehaviour(machine, options?.input) as unknown as GenServerBehaviour<unknown, unknown>;
  return startBehaviour(caller, 'StateMachine', (ctx) => bootGenServer(ctx, behaviour, undefined), options, link);
}

function toEvent(msg: unknown): AnyEventObject {
  if (typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string') return msg as AnyEventObject;
  return { type: 'info', message: msg } satisfies InfoEvent;
}

function xstateClock(clock: Clock): { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void } {
  return {
    setTimeout: (fn, ms) => clock.setTimer(ms, fn),
    clearTimeout: (id) => {
      clock.clearTimer(id as object);
    },
  };
}

function machineBehaviour(machine: AnyStateMachine, input: unknown): GenServerBehaviour<MachineState$, undefined, AnyEventObject, unknown, AnyEventObject> {
  const afterEvent = (s: MachineState$): NoReplyResult<MachineState$> => {
    const snapshot = s.actor.getSnapshot();
    if (snapshot.status === 'error') return { type: 'stop', reason: snapshot.error, state: s };
    if (snapshot.status === 'done' || snapshot.status === 'stopped') return { type: 'stop', reason: 'normal', state: s };
    return { type: 'noreply', state: s };
  };
  const send = (s: MachineState$, event: AnyEventObject): NoReplyResult<MachineState$> => {
    s.lastEvent = event;
    s.actor.send(event);
    return afterEvent(s);
  };
  return {
    name: machine.id,
    init(_args, ctx) {
      const proc = toProcess(ctx);
      const actor = createActor(machine, { clock: xstateClock(proc.rt.clock), input, id: proc.self.toString() });
      const s: MachineState$ = { actor, replies: null, lastEvent: undefined };
      actor.on(REPLY_EVENT, (e: AnyEventObject) => s.replies?.push((e as { value?: unknown }).value));
      // Transitions outside a handler (delayed ones) that fail or finish end the process too.
      actor.subscribe({
        error: (err) => {
          ctx.send(ctx.self, new MachineEnded(err));
        },
        complete: () => {
          ctx.send(ctx.self, new MachineEnded(undefined));
        },
      });
      proc.onExit(() => {
        actor.stop();
      });
      actor.start();
      const status = actor.getSnapshot().status;
      if (status === 'error') return { type: 'stop', reason: actor.getSnapshot().error };
      return { type: 'ok', state: s };
    },
    handleCall(event, _from: From, s): CallResult<MachineState$, unknown> {
      s.replies = [];
      const result = send(s, toEvent(event));
      const replies = s.replies;
      s.replies = null;
      const snapshot = s.actor.getSnapshot();
      const reply = replies.length > 0 ? replies[replies.length - 1] : ({ value: snapshot.value, context: snapshot.context, status: snapshot.status } satisfies MachineState);
      if (result.type === 'stop') return { type: 'stop', reason: result.reason, state: s, ...(snapshot.status === 'error' ? {} : { reply }) };
      return { type: 'reply', reply, state: s };
    },
    handleCast(event, s) {
      return send(s, toEvent(event));
    },
    handleInfo(msg, s) {
      if (msg instanceof MachineEnded) return msg.error === undefined ? { type: 'stop', reason: 'normal', state: s } : { type: 'stop', reason: msg.error, state: s };
      return send(s, toEvent(msg));
    },
    terminate(_reason, s) {
      s.actor.stop();
    },
    formatStatus(s) {
      const snapshot = s.actor.getSnapshot();
      const value: unknown = snapshot.value;
      return { state: value, context: summarize(snapshot.context, 300), lastEvent: summarize(s.lastEvent, 200) };
    },
  };
}
