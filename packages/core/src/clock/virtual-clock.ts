// A virtual clock for deterministic tests and the network simulator: time moves only when told.

import type { Clock, TimerHandle } from './clock.ts';

interface VirtualTimer {
  at: number;
  seq: number;
  callback: (() => void) | null;
}

/** Options for {@link VirtualClock}. */
export interface VirtualClockOptions {
  /** Start time in ms (default 0). */
  start?: number;
  /** Wall-clock epoch reported by `wallTime()` at virtual time 0 (default 0). */
  epoch?: number;
}

/**
 * A clock whose time advances only through `advance`/`advanceSync`/`runUntilIdle`.
 * Timers due at the same instant fire in the order they were set.
 *
 * `advance` is async: after each timer fires it lets pending work settle (microtasks,
 * `setImmediate` turns, and any registered {@link VirtualClock.addSettler} hooks such as an
 * actor scheduler draining its run queue) before firing the next one, so a test reads
 * like a timeline. `advanceSync` fires timers back to back, for event-driven simulators.
 */
export class VirtualClock implements Clock {
  #now: number;
  readonly #epoch: number;
  #seq = 0;
  #live = 0;
  readonly #heap: VirtualTimer[] = [];
  readonly #settlers: (() => boolean)[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.#now = options.start ?? 0;
    this.#epoch = options.epoch ?? 0;
  }

  now(): number {
    return this.#now;
  }

  wallTime(): number {
    return this.#epoch + this.#now;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer: VirtualTimer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    heapPush(this.#heap, timer);
    this.#live++;
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    const timer = handle as VirtualTimer;
    if (timer.callback !== null) {
      timer.callback = null;
      this.#live--;
    }
  }

  /** Number of timers set and not yet fired or cancelled. */
  pendingTimers(): number {
    return this.#live;
  }

  /** Time of the next live timer, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    this.#dropCancelledHead();
    return this.#heap[0]?.at;
  }

  /**
   * Registers a hook that reports whether some component still has work to do at the
   * current instant; `advance` keeps yielding to the event loop while any returns true.
   * Returns a function that removes the hook.
   */
  addSettler(busy: () => boolean): () => void {
    this.#settlers.push(busy);
    return () => {
      const i = this.#settlers.indexOf(busy);
      if (i >= 0) this.#settlers.splice(i, 1);
    };
  }

  /** Fires every timer due within `ms` from now, synchronously and in order; returns how many fired. */
  advanceSync(ms: number): number {
    return this.#fireUntil(this.#now + Math.max(0, ms), Number.POSITIVE_INFINITY);
  }

  /**
   * Fires at most one due timer (the earliest) if it is due within `ms`; returns whether one fired.
   * Time moves to that timer, or to `now + ms` when none is due.
   */
  stepSync(ms: number): boolean {
    const target = this.#now + Math.max(0, ms);
    const fired = this.#fireUntil(target, 1);
    if (fired === 0) this.#now = target;
    return fired === 1;
  }

  /**
   * Advances time by `ms`, firing due timers in order and letting the work each one causes
   * settle before the next fires. Resolves when time has reached `now + ms`.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    await this.settle();
    for (;;) {
      if (this.#fireUntil(target, 1) === 0) break;
      await this.settle();
    }
    this.#now = target;
    await this.settle();
  }

  /**
   * Fires timers one by one, settling in between, until none is pending; `maxTimers`
   * bounds the loop (a periodic timer would otherwise run forever). Returns how many fired.
   */
  async runUntilIdle(maxTimers = 100_000): Promise<number> {
    let fired = 0;
    await this.settle();
    while (fired < maxTimers) {
      const next = this.nextTimerAt();
      if (next === undefined) break;
      fired += this.#fireUntil(next, 1);
      await this.settle();
    }
    return fired;
  }

  /**
   * Yields to the event loop until no settler reports work, for at most `maxTurns` turns.
   * Always yields at least twice so promise chains started by a timer can run.
   */
  async settle(maxTurns = 10_000): Promise<void> {
    for (let turn = 0; turn < maxTurns; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (turn >= 1 && !this.#settlers.some((busy) => busy())) return;
    }
  }

  #fireUntil(target: number, limit: number): number {
    let fired = 0;
    while (fired < limit) {
      this.#dropCancelledHead();
      const head = this.#heap[0];
      if (head === undefined || head.at > target) break;
      heapPop(this.#heap);
      const callback = head.callback;
      head.callback = null;
      this.#live--;
      if (head.at > this.#now) this.#now = head.at;
      fired++;
      callback?.();
    }
    if (limit === Number.POSITIVE_INFINITY && target > this.#now) this.#now = target;
    return fired;
  }

  #dropCancelledHead(): void {
    while (this.#heap.length > 0 && this.#heap[0]?.callback === null) heapPop(this.#heap);
  }
}

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function heapPush(heap: VirtualTimer[], item: VirtualTimer): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as VirtualTimer;
    if (!before(item, p)) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = item;
}

function heapPop(heap: VirtualTimer[]): VirtualTimer | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  let i = 0;
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    let child = l;
    if (r < n && before(heap[r] as VirtualTimer, heap[l] as VirtualTimer)) child = r;
    const c = heap[child] as VirtualTimer;
    if (!before(c, last)) break;
    heap[i] = c;
    i = child;
  }
  heap[i] = last;
  return top;
}
