// A group of metrics about one concept of a node. Each group registers its collectors on the
// registry; they read the node when Prometheus scrapes (nothing runs between scrapes, and the node's
// hot paths only keep the counters they already keep).

import type { Node } from '@fdn/distribution';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Metrics about one concept of a node. */
export interface MetricGroup {
  readonly name: string;
  register(registry: Registry, node: Node): void;
}

/** What a collector reads: it calls `set(labels, value)` for each series. */
export type ReadSeries<L extends string> = (set: (labels: Partial<Record<L, string>>, value: number) => void) => void;

/**
 * `take()` once per scrape: the collectors of a group all read one snapshot (a pass over the
 * processes, the connections' counters) instead of each taking its own. prom-client runs every
 * collector of a scrape in one synchronous pass, so the snapshot is kept until the microtasks
 * after it: the next scrape takes a fresh one.
 */
export function perScrape<T>(take: () => T): () => T {
  let snapshot: { value: T } | null = null;
  return () => {
    if (snapshot === null) {
      snapshot = { value: take() };
      queueMicrotask(() => {
        snapshot = null;
      });
    }
    return snapshot.value;
  };
}

/** A counter or a gauge read at scrape time (see {@link counterOnScrape}, {@link gaugeOnScrape}). */
export function onScrape<L extends string>(kind: 'counter' | 'gauge', registry: Registry, name: string, help: string, labelNames: readonly L[], read: ReadSeries<L>): Counter<L> | Gauge<L> {
  return kind === 'counter' ? counterOnScrape(registry, name, help, labelNames, read) : gaugeOnScrape(registry, name, help, labelNames, read);
}

/** A gauge whose values are read at scrape time by `read` (it sets them with `set(labels, value)`). */
export function gaugeOnScrape<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: ReadSeries<L>): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Gauge<L>) {
      this.reset();
      read((labels, value) => {
        this.set(labels, value);
      });
    },
  });
}

/**
 * A counter whose totals are read at scrape time (the node keeps them; a total that starts again,
 * as a new connection's does, is a counter reset to Prometheus).
 */
export function counterOnScrape<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: ReadSeries<L>): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter<L>) {
      this.reset();
      read((labels, value) => {
        if (value > 0) this.inc(labels, value);
      });
    },
  });
}
