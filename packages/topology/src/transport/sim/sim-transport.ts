// A Transport on a SimNetwork. Connecting, delivering, closing and failing are timers on the
// network's virtual clock: a connection forms when the dial reaches the peer (the peer's side is up at
// once, the dialler's side one latency later), messages arrive in order after their latency, and
// a crashed or partitioned peer shows up as a lost connection.

import type { ChannelConfig } from '../../channels/config.ts';
import { resolveChannels } from '../../channels/config.ts';
import { CloseCode, TopologyError, TopologyErrorCode } from '../../errors.ts';
import { isValidNodeName } from '../../node/identity.ts';
import type { Address, NodeIdentity } from '../../node/identity.ts';
import type { ChannelMetrics, Connection, ConnectionDownReason, MessageHandler, SendOptions, SendStatus, Transport, TransportEvents } from '../types.ts';
import { createHash } from 'node:crypto';
import { Emitter } from '@fdn/core';
import type { VirtualClock, Logger } from '@fdn/core';
import type { ChannelOptions } from '../../channels/config.ts';
import type { ProtocolHandler } from '../../messenger/messenger.ts';

/** The tag of a message sent as bytes (protocol values have tags ≥ 0). */
const BYTES = -1;

/** A message held while its channel is paused. */
interface Held {
  size: number;
  tag: number;
  body: unknown;
}

/** Per channel: counters, and when the last message sent will arrive (deliveries keep their order). */
interface Counters {
  channel: string;
  lastArrival: number;
  messagesOut: number;
  bytesOut: number;
  messagesIn: number;
  bytesIn: number;
}

/** Options of one simulated node. */
export interface SimNodeOptions {
  name: string;
  incarnation?: number;
  secret: string | Uint8Array;
  channels?: Record<string, ChannelOptions>;
  /** False for a node that only dials (default true). */
  listen?: boolean;
  /** Dial timeout (default 5,000 ms). */
  handshakeTimeoutMs?: number;
  /** The application's version (see `NodeIdentity.appVersion`). */
  appVersion?: string;
}

/** Counters of a simulated network. */
export interface SimStats {
  delivered: number;
  lost: number;
  bytes: number;
}

/**
 * @internal What a SimTransport needs from its network (SimNetwork has it all): the clock, who
 * can reach whom and how fast, the deliveries' timers, and the address book of transports.
 */
export interface SimMedium {
  readonly clock: VirtualClock;
  readonly logger: Logger;
  readonly stats: SimStats;
  readonly partitionDetectMs: number;
  reachable(a: string, b: string): boolean;
  delay(from: string, to: string): number;
  lose(from: string, to: string): boolean;
  deliverAt(at: number, to: SimConnection, channel: string, size: number, tag: number, body: unknown): void;
  register(node: SimTransport): void;
  unregister(node: SimTransport): void;
  lookup(address: string): SimTransport | undefined;
}

/** Secrets are compared by digest: the simulator models authentication, not cryptography. */
export function secretDigest(secret: string | Uint8Array): string {
  return createHash('sha256').update(typeof secret === 'string' ? Buffer.from(secret) : secret).digest('hex');
}

/** One side of a simulated connection. */
export class SimConnection implements Connection {
  up = false;
  /** The other side's object. */
  remote: SimConnection | null = null;
  /** @internal When the last message on any channel arrives: a close must not overtake it. */
  lastArrivalAny = 0;
  /** Per channel used so far (a handful: a list beats a Map for memory, 10,000 nodes have 100,000 connections). */
  #counters: Counters[] | null = null;
  #paused: Map<string, Held[]> | null = null;
  /** Messages that arrived before this side came up (delivered right after its connectionUp). */
  #early: (Held & { channel: string })[] | null = null;
  downReason: ConnectionDownReason | null = null;

  constructor(
    readonly owner: SimTransport,
    readonly peer: NodeIdentity,
  ) {}

  get rttMs(): number | undefined {
    return this.up ? 2 * this.owner.network.delay(this.owner.self.name, this.peer.name) : undefined;
  }

  /** The simulator has no failure detector on a connection (a cut is a down at once). */
  get phi(): number | undefined {
    return undefined;
  }

  send(channel: string, payload: Uint8Array, _options?: SendOptions): SendStatus {
    // The payload belongs to the sender: the receiver gets its own copy, as over a socket.
    const bytes = Buffer.from(payload);
    return this.#transmit(channel, bytes.length, BYTES, bytes);
  }

  /**
   * Sends a protocol value by reference, without encoding (see Messenger). Same delivery as
   * `send`: after the latency, in order with the channel's other messages.
   */
  sendValue(channel: string, tag: number, value: unknown): SendStatus {
    return this.#transmit(channel, 0, tag, value);
  }

  /** `tag` is BYTES for a payload sent with `send`, else the protocol tag of a value. */
  #transmit(channel: string, size: number, tag: number, body: unknown): SendStatus {
    this.owner.checkChannel(channel);
    if (!this.up) return 'dropped';
    const c = this.#count(channel);
    c.messagesOut++;
    c.bytesOut += size;
    const net = this.owner.network;
    const from = this.owner.self.name;
    if (!net.reachable(from, this.peer.name) || net.lose(from, this.peer.name)) {
      net.stats.lost++;
      return 'sent';
    }
    const now = net.clock.now();
    const at = Math.max(now + net.delay(from, this.peer.name), c.lastArrival);
    c.lastArrival = at;
    if (at > this.lastArrivalAny) this.lastArrivalAny = at;
    if (this.remote !== null) net.deliverAt(at, this.remote, channel, size, tag, body);
    return 'sent';
  }

  /** @internal A message for this side before it is up. */
  holdEarly(channel: string, size: number, tag: number, body: unknown): void {
    (this.#early ??= []).push({ channel, size, tag, body });
  }

  /** @internal This side came up: what arrived early is delivered now, in order. */
  releaseEarly(): void {
    const early = this.#early;
    this.#early = null;
    if (early !== null) for (const m of early) if (this.up) this.receive(m.channel, m.size, m.tag, m.body);
  }

  /** @internal A message arrives (the network checked the connection is up). */
  receive(channel: string, size: number, tag: number, body: unknown): void {
    const held = this.#paused?.get(channel);
    if (held !== undefined) {
      held.push({ size, tag, body });
      return;
    }
    const c = this.#count(channel);
    c.messagesIn++;
    c.bytesIn += size;
    if (tag === BYTES) this.owner.dispatch(this, channel, body as Buffer);
    else this.owner.dispatchValue(this, channel, tag, body);
  }

  whenWritable(): Promise<void> {
    return Promise.resolve();
  }

  pause(channel: string): void {
    this.owner.checkChannel(channel);
    const paused = (this.#paused ??= new Map<string, Held[]>());
    if (!paused.has(channel)) paused.set(channel, []);
  }

  resume(channel: string): void {
    const held = this.#paused?.get(channel);
    if (held === undefined) return;
    this.#paused?.delete(channel);
    for (const m of held) if (this.up) this.receive(channel, m.size, m.tag, m.body);
  }

  metrics(channel: string): ChannelMetrics {
    this.owner.checkChannel(channel);
    const c = this.#counters?.find((x) => x.channel === channel);
    return {
      channel,
      messagesOut: c?.messagesOut ?? 0,
      bytesOut: c?.bytesOut ?? 0,
      messagesIn: c?.messagesIn ?? 0,
      bytesIn: c?.bytesIn ?? 0,
      queuedMessages: 0,
      queuedBytes: 0,
      dropped: 0,
      sendLatencyMs: 0,
      sockets: this.up ? 1 : 0,
    };
  }

  #count(channel: string): Counters {
    const counters = (this.#counters ??= []);
    for (const c of counters) if (c.channel === channel) return c;
    const c: Counters = { channel, lastArrival: 0, messagesOut: 0, bytesOut: 0, messagesIn: 0, bytesIn: 0 };
    counters.push(c);
    return c;
  }

  close(message = 'closed by this node', code: number = CloseCode.CLOSED_BY_PEER): void {
    if (!this.up) return;
    this.owner.takeDown(this, { kind: 'closed', closeCode: code, message }, { kind: 'peer_closed', closeCode: code, message });
  }
}

/** A Transport on a SimNetwork. Create with `network.transport(options)`. */
export class SimTransport implements Transport {
  readonly channels: ReadonlyMap<string, ChannelConfig>;
  readonly #digest: string;
  readonly #listen: boolean;
  readonly #handshakeTimeoutMs: number;
  #self: NodeIdentity;
  #state: 'new' | 'started' | 'stopped' = 'new';
  readonly #connections = new Map<string, SimConnection>();
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #valueHandlers = new Map<string, (ProtocolHandler | undefined)[]>();
  readonly #pending = new Map<string, Promise<Connection>>();
  readonly #events: Emitter<TransportEvents>;

  /** @internal The network this transport lives on. */
  readonly network: SimMedium;

  /** @internal Use `network.transport(options)`. */
  constructor(
    network: SimMedium,
    options: SimNodeOptions,
    incarnation: number,
  ) {
    this.network = network;
    if (!isValidNodeName(options.name)) throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `invalid node name ${JSON.stringify(options.name)}`);
    this.channels = resolveChannels(options.channels);
    this.#digest = secretDigest(options.secret);
    this.#listen = options.listen ?? true;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
    this.#self = { name: options.name, incarnation, addresses: [], ...(options.appVersion === undefined ? {} : { appVersion: options.appVersion }) };
    this.#events = new Emitter<TransportEvents>((event, err) => {
      network.logger.error(`a '${event}' listener of ${options.name} threw`, { reason: err });
    });
  }

  get self(): NodeIdentity {
    return this.#self;
  }

  get alive(): boolean {
    return this.#state === 'started';
  }

  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(new TopologyError(TopologyErrorCode.STOPPED, `transport ${this.#self.name} was stopped`));
    if (this.#state === 'new') {
      this.#state = 'started';
      if (this.#listen) {
        this.#self = { ...this.#self, addresses: [`sim://${this.#self.name}`] };
        this.network.register(this);
      }
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#end('peer_closed', CloseCode.SHUTDOWN, 'peer stopping');
    return Promise.resolve();
  }

  /** Crashes the node: it stops at once and its peers see their connections lost. */
  crash(): void {
    this.#end('lost', 1006, 'peer crashed');
  }

  #end(peerKind: ConnectionDownReason['kind'], code: number, message: string): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#events.clear();
    this.network.unregister(this);
    for (const connection of [...this.#connections.values()]) this.takeDown(connection, { kind: 'shutdown', closeCode: code, message }, { kind: peerKind, closeCode: code, message });
  }

  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  onMessage(channel: string, handler: MessageHandler): void {
    this.checkChannel(channel);
    this.#handlers.set(channel, handler);
  }

  connection(name: string): Connection | undefined {
    const connection = this.#connections.get(name);
    return connection?.up === true ? connection : undefined;
  }

  connections(): Connection[] {
    return [...this.#connections.values()].filter((l) => l.up);
  }

  /** @internal */
  checkChannel(channel: string): void {
    if (!this.channels.has(channel)) throw new TopologyError(TopologyErrorCode.UNKNOWN_CHANNEL, `unknown channel '${channel}'`);
  }

  /** Registers (or, with null, removes) the receiver of protocol values sent with `sendValue` on `channel` under `tag`. */
  onValue(channel: string, tag: number, handler: ProtocolHandler | null): void {
    this.checkChannel(channel);
    let byTag = this.#valueHandlers.get(channel);
    if (byTag === undefined) this.#valueHandlers.set(channel, (byTag = []));
    byTag[tag] = handler ?? undefined;
  }

  /** @internal */
  dispatchValue(connection: SimConnection, channel: string, tag: number, value: unknown): void {
    const handler = this.#valueHandlers.get(channel)?.[tag];
    if (handler === undefined) return;
    try {
      handler(connection, value);
    } catch (err) {
      this.network.logger.error(`protocol handler ${tag} of channel '${channel}' on ${this.#self.name} threw`, { reason: err });
    }
  }

  /** @internal */
  dispatch(connection: SimConnection, channel: string, payload: Buffer): void {
    const handler = this.#handlers.get(channel);
    if (handler === undefined) return;
    try {
      handler(connection, payload);
    } catch (err) {
      this.network.logger.error(`message handler of channel '${channel}' on ${this.#self.name} threw`, { reason: err });
    }
  }

  connect(address: Address, expectedName?: string): Promise<Connection> {
    if (this.#state !== 'started') {
      return Promise.reject(new TopologyError(this.#state === 'stopped' ? TopologyErrorCode.STOPPED : TopologyErrorCode.NOT_STARTED, `transport ${this.#self.name} is not started`));
    }
    const url = typeof address === 'string' ? address : `sim://${address.host}`;
    const name = url.startsWith('sim://') ? url.slice(6) : '';
    if (expectedName !== undefined && name !== expectedName) {
      return Promise.reject(new TopologyError(TopologyErrorCode.CONNECTION_REFUSED, `dialled ${expectedName} at ${url} but ${name} answers there`, { closeCode: CloseCode.WRONG_NODE }));
    }
    const existing = this.#connections.get(name);
    if (existing?.up === true) return Promise.resolve(existing);
    let pending = this.#pending.get(name);
    if (pending === undefined) {
      pending = this.#dial(url, name).finally(() => this.#pending.delete(name));
      this.#pending.set(name, pending);
    }
    return pending;
  }

  #dial(url: string, name: string): Promise<Connection> {
    const net = this.network;
    const clock = net.clock;
    const me = this.#self.name;
    return new Promise<Connection>((resolve, reject) => {
      const fail = (code: string, message: string, closeCode?: number): void => {
        reject(new TopologyError(code as typeof TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: ${message}`, closeCode === undefined ? undefined : { closeCode }));
      };
      const there = net.delay(me, name);
      clock.setTimer(there, () => {
        const target = net.lookup(url);
        if (!net.reachable(me, name) || !net.reachable(name, me)) {
          clock.setTimer(Math.max(0, this.#handshakeTimeoutMs - there), () => {
            fail(TopologyErrorCode.CONNECT_FAILED, `handshake timed out after ${this.#handshakeTimeoutMs} ms`, CloseCode.HANDSHAKE_TIMEOUT);
          });
          return;
        }
        const back = net.delay(name, me);
        if (target === undefined || !target.alive || this.#state !== 'started') {
          clock.setTimer(back, () => {
            fail(TopologyErrorCode.CONNECT_FAILED, 'connection refused (nothing listens there)');
          });
          return;
        }
        const outcome = target.accept(this);
        clock.setTimer(back, () => {
          if (typeof outcome === 'string') {
            fail(TopologyErrorCode.CONNECTION_REFUSED, outcome, outcome.includes('secret') ? CloseCode.AUTH_FAILED : CloseCode.DUPLICATE_NAME);
            return;
          }
          if (this.#state !== 'started') {
            fail(TopologyErrorCode.STOPPED, 'this node stopped');
            return;
          }
          // The peer's side is up; ours comes up now that its answer arrived.
          const mine = outcome.remote as SimConnection;
          if (!mine.up && mine.downReason === null && outcome.up) this.#bringUp(mine);
          if (mine.up) resolve(mine);
          else fail(TopologyErrorCode.CONNECT_FAILED, 'the connection went down while forming');
        });
      });
    });
  }

  /**
   * A dial from `from` arrived: returns this side's connection (up now), or why it is refused. The
   * dialler's side exists (not yet up) and becomes up when the answer reaches it.
   */
  accept(from: SimTransport): SimConnection | string {
    if (from.#digest !== this.#digest) {
      this.network.logger.error(`${this.#self.name} refused ${from.self.name}: it does not prove the cluster secret`);
      return 'wrong cluster secret';
    }
    const existing = this.#connections.get(from.self.name);
    if (existing?.downReason === null) {
      // Up, or forming because this node dialled too (crossed dials): one connection per pair.
      if (existing.peer.incarnation === from.self.incarnation) return existing;
      const old = this.network.lookup(`sim://${from.self.name}`);
      if (old !== undefined && old !== from && old.alive) return `${from.self.name} is already connected with another incarnation`;
      this.takeDown(existing, { kind: 'replaced', message: `${from.self.name} restarted` }, null);
    }
    const here = new SimConnection(this, from.self);
    const there = new SimConnection(from, this.#self);
    here.remote = there;
    there.remote = here;
    this.#connections.set(from.self.name, here);
    from.#connections.set(this.#self.name, there);
    this.#bringUp(here);
    return here;
  }

  #bringUp(connection: SimConnection): void {
    if (this.#state !== 'started') return;
    connection.up = true;
    this.#events.emit('connectionUp', connection);
    connection.releaseEarly();
  }

  /**
   * Takes a connection down on this side now (`local` reason) and on the other side one latency later
   * (`remote` reason; null: the other side is gone already).
   */
  takeDown(connection: SimConnection, local: ConnectionDownReason, remote: ConnectionDownReason | null): void {
    const wasUp = connection.up;
    connection.up = false;
    connection.downReason = local;
    if (this.#connections.get(connection.peer.name) === connection) this.#connections.delete(connection.peer.name);
    if (wasUp && this.#state === 'started') this.#events.emit('connectionDown', connection, local);
    const other = connection.remote;
    if (other === null || remote === null) return;
    const net = this.network;
    // Like a socket's close frame, the news arrives after every message sent before it.
    const at = Math.max(net.clock.now() + net.delay(this.#self.name, connection.peer.name), connection.lastArrivalAny);
    net.clock.setTimer(at - net.clock.now(), () => {
      other.owner.#remoteDown(other, remote);
    });
  }

  #remoteDown(connection: SimConnection, reason: ConnectionDownReason): void {
    if (connection.downReason !== null) return;
    const wasUp = connection.up;
    connection.up = false;
    connection.downReason = reason;
    if (this.#connections.get(connection.peer.name) === connection) this.#connections.delete(connection.peer.name);
    if (wasUp && this.#state === 'started') this.#events.emit('connectionDown', connection, reason);
  }

  /** @internal A partition was installed: connections across it go down after the detection delay. */
  checkPartition(): void {
    const net = this.network;
    for (const connection of this.#connections.values()) {
      const both = (): boolean => net.reachable(this.#self.name, connection.peer.name) && net.reachable(connection.peer.name, this.#self.name);
      if (both()) continue;
      net.clock.setTimer(net.partitionDetectMs, () => {
        if (!connection.up || both()) return;
        const reason: ConnectionDownReason = { kind: 'idle_timeout', closeCode: CloseCode.IDLE_TIMEOUT, message: `nothing heard from ${connection.peer.name} (partition)` };
        this.takeDown(connection, reason, null);
        const other = connection.remote;
        if (other !== null) other.owner.#remoteDown(other, { ...reason, message: `nothing heard from ${this.#self.name} (partition)` });
      });
    }
  }
}
