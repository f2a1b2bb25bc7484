// A group of metrics about one concept of a node. Each group registers its collectors on the
// registry; they read the node when Prometheus scrapes (nothing runs between scrapes, and the node's
// hot paths only keep the counters they already keep).

import type { Node } from '@fdn/distribution';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Metrics about one concept of a node. */
export interface MetricGroup {
  readonly name: string;
  /** Adds the group's collectors; may return what to release when the endpoint closes (a monitor, a timer). */
  register(registry: Registry, node: Node): (() => void) | undefined;
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

/** What a histogram's reader gives per series: counts per bucket (not cumulative; the last above every bound) and their sum. */
export type ReadHistogram<L extends string> = (set: (labels: Partial<Record<L, string>>, counts: readonly number[], sum: number) => void) => void;

/**
 * A histogram whose buckets the node already keeps, read at scrape time (prom-client's own
 * Histogram is fed one observation at a time, on the hot path: this one costs nothing between
 * scrapes). `bounds` are the buckets' upper bounds, in the histogram's unit.
 */
export function histogramOnScrape<L extends string>(registry: Registry, name: string, help: string, bounds: readonly number[], read: ReadHistogram<L>): void {
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    get: () => {
      const values: { metricName: string; labels: Record<string, string | number | undefined>; value: number }[] = [];
      read((labels, counts, sum) => {
        let cumulative = 0;
        bounds.forEach((bound, i) => {
          cumulative += counts[i] ?? 0;
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
        });
        cumulative += counts[bounds.length] ?? 0;
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
        values.push({ metricName: `${name}_sum`, labels, value: sum });
        values.push({ metricName: `${name}_count`, labels, value: cumulative });
      });
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset: () => undefined,
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}
