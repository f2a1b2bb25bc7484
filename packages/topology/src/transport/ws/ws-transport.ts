// The Transport over real WebSockets (ws, with bufferutil): listens, dials, authenticates every
// socket, and turns sockets into links. See ws-link.ts for the one-socket-per-slot rule and
// wire/handshake.ts for the handshake.

import type { PhiAccrualOptions } from '../../failure/phi-accrual.ts';
import { defaultLogger, heldBack, LogThrottle, newIncarnation, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random } from '@fdn/core';
import { WebSocket } from 'ws';
import type { ChannelConfig, ChannelOptions } from '../../channels/config.ts';
import { CONTROL, resolveChannels } from '../../channels/config.ts';
import { MAX_BATCH_BYTES, WriteScheduler } from '../../channels/outbox.ts';
import { CloseCode, closeCodeName, TopologyError, TopologyErrorCode } from '../../errors.ts';
import { addressToUrl, isValidNodeName } from '../../node/identity.ts';
import type { Address, NodeIdentity } from '../../node/identity.ts';
import { Emitter } from '../../util/emitter.ts';
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
import type { Link, LinkDownReason, MessageHandler, Transport, TransportEvents } from '../types.ts';
import { Conn } from './conn.ts';
import { WsLink } from './ws-link.ts';
import { Dialer } from './ws-dialer.ts';
import { Listener } from './ws-listener.ts';
import type { TlsOptions } from './tls-options.ts';

export type { TlsOptions };
import type { LinkHost } from './ws-link.ts';

/** User options of {@link createWsTransport}. */
export interface WsTransportOptions {
  /** This node's name: letters, digits and `_ . @ : -`. */
  name: string;
  /** This start's incarnation (default: from the wall clock, see `newIncarnation`): a restart must get a larger one. */
  incarnation?: number;
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
  /** A link with nothing heard for this long goes down (default 10,000 ms), whatever the failure detector says. */
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
export class WsTransport implements Transport, LinkHost {
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
  readonly #links = new Map<string, WsLink>();
  readonly #handshaking = new Set<Conn>();
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #connecting = new Map<string, Promise<Link>>();
  readonly #linkWaiters = new Set<{ wants: (link: WsLink) => boolean; done: (link: WsLink | null) => void }>();
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
    this.#self = { name: options.name, incarnation: options.incarnation ?? newIncarnation(this.clock, random), addresses: [] };
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
        link: (name) => this.#links.get(name),
        awaitLink: (wants) => this.#awaitLink(wants),
        onMessages: (conn, onHandshake) => {
          this.#onMessages(conn, onHandshake);
        },
        refuse: (conn, code, reason) => {
          this.#refuse(conn, code, reason);
        },
        report: (level, key, message, fields) => {
          this.#report(level, key, message, fields);
        },
        onClosed: (conn, code, reason) => {
          this.#onClosed(conn, code, reason);
        },
        attachControl: (conn) => this.#attachControl(conn),
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
    // No events after stop: listeners are dropped before links are closed.
    this.#events.clear();
    if (wasStarting !== null) await wasStarting.catch(() => undefined);
    for (const link of [...this.#links.values()]) link.down({ kind: 'shutdown', closeCode: CloseCode.SHUTDOWN, message: 'node stopping' }, CloseCode.SHUTDOWN);
    for (const conn of this.#handshaking) conn.close(CloseCode.SHUTDOWN, 'node stopping');
    this.#handshaking.clear();
    for (const waiter of this.#linkWaiters) waiter.done(null);
    this.#linkWaiters.clear();
    await this.#closeServer();
  }

  /**
   * Simulates a crash (for tests): every socket is dropped without a close frame and the
   * listener closes; peers see their links lost. No events follow.
   */
  async abort(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#events.clear();
    for (const link of [...this.#links.values()]) link.down({ kind: 'shutdown', message: 'aborted' }, CloseCode.SHUTDOWN, true);
    for (const conn of this.#handshaking) conn.terminate();
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

  link(name: string): Link | undefined {
    const link = this.#links.get(name);
    return link?.up === true ? link : undefined;
  }

  links(): Link[] {
    return [...this.#links.values()].filter((l) => l.up);
  }

  connect(address: Address, expectedName?: string): Promise<Link> {
    if (this.#state === 'stopped') return Promise.reject(new TopologyError(TopologyErrorCode.STOPPED, `transport ${this.#self.name} is stopped`));
    if (this.#state !== 'started') return Promise.reject(new TopologyError(TopologyErrorCode.NOT_STARTED, `transport ${this.#self.name}: call start() before connect()`));
    let url: string;
    try {
      url = addressToUrl(address);
    } catch (err) {
      return Promise.reject(new TopologyError(TopologyErrorCode.BAD_CONFIG, (err as Error).message));
    }
    for (const link of this.#links.values()) {
      if (link.up && (link.peer.addresses.includes(url) || (expectedName !== undefined && link.peer.name === expectedName))) return Promise.resolve(link);
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

  dial(link: WsLink, channel: string, index: number): void {
    this.#dialer.dialSlot(link, channel, index);
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
    const conn = new Conn(ws, 'acceptor', this.maxMessageBytes, this.clock.now(), remote);
    this.#handshaking.add(conn);
    const timer = this.clock.setTimer(this.handshakeTimeoutMs, () => {
      if (conn.state === 'handshake') this.#refuse(conn, CloseCode.HANDSHAKE_TIMEOUT, `handshake not finished within ${this.handshakeTimeoutMs} ms`);
    });
    let nonce: string | null = null;
    let proven = false;
    this.#onMessages(conn, (msg) => {
      if (conn.hello === null) {
        if (msg.t !== 'hello') {
          this.#refuse(conn, CloseCode.PROTOCOL_ERROR, `expected hello, got '${msg.t}'`);
          return;
        }
        if (msg.v !== PROTOCOL_VERSION) {
          this.#report('error', `version:${msg.name}`, `refused ${msg.name} from ${remote}: it speaks protocol ${msg.v}, this node speaks ${PROTOCOL_VERSION}; run the same @fdn version on both`);
          this.#refuse(conn, CloseCode.VERSION_MISMATCH, `protocol ${msg.v} not supported; this node speaks ${PROTOCOL_VERSION}`);
          return;
        }
        if (!this.channels.has(msg.channel) || msg.index >= (this.channels.get(msg.channel)?.parallelism ?? 0)) {
          this.#refuse(conn, CloseCode.UNKNOWN_CHANNEL, `no channel '${msg.channel}' connection ${msg.index} on ${this.#self.name}`);
          return;
        }
        if (msg.name === this.#self.name) {
          this.#report('error', `own-name:${remote}`, `refused a node at ${remote} that uses this node's own name (${msg.name}); give every node a unique name`);
          this.#refuse(conn, CloseCode.DUPLICATE_NAME, `${msg.name} is this node's own name`);
          return;
        }
        // Both nodes dialling each other at once: the socket dialled by the smaller name is kept,
        // decided now, before either carries a frame (as Erlang's distribution handshake does).
        if (msg.channel === CONTROL && this.#self.name < msg.name && this.#dialer.pendingControlDial(msg.name, msg.addresses) !== undefined) {
          this.#refuse(conn, CloseCode.CROSSED, `both nodes dialled; keeping the socket ${this.#self.name} dialled`);
          return;
        }
        conn.hello = msg;
        conn.dialedBy = msg.name;
        nonce = makeNonce();
        conn.sendText({
          t: 'challenge',
          v: PROTOCOL_VERSION,
          name: this.#self.name,
          incarnation: this.#self.incarnation,
          addresses: [...this.#self.addresses],
          nonce,
          proof: acceptorProof(this.#secret, msg, nonce, this.#self),
        } satisfies Challenge);
        return;
      }
      if (proven || msg.t !== 'proof' || nonce === null) {
        this.#refuse(conn, CloseCode.PROTOCOL_ERROR, `unexpected '${msg.t}' during the handshake`);
        return;
      }
      const hello = conn.hello;
      if (!proofsEqual(msg.proof, dialerProof(this.#secret, hello, nonce, this.#self))) {
        this.#report('error', `auth:${hello.name}`, `refused ${hello.name} from ${remote}: it does not prove the cluster secret; check that both nodes are configured with the same secret`);
        this.#refuse(conn, CloseCode.AUTH_FAILED, 'wrong cluster secret');
        return;
      }
      proven = true;
      this.clock.clearTimer(timer);
      this.#listener?.authenticated(remote);
      conn.peer = { name: hello.name, incarnation: hello.incarnation, addresses: hello.addresses };
      void this.#admit(conn);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.clock.clearTimer(timer);
      conn.state = 'closed';
      this.#handshaking.delete(conn);
      this.#onClosed(conn, code, reason.toString());
    });
    ws.on('error', (err: Error) => {
      this.logger.debug(`socket error from ${remote}`, { reason: err });
    });
  }

  /** Binds an authenticated inbound socket and welcomes it, or refuses it. */
  async #admit(conn: Conn): Promise<void> {
    const peer = conn.peer as NodeIdentity;
    if (conn.channel === CONTROL) {
      // The peer (smaller name) dialled us while we dial it: its socket wins; abort ours. Only
      // now that the peer is authenticated, so a forged hello cannot cancel a real dial.
      const mine = this.#dialer.pendingControlDial(peer.name, peer.addresses);
      if (mine !== undefined && peer.name < this.#self.name) {
        mine.crossedWith = peer.name;
        mine.close(CloseCode.CROSSED, `both nodes dialled; keeping the socket ${peer.name} dialled`);
      }
      await this.#attachControl(conn);
      return;
    }
    const link = this.#links.get(peer.name);
    if (link?.up !== true || link.peer.incarnation !== peer.incarnation) {
      this.#refuse(conn, CloseCode.NO_LINK, `no link with ${peer.name} (incarnation ${peer.incarnation})`);
      return;
    }
    this.#welcome(conn);
    link.attach(conn);
  }

  #welcome(conn: Conn): void {
    if (conn.state !== 'handshake') return;
    conn.sendText({ t: 'welcome' });
    conn.state = 'open';
    this.#handshaking.delete(conn);
  }

  /**
   * Attaches an authenticated control socket: to the existing link (crossing or reconnect), in
   * place of a dead old incarnation, or as a new link. Refuses a second live node with the same name.
   */
  async #attachControl(conn: Conn): Promise<void> {
    const peer = conn.peer as NodeIdentity;
    const existing = this.#links.get(peer.name);
    if (existing?.up === true && existing.peer.incarnation !== peer.incarnation) {
      const alive = await existing.probe(this.#probeTimeoutMs);
      if (conn.state === 'closed' || this.#state === 'stopped') return;
      if (alive) {
        this.logger.error(`refused a second node named ${peer.name} (incarnation ${peer.incarnation}): ${peer.name} is already connected with incarnation ${existing.peer.incarnation} and still answers; give every node a unique name`);
        this.#refuse(conn, CloseCode.DUPLICATE_NAME, `${peer.name} is already connected with another incarnation`);
        return;
      }
      existing.down({ kind: 'replaced', message: `${peer.name} restarted (incarnation ${existing.peer.incarnation} → ${peer.incarnation})` });
    }
    const current = this.#links.get(peer.name);
    if (current?.up === true) {
      if (conn.role === 'acceptor') this.#welcome(conn);
      current.attach(conn);
      return;
    }
    const link = new WsLink(peer, this);
    this.#links.set(peer.name, link);
    if (conn.role === 'acceptor') this.#welcome(conn);
    link.attach(conn);
    this.logger.info(`link up with ${peer.name}`, { incarnation: peer.incarnation, via: conn.role === 'dialer' ? 'dialled' : 'accepted' });
    this.#events.emit('linkUp', link);
    for (const waiter of [...this.#linkWaiters]) if (waiter.wants(link)) waiter.done(link);
  }

  /** The first live link that `wants` accepts, now or within the handshake timeout (null if none). */
  #awaitLink(wants: (link: WsLink) => boolean): Promise<WsLink | null> {
    for (const link of this.#links.values()) if (link.up && wants(link)) return Promise.resolve(link);
    return new Promise((resolve) => {
      const waiter = {
        wants,
        done: (link: WsLink | null) => {
          this.#linkWaiters.delete(waiter);
          this.clock.clearTimer(timer);
          resolve(link);
        },
      };
      const timer = this.clock.setTimer(this.handshakeTimeoutMs, () => {
        waiter.done(null);
      });
      this.#linkWaiters.add(waiter);
    });
  }

  // ==== Traffic and closes ====

  /**
   * Routes a socket's messages: frames once open; before that, handshake messages (text, parsed
   * and size-checked) to `onHandshake`. A binary frame before the handshake is refused.
   */
  #onMessages(conn: Conn, onHandshake: (msg: HandshakeMessage) => void): void {
    conn.ws.on('message', (message: Buffer | Buffer[], isBinary: boolean) => {
      if (conn.state === 'open') {
        this.#receive(conn, message, isBinary);
        return;
      }
      if (conn.state === 'closed') return;
      if (isBinary) {
        this.#refuse(conn, CloseCode.NOT_AUTHENTICATED, 'binary frame before the handshake completed');
        return;
      }
      // Text messages always arrive as one buffer, whatever the binary type.
      const text = message as Buffer;
      if (text.length > MAX_HANDSHAKE_BYTES) {
        this.#refuse(conn, CloseCode.PROTOCOL_ERROR, 'handshake message too large');
        return;
      }
      const msg = parseHandshake(text.toString('utf8'));
      if (typeof msg === 'string') {
        this.#refuse(conn, CloseCode.PROTOCOL_ERROR, msg);
        return;
      }
      onHandshake(msg);
    });
  }

  #receive(conn: Conn, message: Buffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) {
      this.#protocolError(conn, CloseCode.PROTOCOL_ERROR, 'text frame after the handshake');
      return;
    }
    const error = conn.receive(message);
    if (error !== null) this.#protocolError(conn, error.code, error.reason);
  }

  #protocolError(conn: Conn, code: number, reason: string): void {
    this.#report('warn', `protocol:${conn.peer?.name ?? conn.address}:${String(code)}`, `closing a socket from ${conn.peer?.name ?? conn.address}: ${reason}`, { channel: conn.channel, code: closeCodeName(code) });
    conn.close(code, reason);
  }

  /** A refusal or protocol error, logged with backoff per peer and kind: a misconfigured peer redialled every second must not flood the log. */
  #report(level: 'warn' | 'error', key: string, message: string, fields?: Record<string, unknown>): void {
    const held = this.#throttle.occurrence(key);
    if (held === null) return;
    this.logger[level](message + heldBack(held), fields);
  }

  #refuse(conn: Conn, code: number, reason: string): void {
    if (code !== CloseCode.HANDSHAKE_TIMEOUT && code !== CloseCode.CROSSED) {
      this.#report('warn', `refused:${conn.hello?.name ?? conn.address}:${String(code)}`, `refused a socket from ${conn.hello?.name ?? conn.address}: ${reason}`, { code: closeCodeName(code) });
    }
    this.#handshaking.delete(conn);
    conn.close(code, reason);
  }

  #onClosed(conn: Conn, code: number, reason: string): void {
    const name = conn.peer?.name;
    if (name === undefined) return;
    const link = this.#links.get(name);
    if (link !== undefined && conn.handler === link) link.connClosed(conn, code, reason);
  }

  linkDown(link: WsLink, reason: LinkDownReason): void {
    if (this.#links.get(link.peer.name) === link) this.#links.delete(link.peer.name);
    if (this.#state === 'stopped') return;
    this.logger.info(`link down with ${link.peer.name}: ${reason.kind}`, { message: reason.message, closeCode: reason.closeCode });
    this.#events.emit('linkDown', link, reason);
  }
}

