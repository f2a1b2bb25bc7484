// Node configuration from a plain object or a JSON file, with per-environment profiles. A file
// holds shared settings and a `profiles` map; the chosen profile (option, or FDN_PROFILE) is laid
// over them. Two profiles are built in: `dev` (full mesh on loopback) and `prod` (HyParView with
// its member directory, seeds required). Everything is validated before the node starts.

import { readFileSync } from 'node:fs';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { NodeOptions } from './node.ts';

/** A configuration file's shape: shared options, then profiles laid over them. */
export interface NodeConfigFile extends Partial<NodeOptions> {
  profiles?: Record<string, Partial<NodeOptions>>;
}

const BUILT_IN: Record<string, Partial<NodeOptions>> = {
  dev: { overlay: 'fullMesh', listen: { host: '127.0.0.1', port: 0 } },
  prod: { overlay: { kind: 'hyparview' } },
};

/**
 * Resolves node options from `source` (a path to a JSON file, or an object) and a profile
 * (`options.profile`, else `FDN_PROFILE`, else none), with `overrides` last. Throws
 * FDN_ERR_BAD_CONFIG with the reason when the result is not a valid node configuration.
 */
export function loadNodeConfig(source: string | NodeConfigFile, options: { profile?: string; overrides?: Partial<NodeOptions> } = {}): NodeOptions {
  let file: NodeConfigFile;
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `cannot read the node configuration ${source}: ${(err as Error).message}`, { cause: err });
    }
    try {
      file = JSON.parse(text) as NodeConfigFile;
    } catch (err) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `${source} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  } else {
    file = source;
  }
  if (typeof file !== 'object' || (file as unknown) === null || Array.isArray(file)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'a node configuration is an object');
  const { profiles = {}, ...shared } = file;
  const profile = options.profile ?? process.env.FDN_PROFILE;
  let layer: Partial<NodeOptions> = {};
  if (profile !== undefined && profile !== '') {
    const chosen = profiles[profile] ?? BUILT_IN[profile];
    if (chosen === undefined) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown profile '${profile}' (this configuration has: ${[...new Set([...Object.keys(profiles), ...Object.keys(BUILT_IN)])].join(', ')})`);
    }
    // A file's profile of a built-in name refines the built-in one.
    layer = { ...(BUILT_IN[profile] ?? {}), ...chosen };
  }
  const merged = { ...shared, ...layer, ...(options.overrides ?? {}) } as Partial<NodeOptions>;
  if (merged.name === undefined) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'the node configuration has no name');
  if (merged.secret === undefined) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'the node configuration has no secret (set it, or pass it in overrides from the environment)');
  const overlay = merged.overlay;
  const kind = typeof overlay === 'string' ? overlay : overlay?.kind;
  if (kind === 'hyparview' && (merged.seeds ?? []).length === 0 && profile === 'prod') {
    throw new DistributionError(DistributionErrorCode.BAD_CONFIG, "profile 'prod' (HyParView) needs seeds: the addresses of a few nodes to join through");
  }
  return merged as NodeOptions;
}
