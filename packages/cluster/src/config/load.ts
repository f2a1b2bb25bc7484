// Where a cluster configuration comes from besides code: a JSON or YAML file, and the
// environment, so one image runs everywhere: FDN_CLUSTER_CONFIG=/etc/fdn/cluster.yaml, or
// FDN_DISCOVERY=<strategy> with its options as FDN_DISCOVERY_<OPTION> (FDN_DISCOVERY_SELECTOR=
// app=myapp, FDN_DISCOVERY_POLLING_INTERVAL_MS=2000). Nothing set: no discovery (a cluster of one
// until a node joins it, or the node's own FDN_SEEDS).

import { readFileSync } from 'node:fs';
import { closestWord } from '@fdn/core';
import { parse as parseYaml } from 'yaml';
import { ClusterError, ClusterErrorCode } from '../errors.ts';
import type { StrategyDefinition } from '../strategy/definition.ts';
import { fromEnvironment } from './fields.ts';
import type { ClusterConfig } from './topologies.ts';

/** Reads a cluster configuration file: JSON (`.json`) or YAML (anything else). Not yet checked: `startCluster` does that. */
export function readClusterConfig(path: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `cannot read the cluster configuration ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return (path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as ClusterConfig;
  } catch (err) {
    throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `the cluster configuration ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
}

/** The name of the topology made from FDN_DISCOVERY. */
export const ENVIRONMENT_TOPOLOGY = 'env';

/** What the environment configures, or `undefined` when it configures nothing. */
export function clusterConfigFromEnvironment(strategies: readonly StrategyDefinition[], env: Readonly<Record<string, string | undefined>> = process.env): ClusterConfig | undefined {
  const file = env.FDN_CLUSTER_CONFIG?.trim();
  const discovery = env.FDN_DISCOVERY?.trim();
  const set = (v: string | undefined): v is string => v !== undefined && v !== '';
  if (set(file) && set(discovery)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, 'both FDN_CLUSTER_CONFIG and FDN_DISCOVERY are set: set one');
  if (set(file)) return readClusterConfig(file);
  const optionVariables = Object.keys(env).filter((k) => k.startsWith('FDN_DISCOVERY_') && set(env[k]?.trim()));
  if (!set(discovery)) {
    if (optionVariables.length > 0) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `${optionVariables.join(', ')} set without FDN_DISCOVERY: set FDN_DISCOVERY to the strategy (${strategies.map((d) => d.name).join(', ')})`);
    return undefined;
  }
  const definition = strategies.find((d) => d.name === discovery || d.libcluster.includes(discovery));
  if (definition === undefined) {
    const guess = closestWord(discovery, strategies.map((d) => d.name));
    throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `FDN_DISCOVERY=${discovery}: unknown strategy${guess === null ? '' : ` (did you mean '${guess}'?)`}; known: ${strategies.map((d) => d.name).join(', ')}`);
  }
  const byVariable = new Map(Object.keys(definition.fields).map((key) => [`FDN_DISCOVERY_${snake(key)}`, key]));
  const config: Record<string, unknown> = {};
  for (const variable of optionVariables) {
    const key = byVariable.get(variable);
    if (key === undefined) {
      const guess = closestWord(variable, [...byVariable.keys()]);
      throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `${variable}: not an option of the ${definition.name} strategy${guess === null ? '' : ` (did you mean ${guess}?)`}; its variables: ${[...byVariable.keys()].join(', ')}`);
    }
    config[key] = fromEnvironment(variable, env[variable] as string, (definition.fields[key] as { type: Parameters<typeof fromEnvironment>[2] }).type);
  }
  return { topologies: { [ENVIRONMENT_TOPOLOGY]: { strategy: definition.name, config } } };
}

/** `pollingIntervalMs` → `POLLING_INTERVAL_MS`. */
function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
