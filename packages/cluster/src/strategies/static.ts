// A fixed list of nodes (libcluster's `Epmd` strategy): for development, and for small clusters
// whose machines are known. Entries are addresses (`ws://10.0.0.5:4370`), Erlang-style node
// names with a port (`app@10.0.0.5:4370`) or without one (`app@10.0.0.5`, then `port` says where);
// the node's name is then `app@10.0.0.5`, as in Erlang.

import { SCHEME_FIELD } from '../config/common-fields.ts';
import { ClusterError, ClusterErrorCode } from '../errors.ts';
import { BaseStrategy } from '../strategy/base.ts';
import { nodeAddress } from '../strategy/peers.ts';
import type { StrategyDefinition } from '../strategy/definition.ts';
import type { Peer, StrategyComponents, StrategyFactory } from '../strategy/strategy.ts';

export interface StaticOptions {
  /** The nodes: `ws://host:port`, `name@host:port`, `name@host` (on `port`), or `{ name?, address }`. */
  hosts: readonly (string | Peer)[];
  /** The port of entries that give none (default 4370). */
  port?: number;
  /** `wss` when the nodes use TLS (default `ws`). */
  scheme?: 'ws' | 'wss';
}

/** The `static` strategy: always the same nodes. */
export function staticHosts(options: StaticOptions): StrategyFactory {
  const peers = options.hosts.map((h) => parseHost(h, options.port ?? 4370, options.scheme ?? 'ws'));
  return (components) => new StaticStrategy(peers, components);
}

class StaticStrategy extends BaseStrategy {
  readonly kind = 'static';

  constructor(
    private readonly list: Peer[],
    components: StrategyComponents,
  ) {
    super(components);
  }

  protected begin(): Promise<void> {
    this.setPeers(this.list);
    return Promise.resolve();
  }

  protected end(): Promise<void> {
    return Promise.resolve();
  }
}

/** One host entry as a peer; a malformed one is FDN_ERR_CLUSTER_CONFIG naming it. */
export function parseHost(entry: string | Peer, port: number, scheme: 'ws' | 'wss'): Peer {
  if (typeof entry !== 'string') return entry;
  if (/^wss?:\/\//.test(entry)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `static host '${entry}' is not an address: write ws://host:port`);
    }
    if (url.port === '') throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `static host '${entry}' has no port: write ${url.protocol}//${url.hostname}:4370`);
    return { address: `${url.protocol}//${url.host}` };
  }
  const m = /^([^@\s]+)@(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(entry.replace(/^:/, ''));
  if (m === null) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `static host '${entry}' is neither an address (ws://host:port) nor a node name (name@host or name@host:port)`);
  const hostPort = m[3] === undefined ? port : Number(m[3]);
  if (!Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65_535) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `static host '${entry}': the port must be 1–65535`);
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  return { name: `${m[1] as string}@${host}`, address: nodeAddress(host, hostPort, scheme) };
}

/** The `static` strategy as configuration knows it (libcluster's `Epmd`). */
export const staticDefinition: StrategyDefinition = {
  name: 'static',
  libcluster: ['Cluster.Strategy.Epmd'],
  fields: {
    hosts: { type: 'string[]', required: true, doc: 'the nodes: ws://host:port, name@host:port or name@host' },
    port: { type: 'port', doc: 'the port of hosts that give none (default 4370)' },
    ...SCHEME_FIELD,
  },
  libclusterKeys: { hosts: 'hosts', timeout: 'timeout' },
  create: (o) => staticHosts(o as unknown as StaticOptions),
};
