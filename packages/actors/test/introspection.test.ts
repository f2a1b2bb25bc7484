import { describe, expect, it } from 'vitest';
import { GenServer } from '../src/index.ts';
import { settle, testRuntime } from './helpers.ts';

describe('introspection', () => {
  it('processes() lists live processes; processInfo describes one', async () => {
    const { rt } = testRuntime();
    const idle = rt.spawn((ctx) => ctx.receive(), { name: 'idle', label: 'worker' });
    const busy = rt.spawn(async (ctx) => {
      ctx.trapExit(true);
      ctx.link(idle);
      ctx.monitor(idle);
      ctx.join('g');
      await ctx.receive((m) => m === 'never');
    });
    expect(rt.processInfo(idle)?.status).toBe('starting');
    await settle(rt);
    rt.send(busy, 'queued 1');
    rt.send(busy, 'queued 2');
    expect(rt.processes()).toEqual([idle, busy]);
    expect(rt.processCount).toBe(2);
    const info = rt.processInfo(busy);
    expect(info).toMatchObject({
      pid: busy,
      status: 'waiting',
      messageQueueLen: 2,
      links: [idle],
      trapExit: true,
      groups: ['g'],
      registeredName: undefined,
    });
    expect(info?.monitors.map((m) => m.pid)).toEqual([idle]);
    expect(info?.memory).toBeGreaterThan(0);
    expect(rt.processInfo(idle)).toMatchObject({ registeredName: 'idle', behaviour: 'worker', monitoredBy: [busy], links: [busy] });
    rt.exit(idle, 'kill');
    expect(rt.processInfo(idle)).toBeUndefined();
  });

  it('a GenServer reports its behaviour and state summary', async () => {
    const { rt } = testRuntime();
    const pid = await GenServer.start(rt, { init: () => ({ type: 'ok', state: { count: 3 } }), formatStatus: (s: { count: number }) => `count=${s.count}` }, undefined);
    expect(rt.processInfo(pid)).toMatchObject({ behaviour: 'GenServer', status: 'waiting', details: { state: "'count=3'" } });
    expect(rt.processInfo(pid)?.details?.lastMessage).toBeUndefined();
    rt.send(pid, { hello: 'there' });
    await settle(rt);
    expect(String(rt.processInfo(pid)?.details?.lastMessage)).toContain("hello: 'there'");
  });

  it('counts reductions per process and in the runtime: one per message handled, start and resumption; the run queue is visible', async () => {
    const { rt } = testRuntime();
    const pid = await GenServer.start(rt, { init: () => ({ type: 'ok', state: 0 }), handleCast: (_m: unknown, n: number) => ({ type: 'noreply', state: n + 1 }) }, undefined);
    const echo = rt.spawn(async (ctx) => {
      for (let i = 0; i < 3; i++) await ctx.receive();
      await ctx.receive((m) => m === 'never');
    });
    await settle(rt);
    const before = { server: rt.processInfo(pid)?.reductions ?? -1, echo: rt.processInfo(echo)?.reductions ?? -1, total: rt.reductions };
    for (let i = 0; i < 10; i++) GenServer.cast(rt, pid, 'tick');
    for (let i = 0; i < 3; i++) rt.send(echo, i);
    // The server waits in the run queue; a pending receive is resumed at once (charged, not queued).
    expect(rt.runQueueLength).toBe(1);
    await settle(rt);
    expect(rt.runQueueLength).toBe(0);
    expect((rt.processInfo(pid)?.reductions ?? 0) - before.server).toBe(10);
    expect((rt.processInfo(echo)?.reductions ?? 0) - before.echo).toBe(3);
    expect(rt.reductions - before.total).toBeGreaterThanOrEqual(13);
  });

  it('telemetry reports spawn and exit with the reason', async () => {
    const { rt } = testRuntime();
    const events: [string, unknown][] = [];
    rt.telemetry.attach('fdn.actors.process', (event, _m, meta) => events.push([event, meta.reason]));
    rt.spawn(() => {
      throw new Error('bad');
    });
    await settle(rt);
    expect(events[0]?.[0]).toBe('fdn.actors.process.spawn');
    expect(events[1]?.[0]).toBe('fdn.actors.process.exit');
    expect((events[1]?.[1] as Error).message).toBe('bad');
  });
});
