// @fdn/cli: the operator's side of @fdn. This release: a node's operations endpoint (Prometheus
// metrics, Kubernetes health probes).

export { serveOperations, DEFAULT_METRIC_GROUPS } from './operations.ts';
export type { Operations, OperationsOptions } from './operations.ts';
export type { HttpOptions } from './http/server.ts';
export type { Reply, Route } from './http/route.ts';
export type { MetricGroup, ReadSeries } from './metrics/group.ts';
export { counterOnScrape, gaugeOnScrape, onScrape, perScrape } from './metrics/group.ts';
export { runtimeMetrics, TOP_MAILBOXES } from './metrics/runtime.ts';
export { channelMetrics } from './metrics/channels.ts';
export { clusterMetrics } from './metrics/cluster.ts';
export { healthRoutes } from './health/health.ts';
export type { ReadinessCheck } from './health/health.ts';
export { CliError, CliErrorCode } from './errors.ts';
export type { CliErrorCodeValue } from './errors.ts';
