// The Logger interface: structured, injected, with child loggers per component.

import { stacksOf, toLogValue } from './log-value.ts';

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

/**
 * The logger `@fdn` components use when none is given: warnings and errors (crash reports,
 * supervisor reports, refused links) to stderr, one line each with the stack. Pass your own
 * (`consoleLogger({ level: 'debug' })`, pino behind the `Logger` interface, `silentLogger()`)
 * to change it.
 */
export function defaultLogger(): Logger {
  return (DEFAULT ??= consoleLogger({ level: 'warn' }));
}

let DEFAULT: Logger | undefined;

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
    shown[key] = value instanceof Error ? `${value.name}: ${value.message}` : toLogValue(value);
    stacksOf(value, stacks);
    // An error nested in a reason ({ shutdown: { failedToStartChild, reason: Error } }) shows its stack too.
    if (!(value instanceof Error) && typeof value === 'object' && value !== null) for (const inner of nestedErrors(value)) stacksOf(inner, stacks);
  }
  const rest = Object.keys(shown).length === 0 ? '' : ' ' + safeJson(shown);
  const tail = stacks.length === 0 ? '' : '\n' + stacks.join('\n');
  return `${level.toUpperCase()} ${message}${rest}${tail}`;
}

/** Errors inside plain objects and arrays (a few levels down). */
function nestedErrors(value: object, depth = 0, out: Error[] = []): Error[] {
  if (depth > 4 || out.length > 3) return out;
  const values: unknown[] = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
  for (const v of values) {
    if (v instanceof Error) out.push(v);
    else if (typeof v === 'object' && v !== null && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype)) nestedErrors(v, depth + 1, out);
  }
  return out;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '[unserialisable]';
  }
}
