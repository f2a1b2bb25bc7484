// Redialling with backoff: one pending attempt per node; the delay doubles after each failure
// (jittered, capped) and resets once a connection is up. At most `maxInFlight` dials run at once,
// the others wait their turn: a node that learns a hundred members at once must not open a hundred
// handshakes together, each slowed by the others past its timeout. Used by the overlays that keep
// members whose connections broke (FullMesh, ClientServer, Static).

import type { Random, TimerHandle } from '@fdn/core';
import type { Connection } from '../transport/types.ts';
import type { PeerSpec } from './types.ts';

export interface RedialerOptions {
  firstMs: number;
  maxMs: number;
  dial: (spec: PeerSpec) => Promise<Connection>;
  /** Still worth dialling? Checked before each attempt. */
  wanted: (name: string) => boolean;
  after: (ms: number, fn: () => void) => TimerHandle;
  cancel: (timer: TimerHandle) => void;
  random: Random;
  /** Dials running at once (default unbounded). */
  maxInFlight?: number;
}

interface Entry {
  delay: number;
  /** A scheduled retry (null while dialling or waiting for a slot). */
  timer: TimerHandle | null;
  /** Waiting for a free dial slot. */
  queued: boolean;
}

export class Redialer {
  readonly #options: RedialerOptions;
  /** Per node: the next delay, and the timer of a scheduled attempt. */
  readonly #pending = new Map<string, Entry>();
  /** Nodes waiting for a dial slot, in order (an entry no longer pending or queued is skipped). */
  readonly #queue: PeerSpec[] = [];
  readonly #maxInFlight: number;
  #inFlight = 0;

  constructor(options: RedialerOptions) {
    this.#options = options;
    this.#maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  }

  /** Dials `spec` now unless an attempt is already pending; retries with backoff until connected or unwanted. */
  dial(spec: PeerSpec): void {
    if (this.#pending.has(spec.name)) return;
    this.#attempt(spec, this.#options.firstMs);
  }

  /** A connection to `name` is up: forget its backoff. */
  connected(name: string): void {
    const entry = this.#pending.get(name);
    if (entry === undefined) return;
    if (entry.timer !== null) this.#options.cancel(entry.timer);
    this.#pending.delete(name);
  }

  /** Nodes with an attempt pending. */
  pending(): string[] {
    return [...this.#pending.keys()];
  }

  /** Dials running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  clear(): void {
    for (const entry of this.#pending.values()) if (entry.timer !== null) this.#options.cancel(entry.timer);
    this.#pending.clear();
    this.#queue.length = 0;
  }

  #attempt(spec: PeerSpec, delay: number): void {
    const entry: Entry = { delay, timer: null, queued: false };
    this.#pending.set(spec.name, entry);
    if (this.#inFlight >= this.#maxInFlight) {
      entry.queued = true;
      this.#queue.push(spec);
      return;
    }
    this.#start(spec, entry);
  }

  /** Starts the next waiting dials while slots are free. */
  #next(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const spec = this.#queue.shift() as PeerSpec;
      const entry = this.#pending.get(spec.name);
      if (entry?.queued !== true) continue;
      entry.queued = false;
      if (!this.#options.wanted(spec.name)) {
        this.#pending.delete(spec.name);
        continue;
      }
      this.#start(spec, entry);
    }
  }

  #start(spec: PeerSpec, entry: Entry): void {
    const o = this.#options;
    const delay = entry.delay;
    this.#inFlight++;
    o.dial(spec).then(
      () => {
        this.#inFlight--;
        if (this.#pending.get(spec.name) === entry) this.#pending.delete(spec.name);
        this.#next();
      },
      () => {
        this.#inFlight--;
        this.#next();
        if (this.#pending.get(spec.name) !== entry) return;
        if (!o.wanted(spec.name)) {
          this.#pending.delete(spec.name);
          return;
        }
        entry.timer = o.after(delay * (0.5 + o.random.next()), () => {
          if (this.#pending.get(spec.name) !== entry) return;
          this.#pending.delete(spec.name);
          if (o.wanted(spec.name)) this.#attempt(spec, Math.min(delay * 2, o.maxMs));
        });
      },
    );
  }
}
