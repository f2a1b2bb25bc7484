// Test helpers: WebSocket transports on 127.0.0.1, and a raw client that speaks the handshake by
// hand so tests can send whatever they like.

import { memoryLogger } from '@fdn/core';
import { WebSocket } from 'ws';
import { createWsTransport, PROTOCOL_VERSION } from '../src/index.ts';
import type { WsTransport, WsTransportOptions } from '../src/index.ts';
import { dialerProof, makeNonce } from '../src/wire/handshake.ts';
import type { Challenge, Hello } from '../src/wire/handshake.ts';

export const SECRET = 'test cluster secret';

export interface TestNode {
  t: WsTransport;
  log: ReturnType<typeof memoryLogger>;
  received: { channel: string; payload: Buffer; from: string }[];
}

const started: WsTransport[] = [];

/** A started WebSocket transport recording what it receives. */
export async function node(name: string, options: Partial<WsTransportOptions> = {}): Promise<TestNode> {
  const log = memoryLogger();
  const t = createWsTransport({ name, secret: SECRET, ...options }, { logger: log });
  const received: TestNode['received'] = [];
  for (const channel of t.channels.keys()) t.onMessage(channel, (connection, payload) => received.push({ channel, payload, from: connection.peer.name }));
  await t.start();
  started.push(t);
  return { t, log, received };
}

/** Stops every node started by {@link node}. */
export async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map((t) => t.stop()));
}

export function urlOf(t: WsTransport): string {
  return t.self.addresses[0] as string;
}

/** Waits until `predicate` holds (real time, bounded). */
export async function until(predicate: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A raw WebSocket to an @fdn node, with what it received and how it closed. */
export interface RawClient {
  ws: WebSocket;
  texts: string[];
  closed: Promise<{ code: number; reason: string }>;
  send(data: string | Buffer): void;
}

/** How a raw socket connects: the path (`/fdn/z` for a deflate channel) and TLS trust. */
export interface RawOptions {
  path?: string;
  ca?: Buffer;
}

/** Opens a raw socket to `url` (path `/fdn`) without any handshake. */
export async function rawSocket(url: string, pathOrOptions: string | RawOptions = '/fdn'): Promise<RawClient> {
  const options = typeof pathOrOptions === 'string' ? { path: pathOrOptions } : pathOrOptions;
  const path = options.path ?? '/fdn';
  const ws = new WebSocket(`${url}${path}`, { generateMask: (mask: Buffer) => mask.fill(0), perMessageDeflate: path.endsWith('/z'), ...(options.ca === undefined ? {} : { ca: options.ca }) });
  const texts: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
    });
  });
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) texts.push(data.toString());
  });
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      resolve();
    });
    ws.once('error', reject);
  });
  return {
    ws,
    texts,
    closed,
    send: (data) => {
      ws.send(data);
    },
  };
}

/** Runs the dialler side of the handshake by hand; resolves once welcomed (or with the close). */
export async function rawHandshake(
  url: string,
  options: { name: string; secret?: string; incarnation?: number; channel?: string; index?: number; version?: number } & RawOptions,
): Promise<RawClient & { hello: Hello; challenge: Challenge | undefined; welcomed: boolean; proof: string | undefined }> {
  const client = await rawSocket(url, options);
  const hello: Hello = {
    t: 'hello',
    v: options.version ?? PROTOCOL_VERSION,
    name: options.name,
    incarnation: options.incarnation ?? 7,
    addresses: [],
    channel: options.channel ?? 'control',
    index: options.index ?? 0,
    nonce: makeNonce(),
  };
  client.send(JSON.stringify(hello));
  const result = await Promise.race([
    until(() => client.texts.length >= 1, 3_000).then(() => 'challenge' as const),
    client.closed.then(() => 'closed' as const),
  ]);
  if (result === 'closed') return { ...client, hello, challenge: undefined, welcomed: false, proof: undefined };
  const challenge = JSON.parse(client.texts[0] as string) as Challenge;
  const proof = dialerProof(Buffer.from(options.secret ?? SECRET), hello, challenge.nonce, challenge);
  client.send(JSON.stringify({ t: 'proof', proof }));
  const end = await Promise.race([until(() => client.texts.length >= 2, 3_000).then(() => 'welcome' as const), client.closed.then(() => 'closed' as const)]);
  return { ...client, hello, challenge, welcomed: end === 'welcome', proof };
}
