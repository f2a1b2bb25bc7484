// Repeated log lines with backoff: the first occurrence of a key is logged at once, repeats only
// after a delay that doubles each time (1 s, 2 s, 4 s… up to a minute), each saying how many were
// held back. A misconfigured peer redialled every half second logs a handful of lines, not a
// flood, and a problem that goes away and comes back is logged at once again.

import type { Clock } from '../clock/clock.ts';

export interface LogThrottleOptions {
  /** Delay before the first repeat (default 1,000 ms). */
  firstMs?: number;
  /** Longest delay between repeats (default 60,000 ms). */
  maxMs?: number;
}

interface Entry {
  nextAt: number;
  delayMs: number;
  held: number;
  lastAt: number;
}

/** Decides which occurrences of a repeated event get logged. */
export class LogThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #firstMs: number;
  readonly #maxMs: number;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    options: LogThrottleOptions = {},
  ) {
    this.#firstMs = options.firstMs ?? 1_000;
    this.#maxMs = options.maxMs ?? 60_000;
  }

  /**
   * An occurrence of `key`: `null` if it should not be logged now, else how many occurrences were
   * held back since the last line (0 the first time).
   */
  occurrence(key: string): number | null {
    const now = this.clock.now();
    const e = this.#entries.get(key);
    // Quiet for longer than the longest delay: a new episode, logged at once.
    if (e === undefined || now - e.lastAt > this.#maxMs) {
      if (this.#entries.size >= 10_000) this.#entries.clear();
      this.#entries.set(key, { nextAt: now + this.#firstMs, delayMs: this.#firstMs, held: 0, lastAt: now });
      return 0;
    }
    e.lastAt = now;
    if (now < e.nextAt) {
      e.held++;
      return null;
    }
    const held = e.held;
    e.held = 0;
    e.delayMs = Math.min(this.#maxMs, e.delayMs * 2);
    e.nextAt = now + e.delayMs;
    return held;
  }

  /** Forgets `key` (the problem is over: its next occurrence is logged at once). */
  clear(key: string): void {
    this.#entries.delete(key);
  }
}

/** ` (3 more since the last report)` or nothing. */
export function heldBack(held: number): string {
  return held === 0 ? '' : ` (${String(held)} more like it since the last report)`;
}
