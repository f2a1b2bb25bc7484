// Plumtree on the simulator, over Static overlays (hand-made topologies) and HyParView: trees,
// pruning, grafts after a delay, the tree optimisation, anti-entropy, debug views, bad input.

import { describe, expect, it } from 'vitest';
import { memoryLogger } from '@fdn/core';
import { Messenger, Tag } from '../src/messenger/messenger.ts';
import { CONTROL, MessageLog, Plumtree, runInSteps, SimNetwork, StaticPeerService, TopologyErrorCode } from '../src/index.ts';
import type { BroadcastHandler, DeliveryInfo, Connection, PlumtreeOptions, SimTransport } from '../src/index.ts';

interface TestNode {
  name: string;
  transport: SimTransport;
  overlay: StaticPeerService;
  plumtree: Plumtree;
  delivered: { text: string; info: DeliveryInfo }[];
}

/** Nodes on a simulated network, connected along `edges` (a Static overlay each), with Plumtree. */
async function topology(names: string[], edges: [string, string][], options: PlumtreeOptions = {}, latency: Record<string, number> = {}) {
  const net = new SimNetwork({ seed: 7, latencyMs: 1 });
  for (const [pair, ms] of Object.entries(latency)) {
    const [a, b] = pair.split('-') as [string, string];
    net.setConnection(a, b, { latencyMs: ms });
  }
  const logger = memoryLogger();
  const nodes = new Map<string, TestNode>();
  for (const name of names) {
    const transport = net.transport({ name, secret: 's' });
    const peers = edges.filter((e) => e.includes(name)).map((e) => (e[0] === name ? e[1] : e[0]));
    const overlay = new StaticPeerService({ members: peers.map((p) => ({ name: p, addresses: [`sim://${p}`] })) }, { transport, clock: net.clock, random: net.random.fork(), logger });
    const plumtree = new Plumtree({ exchangeTickMs: 0, ...options }, { transport, peerService: overlay, clock: net.clock, random: net.random.fork(), logger });
    const node: TestNode = { name, transport, overlay, plumtree, delivered: [] };
    plumtree.register(new MessageLog<string>({ name: 'log', node: name, deliver: (text, info) => node.delivered.push({ text, info }) }));
    nodes.set(name, node);
  }
  for (const n of nodes.values()) await n.overlay.start();
  const run = (ms: number) => runInSteps(net.clock, ms);
  await run(200);
  const get = (name: string) => nodes.get(name) as TestNode;
  return { net, nodes, get, run, logger };
}

const stats = (nodes: Map<string, TestNode>) => {
  let gossip = 0;
  let duplicates = 0;
  for (const n of nodes.values()) {
    gossip += n.plumtree.stats.gossipReceived;
    duplicates += n.plumtree.stats.duplicates;
  }
  return { gossip, duplicates };
};

describe('Plumtree', () => {
  it('floods the first broadcast of a root, then prunes to a spanning tree: no duplicate payloads', async () => {
    // A ring of 6 with two chords: cycles, so the first flood makes duplicates.
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const edges: [string, string][] = [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'a'], ['a', 'd'], ['b', 'e']];
    const { nodes, get, run } = await topology(names, edges);
    get('a').plumtree.broadcast('log', 'first');
    await run(500);
    const first = stats(nodes);
    expect(first.duplicates).toBeGreaterThan(0);
    for (const n of nodes.values()) expect(n.delivered.map((d) => d.text)).toEqual(['first']);
    get('a').plumtree.broadcast('log', 'second');
    await run(500);
    const second = stats(nodes);
    // n − 1 payloads, no duplicate: the eager connections are a spanning tree.
    expect(second.gossip - first.gossip).toBe(names.length - 1);
    expect(second.duplicates).toBe(first.duplicates);
    for (const n of nodes.values()) expect(n.delivered.map((d) => d.text)).toEqual(['first', 'second']);
    // Eager edges (as seen from both ends) number n − 1.
    const tree = await get('a').plumtree.tree('a', ['a']);
    expect(tree.a?.eager.length).toBeGreaterThan(0);
    let eager = 0;
    for (const n of nodes.values()) eager += n.plumtree.peers('a').eager.length;
    expect(eager).toBe(2 * (names.length - 1));
  });

  it('a lost payload is grafted from an announcer after the graft delay', async () => {
    const names = ['a', 'b', 'c', 'd'];
    const edges: [string, string][] = [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'a'], ['a', 'c']];
    const { net, nodes, get, run } = await topology(names, edges, { lazyTickMs: 20, graftTimeoutMs: 50, graftRetryMs: 50 });
    get('a').plumtree.broadcast('log', 'warm-up');
    await run(500);
    // Cut the tree connections into c (payloads are lost; connections stay up): c must graft.
    const parentsOfC = get('c').plumtree.peers('a').eager;
    for (const p of parentsOfC) net.setConnection('c', p, { lossRate: 1 });
    get('a').plumtree.broadcast('log', 'lost on the tree');
    await run(100);
    for (const p of parentsOfC) net.setConnection('c', p, { lossRate: 0 });
    await run(2_000);
    expect(get('c').delivered.map((d) => d.text)).toContain('lost on the tree');
    expect(get('c').plumtree.stats.grafts).toBeGreaterThan(0);
    for (const n of nodes.values()) expect(n.delivered.filter((d) => d.text === 'lost on the tree')).toHaveLength(1);
  });

  it('the optimisation moves a node onto a path much shorter than the one its payload took', async () => {
    // r–a–b–c–d is fast; r–d is slow. d first hears r's messages 4 hops down the chain.
    const names = ['r', 'a', 'b', 'c', 'd'];
    const edges: [string, string][] = [['r', 'a'], ['a', 'b'], ['b', 'c'], ['c', 'd'], ['r', 'd']];
    const { get, run } = await topology(names, edges, { lazyTickMs: 5, graftTimeoutMs: 500, optimizationThreshold: 3 }, { 'r-d': 30 });
    get('r').plumtree.broadcast('log', 'm1');
    await run(300);
    expect(get('d').delivered[0]?.info).toMatchObject({ from: 'c', round: 3 });
    get('r').plumtree.broadcast('log', 'm2');
    await run(300);
    get('r').plumtree.broadcast('log', 'm3');
    await run(300);
    // The announcement from r (round 0) beat the payload's round 3 by ≥ 3: d grafted r, pruned c.
    expect(get('d').delivered[2]?.info).toMatchObject({ from: 'r', round: 0 });
    expect(get('d').plumtree.peers('r').eager).toContain('r');
    expect(get('d').plumtree.peers('r').lazy).toContain('c');
  });

  it('batches IHAVEs per lazy tick and skips announcing what a neighbour showed it has', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const edges: [string, string][] = [];
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) edges.push([names[i] as string, names[j] as string]);
    const { nodes, get, run } = await topology(names, edges, { lazyTickMs: 200 });
    get('a').plumtree.broadcast('log', 'warm-up');
    await run(500);
    let before = 0;
    for (const n of nodes.values()) before += n.plumtree.stats.ihaveMessages;
    for (let i = 0; i < 20; i++) get('a').plumtree.broadcast('log', `burst ${String(i)}`);
    await run(1_000);
    let ihaves = 0;
    let entries = 0;
    for (const n of nodes.values()) {
      ihaves += n.plumtree.stats.ihaveMessages;
      entries += n.plumtree.stats.ihaveEntries;
    }
    // 20 broadcasts, 5 nodes: far fewer IHAVE messages than one per lazy connection per broadcast.
    expect(ihaves - before).toBeLessThanOrEqual(2 * 6);
    expect(entries).toBeGreaterThan(ihaves);
    for (const n of nodes.values()) expect(n.delivered).toHaveLength(21);
  });

  it('anti-entropy: a node cut off during broadcasts catches up by exchange after the cut heals', async () => {
    const names = ['a', 'b', 'c'];
    const edges: [string, string][] = [['a', 'b'], ['b', 'c'], ['a', 'c']];
    const { net, get, run } = await topology(names, edges, { exchangeTickMs: 200, graftTimeoutMs: 5_000 });
    for (const p of ['a', 'b']) net.setConnection('c', p, { lossRate: 1 });
    for (let i = 0; i < 5; i++) get('a').plumtree.broadcast('log', `while cut ${String(i)}`);
    await run(300);
    expect(get('c').delivered).toHaveLength(0);
    for (const p of ['a', 'b']) net.setConnection('c', p, { lossRate: 0 });
    await run(2_000);
    expect(get('c').delivered.map((d) => d.text).sort()).toEqual(Array.from({ length: 5 }, (_, i) => `while cut ${String(i)}`));
    expect(get('c').plumtree.stats.exchanges + get('a').plumtree.stats.exchanges + get('b').plumtree.stats.exchanges).toBeGreaterThan(0);
  });

  it('debug views: members, peers and tree of a root; exchanges listed and cancelled', async () => {
    const names = ['a', 'b', 'c'];
    const edges: [string, string][] = [['a', 'b'], ['b', 'c']];
    const { get, run } = await topology(names, edges);
    expect(get('b').plumtree.members()).toEqual(['a', 'c']);
    get('a').plumtree.broadcast('log', 'x');
    await run(200);
    let treeOf: Record<string, { eager: string[]; lazy: string[] } | null> = {};
    void get('a')
      .plumtree.tree('a', ['a', 'b', 'c'])
      .then((t) => (treeOf = t));
    await run(200);
    expect(treeOf.a).toEqual({ eager: ['b'], lazy: [] });
    expect(treeOf.b).toEqual({ eager: ['a', 'c'], lazy: [] });
    // c has no connection to a: no answer for it.
    expect(treeOf.c).toBeNull();
    // A custom exchange that never finishes shows up and can be cancelled.
    const slow: BroadcastHandler = {
      name: 'slow',
      broadcastData: (m) => ({ id: String(m), payload: m }),
      merge: () => true,
      isStale: () => false,
      graft: () => 'stale',
      exchange: () => new Promise(() => undefined),
    };
    get('b').plumtree.register(slow);
    get('b').plumtree.exchangeNow('a');
    expect(get('b').plumtree.exchanges()).toMatchObject([{ handler: 'slow', peer: 'a' }]);
    expect(get('b').plumtree.cancelExchanges({ peer: 'c' })).toBe(0);
    expect(get('b').plumtree.cancelExchanges({ handler: 'slow' })).toBe(1);
    expect(get('b').plumtree.exchanges()).toEqual([]);
  });

  it('rejects bad registrations and broadcasts with stable codes; survives malformed messages', async () => {
    const { get, run, logger } = await topology(['a', 'b'], [['a', 'b']]);
    const a = get('a');
    expect(() => {
      a.plumtree.register(new MessageLog({ name: 'log', node: 'a' }));
    }).toThrow(expect.objectContaining({ code: TopologyErrorCode.BAD_CONFIG }) as Error);
    expect(() => {
      a.plumtree.register(new MessageLog({ name: 'other', node: 'a', channel: 'nope' }));
    }).toThrow(expect.objectContaining({ code: TopologyErrorCode.UNKNOWN_CHANNEL }) as Error);
    expect(() => a.plumtree.broadcast('unknown', 'x')).toThrow(expect.objectContaining({ code: TopologyErrorCode.BAD_CONFIG }) as Error);
    // Garbage from b: every kind of malformed Plumtree message.
    const b = get('b');
    const messenger = Messenger.of(b.transport, CONTROL, logger);
    const toA = b.transport.connection('a') as Connection;
    for (const garbage of [null, 7, 'x', { t: 'g' }, { t: 'g', h: 'log', id: 5 }, { t: 'i', h: 'log', e: [1, 2] }, { t: 'i', h: 'log', e: 'no' }, { t: 'f', h: 'log' }, { t: 'd', h: 'log', ids: [1, null] }, { t: 'qr', q: 1 }, { t: 'zz' }]) {
      messenger.send(toA, Tag.PLUMTREE, garbage);
    }
    await run(100);
    b.plumtree.broadcast('log', 'still fine');
    await run(100);
    expect(a.delivered.map((d) => d.text)).toEqual(['still fine']);
  });
});
