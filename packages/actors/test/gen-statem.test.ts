// StateMachine as OTP's gen_statem (handle_event_function mode), each case against gen_statem's
// documented behaviour: terminate, postpone, state enter calls, inserted events, the three kinds
// of timeouts and their cancellation rules, call/cast/info, replies from any callback, stop.

import { describe, expect, it } from 'vitest';
import { ErrorCode, StateMachine, isDownMessage } from '../src/index.ts';
import type { ExitReason, From, StateMachineAction, StateMachineBehaviour, StateMachineEvent, StateMachineResult } from '../src/index.ts';
import { settle, testRuntime } from './helpers.ts';

type Log = unknown[];

/** A machine that logs every event with its state, and answers from a script keyed by "state/type/content". */
function scripted<S extends string>(
  log: Log,
  initial: S,
  script: (event: StateMachineEvent<S>, state: S, data: Log) => StateMachineResult<S, Log> | undefined,
  options: { stateEnter?: boolean; initActions?: StateMachineAction[]; terminated?: (reason: ExitReason, state: S, data: Log) => void } = {},
): StateMachineBehaviour<S, Log> {
  return {
    ...(options.stateEnter === undefined ? {} : { stateEnter: options.stateEnter }),
    init: () => ({ type: 'ok', state: initial, data: log, ...(options.initActions === undefined ? {} : { actions: options.initActions }) }),
    handleEvent(event, state, data) {
      const what = event.type === 'enter' ? `enter<-${event.oldState}` : event.type === 'call' ? `call:${String(event.content)}` : event.type === 'generic_timeout' ? `generic_timeout:${event.name}:${String(event.content)}` : `${event.type}:${String(event.content)}`;
      data.push(`${state} ${what}`);
      return script(event, state, data) ?? { type: 'keep_state' };
    },
    ...(options.terminated === undefined ? {} : { terminate: options.terminated }),
  };
}

describe('StateMachine as gen_statem', () => {
  it('terminate(reason, state, data) runs on a stop result, on StateMachine.stop and on a crash', async () => {
    const { rt } = testRuntime();
    const ended: unknown[] = [];
    const make = (): StateMachineBehaviour<string, number> => ({
      init: () => ({ type: 'ok', state: 'idle', data: 1 }),
      handleEvent(event, _state, data) {
        if (event.type === 'cast' && event.content === 'finish') return { type: 'stop', reason: 'finished', data: data + 1 };
        if (event.type === 'cast' && event.content === 'crash') throw new Error('bad event');
        return { type: 'next_state', state: 'busy', data: data + 10 };
      },
      terminate: (reason, state, data) => {
        ended.push([reason instanceof Error ? reason.message : reason, state, data]);
      },
    });
    const a = await StateMachine.start(rt, make(), undefined);
    StateMachine.cast(rt, a, 'go');
    StateMachine.cast(rt, a, 'finish');
    const b = await StateMachine.start(rt, make(), undefined);
    StateMachine.cast(rt, b, 'go');
    await StateMachine.stop(rt, b, 'shutdown');
    const c = await StateMachine.start(rt, make(), undefined);
    StateMachine.cast(rt, c, 'crash');
    await settle(rt);
    expect(ended).toEqual([
      ['finished', 'busy', 12],
      ['shutdown', 'busy', 11],
      ['bad event', 'idle', 1],
    ]);
    expect(rt.processCount).toBe(0);
  });

  it('postpone: an event is kept and retried after the next state change, in order; not on keep_state', async () => {
    const { rt } = testRuntime();
    const log: Log = [];
    const m = await StateMachine.start(
      rt,
      scripted<string>(log, 'closed', (e, state) => {
        if (state === 'closed' && e.type === 'cast' && e.content === 'open') return { type: 'next_state', state: 'open' };
        if (state === 'closed' && e.type === 'cast') return { type: 'keep_state', actions: [{ type: 'postpone' }] };
        if (state === 'closed' && e.type === 'info') return { type: 'keep_state' };
        return undefined;
      }),
      undefined,
    );
    StateMachine.cast(rt, m, 'a');
    StateMachine.cast(rt, m, 'b');
    rt.send(m, 'noise');
    StateMachine.cast(rt, m, 'open');
    StateMachine.cast(rt, m, 'c');
    await settle(rt);
    expect(log).toEqual(['closed cast:a', 'closed cast:b', 'closed info:noise', 'closed cast:open', 'open cast:a', 'open cast:b', 'open cast:c']);
  });

  it('state enter calls: the first with the state itself, then with the previous state; repeat_state runs it again; keep_state does not', async () => {
    const { rt } = testRuntime();
    const log: Log = [];
    const m = await StateMachine.start(
      rt,
      scripted<string>(
        log,
        'a',
        (e, state) => {
          if (e.type !== 'cast') return undefined;
          if (e.content === 'next') return { type: 'next_state', state: state === 'a' ? 'b' : 'a' };
          if (e.content === 'same') return { type: 'next_state', state };
          if (e.content === 'repeat') return { type: 'repeat_state' };
          return undefined;
        },
        { stateEnter: true },
      ),
      undefined,
    );
    for (const c of ['next', 'same', 'repeat', 'keep', 'next']) StateMachine.cast(rt, m, c);
    await settle(rt);
    expect(log).toEqual(['a enter<-a', 'a cast:next', 'b enter<-a', 'b cast:same', 'b cast:repeat', 'b enter<-b', 'b cast:keep', 'b cast:next', 'a enter<-b']);
  });

  it('a state enter call that changes the state, postpones or inserts events is a bad return (the machine crashes, naming it)', async () => {
    for (const bad of [{ type: 'next_state', state: 'elsewhere' }, { type: 'keep_state', actions: [{ type: 'postpone' }] }, { type: 'keep_state', actions: [{ type: 'next_event', event: { type: 'internal', content: 1 } }] }] as StateMachineResult<string, Log>[]) {
      const { rt, log } = testRuntime();
      await expect(StateMachine.start(rt, scripted<string>([], 'a', (e) => (e.type === 'enter' ? bad : undefined), { stateEnter: true }), undefined)).rejects.toMatchObject({
        code: ErrorCode.START_FAILED,
        reason: expect.objectContaining({ code: ErrorCode.BAD_RETURN_VALUE }) as unknown,
      });
      // The crash report names the callback that broke the contract.
      expect(log.entries.some((e) => e.message.includes('crashed') || JSON.stringify(e.fields).includes('BAD_RETURN'))).toBe(true);
    }
  });

  it('next_event: inserted events are handled before the mailbox, in the order given, and before retried postponed ones', async () => {
    const { rt } = testRuntime();
    const log: Log = [];
    const m = await StateMachine.start(
      rt,
      scripted<string>(log, 's0', (e, state) => {
        if (e.type === 'cast' && e.content === 'wait') return { type: 'keep_state', actions: [{ type: 'postpone' }] };
        if (e.type === 'cast' && e.content === 'go')
          return {
            type: 'next_state',
            state: 's1',
            actions: [
              { type: 'next_event', event: { type: 'internal', content: 'first' } },
              { type: 'next_event', event: { type: 'cast', content: 'second' } },
            ],
          };
        if (e.type === 'internal' && e.content === 'first' && state === 's1') return { type: 'keep_state', actions: [{ type: 'next_event', event: { type: 'internal', content: 'nested' } }] };
        return undefined;
      }, { initActions: [{ type: 'next_event', event: { type: 'internal', content: 'from-init' } }] }),
      undefined,
    );
    StateMachine.cast(rt, m, 'wait');
    StateMachine.cast(rt, m, 'go');
    StateMachine.cast(rt, m, 'later');
    await settle(rt);
    expect(log).toEqual(['s0 internal:from-init', 's0 cast:wait', 's0 cast:go', 's1 internal:first', 's1 internal:nested', 's1 cast:second', 's1 cast:wait', 's1 cast:later']);
  });

  it('an event timeout fires when no event comes first, and any event cancels it', async () => {
    const { rt, clock } = testRuntime();
    const log: Log = [];
    const m = await StateMachine.start(
      rt,
      scripted<string>(log, 'idle', (e) => (e.type === 'cast' && e.content === 'arm' ? { type: 'keep_state', actions: [{ type: 'timeout', ms: 100, content: 'idle-too-long' }] } : undefined)),
      undefined,
    );
    StateMachine.cast(rt, m, 'arm');
    await clock.advance(50);
    rt.send(m, 'poke'); // any event cancels it
    await clock.advance(200);
    StateMachine.cast(rt, m, 'arm');
    await clock.advance(150);
    expect(log).toEqual(['idle cast:arm', 'idle info:poke', 'idle cast:arm', 'idle timeout:idle-too-long']);
  });

  it('a state timeout survives events in the same state, is cancelled by a change of state, and a new one replaces it', async () => {
    const { rt, clock } = testRuntime();
    const log: Log = [];
    const m = await StateMachine.start(
      rt,
      scripted<string>(log, 'locked', (e) => {
        if (e.type === 'cast' && e.content === 'open') return { type: 'next_state', state: 'open', actions: [{ type: 'state_timeout', ms: 100, content: 'lock' }] };
        if (e.type === 'cast' && e.content === 'extend') return { type: 'keep_state', actions: [{ type: 'state_timeout', ms: 300, content: 'lock-later' }] };
        if (e.type === 'cast' && e.content === 'leave') return { type: 'next_state', state: 'elsewhere' };
        if (e.type === 'state_timeout') return { type: 'next_state', state: 'locked' };
        return undefined;
      }),
      undefined,
    );
    StateMachine.cast(rt, m, 'open');
    await clock.advance(60);
    StateMachine.cast(rt, m, 'tick'); // an event in the same state: the state timeout runs on
    await clock.advance(60);
    StateMachine.cast(rt, m, 'open');
    await clock.advance(10);
    StateMachine.cast(rt, m, 'extend'); // replaces it: 300 ms from now
    await clock.advance(200);
    StateMachine.cast(rt, m, 'leave'); // a change of state cancels it
    await clock.advance(500);
    expect(log).toEqual(['locked cast:open', 'open cast:tick', 'open state_timeout:lock', 'locked cast:open', 'open cast:extend', 'open cast:leave']);
  });

  it('generic timeouts are named, survive a change of state, are replaced by the same name and cancelled with Infinity', async () => {
    const { rt, clock } = testRuntime();
    const log: Log = [];
    const m = await StateMachine.start(
      rt,
      scripted<string>(log, 'a', (e) => {
        if (e.type !== 'cast') return undefined;
        if (e.content === 'start')
          return {
            type: 'next_state',
            state: 'b',
            actions: [
              { type: 'generic_timeout', name: 'x', ms: 100, content: 'x1' },
              { type: 'generic_timeout', name: 'y', ms: 100, content: 'y1' },
              { type: 'generic_timeout', name: 'z', ms: 100, content: 'z1' },
            ],
          };
        if (e.content === 'change')
          return {
            type: 'next_state',
            state: 'c',
            actions: [
              { type: 'generic_timeout', name: 'y', ms: 200, content: 'y2' },
              { type: 'generic_timeout', name: 'z', ms: Number.POSITIVE_INFINITY },
            ],
          };
        return undefined;
      }),
      undefined,
    );
    StateMachine.cast(rt, m, 'start');
    await clock.advance(50);
    StateMachine.cast(rt, m, 'change');
    await clock.advance(300);
    expect(log).toEqual(['a cast:start', 'b cast:change', 'c generic_timeout:x:x1', 'c generic_timeout:y:y2']);
  });

  it('an event timeout of 0 fires before the mailbox when nothing is queued, and is cancelled by an inserted event', async () => {
    const { rt } = testRuntime();
    const log: Log = [];
    const m = await StateMachine.start(
      rt,
      scripted<string>(log, 's', (e) => {
        if (e.type === 'cast' && e.content === 'zero') return { type: 'keep_state', actions: [{ type: 'timeout', ms: 0, content: 'now' }] };
        if (e.type === 'cast' && e.content === 'zero+insert') return { type: 'keep_state', actions: [{ type: 'timeout', ms: 0, content: 'never' }, { type: 'next_event', event: { type: 'internal', content: 'first' } }] };
        return undefined;
      }),
      undefined,
    );
    StateMachine.cast(rt, m, 'zero');
    StateMachine.cast(rt, m, 'after');
    StateMachine.cast(rt, m, 'zero+insert');
    await settle(rt);
    expect(log).toEqual(['s cast:zero', 's timeout:now', 's cast:after', 's cast:zero+insert', 's internal:first']);
  });

  it('call, cast and info are told apart; a call is answered by a reply action, later with StateMachine.reply, or from an enter call', async () => {
    const { rt } = testRuntime();
    let parked: From | null = null;
    const m = await StateMachine.start(
      rt,
      {
        stateEnter: true,
        init: () => ({ type: 'ok', state: 'ready', data: [] as string[] }),
        handleEvent(e, state, data) {
          if (e.type === 'enter') return { type: 'keep_state' };
          if (e.type === 'call' && e.content === 'kinds') return { type: 'keep_state', actions: [{ type: 'reply', from: e.from, reply: [...data] }] };
          if (e.type === 'call' && e.content === 'park') {
            parked = e.from;
            return { type: 'keep_state' };
          }
          if (e.type === 'call' && e.content === 'move') return { type: 'next_state', state: 'moved', data: [...data, `from:${state}`], actions: [{ type: 'next_event', event: { type: 'internal', content: e.from } }] };
          if (e.type === 'internal') return { type: 'keep_state', actions: [{ type: 'reply', from: e.content as From, reply: `now ${state}` }] };
          if (e.type === 'call' || e.type === 'cast' || e.type === 'info') return { type: 'keep_state', data: [...data, e.type] };
          return { type: 'keep_state' };
        },
      } satisfies StateMachineBehaviour<string, string[]>,
      undefined,
    );
    StateMachine.cast(rt, m, 'c');
    rt.send(m, 'i');
    expect(await StateMachine.call(rt, m, 'kinds')).toEqual(['cast', 'info']);
    const waiting = StateMachine.call(rt, m, 'park');
    await settle(rt);
    StateMachine.reply(parked as unknown as From, 'answered later');
    expect(await waiting).toBe('answered later');
    expect(await StateMachine.call(rt, m, 'move')).toBe('now moved');
  });

  it('stop with reply actions answers the caller before the machine exits', async () => {
    const { rt } = testRuntime();
    const m = await StateMachine.start(
      rt,
      { init: () => ({ type: 'ok', state: 'on', data: null }), handleEvent: (e) => (e.type === 'call' ? { type: 'stop', reason: 'normal', actions: [{ type: 'reply', from: e.from, reply: 'bye' }] } : { type: 'keep_state' }) } satisfies StateMachineBehaviour<string, null>,
      undefined,
    );
    const down = await rt.run(async (ctx) => {
      ctx.monitor(m);
      const answer = await StateMachine.call(ctx, m, 'quit');
      return [answer, ((await ctx.receive(isDownMessage)) as { reason: unknown }).reason];
    });
    expect(down).toEqual(['bye', 'normal']);
  });
});
