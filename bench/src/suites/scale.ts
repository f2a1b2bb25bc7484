// Suite `scale`: real nodes with real WebSocket connections on 127.0.0.1, many per OS process. 1,024
// nodes (128 with --quick) form one HyParView overlay by joining through three seeds, all at
// once; we measure the time until the overlay is one component, until every node's member
// directory lists every node, and for a Plumtree broadcast to reach every node. Then FullMesh at
// 32, 64 and 128 nodes, to show what a full mesh costs as it grows.

import { Recorder, median } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { spawnPeer } from '../peers/spawn.js';
import type { Peer } from '../peers/spawn.js';

const SECRET = 'scale';
/** How long a cluster may take to converge before it is reported as not converged (--quick: 60 s). */
function limitMs(quick: boolean): number {
  return Number(process.env.FDN_SCALE_LIMIT_MS ?? (quick ? 60_000 : 180_000));
}

interface WorkerState {
  minMembers: number;
  maxMembers: number;
  neighbors: Record<string, string[]>;
  connections: number;
  rssMb: number;
  cpuS: number;
}

interface Worker {
  peer: Peer;
  call<T>(cmd: string, args?: object, timeoutMs?: number): Promise<T>;
}

function rpc(peer: Peer): Worker {
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  peer.child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  return {
    peer,
    call: <T>(cmd: string, args: object = {}, timeoutMs = 60_000) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`scale worker: '${cmd}' got no answer within ${String(timeoutMs)} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        peer.child.send({ id, cmd, ...args });
      }),
  };
}

export interface ClusterFigures {
  nodes: number;
  processes: number;
  connectedS: number;
  convergedS: number;
  broadcastAllMs: number[];
  connectionsPerNode: number;
  rssMbPerNode: number;
  cpuS: number;
}

/** Runs one cluster: start, wait for convergence, time broadcasts, stop. */
export async function cluster(overlay: 'hyparview' | 'fullMesh', nodes: number, processes: number, broadcasts: number, quick = false): Promise<ClusterFigures> {
  const limit = limitMs(quick);
  const per = Math.ceil(nodes / processes);
  const workers: Worker[] = [];
  try {
    for (let p = 0; p < processes; p++) {
      const first = p * per;
      const count = Math.min(per, nodes - first);
      if (count <= 0) break;
      workers.push(rpc(await spawnPeer('scale-worker', { first, count, overlay, secret: SECRET, staggerMs: Number(process.env.FDN_SCALE_STAGGER_MS ?? 2) }, 60_000)));
    }
    const addresses: Record<string, string> = {};
    for (const w of workers) Object.assign(addresses, await w.call<Record<string, string>>('listen', {}, 120_000));
    // One seed per process: the joins of a whole cluster starting at once spread over the cores.
    const seeds = workers.map((_w, p) => addresses[`n${String(p * per)}`] as string);
    const t0 = performance.now();
    await Promise.all(workers.map((w) => w.call('start', { seeds }, 120_000)));
    let connectedS = Number.NaN;
    let convergedS = Number.NaN;
    let last: WorkerState[] = [];
    while (performance.now() - t0 < limit) {
      last = await Promise.all(workers.map((w) => w.call<WorkerState>('state')));
      const elapsed = (performance.now() - t0) / 1000;
      if (Number.isNaN(connectedS) && oneComponent(last, nodes)) connectedS = elapsed;
      if (process.env.FDN_SCALE_TRACE !== undefined) {
        const isolated = last.reduce((sum, st) => sum + Object.values(st.neighbors).filter((ns) => ns.length === 0).length, 0);
        const pt: Record<string, number> = {};
        for (const st of last as (WorkerState & { plumtree?: Record<string, number> })[]) for (const [k, v] of Object.entries(st.plumtree ?? {})) pt[k] = (pt[k] ?? 0) + v;
        console.log(`  ${elapsed.toFixed(1)} s: plumtree ${JSON.stringify(pt)}`);
        const sample = (last as (WorkerState & { isolated?: unknown[] })[]).flatMap((st) => st.isolated ?? []).slice(0, 2);
        const unconnected = (last as (WorkerState & { unconnected?: unknown[] })[]).flatMap((st) => st.unconnected ?? []).slice(0, 4);
        const downs: Record<string, number> = {};
        for (const st of last as (WorkerState & { downs?: Record<string, number> })[]) for (const [k, v] of Object.entries(st.downs ?? {})) downs[k] = (downs[k] ?? 0) + v;
        console.log(`  ${elapsed.toFixed(1)} s: connections ${JSON.stringify(downs)}`);
        if (unconnected.length > 0) console.log(`  ${elapsed.toFixed(1)} s: unconnected e.g. ${JSON.stringify(unconnected)}`);
        console.log(`  per process: isolated ${(last as (WorkerState & { isolatedHere?: number })[]).map((st) => String(st.isolatedHere)).join(' ')}, loop p99 ms ${(last as (WorkerState & { lagP99Ms?: number })[]).map((st) => (st.lagP99Ms ?? 0).toFixed(0)).join(' ')}`);
        if (sample.length > 0) console.log(`  ${elapsed.toFixed(1)} s: isolated e.g. ${JSON.stringify(sample)}`);
        console.log(`  ${elapsed.toFixed(1)} s: isolated ${String(isolated)}, members ${String(Math.min(...last.map((x) => x.minMembers)))}..${String(Math.max(...last.map((x) => x.maxMembers)))}, cpu ${last.reduce((sum, x) => sum + x.cpuS, 0).toFixed(1)} s`);
      }
      const full = last.every((s) => s.minMembers === nodes) && (overlay === 'hyparview' || last.reduce((sum, s) => sum + s.connections, 0) >= nodes * (nodes - 1));
      if (full && !Number.isNaN(connectedS)) {
        convergedS = elapsed;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const broadcastAllMs: number[] = [];
    if (!Number.isNaN(convergedS)) {
      for (let b = 0; b < broadcasts; b++) {
        const node = `n${String(Math.floor(Math.random() * nodes))}`;
        const owner = workers[Math.floor(Number(node.slice(1)) / per)] as Worker;
        const tag = `${overlay}-${String(nodes)}-${String(b)}`;
        const sentAt = await owner.call<number>('broadcast', { node, tag });
        const deadline = performance.now() + 20_000;
        for (;;) {
          const counts = await Promise.all(workers.map((w) => w.call<{ count: number; last: number }>('delivered', { tag })));
          if (counts.reduce((s, c) => s + c.count, 0) === nodes) {
            broadcastAllMs.push(Math.max(...counts.map((c) => c.last)) - sentAt);
            break;
          }
          if (performance.now() > deadline) {
            broadcastAllMs.push(Number.NaN);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    last = await Promise.all(workers.map((w) => w.call<WorkerState>('state')));
    return {
      nodes,
      processes: workers.length,
      connectedS,
      convergedS,
      broadcastAllMs,
      connectionsPerNode: last.reduce((s, x) => s + x.connections, 0) / nodes,
      rssMbPerNode: last.reduce((s, x) => s + x.rssMb, 0) / nodes,
      cpuS: last.reduce((s, x) => s + x.cpuS, 0),
    };
  } finally {
    await Promise.all(workers.map((w) => w.call('stop', {}, 30_000).catch(() => undefined)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all(workers.map((w) => w.peer.stop()));
  }
}

/** One connected component covering every node, every node with a neighbour. */
function oneComponent(states: WorkerState[], nodes: number): boolean {
  const adj = new Map<string, string[]>();
  for (const s of states) for (const [n, ns] of Object.entries(s.neighbors)) adj.set(n, ns);
  if (adj.size !== nodes) return false;
  const seen = new Set<string>(['n0']);
  const stack = ['n0'];
  while (stack.length > 0) {
    const x = stack.pop() as string;
    for (const y of adj.get(x) ?? []) {
      if (seen.has(y)) continue;
      seen.add(y);
      stack.push(y);
    }
  }
  return seen.size === nodes;
}

export async function runScale(options: SuiteOptions): Promise<void> {
  const rec = new Recorder('scale', options, 1);
  const n = options.quick ? 128 : 1_024;
  const processes = options.quick ? 4 : 8;
  const broadcasts = 5;
  rec.notes.push(
    `HyParView (active 5, passive 30) with its member directory and Plumtree; every node its own WebSocket listener on 127.0.0.1; ${String(processes)} OS processes`,
    'all nodes start at once (2 ms apart within a process) and join through the seeds, one per process',
    'connected: the active views form one component; converged: every node lists every node as a member',
    `broadcast: time from the send until the last node delivers, ${String(broadcasts)} broadcasts from random nodes (median)`,
  );
  console.log(`HyParView: ${String(n)} nodes in ${String(processes)} processes`);
  const h = await cluster('hyparview', n, processes, broadcasts, options.quick);
  report(h);
  rec.add('fdn.hyparview_nodes', h.nodes, 'nodes');
  rec.add('fdn.hyparview_connected_s', h.connectedS, 's');
  rec.add('fdn.hyparview_converge_s', h.convergedS, 's');
  rec.add('fdn.hyparview_broadcast_all_ms', median(h.broadcastAllMs), 'ms');
  rec.add('fdn.hyparview_links_per_node', h.connectionsPerNode, '');
  rec.add('fdn.rss_mb_per_node', h.rssMbPerNode, 'MB');
  rec.add('fdn.hyparview_cpu_s', h.cpuS, 's');

  for (const size of options.quick ? [16, 32] : [32, 64, 128]) {
    console.log(`FullMesh: ${String(size)} nodes in ${String(Math.min(processes, size / 8))} processes`);
    const f = await cluster('fullMesh', size, Math.min(processes, size / 8), broadcasts, options.quick);
    report(f);
    rec.add(`fdn.fullmesh_${String(size)}_converge_s`, f.convergedS, 's');
    rec.add(`fdn.fullmesh_${String(size)}_broadcast_all_ms`, median(f.broadcastAllMs), 'ms');
    rec.add(`fdn.fullmesh_${String(size)}_links_per_node`, f.connectionsPerNode, '');
    rec.add(`fdn.fullmesh_${String(size)}_rss_mb_per_node`, f.rssMbPerNode, 'MB');
    rec.add(`fdn.fullmesh_${String(size)}_cpu_s`, f.cpuS, 's');
  }
  console.log(`results: ${rec.write()}`);
}

function report(f: ClusterFigures): void {
  const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
  console.log(
    `  ${String(f.nodes)} nodes: connected ${fmt(f.connectedS)} s, converged ${fmt(f.convergedS)} s, broadcast to all ${f.broadcastAllMs.map((x) => fmt(x, 1)).join(' / ')} ms, ` +
      `${fmt(f.connectionsPerNode, 1)} connections/node, ${fmt(f.rssMbPerNode, 2)} MB RSS/node, ${fmt(f.cpuS, 1)} s CPU`,
  );
}
