// Redialling with backoff: one pending attempt per node; the delay doubles after each failure
// (jittered, capped) and resets once a connection is up. Used by the overlays that keep members whose
// connections broke (FullMesh, ClientServer, Static).

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
}

export class Redialer {
  readonly #options: RedialerOptions;
  /** Per node: the next delay, and the timer of a scheduled attempt (null while dialling). */
  readonly #pending = new Map<string, { delay: number; timer: TimerHandle | null }>();

  constructor(options: RedialerOptions) {
    this.#options = options;
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

  clear(): void {
    for (const entry of this.#pending.values()) if (entry.timer !== null) this.#options.cancel(entry.timer);
    this.#pending.clear();
  }

  #attempt(spec: PeerSpec, delay: number): void {
    const o = this.#options;
    const entry: { delay: number; timer: TimerHandle | null } = { delay, timer: null };
    this.#pending.set(spec.name, entry);
    o.dial(spec).then(
      () => {
        if (this.#pending.get(spec.name) === entry) this.#pending.delete(spec.name);
      },
      () => {
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
