// A process hosting many nodes of the `scale` suite: each node is a WebSocket transport with its
// own listener on 127.0.0.1, a peer service (HyParView with its member directory, or FullMesh)
// and Plumtree. Driven by the suite over IPC: open listeners, start the overlays with the seeds,
// report state, broadcast, stop.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { consoleLogger } from '@fdn/core';
import { createWsTransport, FullMesh, fullMesh, HyParView, MessageLog, Plumtree } from '@fdn/topology';
import type { PeerService, WsTransport } from '@fdn/topology';

interface Config {
  first: number;
  count: number;
  overlay: 'hyparview' | 'fullMesh';
  secret: string;
  /** Delay between two nodes' starts in this process (ms). */
  staggerMs: number;
}

interface NodeState {
  name: string;
  transport: WsTransport;
  overlay: PeerService | null;
  plumtree: Plumtree | null;
  /** Broadcast tag → when this node delivered it (epoch ms, high resolution). */
  delivered: Map<string, number>;
}

type Command = { id: number; cmd: 'listen' } | { id: number; cmd: 'start'; seeds: string[] } | { id: number; cmd: 'state' } | { id: number; cmd: 'broadcast'; node: string; tag: string } | { id: number; cmd: 'delivered'; tag: string } | { id: number; cmd: 'stop' };

const config = JSON.parse(process.env.FDN_PEER ?? '{}') as Config;
const logger = consoleLogger({ level: 'error' });
const nodes: NodeState[] = [];
/** Connection events by kind (ups, downs by reason), for FDN_SCALE_TRACE. */
const downs: Record<string, number> = {};
const now = (): number => performance.timeOrigin + performance.now();

function overlayOf(n: NodeState): PeerService {
  if (n.overlay === null) throw new Error(`${n.name} has no overlay yet`);
  return n.overlay;
}

async function listen(): Promise<Record<string, string>> {
  const addresses: Record<string, string> = {};
  for (let i = config.first; i < config.first + config.count; i++) {
    const name = `n${String(i)}`;
    const transport = createWsTransport({ name, secret: config.secret, idleTimeoutMs: 30_000, pingIntervalMs: 2_000 }, { logger });
    await transport.start();
    if (process.env.FDN_SCALE_TRACE !== undefined) {
      transport.on('connectionUp', () => {
        downs.up = (downs.up ?? 0) + 1;
      });
      transport.on('connectionDown', (_c, reason) => {
        const key = `${reason.kind}:${reason.closeCode === undefined ? '' : String(reason.closeCode)}:${reason.message.slice(0, 40)}`;
        downs[key] = (downs[key] ?? 0) + 1;
      });
    }
    nodes.push({ name, transport, overlay: null, plumtree: null, delivered: new Map() });
    addresses[name] = transport.self.addresses[0] as string;
  }
  return addresses;
}

async function start(seeds: string[]): Promise<null> {
  for (const n of nodes) {
    const components = { transport: n.transport, logger };
    const overlay: PeerService =
      config.overlay === 'hyparview' ? new HyParView({ seeds }, components) : fullMesh({ seeds, gossipIntervalMs: 5_000 })(components);
    const exchangeTickMs = process.env.FDN_SCALE_EXCHANGE_MS === undefined ? undefined : Number(process.env.FDN_SCALE_EXCHANGE_MS);
    const plumtree = new Plumtree(exchangeTickMs === undefined ? {} : { exchangeTickMs }, { transport: n.transport, peerService: overlay, logger });
    plumtree.register(
      new MessageLog<string>({
        name: 'bench',
        node: n.name,
        deliver: (tag) => {
          n.delivered.set(tag, now());
        },
      }),
    );
    if (overlay instanceof HyParView && process.env.FDN_SCALE_NO_DIRECTORY === undefined) overlay.useDirectory();
    n.overlay = overlay;
    n.plumtree = plumtree;
    await overlay.start();
    if (config.staggerMs > 0) await new Promise((resolve) => setTimeout(resolve, config.staggerMs));
  }
  return null;
}

const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

function state(): object {
  const lagP99Ms = loopDelay.percentile(99) / 1e6;
  loopDelay.reset();
  const members = nodes.map((n) => overlayOf(n).memberCount());
  return {
    minMembers: Math.min(...members),
    maxMembers: Math.max(...members),
    neighbors: Object.fromEntries(nodes.map((n) => [n.name, overlayOf(n).neighbors()])),
    connections: nodes.reduce((s, n) => s + n.transport.connections().length, 0),
    rssMb: process.memoryUsage().rss / 2 ** 20,
    lagP99Ms,
    isolatedHere: nodes.filter((n) => n.overlay !== null && n.overlay.neighbors().length === 0).length,
    cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    ...(process.env.FDN_SCALE_TRACE === undefined ? {} : traceState()),
    isolated: nodes
      .filter((n) => n.overlay instanceof HyParView && n.overlay.neighbors().length === 0)
      .slice(0, 2)
      .map((n) => ({ name: n.name, ...(n.overlay as HyParView).debugInfo() })),
    plumtree: nodes.reduce<Record<string, number>>((acc, n) => {
      for (const [k, v] of Object.entries<number>({ ...n.plumtree?.stats })) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
}

/** For FDN_SCALE_TRACE only (not computed in measured runs): connection events, and nodes missing a connection to a member they know (FullMesh's convergence). */
function traceState(): object {
  return {
    downs,
    unconnected: nodes
      .filter((n) => n.overlay !== null && !(n.overlay instanceof HyParView))
      .map((n) => ({ name: n.name, dials: n.overlay instanceof FullMesh ? n.overlay.dialStatus() : null, members: overlayOf(n).memberCount(), missing: overlayOf(n).members().filter((m) => m !== n.name && n.transport.connection(m) === undefined) }))
      .filter((x) => x.missing.length > 0)
      .slice(0, 3),
  };
}

function broadcast(node: string, tag: string): number {
  const n = nodes.find((x) => x.name === node);
  if (n?.plumtree === null || n === undefined) throw new Error(`no node ${node} here`);
  const sentAt = now();
  n.plumtree.broadcast('bench', tag);
  return sentAt;
}

function delivered(tag: string): { count: number; last: number } {
  let count = 0;
  let last = 0;
  for (const n of nodes) {
    const at = n.delivered.get(tag);
    if (at === undefined) continue;
    count++;
    if (at > last) last = at;
  }
  return { count, last };
}

async function stop(): Promise<null> {
  await Promise.all(nodes.map(async (n) => {
    n.plumtree?.stop();
    await (n.overlay?.stop() ?? n.transport.stop());
  }));
  return null;
}

async function run(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'listen':
      return listen();
    case 'start':
      return start(c.seeds);
    case 'state':
      return state();
    case 'broadcast':
      return broadcast(c.node, c.tag);
    case 'delivered':
      return delivered(c.tag);
    case 'stop':
      return stop();
  }
}

process.on('message', (c: Command) => {
  run(c).then(
    (result) => {
      process.send?.({ id: c.id, result });
      // Exit on our own after `stop` (so --cpu-prof and friends can write their files).
      if (c.cmd === 'stop') setTimeout(() => process.exit(0), 50);
    },
    (err: unknown) => process.send?.({ id: c.id, error: String(err) }),
  );
});
process.send?.({ ready: true });
