// A node's operations endpoint: `/metrics` (Prometheus text format, a prom-client registry you can
// add to), `/health` and `/ready` (Kubernetes probes), and on request the observer page, on one
// HTTP listener, loopback by default.

import type { Node } from '@fdn/distribution';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { healthRoutes } from './health/health.ts';
import type { ReadinessCheck } from './health/health.ts';
import type { Route } from './http/route.ts';
import { startHttp } from './http/server.ts';
import type { HttpOptions } from './http/server.ts';
import { channelMetrics } from './metrics/channels.ts';
import { clusterMetrics } from './metrics/cluster.ts';
import { ecosystemMetrics } from './metrics/ecosystems.ts';
import type { MetricGroup } from './metrics/group.ts';
import { nodeProcessMetrics } from './metrics/process.ts';
import { runtimeMetrics } from './metrics/runtime.ts';
import { localClient } from './observer/client.ts';
import { observerRoutes } from './observer/routes.ts';
import type { ObserverOptions } from './observer/routes.ts';

/** The metric groups a node exposes unless told otherwise. */
export const DEFAULT_METRIC_GROUPS: readonly MetricGroup[] = [runtimeMetrics, channelMetrics, clusterMetrics, ecosystemMetrics];

/** Options of {@link serveOperations}. */
export interface OperationsOptions extends HttpOptions {
  /** The registry to fill and serve (default a new one): pass yours to serve your own metrics beside the node's. */
  registry?: Registry;
  /**
   * Node.js process metrics: `true` (default) CPU, memory, heap, event-loop delay, version under
   * prom-client's names, without timing each garbage collection; `'full'` prom-client's whole
   * default set (adds `nodejs_gc_duration_seconds` and more, through a GC observer that costs a
   * few % of a GC-heavy workload); `false` none.
   */
  processMetrics?: boolean | 'full';
  /** The node's metric groups (default {@link DEFAULT_METRIC_GROUPS}). */
  metrics?: readonly MetricGroup[];
  /** Extra readiness checks (`/ready` is 503 while any returns a reason). */
  readiness?: readonly ReadinessCheck[];
  /** More routes served by the same listener. */
  routes?: readonly Route[];
  /**
   * Serve the observer page at `/observer` (processes, supervision trees, the cluster graph,
   * channels, topology, ecosystems; it can kill a process and switch the topology). Off by default:
   * whoever holds the token could then do both. `true` or its options.
   */
  observer?: boolean | ObserverOptions;
}

/** A running operations endpoint. */
export interface Operations {
  /** `http://host:port`. */
  readonly url: string;
  /** The registry served at `/metrics`. */
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * Serves `node`'s operations endpoint (see the file comment). Metrics are read from the node when
 * Prometheus scrapes; nothing runs between scrapes. It outlives a stop of the node (whose probes
 * then answer 503) until `close()`. A registry passed in gets the default label `node`.
 */
export async function serveOperations(node: Node, options: OperationsOptions = {}): Promise<Operations> {
  const registry = options.registry ?? new Registry();
  registry.setDefaultLabels({ node: node.name });
  const release: (() => void)[] = [];
  const add = (group: MetricGroup): void => {
    const done = group.register(registry, node);
    if (typeof done === 'function') release.push(done);
  };
  if (options.processMetrics === 'full') collectDefaultMetrics({ register: registry });
  else if (options.processMetrics !== false) add(nodeProcessMetrics);
  for (const group of options.metrics ?? DEFAULT_METRIC_GROUPS) add(group);
  const metrics: Route = {
    path: '/metrics',
    get: async () => ({ status: 200, type: registry.contentType, body: await registry.metrics() }),
  };
  const observer = options.observer === undefined || options.observer === false ? [] : observerRoutes(localClient(node), options.observer === true ? {} : options.observer);
  const http = await startHttp(options, [metrics, ...healthRoutes(node, options.readiness), ...observer, ...(options.routes ?? [])], node.logger);
  return {
    url: http.url,
    registry,
    close: async () => {
      await http.close();
      for (const done of release.splice(0)) done();
    },
  };
}
