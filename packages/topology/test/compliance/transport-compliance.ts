// The Transport compliance suite: every implementation runs these same tests.

import { describe, expect, it } from 'vitest';
import type { ChannelOptions, Connection, ConnectionDownReason, Transport } from '../../src/index.ts';
import { TopologyErrorCode } from '../../src/index.ts';

/** What a test needs from the world a transport lives in (real sockets, or a simulator). */
export interface World {
  node(name: string, options?: { secret?: string; channels?: Record<string, ChannelOptions> }): Transport;
  /** Lets `ms` of (real or virtual) time pass. */
  pass(ms: number): Promise<void>;
  /** Awaits `promise`, letting time pass meanwhile (a simulator must advance its clock). */
  drive<T>(promise: Promise<T>): Promise<T>;
  /** Crashes a node (no goodbye to its peers). */
  crash(t: Transport): Promise<void>;
  cleanup(): Promise<void>;
}

/** Waits until `predicate` holds, letting time pass in steps; fails after `limitMs`. */
export async function until(world: World, predicate: () => boolean, limitMs = 5_000, stepMs = 10): Promise<void> {
  for (let waited = 0; waited <= limitMs; waited += stepMs) {
    if (predicate()) return;
    await world.pass(stepMs);
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

function address(t: Transport): string {
  const a = t.self.addresses[0];
  if (a === undefined) throw new Error(`${t.self.name} has no address`);
  return a;
}

/** Starts a transport and returns it with its received messages and connection events recorded. */
async function started(world: World, name: string, options?: { secret?: string; channels?: Record<string, ChannelOptions> }) {
  const t = world.node(name, options);
  const received: { from: string; channel: string; text: string }[] = [];
  const ups: string[] = [];
  const downs: { peer: string; reason: ConnectionDownReason }[] = [];
  for (const channel of t.channels.keys()) {
    t.onMessage(channel, (connection, payload) => received.push({ from: connection.peer.name, channel, text: payload.toString() }));
  }
  t.on('connectionUp', (connection) => ups.push(connection.peer.name));
  t.on('connectionDown', (connection, reason) => downs.push({ peer: connection.peer.name, reason }));
  await t.start();
  return { t, received, ups, downs };
}

export function transportCompliance(label: string, makeWorld: () => World): void {
  describe(`Transport compliance: ${label}`, () => {
    const withWorld = (fn: (world: World) => Promise<void>) => async () => {
      const world = makeWorld();
      try {
        await fn(world);
      } finally {
        await world.cleanup();
      }
    };

    it(
      'connects and reports the connection up on both sides, with the peer identities',
      withWorld(async (world) => {
        const a = await started(world, 'a');
        const b = await started(world, 'b');
        const connection = await world.drive(a.t.connect(address(b.t)));
        expect(connection.up).toBe(true);
        expect(connection.peer.name).toBe('b');
        expect(connection.peer.incarnation).toBe(b.t.self.incarnation);
        await until(world, () => b.ups.includes('a'));
        expect(a.ups).toEqual(['b']);
        expect(b.t.connection('a')?.peer.incarnation).toBe(a.t.self.incarnation);
        expect(a.t.connections()).toHaveLength(1);
        // Connecting again returns the same connection.
        expect(await world.drive(a.t.connect(address(b.t)))).toBe(connection);
      }),
    );

    it(
      'delivers messages on every channel, both ways',
      withWorld(async (world) => {
        const a = await started(world, 'a', { channels: { events: {} } });
        const b = await started(world, 'b', { channels: { events: {} } });
        const connection = await world.drive(a.t.connect(address(b.t)));
        expect(connection.send('default', Buffer.from('hello'))).toBe('sent');
        connection.send('events', Buffer.from('event'));
        connection.send('control', Buffer.from('ctl'));
        await until(world, () => b.received.length === 3);
        expect(b.received.map((m) => `${m.channel}:${m.text}`).sort()).toEqual(['control:ctl', 'default:hello', 'events:event']);
        b.t.connection('a')?.send('default', Buffer.from('back'));
        await until(world, () => a.received.length === 1);
        expect(a.received[0]).toEqual({ from: 'b', channel: 'default', text: 'back' });
      }),
    );

    it(
      'keeps each channel in order, and each partition key in order on a parallel channel',
      withWorld(async (world) => {
        const channels = { par: { parallelism: 4 } };
        const a = await started(world, 'a', { channels });
        const b = await started(world, 'b', { channels });
        const connection = await world.drive(a.t.connect(address(b.t)));
        for (let i = 0; i < 500; i++) connection.send('default', Buffer.from(`d${i}`));
        for (let i = 0; i < 500; i++) connection.send('par', Buffer.from(`${i % 7}:${i}`), { partitionKey: i % 7 });
        await until(world, () => b.received.length === 1_000, 10_000);
        const onDefault = b.received.filter((m) => m.channel === 'default').map((m) => m.text);
        expect(onDefault).toEqual(Array.from({ length: 500 }, (_, i) => `d${i}`));
        for (let key = 0; key < 7; key++) {
          const seq = b.received.filter((m) => m.channel === 'par' && m.text.startsWith(`${key}:`)).map((m) => Number(m.text.split(':')[1]));
          expect(seq).toEqual([...seq].sort((x, y) => x - y));
          expect(seq.length).toBeGreaterThan(0);
        }
      }),
    );

    it(
      'close: both sides see the connection down, and sending on it is dropped',
      withWorld(async (world) => {
        const a = await started(world, 'a');
        const b = await started(world, 'b');
        const connection = await world.drive(a.t.connect(address(b.t)));
        await until(world, () => b.ups.length === 1);
        connection.close();
        expect(connection.up).toBe(false);
        expect(connection.send('default', Buffer.from('late'))).toBe('dropped');
        await until(world, () => b.downs.length === 1);
        expect(a.downs.map((d) => d.reason.kind)).toEqual(['closed']);
        expect(b.downs[0]?.reason.kind).toBe('peer_closed');
        expect(a.t.connection('b')).toBeUndefined();
      }),
    );

    it(
      'a crashed peer shows up as a lost connection; a restarted one (new incarnation) can be reached again',
      withWorld(async (world) => {
        const a = await started(world, 'a');
        const b = await started(world, 'b');
        await world.drive(a.t.connect(address(b.t)));
        await world.crash(b.t);
        await until(world, () => a.downs.length === 1, 15_000);
        expect(a.downs[0]?.reason.kind).toBe('lost');
        const b2 = await started(world, 'b');
        expect(b2.t.self.incarnation).not.toBe(b.t.self.incarnation);
        const again = await world.drive(a.t.connect(address(b2.t)));
        expect(again.peer.incarnation).toBe(b2.t.self.incarnation);
        again.send('default', Buffer.from('welcome back'));
        await until(world, () => b2.received.length === 1);
        expect(b2.received[0]?.text).toBe('welcome back');
      }),
    );

    it(
      'start twice, stop before start, stop twice: all harmless; no events after stop',
      withWorld(async (world) => {
        const idle = world.node('idle');
        await idle.stop();
        await idle.stop();
        await expect(idle.start()).rejects.toMatchObject({ code: TopologyErrorCode.STOPPED });
        const a = await started(world, 'a');
        await a.t.start();
        const b = await started(world, 'b');
        await world.drive(a.t.connect(address(b.t)));
        await until(world, () => b.ups.length === 1);
        await a.t.stop();
        await a.t.stop();
        await until(world, () => b.downs.length === 1);
        expect(b.downs[0]?.reason.kind).toBe('peer_closed');
        await world.pass(50);
        expect(a.downs).toEqual([]);
        expect(a.t.connections()).toEqual([]);
        await expect(world.drive(a.t.connect(address(b.t)))).rejects.toMatchObject({ code: TopologyErrorCode.STOPPED });
      }),
    );

    it(
      'one connection per pair when both sides dial at once',
      withWorld(async (world) => {
        const a = await started(world, 'a');
        const b = await started(world, 'b');
        const [ab, ba] = await world.drive(Promise.all([a.t.connect(address(b.t)), b.t.connect(address(a.t))]));
        await world.pass(50);
        expect(ab.up && ba.up).toBe(true);
        expect(a.t.connections()).toHaveLength(1);
        expect(b.t.connections()).toHaveLength(1);
        expect(a.ups).toEqual(['b']);
        expect(b.ups).toEqual(['a']);
        ab.send('default', Buffer.from('x'));
        ba.send('default', Buffer.from('y'));
        await until(world, () => a.received.length === 1 && b.received.length === 1);
        expect(a.downs).toEqual([]);
        expect(b.downs).toEqual([]);
      }),
    );

    it(
      'refuses a node with the wrong secret, and both keep running',
      withWorld(async (world) => {
        const a = await started(world, 'a');
        const b = await started(world, 'b', { secret: 'another secret' });
        await expect(world.drive(b.t.connect(address(a.t)))).rejects.toMatchObject({ code: TopologyErrorCode.CONNECTION_REFUSED });
        expect(a.ups).toEqual([]);
        const c = await started(world, 'c');
        expect((await world.drive(c.t.connect(address(a.t)))).up).toBe(true);
      }),
    );

    it(
      'names unknown channels with a clear error; messages for a channel without handler are dropped',
      withWorld(async (world) => {
        const a = await started(world, 'a');
        const b = world.node('b');
        await b.start();
        const connection = await world.drive(a.t.connect(address(b)));
        expect(() => connection.send('nope', Buffer.from('x'))).toThrow(expect.objectContaining({ code: TopologyErrorCode.UNKNOWN_CHANNEL }));
        expect(() => {
          a.t.onMessage('nope', () => undefined);
        }).toThrow(expect.objectContaining({ code: TopologyErrorCode.UNKNOWN_CHANNEL }));
        connection.send('default', Buffer.from('nobody listens'));
        await world.pass(50);
        expect(connection.up).toBe(true);
        expect(connection.metrics('default').messagesOut).toBe(1);
      }),
    );

    it(
      'pause holds a channel’s deliveries until resume',
      withWorld(async (world) => {
        const a = await started(world, 'a');
        const b = await started(world, 'b');
        const connection = await world.drive(a.t.connect(address(b.t)));
        await until(world, () => b.t.connection('a') !== undefined);
        const back = b.t.connection('a') as Connection;
        back.pause('default');
        connection.send('default', Buffer.from('held'));
        connection.send('control', Buffer.from('control flows'));
        await until(world, () => b.received.length === 1);
        expect(b.received[0]?.text).toBe('control flows');
        back.resume('default');
        await until(world, () => b.received.length === 2);
        expect(b.received[1]?.text).toBe('held');
      }),
    );
  });
}
