import { describe, expect, it } from 'vitest';
import { ErrorCode, TIMEOUT, isPid } from '../src/index.ts';
import type { Pid } from '../src/index.ts';
import { deferred, settle, testRuntime } from './helpers.ts';

describe('spawn, send and receive', () => {
  it('spawn returns a printable pid at once and runs the body later', async () => {
    const { rt } = testRuntime();
    let ran = false;
    const pid = rt.spawn(() => {
      ran = true;
    });
    expect(isPid(pid)).toBe(true);
    expect(pid.toString()).toMatch(/^<test\.\d+\.1>$/);
    expect(ran).toBe(false);
    await settle(rt);
    expect(ran).toBe(true);
    expect(rt.isAlive(pid)).toBe(false);
  });

  it('delivers messages from one sender in order', async () => {
    const { rt } = testRuntime();
    const got = await rt.run(async (ctx) => {
      const child = ctx.spawn(async (c) => {
        const parent = (await c.receive()) as Pid;
        const seen: unknown[] = [];
        for (let i = 0; i < 100; i++) seen.push(await c.receive());
        c.send(parent, seen);
      });
      ctx.send(child, ctx.self);
      for (let i = 0; i < 100; i++) ctx.send(child, i);
      return ctx.receive();
    });
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('selective receive leaves unmatched messages in the mailbox, in order', async () => {
    const { rt } = testRuntime();
    const order = await rt.run(async (ctx) => {
      ctx.send(ctx.self, 'a');
      ctx.send(ctx.self, 1);
      ctx.send(ctx.self, 'b');
      ctx.send(ctx.self, 2);
      const first = await ctx.receive((m): m is number => typeof m === 'number');
      const second = await ctx.receive((m): m is number => typeof m === 'number');
      return [first, second, await ctx.receive(), await ctx.receive()];
    });
    expect(order).toEqual([1, 2, 'a', 'b']);
  });

  it('a waiting selective receive is woken only by a matching message', async () => {
    const { rt } = testRuntime();
    const result = deferred<unknown[]>();
    const pid = rt.spawn(async (ctx) => {
      const m = await ctx.receive((x) => x === 'wanted');
      result.resolve([m, await ctx.receive(), await ctx.receive()]);
    });
    await settle(rt);
    rt.send(pid, 'noise1');
    rt.send(pid, 'noise2');
    await settle(rt);
    expect(rt.processInfo(pid)?.messageQueueLen).toBe(2);
    rt.send(pid, 'wanted');
    expect(await result.promise).toEqual(['wanted', 'noise1', 'noise2']);
  });

  it('receive with a timeout resolves TIMEOUT after the virtual time passes', async () => {
    const { rt, clock } = testRuntime();
    const outcome = deferred<unknown>();
    rt.spawn(async (ctx) => {
      outcome.resolve(await ctx.receive(null, 1_000));
    });
    await clock.advance(999);
    let settled = false;
    void outcome.promise.then(() => (settled = true));
    await settle(rt);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await outcome.promise).toBe(TIMEOUT);
  });

  it('receive with timeout 0 only inspects the mailbox', async () => {
    const { rt } = testRuntime();
    const r = await rt.run(async (ctx) => {
      const empty = await ctx.receive(null, 0);
      ctx.send(ctx.self, 'x');
      const full = await ctx.receive(null, 0);
      return [empty, full];
    });
    expect(r).toEqual([TIMEOUT, 'x']);
  });

  it('a message arriving before the timeout cancels it', async () => {
    const { rt, clock } = testRuntime();
    const r = deferred<unknown>();
    const pid = rt.spawn(async (ctx) => {
      r.resolve(await ctx.receive(null, 500));
    });
    await settle(rt);
    rt.send(pid, 'in time');
    expect(await r.promise).toBe('in time');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('two pending receives in one process are refused', async () => {
    const { rt } = testRuntime();
    await expect(
      rt.run(async (ctx) => {
        void ctx.receive();
        await ctx.receive();
      }),
    ).rejects.toMatchObject({ code: ErrorCode.RECEIVE_PENDING });
  });

  it('a throwing matcher crashes the receiving process, not the sender', async () => {
    const { rt, log } = testRuntime();
    const pid = rt.spawn(async (ctx) => {
      await ctx.receive(() => {
        throw new Error('bad matcher');
      });
    });
    await settle(rt);
    expect(() => {
      rt.send(pid, 'x');
    }).not.toThrow();
    expect(rt.isAlive(pid)).toBe(false);
    expect(log.entries.some((e) => e.level === 'error' && (e.fields.reason as Error).message === 'bad matcher')).toBe(true);
  });

  it('send to a dead pid is a silent no-op', async () => {
    const { rt } = testRuntime();
    const pid = rt.spawn(() => undefined);
    await settle(rt);
    expect(() => {
      rt.send(pid, 'hello');
    }).not.toThrow();
  });

  it('rejects a non-function body with a clear code', () => {
    const { rt } = testRuntime();
    expect(() => rt.spawn('nope' as never)).toThrow(expect.objectContaining({ code: ErrorCode.BAD_ARGUMENT }));
  });

  it('a throwing process never takes the node down and is reported', async () => {
    const { rt, log } = testRuntime();
    const pid = rt.spawn(async () => {
      await Promise.resolve();
      throw new Error('boom');
    });
    const sync = rt.spawn(() => {
      throw new TypeError('sync boom');
    });
    await settle(rt);
    expect(rt.isAlive(pid)).toBe(false);
    expect(rt.isAlive(sync)).toBe(false);
    const reasons = log.entries.map((e) => (e.fields.reason as Error).message);
    expect(reasons).toEqual(expect.arrayContaining(['boom', 'sync boom']));
    expect(await rt.run(() => 'still serving')).toBe('still serving');
  });

  it('ctx.exit(reason) ends the process with that reason', async () => {
    const { rt } = testRuntime();
    await expect(
      rt.run((ctx) => {
        ctx.exit({ shutdown: 'done' });
      }),
    ).rejects.toMatchObject({ code: ErrorCode.EXITED, reason: { shutdown: 'done' } });
  });

  it('a killed process stops at its next receive and its later calls are no-ops', async () => {
    const { rt } = testRuntime();
    const gate = deferred<undefined>();
    const after: string[] = [];
    const pid = rt.spawn(async (ctx) => {
      await gate.promise;
      after.push('resumed');
      ctx.send(ctx.self, 'x');
      await ctx.receive();
      after.push('unreachable');
    });
    await settle(rt);
    rt.exit(pid, 'kill');
    expect(rt.isAlive(pid)).toBe(false);
    gate.resolve(undefined);
    await settle(rt);
    expect(after).toEqual(['resumed']);
  });

  it('run() rejects with the error a process threw', async () => {
    const { rt } = testRuntime();
    await expect(
      rt.run(() => {
        throw new RangeError('out of range');
      }),
    ).rejects.toThrow(RangeError);
  });

  it('refs are unique and printable', () => {
    const { rt } = testRuntime();
    const a = rt.makeRef();
    const b = rt.makeRef();
    expect(a.equals(b)).toBe(false);
    expect(a.equals(a)).toBe(true);
    expect(a.toString()).toMatch(/^#Ref<test\.\d+\.1>$/);
  });

  it('shutdown kills everything and refuses new spawns', async () => {
    const { rt } = testRuntime();
    const a = rt.spawn((ctx) => ctx.receive());
    await settle(rt);
    rt.shutdown();
    expect(rt.isAlive(a)).toBe(false);
    expect(rt.processCount).toBe(0);
    expect(() => rt.spawn(() => undefined)).toThrow(expect.objectContaining({ code: ErrorCode.RUNTIME_STOPPED }));
  });
});
