// The Transport over real WebSockets (ws, with bufferutil): listens, dials, authenticates every
// socket, and turns sockets into connections. See ws-connection.ts for the one-socket-per-slot rule and
// wire/handshake.ts for the handshake.

import type { PhiAccrualOptions } from '../../failure/phi-accrual.ts';
import { defaultLogger, Emitter, heldBack, LogThrottle, newIncarnation, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random } from '@fdn/core';
import { WebSocket } from 'ws';
import type { ChannelConfig, ChannelOptions } from '../../channels/config.ts';
import { CONTROL, resolveChannels } from '../../channels/config.ts';
import { MAX_BATCH_BYTES, WriteScheduler } from '../../channels/outbox.ts';
import { CloseCode, closeCodeName, TopologyError, TopologyErrorCode } from '../../errors.ts';
import { addressToUrl, isValidNodeName } from '../../node/identity.ts';
import type { Address, NodeIdentity } from '../../node/identity.ts';
import {
  acceptorProof,
  dialerProof,
  makeNonce,
  MAX_HANDSHAKE_BYTES,
  parseHandshake,
  proofsEqual,
  PROTOCOL_VERSION,
  secretBytes,
} from '../../wire/handshake.ts';
import type { Challenge, HandshakeMessage } from '../../wire/handshake.ts';
import type { Connection, ConnectionDownReason, MessageHandler, Transport, TransportEvents } from '../types.ts';
import { ChannelSocket } from './channel-socket.ts';
import { WsConnection } from './ws-connection.ts';
import { Dialer } from './ws-dialer.ts';
import { Listener } from './ws-listener.ts';
import type { TlsOptions } from './tls-options.ts';

export type { TlsOptions };
import type { ConnectionHost } from './ws-connection.ts';

/** User options of {@link createWsTransport}. */
export interface WsTransportOptions {
  /** This node's name: letters, digits and `_ . @ : -`. */
  name: string;
  /** This start's incarnation (default: from the wall clock, see `newIncarnation`): a restart must get a larger one. */
  incarnation?: number;
  /** The application's version, told to every peer in the handshake (see `NodeIdentity.appVersion`). */
  appVersion?: string;
  /** The shared cluster secret. It never leaves the node. */
  secret: string | Uint8Array;
  /** Where to listen (default 127.0.0.1, an ephemeral port; `false` for a node that only dials); `backlog`: the accept queue (default 4,096, capped by the kernel). */
  listen?: { host?: string; port?: number; backlog?: number } | false;
  /** Addresses to give peers (default: the bound listen address). */
  advertise?: string[];
  /** Channels in addition to (or overriding) control, default and bulk. */
  channels?: Record<string, ChannelOptions>;
  /** Listen and dial with TLS (wss). */
  tls?: TlsOptions;
  /** Largest message accepted (default 256 MiB); larger ones close the socket with MESSAGE_TOO_LARGE. */
  maxMessageBytes?: number;
  /** Default 5,000 ms. */
  handshakeTimeoutMs?: number;
  /** Control-channel ping interval (default 1,000 ms). */
  pingIntervalMs?: number;
  /** A connection with nothing heard for this long goes down (default 10,000 ms), whatever the failure detector says. */
  idleTimeoutMs?: number;
  /**
   * The φ accrual failure detector over the peer's heartbeats (its control-channel pings), checked
   * every ping interval: defaults threshold 8, acceptable pause 3,000 ms, min std 100 ms (Akka's).
   * `false`: the idle timeout alone.
   */
  failureDetector?: PhiAccrualOptions | false;
  /** How long to wait for an old incarnation to answer before a same-named node replaces it (default 1,000 ms). */
  probeTimeoutMs?: number;
  /** Sockets allowed to be mid-handshake at once (default 1,024); more are refused. */
  maxPendingHandshakes?: number;
}

/** Injected collaborators. */
export interface WsTransportComponents {
  clock?: Clock;
  logger?: Logger;
  random?: Random;
}

/** A Transport over WebSockets. */
export function createWsTransport(options: WsTransportOptions, components: WsTransportComponents = {}): WsTransport {
  return new WsTransport(options, components);
}


/** A Transport over WebSockets; create one with {@link createWsTransport}. */
export class WsTransport implements Transport, ConnectionHost {
  readonly channels: ReadonlyMap<string, ChannelConfig>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly #throttle: LogThrottle;
  readonly scheduler = new WriteScheduler();
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly failureDetector: PhiAccrualOptions | false;
  readonly handshakeTimeoutMs: number;
  readonly #probeTimeoutMs: number;
  readonly #maxPending: number;
  readonly maxMessageBytes: number;
  readonly #maxPayload: number;
  readonly #secret: Buffer;
  readonly #options: WsTransportOptions;
  #self: NodeIdentity;
  #state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  #starting: Promise<void> | null = null;
  #listener: Listener | null = null;
  readonly #dialer: Dialer;
  readonly #connections = new Map<string, WsConnection>();
  readonly #handshaking = new Set<ChannelSocket>();
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #connecting = new Map<string, Promise<Connection>>();
  readonly #connectionWaiters = new Set<{ wants: (connection: WsConnection) => boolean; done: (connection: WsConnection | null) => void }>();
  readonly #events: Emitter<TransportEvents>;

  constructor(options: WsTransportOptions, components: WsTransportComponents) {
    if (!isValidNodeName(options.name)) {
      throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `invalid node name ${JSON.stringify(options.name)}: use 1–255 letters, digits, '_', '.', '@', ':' or '-'`);
    }
    this.#options = options;
    this.#secret = secretBytes(options.secret);
    this.channels = resolveChannels(options.channels);
    this.clock = components.clock ?? systemClock();
    this.logger = (components.logger ?? defaultLogger()).child({ node: options.name });
    this.#throttle = new LogThrottle(this.clock);
    const random = components.random ?? systemRandom();
    this.#self = { name: options.name, incarnation: options.incarnation ?? newIncarnation(this.clock, random), addresses: [], ...(options.appVersion === undefined ? {} : { appVersion: options.appVersion }) };
    this.pingIntervalMs = options.pingIntervalMs ?? 1_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.failureDetector = options.failureDetector ?? {};
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 1_000;
    this.#maxPending = options.maxPendingHandshakes ?? 1_024;
    this.maxMessageBytes = options.maxMessageBytes ?? 256 * 1024 * 1024;
    let largestChunk = 0;
    for (const c of this.channels.values()) largestChunk = Math.max(largestChunk, c.chunkSize);
    this.#maxPayload = Math.max(MAX_BATCH_BYTES, largestChunk) + 64;
    this.#events = new Emitter<TransportEvents>((event, err) => {
      this.logger.error(`a '${event}' listener threw`, { reason: err });
    });
    this.#dialer = new Dialer(
      {
        clock: this.clock,
        logger: this.logger,
        channels: this.channels,
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        maxMessageBytes: this.maxMessageBytes,
        handshaking: this.#handshaking,
        self: () => this.#self,
        started: () => this.#state === 'started',
        connection: (name) => this.#connections.get(name),
        awaitConnection: (wants) => this.#awaitConnection(wants),
        onMessages: (sock, onHandshake) => {
          this.#onMessages(sock, onHandshake);
        },
        refuse: (sock, code, reason) => {
          this.#refuse(sock, code, reason);
        },
        report: (level, key, message, fields) => {
          this.#report(level, key, message, fields);
        },
        onClosed: (sock, code, reason) => {
          this.#onClosed(sock, code, reason);
        },
        attachControl: (sock) => this.#attachControl(sock),
      },
      { secret: this.#secret, tls: options.tls, maxPayload: this.#maxPayload },
    );
  }

  get self(): NodeIdentity {
    return this.#self;
  }

  // ==== Lifecycle ====

  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(new TopologyError(TopologyErrorCode.STOPPED, `transport ${this.#self.name} was stopped; create a new one`));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    const listen = this.#options.listen ?? {};
    if (listen !== false) {
      const listener = new Listener(
        {
          tls: this.#options.tls,
          handshakeTimeoutMs: this.handshakeTimeoutMs,
          maxPending: this.#maxPending,
          maxPayload: this.#maxPayload,
          logger: this.logger,
        },
        {
          report: (level, key, message) => {
            this.#report(level, key, message);
          },
          handshakes: () => this.#handshaking.size,
          stopped: () => this.#state === 'stopped',
          accept: (ws, remote) => {
            this.#accept(ws, remote);
          },
        },
      );
      const address = await listener.listen(listen);
      this.#listener = listener;
      this.#self = { ...this.#self, addresses: this.#options.advertise ?? [address] };
    }
    // stop() may have run while we awaited the listener.
    if (!this.#stopped()) this.#state = 'started';
  }

  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasStarting = this.#starting;
    this.#state = 'stopped';
    // No events after stop: listeners are dropped before connections are closed.
    this.#events.clear();
    if (wasStarting !== null) await wasStarting.catch(() => undefined);
    for (const connection of [...this.#connections.values()]) connection.down({ kind: 'shutdown', closeCode: CloseCode.SHUTDOWN, message: 'node stopping' }, CloseCode.SHUTDOWN);
    for (const sock of this.#handshaking) sock.close(CloseCode.SHUTDOWN, 'node stopping');
    this.#handshaking.clear();
    for (const waiter of this.#connectionWaiters) waiter.done(null);
    this.#connectionWaiters.clear();
    await this.#closeServer();
  }

  /**
   * Simulates a crash (for tests): every socket is dropped without a close frame and the
   * listener closes; peers see their connections lost. No events follow.
   */
  async abort(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#events.clear();
    for (const connection of [...this.#connections.values()]) connection.down({ kind: 'shutdown', message: 'aborted' }, CloseCode.SHUTDOWN, true);
    for (const sock of this.#handshaking) sock.terminate();
    this.#handshaking.clear();
    await this.#closeServer();
  }

  async #closeServer(): Promise<void> {
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
  }

  // ==== Public API ====

  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  onMessage(channel: string, handler: MessageHandler): void {
    if (!this.channels.has(channel)) {
      throw new TopologyError(TopologyErrorCode.UNKNOWN_CHANNEL, `unknown channel '${channel}'; configured: ${[...this.channels.keys()].join(', ')}`);
    }
    this.#handlers.set(channel, handler);
  }

  handlerFor(channel: string): MessageHandler | undefined {
    return this.#handlers.get(channel);
  }

  connection(name: string): Connection | undefined {
    const connection = this.#connections.get(name);
    return connection?.up === true ? connection : undefined;
  }

  connections(): Connection[] {
    return [...this.#connections.values()].filter((l) => l.up);
  }

  connect(address: Address, expectedName?: string): Promise<Connection> {
    if (this.#state === 'stopped') return Promise.reject(new TopologyError(TopologyErrorCode.STOPPED, `transport ${this.#self.name} is stopped`));
    if (this.#state !== 'started') return Promise.reject(new TopologyError(TopologyErrorCode.NOT_STARTED, `transport ${this.#self.name}: call start() before connect()`));
    let url: string;
    try {
      url = addressToUrl(address);
    } catch (err) {
      return Promise.reject(new TopologyError(TopologyErrorCode.BAD_CONFIG, (err as Error).message));
    }
    for (const connection of this.#connections.values()) {
      if (connection.up && (connection.peer.addresses.includes(url) || (expectedName !== undefined && connection.peer.name === expectedName))) return Promise.resolve(connection);
    }
    const key = `${url}|${expectedName ?? ''}`;
    let pending = this.#connecting.get(key);
    if (pending === undefined) {
      pending = this.#dialer.dialControl(url, expectedName).finally(() => this.#connecting.delete(key));
      this.#connecting.set(key, pending);
    }
    return pending;
  }

  // ==== Dialling (ws-dialer.ts) ====

  dial(connection: WsConnection, channel: string, index: number): void {
    this.#dialer.dialSlot(connection, channel, index);
  }

  // ==== Accepting ====

  /** Sockets refused or closed before they authenticated (a full pool, a timeout). */
  get refusedSockets(): number {
    return this.#listener?.refused ?? 0;
  }

  /**
   * @internal Runs the accept path (handshake, authentication, frames) on a socket-like object:
   * lets fuzz tests feed hundreds of thousands of frames without a kernel socket each.
   */
  acceptSocket(ws: WebSocket, remote: string): void {
    this.#accept(ws, remote);
  }

  #accept(ws: WebSocket, remote: string): void {
    ws.binaryType = 'fragments';
    const sock = new ChannelSocket(ws, 'acceptor', this.maxMessageBytes, this.clock.now(), remote);
    this.#handshaking.add(sock);
    const timer = this.clock.setTimer(this.handshakeTimeoutMs, () => {
      if (sock.state === 'handshake') this.#refuse(sock, CloseCode.HANDSHAKE_TIMEOUT, `handshake not finished within ${this.handshakeTimeoutMs} ms`);
    });
    let nonce: string | null = null;
    let proven = false;
    this.#onMessages(sock, (msg) => {
      if (sock.hello === null) {
        if (msg.t !== 'hello') {
          this.#refuse(sock, CloseCode.PROTOCOL_ERROR, `expected hello, got '${msg.t}'`);
          return;
        }
        if (msg.v !== PROTOCOL_VERSION) {
          this.#report('error', `version:${msg.name}`, `refused ${msg.name} from ${remote}: it speaks protocol ${msg.v}, this node speaks ${PROTOCOL_VERSION}; run the same @fdn version on both`);
          this.#refuse(sock, CloseCode.VERSION_MISMATCH, `protocol ${msg.v} not supported; this node speaks ${PROTOCOL_VERSION}`);
          return;
        }
        if (!this.channels.has(msg.channel) || msg.index >= (this.channels.get(msg.channel)?.parallelism ?? 0)) {
          this.#refuse(sock, CloseCode.UNKNOWN_CHANNEL, `no channel '${msg.channel}' socket ${msg.index} on ${this.#self.name}`);
          return;
        }
        if (msg.name === this.#self.name) {
          this.#report('error', `own-name:${remote}`, `refused a node at ${remote} that uses this node's own name (${msg.name}); give every node a unique name`);
          this.#refuse(sock, CloseCode.DUPLICATE_NAME, `${msg.name} is this node's own name`);
          return;
        }
        // Both nodes dialling each other at once: the socket dialled by the smaller name is kept,
        // decided now, before either carries a frame (as Erlang's distribution handshake does).
        if (msg.channel === CONTROL && this.#self.name < msg.name && this.#dialer.pendingControlDial(msg.name, msg.addresses) !== undefined) {
          this.#refuse(sock, CloseCode.CROSSED, `both nodes dialled; keeping the socket ${this.#self.name} dialled`);
          return;
        }
        sock.hello = msg;
        sock.dialedBy = msg.name;
        nonce = makeNonce();
        sock.sendText({
          t: 'challenge',
          v: PROTOCOL_VERSION,
          name: this.#self.name,
          incarnation: this.#self.incarnation,
          addresses: [...this.#self.addresses],
          nonce,
          proof: acceptorProof(this.#secret, msg, nonce, this.#self),
          ...(this.#self.appVersion === undefined ? {} : { app: this.#self.appVersion }),
        } satisfies Challenge);
        return;
      }
      if (proven || msg.t !== 'proof' || nonce === null) {
        this.#refuse(sock, CloseCode.PROTOCOL_ERROR, `unexpected '${msg.t}' during the handshake`);
        return;
      }
      const hello = sock.hello;
      if (!proofsEqual(msg.proof, dialerProof(this.#secret, hello, nonce, this.#self))) {
        this.#report('error', `auth:${hello.name}`, `refused ${hello.name} from ${remote}: it does not prove the cluster secret; check that both nodes are configured with the same secret`);
        this.#refuse(sock, CloseCode.AUTH_FAILED, 'wrong cluster secret');
        return;
      }
      proven = true;
      this.clock.clearTimer(timer);
      this.#listener?.authenticated(remote);
      sock.peer = { name: hello.name, incarnation: hello.incarnation, addresses: hello.addresses, ...(hello.app === undefined ? {} : { appVersion: hello.app }) };
      void this.#admit(sock);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.clock.clearTimer(timer);
      sock.state = 'closed';
      this.#handshaking.delete(sock);
      this.#onClosed(sock, code, reason.toString());
    });
    ws.on('error', (err: Error) => {
      this.logger.debug(`socket error from ${remote}`, { reason: err });
    });
  }

  /** Binds an authenticated inbound socket and welcomes it, or refuses it. */
  async #admit(sock: ChannelSocket): Promise<void> {
    const peer = sock.peer as NodeIdentity;
    if (sock.channel === CONTROL) {
      // The peer (smaller name) dialled us while we dial it: its socket wins; abort ours. Only
      // now that the peer is authenticated, so a forged hello cannot cancel a real dial.
      const mine = this.#dialer.pendingControlDial(peer.name, peer.addresses);
      if (mine !== undefined && peer.name < this.#self.name) {
        mine.crossedWith = peer.name;
        mine.close(CloseCode.CROSSED, `both nodes dialled; keeping the socket ${peer.name} dialled`);
      }
      await this.#attachControl(sock);
      return;
    }
    const connection = this.#connections.get(peer.name);
    if (connection?.up !== true || connection.peer.incarnation !== peer.incarnation) {
      this.#refuse(sock, CloseCode.NO_CONNECTION, `no connection with ${peer.name} (incarnation ${peer.incarnation})`);
      return;
    }
    this.#welcome(sock);
    connection.attach(sock);
  }

  #welcome(sock: ChannelSocket): void {
    if (sock.state !== 'handshake') return;
    sock.sendText({ t: 'welcome' });
    sock.state = 'open';
    this.#handshaking.delete(sock);
  }

  /**
   * Attaches an authenticated control socket: to the existing connection (crossing or reconnect), in
   * place of a dead old incarnation, or as a new connection. Refuses a second live node with the same name.
   */
  async #attachControl(sock: ChannelSocket): Promise<void> {
    const peer = sock.peer as NodeIdentity;
    const existing = this.#connections.get(peer.name);
    if (existing?.up === true && existing.peer.incarnation !== peer.incarnation) {
      const alive = await existing.probe(this.#probeTimeoutMs);
      if (sock.state === 'closed' || this.#state === 'stopped') return;
      if (alive) {
        this.logger.error(`refused a second node named ${peer.name} (incarnation ${peer.incarnation}): ${peer.name} is already connected with incarnation ${existing.peer.incarnation} and still answers; give every node a unique name`);
        this.#refuse(sock, CloseCode.DUPLICATE_NAME, `${peer.name} is already connected with another incarnation`);
        return;
      }
      existing.down({ kind: 'replaced', message: `${peer.name} restarted (incarnation ${existing.peer.incarnation} → ${peer.incarnation})` });
    }
    const current = this.#connections.get(peer.name);
    if (current?.up === true) {
      if (sock.role === 'acceptor') this.#welcome(sock);
      current.attach(sock);
      return;
    }
    const connection = new WsConnection(peer, this);
    this.#connections.set(peer.name, connection);
    if (sock.role === 'acceptor') this.#welcome(sock);
    connection.attach(sock);
    this.logger.info(`connection up with ${peer.name}`, { incarnation: peer.incarnation, via: sock.role === 'dialer' ? 'dialled' : 'accepted' });
    this.#events.emit('connectionUp', connection);
    for (const waiter of [...this.#connectionWaiters]) if (waiter.wants(connection)) waiter.done(connection);
  }

  /** The first live connection that `wants` accepts, now or within the handshake timeout (null if none). */
  #awaitConnection(wants: (connection: WsConnection) => boolean): Promise<WsConnection | null> {
    for (const connection of this.#connections.values()) if (connection.up && wants(connection)) return Promise.resolve(connection);
    return new Promise((resolve) => {
      const waiter = {
        wants,
        done: (connection: WsConnection | null) => {
          this.#connectionWaiters.delete(waiter);
          this.clock.clearTimer(timer);
          resolve(connection);
        },
      };
      const timer = this.clock.setTimer(this.handshakeTimeoutMs, () => {
        waiter.done(null);
      });
      this.#connectionWaiters.add(waiter);
    });
  }

  // ==== Traffic and closes ====

  /**
   * Routes a socket's messages: frames once open; before that, handshake messages (text, parsed
   * and size-checked) to `onHandshake`. A binary frame before the handshake is refused.
   */
  #onMessages(sock: ChannelSocket, onHandshake: (msg: HandshakeMessage) => void): void {
    sock.ws.on('message', (message: Buffer | Buffer[], isBinary: boolean) => {
      if (sock.state === 'open') {
        this.#receive(sock, message, isBinary);
        return;
      }
      if (sock.state === 'closed') return;
      if (isBinary) {
        this.#refuse(sock, CloseCode.NOT_AUTHENTICATED, 'binary frame before the handshake completed');
        return;
      }
      // Text messages always arrive as one buffer, whatever the binary type.
      const text = message as Buffer;
      if (text.length > MAX_HANDSHAKE_BYTES) {
        this.#refuse(sock, CloseCode.PROTOCOL_ERROR, 'handshake message too large');
        return;
      }
      const msg = parseHandshake(text.toString('utf8'));
      if (typeof msg === 'string') {
        this.#refuse(sock, CloseCode.PROTOCOL_ERROR, msg);
        return;
      }
      onHandshake(msg);
    });
  }

  #receive(sock: ChannelSocket, message: Buffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) {
      this.#protocolError(sock, CloseCode.PROTOCOL_ERROR, 'text frame after the handshake');
      return;
    }
    const error = sock.receive(message);
    if (error !== null) this.#protocolError(sock, error.code, error.reason);
  }

  #protocolError(sock: ChannelSocket, code: number, reason: string): void {
    this.#report('warn', `protocol:${sock.peer?.name ?? sock.address}:${String(code)}`, `closing a socket from ${sock.peer?.name ?? sock.address}: ${reason}`, { channel: sock.channel, code: closeCodeName(code) });
    sock.close(code, reason);
  }

  /** A refusal or protocol error, logged with backoff per peer and kind: a misconfigured peer redialled every second must not flood the log. */
  #report(level: 'warn' | 'error', key: string, message: string, fields?: Record<string, unknown>): void {
    const held = this.#throttle.occurrence(key);
    if (held === null) return;
    this.logger[level](message + heldBack(held), fields);
  }

  #refuse(sock: ChannelSocket, code: number, reason: string): void {
    if (code !== CloseCode.HANDSHAKE_TIMEOUT && code !== CloseCode.CROSSED) {
      this.#report('warn', `refused:${sock.hello?.name ?? sock.address}:${String(code)}`, `refused a socket from ${sock.hello?.name ?? sock.address}: ${reason}`, { code: closeCodeName(code) });
    }
    this.#handshaking.delete(sock);
    sock.close(code, reason);
  }

  #onClosed(sock: ChannelSocket, code: number, reason: string): void {
    const name = sock.peer?.name;
    if (name === undefined) return;
    const connection = this.#connections.get(name);
    if (connection !== undefined && sock.handler === connection) connection.connClosed(sock, code, reason);
  }

  connectionDown(connection: WsConnection, reason: ConnectionDownReason): void {
    if (this.#connections.get(connection.peer.name) === connection) this.#connections.delete(connection.peer.name);
    if (this.#state === 'stopped') return;
    this.logger.info(`connection down with ${connection.peer.name}: ${reason.kind}`, { message: reason.message, closeCode: reason.closeCode });
    this.#events.emit('connectionDown', connection, reason);
  }
}

