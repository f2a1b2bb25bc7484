// A TCP proxy on 127.0.0.1 for the tests that cut connections: everything to its port goes to a target
// port; `cut()` drops every connection through it at once (a brief network fault: new connections
// are accepted again right away), `block(ms)` also refuses new ones for a while.

import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { startNode } from '../src/index.ts';
import type { Node, NodeOptions } from '../src/index.ts';

export interface Proxy {
  readonly port: number;
  readonly address: string;
  /** Drops every connection through the proxy now. */
  cut(): void;
  /** Drops every connection and refuses new ones for `ms`. */
  block(ms: number): void;
  close(): Promise<void>;
  /** Connections dropped so far by cut/block. */
  readonly cuts: number;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const pairs = new Set<[Socket, Socket]>();
  let blockedUntil = 0;
  let cuts = 0;
  const server: Server = createServer((client) => {
    if (Date.now() < blockedUntil) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cut = (): void => {
    for (const [a, b] of [...pairs]) {
      cuts++;
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    address: `ws://127.0.0.1:${String(port)}`,
    cut,
    block: (ms) => {
      blockedUntil = Date.now() + ms;
      cut();
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => { resolve(); });
      }),
    get cuts() {
      return cuts;
    },
  };
}

/** A port free on 127.0.0.1 now (for a node that must listen where its proxy points). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return port;
}

/**
 * A node listening behind a proxy of its own (it advertises the proxy's address), so every connection
 * dialled to it goes through the proxy. Stopping the node and closing the proxy is the caller's.
 */
export async function startNodeBehindProxy(options: NodeOptions): Promise<{ node: Node; proxy: Proxy }> {
  const port = await freePort();
  const proxy = await startProxy(port);
  try {
    const node = await startNode({ ...options, listen: { host: '127.0.0.1', port }, advertise: [proxy.address] });
    return { node, proxy };
  } catch (err) {
    await proxy.close();
    throw err;
  }
}
