// Where an ecosystem's next worker goes. Pure choices over the candidate nodes and what the node
// knows of them (their reported load, the round-trip time of their connection), so they are tested
// without a cluster.

import type { Random } from '@fdn/core';
import type { NodeLoad } from '../load/load-reports.ts';

export type { NodeLoad };

/** How an ecosystem chooses the node of its next worker. */
export type Placement = 'roundRobin' | 'leastLoaded' | 'random' | 'topologyAware';

/** What a placement chooses from: the candidates, what is placed already, load and distance. */
export interface PlacementInput {
  candidates: readonly string[];
  /** Workers of this ecosystem already on each node (placed or being placed). */
  placed: ReadonlyMap<string, number>;
  load(node: string): NodeLoad | undefined;
  /** Round-trip time to a node (0 for this node, undefined if unknown). */
  rttMs(node: string): number | undefined;
  random: Random;
  /** Round-robin position, advanced by the caller. */
  turn: number;
}

/** The node for the next worker, or undefined when there is no candidate. */
export function place(strategy: Placement, input: PlacementInput): string | undefined {
  const nodes = input.candidates;
  if (nodes.length === 0) return undefined;
  switch (strategy) {
    case 'roundRobin':
      return nodes[input.turn % nodes.length];
    case 'random':
      return input.random.pick(nodes.slice());
    case 'leastLoaded':
      return minBy(nodes, (n) => loadScore(input.load(n)) + (input.placed.get(n) ?? 0));
    case 'topologyAware':
      // Closest first; among equally close (unknown RTTs count as far), the fewest of ours.
      return minBy(nodes, (n) => (input.rttMs(n) ?? 1_000) * 1_000 + (input.placed.get(n) ?? 0));
  }
}

/**
 * One number per node: a worker's worth of load is one unit; event-loop delay past 20 ms and
 * queued messages (per 100) add to it. Unknown load counts as average.
 */
export function loadScore(load: NodeLoad | undefined): number {
  if (load === undefined) return 10;
  return load.processes / 50 + Math.max(0, load.loopDelayMs - 20) / 10 + load.mailboxes / 100;
}

function minBy(nodes: readonly string[], score: (n: string) => number): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const n of nodes) {
    const s = score(n);
    if (s < bestScore) {
      best = n;
      bestScore = s;
    }
  }
  return best;
}
