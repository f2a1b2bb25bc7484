// Starting the split brain resolver on a node, with a strategy named in configuration or given.

import type { Clock } from '@fdn/core';
import type { Node } from '@fdn/distribution';
import { ClusterError, ClusterErrorCode } from '../errors.ts';
import { nodeDowningHost } from './host.ts';
import type { DowningHost } from './host.ts';
import { SplitBrainResolver } from './resolver.ts';
import type { ResolverOptions } from './resolver.ts';
import { downAll, keepMajority, keepOldest, keepReferee, staticQuorum } from './strategies.ts';
import type { DowningStrategy } from './strategies.ts';

/** A strategy by name with its options, as in a configuration file. */
export type DowningConfig =
  | { strategy: 'keepMajority' }
  | { strategy: 'keepOldest'; downIfAlone?: boolean }
  | { strategy: 'keepReferee'; referee: string; downAllIfLessThan?: number }
  | { strategy: 'staticQuorum'; quorumSize: number }
  | { strategy: 'downAll' };

export interface SplitBrainOptions extends ResolverOptions {
  /** The strategy: one made by `keepMajority()`…, or named (default `keepMajority`). */
  strategy?: DowningStrategy | DowningConfig;
  /** What a downed node does: `stop` (default), `exit` (stop, then exit 1 so that a supervisor restarts it as a new incarnation), or your function. */
  whenDowned?: 'stop' | 'exit' | ((reason: string) => void);
  /** The clock (default the system's; a SimCluster's for simulations). */
  clock?: Clock;
  /** Talk and act through this instead of the node. */
  host?: DowningHost;
}

/** The strategy `config` names; a bad name or missing option is FDN_ERR_CLUSTER_CONFIG. */
export function downingStrategy(config: DowningStrategy | DowningConfig): DowningStrategy {
  if ('decide' in config) return config;
  switch (config.strategy) {
    case 'keepMajority':
      return keepMajority();
    case 'keepOldest':
      return keepOldest(config);
    case 'keepReferee':
      if (typeof config.referee !== 'string' || config.referee === '') break;
      return keepReferee(config);
    case 'staticQuorum':
      if (!Number.isInteger(config.quorumSize) || config.quorumSize < 1) break;
      return staticQuorum(config);
    case 'downAll':
      return downAll();
  }
  throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `split brain resolver: ${JSON.stringify(config)} is not a strategy: use keepMajority, keepOldest { downIfAlone? }, keepReferee { referee }, staticQuorum { quorumSize } or downAll`);
}

/** Starts the split brain resolver on `node` (stop it with `resolver.stop()`; it stops with the node's processes too). */
export function startSplitBrainResolver(node: Node, options: SplitBrainOptions = {}): SplitBrainResolver {
  const strategy = downingStrategy(options.strategy ?? { strategy: 'keepMajority' });
  const host = options.host ?? nodeDowningHost(node, { ...(options.clock === undefined ? {} : { clock: options.clock }), ...(options.whenDowned === undefined ? {} : { whenDowned: options.whenDowned }) });
  return new SplitBrainResolver(host, strategy, options);
}
