import { describe, expect, it } from 'vitest';
import { consoleLogger, createTelemetry, defaultLogger, FdnError, heldBack, isFdnError, LogThrottle, memoryLogger, toLogValue, VirtualClock } from '../src/index.ts';

describe('logger', () => {
  it('records entries with child bindings', () => {
    const log = memoryLogger();
    log.child({ component: 'sup' }).error('child crashed', { id: 'w1' });
    expect(log.entries).toEqual([{ level: 'error', message: 'child crashed', fields: { component: 'sup', id: 'w1' } }]);
  });

  it('console logger filters by level and prints error stacks', () => {
    const lines: string[] = [];
    const log = consoleLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('hidden');
    log.error('boom', { reason: new Error('bad') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ERROR boom');
    expect(lines[0]).toContain('Error: bad');
    expect(lines[0]).toMatch(/at .*logger-telemetry/);
  });
});

describe('log values', () => {
  class Internal {
    table = new Map([[1, { deep: true }]]);
    socket = { fd: 3 };
    run = (): void => undefined;
  }
  class Named {
    toString(): string {
      return '<n.1.2>';
    }
  }

  it('errors nested anywhere show name, message, code, reason and cause (JSON.stringify printed {})', () => {
    const inner = Object.assign(new Error('db down'), { code: 'E_DB' });
    const reason = { shutdown: { failedToStartChild: 'worker', reason: inner } };
    const err = Object.assign(new Error('start failed', { cause: new RangeError('root') }), { code: 'FDN_ERR_START_FAILED', reason });
    expect(toLogValue({ err })).toEqual({
      err: { name: 'Error', message: 'start failed', code: 'FDN_ERR_START_FAILED', reason: { shutdown: { failedToStartChild: 'worker', reason: { name: 'Error', message: 'db down', code: 'E_DB' } } }, cause: { name: 'RangeError', message: 'root' } },
    });
    const lines: string[] = [];
    consoleLogger({ write: (l) => lines.push(l) }).error('child failed', { reason });
    expect(lines[0]).toContain('"message":"db down"');
    expect(lines[0]).not.toContain('"reason":{}');
    expect(lines[0]).toContain('Error: db down\n    at ');
  });

  it('internals of class instances are never walked into; values that name themselves print as that', () => {
    expect(toLogValue({ rt: new Internal(), pid: new Named(), list: [new Named()] })).toEqual({ rt: '[Internal]', pid: '<n.1.2>', list: ['<n.1.2>'] });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(toLogValue(cyclic)).toEqual({ a: 1, self: '[Circular]' });
    expect(toLogValue({ n: 2n ** 70n, m: new Map([[1, 'x']]), d: new Date(0), b: Buffer.alloc(3) })).toEqual({ n: '1180591620717411303424n', m: { Map: [[1, 'x']] }, d: '1970-01-01T00:00:00.000Z', b: '[Buffer(3 bytes)]' });
  });

  it('the default logger prints warnings and errors, not info', () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(chunk);
      return true;
    });
    try {
      defaultLogger().info('quiet');
      defaultLogger().warn('loud', { x: 1 });
    } finally {
      process.stderr.write = write;
    }
    expect(written).toEqual(['WARN loud {"x":1}\n']);
  });
});

describe('telemetry', () => {
  it('delivers events by prefix and detaches', () => {
    const t = createTelemetry();
    expect(t.active).toBe(false);
    const seen: string[] = [];
    const detach = t.attach('fdn.actors', (e) => seen.push(e));
    t.emit('fdn.actors.spawn', { count: 1 }, {});
    t.emit('fdn.topology.up', {}, {});
    detach();
    t.emit('fdn.actors.exit', {}, {});
    expect(seen).toEqual(['fdn.actors.spawn']);
  });

  it('detaches a throwing handler and keeps the others', () => {
    const t = createTelemetry();
    let ok = 0;
    t.attach('', () => {
      throw new Error('bad handler');
    });
    t.attach('', () => ok++);
    t.emit('x', {}, {});
    t.emit('x', {}, {});
    expect(ok).toBe(2);
  });
});

describe('FdnError', () => {
  it('carries a stable code and its class name', () => {
    const e = new FdnError('FDN_ERR_TEST', 'do this instead');
    expect(isFdnError(e, 'FDN_ERR_TEST')).toBe(true);
    expect(isFdnError(e, 'OTHER')).toBe(false);
    expect(e.name).toBe('FdnError');
  });
});

describe('LogThrottle', () => {
  it('logs the first occurrence at once, repeats after 1, 2, 4… s with the count held back, and a new episode at once', () => {
    const clock = new VirtualClock();
    const t = new LogThrottle(clock, { firstMs: 1_000, maxMs: 8_000 });
    const logged: [number, number][] = [];
    for (let ms = 0; ms <= 20_000; ms += 250) {
      clock.advanceSync(ms - clock.now());
      const held = t.occurrence('auth:b');
      if (held !== null) logged.push([ms, held]);
    }
    expect(logged).toEqual([[0, 0], [1_000, 3], [3_000, 7], [7_000, 15], [15_000, 31]]);
    // Quiet for longer than the longest delay: the next one is a new episode.
    clock.advanceSync(20_000);
    expect(t.occurrence('auth:b')).toBe(0);
    expect(t.occurrence('other')).toBe(0);
    t.clear('other');
    expect(t.occurrence('other')).toBe(0);
    expect(heldBack(0)).toBe('');
    expect(heldBack(3)).toBe(' (3 more like it since the last report)');
  });
});
