// The pino logger behind the Logger interface: one JSON object per entry with level, time, msg,
// bindings and fields; errors keep name, message, code and stack; levels filter; an existing pino
// logger can be written through.

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pinoLogger } from '../src/index.ts';

function sink(): { write(line: string): void; entries(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    write: (line) => {
      lines.push(line);
    },
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('pinoLogger', () => {
  it('writes one JSON object per entry: level name, ISO time, msg, bindings of its children, fields', () => {
    const out = sink();
    const logger = pinoLogger({ level: 'info', destination: out, bindings: { node: 'n1' } });
    logger.debug('not shown');
    logger.info('connection up', { peer: 'n2', incarnation: 7 });
    logger.child({ component: 'supervisor' }).child({ pid: '<n1.3.1>' }).warn('child restarted', { restarts: 2 });
    const [first, second, ...rest] = out.entries();
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ level: 'info', msg: 'connection up', node: 'n1', peer: 'n2', incarnation: 7 });
    expect(Number.isNaN(Date.parse(String(first?.time)))).toBe(false);
    expect(second).toMatchObject({ level: 'warn', msg: 'child restarted', node: 'n1', component: 'supervisor', pid: '<n1.3.1>', restarts: 2 });
  });

  it('an error field keeps name, message, code, cause and stack; values that name themselves print as their names', () => {
    const out = sink();
    const logger = pinoLogger({ destination: out });
    const err = Object.assign(new Error('boom', { cause: new Error('root cause') }), { code: 'FDN_ERR_X' });
    class FakePid {
      toString(): string {
        return '<a.1.2>';
      }
    }
    logger.error('process <a.1.2> crashed', { reason: err, pid: new FakePid(), nested: { reason: new TypeError('inner') } });
    const [entry] = out.entries();
    expect(entry).toMatchObject({ level: 'error', pid: '<a.1.2>', reason: { name: 'Error', message: 'boom', code: 'FDN_ERR_X', cause: { message: 'root cause' } }, nested: { reason: { name: 'TypeError', message: 'inner' } } });
    expect(String((entry?.reason as { stack?: string }).stack)).toContain('pino-logger.test.ts');
  });

  it('writes through an existing pino logger, with its level', () => {
    const out = sink();
    const logger = pinoLogger({ pino: pino({ level: 'error' }, out) });
    logger.warn('dropped');
    logger.error('kept', { n: 1 });
    expect(out.entries().map((e) => e.msg)).toEqual(['kept']);
  });
});
