// Starting a node: its options from the code and the environment, and the features that sit on
// top of it (ecosystems) installed. The node itself imports none of them.

import { optionsFromEnvironment } from './config/environment.ts';
import { ecosystems } from './ecosystem/ecosystem.ts';
import { DistributionError, DistributionErrorCode } from './errors/errors.ts';
import { inspection } from './inspect/inspection.ts';
import { Node } from './node/node.ts';
import type { NodeFeature } from './node/node.ts';
import type { NodeOptions } from './node/options.ts';

/** The features every node started by `startNode` (or a SimCluster) has: inspection first (ecosystems add their op to it). */
export const DEFAULT_FEATURES: readonly NodeFeature<unknown>[] = [inspection, ecosystems];

/** @internal A node with the default features, not started (SimCluster starts its own). */
export function createNode(options: NodeOptions): Node {
  return new Node(options, DEFAULT_FEATURES);
}

/**
 * Starts a node: checks its options, listens, starts joining through its seeds, and resolves once
 * it runs (`await node.joined()` waits until it is connected). What the options leave out is
 * read from the environment: FDN_NAME, FDN_SECRET (or FDN_SECRET_FILE), FDN_LISTEN, FDN_SEEDS.
 * Throws FDN_ERR_BAD_CONFIG (every mistake, by key) or FDN_ERR_LISTEN_FAILED (the port is taken…).
 */
export async function startNode(options: NodeOptions = {}): Promise<Node> {
  if (typeof options !== 'object' || (options as unknown) === null) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'startNode needs an options object');
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as NodeOptions;
  const node = createNode({ ...optionsFromEnvironment(), ...given });
  await node.start();
  return node;
}
