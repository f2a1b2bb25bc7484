import { describe, expect, it } from 'vitest';
import { ErrorCode, isDownMessage, isExitMessage } from '../src/index.ts';
import type { DownMessage, ExitMessage, Pid } from '../src/index.ts';
import { deferred, settle, testRuntime } from './helpers.ts';

const forever = async (ctx: { receive(): Promise<unknown> }): Promise<void> => {
  for (;;) await ctx.receive();
};

describe('links and exit signals', () => {
  it('an abnormal exit kills a linked process that does not trap exits', async () => {
    const { rt } = testRuntime();
    const a = rt.spawn(forever);
    const b = rt.spawn(async (ctx) => {
      ctx.link(a);
      await ctx.receive();
      throw new Error('b fails');
    });
    await settle(rt);
    rt.send(b, 'go');
    await settle(rt);
    expect(rt.isAlive(b)).toBe(false);
    expect(rt.isAlive(a)).toBe(false);
  });

  it('a normal exit does not kill a linked process', async () => {
    const { rt } = testRuntime();
    const a = rt.spawn(forever);
    const b = rt.spawn((ctx) => {
      ctx.link(a);
    });
    await settle(rt);
    expect(rt.isAlive(b)).toBe(false);
    expect(rt.isAlive(a)).toBe(true);
    expect(rt.processInfo(a)?.links).toEqual([]);
  });

  it('trapExit turns exit signals into EXIT messages with the reason', async () => {
    const { rt } = testRuntime();
    const msg = await rt.run(async (ctx) => {
      ctx.trapExit(true);
      const child = ctx.spawnLink(() => {
        throw new Error('child crash');
      });
      const m = await ctx.receive((x): x is ExitMessage => isExitMessage(x, child));
      return m;
    });
    expect(msg.type).toBe('EXIT');
    expect((msg.reason as Error).message).toBe('child crash');
  });

  it('a trapping process also receives normal exits of linked processes', async () => {
    const { rt } = testRuntime();
    const reason = await rt.run(async (ctx) => {
      ctx.trapExit(true);
      ctx.spawnLink(() => undefined);
      return (await ctx.receive(isExitMessage)).reason;
    });
    expect(reason).toBe('normal');
  });

  it('exit(pid, "kill") cannot be trapped and is seen as "killed" by links', async () => {
    const { rt } = testRuntime();
    const seen = await rt.run(async (ctx) => {
      ctx.trapExit(true);
      const victim = ctx.spawnLink(async (c) => {
        c.trapExit(true);
        await forever(c);
      });
      await Promise.resolve();
      ctx.exit(victim, 'kill');
      return (await ctx.receive(isExitMessage)).reason;
    });
    expect(seen).toBe('killed');
  });

  it('a process exiting with reason "kill" sends a trappable kill through its links', async () => {
    const { rt } = testRuntime();
    const result = deferred<unknown>();
    rt.spawn(async (ctx) => {
      ctx.trapExit(true);
      ctx.spawnLink((c) => c.exit('kill'));
      result.resolve((await ctx.receive(isExitMessage)).reason);
    });
    expect(await result.promise).toBe('kill');
  });

  it('exit(pid, "normal") is ignored unless sent to oneself', async () => {
    const { rt } = testRuntime();
    const a = rt.spawn(forever);
    await settle(rt);
    rt.exit(a, 'normal');
    expect(rt.isAlive(a)).toBe(true);
    const self = rt.spawn(async (ctx) => {
      ctx.exit(ctx.self, 'normal');
      await ctx.receive();
    });
    await settle(rt);
    expect(rt.isAlive(self)).toBe(false);
  });

  it('exit(pid, reason) to a trapping process delivers an EXIT message', async () => {
    const { rt } = testRuntime();
    const got = deferred<ExitMessage>();
    const a = rt.spawn(async (ctx) => {
      ctx.trapExit(true);
      got.resolve(await ctx.receive(isExitMessage));
    });
    await settle(rt);
    rt.exit(a, 'shutdown');
    const m = await got.promise;
    expect(m.reason).toBe('shutdown');
    expect(m.from).toBe(rt.systemPid);
  });

  it("linking to a dead local process: a catchable noproc error without trapping, an EXIT noproc message with it (Erlang's link/1)", async () => {
    const { rt } = testRuntime();
    const dead = rt.spawn(() => undefined);
    await settle(rt);
    const reason = await rt.run(async (ctx) => {
      ctx.trapExit(true);
      ctx.link(dead);
      return (await ctx.receive(isExitMessage)).reason;
    });
    expect(reason).toBe('noproc');
    // Not trapping: link throws, the caller catches it and lives on (no exit signal follows).
    const caught = await rt.run(async (ctx) => {
      let error: unknown = null;
      try {
        ctx.link(dead);
      } catch (err) {
        error = err;
      }
      ctx.send(ctx.self, 'after');
      return { error, next: await ctx.receive(null, 50) };
    });
    expect(caught.error).toMatchObject({ code: ErrorCode.NOPROC, reason: 'noproc' });
    expect(caught.next).toBe('after');
    // Uncaught, it ends the caller with that error, as an uncaught error:badarg/noproc does.
    const victim = rt.spawn((ctx) => {
      ctx.link(dead);
      return ctx.receive();
    });
    await settle(rt);
    expect(rt.isAlive(victim)).toBe(false);
  });

  it('unlink removes the link on both sides', async () => {
    const { rt } = testRuntime();
    const a = rt.spawn(forever);
    const b = rt.spawn(async (ctx) => {
      ctx.link(a);
      ctx.unlink(a);
      await ctx.receive();
      throw new Error('b fails alone');
    });
    await settle(rt);
    expect(rt.processInfo(a)?.links).toEqual([]);
    rt.send(b, 'go');
    await settle(rt);
    expect(rt.isAlive(a)).toBe(true);
  });

  it('propagates through a long chain of links without growing the stack', async () => {
    const { rt } = testRuntime();
    const n = 20_000;
    const first = rt.spawn(forever);
    let prev: Pid = first;
    const pids: Pid[] = [first];
    for (let i = 0; i < n; i++) {
      const target = prev;
      prev = rt.spawn(async (ctx) => {
        ctx.link(target);
        await forever(ctx);
      });
      pids.push(prev);
    }
    await settle(rt);
    rt.exit(first, 'boom');
    expect(pids.every((p) => !rt.isAlive(p))).toBe(true);
    expect(rt.processCount).toBe(0);
  });
});

describe('monitors', () => {
  it('deliver exactly one DOWN with the exit reason', async () => {
    const { rt } = testRuntime();
    const downs = await rt.run(async (ctx) => {
      const [pid, ref] = ctx.spawnMonitor(async (c) => {
        await c.receive();
        c.exit('bye');
      });
      ctx.send(pid, 'go');
      const d = await ctx.receive(isDownMessage);
      const again = await ctx.receive(isDownMessage, 0);
      return { d, ref, pid, again };
    });
    expect(downs.d.ref).toBe(downs.ref);
    expect(downs.d.pid).toBe(downs.pid);
    expect(downs.d.reason).toBe('bye');
    expect(downs.again).toBe(Symbol.for('fdn.timeout'));
  });

  it("a monitor by registered name: DOWN names the target as given ({ name, node }) and the pid it stood for; nobody there: DOWN noproc naming it", async () => {
    const { rt } = testRuntime();
    const holder = rt.spawn((ctx) => ctx.receive(), { name: 'svc' });
    await settle(rt);
    const r = await rt.run(async (ctx) => {
      const ref = ctx.monitor({ name: 'svc', node: rt.node });
      const missingRef = ctx.monitor({ name: 'nobody', node: rt.node });
      const missing = (await ctx.receive(isDownMessage, 0)) as DownMessage;
      ctx.exit(holder, 'kill');
      const down = (await ctx.receive(isDownMessage, 1_000)) as DownMessage;
      return { ref, down, missingRef, missing };
    });
    expect(r.down.ref).toBe(r.ref);
    expect(r.down.target).toEqual({ name: 'svc', node: rt.node });
    expect(r.down.pid).toBe(holder);
    expect(r.down.reason).toBe('killed');
    expect(r.missing.ref).toBe(r.missingRef);
    expect(r.missing).toMatchObject({ target: { name: 'nobody', node: rt.node }, reason: 'noproc' });
    expect(r.missing.pid.id).toBe(0);
  });

  it('a monitor of a dead pid: DOWN noproc is an ordinary message after monitor returns, behind what was queued before (as OTP)', async () => {
    const { rt } = testRuntime();
    const dead = rt.spawn(() => undefined);
    await settle(rt);
    const r = await rt.run(async (ctx) => {
      ctx.send(ctx.self, 'before');
      const ref = ctx.monitor(dead);
      // monitor returned; the DOWN waits in the mailbox behind 'before', and a selective receive finds it.
      const queued = rt.processInfo(ctx.self)?.messageQueueLen;
      const first = await ctx.receive(null, 0);
      const down = (await ctx.receive((m) => isDownMessage(m, ref), 0)) as DownMessage;
      return { ref, first, down, queued };
    });
    expect(r.queued).toBe(2);
    expect(r.first).toBe('before');
    expect(r.down).toMatchObject({ target: dead, pid: dead, reason: 'noproc' });
  });

  it('monitoring a dead pid gives DOWN noproc at once', async () => {
    const { rt } = testRuntime();
    const dead = rt.spawn(() => undefined);
    await settle(rt);
    const d = await rt.run(async (ctx) => {
      const ref = ctx.monitor(dead);
      const m = (await ctx.receive(null, 0)) as DownMessage;
      return { m, ref };
    });
    expect(d.m.reason).toBe('noproc');
    expect(d.m.ref).toBe(d.ref);
  });

  it('demonitor returns true as OTP does; { info: true } says whether the monitor was active; flush removes a queued DOWN', async () => {
    const { rt } = testRuntime();
    const r = await rt.run(async (ctx) => {
      const a = ctx.spawn((c) => c.receive());
      const ref1 = ctx.monitor(a);
      const plain = ctx.demonitor(ref1);
      const again = ctx.demonitor(ref1);
      const againInfo = ctx.demonitor(ref1, { info: true });
      const ref3 = ctx.monitor(a);
      const activeInfo = ctx.demonitor(ref3, { info: true });
      const b = ctx.spawn(() => undefined);
      const ref2 = ctx.monitor(b);
      // let b exit so its DOWN lands in the mailbox
      ctx.send(ctx.self, 'marker');
      await ctx.receive((m) => m === 'marker');
      while (ctx.isAlive(b)) await new Promise((res) => setImmediate(res));
      const firedInfo = ctx.demonitor(ref2, { flush: true, info: true });
      const firedPlain = ctx.demonitor(ref2, { flush: true });
      ctx.exit(a, 'kill');
      const leftover = await ctx.receive(null, 0);
      return { plain, again, againInfo, activeInfo, firedInfo, firedPlain, leftover };
    });
    expect(r).toMatchObject({ plain: true, again: true, againInfo: false, activeInfo: true, firedInfo: false, firedPlain: true });
    expect(r.leftover).toBe(Symbol.for('fdn.timeout'));
  });

  it('stack: two monitors give two DOWNs', async () => {
    const { rt } = testRuntime();
    const n = await rt.run(async (ctx) => {
      const a = ctx.spawn((c) => c.receive());
      ctx.monitor(a);
      ctx.monitor(a);
      ctx.exit(a, 'kill');
      await ctx.receive(isDownMessage);
      await ctx.receive(isDownMessage);
      return ctx.receive(isDownMessage, 0);
    });
    expect(n).toBe(Symbol.for('fdn.timeout'));
  });

  it('a dying watcher removes its monitors from the target', async () => {
    const { rt } = testRuntime();
    const target = rt.spawn(forever);
    const watcher = rt.spawn(async (ctx) => {
      ctx.monitor(target);
      await ctx.receive();
    });
    await settle(rt);
    expect(rt.processInfo(target)?.monitoredBy).toEqual([watcher]);
    rt.exit(watcher, 'kill');
    expect(rt.processInfo(target)?.monitoredBy).toEqual([]);
  });
});
