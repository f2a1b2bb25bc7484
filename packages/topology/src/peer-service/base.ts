// What every overlay shares: lifecycle, events, timers that die with the service, the addresses of
// known nodes, membership diffs and up/down, receiving forwarded messages, and `forward` (over a
// connection, else an on-demand connection from a bounded pool, else as the overlay decides, e.g. a relay).
//
// Longer than 600 lines because these are the protected parts every overlay subclass builds on:
// a split would turn protected state shared by all of them into public state of several modules.

import { defaultLogger, Emitter, heldBack, LogThrottle, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random, TimerHandle } from '@fdn/core';
import { CONTROL } from '../channels/config.ts';
import { TopologyError, TopologyErrorCode } from '../errors.ts';
import { Messenger, Tag } from '../messenger/messenger.ts';
import type { PreparedMessage } from '../messenger/messenger.ts';
import type { NodeIdentity } from '../node/identity.ts';
import type { Connection, ConnectionDownReason, SendOptions, SendStatus, Transport } from '../transport/types.ts';
import type { DownReason, ForwardStatus, JoinStatus, PeerMessageHandler, PeerService, PeerServiceEvents, PeerSpec } from './types.ts';
import { isName } from './validate.ts';

/** A message relayed by an intermediate node: origin, target, channel, payload, hops left. */
interface Relay {
  f: string;
  t: string;
  c: string;
  p: Uint8Array;
  h: number;
}

/** `membership` events are coalesced over this long. */
const MEMBERSHIP_EVENT_MS = 50;

/** Options every peer service takes. */
export interface PeerServiceOptions {
  /** Nodes to join through when started (the first that answers), and to rejoin through when isolated. */
  seeds?: readonly (PeerSpec | string)[];
  /** Connections kept open for `forward` to nodes that are not neighbours (default 64, least recently used closed first). */
  maxOnDemandConnections?: number;
  /** An on-demand connection unused this long is closed (default 30,000 ms). */
  onDemandIdleMs?: number;
  /**
   * Which protocol tags this overlay speaks on the control channel: `primary` (default) or
   * `alternate`, so a second overlay can run beside the first on the same connections while a cluster
   * changes overlays (then `detach` the old one).
   */
  protocolTags?: 'primary' | 'alternate';
}

/** Injected parts. */
export interface PeerServiceComponents {
  transport: Transport;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

/** A contact as a spec (address known, name perhaps not). */
export function toSpec(contact: PeerSpec | string): PeerSpec {
  return typeof contact === 'string' ? { name: '', addresses: [contact] } : contact;
}

/** What the four peer services share (connections, on-demand pool, relays, seeds, timers). Extend it to write another overlay. */
export abstract class BasePeerService implements PeerService {
  abstract readonly kind: string;
  protected readonly transport: Transport;
  protected readonly clock: Clock;
  protected readonly random: Random;
  protected readonly logger: Logger;
  protected readonly messenger: Messenger;
  protected readonly events: Emitter<PeerServiceEvents>;
  /** Where known nodes listen (learned from connections, joins, gossip). */
  protected readonly specs = new Map<string, PeerSpec>();
  /** Nodes whose on-demand dial failed, and until when not to dial them again (doubling, up to 5 s). */
  readonly #dialFailures = new Map<string, { until: number; delayMs: number }>();
  protected readonly seeds: PeerSpec[];
  #state: 'new' | 'started' | 'stopped' = 'new';
  #starting: Promise<void> | null = null;
  readonly #timers = new Set<TimerHandle>();
  /** Connections that are not overlay connections: `traffic` is their message count when last looked at. */
  readonly #onDemand = new Map<string, { connection: Connection; lastUsed: number; traffic: number }>();
  readonly #maxOnDemand: number;
  readonly #onDemandIdleMs: number;
  /** The members as last evaluated by `membershipChanged`, and their sorted list (built on demand). */
  readonly #members = new Set<string>();
  #sorted: string[] | null = null;
  #membershipEventQueued = false;
  /** Members reported `up` (and not `down` since). */
  readonly #up = new Set<string>();
  readonly #receivers = new Map<string, PeerMessageHandler>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #overlayTag: number;
  /** Another overlay shares the connections (a switch in progress): close none of them. */
  #handover = false;
  readonly #relayTag: number;

  constructor(options: PeerServiceOptions, components: PeerServiceComponents) {
    this.transport = components.transport;
    this.clock = components.clock ?? systemClock();
    this.random = components.random ?? systemRandom();
    this.logger = (components.logger ?? defaultLogger()).child({ node: components.transport.self.name });
    this.messenger = Messenger.of(this.transport, CONTROL, this.logger);
    this.events = new Emitter<PeerServiceEvents>((event, err) => {
      this.logger.error(`a '${event}' listener threw`, { reason: err });
    });
    this.seeds = (options.seeds ?? []).map(toSpec);
    this.#maxOnDemand = options.maxOnDemandConnections ?? 64;
    this.#onDemandIdleMs = options.onDemandIdleMs ?? 30_000;
    const alternate = options.protocolTags === 'alternate';
    this.#overlayTag = alternate ? Tag.OVERLAY_ALT : Tag.OVERLAY;
    this.#relayTag = alternate ? Tag.RELAY_ALT : Tag.RELAY;
  }

  get self(): NodeIdentity {
    return this.transport.self;
  }

  /** True between start and stop. */
  get running(): boolean {
    return this.#state === 'started';
  }

  /** This node as a spec. */
  protected get selfSpec(): PeerSpec {
    return { name: this.self.name, addresses: this.self.addresses };
  }

  // ==== Lifecycle ====

  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(new TopologyError(TopologyErrorCode.STOPPED, `${this.kind} on ${this.self.name} was stopped; create a new one`));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    await this.transport.start();
    if (this.#state === 'stopped') return;
    this.#state = 'started';
    this.#unsubscribe.push(
      this.transport.on('connectionUp', (connection) => {
        this.specs.set(connection.peer.name, { name: connection.peer.name, addresses: connection.peer.addresses });
        this.#dialFailures.delete(connection.peer.name);
        if (!this.running) return;
        this.onConnectionUp(connection);
        // Whatever the overlay did not adopt is on-demand: closed when idle or when the pool is full.
        if (!this.isNeighbor(connection.peer.name)) this.#keepOnDemand(connection);
        if (this.reachabilityFollowsConnections) this.refreshReachability(undefined, [connection.peer.name]);
      }),
      this.transport.on('connectionDown', (connection, reason) => {
        this.#onDemand.delete(connection.peer.name);
        if (!this.running) return;
        this.onConnectionDown(connection, reason);
        if (this.reachabilityFollowsConnections) this.refreshReachability({ kind: reason.kind === 'peer_closed' ? 'left' : 'unreachable', message: reason.message }, [connection.peer.name]);
      }),
    );
    this.messenger.on(this.#overlayTag, (connection, value) => {
      if (this.running) this.onOverlayMessage(connection, value);
    });
    this.messenger.on(this.#relayTag, (connection, value) => {
      if (this.running) this.#onRelay(connection, value);
    });
    this.every(Math.max(1_000, this.#onDemandIdleMs / 2), () => {
      this.#closeIdleOnDemand();
    });
    this.onStart();
    if (this.seeds.length > 0) void this.joinSeeds();
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const starting = this.#starting;
    this.#halt();
    if (starting !== null) await starting.catch(() => undefined);
    await this.transport.stop();
  }

  /**
   * While another overlay is brought up beside this one on the same connections (or this one beside
   * another), neither may close a connection the other could use: on-demand and refused connections are kept
   * until `setHandover(false)`.
   */
  setHandover(on: boolean): void {
    this.#handover = on;
  }

  /** True while connections must be kept for another overlay (see `setHandover`). */
  protected get handover(): boolean {
    return this.#handover;
  }

  /**
   * Stops this overlay but leaves the transport and its connections running, for the overlay that
   * replaces it (started beside it with the other `protocolTags`). No events after; its protocol
   * messages are no longer handled here.
   */
  async detach(): Promise<void> {
    if (this.#state === 'stopped') return;
    const starting = this.#starting;
    this.#halt();
    if (starting !== null) await starting.catch(() => undefined);
  }

  #halt(): void {
    this.#state = 'stopped';
    this.events.clear();
    for (const timer of this.#timers) this.clock.clearTimer(timer);
    this.#timers.clear();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe.length = 0;
    this.messenger.off(this.#overlayTag);
    this.messenger.off(this.#relayTag);
    this.onStop();
  }

  // ==== What each overlay supplies ====

  abstract join(contact: PeerSpec | string): Promise<void>;
  abstract leave(): Promise<void>;
  abstract neighbors(): string[];
  /** The member set as this overlay knows it (self included). */
  protected abstract currentMembers(): Iterable<string>;
  protected abstract onOverlayMessage(connection: Connection, value: unknown): void;
  protected abstract onConnectionUp(connection: Connection): void;
  protected abstract onConnectionDown(connection: Connection, reason: ConnectionDownReason): void;
  protected onStart(): void {
    // Overlays that need timers start them here.
  }
  protected onStop(): void {
    // Overlays release their own state here.
  }

  members(): string[] {
    this.#sorted ??= [...this.currentMembers()].sort();
    return this.#sorted.slice();
  }

  memberCount(): number {
    return this.#sorted?.length ?? this.members().length;
  }

  /** The member set may differ from what `members()` last returned (it is recomputed on demand). */
  protected invalidateMembers(): void {
    this.#sorted = null;
  }

  /**
   * Whether `node` is a member now. The default scans `currentMembers()`; overlays answer in
   * constant time (membership changes one node at a time in large clusters).
   */
  protected hasMember(node: string): boolean {
    for (const m of this.currentMembers()) if (m === node) return true;
    return false;
  }

  isUp(node: string): boolean {
    return this.#up.has(node);
  }

  /**
   * Whether a member can be reached now. By default every member can (HyParView: through the
   * overlay); overlays that keep unreachable members answer by their connections, and set
   * `reachabilityFollowsConnections` so connection events re-check it.
   */
  protected reachable(_node: string): boolean {
    return true;
  }

  protected readonly reachabilityFollowsConnections: boolean = false;

  on<E extends keyof PeerServiceEvents>(event: E, listener: PeerServiceEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /**
   * The overlay's view of the membership may have changed: for the nodes in `touched` (or, when
   * not given, for everyone). Emits `up`/`down` for the difference and, once per turn of changes,
   * `membership`. Overlays call it whenever their view may have changed.
   */
  protected membershipChanged(downReason: DownReason = { kind: 'unreachable', message: 'no longer a member' }, touched?: Iterable<string>): void {
    if (!this.running) return;
    this.#sorted = null;
    let changed = false;
    if (touched === undefined) {
      const now = new Set(this.currentMembers());
      for (const m of this.#members) {
        if (now.has(m)) continue;
        this.#members.delete(m);
        changed = true;
      }
      for (const m of now) {
        if (this.#members.has(m)) continue;
        this.#members.add(m);
        changed = true;
      }
    } else {
      for (const m of touched) {
        const member = this.hasMember(m);
        if (member === this.#members.has(m)) continue;
        if (member) this.#members.add(m);
        else this.#members.delete(m);
        changed = true;
      }
    }
    this.refreshReachability(downReason, touched);
    if (changed && !this.#membershipEventQueued && this.events.has('membership')) {
      // A burst of changes (a thousand nodes announcing themselves) makes one event per 50 ms,
      // with the list as it is then: the list costs O(n log n) to build.
      this.#membershipEventQueued = true;
      this.after(MEMBERSHIP_EVENT_MS, () => {
        this.#membershipEventQueued = false;
        this.events.emit('membership', this.members());
      });
    }
  }

  /** Emits `up` for members that became reachable and `down` for nodes that no longer are (among `touched`, or all). */
  protected refreshReachability(downReason: DownReason = { kind: 'unreachable', message: 'no longer reachable' }, touched?: Iterable<string>): void {
    if (!this.running) return;
    const check = (node: string): void => {
      const up = node !== this.self.name && this.#members.has(node) && this.reachable(node);
      if (up === this.#up.has(node)) return;
      if (up) {
        this.#up.add(node);
        this.logger.debug(`${node} is up`);
        this.events.emit('up', node);
      } else {
        this.#up.delete(node);
        this.logger.debug(`${node} is down: ${downReason.message}`);
        this.events.emit('down', node, downReason);
      }
    };
    if (touched !== undefined) {
      for (const node of touched) check(node);
      return;
    }
    for (const node of [...this.#up]) check(node);
    for (const node of this.#members) check(node);
  }

  /**
   * These members started again (a new incarnation) while listed as up: their old start is gone,
   * so it goes `down` (`replaced`) before the new one comes `up`. A node that learns of a restart
   * only through gossip (no connection of its own to the restarted node) must still report the loss:
   * connections and monitors to the old start's processes depend on it.
   */
  protected memberRestarted(names: readonly string[]): void {
    if (!this.running) return;
    for (const node of names) {
      if (!this.#up.has(node)) continue;
      this.#up.delete(node);
      this.events.emit('down', node, { kind: 'replaced', message: 'started again (a new incarnation)' });
    }
    this.refreshReachability(undefined, names);
  }

  // ==== Joining and timers ====

  /** Why the last join through a seed failed (for debugging a node that stays outside). */
  protected lastJoinFailure: string | null = null;
  #joinAttempts = 0;
  #joinThrottle: LogThrottle | null = null;

  /** How joining through the seeds goes: see {@link JoinStatus}. */
  joinStatus(): JoinStatus {
    return { seeds: this.seeds.length, attempts: this.#joinAttempts, lastFailure: this.lastJoinFailure, joined: this.members().some((m) => m !== this.self.name && this.isUp(m)) };
  }

  /**
   * Joins through the seeds, first that answers; retried with backoff while none does. A round in
   * which no seed answered is a warning (with each seed's reason), repeated with growing gaps.
   */
  protected async joinSeeds(attempt = 0): Promise<void> {
    const failures: string[] = [];
    for (const seed of this.random.shuffle(this.seeds.slice())) {
      if (!this.running) return;
      if (this.isSelf(seed)) continue;
      try {
        await this.join(seed);
        this.#joinThrottle?.clear('join');
        return;
      } catch (err) {
        this.lastJoinFailure = `${seed.name || String(seed.addresses[0])}: ${err instanceof Error ? err.message : String(err)}`;
        failures.push(this.lastJoinFailure);
        this.logger.debug(`seed ${seed.name || seed.addresses[0]} did not answer`, { reason: err });
      }
    }
    if (!this.running || this.seeds.every((s) => this.isSelf(s))) return;
    this.#joinAttempts++;
    const held = (this.#joinThrottle ??= new LogThrottle(this.clock, { firstMs: 5_000 })).occurrence('join');
    if (held !== null) {
      this.logger.warn(`${this.self.name} has not joined the cluster: no seed answered (${failures.join('; ')}); retrying with backoff. Check the seed addresses and that the seeds run${heldBack(held)}`, { code: 'FDN_NOT_JOINED', attempts: this.#joinAttempts });
    }
    // Backoff capped at 5 s: a node outside the cluster is useless, and seeds that are merely
    // busy (a whole cluster starting at once) answer on the next try.
    this.after(Math.min(5_000, 500 * 2 ** attempt) * (0.5 + this.random.next()), () => {
      void this.joinSeeds(attempt + 1);
    });
  }

  /** Whether `spec` names this node (by name, or by an address it listens on): a seed list usually includes the seed itself. */
  protected isSelf(spec: PeerSpec): boolean {
    return spec.name === this.self.name || spec.addresses.some((a) => this.self.addresses.includes(a));
  }

  /** Opens (or finds) the connection to a contact. */
  protected async connectTo(contact: PeerSpec): Promise<Connection> {
    const existing = contact.name === '' ? undefined : this.transport.connection(contact.name);
    if (existing !== undefined) return existing;
    let last: unknown;
    for (const address of contact.addresses) {
      try {
        return await this.transport.connect(address, contact.name === '' ? undefined : contact.name);
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new TopologyError(TopologyErrorCode.CONNECT_FAILED, `no address for ${contact.name}`);
  }

  /** A timer cleared on stop. */
  protected after(ms: number, fn: () => void): TimerHandle {
    const timer = this.clock.setTimer(ms, () => {
      this.#timers.delete(timer);
      if (this.running) fn();
    });
    this.#timers.add(timer);
    return timer;
  }

  protected cancel(timer: TimerHandle | null): void {
    if (timer === null) return;
    this.clock.clearTimer(timer);
    this.#timers.delete(timer);
  }

  /** A periodic timer (first run after `ms`, jittered ±10% so nodes do not tick in lockstep). */
  protected every(ms: number, fn: () => void): void {
    const next = (): void => {
      this.after(ms * (0.9 + 0.2 * this.random.next()), () => {
        fn();
        next();
      });
    };
    next();
  }

  /** Sends an overlay protocol message over a connection. */
  protected sendOverlay(connection: Connection, message: unknown): void {
    this.messenger.send(connection, this.#overlayTag, message);
  }

  /** Sends one overlay protocol message to several connections, encoded once. */
  protected sendOverlayToAll(connections: Iterable<Connection>, message: unknown): void {
    let prepared: PreparedMessage | null = null;
    for (const connection of connections) (prepared ??= this.messenger.prepare(this.#overlayTag, message)).sendTo(connection);
  }

  // ==== Receiving and forwarding ====

  onMessage(channel: string, handler: PeerMessageHandler): void {
    if (channel === CONTROL) throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `the '${CONTROL}' channel carries the overlay protocols; forward on another channel`);
    if (!this.transport.channels.has(channel)) throw new TopologyError(TopologyErrorCode.UNKNOWN_CHANNEL, `unknown channel '${channel}'`);
    const first = !this.#receivers.has(channel);
    this.#receivers.set(channel, handler);
    if (first) {
      this.transport.onMessage(channel, (connection, payload) => {
        this.#receivers.get(channel)?.(connection.peer.name, payload);
      });
    }
  }

  /**
   * Sends `payload` to `target` through `via` (a node with a connection to it). Relays travel on the
   * control channel of both hops: their order is kept, their channel's priority is not.
   */
  protected relay(via: Connection, target: string, channel: string, payload: Uint8Array): ForwardStatus {
    return this.messenger.send(via, this.#relayTag, { f: this.self.name, t: target, c: channel, p: payload, h: 2 } satisfies Relay);
  }

  /** The connection to relay a message for `target` through, if this node relays for others. */
  protected relayConnection(_target: string): Connection | undefined {
    return undefined;
  }

  #onRelay(connection: Connection, value: unknown): void {
    const r = value as Partial<Relay>;
    if (!isName(r.f) || !isName(r.t) || typeof r.c !== 'string' || !(r.p instanceof Uint8Array) || !Number.isInteger(r.h)) {
      this.logger.warn(`ignoring a malformed relay from ${connection.peer.name}`);
      return;
    }
    if (r.t === this.self.name) {
      const handler = this.#receivers.get(r.c);
      // Over the simulator the bytes come by reference: the receiver gets its own copy, as over a socket.
      if (handler !== undefined) handler(r.f, Buffer.isBuffer(r.p) ? r.p : Buffer.from(r.p));
      return;
    }
    const next = (r.h as number) > 1 ? (this.transport.connection(r.t) ?? this.relayConnection(r.t)) : undefined;
    if (next === undefined) {
      this.logger.debug(`dropping a relay from ${r.f} to ${r.t}: no route`);
      return;
    }
    this.messenger.send(next, this.#relayTag, { f: r.f, t: r.t, c: r.c, p: r.p, h: (r.h as number) - 1 } satisfies Relay);
  }

  /** Connections tell this overlay who is down; a hint changes nothing (HyParView overrides). */
  suspect(_node: string): void {
    // Nothing to do: reachability follows this overlay's own connections.
  }

  spec(node: string): PeerSpec | undefined {
    return node === this.self.name ? { name: node, addresses: this.self.addresses } : this.specs.get(node);
  }

  async forward(node: string, channel: string, payload: Uint8Array, options?: SendOptions): Promise<ForwardStatus> {
    if (!this.running || node === this.self.name) return 'unknown';
    if (channel === CONTROL) throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `the '${CONTROL}' channel carries the overlay protocols; forward on another channel`);
    const connection = this.transport.connection(node);
    if (connection !== undefined) {
      const pooled = this.#onDemand.get(node);
      if (pooled !== undefined) pooled.lastUsed = this.clock.now();
      return connection.send(channel, payload, options);
    }
    return this.forwardIndirect(node, channel, payload, options);
  }

  /** Per node, messages `send` queued while a connection to it opens (or the first one is relayed), in order. */
  readonly #waiting = new Map<string, { channel: string; payload: Uint8Array; options: SendOptions | undefined }[]>();

  send(node: string, channel: string, payload: Uint8Array, options?: SendOptions): SendStatus | 'queued' | 'unknown' {
    if (!this.running || node === this.self.name) return 'unknown';
    if (channel === CONTROL) throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `the '${CONTROL}' channel carries the overlay protocols; send on another channel`);
    const waiting = this.#waiting.get(node);
    if (waiting !== undefined) {
      waiting.push({ channel, payload, options });
      return 'queued';
    }
    const connection = this.transport.connection(node);
    if (connection !== undefined) {
      const pooled = this.#onDemand.get(node);
      if (pooled !== undefined) pooled.lastUsed = this.clock.now();
      return connection.send(channel, payload, options);
    }
    const queue: { channel: string; payload: Uint8Array; options: SendOptions | undefined }[] = [];
    this.#waiting.set(node, queue);
    this.forwardIndirect(node, channel, payload, options).then(
      (status) => {
        this.#flushWaiting(node, queue, status !== 'unknown' && status !== 'dropped');
      },
      () => {
        this.#flushWaiting(node, queue, false);
      },
    );
    return 'queued';
  }

  waiting(): number {
    let n = 0;
    for (const queue of this.#waiting.values()) n += queue.length;
    return n;
  }

  /** The first message to `node` went (or not): the ones queued behind it follow the same way, in order. */
  #flushWaiting(node: string, queue: { channel: string; payload: Uint8Array; options: SendOptions | undefined }[], reached: boolean): void {
    if (this.#waiting.get(node) !== queue) return;
    this.#waiting.delete(node);
    if (!reached) {
      if (queue.length > 0) this.logger.debug(`dropped ${String(queue.length)} messages to ${node}: no connection`);
      return;
    }
    const connection = this.transport.connection(node);
    if (connection !== undefined) {
      for (const w of queue) connection.send(w.channel, w.payload, w.options);
      return;
    }
    // Reached without a connection of our own (a client-server client relays through a server): the
    // rest go the same way, in order.
    for (const w of queue) void this.forwardIndirect(node, w.channel, w.payload, w.options).catch(() => undefined);
  }

  /** No connection to `node`: open an on-demand one if its address is known. Overlays may relay instead. */
  protected async forwardIndirect(node: string, channel: string, payload: Uint8Array, options?: SendOptions): Promise<ForwardStatus> {
    const spec = this.specs.get(node);
    if (spec === undefined || spec.addresses.length === 0) return 'unknown';
    // A node that just refused a dial is not dialled again for every message sent to it: back off.
    const failed = this.#dialFailures.get(node);
    if (failed !== undefined && this.clock.now() < failed.until) return 'dropped';
    let connection: Connection;
    try {
      connection = await this.connectTo(spec);
    } catch (err) {
      this.logger.debug(`forward to ${node}: could not open a connection`, { reason: err });
      const delayMs = Math.min(5_000, (failed?.delayMs ?? 50) * 2);
      this.#dialFailures.set(node, { until: this.clock.now() + delayMs, delayMs });
      return 'dropped';
    }
    this.#dialFailures.delete(node);
    if (!this.isNeighbor(node)) this.#keepOnDemand(connection);
    return connection.send(channel, payload, options);
  }

  /** Opens a connection that the overlay does not keep (a shuffle reply, a join through a full contact): pooled, closed when idle. */
  protected async openOnDemand(contact: PeerSpec): Promise<Connection> {
    const connection = await this.connectTo(contact);
    if (!this.isNeighbor(connection.peer.name)) this.#keepOnDemand(connection);
    return connection;
  }

  /**
   * A pooled connection opened for one exchange (the paper's temporary connection): closed after `ms`
   * unless it carried other traffic meanwhile or the overlay adopted it.
   */
  protected releaseSoon(connection: Connection, ms = 1_000): void {
    const entry = this.#onDemand.get(connection.peer.name);
    if (entry?.connection !== connection) return;
    const traffic = this.#traffic(connection);
    this.after(ms, () => {
      if (this.#handover || this.#onDemand.get(connection.peer.name) !== entry || this.isNeighbor(connection.peer.name) || this.#traffic(connection) !== traffic) return;
      this.#onDemand.delete(connection.peer.name);
      connection.close('temporary connection no longer needed');
    });
  }

  /** Whether `node` is an overlay neighbour (its connection belongs to the overlay, not to the on-demand pool). */
  protected abstract isNeighbor(node: string): boolean;

  /** The overlay now uses the connection to `node`: it no longer counts against the on-demand pool. */
  protected adoptConnection(node: string): void {
    this.#onDemand.delete(node);
  }

  #keepOnDemand(connection: Connection): void {
    const existing = this.#onDemand.get(connection.peer.name);
    if (existing?.connection === connection) {
      existing.lastUsed = this.clock.now();
      return;
    }
    this.#onDemand.set(connection.peer.name, { connection, lastUsed: this.clock.now(), traffic: this.#traffic(connection) });
    if (this.#onDemand.size <= this.#maxOnDemand) return;
    let oldest: [string, { connection: Connection; lastUsed: number }] | undefined;
    for (const entry of this.#onDemand) {
      if (this.isNeighbor(entry[0])) this.#onDemand.delete(entry[0]);
      else if (oldest === undefined || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    }
    if (oldest !== undefined && this.#onDemand.size > this.#maxOnDemand && !this.#handover) {
      this.#onDemand.delete(oldest[0]);
      oldest[1].connection.close('on-demand connection pool is full');
    }
  }

  /** Messages in and out of a connection so far, over every channel. */
  #traffic(connection: Connection): number {
    let total = 0;
    for (const channel of this.transport.channels.keys()) {
      const m = connection.metrics(channel);
      total += m.messagesIn + m.messagesOut;
    }
    return total;
  }

  /** Closes the on-demand connections that carried nothing (either way) for `onDemandIdleMs`. */
  #closeIdleOnDemand(): void {
    const now = this.clock.now();
    for (const [name, entry] of [...this.#onDemand]) {
      if (this.isNeighbor(name)) {
        this.#onDemand.delete(name);
        continue;
      }
      const traffic = this.#traffic(entry.connection);
      if (traffic !== entry.traffic) {
        entry.traffic = traffic;
        entry.lastUsed = now;
      } else if (entry.lastUsed < now - this.#onDemandIdleMs && !this.#handover) {
        this.#onDemand.delete(name);
        entry.connection.close('on-demand connection idle');
      }
    }
  }
}
