import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../src/index.ts';
import type { Connection, SimTransport } from '../src/index.ts';

const SECRET = 'sim';

async function drive<T>(net: SimNetwork, promise: Promise<T>, limitMs = 60_000): Promise<T> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  for (let t = 0; t < limitMs && outcome === undefined; t++) await net.clock.advance(1);
  if (outcome === undefined) throw new Error('did not settle');
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

async function pair(net: SimNetwork, a: string, b: string): Promise<{ x: SimTransport; y: SimTransport; connection: Connection; got: string[] }> {
  const x = net.transport({ name: a, secret: SECRET });
  const y = net.transport({ name: b, secret: SECRET });
  const got: string[] = [];
  y.onMessage('default', (_l, p) => got.push(p.toString()));
  await x.start();
  await y.start();
  const connection = await drive(net, x.connect(`sim://${b}`));
  return { x, y, connection, got };
}

/** A run of the simulator that records every delivery with its virtual time. */
async function trace(seed: number): Promise<string[]> {
  const net = new SimNetwork({ seed, latencyMs: 5, jitterMs: 10, lossRate: 0.2 });
  const events: string[] = [];
  const nodes = ['a', 'b', 'c'].map((name) => net.transport({ name, secret: SECRET }));
  for (const n of nodes) {
    n.onMessage('default', (connection, p) => events.push(`${net.clock.now().toFixed(3)} ${connection.peer.name}->${n.self.name} ${p.toString()}`));
    await n.start();
  }
  const a = nodes[0] as SimTransport;
  const ab = await drive(net, a.connect('sim://b'));
  const ac = await drive(net, a.connect('sim://c'));
  for (let i = 0; i < 50; i++) {
    ab.send('default', Buffer.from(`m${i}`));
    ac.send('default', Buffer.from(`m${i}`));
  }
  await net.clock.advance(500);
  return events;
}

describe('simulated network', () => {
  it('replays exactly from its seed (latency jitter and loss included), and differs with another seed', async () => {
    const first = await trace(7);
    const again = await trace(7);
    const other = await trace(8);
    expect(first.length).toBeGreaterThan(50);
    expect(first.length).toBeLessThan(100);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('delivers after the configured latency, in order per connection despite jitter', async () => {
    const net = new SimNetwork({ seed: 1, latencyMs: 20, jitterMs: 30 });
    const { connection, got } = await pair(net, 'a', 'b');
    const sentAt = net.clock.now();
    for (let i = 0; i < 100; i++) connection.send('default', Buffer.from(`${i}`));
    await net.clock.advance(19);
    expect(got).toEqual([]);
    await net.clock.advance(200);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `${i}`));
    expect(net.clock.now() - sentAt).toBeGreaterThanOrEqual(20);
    expect(connection.rttMs).toBeGreaterThanOrEqual(40);
  });

  it('what the accepting side sends as soon as its connection is up reaches the dialler after its own connectionUp (as on a socket)', async () => {
    const net = new SimNetwork({ seed: 4, latencyMs: 3 });
    const x = net.transport({ name: 'x', secret: SECRET });
    const y = net.transport({ name: 'y', secret: SECRET });
    const seen: string[] = [];
    x.on('connectionUp', () => seen.push('x connectionUp'));
    x.onMessage('default', (_l, p) => seen.push(`x got ${p.toString()}`));
    y.on('connectionUp', (connection) => connection.send('default', Buffer.from('hello at once')));
    await x.start();
    await y.start();
    await drive(net, x.connect('sim://y'));
    await drive(net, net.clock.advance(10));
    expect(seen).toEqual(['x connectionUp', 'x got hello at once']);
  });

  it('loses messages at the configured rate on a lossy pair', async () => {
    const net = new SimNetwork({ seed: 3 });
    const { connection, got } = await pair(net, 'a', 'b');
    net.setConnection('a', 'b', { lossRate: 0.5 });
    for (let i = 0; i < 2_000; i++) connection.send('default', Buffer.from('x'));
    await net.clock.advance(10);
    expect(got.length).toBeGreaterThan(850);
    expect(got.length).toBeLessThan(1_150);
    expect(net.stats.lost).toBe(2_000 - got.length);
  });

  it('a partition takes connections across it down after the detection delay; dials across it time out; healing lets them reconnect', async () => {
    const net = new SimNetwork({ seed: 4, partitionDetectMs: 500 });
    const { x, y, connection } = await pair(net, 'a', 'b');
    const downs: string[] = [];
    x.on('connectionDown', (_l, r) => downs.push(`a:${r.kind}`));
    y.on('connectionDown', (_l, r) => downs.push(`b:${r.kind}`));
    net.partition(['a'], ['b']);
    expect(net.reachable('a', 'b')).toBe(false);
    await net.clock.advance(499);
    expect(connection.up).toBe(true);
    await net.clock.advance(2);
    expect(downs.sort()).toEqual(['a:idle_timeout', 'b:idle_timeout']);
    await expect(drive(net, x.connect('sim://b'))).rejects.toMatchObject({ closeCode: 4004 });
    net.heal();
    const again = await drive(net, x.connect('sim://b'));
    expect(again.up).toBe(true);
  });

  it('a crashed node is seen as lost after one latency, and its pids never come back: a restart has a new incarnation', async () => {
    const net = new SimNetwork({ seed: 5, latencyMs: 10 });
    const { x, y } = await pair(net, 'a', 'b');
    const downs: string[] = [];
    x.on('connectionDown', (_l, r) => downs.push(r.kind));
    net.crash('b');
    await net.clock.advance(9);
    expect(downs).toEqual([]);
    await net.clock.advance(1);
    expect(downs).toEqual(['lost']);
    const b2 = net.transport({ name: 'b', secret: SECRET });
    await b2.start();
    expect(b2.self.incarnation).not.toBe(y.self.incarnation);
    const connection = await drive(net, x.connect('sim://b'));
    expect(connection.peer.incarnation).toBe(b2.self.incarnation);
  });

  it('keeps per-connection cost small: 2,000 nodes in a ring exchange 10,000 messages', async () => {
    const net = new SimNetwork({ seed: 6 });
    const n = 2_000;
    const nodes = Array.from({ length: n }, (_, i) => net.transport({ name: `n${i}`, secret: SECRET }));
    let received = 0;
    for (const node of nodes) {
      node.onMessage('default', () => received++);
      await node.start();
    }
    const connections = await drive(net, Promise.all(nodes.map((node, i) => node.connect(`sim://n${(i + 1) % n}`))));
    for (let round = 0; round < 5; round++) for (const connection of connections) connection.send('default', Buffer.from('r'));
    await net.clock.advance(10);
    expect(received).toBe(5 * n);
    expect(net.nodes()).toHaveLength(n);
  });
});
