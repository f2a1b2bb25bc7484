// The cluster configuration: named topologies, each a strategy and its options, in our shape
// (`strategy: 'dnsSrv'`, camelCase keys) or libcluster's (`strategy: 'Cluster.Strategy.
// Kubernetes.DNSSRV'`, snake_case keys, atoms written `:ip` or `ip`). Everything is checked
// before anything starts: an unknown strategy or key is an error naming it, its topology and
// what is allowed.

import { closestWord } from '@fdn/core';
import { ClusterError, ClusterErrorCode } from '../errors.ts';
import type { StrategyDefinition } from '../strategy/definition.ts';
import type { StrategyFactory } from '../strategy/strategy.ts';
import { checkFields, unknownKey } from './fields.ts';

/** One topology as written. */
export interface TopologyConfig {
  /** Our name (`static`, `gossip`, `dnsPoll`, `dnsSrv`, `kubernetes`) or libcluster's (`Cluster.Strategy.Gossip`…). */
  strategy: string;
  /** The strategy's options (ours or libcluster's keys). */
  config?: Record<string, unknown>;
  /** How often nodes this topology found but could not join are tried again (default 5,000 ms; libcluster Epmd's `timeout` maps here). */
  reconnectMs?: number;
}

/** The cluster configuration as written (our shape, or libcluster's under `libcluster:`). */
export interface ClusterConfig {
  topologies?: Record<string, TopologyConfig>;
  libcluster?: { topologies?: Record<string, TopologyConfig> };
}

/** A topology ready to start. */
export interface Topology {
  name: string;
  /** Our name of its strategy. */
  strategy: string;
  /** Its options in our keys, checked. */
  options: Record<string, unknown>;
  reconnectMs: number;
  create: StrategyFactory;
}

const TOPOLOGY_KEYS = ['strategy', 'config', 'reconnectMs'];
const ERLANG_MFA_KEYS = ['connect', 'disconnect', 'list_nodes', 'child_spec'];

/** Checks `config` and makes its topologies (`strategies`: the definitions that can be named). */
export function parseClusterConfig(config: unknown, strategies: readonly StrategyDefinition[]): Topology[] {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, 'the cluster configuration must be an object with `topologies`');
  const top = config as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (key !== 'topologies' && key !== 'libcluster') throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `cluster configuration: ${unknownKey(key, ['topologies', 'libcluster'])}`);
  }
  if (top.topologies !== undefined && top.libcluster !== undefined) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, 'cluster configuration: give `topologies` or `libcluster.topologies`, not both');
  const lib = top.libcluster as Record<string, unknown> | undefined;
  if (lib !== undefined) {
    for (const key of Object.keys(lib)) if (key !== 'topologies') throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `cluster configuration: libcluster.${unknownKey(key, ['topologies'])}`);
  }
  const topologies: unknown = lib?.topologies ?? top.topologies ?? {};
  if (typeof topologies !== 'object' || topologies === null || Array.isArray(topologies)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, 'cluster configuration: `topologies` must be an object of named topologies ({ k8s: { strategy, config } })');
  return Object.entries(topologies as Record<string, unknown>).map(([name, t]) => parseTopology(name, t, strategies));
}

function parseTopology(name: string, given: unknown, strategies: readonly StrategyDefinition[]): Topology {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${name}' must be an object with \`strategy\` and \`config\``);
  const t = given as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (ERLANG_MFA_KEYS.includes(key)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${name}': \`${key}\` is an Erlang {M, F, A} in libcluster; here pass a host in code instead: startCluster(node, config, { host: { connect, disconnect, nodes, … } })`);
    if (!TOPOLOGY_KEYS.includes(key)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${name}': ${unknownKey(key, TOPOLOGY_KEYS)}`);
  }
  if (typeof t.strategy !== 'string') throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${name}': \`strategy\` is required: one of ${strategyNames(strategies).join(', ')}`);
  const written = t.strategy.replace(/^Elixir\./, '');
  const definition = strategies.find((d) => d.name === written || d.libcluster.includes(written));
  if (definition === undefined) {
    const guess = closestWord(written, strategyNames(strategies));
    throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${name}': unknown strategy '${t.strategy}'${guess === null ? '' : ` (did you mean '${guess}'?)`}; known: ${strategyNames(strategies).join(', ')}`);
  }
  const config: unknown = t.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${name}': \`config\` must be an object of the strategy's options`);
  const options = { ...(definition.libclusterDefaults?.[written] ?? {}), ...toOurKeys(config as Record<string, unknown>, definition, name) };
  // libcluster Epmd's `timeout` is how often it reconnects: the topology's reconnectMs here.
  const { timeout } = options;
  delete options.timeout;
  checkFields(options, definition.fields, `options of topology '${name}' (strategy ${definition.name})`);
  let reconnectMs = 5_000;
  if (t.reconnectMs !== undefined) {
    if (typeof t.reconnectMs !== 'number' || !(t.reconnectMs > 0)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${name}': reconnectMs must be a number of ms > 0`);
    reconnectMs = t.reconnectMs;
  }
  if (typeof timeout === 'number' && timeout > 0) reconnectMs = timeout;
  return { name, strategy: definition.name, options, reconnectMs, create: definition.create(options) };
}

function strategyNames(strategies: readonly StrategyDefinition[]): string[] {
  return strategies.flatMap((d) => [d.name, ...d.libcluster]);
}

/** libcluster's keys and atom values (`:ip`) as ours; our own keys pass as they are; anything else is an error. */
function toOurKeys(config: Record<string, unknown>, definition: StrategyDefinition, topology: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = [...Object.keys(definition.fields), ...Object.keys(definition.libclusterKeys)];
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    const mapping = definition.libclusterKeys[key];
    if (mapping !== undefined) {
      const plain = fromAtom(value);
      if (typeof mapping === 'string') out[mapping] = plain;
      else out[mapping.key] = mapping.convert(plain);
    } else if (key in definition.fields) out[key] = value;
    else throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `topology '${topology}' (strategy ${definition.name}): ${unknownKey(key, known)}`);
  }
  return out;
}

/** Elixir atoms come through JSON/YAML as `':ip'` or `'ip'`. */
function fromAtom(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/^:/, '');
  if (Array.isArray(value)) return value.map(fromAtom);
  return value;
}
