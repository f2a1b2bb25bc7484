// The gen_statem engine: a StateMachineBehaviour run as a GenServer whose state is the machine
// (state, data, the queue of events to handle before the mailbox, the postponed events, the
// armed timeouts). Each mailbox message becomes an event; after it, the queue is drained to empty
// before the next message is taken, which is how gen_statem orders inserted and retried events.
// Written without xstate: postponing, inserted events, enter calls with the previous state and
// OTP's three timeout kinds have no xstate counterpart (see README "StateMachine").

import { ActorError, ErrorCode } from '../errors.ts';
import type { ExitReason } from '../exit/reason.ts';
import { reply } from '../gen-server/call.ts';
import type { CallResult, GenServerBehaviour, NoReplyResult } from '../gen-server/types.ts';
import type { ProcessContext, TimerRef } from '../process/types.ts';
import { summarize } from '../util/inspect.ts';
import type { InsertedEvent, StateMachineAction, StateMachineBehaviour } from './types.ts';

/** A timeout that fired; `gen` tells a current one from one cancelled or replaced meanwhile. */
class TimeoutFired {
  constructor(
    readonly key: string,
    readonly gen: number,
    readonly event: InsertedEvent,
  ) {}
}

/** A queued timeout of 0 (behind the events already queued): still current while `armed` holds its gen. */
class ZeroTimeout {
  constructor(
    readonly key: string,
    readonly gen: number,
    readonly event: InsertedEvent,
  ) {}
}

type Queued = InsertedEvent | ZeroTimeout;

/** A machine that asked to stop, and why. */
interface Stop {
  reason: ExitReason;
}

/** The machine: what the GenServer keeps as its state. */
interface Machine<S, D> {
  state: S;
  data: D;
  /** Events to handle before the next mailbox message. */
  queue: Queued[];
  postponed: InsertedEvent[];
  /** Armed timeouts by key (`timeout`, `state_timeout`, `generic_timeout:<name>`): their gen and timer. */
  armed: Map<string, { gen: number; timer: TimerRef | null }>;
  gen: number;
  lastEvent: unknown;
}

const EVENT_TIMEOUT = 'timeout';
const STATE_TIMEOUT = 'state_timeout';
/** Bound on consecutive `repeat_state` answers from enter calls (an enter call that always repeats would never return). */
const MAX_ENTER_REPEATS = 1_000;

const RESULT_TYPES = "{ type: 'next_state', state, data?, actions? } | { type: 'keep_state', data?, actions? } | { type: 'repeat_state', data?, actions? } | { type: 'stop', reason, data?, actions? }";

/** `behaviour` as GenServer callbacks. */
export function genStatemBehaviour<S, D, A>(behaviour: StateMachineBehaviour<S, D, A>): GenServerBehaviour<Machine<S, D>, A> {
  const b = behaviour;
  return {
    ...(b.name === undefined ? {} : { name: b.name }),
    async init(args, ctx) {
      const r = await b.init(args, ctx);
      if (r.type === 'stop' || r.type === 'ignore') return r;
      if ((r.type as string) !== 'ok') throw badReturn('init', r, "{ type: 'ok', state, data, actions? } | { type: 'stop', reason } | { type: 'ignore' }");
      const m: Machine<S, D> = { state: r.state, data: r.data, queue: [], postponed: [], armed: new Map(), gen: 0, lastEvent: undefined };
      const inserted: InsertedEvent[] = [];
      applyActions(m, r.actions ?? [], inserted, ctx, 'init');
      m.queue.unshift(...inserted);
      const stop = await enter(b, m, r.state, ctx);
      if (stop !== null) return { type: 'stop', reason: stop.reason };
      // Events inserted by init or the first enter call run before any message.
      return m.queue.length > 0 ? { type: 'ok', state: m, continue: true } : { type: 'ok', state: m };
    },
    async handleCall(content, from, m, ctx): Promise<CallResult<Machine<S, D>, unknown>> {
      return run(b, m, { type: 'call', from, content }, ctx);
    },
    async handleCast(content, m, ctx) {
      return run(b, m, { type: 'cast', content }, ctx);
    },
    async handleInfo(msg, m, ctx) {
      if (msg instanceof TimeoutFired) {
        const armed = m.armed.get(msg.key);
        // Cancelled or replaced since: not an event any more.
        if (armed?.gen !== msg.gen) return { type: 'noreply', state: m };
        m.armed.delete(msg.key);
        return run(b, m, msg.event, ctx);
      }
      return run(b, m, { type: 'info', content: msg }, ctx);
    },
    async handleContinue(_arg, m, ctx) {
      return drain(b, m, ctx);
    },
    async terminate(reason, m, ctx) {
      for (const { timer } of m.armed.values()) if (timer !== null) ctx.cancelTimer(timer);
      await b.terminate?.(reason, m.state, m.data, ctx);
    },
    formatStatus(m) {
      if (b.formatStatus !== undefined) return b.formatStatus(m.state, m.data);
      return { state: summarize(m.state, 200), data: summarize(m.data, 300), lastEvent: summarize(m.lastEvent, 200), queued: m.queue.length, postponed: m.postponed.length };
    },
  };
}

/** Handles `event`, then everything queued behind it, before the next mailbox message. */
async function run<S, D>(b: StateMachineBehaviour<S, D, unknown>, m: Machine<S, D>, event: InsertedEvent, ctx: ProcessContext): Promise<NoReplyResult<Machine<S, D>>> {
  const stop = await handle(b, m, event, ctx);
  if (stop !== null) return { type: 'stop', reason: stop.reason, state: m };
  return drain(b, m, ctx);
}

async function drain<S, D>(b: StateMachineBehaviour<S, D, unknown>, m: Machine<S, D>, ctx: ProcessContext): Promise<NoReplyResult<Machine<S, D>>> {
  for (let next = m.queue.shift(); next !== undefined; next = m.queue.shift()) {
    let event: InsertedEvent;
    if (next instanceof ZeroTimeout) {
      if (m.armed.get(next.key)?.gen !== next.gen) continue;
      m.armed.delete(next.key);
      event = next.event;
    } else {
      event = next;
    }
    const stop = await handle(b, m, event, ctx);
    if (stop !== null) return { type: 'stop', reason: stop.reason, state: m };
  }
  return { type: 'noreply', state: m };
}

/** One event through `handleEvent` and the transition it asks for; returns a stop, or null. */
async function handle<S, D>(b: StateMachineBehaviour<S, D, unknown>, m: Machine<S, D>, event: InsertedEvent, ctx: ProcessContext): Promise<Stop | null> {
  // Any event cancels the event timeout.
  cancel(m, EVENT_TIMEOUT, ctx);
  m.lastEvent = event;
  const r = await b.handleEvent(event, m.state, m.data, ctx);
  const oldState = m.state;
  const inserted: InsertedEvent[] = [];
  if (r.type === 'stop') {
    if (r.data !== undefined) m.data = r.data;
    applyActions(m, r.actions ?? [], inserted, ctx, 'stop');
    return { reason: r.reason };
  }
  const kind = r.type as string;
  if (r.type === 'next_state') m.state = r.state;
  else if (kind !== 'keep_state' && kind !== 'repeat_state') throw badReturn('handleEvent', r, RESULT_TYPES);
  if (r.data !== undefined) m.data = r.data;
  const changed = r.type === 'next_state' && !sameState(oldState, r.state);
  // A change of state cancels the state timeout before this transition's actions may start a new one.
  if (changed) cancel(m, STATE_TIMEOUT, ctx);
  const postpone = applyActions(m, r.actions ?? [], inserted, ctx, 'transition');
  if (postpone) m.postponed.push(event);
  if (changed) {
    // Postponed events come back, in order, after the inserted ones and before the rest.
    const retried = m.postponed;
    m.postponed = [];
    m.queue.unshift(...inserted, ...retried);
  } else {
    m.queue.unshift(...inserted);
  }
  if (b.stateEnter === true && (changed || r.type === 'repeat_state')) return enter(b, m, oldState, ctx);
  return null;
}

/** Runs the state enter call (when the behaviour asks for them); returns a stop, or null. */
async function enter<S, D>(b: StateMachineBehaviour<S, D, unknown>, m: Machine<S, D>, oldState: S, ctx: ProcessContext): Promise<Stop | null> {
  if (b.stateEnter !== true) return null;
  for (let repeats = 0; repeats < MAX_ENTER_REPEATS; repeats++) {
    const r = await b.handleEvent({ type: 'enter', oldState }, m.state, m.data, ctx);
    const inserted: InsertedEvent[] = [];
    if (r.type === 'stop') {
      if (r.data !== undefined) m.data = r.data;
      applyActions(m, r.actions ?? [], inserted, ctx, 'stop');
      return { reason: r.reason };
    }
    // An enter call may not change the state (gen_statem: only to the same state).
    if (r.type === 'next_state' && !sameState(r.state, m.state)) throw badReturn('handleEvent (a state enter call)', r, "{ type: 'keep_state' | 'repeat_state', data?, actions? } (an enter call cannot change the state)");
    const kind = r.type as string;
    if (kind !== 'next_state' && kind !== 'keep_state' && kind !== 'repeat_state') throw badReturn('handleEvent (a state enter call)', r, RESULT_TYPES);
    if (r.data !== undefined) m.data = r.data;
    applyActions(m, r.actions ?? [], inserted, ctx, 'enter');
    if (r.type !== 'repeat_state') return null;
  }
  throw new ActorError(ErrorCode.BAD_RETURN_VALUE, `a state enter call answered repeat_state ${String(MAX_ENTER_REPEATS)} times in a row`);
}

/**
 * Applies transition actions in order: replies now, inserted events into `inserted`, timeouts
 * armed (a later one of the same key wins). Returns whether the event is postponed.
 */
function applyActions<S, D>(m: Machine<S, D>, actions: readonly StateMachineAction[], inserted: InsertedEvent[], ctx: ProcessContext, where: 'init' | 'transition' | 'enter' | 'stop'): boolean {
  let postpone = false;
  const timeouts = new Map<string, { ms: number; event: InsertedEvent }>();
  for (const a of actions as readonly unknown[]) {
    const action = a as StateMachineAction;
    switch (action.type) {
      case 'reply':
        reply(action.from, action.reply);
        break;
      case 'postpone':
        if (where !== 'transition') throw badAction(action, where);
        postpone = true;
        break;
      case 'next_event':
        if (where === 'enter' || where === 'stop') throw badAction(action, where);
        inserted.push(action.event);
        break;
      case 'timeout':
        timeouts.set(EVENT_TIMEOUT, { ms: action.ms, event: { type: 'timeout', content: action.content } });
        break;
      case 'state_timeout':
        timeouts.set(STATE_TIMEOUT, { ms: action.ms, event: { type: 'state_timeout', content: action.content } });
        break;
      case 'generic_timeout':
        timeouts.set(`generic_timeout:${action.name}`, { ms: action.ms, event: { type: 'generic_timeout', name: action.name, content: action.content } });
        break;
      default:
        throw new ActorError(ErrorCode.BAD_RETURN_VALUE, `unknown state machine action ${summarize(a, 200)}; actions are postpone, next_event, reply, timeout, state_timeout, generic_timeout`);
    }
  }
  if (where === 'stop') return false;
  for (const [key, t] of timeouts) arm(m, key, t.ms, t.event, ctx);
  return postpone;
}

/** Starts (or with `Infinity`, cancels) the timeout `key`, replacing the one armed before. */
function arm<S, D>(m: Machine<S, D>, key: string, ms: number, event: InsertedEvent, ctx: ProcessContext): void {
  cancel(m, key, ctx);
  if (ms === Number.POSITIVE_INFINITY) return;
  if (!Number.isFinite(ms) || ms < 0) throw new ActorError(ErrorCode.BAD_RETURN_VALUE, `a ${key} of ${String(ms)} ms; use a number ≥ 0, or Infinity to cancel`);
  const gen = ++m.gen;
  if (ms > 0) {
    m.armed.set(key, { gen, timer: ctx.sendAfter(ctx.self, new TimeoutFired(key, gen, event), ms) });
    return;
  }
  // Queued behind the events already queued; an event timeout among them is cancelled by the first event before it.
  m.armed.set(key, { gen, timer: null });
  m.queue.push(new ZeroTimeout(key, gen, event));
}

function cancel<S, D>(m: Machine<S, D>, key: string, ctx: ProcessContext): void {
  const armed = m.armed.get(key);
  if (armed === undefined) return;
  m.armed.delete(key);
  if (armed.timer !== null) ctx.cancelTimer(armed.timer);
}

/** gen_statem compares states as terms: structurally. */
function sameState(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameState((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function badReturn(callback: string, value: unknown, expected: string): ActorError {
  const hint = value === undefined ? ' (did it forget to return?)' : '';
  return new ActorError(ErrorCode.BAD_RETURN_VALUE, `${callback} returned ${summarize(value, 200)}${hint}; it must return ${expected}`, { reason: { badReturnValue: value } });
}

function badAction(action: StateMachineAction, where: string): ActorError {
  return new ActorError(ErrorCode.BAD_RETURN_VALUE, `a ${action.type} action is not allowed in ${where === 'enter' ? 'a state enter call' : where === 'init' ? 'init' : 'a stop'} (gen_statem allows postpone only in event handling, next_event not in enter calls)`);
}
