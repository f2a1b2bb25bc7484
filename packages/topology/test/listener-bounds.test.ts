// The listener under a flood: silent sockets, half-open ones, slowloris writers and unfinished
// WebSocket handshakes each hold a slot for at most the handshake timeout, the pool of sockets that
// have not authenticated is bounded, and connections that work keep working throughout; once the flood
// has timed out, a new node joins.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { node, rawSocket, stopAll, until, urlOf } from './helpers.ts';

afterEach(stopAll);

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function openSockets(port: number, count: number): Socket[] {
  return Array.from({ length: count }, () => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    return s;
  });
}

const closed = (s: Socket): boolean => s.destroyed || s.readyState === 'closed';

describe('listener bounds', () => {
  it('a flood of silent and slow sockets is bounded and timed out; a working connection keeps flowing; a new node joins after', async () => {
    const b = await node('b', { maxPendingHandshakes: 16, handshakeTimeoutMs: 1_000 });
    const a = await node('a');
    const connection = await a.t.connect(urlOf(b.t));
    const port = portOf(urlOf(b.t));

    // 64 sockets that never say a word, and 8 that trickle an HTTP request a byte at a time.
    const silent = openSockets(port, 64);
    const slow = openSockets(port, 8);
    const trickle = setInterval(() => {
      for (const s of slow) if (!closed(s)) s.write('X');
    }, 100);
    for (const s of slow) s.write('GET /fdn HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    // And WebSocket upgrades that never send the hello.
    const mute = await Promise.all(Array.from({ length: 4 }, () => rawSocket(urlOf(b.t)).catch(() => null)));

    // The connection that works keeps working, during the flood.
    let sent = 0;
    const flow = setInterval(() => {
      connection.send('default', Buffer.from(String(sent++)));
    }, 10);
    try {
      await until(() => b.received.length >= 50, 5_000);
      // Past the pool's bound, sockets are refused at once.
      await until(() => b.t.refusedSockets >= 40, 2_000);
      // Everything that did not authenticate is gone within the timeout (plus the check interval).
      await until(() => silent.every(closed) && slow.every(closed), 4_000);
      for (const m of mute) if (m !== null) expect((await m.closed).code).toBe(4004);
      expect(connection.up).toBe(true);
    } finally {
      clearInterval(trickle);
      clearInterval(flow);
    }
    const before = b.received.length;
    connection.send('default', Buffer.from('after the flood'));
    await until(() => b.received.length > before, 2_000);
    // A newcomer gets in.
    const c = await node('c');
    const newcomer = await c.t.connect(urlOf(b.t));
    expect(newcomer.up).toBe(true);
    expect(b.log.entries.filter((e) => e.message.includes('sockets are already waiting to authenticate')).length).toBeLessThanOrEqual(3);
  });
});
