import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CloseCode, createWsTransport, TopologyErrorCode } from '../src/index.ts';
import { node, rawHandshake, rawSocket, SECRET, stopAll, until, urlOf } from './helpers.ts';

afterEach(stopAll);

describe('handshake', () => {
  it('authenticates both ways and never sends the secret', async () => {
    const a = await node('a');
    const raw = await rawHandshake(urlOf(a.t), { name: 'raw' });
    expect(raw.welcomed).toBe(true);
    const wire = raw.texts.join('');
    expect(wire).not.toContain(SECRET);
    expect(JSON.stringify(raw.hello)).not.toContain(SECRET);
    expect(raw.challenge?.name).toBe('a');
    await until(() => a.t.connection('raw') !== undefined);
    raw.ws.terminate();
  });

  it('refuses a wrong secret with AUTH_FAILED, logs why, and keeps serving', async () => {
    const a = await node('a');
    const raw = await rawHandshake(urlOf(a.t), { name: 'intruder', secret: 'guess' });
    expect(raw.welcomed).toBe(false);
    expect((await raw.closed).code).toBe(CloseCode.AUTH_FAILED);
    expect(a.log.entries.some((e) => e.level === 'error' && e.message.includes('cluster secret'))).toBe(true);
    const b = await node('b', { secret: 'also wrong' });
    await expect(b.t.connect(urlOf(a.t))).rejects.toMatchObject({ code: TopologyErrorCode.CONNECTION_REFUSED, closeCode: CloseCode.AUTH_FAILED });
    expect(b.log.entries.some((e) => e.message.includes('does not prove the cluster secret'))).toBe(true);
    const c = await node('c');
    expect((await c.t.connect(urlOf(a.t))).up).toBe(true);
  });

  it('tells each side the application version the other runs; a node that says none still authenticates', async () => {
    const a = await node('a', { appVersion: '2.1.0' });
    const b = await node('b', { appVersion: '2.2.0-rc.1' });
    const c = await node('c');
    const ab = await b.t.connect(urlOf(a.t));
    expect(ab.peer.appVersion).toBe('2.1.0');
    await until(() => a.t.connection('b') !== undefined);
    expect(a.t.connection('b')?.peer.appVersion).toBe('2.2.0-rc.1');
    const ca = await c.t.connect(urlOf(a.t));
    expect(ca.peer.appVersion).toBe('2.1.0');
    await until(() => a.t.connection('c') !== undefined);
    expect(a.t.connection('c')?.peer.appVersion).toBeUndefined();
    const raw = await rawHandshake(urlOf(a.t), { name: 'raw' });
    expect(raw.challenge?.app).toBe('2.1.0');
    raw.ws.terminate();
  });

  it('refuses another protocol version with VERSION_MISMATCH', async () => {
    const a = await node('a');
    const raw = await rawHandshake(urlOf(a.t), { name: 'future', version: 99 });
    expect((await raw.closed).code).toBe(CloseCode.VERSION_MISMATCH);
    expect(a.log.entries.some((e) => e.message.includes('protocol 99'))).toBe(true);
  });

  it('refuses a second live node with the same name and another incarnation', async () => {
    const a = await node('a', { probeTimeoutMs: 300 });
    const b1 = await node('b');
    await b1.t.connect(urlOf(a.t));
    const b2 = await node('b');
    await expect(b2.t.connect(urlOf(a.t))).rejects.toMatchObject({ code: TopologyErrorCode.CONNECTION_REFUSED, closeCode: CloseCode.DUPLICATE_NAME });
    expect(a.t.connection('b')?.peer.incarnation).toBe(b1.t.self.incarnation);
    expect(a.log.entries.some((e) => e.message.includes('second node named b'))).toBe(true);
  });

  it('accepts a restarted node (new incarnation) once the old one no longer answers', async () => {
    const a = await node('a', { probeTimeoutMs: 200 });
    const downs: string[] = [];
    a.t.on('connectionDown', (connection, reason) => downs.push(`${connection.peer.incarnation}:${reason.kind}`));
    // A raw peer that authenticates, then goes silent without closing: a half-open old connection.
    const silent = await rawHandshake(urlOf(a.t), { name: 'b', incarnation: 1 });
    expect(silent.welcomed).toBe(true);
    silent.ws.pause();
    const b = await node('b');
    const connection = await b.t.connect(urlOf(a.t));
    expect(connection.up).toBe(true);
    expect(a.t.connection('b')?.peer.incarnation).toBe(b.t.self.incarnation);
    expect(downs).toEqual(['1:replaced']);
    silent.ws.terminate();
  });

  it('refuses a node with this node’s own name', async () => {
    const a = await node('a');
    const raw = await rawHandshake(urlOf(a.t), { name: 'a' });
    expect((await raw.closed).code).toBe(CloseCode.DUPLICATE_NAME);
  });

  it('fails a dial that reaches another node than expected with WRONG_NODE', async () => {
    const a = await node('a');
    const b = await node('b');
    await expect(a.t.connect(urlOf(b.t), 'c')).rejects.toMatchObject({ code: TopologyErrorCode.CONNECTION_REFUSED, closeCode: CloseCode.WRONG_NODE });
    expect(a.t.connections()).toEqual([]);
  });

  it('closes a socket that sends binary before the handshake with NOT_AUTHENTICATED', async () => {
    const a = await node('a');
    const raw = await rawSocket(urlOf(a.t));
    raw.send(Buffer.from([1, 0, 0, 0, 0]));
    expect((await raw.closed).code).toBe(CloseCode.NOT_AUTHENTICATED);
  });

  it('refuses a replayed proof: the new challenge has a fresh nonce', async () => {
    const a = await node('a');
    const first = await rawHandshake(urlOf(a.t), { name: 'r' });
    expect(first.welcomed).toBe(true);
    first.ws.close();
    // Replay the recorded hello and proof on a new socket.
    const replay = await rawSocket(urlOf(a.t));
    replay.send(JSON.stringify(first.hello));
    await until(() => replay.texts.length === 1);
    replay.send(JSON.stringify({ t: 'proof', proof: first.proof }));
    expect((await replay.closed).code).toBe(CloseCode.AUTH_FAILED);
  });

  it('closes on a second hello after authentication, and on text frames after it', async () => {
    const a = await node('a');
    const one = await rawHandshake(urlOf(a.t), { name: 'r1' });
    one.send(JSON.stringify(one.hello));
    expect((await one.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
    const two = await rawHandshake(urlOf(a.t), { name: 'r2' });
    two.send('{"t":"welcome"}');
    expect((await two.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it('refuses garbage handshakes, unknown channels and missing connections', async () => {
    const a = await node('a');
    for (const text of ['not json', '[]', '{"t":"hello"}', '{"t":"nope"}', JSON.stringify({ t: 'proof', proof: 'x'.repeat(44) })]) {
      const raw = await rawSocket(urlOf(a.t));
      raw.send(text);
      expect((await raw.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
    }
    const unknown = await rawHandshake(urlOf(a.t), { name: 'r', channel: 'no-such-channel' });
    expect((await unknown.closed).code).toBe(CloseCode.UNKNOWN_CHANNEL);
    const orphan = await rawHandshake(urlOf(a.t), { name: 'nobody', channel: 'default' });
    expect((await orphan.closed).code).toBe(CloseCode.NO_CONNECTION);
  });

  it('times out a socket that never finishes its handshake', async () => {
    const a = await node('a', { handshakeTimeoutMs: 150 });
    const raw = await rawSocket(urlOf(a.t));
    expect((await raw.closed).code).toBe(CloseCode.HANDSHAKE_TIMEOUT);
  });

  it('refuses an invalid node name and an empty secret at construction', () => {
    expect(() => createWsTransport({ name: 'bad name', secret: 's' })).toThrow(expect.objectContaining({ code: TopologyErrorCode.BAD_CONFIG }));
    expect(() => createWsTransport({ name: 'ok', secret: '' })).toThrow(/secret/);
    expect(() => createWsTransport({ name: 'ok', secret: 's', channels: { x: { parallelism: 0 } } })).toThrow(expect.objectContaining({ code: TopologyErrorCode.BAD_CONFIG }));
    expect(() => createWsTransport({ name: 'ok', secret: 's', channels: { x: { priority: 'urgent' as never } } })).toThrow(/priority/);
  });

  it('regression: a dial refused as crossed before any challenge resolves with the connection the peer dials', async () => {
    // A fake node at `url` refuses every hello as crossed, before sending a challenge.
    const fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => fake.once('listening', resolve));
    const url = `ws://127.0.0.1:${(fake.address() as { port: number }).port}`;
    let refused!: () => void;
    const refusedAt = new Promise<void>((resolve) => (refused = resolve));
    fake.on('connection', (ws) => {
      ws.once('close', () => {
        refused();
      });
      ws.once('message', () => {
        ws.close(CloseCode.CROSSED, 'both nodes dialled');
      });
    });
    try {
      const p = await node('p');
      const dial = p.t.connect(url);
      await refusedAt;
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Only now does the real node behind that address (it advertises it) dial p.
      const a = await node('a', { advertise: [url] });
      await a.t.connect(urlOf(p.t));
      const connection = await dial;
      expect(connection.peer.name).toBe('a');
      expect(p.t.connections()).toHaveLength(1);
    } finally {
      fake.close();
    }
  });

  it('regression: a dial aborted as crossed before its upgrade finished resolves with the connection the peer dials', async () => {
    // A server that accepts TCP and never answers the upgrade: p's dial to it stays pending.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${String((silent.address() as { port: number }).port)}`;
    try {
      const p = await node('p');
      const dial = p.t.connect(url);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The real node behind that address (it advertises it) has the smaller name and dials p:
      // p aborts its own dial (still before the upgrade) and must take the connection a dialled.
      const a = await node('a', { advertise: [url] });
      await a.t.connect(urlOf(p.t));
      const connection = await dial;
      expect(connection.peer.name).toBe('a');
      expect(p.t.connections()).toHaveLength(1);
    } finally {
      silent.close();
    }
  });

  it('three nodes all dialling each other end with one connection per pair, 15 times over', async () => {
    for (let round = 0; round < 15; round++) {
      const nodes = await Promise.all(['x', 'y', 'z'].map((n) => node(`${n}${round}`)));
      await Promise.all(nodes.flatMap((from) => nodes.filter((to) => to !== from).map((to) => from.t.connect(urlOf(to.t)))));
      for (const n of nodes) expect(n.t.connections()).toHaveLength(2);
      await stopAll();
    }
  });

  it('keeps one connection per pair when both sides dial at once, 30 times over', async () => {
    for (let round = 0; round < 30; round++) {
      const a = await node(`a${round}`);
      const b = await node(`b${round}`);
      const [ab, ba] = await Promise.all([a.t.connect(urlOf(b.t)), b.t.connect(urlOf(a.t))]);
      ab.send('default', Buffer.from('from a'));
      ba.send('default', Buffer.from('from b'));
      await until(() => a.received.length === 1 && b.received.length === 1);
      expect(a.t.connections()).toHaveLength(1);
      expect(b.t.connections()).toHaveLength(1);
      await stopAll();
    }
  });
});
