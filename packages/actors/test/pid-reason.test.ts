import { describe, expect, it } from 'vitest';
import { comparePids, formatReason, isNormalExit, isPid, isRef, isShutdownReason, Pid, Ref } from '../src/index.ts';
import { testRuntime } from './helpers.ts';

describe('pids and refs', () => {
  it('compare by node, then incarnation, then id', () => {
    const pids = [new Pid('b', 1, 1), new Pid('a', 2, 2), new Pid('a', 9, 1), new Pid('a', 3, 1)];
    expect(pids.sort(comparePids).map(String)).toEqual(['<a.3.1>', '<a.9.1>', '<a.2.2>', '<b.1.1>']);
    expect(comparePids(new Pid('a', 1, 1), new Pid('a', 1, 1))).toBe(0);
  });

  it('equal by value, different across incarnations; serialise as their printed form', () => {
    expect(new Pid('a', 1, 1).equals(new Pid('a', 1, 1))).toBe(true);
    expect(new Pid('a', 1, 1).equals(new Pid('a', 1, 2))).toBe(false);
    expect(new Pid('a', 1, 1).equals(new Ref('a', 1, 1))).toBe(false);
    expect(JSON.stringify({ p: new Pid('a', 1, 7), r: new Ref('a', 4, 7) })).toBe('{"p":"<a.1.7>","r":"#Ref<a.4.7>"}');
    expect(isPid(new Pid('a', 1, 1))).toBe(true);
    expect(isRef(new Ref('a', 1, 1))).toBe(true);
    expect(isRef('#Ref<a.1.1>')).toBe(false);
  });

  it('a live local process has one pid object, usable as a Map key', async () => {
    const { rt } = testRuntime();
    const seen = new Map<Pid, string>();
    const pid = rt.spawn((ctx) => ctx.receive());
    seen.set(pid, 'first');
    await rt.idle();
    expect(seen.get(rt.processes()[0] as Pid)).toBe('first');
    expect(rt.stopped).toBe(false);
    rt.shutdown();
    expect(rt.stopped).toBe(true);
  });
});

describe('exit reasons', () => {
  it('normal, shutdown and { shutdown: term } are not crashes', () => {
    expect(isNormalExit('normal')).toBe(true);
    expect(isNormalExit('shutdown')).toBe(true);
    expect(isNormalExit({ shutdown: { why: 1 } })).toBe(true);
    expect(isNormalExit({ shutdown: 1, extra: 2 })).toBe(false);
    expect(isNormalExit('killed')).toBe(false);
    expect(isNormalExit(new Error('x'))).toBe(false);
    expect(isShutdownReason({ shutdown: 'x' })).toBe(true);
    expect(isShutdownReason('shutdown')).toBe(false);
  });

  it('format as one readable line', () => {
    expect(formatReason(new TypeError('bad'))).toBe('TypeError: bad');
    expect(formatReason('killed')).toBe('killed');
    expect(formatReason({ shutdown: 'x' })).toBe('{"shutdown":"x"}');
    expect(formatReason(undefined)).toBe('undefined');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(formatReason(cyclic)).toBe('[object Object]');
  });
});
