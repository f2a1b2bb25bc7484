// Node configuration from a plain object or a JSON file, with per-environment profiles. A file
// holds shared settings and a `profiles` map; the chosen profile (option, or FDN_PROFILE) is laid
// over them, then what the environment sets (FDN_NAME, FDN_SECRET…), then `overrides`. Two
// profiles are built in: `dev` (full mesh on loopback) and `prod` (HyParView with its member
// directory, seeds required). Everything is validated against the schema before the node starts.

import { readFileSync } from 'node:fs';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { NodeOptions } from '../node/options.ts';
import { optionsFromEnvironment } from './environment.ts';
import { checkConfigFile, checkNodeOptions } from './validate.ts';

/** The options a configuration file can hold (no injected parts: transport, clock, random, logger). */
export type NodeConfig = Omit<NodeOptions, 'transport' | 'clock' | 'random' | 'logger'>;

/** A configuration file's shape: shared options, then profiles laid over them. `$schema` may point at `@fdn/distribution/schema/node-config.schema.json`. */
export interface NodeConfigFile extends NodeConfig {
  $schema?: string;
  profiles?: Record<string, NodeConfig>;
}

const BUILT_IN: Record<string, NodeConfig> = {
  dev: { overlay: 'fullMesh', listen: { host: '127.0.0.1', port: 0 } },
  prod: { overlay: { kind: 'hyparview' } },
};

/** Options of `loadNodeConfig`: the profile, the environment to read, and overrides laid on top. */
export interface LoadNodeConfigOptions {
  /** The profile to lay over the shared options (default FDN_PROFILE, else none). */
  profile?: string;
  /** Laid over everything else (secrets from a vault, the name from the command line…). */
  overrides?: Partial<NodeOptions>;
  /** Variables to read FDN_* from (default `process.env`; `{}` to ignore the environment). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Resolves node options from `source` (a path to a JSON file, or an object): shared options, the
 * profile, the environment, then `overrides`. Throws FDN_ERR_BAD_CONFIG listing every mistake
 * (unknown keys with a guess at the intended one, values out of range, missing name or secret).
 */
export function loadNodeConfig(source: string | NodeConfigFile, options: LoadNodeConfigOptions = {}): NodeOptions {
  const where = typeof source === 'string' ? source : 'the node configuration';
  let file: unknown;
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `cannot read the node configuration ${source}: ${(err as Error).message}`, { cause: err });
    }
    try {
      file = JSON.parse(text) as unknown;
    } catch (err) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `${source} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  } else {
    file = source;
  }
  checkConfigFile(file, where);
  const { profiles = {}, $schema: _schema, ...shared } = file as NodeConfigFile;
  const env = options.env ?? process.env;
  const profile = options.profile ?? env.FDN_PROFILE;
  let layer: NodeConfig = {};
  if (profile !== undefined && profile !== '') {
    const chosen = profiles[profile] ?? BUILT_IN[profile];
    if (chosen === undefined) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown profile '${profile}' (${where} has: ${[...new Set([...Object.keys(profiles), ...Object.keys(BUILT_IN)])].join(', ')})`);
    }
    // A file's profile of a built-in name refines the built-in one.
    layer = { ...(BUILT_IN[profile] ?? {}), ...chosen };
  }
  const merged = { ...shared, ...layer, ...optionsFromEnvironment(env), ...(options.overrides ?? {}) } as Partial<NodeOptions>;
  checkNodeOptions(merged, where);
  requireIdentity(merged);
  const overlay = merged.overlay;
  const kind = typeof overlay === 'string' ? overlay : typeof overlay === 'function' ? undefined : overlay?.kind;
  if (kind === 'hyparview' && (merged.seeds ?? []).length === 0 && profile === 'prod') {
    throw new DistributionError(DistributionErrorCode.BAD_CONFIG, "profile 'prod' (HyParView) needs seeds: the addresses of a few nodes to join through (seeds, or FDN_SEEDS)");
  }
  return merged;
}

/** A node needs a name and a secret, from the options or the environment. */
export function requireIdentity(options: Partial<NodeOptions>): asserts options is NodeOptions & { name: string; secret: string | Uint8Array } {
  if (options.name === undefined) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'the node has no name: set `name` (or FDN_NAME)');
  if (options.secret === undefined) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'the node has no cluster secret: set `secret` (or FDN_SECRET / FDN_SECRET_FILE), at least 8 characters, the same on every node');
}
