import { describe, expect, it } from 'vitest';
import { consoleLogger, createTelemetry, FdnError, isFdnError, memoryLogger } from '../src/index.ts';

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
