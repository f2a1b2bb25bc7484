import { describe, expect, it } from 'vitest';
import { assign, createMachine, setup } from 'xstate';
import { ErrorCode, StateMachine, isDownMessage, replyWith } from '../src/index.ts';

import { settle, testRuntime } from './helpers.ts';

const door = setup({
  types: { context: {} as { opened: number; notes: unknown[] }, events: {} as { type: 'open' } | { type: 'close' } | { type: 'count' } | { type: 'boom' } | { type: 'info'; message: unknown } | { type: 'lock' } },
}).createMachine({
  id: 'door',
  initial: 'closed',
  context: { opened: 0, notes: [] },
  states: {
    closed: {
      on: {
        open: { target: 'open', actions: assign({ opened: ({ context }) => context.opened + 1 }) },
        count: { actions: replyWith(({ context }) => context.opened) },
        boom: {
          actions: () => {
            throw new Error('action failed');
          },
        },
        info: { actions: assign({ notes: ({ context, event }) => [...context.notes, event.message] }) },
        lock: 'locked',
      },
    },
    open: { after: { 5_000: 'closed' }, on: { close: 'closed' } },
    locked: { type: 'final' },
  },
});

describe('StateMachine', () => {
  it('call sends an event and returns the state after it, or a replyWith value', async () => {
    const { rt } = testRuntime();
    const pid = await StateMachine.start(rt, door, { name: 'door' });
    const after = await StateMachine.call(rt, pid, { type: 'open' });
    expect(after).toMatchObject({ value: 'open', context: { opened: 1 }, status: 'active' });
    await StateMachine.call(rt, 'door', { type: 'close' });
    expect(await StateMachine.call(rt, 'door', { type: 'count' })).toBe(1);
    expect(rt.processInfo(pid)).toMatchObject({ behaviour: 'StateMachine', registeredName: 'door' });
  });

  it('delayed transitions (state timeouts) run on the runtime clock', async () => {
    const { rt, clock } = testRuntime();
    const pid = await StateMachine.start(rt, door);
    StateMachine.cast(rt, pid, { type: 'open' });
    await clock.advance(4_999);
    expect((await StateMachine.call(rt, pid, { type: 'noop' })).value).toBe('open');
    await clock.advance(1);
    expect((await StateMachine.call(rt, pid, { type: 'noop' })).value).toBe('closed');
  });

  it('plain mailbox messages become info events', async () => {
    const { rt } = testRuntime();
    const pid = await StateMachine.start(rt, door);
    rt.send(pid, 42);
    rt.send(pid, 'hello');
    const s = await StateMachine.call(rt, pid, { type: 'noop' });
    expect(s.context).toMatchObject({ notes: [42, 'hello'] });
  });

  it('a failing action crashes the process like a GenServer callback, with a report', async () => {
    const { rt, log } = testRuntime();
    const pid = await StateMachine.start(rt, door);
    const err = await StateMachine.call(rt, pid, { type: 'boom' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.CALL_EXIT });
    expect(rt.isAlive(pid)).toBe(false);
    const report = log.entries.find((e) => e.message.startsWith('StateMachine door terminating'));
    expect((report?.fields.reason as Error).message).toBe('action failed');
    expect(String(report?.fields.state)).toContain('closed');
  });

  it('reaching a final state ends the process normally', async () => {
    const { rt } = testRuntime();
    const reason = await rt.run(async (ctx) => {
      const pid = await StateMachine.start(ctx, door);
      ctx.monitor(pid);
      StateMachine.cast(ctx, pid, { type: 'lock' });
      return (await ctx.receive(isDownMessage)).reason;
    });
    expect(reason).toBe('normal');
  });

  it('a delayed transition that fails ends the process', async () => {
    const { rt, clock } = testRuntime();
    const fragile = createMachine({
      initial: 'a',
      states: {
        a: {
          after: {
            100: {
              target: 'b',
              actions: () => {
                throw new Error('late failure');
              },
            },
          },
        },
        b: {},
      },
    });
    const pid = await StateMachine.start(rt, fragile);
    await clock.advance(100);
    await settle(rt);
    expect(rt.isAlive(pid)).toBe(false);
  });

  it('stopping the process cancels the machine timers', async () => {
    const { rt, clock } = testRuntime();
    const pid = await StateMachine.start(rt, door);
    StateMachine.cast(rt, pid, { type: 'open' });
    await settle(rt);
    expect(clock.pendingTimers()).toBe(1);
    rt.exit(pid, 'kill');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects something that is not a machine', async () => {
    const { rt } = testRuntime();
    await expect(StateMachine.start(rt, {} as never)).rejects.toMatchObject({ code: ErrorCode.BAD_ARGUMENT });
  });
});
