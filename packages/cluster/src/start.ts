// Starting cluster formation on a node: the configuration from code, a file or the environment,
// checked, then every topology started.

import type { Node } from '@fdn/distribution';
import { Cluster } from './cluster/cluster.ts';
import type { ClusterOptions } from './cluster/cluster.ts';
import { nodeHost } from './cluster/host.ts';
import type { ClusterHost } from './cluster/host.ts';
import { clusterConfigFromEnvironment } from './config/load.ts';
import { BUILT_IN_STRATEGIES } from './config/strategies.ts';
import { parseClusterConfig } from './config/topologies.ts';
import type { ClusterConfig } from './config/topologies.ts';
import type { StrategyDefinition } from './strategy/definition.ts';

export interface StartClusterOptions extends ClusterOptions {
  /** The strategies the configuration may name (default {@link BUILT_IN_STRATEGIES}). */
  strategies?: readonly StrategyDefinition[];
  /** What the cluster connects through (default: the node itself). */
  host?: ClusterHost;
  /** Read instead of `process.env` when no configuration is given. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Starts discovery for `node`: the topologies of `config` (our shape or libcluster's), or, when
 * none is given, of FDN_CLUSTER_CONFIG / FDN_DISCOVERY; with nothing anywhere, none (the node is
 * a cluster of one until another joins it). Throws FDN_ERR_CLUSTER_CONFIG before starting
 * anything if the configuration is wrong; discovery failures later are logged and retried, never thrown.
 */
export async function startCluster(node: Node | null, config?: ClusterConfig, options: StartClusterOptions = {}): Promise<Cluster> {
  const strategies = options.strategies ?? BUILT_IN_STRATEGIES;
  const given = config ?? clusterConfigFromEnvironment(strategies, options.env ?? process.env) ?? {};
  const topologies = parseClusterConfig(given, strategies);
  const host = options.host ?? (node === null ? null : nodeHost(node));
  if (host === null) throw new TypeError('startCluster needs a node or options.host');
  const cluster = new Cluster(host, topologies, options);
  await cluster.start();
  return cluster;
}
