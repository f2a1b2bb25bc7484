import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, TopologyErrorCode } from '../src/index.ts';
import { encodeChunkHeader, encodeData, encodePing, Frame } from '../src/wire/frames.ts';
import { node, rawHandshake, stopAll, until, urlOf } from './helpers.ts';

afterEach(stopAll);

describe('channels', () => {
  it('cuts large payloads into chunks and reassembles them byte for byte, in order with small ones', async () => {
    const a = await node('a', { channels: { bulk: { chunkSize: 64 * 1024 } } });
    const b = await node('b', { channels: { bulk: { chunkSize: 64 * 1024 } } });
    const connection = await a.t.connect(urlOf(b.t));
    const big = randomBytes(3 * 1024 * 1024 + 17);
    connection.send('bulk', Buffer.from('before'));
    connection.send('bulk', big);
    connection.send('bulk', Buffer.from('after'));
    await until(() => b.received.length === 3);
    expect(b.received.map((m) => m.payload.length)).toEqual([6, big.length, 5]);
    expect(b.received[1]?.payload.equals(big)).toBe(true);
    expect(b.received[2]?.payload.toString()).toBe('after');
    expect(connection.metrics('bulk')).toMatchObject({ messagesOut: 3, bytesOut: big.length + 11, queuedMessages: 0 });
    expect(b.t.connection('a')?.metrics('bulk')).toMatchObject({ messagesIn: 3, bytesIn: big.length + 11 });
  });

  it('compresses a deflate channel on the wire and delivers the same bytes', async () => {
    const channels = { zipped: { compression: 'deflate' as const } };
    const a = await node('a', { channels });
    const b = await node('b', { channels });
    const connection = await a.t.connect(urlOf(b.t));
    const text = Buffer.from('compressible '.repeat(20_000));
    connection.send('zipped', text);
    await until(() => b.received.length === 1);
    expect(b.received[0]?.payload.equals(text)).toBe(true);
    expect(connection.metrics('zipped').sockets).toBe(1);
  });

  it('control messages overtake a bulk transfer in progress', async () => {
    const a = await node('a');
    const b = await node('b');
    const connection = await a.t.connect(urlOf(b.t));
    connection.send('bulk', Buffer.alloc(1));
    await until(() => b.received.length === 1);
    const order: string[] = [];
    b.t.onMessage('bulk', () => order.push('bulk'));
    b.t.onMessage('control', (_l, p) => order.push(p.toString()));
    connection.send('bulk', Buffer.alloc(64 * 1024 * 1024));
    connection.send('control', Buffer.from('urgent'));
    await until(() => order.length === 2, 10_000);
    expect(order).toEqual(['urgent', 'bulk']);
  });

  it('a monotonic channel sends only the latest queued message per key', async () => {
    const channels = { state: { monotonic: true } };
    const a = await node('a', { channels });
    const b = await node('b', { channels });
    const connection = await a.t.connect(urlOf(b.t));
    // Queue while the channel's socket is still being dialled: only the latest per key survives.
    for (let i = 0; i < 100; i++) connection.send('state', Buffer.from(`x=${i}`), { key: 'x' });
    connection.send('state', Buffer.from('y=1'), { key: 'y' });
    await until(() => b.received.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.received.map((m) => m.payload.toString())).toEqual(['x=99', 'y=1']);
  });

  it('bounds each queue: backpressure, then full; or shed the newest or oldest', async () => {
    const channels = {
      bp: { maxQueueMessages: 10 },
      newest: { maxQueueMessages: 10, whenFull: 'dropNewest' as const },
      oldest: { maxQueueMessages: 10, whenFull: 'dropOldest' as const },
    };
    const a = await node('a', { channels });
    const b = await node('b', { channels });
    const connection = await a.t.connect(urlOf(b.t));
    // Nothing can be written until each channel's socket is dialled, so the queues fill up now.
    const bp = Array.from({ length: 12 }, (_, i) => connection.send('bp', Buffer.from(`${i}`)));
    expect(bp.slice(0, 5)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    expect(bp.slice(5, 10)).toEqual(['backpressure', 'backpressure', 'backpressure', 'backpressure', 'backpressure']);
    expect(bp.slice(10)).toEqual(['full', 'full']);
    const newest = Array.from({ length: 12 }, (_, i) => connection.send('newest', Buffer.from(`${i}`)));
    expect(newest.slice(10)).toEqual(['dropped', 'dropped']);
    for (let i = 0; i < 12; i++) connection.send('oldest', Buffer.from(`${i}`));
    expect(connection.metrics('oldest')).toMatchObject({ queuedMessages: 10, dropped: 2 });
    await until(() => b.received.length === 30);
    const by = (c: string): string[] => b.received.filter((m) => m.channel === c).map((m) => m.payload.toString());
    expect(by('bp')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(by('newest')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(by('oldest')).toEqual(['2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(connection.metrics('bp').dropped).toBe(2);
    await connection.whenWritable('bp');
  });

  it('a node that does not listen asks its peer to dial its channel sockets (DIAL_ME)', async () => {
    const server = await node('server');
    const client = await node('client', { listen: false });
    expect(client.t.self.addresses).toEqual([]);
    const connection = await client.t.connect(urlOf(server.t));
    connection.send('default', Buffer.from('from the client'));
    await until(() => server.received.length === 1);
    server.t.connection('client')?.send('bulk', Buffer.from('from the server'));
    await until(() => client.received.length === 1);
    expect(client.received[0]?.payload.toString()).toBe('from the server');
    expect(connection.metrics('bulk').sockets).toBe(1);
  });

  it('measures round-trip time from control pings and keeps idle connections up', async () => {
    const a = await node('a', { pingIntervalMs: 20, idleTimeoutMs: 500 });
    const b = await node('b', { pingIntervalMs: 20, idleTimeoutMs: 500 });
    const connection = await a.t.connect(urlOf(b.t));
    await until(() => connection.rttMs !== undefined);
    expect(connection.rttMs).toBeGreaterThan(0);
    expect(connection.rttMs).toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 700));
    expect(connection.up).toBe(true);
  });

  it('takes a connection down when the peer stops answering (idle timeout)', async () => {
    const a = await node('a', { pingIntervalMs: 20, idleTimeoutMs: 200 });
    const downs: string[] = [];
    a.t.on('connectionDown', (_l, reason) => downs.push(reason.kind));
    const raw = await rawHandshake(urlOf(a.t), { name: 'mute' });
    expect(raw.welcomed).toBe(true);
    // The raw peer never answers pings.
    await until(() => downs.length === 1, 3_000);
    expect(downs).toEqual(['idle_timeout']);
    expect((await raw.closed).code).toBe(CloseCode.IDLE_TIMEOUT);
  });

  it('refuses to send a message above the maximum size', async () => {
    const a = await node('a', { maxMessageBytes: 1024 * 1024 });
    const b = await node('b');
    const connection = await a.t.connect(urlOf(b.t));
    expect(() => connection.send('bulk', Buffer.alloc(2 * 1024 * 1024))).toThrow(expect.objectContaining({ code: TopologyErrorCode.MESSAGE_TOO_LARGE }));
  });

  it('drops (once) a message the peer refuses as too large, and the channel keeps working', async () => {
    const a = await node('a');
    const b = await node('b', { maxMessageBytes: 1024 * 1024 });
    const connection = await a.t.connect(urlOf(b.t));
    connection.send('bulk', Buffer.alloc(2 * 1024 * 1024));
    connection.send('bulk', Buffer.from('small one'));
    await until(() => b.received.length === 1);
    expect(b.received[0]?.payload.toString()).toBe('small one');
    expect(connection.metrics('bulk').dropped).toBe(1);
    expect(connection.up).toBe(true);
    expect(b.log.entries.some((e) => e.message.includes('exceeds the maximum'))).toBe(true);
    expect(a.log.entries.some((e) => e.message.includes('refused a message of 2097152 bytes'))).toBe(true);
  });
});

describe('a channel socket the other node must dial', () => {
  it("comes even when that node's first dial of it fails (it has nothing of its own to send there, so only the asking side can retry)", async () => {
    // 'b' is reached through a proxy that drops the second connection (the first channel socket
    // 'a' dials for 'b'); 'a' < 'b', so 'a' dials the channel sockets and 'b' must ask it to.
    let accepted = 0;
    let targetPort = 0;
    const proxy = createServer((client) => {
      accepted++;
      if (accepted === 2) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = `ws://127.0.0.1:${String((proxy.address() as { port: number }).port)}`;
    try {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      targetPort = (probe.address() as { port: number }).port;
      await new Promise<void>((resolve) => probe.close(() => { resolve(); }));
      const b = await node('b', { listen: { host: '127.0.0.1', port: targetPort }, advertise: [proxied] });
      const a = await node('a');
      await a.t.connect(proxied);
      await until(() => b.t.connection('a')?.up === true);
      b.t.connection('a')?.send('bulk', Buffer.from('from b'));
      await until(() => a.received.some((r) => r.channel === 'bulk'), 8_000);
      expect(accepted).toBeGreaterThanOrEqual(3);
    } finally {
      proxy.close();
    }
  });
});

describe('hostile frames after the handshake', () => {
  const cases: [string, Buffer, number][] = [
    ['an empty frame', Buffer.alloc(0), CloseCode.PROTOCOL_ERROR],
    ['an unknown frame type', Buffer.from([0x7f, 1, 2, 3]), CloseCode.PROTOCOL_ERROR],
    ['a truncated length', Buffer.from([Frame.DATA, 1, 2]), CloseCode.PROTOCOL_ERROR],
    ['a length overrunning the frame', Buffer.concat([Buffer.from([Frame.DATA]), Buffer.from([0xff, 0xff, 0, 0]), Buffer.from('short')]), CloseCode.PROTOCOL_ERROR],
    ['a malformed ping', Buffer.from([Frame.PING, 1]), CloseCode.PROTOCOL_ERROR],
    ['a chunk not starting at 0', encodeChunkHeader(100, 50), CloseCode.PROTOCOL_ERROR],
    ['a chunked message above the maximum', encodeChunkHeader(0xffffffff, 0), CloseCode.MESSAGE_TOO_LARGE],
    ['a malformed chunk header', Buffer.from([Frame.CHUNK, 0, 0]), CloseCode.PROTOCOL_ERROR],
  ];
  for (const [what, frame, code] of cases) {
    it(`closes the socket on ${what}, logs it, and keeps serving others`, async () => {
      const a = await node('a');
      const raw = await rawHandshake(urlOf(a.t), { name: 'evil' });
      expect(raw.welcomed).toBe(true);
      raw.send(frame);
      expect((await raw.closed).code).toBe(code);
      expect(a.log.entries.some((e) => e.level === 'warn' && e.message.startsWith('closing a socket from evil'))).toBe(true);
      const b = await node('b');
      const connection = await b.t.connect(urlOf(a.t));
      connection.send('default', Buffer.from('still here'));
      await until(() => a.received.some((m) => m.payload.toString() === 'still here'));
    });
  }

  it('delivers the well-formed messages before a malformed one, and no more', async () => {
    const a = await node('a');
    const raw = await rawHandshake(urlOf(a.t), { name: 'half' });
    const good = encodeData([Buffer.from('ok1'), Buffer.from('ok2')], 2, 6);
    raw.send(Buffer.concat([good, Buffer.from([0xff, 0xff, 0xff])]));
    expect((await raw.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
    expect(a.received.map((m) => m.payload.toString())).toEqual(['ok1', 'ok2']);
  });

  it('answers pings and ignores pongs it did not ask for', async () => {
    const a = await node('a');
    const raw = await rawHandshake(urlOf(a.t), { name: 'pinger' });
    const pongs: Buffer[] = [];
    raw.ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary && data[0] === Frame.PONG) pongs.push(data);
    });
    raw.send(encodePing(Frame.PING, 42, 1.5));
    raw.send(encodePing(Frame.PONG, 7, 1.5));
    await until(() => pongs.length === 1);
    expect(pongs[0]?.readUInt32LE(1)).toBe(42);
    expect(a.t.connection('pinger')?.up).toBe(true);
  });

  it('unknown channels are a clear error at send time', async () => {
    const a = await node('a');
    const b = await node('b');
    const connection = await a.t.connect(urlOf(b.t));
    expect(() => connection.send('nope', Buffer.alloc(1))).toThrow(expect.objectContaining({ code: TopologyErrorCode.UNKNOWN_CHANNEL }));
  });
});
