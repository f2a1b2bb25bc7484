// Load reporting: each node tells the others its load about once a second (processes, event-loop
// delay, mailbox backlog), and keeps the last report of each (for `leastLoaded` placement).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '@fdn/core';
import type { Pid, Runtime } from '@fdn/actors';
import { Kind } from '../node/protocol.ts';
import type { Message } from '../node/protocol.ts';

/** What a node reports about itself, about once a second. */
export interface NodeLoad {
  /** Live processes. */
  processes: number;
  /** Event-loop delay, p99 over the last report period (ms). */
  loopDelayMs: number;
  /** Messages waiting in its processes' mailboxes. */
  mailboxes: number;
  /** When this report was made (the reporter's clock, ms). */
  at: number;
}

/** What the load reports need from their node. */
export interface LoadReportsHost {
  readonly runtime: Runtime;
  readonly clock: Clock;
  /** The nodes to report to. */
  nodes(): string[];
  send(node: string, message: Message): void;
}

/** This node's load, reported to the others every `intervalMs` (0: never), and theirs as last reported. */
export class LoadReports {
  readonly #loads = new Map<string, NodeLoad>();
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  #timer: TimerHandle | null = null;
  #running = false;

  constructor(
    private readonly host: LoadReportsHost,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.#running) return;
    this.#running = true;
    this.#delay.enable();
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.host.clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#delay.disable();
  }

  /** This node's load now (what it reports to the others). */
  load(): NodeLoad {
    const { runtime } = this.host;
    const pids = runtime.processes();
    let mailboxes = 0;
    // Bounded: a node with a million processes samples the first ten thousand.
    for (let i = 0; i < pids.length && i < 10_000; i++) mailboxes += runtime.processInfo(pids[i] as Pid)?.messageQueueLen ?? 0;
    return { processes: pids.length, loopDelayMs: this.#delay.percentile(99) / 1e6, mailboxes, at: this.host.clock.now() };
  }

  /** The last load `node` reported, if any. */
  reported(node: string): NodeLoad | undefined {
    return this.#loads.get(node);
  }

  /** A report from `from`: kept if it has the shape of one (it comes from a peer). */
  receive(from: string, message: Message): void {
    const l = message[1] as Partial<NodeLoad> | null;
    if (typeof l === 'object' && l !== null && typeof l.processes === 'number' && typeof l.loopDelayMs === 'number' && typeof l.mailboxes === 'number') {
      this.#loads.set(from, { processes: l.processes, loopDelayMs: l.loopDelayMs, mailboxes: l.mailboxes, at: this.host.clock.now() });
    }
  }

  nodeLost(node: string): void {
    this.#loads.delete(node);
  }

  #schedule(): void {
    this.#timer = this.host.clock.setTimer(this.intervalMs, () => {
      this.#timer = null;
      if (!this.#running) return;
      const load = this.load();
      this.#delay.reset();
      for (const node of this.host.nodes()) this.host.send(node, [Kind.Load, load]);
      this.#schedule();
    });
  }
}
