// The listening side of the WebSocket transport: the HTTP(S) server, the pool of sockets that have
// not authenticated yet (bounded, each timed out), and the upgrade to WebSocket on `/fdn` (plain)
// or `/fdn/z` (permessage-deflate). What it accepts goes to the transport's handshake.

import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@fdn/core';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { TopologyError, TopologyErrorCode } from '../../errors.ts';
import { addressToUrl } from '../../node/identity.ts';
import type { TlsOptions } from './tls-options.ts';

/** @internal How the listener is set up (from the transport's options). */
export interface ListenerOptions {
  tls: TlsOptions | undefined;
  /** The HTTP upgrade and the handshake must both finish within this long. */
  handshakeTimeoutMs: number;
  /** Sockets that may be unauthenticated at once (and handshakes in progress). */
  maxPending: number;
  /** The largest WebSocket frame accepted. */
  maxPayload: number;
  logger: Logger;
}

/** @internal What the listener asks of its transport. */
export interface ListenerHost {
  /** A warning or error, with backoff per key. */
  report(level: 'warn' | 'error', key: string, message: string): void;
  /** Handshakes in progress now (on either side). */
  handshakes(): number;
  stopped(): boolean;
  /** An upgraded socket from `remote` (address:port), to authenticate. */
  accept(ws: WebSocket, remote: string): void;
}

/** @internal The transport's listener (see the file comment). */
export class Listener {
  #server: Server | null = null;
  readonly #wss: WebSocketServer;
  readonly #wssDeflate: WebSocketServer;
  /** TCP sockets not yet authenticated, by remote address:port. */
  readonly #unauthenticated = new Map<string, Socket>();
  #refused = 0;

  constructor(
    private readonly options: ListenerOptions,
    private readonly host: ListenerHost,
  ) {
    const wsOptions = { noServer: true, maxPayload: options.maxPayload, allowSynchronousEvents: true } as const;
    this.#wss = new WebSocketServer({ ...wsOptions, perMessageDeflate: false });
    this.#wssDeflate = new WebSocketServer({ ...wsOptions, perMessageDeflate: true });
  }

  /** Listens where `listen` says; resolves with this node's address (`ws://` or `wss://`), or rejects with FDN_ERR_LISTEN_FAILED. */
  async listen(listen: { host?: string; port?: number; backlog?: number }): Promise<string> {
    const { tls, handshakeTimeoutMs } = this.options;
    const mutual = tls?.mutual === true;
    // Slow or silent clients (slowloris, half-open sockets) get `handshakeTimeoutMs` for the
    // HTTP upgrade too, checked every second rather than Node's default 30 s.
    const http = { headersTimeout: handshakeTimeoutMs, requestTimeout: handshakeTimeoutMs, connectionsCheckingInterval: Math.min(1_000, handshakeTimeoutMs) };
    const server = tls === undefined ? createHttpServer(http) : createHttpsServer({ ...http, key: tls.key, cert: tls.cert, ...(tls.ca === undefined ? {} : { ca: tls.ca }), requestCert: mutual, rejectUnauthorized: mutual });
    server.on('connection', (socket: Socket) => {
      this.#onRawConnection(socket);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgrade(req, socket, head);
    });
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('this is an @fdn node: connect with WebSocket\n');
    });
    const host = listen.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(listenFailed(err, host, listen.port ?? 0));
      });
      // A long accept queue: a seed that thousands of nodes join through at once, with its event
      // loop busy, would otherwise drop SYNs (Node's default 511), and each drop costs the
      // dialler a retransmission timeout of 1, 3, 7 seconds (measured: handshakes timing out).
      server.listen({ port: listen.port ?? 0, host, backlog: listen.backlog ?? 4_096 }, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    this.#server = server;
    const bound = server.address() as AddressInfo;
    return addressToUrl({ host, port: bound.port, tls: tls !== undefined });
  }

  /** Sockets refused or closed before they authenticated (a full pool, a timeout). */
  get refused(): number {
    return this.#refused;
  }

  /** The socket from `remote` proved the secret: it leaves the pool of unauthenticated ones. */
  authenticated(remote: string): void {
    const socket = this.#unauthenticated.get(remote);
    if (socket === undefined) return;
    this.#unauthenticated.delete(remote);
    socket.setTimeout(0);
  }

  /** Closes every socket and the server. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const wss of [this.#wss, this.#wssDeflate]) {
      for (const client of wss.clients) client.terminate();
      wss.close();
    }
    if (server !== null) {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    }
  }

  /**
   * A TCP connection, before anything is known of it: at most `maxPending` sockets may be
   * unauthenticated at once (more are closed at once, and counted), and each must finish its HTTP
   * upgrade and the handshake within `handshakeTimeoutMs` or be closed. Authenticated connections are not
   * in this pool, so a flood of silent or slow sockets cannot starve the connections that work.
   */
  #onRawConnection(socket: Socket): void {
    const { maxPending, handshakeTimeoutMs } = this.options;
    if (this.#unauthenticated.size >= maxPending) {
      this.#refused++;
      const from = socket.remoteAddress ?? '?';
      socket.destroy();
      this.host.report('warn', 'slots', `refused a connection from ${from}: ${String(maxPending)} sockets are already waiting to authenticate (maxPendingHandshakes)`);
      return;
    }
    const key = `${socket.remoteAddress ?? '?'}:${String(socket.remotePort ?? '?')}`;
    this.#unauthenticated.set(key, socket);
    socket.setTimeout(handshakeTimeoutMs, () => {
      if (this.#unauthenticated.get(key) !== socket) return;
      this.#refused++;
      socket.destroy();
    });
    socket.once('close', () => {
      if (this.#unauthenticated.get(key) === socket) this.#unauthenticated.delete(key);
    });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    const wss = path === '/fdn' ? this.#wss : path === '/fdn/z' ? this.#wssDeflate : null;
    if (wss === null || this.host.stopped()) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    if (this.host.handshakes() >= this.options.maxPending) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      this.options.logger.warn('refused a connection: too many handshakes in progress', { limit: this.options.maxPending });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.host.accept(ws, `${req.socket.remoteAddress ?? '?'}:${String(req.socket.remotePort ?? '?')}`);
    });
  }
}

/** A listen error as the user should read it: which address, what went wrong, what to do. */
function listenFailed(err: NodeJS.ErrnoException, host: string, port: number): TopologyError {
  const where = `${host}:${String(port)}`;
  const what =
    err.code === 'EADDRINUSE'
      ? `port ${String(port)} on ${host} is already in use (another node or program listens there): pick another port, or 0 for any free one`
      : err.code === 'EADDRNOTAVAIL'
        ? `${host} is not an address of this machine: listen on one of its addresses, 127.0.0.1, or 0.0.0.0`
        : err.code === 'EACCES'
          ? `not allowed to listen on ${where} (ports below 1024 need privileges): pick a port from 1024 up`
          : `cannot listen on ${where}: ${err.message}`;
  return new TopologyError(TopologyErrorCode.LISTEN_FAILED, what, { cause: err });
}

