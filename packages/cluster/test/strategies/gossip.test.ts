// UDP gossip on one host: broadcast binds the loopback broadcast address and sends to
// 127.255.255.255; multicast binds the group with 127.0.0.1 as its interface and a TTL of 0. Either
// way nothing leaves the host.

import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterErrorCode, gossip } from '../../src/index.ts';
import type { GossipCounters, GossipOptions, Strategy } from '../../src/index.ts';
import { encodeAnnouncement, secretMac } from '../../src/strategies/gossip/announcement.ts';
import { components, SELF, strategyCompliance } from '../support/compliance.ts';
import { sleep, waitFor } from '../support/wait.ts';

const SECRET = 'compliance-secret';
const freePort = (): number => 40_000 + Math.floor(Math.random() * 9_000);
const onLoopback = (port: number): GossipOptions => ({ port, ifAddr: '127.255.255.255', broadcastOnly: true, broadcastAddr: '127.255.255.255', intervalMs: 50 });
const countersOf = (s: Strategy): GossipCounters => (s as unknown as { counters: GossipCounters }).counters;

/** Other nodes announcing themselves: one gossip strategy each. */
function announcers(port: number, secret = SECRET) {
  const running = new Map<string, Strategy>();
  return {
    async set(addresses: readonly string[]): Promise<void> {
      for (const [address, s] of running) {
        if (addresses.includes(address)) continue;
        running.delete(address);
        await s.stop();
      }
      for (const address of addresses) {
        if (running.has(address)) continue;
        const name = address === SELF.addresses[0] ? SELF.name : `n${new URL(address).port}@127.0.0.1`;
        const s = gossip({ ...onLoopback(port), secret })(components({ self: { name, addresses: [address] } }));
        running.set(address, s);
        await s.start();
      }
    },
    async close(): Promise<void> {
      await this.set([]);
    },
  };
}

strategyCompliance('gossip', async () => {
  const port = freePort();
  const others = announcers(port);
  const initial = ['ws://127.0.0.1:4001', 'ws://127.0.0.1:4002'];
  await others.set([...initial, SELF.addresses[0] as string]);
  return {
    initial,
    setPeers: (addresses) => others.set(addresses),
    create: (c) => gossip(onLoopback(port))(c),
    close: () => others.close(),
  };
});

describe('gossip', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  /** A plain UDP socket that broadcasts on loopback, as a stranger (or a recorder replaying) would. */
  const raw = async (): Promise<{ send(datagram: Buffer, port: number): void }> => {
    const socket = createSocket('udp4');
    cleanup.push(() => new Promise((r) => socket.close(() => { r(); })));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    socket.setBroadcast(true);
    return { send: (datagram, port) => { socket.send(datagram, port, '127.255.255.255'); } };
  };
  const listen = async (options: GossipOptions, name = SELF.name): Promise<Strategy> => {
    const s = gossip(options)(components({ self: { name, addresses: [`ws://127.0.0.1:${String(4000 + Math.floor(Math.random() * 900))}`] } }));
    cleanup.push(() => s.stop());
    await s.start();
    return s;
  };

  it('ignores announcements signed with another secret (another cluster), and garbage', async () => {
    const port = freePort();
    const s = await listen(onLoopback(port));
    const strangers = announcers(port, 'another-clusters-secret');
    cleanup.push(() => strangers.close());
    await strangers.set(['ws://127.0.0.1:4003']);
    const stranger = await raw();
    stranger.send(Buffer.from('hello, anyone?'), port);
    stranger.send(Buffer.alloc(9_000, 7), port);
    await waitFor('refusals', () => countersOf(s).refused.bad_mac >= 2 && countersOf(s).refused.not_fdn >= 1);
    expect(s.peers()).toEqual([]);
  });

  it('refuses a replayed announcement and one too old, accepts a fresh one', async () => {
    const port = freePort();
    const s = await listen({ ...onLoopback(port), replayWindowMs: 5_000 });
    const recorder = await raw();
    const fresh = encodeAnnouncement({ name: 'a@127.0.0.1', addresses: ['ws://127.0.0.1:4010'], time: Date.now(), leaving: false }, secretMac(SECRET));
    recorder.send(fresh, port);
    await waitFor('the fresh one', () => s.peers().length === 1);
    recorder.send(fresh, port);
    const old = encodeAnnouncement({ name: 'b@127.0.0.1', addresses: ['ws://127.0.0.1:4011'], time: Date.now() - 60_000, leaving: false }, secretMac(SECRET));
    recorder.send(old, port);
    await waitFor('two refused as replays', () => countersOf(s).refused.replayed === 2);
    expect(s.peers()).toEqual([{ name: 'a@127.0.0.1', address: 'ws://127.0.0.1:4010' }]);
  });

  it('forgets a node that stops announcing after the time to live, and one that says goodbye at once', async () => {
    const port = freePort();
    const s = await listen({ ...onLoopback(port), peerTtlMs: 400 });
    const once = await raw();
    once.send(encodeAnnouncement({ name: 'silent@127.0.0.1', addresses: ['ws://127.0.0.1:4020'], time: Date.now(), leaving: false }, secretMac(SECRET)), port);
    const others = announcers(port);
    await others.set(['ws://127.0.0.1:4021']);
    await waitFor('both', () => s.peers().length === 2);
    await waitFor('the silent one forgotten', () => s.peers().length === 1 && s.peers()[0]?.address === 'ws://127.0.0.1:4021', 3_000);
    const before = Date.now();
    await others.set([]);
    await waitFor('the one that left forgotten', () => s.peers().length === 0, 3_000);
    expect(Date.now() - before).toBeLessThan(300);
  });

  it('a socket it cannot bind is an error event, not a crash; the node runs alone', async () => {
    const s = gossip({ port: freePort(), ifAddr: '192.0.2.1', broadcastOnly: true })(components());
    const errors: { code: string; message: string }[] = [];
    s.on('error', (e) => errors.push(e));
    cleanup.push(() => s.stop());
    await s.start();
    expect(errors[0]?.code).toBe(ClusterErrorCode.DISCOVERY_FAILED);
    expect(errors[0]?.message).toMatch(/cannot use UDP port/);
    await sleep(50);
    expect(s.peers()).toEqual([]);
  });

  it('multicast (the default mode): nodes find each other through the group (interface 127.0.0.1, TTL 0: nothing leaves the host)', async () => {
    const port = freePort();
    const onHost: GossipOptions = { port, ifAddr: '233.252.1.32', multicastInterface: '127.0.0.1', multicastTtl: 0, intervalMs: 50 };
    const s = await listen(onHost);
    const other = gossip(onHost)(components({ self: { name: 'm@127.0.0.1', addresses: ['ws://127.0.0.1:4030'] } }));
    cleanup.push(() => other.stop());
    await other.start();
    await waitFor('the other node, by multicast', () => s.peers().length === 1 && other.peers().length === 1);
    expect(s.peers()).toEqual([{ name: 'm@127.0.0.1', address: 'ws://127.0.0.1:4030' }]);
  });

  it('needs a secret', () => {
    expect(() => gossip({})(components({ mac: undefined }))).toThrow(expect.objectContaining({ code: ClusterErrorCode.BAD_CONFIG }));
  });
});
