import { describe, expect, it } from 'vitest';
import { consoleLogger } from '@fdn/core';
import { ErrorCode, GenServer, isExitMessage } from '../src/index.ts';
import type { CallResult, From, GenServerBehaviour, NoReplyResult, Pid } from '../src/index.ts';
import { deferred, settle, testRuntime } from './helpers.ts';

type CounterCall = 'get' | 'inc' | 'crash' | 'slow' | 'stopNormal' | { defer: true } | 'badReturn';

const counter: GenServerBehaviour<number, number, CounterCall, unknown, 'inc' | 'crash'> = {
  name: 'counter',
  init: (start) => ({ type: 'ok', state: start }),
  handleCall(req, from, n, ctx): CallResult<number, unknown> | Promise<CallResult<number, unknown>> {
    if (req === 'get') return { type: 'reply', reply: n, state: n };
    if (req === 'inc') return { type: 'reply', reply: n + 1, state: n + 1 };
    if (req === 'crash') throw new Error('asked to crash');
    if (req === 'stopNormal') return { type: 'stop', reason: 'normal', reply: 'bye', state: n };
    if (req === 'badReturn') return { type: 'nonsense' } as never;
    if (req === 'slow') return ctx.receive(null, 10_000).then(() => ({ type: 'reply', reply: 'late', state: n }));
    // deferred reply from a timer-driven message
    ctx.sendAfter(ctx.self, { replyTo: from }, 10);
    return { type: 'noreply', state: n };
  },
  handleCast(req, n): NoReplyResult<number> {
    if (req === 'crash') throw new Error('cast crash');
    return { type: 'noreply', state: n + 1 };
  },
  handleInfo(msg, n): NoReplyResult<number> {
    if (typeof msg === 'object' && msg !== null && 'replyTo' in msg) GenServer.reply((msg as { replyTo: From }).replyTo, 'deferred');
    return { type: 'noreply', state: n };
  },
};

describe('GenServer', () => {
  it('start, call, cast, getState', async () => {
    const { rt } = testRuntime();
    const pid = await GenServer.start(rt, counter, 5, { name: 'counter' });
    expect(await GenServer.call(rt, pid, 'get')).toBe(5);
    expect(await GenServer.call(rt, 'counter', 'inc')).toBe(6);
    GenServer.cast(rt, 'counter', 'inc');
    expect(await GenServer.getState(rt, pid)).toBe(7);
    expect(rt.processInfo(pid)).toMatchObject({ behaviour: 'GenServer', registeredName: 'counter', details: { state: '7' } });
  });

  it('replies later with GenServer.reply', async () => {
    const { rt, clock } = testRuntime();
    const pid = await GenServer.start(rt, counter, 0);
    const p = GenServer.call(rt, pid, { defer: true });
    await clock.advance(10);
    expect(await p).toBe('deferred');
  });

  it('call times out with FDN_ERR_CALL_TIMEOUT and the late reply is dropped', async () => {
    const { rt, clock } = testRuntime();
    const pid = await GenServer.start(rt, counter, 0);
    const outcome = deferred<unknown>();
    const caller = rt.spawn(async (ctx) => {
      try {
        await GenServer.call(ctx, pid, 'slow', 100);
      } catch (err) {
        outcome.resolve(err);
      }
      await ctx.receive(null, 50_000);
    });
    await clock.advance(100);
    expect(await outcome.promise).toMatchObject({ code: ErrorCode.CALL_TIMEOUT });
    rt.send(pid, 'wake');
    await settle(rt);
    // The server answered 'late' after the caller gave up: it must not sit in its mailbox.
    expect(rt.processInfo(caller)?.messageQueueLen).toBe(0);
  });

  it('call to a dead pid or unknown name is FDN_ERR_NOPROC', async () => {
    const { rt } = testRuntime();
    const dead = rt.spawn(() => undefined);
    await settle(rt);
    await expect(GenServer.call(rt, dead, 'get')).rejects.toMatchObject({ code: ErrorCode.NOPROC });
    await expect(GenServer.call(rt, 'nobody', 'get')).rejects.toMatchObject({ code: ErrorCode.NOPROC });
  });

  it('a server crashing during a call fails the call with its reason, runs no code in the caller, and writes a report', async () => {
    const { rt, log } = testRuntime();
    const pid = await GenServer.start(rt, counter, 0, { name: 'c' });
    GenServer.cast(rt, pid, 'inc');
    const err = await GenServer.call(rt, pid, 'crash').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.CALL_EXIT });
    expect((err as { reason: Error }).reason.message).toBe('asked to crash');
    const report = log.entries.find((e) => e.message.startsWith('GenServer counter terminating'));
    expect(report?.fields).toMatchObject({ name: 'c', state: '1' });
    expect(String(report?.fields.lastMessage)).toContain('crash');
    expect((report?.fields.reason as Error).stack).toContain('asked to crash');
  });

  it('a bad callback result crashes with FDN_ERR_BAD_RETURN_VALUE', async () => {
    const { rt } = testRuntime();
    const pid = await GenServer.start(rt, counter, 0);
    const err = (await GenServer.call(rt, pid, 'badReturn').catch((e: unknown) => e)) as { reason: { code: string } };
    expect(err.reason.code).toBe(ErrorCode.BAD_RETURN_VALUE);
  });

  it('a bad result names what that callback may return (init does not list handleCall’s results)', async () => {
    const { rt } = testRuntime();
    const noReturn = { init: () => undefined } as unknown as GenServerBehaviour<null>;
    const err = (await GenServer.start(rt, noReturn, null).catch((e: unknown) => e)) as { code: string; message: string; reason: { message: string } };
    expect(err.code).toBe(ErrorCode.START_FAILED);
    const text = `${err.message} ${err.reason.message}`;
    expect(text).toContain("init returned undefined (did it forget to return");
    expect(text).toContain("init must return { type: 'ok', state } | { type: 'stop', reason } | { type: 'ignore' }");
    expect(text).not.toContain("'reply'");
    const castWrong: GenServerBehaviour<null> = { init: () => ({ type: 'ok', state: null }), handleCast: () => ({ type: 'reply', reply: 1, state: null }) as never };
    const pid = await GenServer.start(rt, castWrong, null);
    const exited = rt.run(async (ctx) => {
      ctx.monitor(pid);
      GenServer.cast(ctx, pid, 'x');
      return ctx.receive((m) => (m as { type?: string }).type === 'DOWN', 1_000);
    });
    await settle(rt);
    const down = (await exited) as { reason: { message: string } };
    expect(down.reason.message).toContain("handleCast must return { type: 'noreply', state } | { type: 'stop', reason, state }");
  });

  it('stop runs terminate and waits for the exit; a stop result replies after terminate', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const b: GenServerBehaviour<null> = {
      init: () => ({ type: 'ok', state: null }),
      handleCall: () => ({ type: 'stop', reason: 'normal', reply: 'ok', state: null }),
      terminate: (reason) => {
        log.push(`terminate ${String(reason)}`);
      },
    };
    const a = await GenServer.start(rt, b, undefined);
    await GenServer.stop(rt, a);
    expect(rt.isAlive(a)).toBe(false);
    const c = await GenServer.start(rt, b, undefined);
    expect(await GenServer.call(rt, c, 'x')).toBe('ok');
    expect(log).toEqual(['terminate normal', 'terminate normal']);
    await expect(GenServer.stop(rt, c)).rejects.toMatchObject({ code: ErrorCode.NOPROC });
  });

  it('init stop, ignore, throw and timeout reject the start without killing the linked caller', async () => {
    const { rt, clock } = testRuntime();
    const results = await rt.run(async (ctx) => {
      const out: unknown[] = [];
      for (const init of [
        () => ({ type: 'stop' as const, reason: 'no_config' }),
        () => ({ type: 'ignore' as const }),
        () => {
          throw new Error('init threw');
        },
      ]) {
        const err = await GenServer.startLink(ctx, { init }, undefined).catch((e: unknown) => e);
        out.push([(err as { code: string }).code, (err as { reason: unknown }).reason]);
      }
      return out;
    });
    expect(results[0]).toEqual([ErrorCode.START_FAILED, 'no_config']);
    expect(results[1]).toEqual([ErrorCode.START_FAILED, 'ignore']);
    expect(results[2]).toEqual([ErrorCode.START_FAILED, expect.objectContaining({ message: 'init threw' })]);
    const slow = GenServer.start(rt, { init: (_a: undefined, ctx) => ctx.receive(null, 10_000).then(() => ({ type: 'ok' as const, state: 1 })) }, undefined, { timeout: 500 });
    const check = expect(slow).rejects.toMatchObject({ code: ErrorCode.START_FAILED, reason: 'timeout' });
    await clock.advance(500);
    await check;
    expect(rt.processCount).toBe(0);
  });

  it("linkOnFailure: a failed start also sends the caller the init's exit signal, as OTP's start_link", async () => {
    const { rt } = testRuntime();
    // A trapping caller sees both: the rejected start and an EXIT with the init's reason (ignore: normal).
    const trapped = await rt.run(async (ctx) => {
      ctx.trapExit(true);
      const out: unknown[] = [];
      for (const init of [() => ({ type: 'stop' as const, reason: 'no_config' }), () => ({ type: 'ignore' as const })]) {
        const err = await GenServer.startLink(ctx, { init }, undefined, { linkOnFailure: true }).catch((e: unknown) => e);
        const exit = await ctx.receive(isExitMessage, 100);
        out.push([(err as { reason: unknown }).reason, (exit as { reason?: unknown }).reason]);
      }
      return out;
    });
    expect(trapped).toEqual([
      ['no_config', 'no_config'],
      ['ignore', 'normal'],
    ]);
    // A caller that does not trap exits goes down with the reason; without the option it lives.
    const reasons: unknown[] = [];
    for (const linkOnFailure of [true, false]) {
      const done = deferred<unknown>();
      const caller = rt.spawn(async (ctx) => {
        await GenServer.startLink(ctx, { init: () => ({ type: 'stop' as const, reason: 'no_config' }) }, undefined, { linkOnFailure }).catch(() => undefined);
        await ctx.receive(null, 0);
        done.resolve('survived');
      });
      rt.spawn(async (ctx) => {
        ctx.monitor(caller);
        done.resolve(((await ctx.receive()) as { reason: unknown }).reason);
      });
      reasons.push(await done.promise);
    }
    expect(reasons).toEqual(['no_config', 'survived']);
  });

  it('start refuses a taken name and a behaviour without init', async () => {
    const { rt } = testRuntime();
    await GenServer.start(rt, counter, 0, { name: 'taken' });
    await expect(GenServer.start(rt, counter, 0, { name: 'taken' })).rejects.toMatchObject({ code: ErrorCode.NAME_TAKEN });
    await expect(GenServer.start(rt, {} as never, 0)).rejects.toMatchObject({ code: ErrorCode.BAD_ARGUMENT });
  });

  it('startLink: a trapping server terminates when its parent exits', async () => {
    const { rt } = testRuntime();
    const terminated = deferred<unknown>();
    const parent = rt.spawn(async (ctx) => {
      await GenServer.startLink(
        ctx,
        {
          init: (_a: undefined, c) => {
            c.trapExit(true);
            return { type: 'ok', state: null };
          },
          terminate: (reason) => {
            terminated.resolve(reason);
          },
        },
        undefined,
      );
      await ctx.receive();
    });
    await settle(rt);
    rt.exit(parent, 'shutdown');
    expect(await terminated.promise).toBe('shutdown');
  });

  it('handleContinue runs before the next message; timeout delivers "timeout" to handleInfo', async () => {
    const { rt, clock } = testRuntime();
    const events: string[] = [];
    const pid = await GenServer.start(
      rt,
      {
        init: () => ({ type: 'ok', state: 0, continue: 'boot' }),
        handleContinue: (arg: unknown, s: number) => {
          events.push(`continue ${String(arg)}`);
          return { type: 'noreply', state: s, timeout: 1_000 };
        },
        handleCall: (_r: unknown, _f, s: number) => ({ type: 'reply', reply: s, state: s, timeout: 1_000 }),
        handleInfo: (msg: unknown, s: number) => {
          events.push(`info ${String(msg)}`);
          return { type: 'noreply', state: s };
        },
      },
      undefined,
    );
    await clock.advance(500);
    expect(await GenServer.call(rt, pid, 'ping')).toBe(0);
    await clock.advance(999);
    expect(events).toEqual(['continue boot']);
    await clock.advance(1);
    expect(events).toEqual(['continue boot', 'info timeout']);
  });

  it('an async handleContinue requested by init finishes before the first message is handled', async () => {
    const { rt } = testRuntime();
    const trace: string[] = [];
    const pid = await GenServer.start(
      rt,
      {
        init: () => ({ type: 'ok', state: 'booting', continue: 'load' }),
        handleContinue: async (_arg: unknown, _s: string) => {
          trace.push('continue started');
          await new Promise((r) => setImmediate(r));
          trace.push('continue done');
          return { type: 'noreply', state: 'ready' };
        },
        handleCall: (_r: unknown, _f, s: string) => {
          trace.push(`call sees ${s}`);
          return { type: 'reply', reply: s, state: s };
        },
      },
      undefined,
    );
    expect(await GenServer.call(rt, pid, 'state?')).toBe('ready');
    expect(trace).toEqual(['continue started', 'continue done', 'call sees ready']);
  });

  it('async callbacks serialise message handling', async () => {
    const { rt } = testRuntime();
    const trace: string[] = [];
    const pid = await GenServer.start(
      rt,
      {
        init: () => ({ type: 'ok', state: 0 }),
        handleCall: async (req: number, _f, s: number) => {
          trace.push(`start ${req}`);
          await new Promise((r) => setImmediate(r));
          trace.push(`end ${req}`);
          return { type: 'reply', reply: s + req, state: s + req };
        },
      },
      undefined,
    );
    const [a, b] = await Promise.all([GenServer.call(rt, pid, 1), GenServer.call(rt, pid, 2)]);
    expect([a, b].sort()).toEqual([1, 3]);
    expect(trace).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a server can call another server inside handleCall while its own callers wait', async () => {
    const { rt } = testRuntime();
    const inner = await GenServer.start(rt, counter, 41);
    const outer = await GenServer.start(
      rt,
      {
        init: () => ({ type: 'ok', state: null }),
        handleCall: async (_r: unknown, _f, s: null, ctx) => ({ type: 'reply', reply: await GenServer.call(ctx, inner, 'inc'), state: s }),
      },
      undefined,
    );
    expect(await Promise.all([GenServer.call(rt, outer, 'x'), GenServer.call(rt, outer, 'x')])).toEqual([42, 43]);
  });

  it('calling oneself is refused', async () => {
    const { rt } = testRuntime();
    const pid = await GenServer.start(
      rt,
      {
        init: () => ({ type: 'ok', state: null }),
        handleCall: async (_r: unknown, _f, s: null, ctx) => ({ type: 'reply', reply: await GenServer.call(ctx, ctx.self, 'x').catch((e: unknown) => (e as { code: string }).code), state: s }),
      },
      undefined,
    );
    expect(await GenServer.call(rt, pid, 'go')).toBe(ErrorCode.CALLING_SELF);
  });

  it('EXIT messages reach handleInfo when the server traps exits', async () => {
    const { rt } = testRuntime();
    const seen = deferred<unknown>();
    await GenServer.start(
      rt,
      {
        init: (_a: undefined, ctx) => {
          ctx.trapExit(true);
          ctx.spawnLink(() => {
            throw new Error('linked crash');
          });
          return { type: 'ok', state: null };
        },
        handleInfo: (msg: unknown, s: null) => {
          if (isExitMessage(msg)) seen.resolve((msg.reason as Error).message);
          return { type: 'noreply', state: s };
        },
      },
      undefined,
    );
    expect(await seen.promise).toBe('linked crash');
  });

  it('an unexpected message without handleInfo is logged, not fatal', async () => {
    const { rt, log } = testRuntime();
    const pid = await GenServer.start(rt, { init: () => ({ type: 'ok', state: 1 }), handleCall: (_r: unknown, _f: From, s: number) => ({ type: 'reply', reply: s, state: s }) }, undefined);
    rt.send(pid, 'stray');
    expect(await GenServer.call(rt, pid, 'get')).toBe(1);
    expect(log.entries.some((e) => e.level === 'warn' && String(e.fields.message).includes('stray'))).toBe(true);
  });

  it('cast to a dead server or unknown name never throws', async () => {
    const { rt } = testRuntime();
    expect(() => {
      GenServer.cast(rt, 'nobody', 1);
    }).not.toThrow();
    const pid: Pid = rt.spawn(() => undefined);
    await settle(rt);
    expect(() => {
      GenServer.cast(rt, pid, 1);
    }).not.toThrow();
  });
});

describe('crash reports as printed', () => {
  it('show the pids, the last message, the state and the reason, never the runtime or a process behind a pid', async () => {
    const lines: string[] = [];
    const { rt } = testRuntime({ logger: consoleLogger({ write: (l) => lines.push(l) }) });
    const holdsCtx: GenServerBehaviour<{ ctx: unknown; n: number }, null, 'crash'> = {
      init: (_a, ctx) => ({ type: 'ok', state: { ctx, n: 7 } }),
      handleCall: () => {
        throw new Error('boom');
      },
    };
    const pid = await GenServer.start(rt, holdsCtx, null);
    await expect(GenServer.call(rt, pid, 'crash')).rejects.toMatchObject({ code: ErrorCode.CALL_EXIT });
    await settle(rt);
    const report = lines.find((l) => l.includes('terminating')) ?? '';
    expect(report).toContain(`"pid":"${pid.toString()}"`);
    expect(report).toContain("request: 'crash'");
    expect(report).toContain('n: 7');
    expect(report).toContain('Error: boom');
    for (const internal of ['Runtime {', '_proc', 'TimersList', 'mailbox:', 'waitResolve']) expect(report).not.toContain(internal);
    // The caller of rt.run / GenServer.call got the error as a rejection: no second report for it.
    expect(lines.filter((l) => l.includes('crashed'))).toEqual([]);
  });
});
