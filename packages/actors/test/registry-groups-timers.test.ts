import { describe, expect, it } from 'vitest';
import { ErrorCode, GenServer, isDownMessage, isExitMessage, TIMEOUT } from '../src/index.ts';
import type { DownMessage, ExitMessage } from '../src/index.ts';
import { deferred, settle, testRuntime } from './helpers.ts';

describe('registry', () => {
  it('registers, sends by name, and frees the name when the process dies', async () => {
    const { rt } = testRuntime();
    const got = deferred<unknown>();
    const pid = rt.spawn(async (ctx) => {
      ctx.register('echo');
      got.resolve(await ctx.receive());
    });
    await settle(rt);
    expect(rt.whereis('echo')).toBe(pid);
    rt.send('echo', 'by name');
    expect(await got.promise).toBe('by name');
    await settle(rt);
    expect(rt.whereis('echo')).toBeUndefined();
    expect(rt.registered()).toEqual([]);
  });

  it('a name belongs to one live process; register refuses with badarg, saying why', async () => {
    const { rt } = testRuntime();
    const a = rt.spawn((ctx) => ctx.receive(), { name: 'svc' });
    // A name given at spawn (or GenServer.start) is OTP's already_started.
    expect(() => rt.spawn(() => undefined, { name: 'svc' })).toThrow(expect.objectContaining({ code: ErrorCode.NAME_TAKEN, reason: { alreadyStarted: a } }));
    const b = rt.spawn((ctx) => ctx.receive());
    const badarg = (why: string): unknown => expect.objectContaining({ code: ErrorCode.BADARG, reason: expect.objectContaining({ badarg: why }) as unknown });
    expect(() => {
      rt.register('svc', b);
    }).toThrow(badarg('name_taken'));
    expect(() => {
      rt.register('other', a);
    }).toThrow(badarg('already_registered'));
    expect(() => {
      rt.register('', b);
    }).toThrow(badarg('bad_name'));
    expect(() => {
      rt.register('undefined', b);
    }).toThrow(badarg('reserved_name'));
    expect(() => {
      rt.register('undefined', b);
    }).toThrow(/'undefined' is reserved/);
    await settle(rt);
    rt.exit(a, 'kill');
    rt.register('svc', b);
    expect(rt.whereis('svc')).toBe(b);
    rt.unregister('svc');
    expect(rt.whereis('svc')).toBeUndefined();
    expect(() => {
      rt.unregister('svc');
    }).toThrow(expect.objectContaining({ code: ErrorCode.NOT_REGISTERED }));
  });

  it('a process registers another (register/2), with the same badarg refusals', async () => {
    const { rt } = testRuntime();
    const worker = rt.spawn((ctx) => ctx.receive());
    const dead = rt.spawn(() => undefined);
    await settle(rt);
    const r = await rt.run((ctx) => {
      ctx.register('worker', worker);
      const errors: unknown[] = [];
      const attempts = [
        () => {
          ctx.register('late', dead);
        },
        () => {
          ctx.register('worker', ctx.self);
        },
        () => {
          ctx.register('second', worker);
        },
      ];
      for (const attempt of attempts) {
        try {
          attempt();
        } catch (err) {
          errors.push((err as { reason: { badarg: string } }).reason.badarg);
        }
      }
      ctx.register('me');
      return { errors, worker: ctx.whereis('worker'), me: ctx.whereis('me') };
    });
    expect(r.worker).toBe(worker);
    expect(r.errors).toEqual(['noproc', 'name_taken', 'already_registered']);
    expect(r.me).toBeDefined();
  });


  it('registering a dead process is badarg (noproc); sending to an unknown name is not_registered', async () => {
    const { rt } = testRuntime();
    const dead = rt.spawn(() => undefined);
    await settle(rt);
    expect(() => {
      rt.register('x', dead);
    }).toThrow(expect.objectContaining({ code: ErrorCode.BADARG, reason: { badarg: 'noproc' } }));
    expect(() => {
      rt.send('nobody', 1);
    }).toThrow(expect.objectContaining({ code: ErrorCode.NOT_REGISTERED }));
    expect(() => {
      rt.send({ name: 'nobody', node: 'test' }, 1);
    }).not.toThrow();
  });
});

describe('process groups', () => {
  it('join, leave, members, and automatic leave on exit', async () => {
    const { rt } = testRuntime();
    const a = rt.spawn((ctx) => ctx.receive());
    const b = rt.spawn((ctx) => ctx.receive());
    rt.join('workers', a);
    rt.join('workers', b);
    rt.join('workers', a);
    expect(rt.members('workers')).toEqual([a, a, b]);
    expect(rt.leave('workers', a)).toBe(true);
    expect(rt.members('workers')).toEqual([a, b]);
    expect(rt.processInfo(a)?.groups).toEqual(['workers']);
    await settle(rt);
    rt.exit(a, 'kill');
    expect(rt.members('workers')).toEqual([b]);
    rt.exit(b, 'kill');
    expect(rt.members('workers')).toEqual([]);
    expect(rt.whichGroups()).toEqual([]);
    expect(rt.leave('workers', b)).toBe(false);
    expect(() => {
      rt.join('workers', b);
    }).toThrow(expect.objectContaining({ code: ErrorCode.NOPROC }));
  });
});

describe('timers', () => {
  it('sendAfter delivers on the virtual clock; cancelTimer returns the time left', async () => {
    const { rt, clock } = testRuntime();
    const got = deferred<unknown>();
    const pid = rt.spawn(async (ctx) => {
      const t1 = ctx.sendAfter(ctx.self, 'late', 100);
      const t2 = ctx.sendAfter(ctx.self, 'cancelled', 50);
      await ctx.receive(null, 10);
      const left = ctx.cancelTimer(t2);
      const again = ctx.cancelTimer(t2);
      const msg = await ctx.receive();
      got.resolve({ left, again, msg, firedAgain: ctx.cancelTimer(t1) });
    });
    await clock.advance(100);
    expect(await got.promise).toEqual({ left: 40, again: false, msg: 'late', firedAgain: false });
    expect(rt.isAlive(pid)).toBe(false);
  });

  it('cancelTimer and readTimer answer whole milliseconds, and false once the timer fired (erlang:cancel_timer/read_timer)', async () => {
    const { rt, clock } = testRuntime();
    const pid = rt.spawn((ctx) => ctx.receive());
    const t = rt.sendAfter(pid, 'x', 1_000);
    await clock.advance(0.4);
    expect(rt.readTimer(t)).toBe(999);
    await clock.advance(499.2);
    expect(rt.readTimer(t)).toBe(500);
    expect(rt.cancelTimer(t)).toBe(500);
    expect(rt.readTimer(t)).toBe(false);
    const fired = rt.sendAfter(pid, 'y', 10);
    await clock.advance(10);
    expect(rt.readTimer(fired)).toBe(false);
    expect(rt.cancelTimer(fired)).toBe(false);
  });

  it('a timer whose target exited is finished: cancelTimer and readTimer answer false', async () => {
    const { rt, clock } = testRuntime();
    const pid = rt.spawn((ctx) => ctx.receive());
    await settle(rt);
    const t = rt.sendAfter(pid, 'x', 1_000);
    rt.exit(pid, 'kill');
    await clock.advance(10);
    expect(rt.readTimer(t)).toBe(false);
    expect(rt.cancelTimer(t)).toBe(false);
  });

  it('startTimer delivers { type: timeout, ref, msg } with the timer as ref (erlang:start_timer/3)', async () => {
    const { rt, clock } = testRuntime();
    const got = deferred<unknown>();
    rt.spawn(async (ctx) => {
      const first = ctx.startTimer(ctx.self, 'first', 20);
      const second = ctx.startTimer(ctx.self, 'second', 10);
      const m = (await ctx.receive()) as { type: string; ref: unknown; msg: unknown };
      const n = (await ctx.receive()) as { type: string; ref: unknown; msg: unknown };
      got.resolve({ inOrder: [m.msg, n.msg], refs: m.ref === second && n.ref === first, type: m.type, left: ctx.readTimer(first) });
    });
    await clock.advance(20);
    expect(await got.promise).toEqual({ inOrder: ['second', 'first'], refs: true, type: 'timeout', left: false });
  });

  it('cancelTimer options as erlang:cancel_timer/2: info false answers ok; async answers ok and sends { type: cancel_timer, ref, result }', async () => {
    const { rt, clock } = testRuntime();
    const got = deferred<unknown>();
    rt.spawn(async (ctx) => {
      const a = ctx.sendAfter(ctx.self, 'a', 100);
      const b = ctx.sendAfter(ctx.self, 'b', 200);
      const c = ctx.sendAfter(ctx.self, 'c', 300);
      const quiet = ctx.cancelTimer(a, { info: false });
      const asyncAnswer = ctx.cancelTimer(b, { async: true });
      const silent = ctx.cancelTimer(c, { async: true, info: false });
      const told = await ctx.receive(null, 0);
      const again = ctx.cancelTimer(b, { async: true });
      const toldAgain = await ctx.receive(null, 0);
      const nothingMore = await ctx.receive(null, 0);
      got.resolve({ quiet, asyncAnswer, silent, told, toldAgain, nothingMore, refIsTimer: (told as { ref: unknown }).ref === b, again, afterAll: [ctx.readTimer(a), ctx.readTimer(c)] });
    });
    await clock.advance(1);
    expect(await got.promise).toEqual({
      quiet: 'ok',
      asyncAnswer: 'ok',
      silent: 'ok',
      told: { type: 'cancel_timer', ref: expect.anything() as unknown, result: 200 },
      toldAgain: { type: 'cancel_timer', ref: expect.anything() as unknown, result: false },
      nothingMore: Symbol.for('fdn.timeout'),
      refIsTimer: true,
      again: 'ok',
      afterAll: [false, false],
    });
  });

  it('a timer aimed at a process is cancelled when it exits', async () => {
    const { rt, clock } = testRuntime();
    const pid = rt.spawn((ctx) => ctx.receive());
    rt.sendAfter(pid, 'x', 1_000);
    expect(clock.pendingTimers()).toBe(1);
    await settle(rt);
    rt.exit(pid, 'kill');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a timer to a name nobody holds is dropped silently', async () => {
    const { rt, clock } = testRuntime();
    rt.sendAfter('ghost', 'x', 10);
    await expect(clock.advance(20)).resolves.toBeUndefined();
  });
});

describe('bounded mailboxes', () => {
  const fill = async (policy: 'dropNewest' | 'dropOldest') => {
    const { rt } = testRuntime();
    const gate = deferred<undefined>();
    const drained = deferred<unknown[]>();
    const pid = rt.spawn(
      async (ctx) => {
        await gate.promise;
        const out: unknown[] = [];
        for (;;) {
          const m = await ctx.receive(null, 0);
          if (m === TIMEOUT) break;
          out.push(m);
        }
        drained.resolve(out);
      },
      { maxMailbox: 3, overflow: policy },
    );
    await settle(rt);
    for (let i = 0; i < 5; i++) rt.send(pid, i);
    const info = rt.processInfo(pid);
    gate.resolve(undefined);
    return { info, kept: await drained.promise };
  };

  it('dropNewest keeps the first messages and counts the drops', async () => {
    const { info, kept } = await fill('dropNewest');
    expect(info?.messageQueueLen).toBe(3);
    expect(info?.dropped).toBe(2);
    expect(info?.maxMailbox).toBe(3);
    expect(kept).toEqual([0, 1, 2]);
  });

  it('dropOldest keeps the latest messages', async () => {
    const { info, kept } = await fill('dropOldest');
    expect(info?.dropped).toBe(2);
    expect(kept).toEqual([2, 3, 4]);
  });

  it('exit ends the process with FDN_ERR_MAILBOX_OVERFLOW', async () => {
    const { rt } = testRuntime();
    const reason = await rt.run(async (ctx) => {
      const [pid] = ctx.spawnMonitor((c) => c.receive((m) => m === 'never'), { maxMailbox: 2, overflow: 'exit' });
      await Promise.resolve();
      for (let i = 0; i < 3; i++) ctx.send(pid, i);
      return ((await ctx.receive()) as { reason: { code: string } }).reason.code;
    });
    expect(reason).toBe(ErrorCode.MAILBOX_OVERFLOW);
  });

  it('never drops signals and replies: EXIT, DOWN and a call reply get through a full mailbox (dropNewest, dropOldest)', async () => {
    for (const overflow of ['dropNewest', 'dropOldest'] as const) {
      const { rt } = testRuntime();
      const server = await GenServer.start(rt, { init: () => ({ type: 'ok' as const, state: null }), handleCall: (req: unknown) => ({ type: 'reply' as const, reply: req, state: null }) }, undefined);
      const result = deferred<unknown>();
      const gate = deferred<undefined>();
      const pid = rt.spawn(
        async (c) => {
          c.trapExit(true);
          const victim = c.spawnLink((v) => v.receive());
          const watched = c.spawn((v) => v.receive());
          c.monitor(watched);
          await gate.promise;
          // Two junk messages fill the bound; the signals arrive on top of them.
          c.exit(victim, 'shutdown');
          c.exit(watched, 'kill');
          const reply = await GenServer.call(c, server, 'pong', 1_000);
          const exit = await c.receive(isExitMessage, 0);
          const down = await c.receive(isDownMessage, 0);
          result.resolve({ reply, exit: (exit as ExitMessage).reason, down: (down as DownMessage).reason });
        },
        { maxMailbox: 2, overflow },
      );
      await settle(rt);
      for (let i = 0; i < 5; i++) rt.send(pid, `junk${String(i)}`);
      gate.resolve(undefined);
      expect(await result.promise).toEqual({ reply: 'pong', exit: 'shutdown', down: 'killed' });
    }
  });

  it('a DOWN at the head of a full mailbox is not what dropOldest drops; every drop is reported through telemetry', async () => {
    const { rt } = testRuntime();
    const drops: [Record<string, number>, Record<string, unknown>][] = [];
    rt.telemetry.attach('fdn.actors.mailbox', (_event, measurements, metadata) => drops.push([{ ...measurements }, { ...metadata }]));
    const gate = deferred<undefined>();
    const kept = deferred<unknown[]>();
    const pid = rt.spawn(
      async (c) => {
        const watched = c.spawn((v) => v.receive());
        c.monitor(watched);
        c.exit(watched, 'kill');
        await gate.promise;
        const out: unknown[] = [];
        for (;;) {
          const m = await c.receive(null, 0);
          if (m === TIMEOUT) break;
          out.push(isDownMessage(m) ? 'DOWN' : m);
        }
        kept.resolve(out);
      },
      { maxMailbox: 3, overflow: 'dropOldest' },
    );
    await settle(rt);
    for (let i = 0; i < 5; i++) rt.send(pid, i);
    gate.resolve(undefined);
    expect(await kept.promise).toEqual(['DOWN', 3, 4]);
    expect(drops).toHaveLength(3);
    expect(drops[0]?.[1]).toMatchObject({ pid, policy: 'dropOldest', bound: 3 });
    expect(drops.map(([m]) => m.dropped)).toEqual([1, 2, 3]);
  });

  it('rejects a bad bound', () => {
    const { rt } = testRuntime();
    expect(() => rt.spawn(() => undefined, { maxMailbox: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.BAD_ARGUMENT }));
  });
});
