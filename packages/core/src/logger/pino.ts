// The Logger interface over pino: one JSON object per entry (`level`, `time`, `msg`, the bindings of
// child loggers, the entry's fields). Fields are rendered as the console logger renders them
// (errors as { name, message, code, reason, cause } plus their stack, pids as strings, no class
// internals), so a crash report carries the same fields in both.

import { pino } from 'pino';
import type { DestinationStream, Logger as Pino } from 'pino';
import { toLogValue } from './log-value.ts';
import type { LogFields, Logger, LogLevel } from './logger.ts';

/** Options for {@link pinoLogger}. */
export interface PinoLoggerOptions {
  /** Entries below this level are dropped (default `info`). Ignored when `pino` is given. */
  level?: LogLevel;
  /** Where the JSON lines go (default stderr, written synchronously so a crash report survives an exit). */
  destination?: DestinationStream;
  /** Bound to every entry (e.g. `{ node: 'n1' }`). */
  bindings?: LogFields;
  /** An existing pino logger to write through instead (its level, destination and serializers apply). */
  pino?: Pino;
}

/** A {@link Logger} writing JSON lines through pino. */
export function pinoLogger(options: PinoLoggerOptions = {}): Logger {
  const base =
    options.pino ??
    pino(
      {
        level: options.level ?? 'info',
        base: null,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: {
          level: (label) => ({ level: label }),
        },
      },
      options.destination ?? pino.destination({ dest: 2, sync: true }),
    );
  return adapt(options.bindings === undefined ? base : base.child(render(options.bindings)));
}

function adapt(p: Pino): Logger {
  const emit =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (!p.isLevelEnabled(level)) return;
      if (fields === undefined) p[level](message);
      else p[level](render(fields), message);
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (bindings) => adapt(p.child(render(bindings))),
  };
}

/** Fields as plain data; an error keeps its stack (a crash report without it says little). */
function render(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const shown = toLogValue(value);
    out[key] = value instanceof Error && typeof shown === 'object' && shown !== null ? { ...shown, stack: value.stack } : shown;
  }
  return out;
}
