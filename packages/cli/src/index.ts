// @fdn/cli: the operator's side of @fdn: the `fdn` command (bin/fdn.ts), a node's operations
// endpoint (Prometheus metrics, Kubernetes health probes) and the observer page.

export { serveOperations, DEFAULT_METRIC_GROUPS } from './operations.ts';
export type { Operations, OperationsOptions } from './operations.ts';
export type { HttpOptions } from './http/server.ts';
export type { Reply, Route, RouteRequest, SendEvent } from './http/route.ts';
export type { MetricGroup, ReadHistogram, ReadSeries } from './metrics/group.ts';
export { counterOnScrape, gaugeOnScrape, histogramOnScrape, onScrape, perScrape } from './metrics/group.ts';
export { runtimeMetrics, TOP_MAILBOXES } from './metrics/runtime.ts';
export { nodeProcessMetrics } from './metrics/process.ts';
export { channelMetrics } from './metrics/channels.ts';
export { clusterMetrics } from './metrics/cluster.ts';
export { ecosystemMetrics } from './metrics/ecosystems.ts';
export { healthRoutes } from './health/health.ts';
export type { ReadinessCheck } from './health/health.ts';
export { observerRoutes } from './observer/routes.ts';
export type { ObserverOptions } from './observer/routes.ts';
export { localClient } from './observer/client.ts';
export type { InspectClient } from './observer/client.ts';
export { runFdn } from './command/program.ts';
export type { FdnRun } from './command/program.ts';
export type { CommandIo } from './command/io.ts';
export { attach } from './command/attach.ts';
export type { Attached, AttachOptions } from './command/attach.ts';
export { CliError, CliErrorCode, ExitCode } from './errors.ts';
export type { CliErrorCodeValue } from './errors.ts';
