// @fdn/distribution: a node of an @fdn cluster (actors + topology): remote pids, messaging,
// monitors, links and spawn across nodes.

export { Codec } from './codec/codec.ts';
export type { CodecOptions } from './codec/codec.ts';
export type { PidFactory } from './codec/extensions.ts';
export type { Cursor } from './codec/msgpack/reader.ts';
export { DistributionError, DistributionErrorCode } from './errors/errors.ts';
export type { DistributionErrorCodeValue } from './errors/errors.ts';
export { ProcessFactory } from './factory/factory.ts';
export type { FactoryStart, RegisterOptions, SpawnBody, Spawnable } from './factory/factory.ts';
export { Node, startNode } from './node/node.ts';
export type { NodeChannelMetrics, NodeChannelOptions, NodeEvent, NodeOptions, NodeSendOptions, NodeSendStatus, OverlayConfig, Reliability, RemoteSpawnOptions } from './node/node.ts';
export { loadNodeConfig } from './config/load.ts';
export type { LoadNodeConfigOptions, NodeConfig, NodeConfigFile } from './config/load.ts';
export { optionsFromEnvironment, ENVIRONMENT_VARIABLES } from './config/environment.ts';
export type { EnvironmentOptions } from './config/environment.ts';
export { nodeConfigFileSchema, nodeOptionsSchema, NODE_OPTION_KEYS } from './config/schema.ts';
export type { RoutingRule } from './node/routing.ts';
export type { SpawnLimits } from './node/spawn-limits.ts';
export type { ReliableOptions } from './node/reliable.ts';
export type { GlobalNameConflict } from './registry/global.ts';
export { ProcessGroups } from './registry/groups.ts';
export type { GroupEvent } from './registry/groups.ts';
export { backlogPolicy, checkpoint, ecosystemInfo, rebalance, reportMetrics, spawnEcosystem } from './ecosystem/ecosystem.ts';
export { FileStore, MemoryStore } from './ecosystem/store.ts';
export type { Checkpoint, CheckpointStore } from './ecosystem/store.ts';
export type { LeaseOptions } from './ecosystem/lease.ts';
export type { Ecosystem, EcosystemInfo, EcosystemMetrics, EcosystemSpec, FailoverCoordinator, FailoverInit, ScalingPolicy, ScalingSpec, WorkerRef, WorkersChanged } from './ecosystem/ecosystem.ts';
export { loadScore, place } from './ecosystem/placement.ts';
export type { NodeLoad, Placement, PlacementInput } from './ecosystem/placement.ts';
export { DEFAULT_RULES, forWorkload, recommend, TopologyAdvisor } from './topology/advisor.ts';
export type { Recommendation, TopologyInfo, TopologyMetrics, TopologyName, TopologyRule, Workload } from './topology/advisor.ts';
export { TopologySwitcher } from './topology/switch.ts';
export type { ProbeResult, SwitchOptions, SwitchRecord, SwitchResult, SwitchState, SwitchVerification, TopologyEpoch } from './topology/switch.ts';
export { SimCluster } from './sim/sim-cluster.ts';
export type { SimClusterOptions } from './sim/sim-cluster.ts';
