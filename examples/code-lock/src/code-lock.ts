// OTP's gen_statem code lock (the example of gen_statem's user guide), as a @fdn StateMachine:
// buttons typed while locked are collected; the right code opens the lock for `openMs`, a state
// timeout locks it again; buttons pressed while it is open are postponed and count towards the
// next code once it is locked; typing nothing for `idleMs` forgets what was typed (an event
// timeout); a call asks for the code's length in any state.

import type { Caller, Dest, StateMachineBehaviour } from '@fdn/actors';
import { StateMachine } from '@fdn/actors';

export type LockState = 'locked' | 'open';

export interface LockData {
  readonly code: readonly string[];
  readonly typed: readonly string[];
  /** What the lock did (`LockOptions.log`). */
  readonly log: string[];
}

export interface LockOptions {
  openMs?: number;
  idleMs?: number;
  /** Where the lock writes what it does ('locked', 'open', 'terminate …'), for a demo or a test to read. */
  log?: string[];
}

/** The lock's behaviour for `code`. */
export function codeLock(options: LockOptions = {}): StateMachineBehaviour<LockState, LockData, readonly string[], 'codeLength', { button: string }> {
  const openMs = options.openMs ?? 10_000;
  const idleMs = options.idleMs ?? 30_000;
  return {
    name: 'code_lock',
    stateEnter: true,
    init: (code) => ({ type: 'ok', state: 'locked', data: { code, typed: [], log: options.log ?? [] } }),
    handleEvent(event, state, data) {
      // Answered in every state.
      if (event.type === 'call') return { type: 'keep_state', actions: [{ type: 'reply', from: event.from, reply: data.code.length }] };
      if (state === 'locked') {
        switch (event.type) {
          case 'enter':
            data.log.push('locked');
            return { type: 'keep_state', data: { ...data, typed: [] } };
          case 'timeout':
            // Nothing typed for idleMs: start over.
            return { type: 'keep_state', data: { ...data, typed: [] } };
          case 'cast': {
            const typed = [...data.typed, event.content.button].slice(-data.code.length);
            if (typed.join() === data.code.join()) return { type: 'next_state', state: 'open', data: { ...data, typed: [] } };
            return { type: 'keep_state', data: { ...data, typed }, actions: [{ type: 'timeout', ms: idleMs, content: 'forget' }] };
          }
          default:
            return { type: 'keep_state' };
        }
      }
      switch (event.type) {
        case 'enter':
          data.log.push('open');
          return { type: 'keep_state', actions: [{ type: 'state_timeout', ms: openMs, content: 'lock' }] };
        case 'state_timeout':
          return { type: 'next_state', state: 'locked' };
        case 'cast':
          // Typed while open: kept for when it is locked again.
          return { type: 'keep_state', actions: [{ type: 'postpone' }] };
        default:
          return { type: 'keep_state' };
      }
    },
    terminate(reason, state, data) {
      data.log.push(`terminate ${String(reason)} in ${state}`);
    },
  };
}

/** Presses a button. */
export function button(caller: Caller, lock: Dest, b: string): void {
  StateMachine.cast(caller, lock, { button: b });
}
