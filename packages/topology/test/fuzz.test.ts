// Fuzzing the receive side: mutated handshakes and frames. Every bad input must close only its own
// socket, with one of the protocol's close codes; the node must keep serving a well-behaved peer.
// FDN_FUZZ_FRAMES=1000000 npx vitest run --project topology fuzz   for a larger run.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, createDeflateRaw } from 'node:zlib';
import { seededRandom } from '@fdn/core';
import type { Random } from '@fdn/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { CloseCode, PROTOCOL_VERSION } from '../src/index.ts';
import { encodeChunkHeader, encodeData, encodeDialMe, encodePing, Frame } from '../src/wire/frames.ts';
import { dialerProof, makeNonce } from '../src/wire/handshake.ts';
import type { Challenge, Hello } from '../src/wire/handshake.ts';
import { node, rawHandshake, rawSocket, SECRET, stopAll, until, urlOf } from './helpers.ts';

afterEach(stopAll);

const FRAMES = Number(process.env.FDN_FUZZ_FRAMES ?? 120_000);
const REAL_SOCKET_FRAMES = Math.min(3_000, Math.ceil(FRAMES / 40));
const KNOWN_CODES = new Set<number>([...Object.values(CloseCode), 1009]);

/** Just enough of a ws WebSocket for the accept path; records what the node does with it. */
class FakeSocket extends EventEmitter {
  closedWith: number | null = null;
  texts: string[] = [];
  binaries = 0;
  send(data: string | Uint8Array, _opts?: unknown, done?: () => void): void {
    if (typeof data === 'string') this.texts.push(data);
    else this.binaries++;
    done?.();
  }
  close(code: number): void {
    if (this.closedWith !== null) return;
    this.closedWith = code;
    this.emit('close', code, Buffer.alloc(0));
  }
  terminate(): void {
    this.close(1006);
  }
  paused = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  feed(data: Buffer, isBinary: boolean): void {
    if (this.closedWith === null) this.emit('message', data, isBinary);
  }
}

function mutate(r: Random, input: Buffer): Buffer {
  const b = Buffer.from(input);
  switch (r.int(8)) {
    case 0: // flip bits
      for (let i = 0, n = 1 + r.int(4); i < n && b.length > 0; i++) {
        const at = r.int(b.length);
        b[at] = (b[at] as number) ^ (1 << r.int(8));
      }
      return b;
    case 1: // truncate
      return b.subarray(0, r.int(b.length + 1));
    case 2: // extend with garbage
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + r.int(16) }, () => r.int(256)))]);
    case 3: // random bytes of the same length
      return Buffer.from(Array.from({ length: b.length }, () => r.int(256)));
    case 4: // corrupt a length field with an extreme value
      if (b.length >= 5) b.writeUInt32LE([0, 1, 0xffffffff, 0x7fffffff, b.length][r.int(5)] as number, r.int(b.length - 3));
      return b;
    case 5: // change the type byte
      if (b.length > 0) b[0] = r.int(256);
      return b;
    case 6: // splice with itself
      return Buffer.concat([b.subarray(0, r.int(b.length + 1)), b.subarray(r.int(b.length + 1))]);
    default: // unchanged (valid frames must still be valid)
      return b;
  }
}

function corpus(r: Random): Buffer {
  switch (r.int(6)) {
    case 0: {
      const n = 1 + r.int(5);
      const payloads = Array.from({ length: n }, () => Buffer.from(Array.from({ length: r.int(40) }, () => r.int(256))));
      return encodeData(payloads, n, payloads.reduce((s, p) => s + p.length, 0));
    }
    case 1:
      return encodeChunkHeader(1 + r.int(100_000), 0);
    case 2:
      return encodePing(Frame.PING, r.int(1000), r.next() * 1e6);
    case 3:
      return encodePing(Frame.PONG, r.int(1000), r.next() * 1e6);
    case 4:
      return encodeDialMe(['default', 'bulk', 'nope'][r.int(3)] as string, r.int(3));
    default:
      return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256)));
  }
}

function helloFor(name: string, incarnation: number): Hello {
  return { t: 'hello', v: PROTOCOL_VERSION, name, incarnation, addresses: [], channel: 'control', index: 0, nonce: makeNonce() };
}

describe('fuzz', () => {
  it(`${FRAMES} mutated handshakes and frames through the accept path, ${REAL_SOCKET_FRAMES} over real sockets; the node keeps serving`, async () => {
    const a = await node('a');
    const b = await node('b');
    const connection = await b.t.connect(urlOf(a.t));
    const r = seededRandom(Number(process.env.FDN_FUZZ_SEED ?? 20261121));
    const codes = new Map<number, number>();
    let sent = 0;
    let sessions = 0;
    let unauthenticated = 0;
    while (sent < FRAMES) {
      const socket = new FakeSocket();
      sessions++;
      a.t.acceptSocket(socket as unknown as WebSocket, 'fuzz');
      const name = `f${sessions % 50}`;
      const hello = helloFor(name, sessions);
      if (r.int(4) === 0) {
        // Attack the handshake itself.
        unauthenticated++;
        const text = Buffer.from(JSON.stringify(r.int(2) === 0 ? hello : { t: 'proof', proof: 'x'.repeat(44) }));
        const bad = mutate(r, text);
        socket.feed(bad, r.int(5) !== 0);
        sent++;
      } else {
        socket.feed(Buffer.from(JSON.stringify(hello)), false);
        const challenge = JSON.parse(socket.texts[0] as string) as Challenge;
        socket.feed(Buffer.from(JSON.stringify({ t: 'proof', proof: dialerProof(Buffer.from(SECRET), hello, challenge.nonce, challenge) })), false);
        // Authenticated: now mutated frames until the node closes the socket (at most 200 each).
        for (let i = 0; i < 200 && socket.closedWith === null && sent < FRAMES; i++) {
          socket.feed(mutate(r, corpus(r)), r.int(50) !== 0);
          sent++;
        }
      }
      // The client hangs up if the node did not close first.
      if (socket.closedWith === null) socket.close(1000);
      const code = socket.closedWith ?? -1;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      expect(KNOWN_CODES.has(code) || code === 1000, `unexpected close code ${code}`).toBe(true);
      if (sessions % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (process.env.FDN_FUZZ_REPORT !== undefined) console.log({ sessions, unauthenticated, codes: Object.fromEntries(codes), delivered: a.received.length });
    expect(sent).toBeGreaterThanOrEqual(FRAMES);
    expect(unauthenticated).toBeGreaterThan(0);
    expect(codes.get(CloseCode.PROTOCOL_ERROR) ?? 0).toBeGreaterThan(0);

    // The same over real sockets: mutated frames after a real handshake, and garbage before one.
    let realSent = 0;
    while (realSent < REAL_SOCKET_FRAMES) {
      if (r.int(5) === 0) {
        const raw = await rawSocket(urlOf(a.t));
        raw.send(mutate(r, Buffer.from(JSON.stringify(helloFor('z', 1)))));
        realSent++;
        raw.ws.terminate();
        continue;
      }
      const raw = await rawHandshake(urlOf(a.t), { name: `real${realSent % 20}`, incarnation: realSent });
      if (!raw.welcomed) continue;
      const state = { closed: false };
      void raw.closed.then(() => (state.closed = true));
      for (let i = 0; i < 50 && !state.closed && realSent < REAL_SOCKET_FRAMES; i++) {
        raw.send(mutate(r, corpus(r)));
        realSent++;
      }
      raw.ws.terminate();
    }

    // A well-behaved peer is still served, both ways.
    await until(() => connection.up);
    connection.send('default', Buffer.from('still served'));
    await until(() => a.received.some((m) => m.from === 'b' && m.payload.toString() === 'still served'));
    a.t.connection('b')?.send('default', Buffer.from('and answering'));
    await until(() => b.received.some((m) => m.payload.toString() === 'and answering'));
    expect(a.t.connection('b')?.up).toBe(true);
    expect(process.memoryUsage().heapUsed).toBeLessThan(1_500 * 1024 * 1024);
  });
});

describe('fuzz over TLS and on a deflate channel', () => {
  it('mutated handshakes and frames over wss and over permessage-deflate sockets: protocol close codes only, the node keeps serving', async () => {
    const { key, cert } = selfSigned();
    const channels = { zipped: { compression: 'deflate' as const } };
    const a = await node('a', { tls: { key, cert, ca: cert }, channels });
    const b = await node('b', { tls: { key, cert, ca: cert }, channels });
    const connection = await b.t.connect(urlOf(a.t));
    const r = seededRandom(Number(process.env.FDN_FUZZ_SEED ?? 20261207));
    const codes = new Map<number, number>();
    const rounds = Math.min(150, Math.ceil(FRAMES / 800));
    for (let round = 0; round < rounds; round++) {
      const name = `t${String(round % 10)}`;
      // A control connection of its own first, then a deflate channel socket of that connection (or garbage before any).
      const control = await rawHandshake(urlOf(a.t), { name, incarnation: round + 1, ca: cert });
      const deflate = r.int(4) === 0 ? await rawSocket(urlOf(a.t), { path: '/fdn/z', ca: cert }) : await rawHandshake(urlOf(a.t), { name, incarnation: round + 1, channel: 'zipped', path: '/fdn/z', ca: cert });
      for (let i = 0; i < 20; i++) deflate.send(mutate(r, corpus(r)));
      const code = await Promise.race([deflate.closed.then((c) => c.code), new Promise<number>((resolve) => setTimeout(() => { resolve(1000); }, 200))]);
      codes.set(code, (codes.get(code) ?? 0) + 1);
      expect(KNOWN_CODES.has(code) || code === 1000 || code === 1005 || code === 1006, `unexpected close code ${String(code)}`).toBe(true);
      deflate.ws.terminate();
      control.ws.terminate();
    }
    expect(codes.get(CloseCode.PROTOCOL_ERROR) ?? 0).toBeGreaterThan(0);
    connection.send('zipped', Buffer.from('still served'));
    await until(() => a.received.some((m) => m.payload.toString() === 'still served'), 5_000);
  }, 60_000);

  it('a deflate bomb (512 MiB of zeros in under a megabyte) is refused as too big without being inflated whole', async () => {
    const a = await node('a', { channels: { zipped: { compression: 'deflate' as const } } });
    const before = process.memoryUsage().rss;
    const code = await sendDeflateBomb(urlOf(a.t), 512 * 2 ** 20);
    // ws stops inflating at maxPayload and closes with 1009 (message too big).
    expect(code).toBe(1009);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
    const b = await node('b', { channels: { zipped: { compression: 'deflate' as const } } });
    const connection = await b.t.connect(urlOf(a.t));
    connection.send('zipped', Buffer.from('served after the bomb'));
    await until(() => a.received.some((m) => m.payload.toString() === 'served after the bomb'), 5_000);
  }, 60_000);
});

/** A self-signed certificate for 127.0.0.1, made with openssl for this run. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'fdn-fuzz-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const out = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/**
 * Speaks just enough WebSocket by hand to send one compressed text frame whose payload inflates to
 * `inflated` bytes of zeros (a client library compresses what it sends, so it cannot send a bomb).
 * Resolves with the close code the node answers with.
 */
async function sendDeflateBomb(url: string, inflated: number): Promise<number> {
  const { port, hostname } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.on('error', () => undefined);
  const key = randomBytes(16).toString('base64');
  socket.write(`GET /fdn/z HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
  let buffered = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      buffered = Buffer.concat([buffered, d]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!buffered.subarray(0, end).toString().startsWith('HTTP/1.1 101')) reject(new Error(`no upgrade: ${buffered.subarray(0, end).toString()}`));
      buffered = buffered.subarray(end + 4);
      resolve();
    };
    socket.on('data', onData);
  });
  // Compressed in 1 MiB steps; a sync flush, then the trailing 00 00 ff ff dropped (RFC 7692).
  const deflater = createDeflateRaw();
  const parts: Buffer[] = [];
  deflater.on('data', (d: Buffer) => parts.push(d));
  const zeros = Buffer.alloc(2 ** 20);
  for (let sent = 0; sent < inflated; sent += zeros.length) deflater.write(zeros);
  await new Promise<void>((resolve) => { deflater.flush(constants.Z_SYNC_FLUSH, () => { resolve(); }); });
  const compressed = Buffer.concat(parts).subarray(0, -4);
  const header = Buffer.alloc(14);
  header[0] = 0x80 | 0x40 | 0x1; // FIN, RSV1 (compressed), text
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(BigInt(compressed.length), 2);
  // A zero masking key leaves the payload as it is.
  const closed = new Promise<number>((resolve) => {
    const onData = (d: Buffer): void => {
      buffered = Buffer.concat([buffered, d]);
      if (buffered.length >= 4 && ((buffered[0] as number) & 0x0f) === 0x8) resolve(buffered.readUInt16BE(2));
    };
    socket.on('data', onData);
    socket.on('close', () => { resolve(1006); });
  });
  socket.write(Buffer.concat([header, compressed]));
  const code = await closed;
  socket.destroy();
  return code;
}
