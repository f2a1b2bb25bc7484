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

/** A gauge whose values are read at scrape time by `read` (it sets them with `set(labels, value)`). */
export function gaugeOnScrape<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => void): Gauge<L> {
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
export function counterOnScrape<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => void): Counter<L> {
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
