import { describe, expect, it } from 'vitest';
import { createRuntime, GenServer } from '../src/index.ts';
import type { GenServerBehaviour, Pid } from '../src/index.ts';

// These tests use the real event loop: fairness is about what else Node gets to run.

describe('scheduler fairness', () => {
  it('a ping-pong storm between function processes does not starve timers or I/O callbacks', async () => {
    const rt = createRuntime({ node: 'fair', incarnation: 1, scheduler: { sliceBudget: 5_000 } });
    let hops = 0;
    let hopsWhenTimerFired = -1;
    let hopsWhenImmediateFired = -1;
    const done = rt.run(async (ctx) => {
      const pong = ctx.spawn(async (c) => {
        for (;;) {
          const from = (await c.receive()) as Pid | null;
          if (from === null) return;
          c.send(from, 'pong');
        }
      });
      for (let i = 0; i < 200_000; i++) {
        ctx.send(pong, ctx.self);
        await ctx.receive();
        hops++;
      }
      ctx.send(pong, null);
    });
    setTimeout(() => (hopsWhenTimerFired = hops), 0);
    setImmediate(() => (hopsWhenImmediateFired = hops));
    await done;
    expect(hopsWhenImmediateFired).toBeGreaterThanOrEqual(0);
    expect(hopsWhenImmediateFired).toBeLessThan(200_000);
    expect(hopsWhenTimerFired).toBeGreaterThanOrEqual(0);
    expect(hopsWhenTimerFired).toBeLessThan(200_000);
  });

  it('handler-driven processes share the run queue in bounded batches', async () => {
    const rt = createRuntime({ node: 'fair', incarnation: 1, scheduler: { maxBatch: 10 } });
    const order: string[] = [];
    const recorder = (tag: string): GenServerBehaviour<null> => ({
      init: () => ({ type: 'ok', state: null }),
      handleCast: (_m, s) => {
        order.push(tag);
        return { type: 'noreply', state: s };
      },
    });
    const a = await GenServer.start(rt, recorder('a'), undefined);
    const b = await GenServer.start(rt, recorder('b'), undefined);
    for (let i = 0; i < 50; i++) GenServer.cast(rt, a, i);
    for (let i = 0; i < 50; i++) GenServer.cast(rt, b, i);
    await rt.idle();
    expect(order).toHaveLength(100);
    // With batches of 10, b gets its first turn after a's first batch, not after all of a's 50.
    expect(order.indexOf('b')).toBe(10);
  });

  it('a flood of casts to a busy server lets a real timer fire before the flood is handled', async () => {
    const rt = createRuntime({ node: 'fair', incarnation: 1 });
    let handled = 0;
    const sink = await GenServer.start(
      rt,
      {
        init: () => ({ type: 'ok', state: null }),
        handleCast: (_m: unknown, s: null) => {
          handled++;
          return { type: 'noreply', state: s };
        },
      },
      undefined,
    );
    let handledWhenTimerFired = -1;
    setTimeout(() => (handledWhenTimerFired = handled), 1);
    await new Promise((resolve) => setTimeout(resolve, 2));
    for (let i = 0; i < 1_000_000; i++) GenServer.cast(rt, sink, i);
    setTimeout(() => (handledWhenTimerFired = handled), 0);
    await rt.idle();
    expect(handled).toBe(1_000_000);
    expect(handledWhenTimerFired).toBeGreaterThan(0);
    expect(handledWhenTimerFired).toBeLessThan(1_000_000);
  });
});
