// The Logger interface: structured, injected, with child loggers per component.

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields attached to a log entry. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * A structured logger. Components receive one and derive children with their name bound
 * (`logger.child({ component: 'supervisor' })`); pino and similar libraries fit behind it.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose entries carry `bindings` as well. */
  child(bindings: LogFields): Logger;
}

/** One recorded entry of a {@link memoryLogger}. */
export interface LogEntry {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that discards everything. */
export function silentLogger(): Logger {
  return SILENT;
}

const SILENT: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => SILENT,
};

/** Options for {@link consoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Entries below this level are dropped (default `info`). */
  level?: LogLevel;
  /** Where lines go (default `process.stderr`). */
  write?: (line: string) => void;
}

/** A logger writing one line per entry: `LEVEL message {fields}`, with errors' stacks. */
export function consoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = LEVEL_RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  return makeLogger({}, (level, message, fields) => {
    if (LEVEL_RANK[level] < min) return;
    write(formatLine(level, message, fields));
  });
}

/** A logger that keeps entries in memory, for tests that assert on reports. */
export function memoryLogger(): Logger & { readonly entries: LogEntry[]; clear(): void } {
  const entries: LogEntry[] = [];
  const logger = makeLogger({}, (level, message, fields) => entries.push({ level, message, fields }));
  return Object.assign(logger, {
    entries,
    clear: () => {
      entries.length = 0;
    },
  });
}

type Sink = (level: LogLevel, message: string, fields: Record<string, unknown>) => void;

function makeLogger(bindings: LogFields, sink: Sink): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    sink(level, message, fields === undefined ? { ...bindings } : { ...bindings, ...fields });
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (more) => makeLogger({ ...bindings, ...more }, sink),
  };
}

function formatLine(level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const stacks: string[] = [];
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) {
      shown[key] = `${value.name}: ${value.message}`;
      if (value.stack !== undefined) stacks.push(value.stack);
    } else {
      shown[key] = value;
    }
  }
  const rest = Object.keys(shown).length === 0 ? '' : ' ' + safeJson(shown);
  const tail = stacks.length === 0 ? '' : '\n' + stacks.join('\n');
  return `${level.toUpperCase()} ${message}${rest}${tail}`;
}

function safeJson(value: unknown): string {
  const seen = new WeakSet();
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
        // Class instances with their own toString (pids, refs) print as that.
        const proto = Object.getPrototypeOf(v) as unknown;
        if (!Array.isArray(v) && proto !== Object.prototype && proto !== null && Object.prototype.hasOwnProperty.call(proto, 'toString')) {
          return (v as { toString(): string }).toString();
        }
      }
      return v;
    });
  } catch {
    return '[unserialisable]';
  }
}
