// Properties of an overlay graph, as the HyParView paper reports them: clustering coefficient,
// average shortest path (BFS from sampled sources), in-degree distribution, connected components.

import type { Random } from '@fdn/core';

/** An overlay as adjacency lists: node → the nodes it keeps connections to. */
export type Adjacency = ReadonlyMap<string, readonly string[]>;

export interface GraphProperties {
  nodes: number;
  /** Mean local clustering coefficient (undirected, over nodes of degree ≥ 2). */
  clusteringCoefficient: number;
  /** Mean shortest path length between connected pairs, from `pathSources` BFS roots. */
  averageShortestPath: number;
  /** Longest shortest path seen from the sampled roots. */
  diameterLowerBound: number;
  /** In-degree → number of nodes. */
  inDegree: Record<number, number>;
  /** Sizes of the connected components, largest first (undirected). */
  components: number[];
  /** Connections one side has and the other does not. */
  asymmetricConnections: number;
}

/** Computes the properties of `graph`; edges to nodes outside it are ignored. */
export function graphProperties(graph: Adjacency, random: Random, pathSources = 100): GraphProperties {
  const names = [...graph.keys()];
  const index = new Map<string, number>();
  names.forEach((n, i) => index.set(n, i));
  // Undirected neighbour sets in indices.
  const undirected: Set<number>[] = names.map(() => new Set<number>());
  const inDegreeOf = new Int32Array(names.length);
  let asymmetricConnections = 0;
  names.forEach((name, i) => {
    for (const peer of graph.get(name) ?? []) {
      const j = index.get(peer);
      if (j === undefined || j === i) continue;
      inDegreeOf[j] = (inDegreeOf[j] as number) + 1;
      (undirected[i] as Set<number>).add(j);
      (undirected[j] as Set<number>).add(i);
      if (!(graph.get(peer) ?? []).includes(name)) asymmetricConnections++;
    }
  });
  const inDegree: Record<number, number> = {};
  for (const d of inDegreeOf) inDegree[d] = (inDegree[d] ?? 0) + 1;
  return {
    nodes: names.length,
    clusteringCoefficient: clustering(undirected),
    ...paths(undirected, random, pathSources),
    inDegree,
    components: components(undirected),
    asymmetricConnections,
  };
}

function clustering(adj: Set<number>[]): number {
  let sum = 0;
  let counted = 0;
  for (const neighbours of adj) {
    const k = neighbours.size;
    if (k < 2) continue;
    const list = [...neighbours];
    let connections = 0;
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) if ((adj[list[a] as number] as Set<number>).has(list[b] as number)) connections++;
    sum += (2 * connections) / (k * (k - 1));
    counted++;
  }
  return counted === 0 ? 0 : sum / counted;
}

function paths(adj: Set<number>[], random: Random, sources: number): { averageShortestPath: number; diameterLowerBound: number } {
  const n = adj.length;
  const roots = random.sample(
    adj.map((_, i) => i),
    sources,
  );
  const dist = new Int32Array(n);
  const queue = new Int32Array(n);
  let total = 0;
  let pairs = 0;
  let longest = 0;
  for (const root of roots) {
    dist.fill(-1);
    dist[root] = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = root;
    while (head < tail) {
      const x = queue[head++] as number;
      const d = (dist[x] as number) + 1;
      for (const y of adj[x] as Set<number>) {
        if (dist[y] !== -1) continue;
        dist[y] = d;
        total += d;
        pairs++;
        if (d > longest) longest = d;
        queue[tail++] = y;
      }
    }
  }
  return { averageShortestPath: pairs === 0 ? 0 : total / pairs, diameterLowerBound: longest };
}

function components(adj: Set<number>[]): number[] {
  const seen = new Uint8Array(adj.length);
  const sizes: number[] = [];
  const stack: number[] = [];
  for (let start = 0; start < adj.length; start++) {
    if (seen[start] === 1) continue;
    seen[start] = 1;
    stack.push(start);
    let size = 0;
    while (stack.length > 0) {
      const x = stack.pop() as number;
      size++;
      for (const y of adj[x] as Set<number>) {
        if (seen[y] === 1) continue;
        seen[y] = 1;
        stack.push(y);
      }
    }
    sizes.push(size);
  }
  return sizes.sort((a, b) => b - a);
}
