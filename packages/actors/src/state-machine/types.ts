// The gen_statem-style behaviour's contract: events, transition actions and results, as OTP's
// gen_statem in `handle_event_function` callback mode (one `handleEvent` for every state).

import type { ExitReason } from '../exit/reason.ts';
import type { From } from '../gen-server/messages.ts';
import type { MaybeAsync } from '../gen-server/types.ts';
import type { ProcessContext } from '../process/types.ts';

/**
 * What `handleEvent` gets, by its origin (gen_statem's event types). `enter` is a state enter
 * call (with `stateEnter: true`): `oldState` is the state before the change (the state itself for
 * the first one, and for `repeat_state`).
 */
export type StateMachineEvent<S = unknown, Call = unknown, Cast = unknown> =
  | { readonly type: 'call'; readonly from: From; readonly content: Call }
  | { readonly type: 'cast'; readonly content: Cast }
  | { readonly type: 'info'; readonly content: unknown }
  | { readonly type: 'internal'; readonly content: unknown }
  | { readonly type: 'timeout'; readonly content: unknown }
  | { readonly type: 'state_timeout'; readonly content: unknown }
  | { readonly type: 'generic_timeout'; readonly name: string; readonly content: unknown }
  | { readonly type: 'enter'; readonly oldState: S };

/** An event a transition inserts (`next_event`): handled before anything in the mailbox, in the order given. */
export type InsertedEvent = Exclude<StateMachineEvent, { type: 'enter' }>;

/**
 * Transition actions, applied in order (a later timeout of the same kind and name wins):
 * - `postpone`: keep this event and retry it after the next state change (not in enter calls);
 * - `next_event`: insert an event, handled before the mailbox (not in enter calls);
 * - `reply`: answer a call (or reply any time later with `StateMachine.reply(from, value)`);
 * - `timeout`: an event timeout, cancelled by any event that arrives first;
 * - `state_timeout`: cancelled by a change of state (a new one replaces it);
 * - `generic_timeout`: named, cancelled only by another with the same name.
 * A timeout of `Infinity` cancels; one of 0 is queued behind the events already queued (an event
 * timeout of 0 with events queued is cancelled by the first of them, as in OTP).
 */
export type StateMachineAction =
  | { readonly type: 'postpone' }
  | { readonly type: 'next_event'; readonly event: InsertedEvent }
  | { readonly type: 'reply'; readonly from: From; readonly reply: unknown }
  | { readonly type: 'timeout'; readonly ms: number; readonly content?: unknown }
  | { readonly type: 'state_timeout'; readonly ms: number; readonly content?: unknown }
  | { readonly type: 'generic_timeout'; readonly name: string; readonly ms: number; readonly content?: unknown };

/**
 * What `handleEvent` returns. `next_state` to `state` (a different state retries postponed
 * events, cancels the state timeout and runs the enter call); `keep_state` stays; `repeat_state`
 * stays and runs the enter call again; `stop` ends the process (replies in `actions` are sent
 * first). `data` left out keeps the data.
 */
export type StateMachineResult<S, D> =
  | { readonly type: 'next_state'; readonly state: S; readonly data?: D; readonly actions?: readonly StateMachineAction[] }
  | { readonly type: 'keep_state'; readonly data?: D; readonly actions?: readonly StateMachineAction[] }
  | { readonly type: 'repeat_state'; readonly data?: D; readonly actions?: readonly StateMachineAction[] }
  | { readonly type: 'stop'; readonly reason: ExitReason; readonly data?: D; readonly actions?: readonly StateMachineAction[] };

/** What `init` returns: the first state, its data and actions (inserted events, timeouts), or a refusal to start. */
export type StateMachineInit<S, D> =
  | { readonly type: 'ok'; readonly state: S; readonly data: D; readonly actions?: readonly StateMachineAction[] }
  | { readonly type: 'stop'; readonly reason: ExitReason }
  | { readonly type: 'ignore' };

/**
 * A state machine as OTP's gen_statem (`handle_event_function` mode): one `handleEvent(event,
 * state, data, ctx)` for every state, with postponing, inserted events, state enter calls, three
 * kinds of timeouts, calls answered from any callback, and `terminate`.
 *
 * @example
 * const lock: StateMachineBehaviour<'locked' | 'open', { code: string; typed: string }, string> = {
 *   init: (code) => ({ type: 'ok', state: 'locked', data: { code, typed: '' } }),
 *   handleEvent(event, state, data) {
 *     if (state === 'locked' && event.type === 'cast') { … }
 *     if (state === 'open' && event.type === 'state_timeout') return { type: 'next_state', state: 'locked' };
 *     return { type: 'keep_state', actions: [{ type: 'postpone' }] };
 *   },
 * };
 */
export interface StateMachineBehaviour<S, D, A = undefined, Call = unknown, Cast = unknown> {
  /** Shown in crash reports and `processInfo`. */
  readonly name?: string;
  /** Run `handleEvent` with `{ type: 'enter', oldState }` on every change of state, and for the first state (gen_statem's `state_enter`). */
  readonly stateEnter?: boolean;
  init(args: A, ctx: ProcessContext): MaybeAsync<StateMachineInit<S, D>>;
  handleEvent(event: StateMachineEvent<S, Call, Cast>, state: S, data: D, ctx: ProcessContext): MaybeAsync<StateMachineResult<S, D>>;
  /** Runs before the process exits: after `stop`, `StateMachine.stop`, a crash in a callback, or its parent's exit while trapping. */
  terminate?(reason: ExitReason, state: S, data: D, ctx: ProcessContext): MaybeAsync<void>;
  /** What crash reports and `processInfo` show (default: the state and a short inspection of the data). */
  formatStatus?(state: S, data: D): unknown;
}
