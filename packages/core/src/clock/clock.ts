// The Clock interface: the only way @fdn code reads time or sets timers, so tests and the
// simulator can substitute virtual time.

/** An opaque handle returned by {@link Clock.setTimer}. */
export type TimerHandle = object;

/**
 * Time and timers, injected into every component. Core code never calls `Date.now`,
 * `performance.now` or `setTimeout` directly.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional); only differences are meaningful. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for reports and history. */
  wallTime(): number;
  /** Calls `callback` once after `delayMs` (clamped to ≥ 0). */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  /** Cancels a timer; cancelling a fired or cancelled timer is harmless. */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and Node's timers. */
export function systemClock(): Clock {
  return SYSTEM_CLOCK;
}

const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  wallTime: () => Date.now(),
  setTimer: (delayMs, callback) => setTimeout(callback, Math.max(0, delayMs)),
  clearTimer: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
