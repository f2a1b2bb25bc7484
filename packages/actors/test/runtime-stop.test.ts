// Stopping a runtime in order (as OTP stops an application) and Supervisor.stop: terminate runs,
// children stop in reverse start order within their shutdown, trapping processes get their EXIT,
// and a process that will not stop is killed after the timeout.

import { describe, expect, it } from 'vitest';
import { ErrorCode, GenServer, isExitMessage, Supervisor } from '../src/index.ts';
import type { GenServerBehaviour, ProcessContext } from '../src/index.ts';
import { settle, testRuntime } from './helpers.ts';

function recorder(log: string[], name: string, options: { trap?: boolean; hang?: boolean } = {}): GenServerBehaviour<null> {
  return {
    init: (_a, ctx) => {
      if (options.trap === true) ctx.trapExit(true);
      return { type: 'ok', state: null };
    },
    terminate: (reason) => {
      log.push(`terminate ${name} ${String(reason)}`);
      if (options.hang === true) return new Promise<void>(() => undefined);
    },
  };
}

describe('runtime.stop: an orderly stop', () => {
  it('roots newest first; supervisors stop children in reverse order; terminate runs even without trapping; trapping function processes get EXIT shutdown', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const first = await GenServer.start(rt, recorder(log, 'first'), null);
    await Supervisor.start(rt, {
      strategy: 'oneForOne',
      children: ['a', 'b', 'c'].map((id) => ({ id, shutdown: 1_000, start: (ctx: ProcessContext) => GenServer.startLink(ctx, recorder(log, id, { trap: true }), null) })),
    });
    rt.spawn(async (ctx) => {
      ctx.trapExit(true);
      const m = await ctx.receive(isExitMessage);
      log.push(`function process got EXIT ${String(m.reason)}`);
    });
    rt.spawn(async (ctx) => {
      await ctx.receive(() => false);
      log.push('never');
    });
    const last = await GenServer.start(rt, recorder(log, 'last'), null);
    await settle(rt);
    await rt.stop();
    expect(log).toEqual(['terminate last shutdown', 'function process got EXIT shutdown', 'terminate c shutdown', 'terminate b shutdown', 'terminate a shutdown', 'terminate first shutdown']);
    expect(rt.processCount).toBe(0);
    expect(rt.isAlive(first) || rt.isAlive(last)).toBe(false);
    expect(() => rt.spawn(() => undefined)).toThrow(expect.objectContaining({ code: ErrorCode.RUNTIME_STOPPED }) as Error);
  });

  it('a root that does not stop within the timeout is killed, with a warning, and the stop goes on', async () => {
    const { rt, clock, log: logger } = testRuntime();
    const log: string[] = [];
    await GenServer.start(rt, recorder(log, 'stuck', { hang: true }), null);
    const stopping = rt.stop({ timeoutMs: 2_000 });
    await settle(rt);
    expect(log).toEqual(['terminate stuck shutdown']);
    expect(rt.processCount).toBe(1);
    await clock.advance(2_000);
    await stopping;
    expect(rt.processCount).toBe(0);
    expect(logger.entries.some((e) => e.level === 'warn' && e.message.includes('did not stop within 2000 ms'))).toBe(true);
  });
});

describe('Supervisor.stop', () => {
  it('stops the children in reverse start order, then the supervisor, with the reason', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { children: ['a', 'b'].map((id) => ({ id, start: (ctx: ProcessContext) => GenServer.startLink(ctx, recorder(log, id, { trap: true }), null) })) });
    const exit = await rt.run(async (ctx) => {
      const ref = ctx.monitor(sup);
      await Supervisor.stop(ctx, sup, 'shutdown');
      return ctx.receive((m) => (m as { ref?: unknown }).ref === ref, 100);
    });
    expect(log).toEqual(['terminate b shutdown', 'terminate a shutdown']);
    expect(exit).toMatchObject({ type: 'DOWN', reason: 'shutdown' });
    await expect(Supervisor.stop(rt, sup)).rejects.toMatchObject({ code: ErrorCode.NOPROC });
  });
});

describe('simpleOneForOne shutdown', () => {
  it('stops all its children at once and exits with the reason (regression: it crashed with "receive() while another receive() is pending")', async () => {
    const { rt, clock, log: logger } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { strategy: 'simpleOneForOne', children: [{ id: 'w', shutdown: 1_000, start: (ctx: ProcessContext, name: unknown) => GenServer.startLink(ctx, recorder(log, String(name), { trap: true, hang: name === 'stuck' }), null) }] });
    for (const name of ['a', 'b', 'c', 'stuck']) await Supervisor.startChild(rt, sup, [name]);
    const stopped = rt.run(async (ctx) => {
      const ref = ctx.monitor(sup);
      await Supervisor.stop(ctx, sup, 'shutdown');
      return ctx.receive((m) => (m as { ref?: unknown }).ref === ref, 100);
    });
    await settle(rt);
    expect(log.sort()).toEqual(['terminate a shutdown', 'terminate b shutdown', 'terminate c shutdown', 'terminate stuck shutdown']);
    // 'stuck' never finishes terminate: killed when its shutdown time runs out.
    await clock.advance(1_000);
    expect(await stopped).toMatchObject({ type: 'DOWN', reason: 'shutdown' });
    expect(rt.processCount).toBe(0);
    expect(logger.entries.filter((e) => e.message.includes('terminating'))).toEqual([]);
  });
});
