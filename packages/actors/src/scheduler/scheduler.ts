// The scheduler: a run queue of processes with work, drained in microtasks under a reduction
// budget. When a slice's budget is spent, work waits for a `setImmediate`, so sockets and timers
// always get a turn between slices. See README "Scheduling model".

import { detached, refreshTracing } from '../trace/trace.ts';
import { Ring } from '../util/ring.ts';

/** Something the scheduler can run: a process with a pending start, resume or messages. */
export interface Runnable {
  /** @internal Set while the runnable sits in the run queue. */
  queued: boolean;
  /** @internal Does one turn of work; returns the reductions it used (≥ 1). */
  runTurn(): number;
}

/** Scheduler tuning. */
export interface SchedulerOptions {
  /**
   * Reductions (message handlings and process resumptions) between two yields to the event
   * loop. Lower gives I/O lower latency under load; higher gives more throughput. Default 20,000.
   */
  sliceBudget?: number;
  /** Messages a handler-driven process handles in one turn before others get theirs. Default 100. */
  maxBatch?: number;
}

/** @internal */
export class Scheduler {
  readonly sliceBudget: number;
  readonly maxBatch: number;
  /** Reductions left in this slice. */
  #budget: number;
  /** A microtask drain is queued. */
  #drainQueued = false;
  /** The slice is spent: nothing runs until the `setImmediate` reset. */
  #yielding = false;
  /** A `setImmediate` reset is pending (it starts a fresh slice next turn of the event loop). */
  #resetArmed = false;
  readonly #queue = new Ring<Runnable>(64);
  /** Reductions used since the runtime started (every turn's cost, and every charge). */
  #reductions = 0;
  /** Called once when the next slice starts (see {@link onNextSlice}). */
  #nextSlice: (() => void)[] = [];

  constructor(options: SchedulerOptions = {}) {
    this.sliceBudget = Math.max(1, options.sliceBudget ?? 20_000);
    this.maxBatch = Math.max(1, options.maxBatch ?? 100);
    this.#budget = this.sliceBudget;
  }

  /** Processes waiting in the run queue. */
  get runQueueLength(): number {
    return this.#queue.length;
  }

  /** Reductions used since the runtime started: messages handled, starts and resumptions. */
  get reductions(): number {
    return this.#reductions;
  }

  /** True while work is queued or a drain is pending. */
  busy(): boolean {
    return this.#queue.length > 0 || this.#drainQueued || this.#yielding;
  }

  /**
   * True while processes have more work than a slice allows: the budget is spent and the rest
   * waits for the event loop's next turn. Messages arriving now only lengthen mailboxes.
   */
  get overloaded(): boolean {
    return this.#yielding;
  }

  /** Calls `fn` once at the start of the next slice (the event loop's next turn), before any process runs in it. */
  onNextSlice(fn: () => void): void {
    this.#nextSlice.push(fn);
    if (!this.#resetArmed) this.#armReset();
  }

  /** Puts `r` at the tail of the run queue (no-op if already queued). */
  enqueue(r: Runnable): void {
    if (r.queued) return;
    r.queued = true;
    this.#queue.push(r);
    if (!this.#drainQueued && !this.#yielding) {
      this.#drainQueued = true;
      queueMicrotask(this.#drain);
    }
  }

  /**
   * Charges one reduction for work done right away (a process resumed in the current
   * microtask chain). Returns false when the slice is spent: the caller must then defer the
   * work through {@link enqueue}, which runs it after the event loop's next turn.
   */
  charge(): boolean {
    if (this.#yielding) return false;
    if (!this.#resetArmed) this.#armReset();
    this.#reductions++;
    if (--this.#budget > 0) return true;
    this.#yielding = true;
    return false;
  }

  #armReset(): void {
    this.#resetArmed = true;
    setImmediate(this.#reset);
  }

  readonly #reset = (): void => {
    this.#resetArmed = false;
    refreshTracing();
    this.#budget = this.sliceBudget;
    if (this.#nextSlice.length > 0) {
      const callbacks = this.#nextSlice;
      this.#nextSlice = [];
      for (const fn of callbacks) fn();
    }
    if (this.#yielding) {
      this.#yielding = false;
      if (this.#queue.length > 0) this.#drain();
    }
  };

  /** Processes run with no active span (see `detached`): none inherits the trace of whoever woke the scheduler. */
  readonly #drain = (): void => {
    detached(this.#drainQueue);
  };

  readonly #drainQueue = (): void => {
    this.#drainQueued = false;
    const queue = this.#queue;
    if (!this.#resetArmed) this.#armReset();
    while (queue.length > 0) {
      if (this.#budget <= 0) {
        this.#yielding = true;
        return;
      }
      const r = queue.shift() as Runnable;
      r.queued = false;
      const cost = r.runTurn();
      this.#reductions += cost;
      this.#budget -= cost;
    }
  };
}
