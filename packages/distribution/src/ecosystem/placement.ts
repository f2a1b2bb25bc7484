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

/**
 * During a rolling upgrade: the candidates running the newest application version any of them
 * says it runs (nodes that say none count as older). All of them when none says, or all say the same.
 */
export function newestVersion(candidates: readonly string[], versionOf: (node: string) => string | undefined): string[] {
  let newest: string | undefined;
  for (const n of candidates) {
    const v = versionOf(n);
    if (v !== undefined && (newest === undefined || compareVersions(v, newest) > 0)) newest = v;
  }
  if (newest === undefined) return [...candidates];
  return candidates.filter((n) => {
    const v = versionOf(n);
    return v !== undefined && compareVersions(v, newest) === 0;
  });
}

/** Compares versions number by number (`1.10.0` > `1.9.2`; `2.0.0-rc.1` < `2.0.0`); text parts compare as text. */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = a.split('-', 2);
  const [coreB = '', preB] = b.split('-', 2);
  const x = coreA.split('.');
  const y = coreB.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? '0';
    const q = y[i] ?? '0';
    const d = /^\d+$/.test(p) && /^\d+$/.test(q) ? Number(p) - Number(q) : p.localeCompare(q);
    if (d !== 0) return Math.sign(d);
  }
  // A pre-release is older than its release.
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1;
  return Math.sign(preA.localeCompare(preB, undefined, { numeric: true }));
}
