// @fdn/core: the capabilities every @fdn layer receives by injection.

export type { Clock, TimerHandle } from './clock/clock.ts';
export { systemClock } from './clock/clock.ts';
export type { VirtualClockOptions } from './clock/virtual-clock.ts';
export { VirtualClock } from './clock/virtual-clock.ts';
export type { Random } from './random/random.ts';
export { seededRandom, systemRandom } from './random/random.ts';
export type { ConsoleLoggerOptions, LogEntry, LogFields, Logger, LogLevel } from './logger/logger.ts';
export { consoleLogger, defaultLogger, memoryLogger, silentLogger } from './logger/logger.ts';
export { toLogValue } from './logger/log-value.ts';
export { pinoLogger } from './logger/pino.ts';
export type { PinoLoggerOptions } from './logger/pino.ts';
export { heldBack, LogThrottle } from './logger/throttle.ts';
export type { LogThrottleOptions } from './logger/throttle.ts';
export type { Measurements, Metadata, Telemetry, TelemetryHandler } from './telemetry/telemetry.ts';
export { createTelemetry } from './telemetry/telemetry.ts';
export { FdnError, isFdnError } from './errors.ts';
export { newIncarnation } from './incarnation/incarnation.ts';
export { uniqueIds } from './ids/unique-id.ts';
export { closestWord } from './text/closest.ts';
export { Emitter } from './events/emitter.ts';
