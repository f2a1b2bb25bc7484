import { describe, expect, it } from 'vitest';
import { ErrorCode, GenServer, Supervisor, isDownMessage } from '../src/index.ts';
import type { AnyChildSpec, ChildInfo, GenServerBehaviour, Pid, ProcessContext, Runtime, SupervisorSpec } from '../src/index.ts';
import { settle, testRuntime } from './helpers.ts';

/** A worker that records its start and stop in `log` and crashes on the cast 'crash'. */
function worker(log: string[], name: string, options: { trap?: boolean; ignoreShutdown?: boolean } = {}): GenServerBehaviour<null> {
  return {
    init: (_a, ctx) => {
      if (options.trap === true) ctx.trapExit(true);
      log.push(`start ${name}`);
      return { type: 'ok', state: null };
    },
    handleCast: (msg, s) => {
      if (msg === 'crash') throw new Error(`${name} crashed`);
      if (msg === 'stop') return { type: 'stop', reason: 'normal', state: s };
      return { type: 'noreply', state: s };
    },
    handleInfo: (_m, s) => ({ type: 'noreply', state: s }),
    terminate: (reason) => {
      if (options.ignoreShutdown === true) return new Promise<void>(() => undefined);
      log.push(`stop ${name} ${String(reason)}`);
    },
  };
}

function child(log: string[], id: string, extra: Partial<AnyChildSpec> = {}, options: { trap?: boolean; ignoreShutdown?: boolean } = { trap: true }): AnyChildSpec {
  return { id, start: (ctx: ProcessContext) => GenServer.startLink(ctx, worker(log, id, options), undefined), ...extra };
}

async function pids(rt: Runtime, sup: Pid): Promise<Record<string, ChildInfo['pid']>> {
  const out: Record<string, ChildInfo['pid']> = {};
  for (const c of await Supervisor.whichChildren(rt, sup)) out[c.id] = c.pid;
  return out;
}

async function crash(rt: Runtime, pid: ChildInfo['pid']): Promise<void> {
  GenServer.cast(rt, pid as Pid, 'crash');
  await settle(rt);
}

describe('Supervisor', () => {
  it('starts children in order and stops them in reverse order', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { children: [child(log, 'a'), child(log, 'b'), child(log, 'c')] });
    expect(log).toEqual(['start a', 'start b', 'start c']);
    log.length = 0;
    await GenServer.stop(rt, sup, 'shutdown');
    expect(log).toEqual(['stop c shutdown', 'stop b shutdown', 'stop a shutdown']);
    expect(rt.processCount).toBe(0);
  });

  it('oneForOne restarts only the failed child', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { strategy: 'oneForOne', intensity: 5, children: [child(log, 'a'), child(log, 'b')] });
    const before = await pids(rt, sup);
    log.length = 0;
    await crash(rt, before.b);
    const after = await pids(rt, sup);
    expect(after.a).toBe(before.a);
    expect(after.b).not.toBe(before.b);
    expect(rt.isAlive(after.b as Pid)).toBe(true);
    expect(log).toEqual(['stop b Error: b crashed', 'start b']);
  });

  it('oneForAll stops the others in reverse order and restarts all in order', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { strategy: 'oneForAll', intensity: 5, children: [child(log, 'a'), child(log, 'b'), child(log, 'c')] });
    const before = await pids(rt, sup);
    log.length = 0;
    await crash(rt, before.b);
    expect(log.filter((l) => !l.startsWith('stop b'))).toEqual(['stop c shutdown', 'stop a shutdown', 'start a', 'start b', 'start c']);
    const after = await pids(rt, sup);
    for (const id of ['a', 'b', 'c']) expect(after[id]).not.toBe(before[id]);
  });

  it('restForOne restarts the failed child and those started after it', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { strategy: 'restForOne', intensity: 5, children: [child(log, 'a'), child(log, 'b'), child(log, 'c')] });
    const before = await pids(rt, sup);
    log.length = 0;
    await crash(rt, before.b);
    expect(log.filter((l) => !l.startsWith('stop b'))).toEqual(['stop c shutdown', 'start b', 'start c']);
    const after = await pids(rt, sup);
    expect(after.a).toBe(before.a);
    expect(after.b).not.toBe(before.b);
    expect(after.c).not.toBe(before.c);
  });

  it('simpleOneForOne starts children from a template with extra arguments', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, {
      strategy: 'simpleOneForOne',
      intensity: 5,
      children: [{ id: 'w', start: (ctx: ProcessContext, n: number) => GenServer.startLink(ctx, worker(log, `w${n}`, { trap: true }), undefined) }],
    });
    const w1 = (await Supervisor.startChild(rt, sup, [1]))!;
    const w2 = (await Supervisor.startChild(rt, sup, [2]))!;
    expect(log).toEqual(['start w1', 'start w2']);
    // As OTP's count_children of a simple_one_for_one: one spec, every dynamic child counted by the template's type.
    expect(await Supervisor.countChildren(rt, sup)).toEqual({ specs: 1, active: 2, supervisors: 0, workers: 2 });
    // Newest first, as which_children/1.
    expect((await Supervisor.whichChildren(rt, sup)).map((c) => c.pid)).toEqual([w2, w1]);
    await crash(rt, w1);
    const running = (await Supervisor.whichChildren(rt, sup)).map((c) => c.pid);
    expect(running).toHaveLength(2);
    expect(running).toContain(w2);
    expect(log).toContain('start w1');
    await Supervisor.terminateChild(rt, sup, w2);
    expect(rt.isAlive(w2)).toBe(false);
    expect((await Supervisor.whichChildren(rt, sup)).length).toBe(1);
    await expect(Supervisor.startChild(rt, sup, child(log, 'x'))).rejects.toMatchObject({ code: ErrorCode.SIMPLE_ONE_FOR_ONE });
    await expect(Supervisor.terminateChild(rt, sup, 'w')).rejects.toMatchObject({ code: ErrorCode.SIMPLE_ONE_FOR_ONE });
    GenServer.cast(rt, (await Supervisor.whichChildren(rt, sup))[0]?.pid as Pid, 'stop');
    await settle(rt);
    // A permanent dynamic child that exits normally is restarted.
    expect((await Supervisor.whichChildren(rt, sup)).length).toBe(1);
  });

  it('restart types: transient survives only abnormal exits, temporary is never restarted', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, {
      intensity: 10,
      children: [child(log, 'trans', { restart: 'transient' }), child(log, 'trans2', { restart: 'transient' }), child(log, 'temp', { restart: 'temporary' })],
    });
    const p = await pids(rt, sup);
    GenServer.cast(rt, p.trans as Pid, 'stop');
    await crash(rt, p.trans2);
    await crash(rt, p.temp);
    // Newest first, as OTP's which_children/1 (temp is gone: temporary children are not kept).
    const after = (await Supervisor.whichChildren(rt, sup)).reverse();
    expect(after.map((c) => c.id)).toEqual(['trans', 'trans2']);
    expect(after[0]?.pid).toBeUndefined();
    expect(after[1]?.pid).not.toBe(p.trans2);
    expect(rt.isAlive(after[1]?.pid as Pid)).toBe(true);
  });

  it('a child failing faster than the intensity takes the supervisor down with shutdown', async () => {
    const { rt, clock, log: logger } = testRuntime();
    const log: string[] = [];
    const reason = await rt.run(async (ctx) => {
      const sup = await Supervisor.start(ctx, { intensity: 1, periodMs: 5_000, children: [child(log, 'a'), child(log, 'b')] });
      ctx.monitor(sup);
      await crash(rt, (await pids(rt, sup)).a);
      await clock.advance(4_999);
      await crash(rt, (await pids(rt, sup)).a);
      return (await ctx.receive(isDownMessage)).reason;
    });
    expect(reason).toBe('shutdown');
    expect(rt.processCount).toBe(0);
    expect(logger.entries.some((e) => e.message.includes('maximum restart intensity'))).toBe(true);
  });

  it('a child failing slower than the intensity never takes it down', async () => {
    const { rt, clock } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { intensity: 1, periodMs: 5_000, children: [child(log, 'a')] });
    for (let i = 0; i < 5; i++) {
      await crash(rt, (await pids(rt, sup)).a);
      await clock.advance(5_000);
    }
    expect(rt.isAlive(sup)).toBe(true);
    expect(log.filter((l) => l === 'start a')).toHaveLength(6);
  });

  it('shutdown: a child that ignores shutdown is killed after its timeout; brutal_kill kills at once', async () => {
    const { rt, clock } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, {
      children: [child(log, 'stubborn', { shutdown: 1_000 }, { trap: true, ignoreShutdown: true }), child(log, 'brutal', { shutdown: 'brutal_kill' })],
    });
    const p = await pids(rt, sup);
    const stopping = GenServer.stop(rt, sup, 'shutdown');
    await settle(rt);
    expect(rt.isAlive(p.brutal as Pid)).toBe(false);
    expect(log).not.toContain('stop brutal shutdown');
    expect(rt.isAlive(p.stubborn as Pid)).toBe(true);
    await clock.advance(1_000);
    await stopping;
    expect(rt.isAlive(p.stubborn as Pid)).toBe(false);
  });

  it('rejects invalid specs before anything starts', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const bad: unknown[] = [
      { children: [child(log, 'a'), child(log, 'a')] },
      { children: [{ id: 'x', start: 'not a function' }] },
      { children: [{ ...child(log, 'y'), restart: 'sometimes' }] },
      { children: [{ ...child(log, 'z'), shutdown: -5 }] },
      { children: [{ ...child(log, 'q'), restarts: 'permanent' }] },
      { strategy: 'oneForMany', children: [] },
      { intensity: -1, children: [] },
      { strategy: 'simpleOneForOne', children: [] },
    ];
    for (const spec of bad) {
      await expect(Supervisor.start(rt, spec as SupervisorSpec)).rejects.toMatchObject({ code: ErrorCode.INVALID_CHILD_SPEC });
    }
    await expect(Supervisor.start(rt, () => bad[0] as SupervisorSpec)).rejects.toMatchObject({ code: ErrorCode.INVALID_CHILD_SPEC });
    expect(log).toEqual([]);
    expect(rt.processCount).toBe(0);
    expect(() => {
      Supervisor.checkSpec({ children: [{ id: '', start: () => 'ignore' }] });
    }).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_CHILD_SPEC }));
  });

  it('a child failing to start stops the children already started and fails the start', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const failing: AnyChildSpec = {
      id: 'bad',
      start: () => {
        throw new Error('cannot start');
      },
    };
    const err = (await Supervisor.start(rt, { children: [child(log, 'a'), failing, child(log, 'c')] }).catch((e: unknown) => e)) as { code: string; reason: unknown };
    expect(err.code).toBe(ErrorCode.START_FAILED);
    expect(err.reason).toMatchObject({ shutdown: { failedToStartChild: 'bad', reason: { message: 'cannot start' } } });
    expect(log).toEqual(['start a', 'stop a shutdown']);
    expect(rt.processCount).toBe(0);
  });

  it('startChild, terminateChild, restartChild, deleteChild and their errors', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { children: [child(log, 'a')] });
    const b = await Supervisor.startChild(rt, sup, child(log, 'b'));
    expect((await pids(rt, sup)).b).toBe(b);
    await expect(Supervisor.startChild(rt, sup, child(log, 'b'))).rejects.toMatchObject({ code: ErrorCode.CHILD_ALREADY_PRESENT, reason: { alreadyStarted: b } });
    await expect(Supervisor.deleteChild(rt, sup, 'b')).rejects.toMatchObject({ code: ErrorCode.CHILD_RUNNING });
    await Supervisor.terminateChild(rt, sup, 'b');
    expect(rt.isAlive(b!)).toBe(false);
    expect((await pids(rt, sup)).b).toBeUndefined();
    await expect(Supervisor.startChild(rt, sup, child(log, 'b'))).rejects.toMatchObject({ code: ErrorCode.CHILD_ALREADY_PRESENT, reason: 'alreadyPresent' });
    const b2 = await Supervisor.restartChild(rt, sup, 'b');
    expect(rt.isAlive(b2!)).toBe(true);
    await expect(Supervisor.restartChild(rt, sup, 'b')).rejects.toMatchObject({ code: ErrorCode.CHILD_RUNNING });
    await Supervisor.terminateChild(rt, sup, 'b');
    await Supervisor.deleteChild(rt, sup, 'b');
    await expect(Supervisor.deleteChild(rt, sup, 'b')).rejects.toMatchObject({ code: ErrorCode.CHILD_NOT_FOUND });
    await expect(Supervisor.startChild(rt, sup, { id: 'bad' } as AnyChildSpec)).rejects.toMatchObject({ code: ErrorCode.INVALID_CHILD_SPEC });
    const ignored = await Supervisor.startChild(rt, sup, { id: 'ign', start: () => 'ignore' });
    expect(ignored).toBeUndefined();
    expect(await Supervisor.countChildren(rt, sup)).toEqual({ specs: 2, active: 1, supervisors: 0, workers: 2 });
  });

  it('nested trees: an inner supervisor exceeding its intensity is restarted by the outer one', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const inner: AnyChildSpec = {
      id: 'inner',
      type: 'supervisor',
      start: (ctx) => Supervisor.startLink(ctx, { intensity: 0, children: [child(log, 'leaf')] }),
    };
    const outer = await Supervisor.start(rt, { intensity: 3, children: [inner, child(log, 'sibling')] });
    const innerBefore = (await pids(rt, outer)).inner as Pid;
    const leaf = (await pids(rt, innerBefore)).leaf;
    log.length = 0;
    await crash(rt, leaf);
    const innerAfter = (await pids(rt, outer)).inner as Pid;
    expect(innerAfter).not.toBe(innerBefore);
    expect(rt.isAlive(innerAfter)).toBe(true);
    expect(log).toContain('start leaf');
    expect((await Supervisor.whichChildren(rt, outer)).find((c) => c.id === 'inner')?.type).toBe('supervisor');
  });

  it('a restart that fails is tried again (counted against the intensity)', async () => {
    const { rt } = testRuntime();
    let attempts = 0;
    const flaky: AnyChildSpec = {
      id: 'flaky',
      start: async (ctx) => {
        attempts++;
        if (attempts === 2) throw new Error('second start fails');
        return GenServer.startLink(ctx, worker([], 'flaky'), undefined);
      },
    };
    const sup = await Supervisor.start(rt, { intensity: 5, children: [flaky] });
    await crash(rt, (await pids(rt, sup)).flaky);
    await settle(rt);
    expect(attempts).toBe(3);
    expect(rt.isAlive((await pids(rt, sup)).flaky as Pid)).toBe(true);
  });

  it('failed restarts count against the intensity: a child that never starts again takes the supervisor down after intensity attempts', async () => {
    const { rt } = testRuntime();
    let attempts = 0;
    const doomed: AnyChildSpec = {
      id: 'doomed',
      start: async (ctx) => {
        attempts++;
        if (attempts > 1) throw new Error('cannot start again');
        return GenServer.startLink(ctx, worker([], 'doomed'), undefined);
      },
    };
    const reason = await rt.run(async (ctx) => {
      const sup = await Supervisor.start(ctx, { intensity: 2, periodMs: 60_000, children: [doomed] });
      ctx.monitor(sup);
      await crash(rt, (await pids(rt, sup)).doomed);
      return (await ctx.receive(isDownMessage, 1_000));
    });
    // The first start, then exactly `intensity` restart attempts; the next one exceeds it.
    expect(attempts).toBe(3);
    expect(reason).toMatchObject({ reason: 'shutdown' });
  });

  it('OTP’s default intensity is 1 restart in 5 s: a second crash within 5 s takes the supervisor down, one 5 s later does not', async () => {
    const { rt, clock } = testRuntime();
    const log: string[] = [];
    const survivor = await Supervisor.start(rt, { children: [child(log, 'a')] });
    await crash(rt, (await pids(rt, survivor)).a);
    await clock.advance(5_001);
    await crash(rt, (await pids(rt, survivor)).a);
    expect(rt.isAlive(survivor)).toBe(true);
    const reason = await rt.run(async (ctx) => {
      const sup = await Supervisor.start(ctx, { children: [child(log, 'b')] });
      ctx.monitor(sup);
      await crash(rt, (await pids(rt, sup)).b);
      await clock.advance(4_000);
      await crash(rt, (await pids(rt, sup)).b);
      return (await ctx.receive(isDownMessage, 1_000));
    });
    expect(reason).toMatchObject({ reason: 'shutdown' });
  });

  it('a temporary child stopped by a sibling’s failure (oneForAll) is not restarted, and its spec is gone', async () => {
    const { rt } = testRuntime();
    const log: string[] = [];
    const sup = await Supervisor.start(rt, { strategy: 'oneForAll', intensity: 5, children: [child(log, 'perm'), child(log, 'temp', { restart: 'temporary' }), child(log, 'trans', { restart: 'transient' })] });
    log.length = 0;
    await crash(rt, (await pids(rt, sup)).perm);
    await settle(rt);
    const after = await Supervisor.whichChildren(rt, sup);
    expect(after.map((c) => c.id).sort()).toEqual(['perm', 'trans']);
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start perm', 'start trans']);
    for (const c of after) expect(rt.isAlive(c.pid as Pid)).toBe(true);
  });

  it('telemetry reports restarts', async () => {
    const { rt } = testRuntime();
    const events: string[] = [];
    rt.telemetry.attach('fdn.actors.supervisor', (e, _m, meta) => events.push(`${e}:${String(meta.child)}`));
    const sup = await Supervisor.start(rt, { intensity: 5, children: [child([], 'a')] });
    await crash(rt, (await pids(rt, sup)).a);
    expect(events).toEqual(['fdn.actors.supervisor.restart:a']);
  });
});
