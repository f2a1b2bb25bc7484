// Who the observer asks: the inspectors of the cluster, through a node of it. Either the node
// serving the page (its own inspector relays to the others) or a hidden node attached by `fdn observe`.

import { inspect } from '@fdn/distribution';
import type { Node, NodeSummary } from '@fdn/distribution';

/** Asks the cluster's inspectors (see `inspect` in @fdn/distribution). */
export interface InspectClient {
  /** The node the questions go through. */
  readonly contact: string;
  /** Asks `target`'s inspector (default the contact) for `op`. */
  ask<T>(op: string, args?: Record<string, unknown>, target?: string): Promise<T>;
  /** The contact and every node it is connected to, sorted. */
  nodes(): Promise<string[]>;
}

/** The cluster as `node` sees it, asked through its own inspector. */
export function localClient(node: Node, timeoutMs = 10_000): InspectClient {
  const ask = <T>(op: string, args: Record<string, unknown> = {}, target?: string): Promise<T> => inspect<T>(node, node.name, op, args, { target: target ?? node.name, timeoutMs });
  return {
    contact: node.name,
    ask,
    nodes: async () => [node.name, ...(await ask<NodeSummary>('node')).nodes].sort(),
  };
}
