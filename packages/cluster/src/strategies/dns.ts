// Discovery through DNS: `dnsPoll` lists the A and AAAA records of a name (libcluster's
// `DNSPoll`, and `Kubernetes.DNS` for a headless Service), `dnsSrv` the SRV records of a headless
// Service (libcluster's `Kubernetes.DNSSRV`), whose ports say where each node listens. Both ask
// again every polling interval; a failing server is retried with backoff and the last answer kept.

import { Resolver } from 'node:dns/promises';
import { POLLING_FIELDS, POLLING_KEYS, SCHEME_FIELD } from '../config/common-fields.ts';
import type { Fields } from '../config/fields.ts';
import { ClusterError, ClusterErrorCode } from '../errors.ts';
import type { StrategyDefinition } from '../strategy/definition.ts';
import { PollingStrategy } from '../strategy/base.ts';
import type { PollingOptions } from '../strategy/base.ts';
import { nodeAddress } from '../strategy/peers.ts';
import type { Peer, StrategyComponents, StrategyFactory } from '../strategy/strategy.ts';

/** The DNS lookups the strategies make (node's `dns.promises.Resolver` has them). */
export interface DnsResolver {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
}

/** Where and how to ask DNS. */
export interface DnsOptions extends PollingOptions {
  /** DNS servers to ask (`127.0.0.1:5353`, `[::1]:53`); default the system's. */
  servers?: readonly string[];
  /** A lookup's timeout in ms (default 2,000), tried twice. */
  timeoutMs?: number;
  /** Your own resolver (libcluster's `resolver`); `servers` and `timeoutMs` are then ignored. */
  resolver?: DnsResolver;
  /** A node's name is `<nodeBasename>@<host>` (libcluster's `node_basename` / `application_name`); without it names are learned when connecting. */
  nodeBasename?: string;
  /** `wss` when the nodes use TLS (default `ws`). */
  scheme?: 'ws' | 'wss';
}

export interface DnsPollOptions extends DnsOptions {
  /** The name whose A and AAAA records are the nodes (a headless Service: `myapp-headless.prod.svc.cluster.local`). */
  query: string;
  /** The port every node listens on (default 4370). */
  port?: number;
  /** Which records (default both; libcluster's `Kubernetes.DNS` asks only A). */
  family?: 4 | 6 | 'both';
}

export interface DnsSrvOptions extends DnsOptions {
  /** The full SRV name to ask; default `<service>.<namespace>.svc.<clusterDomain>`. */
  query?: string;
  /** The headless Service (with `namespace`, when `query` is not given). */
  service?: string;
  namespace?: string;
  /** Default the CLUSTER_DOMAIN variable, else `cluster.local`. */
  clusterDomain?: string;
  /** `hostname` (default, libcluster's): dial the SRV targets by name; `ip`: resolve them here first (A, then AAAA). */
  mode?: 'hostname' | 'ip';
}

/** The `dnsPoll` strategy. */
export function dnsPoll(options: DnsPollOptions): StrategyFactory {
  return (components) => new DnsPollStrategy(options, components);
}

/** The `dnsSrv` strategy. */
export function dnsSrv(options: DnsSrvOptions): StrategyFactory {
  if (options.query === undefined && (options.service === undefined || options.namespace === undefined)) {
    throw new ClusterError(ClusterErrorCode.BAD_CONFIG, 'dnsSrv needs `query` (the full SRV name), or `service` and `namespace`');
  }
  return (components) => new DnsSrvStrategy(options, components);
}

function makeResolver(options: DnsOptions): DnsResolver {
  if (options.resolver !== undefined) return options.resolver;
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2_000, tries: 2 });
  if (options.servers !== undefined && options.servers.length > 0) resolver.setServers([...options.servers]);
  return resolver;
}

/** "No such name" and "no records of this type" are answers (no nodes), not failures. */
function isEmptyAnswer(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

async function lookupOrEmpty<T>(lookup: () => Promise<T[]>): Promise<T[]> {
  try {
    return await lookup();
  } catch (err) {
    if (isEmptyAnswer(err)) return [];
    throw err;
  }
}

function dnsFailure(what: string, err: unknown, servers: readonly string[] | undefined): ClusterError {
  const code = (err as { code?: unknown }).code;
  const where = servers === undefined || servers.length === 0 ? 'the system resolver' : servers.join(', ');
  return new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `DNS lookup of ${what} through ${where} failed (${typeof code === 'string' ? code : (err as Error).message}): check that the DNS server answers and the name is right; retrying with backoff`, { cause: err });
}

class DnsPollStrategy extends PollingStrategy {
  readonly kind = 'dnsPoll';
  readonly #resolver: DnsResolver;

  constructor(
    private readonly options: DnsPollOptions,
    components: StrategyComponents,
  ) {
    super(options, components);
    this.#resolver = makeResolver(options);
  }

  protected async lookup(): Promise<Peer[]> {
    const { query, family = 'both', port = 4370, scheme, nodeBasename } = this.options;
    let ips: string[];
    try {
      const [v4, v6] = await Promise.all([family === 6 ? [] : lookupOrEmpty(() => this.#resolver.resolve4(query)), family === 4 ? [] : lookupOrEmpty(() => this.#resolver.resolve6(query))]);
      ips = [...v4, ...v6];
    } catch (err) {
      throw dnsFailure(`'${query}'`, err, this.options.servers);
    }
    return ips.map((ip) => (nodeBasename === undefined ? { address: nodeAddress(ip, port, scheme) } : { name: `${nodeBasename}@${ip}`, address: nodeAddress(ip, port, scheme) }));
  }
}

class DnsSrvStrategy extends PollingStrategy {
  readonly kind = 'dnsSrv';
  readonly #resolver: DnsResolver;
  readonly #query: string;

  constructor(
    private readonly options: DnsSrvOptions,
    components: StrategyComponents,
  ) {
    super(options, components);
    this.#resolver = makeResolver(options);
    const domain = (options.clusterDomain ?? process.env.CLUSTER_DOMAIN ?? 'cluster.local').replace(/\.$/, '');
    this.#query = options.query ?? `${options.service ?? ''}.${options.namespace ?? ''}.svc.${domain}`;
  }

  protected async lookup(): Promise<Peer[]> {
    const { scheme, nodeBasename, mode = 'hostname' } = this.options;
    let records: { name: string; port: number }[];
    try {
      records = await lookupOrEmpty(() => this.#resolver.resolveSrv(this.#query));
    } catch (err) {
      throw dnsFailure(`SRV '${this.#query}'`, err, this.options.servers);
    }
    const peers: Peer[] = [];
    for (const { name: target, port } of records) {
      const host = target.replace(/\.$/, '');
      const named = (h: string): Peer => (nodeBasename === undefined ? { address: nodeAddress(h, port, scheme) } : { name: `${nodeBasename}@${host}`, address: nodeAddress(h, port, scheme) });
      if (mode === 'hostname') {
        peers.push(named(host));
        continue;
      }
      let ips: string[];
      try {
        ips = await lookupOrEmpty(() => this.#resolver.resolve4(host));
        if (ips.length === 0) ips = await lookupOrEmpty(() => this.#resolver.resolve6(host));
      } catch (err) {
        throw dnsFailure(`'${host}' (a target of SRV '${this.#query}')`, err, this.options.servers);
      }
      for (const ip of ips) peers.push(named(ip));
    }
    return peers;
  }
}

const DNS_FIELDS: Fields = {
  ...POLLING_FIELDS,
  ...SCHEME_FIELD,
  servers: { type: 'string[]', doc: 'DNS servers to ask, host:port (default the system resolver)' },
  timeoutMs: { type: 'number', doc: "a lookup's timeout, ms (default 2000)" },
  nodeBasename: { type: 'string', doc: "node names are '<nodeBasename>@<host>'" },
};

/** The `dnsPoll` strategy as configuration knows it (libcluster's `DNSPoll` and `Kubernetes.DNS`). */
export const dnsPollDefinition: StrategyDefinition = {
  name: 'dnsPoll',
  libcluster: ['Cluster.Strategy.DNSPoll', 'Cluster.Strategy.Kubernetes.DNS'],
  fields: {
    ...DNS_FIELDS,
    query: { type: 'string', required: true, doc: 'the name whose A/AAAA records are the nodes' },
    port: { type: 'port', doc: 'the port every node listens on (default 4370)' },
    family: { type: ['4', '6', 'both'], doc: "which records: '4', '6' or 'both' (default)" },
  },
  libclusterKeys: { query: 'query', node_basename: 'nodeBasename', service: 'query', application_name: 'nodeBasename', ...POLLING_KEYS },
  // libcluster's Kubernetes.DNS asks A records only.
  libclusterDefaults: { 'Cluster.Strategy.Kubernetes.DNS': { family: '4' } },
  create: (o) => dnsPoll({ ...(o as unknown as DnsPollOptions), family: o.family === '4' ? 4 : o.family === '6' ? 6 : 'both' }),
};

/** The `dnsSrv` strategy as configuration knows it (libcluster's `Kubernetes.DNSSRV`). */
export const dnsSrvDefinition: StrategyDefinition = {
  name: 'dnsSrv',
  libcluster: ['Cluster.Strategy.Kubernetes.DNSSRV'],
  fields: {
    ...DNS_FIELDS,
    query: { type: 'string', doc: 'the full SRV name (default <service>.<namespace>.svc.<clusterDomain>)' },
    service: { type: 'string', doc: 'the headless Service' },
    namespace: { type: 'string', doc: "the Service's namespace" },
    clusterDomain: { type: 'string', doc: 'default CLUSTER_DOMAIN, else cluster.local' },
    mode: { type: ['hostname', 'ip'], doc: "'hostname' (default): dial SRV targets by name; 'ip': resolve them first" },
  },
  libclusterKeys: { service: 'service', namespace: 'namespace', application_name: 'nodeBasename', ...POLLING_KEYS },
  create: (o) => dnsSrv(o),
};
