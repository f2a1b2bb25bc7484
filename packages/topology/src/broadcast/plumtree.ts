// Plumtree (Leitão, Pereira, Rodrigues, SRDS 2007): epidemic broadcast trees over the overlay's
// neighbours. Payloads are pushed eagerly along a spanning tree and announced lazily (IHAVE) on
// the other connections; a duplicate prunes a connection into the lazy set; a missing message is grafted back
// from an announcer after a delay. One tree per root (the broadcasting node), kept for the most
// recently used `maxRoots` roots.
//
// Longer than 600 lines because it is one protocol as the paper states it: every handler (eager
// push, IHAVE, GRAFT, PRUNE, exchange) reads and changes the same per-tree state, and splitting
// them apart would scatter that state's invariants over files.
//
// Beyond the paper and Partisan: IHAVEs are batched per lazy tick and not sent to a neighbour that
// announced or sent the same message to us; grafts wait for `graftTimeoutMs` (Partisan grafts at
// once); the paper's optimisation rewires a tree when an announcement shows a much shorter path;
// a built-in digest exchange repairs what the tree missed (anti-entropy).

import { defaultLogger, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random, TimerHandle } from '@fdn/core';
import { CONTROL } from '../channels/config.ts';
import { TopologyError, TopologyErrorCode } from '../errors.ts';
import { Messenger, Tag } from '../messenger/messenger.ts';
import type { PreparedMessage } from '../messenger/messenger.ts';
import type { PeerService } from '../peer-service/types.ts';
import type { Connection, Transport } from '../transport/types.ts';
import type { BroadcastHandler, DeliveryInfo } from './handler.ts';

export interface PlumtreeOptions {
  /** IHAVE announcements are flushed this often (Partisan `lazy_tick_period`; default 250 ms). */
  lazyTickMs?: number;
  /** A node that heard an IHAVE waits this long for the payload before grafting (default 250 ms). */
  graftTimeoutMs?: number;
  /** Then asks the next announcer after this long (default 250 ms). */
  graftRetryMs?: number;
  /** Anti-entropy exchange period (Partisan `exchange_tick_period`; default 10,000 ms; 0 disables). */
  exchangeTickMs?: number;
  /** Rewire the tree when an announcement arrives this many rounds earlier than the payload did (default 3). */
  optimizationThreshold?: number;
  /** The same for shared trees, whose rounds count from different senders (default 7, the paper's m-s value). */
  sharedOptimizationThreshold?: number;
  /** Roots whose trees are kept (least recently used forgotten first; default 1,024). */
  maxRoots?: number;
}

export interface PlumtreeComponents {
  transport: Transport;
  /** Supplies the neighbours (`neighbors()`, `neighborUp`, `neighborDown`). */
  peerService: Pick<PeerService, 'neighbors' | 'on' | 'self'>;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

/** Counters of one node's Plumtree, for measurements. */
export interface PlumtreeStats {
  broadcasts: number;
  /** Payload messages received (first copies and duplicates). */
  gossipReceived: number;
  duplicates: number;
  /** IHAVE messages sent (each carries one or more announcements). */
  ihaveMessages: number;
  ihaveEntries: number;
  grafts: number;
  prunes: number;
  exchanges: number;
}

/** The eager and lazy peers of one node in one tree. */
export interface TreePeers {
  eager: string[];
  lazy: string[];
}

/** A running anti-entropy exchange. */
export interface Exchange {
  handler: string;
  peer: string;
  startedAt: number;
}

type Message =
  // Payload (GOSSIP): handler, id, root, round, payload.
  | { t: 'g'; h: string; id: string; r: string; n: number; p: unknown }
  // IHAVE: handler and flat triples (id, root, round).
  | { t: 'i'; h: string; e: (string | number)[] }
  // PRUNE for the tree of root r.
  | { t: 'x'; r: string }
  // GRAFT: re-send id (or, id null, just make the connection eager again).
  | { t: 'f'; h: string; id: string | null; r: string; n: number }
  // Anti-entropy digest.
  | { t: 'd'; h: string; ids: string[] }
  // Tree query and its answer.
  | { t: 'q'; q: number; r: string }
  | { t: 'qr'; q: number; eager: string[]; lazy: string[] };

interface Delivered {
  round: number;
  parent: string;
}

/** Announced but not received yet. */
interface Missing {
  root: string;
  announcers: { peer: string; round: number }[];
  timer: TimerHandle | null;
}

/** What Plumtree keeps per registered handler. */
interface HandlerState {
  handler: BroadcastHandler;
  channel: string;
  /** The tree key of this node's broadcasts: its name, or `*<handler>` for a shared tree. */
  root: string | null;
  messenger: Messenger;
  /**
   * Recently delivered ids: the round and the parent they came from (for the optimisation), in
   * two generations: when the newer fills up it becomes the older (cheaper than evicting one by one).
   */
  delivered: Map<string, Delivered>;
  deliveredBefore: Map<string, Delivered>;
  missing: Map<string, Missing>;
  /** Per neighbour: flat IHAVE triples waiting for the next lazy tick. */
  outstanding: Map<string, (string | number)[]>;
  /** Per neighbour: ids it showed it has since the last tick (no IHAVE for those). */
  shown: Map<string, Set<string>>;
}

/** The root of messages sent by an anti-entropy exchange (no node has an empty name). */
const EXCHANGED = '';
const EMPTY: ReadonlySet<string> = new Set();
/** Recently delivered ids kept per handler for the tree optimisation. */
const DELIVERED_KEPT = 256;
/** Broadcasts kept while a node has no neighbour. */
const MAX_WAITING = 1_024;

/** Creates a Plumtree broadcast service over a peer service's neighbours. */
export function plumtree(options: PlumtreeOptions, components: PlumtreeComponents): Plumtree {
  return new Plumtree(options, components);
}

export class Plumtree {
  readonly stats: PlumtreeStats = { broadcasts: 0, gossipReceived: 0, duplicates: 0, ihaveMessages: 0, ihaveEntries: 0, grafts: 0, prunes: 0, exchanges: 0 };
  readonly #transport: Transport;
  readonly #peers: PlumtreeComponents['peerService'];
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: Logger;
  readonly #control: Messenger;
  readonly #lazyTickMs: number;
  readonly #graftTimeoutMs: number;
  readonly #graftRetryMs: number;
  readonly #exchangeTickMs: number;
  readonly #threshold: number;
  readonly #sharedThreshold: number;
  readonly #maxRoots: number;
  readonly #handlers = new Map<string, HandlerState>();
  /** Passed to `merge`, reused: valid only during the call (see DeliveryInfo). */
  readonly #info: DeliveryInfo = { from: '', root: '', round: 0 };
  /** The overlay's neighbours, kept from its events (insertion order: deterministic). */
  readonly #neighbors = new Set<string>();
  /** Per root: the neighbours pruned into lazy push (eager = neighbours − lazy), and when the tree was last used. */
  readonly #trees = new Map<string, { lazy: Set<string>; used: number }>();
  #uses = 0;
  #tick: TimerHandle | null = null;
  readonly #exchanges = new Map<string, Exchange>();
  readonly #queries = new Map<number, { timer: TimerHandle; answer: (view: TreePeers | null) => void }>();
  #nextQuery = 1;
  #exchangeTimer: TimerHandle | null = null;
  #repairedSinceExchange = 0;
  /** Broadcasts made while this node had no neighbour: sent when the first one comes up. */
  #waiting: { state: HandlerState; id: string; payload: unknown }[] = [];
  #stopped = false;
  readonly #off: (() => void)[] = [];

  constructor(options: PlumtreeOptions, components: PlumtreeComponents) {
    this.#transport = components.transport;
    this.#peers = components.peerService;
    this.#clock = components.clock ?? systemClock();
    this.#random = components.random ?? systemRandom();
    this.#logger = (components.logger ?? defaultLogger()).child({ node: this.#peers.self.name, component: 'plumtree' });
    this.#lazyTickMs = options.lazyTickMs ?? 250;
    this.#graftTimeoutMs = options.graftTimeoutMs ?? 250;
    this.#graftRetryMs = options.graftRetryMs ?? 250;
    this.#exchangeTickMs = options.exchangeTickMs ?? 10_000;
    this.#threshold = options.optimizationThreshold ?? 3;
    this.#sharedThreshold = options.sharedOptimizationThreshold ?? 7;
    this.#maxRoots = options.maxRoots ?? 1_024;
    this.#control = this.#messenger(CONTROL);
    for (const n of this.#peers.neighbors()) this.#neighbors.add(n);
    this.#off.push(
      this.#peers.on('neighborUp', (node) => {
        this.#neighbors.add(node);
        this.#sendWaiting();
        this.#exchangeWithNewNeighbour(node);
      }),
      this.#peers.on('neighborDown', (node) => {
        this.#neighbors.delete(node);
        this.#neighborDown(node);
      }),
    );
    if (this.#exchangeTickMs > 0) this.#scheduleExchange();
  }

  /** Registers a handler; every node of the cluster must register it under the same name. */
  register(handler: BroadcastHandler): void {
    if (this.#handlers.has(handler.name)) throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `a broadcast handler named '${handler.name}' is already registered`);
    const channel = handler.channel ?? CONTROL;
    if (!this.#transport.channels.has(channel)) throw new TopologyError(TopologyErrorCode.UNKNOWN_CHANNEL, `broadcast handler '${handler.name}' uses unknown channel '${channel}'`);
    this.#handlers.set(handler.name, { handler, channel, root: handler.tree === 'shared' ? `*${handler.name}` : null, messenger: this.#messenger(channel), delivered: new Map(), deliveredBefore: new Map(), missing: new Map(), outstanding: new Map(), shown: new Map() });
  }

  /** Broadcasts `message` through the handler named `handlerName`; returns the message id. */
  broadcast(handlerName: string, message: unknown): string {
    const state = this.#handlers.get(handlerName);
    if (state === undefined) throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `no broadcast handler named '${handlerName}' is registered`);
    const { id, payload } = state.handler.broadcastData(message);
    this.stats.broadcasts++;
    if (this.#neighbors.size === 0) {
      // Alone for now (joining, or cut off): keep it for the first neighbour (bounded).
      this.#waiting.push({ state, id, payload });
      if (this.#waiting.length > MAX_WAITING) this.#waiting.shift();
    } else {
      const root = state.root ?? this.#self;
      this.#push(state, id, root, this.#lazySet(root), 0, payload, null);
    }
    return id;
  }

  #sendWaiting(): void {
    if (this.#waiting.length === 0 || this.#stopped) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const { state, id, payload } of waiting) {
      const root = state.root ?? this.#self;
      this.#push(state, id, root, this.#lazySet(root), 0, payload, null);
    }
  }

  /** The neighbours Plumtree broadcasts to (Partisan's `broadcast_members`). */
  members(): string[] {
    return [...this.#neighbors].sort();
  }

  /** This node's eager and lazy peers in the tree rooted at `root` (Partisan's `debug_get_peers`). */
  peers(root: string): TreePeers {
    const lazy = this.#trees.get(root)?.lazy ?? EMPTY;
    const neighbors = this.members();
    return { eager: neighbors.filter((n) => !lazy.has(n)), lazy: neighbors.filter((n) => lazy.has(n)) };
  }

  /**
   * The tree rooted at `root` as seen by `nodes` (Partisan's `debug_get_tree`): each node is asked
   * over its connection; `null` for a node without a connection or that did not answer within `timeoutMs`.
   */
  async tree(root: string, nodes: string[], timeoutMs = 2_000): Promise<Record<string, TreePeers | null>> {
    const answers = await Promise.all(nodes.map((node) => this.#askPeers(node, root, timeoutMs)));
    const out: Record<string, TreePeers | null> = {};
    nodes.forEach((node, i) => {
      out[node] = answers[i] ?? null;
    });
    return out;
  }

  #askPeers(node: string, root: string, timeoutMs: number): Promise<TreePeers | null> {
    if (node === this.#self) return Promise.resolve(this.peers(root));
    const connection = this.#transport.connection(node);
    if (connection === undefined || this.#stopped) return Promise.resolve(null);
    return new Promise((resolve) => {
      const q = this.#nextQuery++;
      const timer = this.#clock.setTimer(timeoutMs, () => {
        this.#queries.delete(q);
        resolve(null);
      });
      this.#queries.set(q, {
        timer,
        answer: (view) => {
          this.#clock.clearTimer(timer);
          this.#queries.delete(q);
          resolve(view);
        },
      });
      this.#control.send(connection, Tag.PLUMTREE, { t: 'q', q, r: root } satisfies Message);
    });
  }

  /** Running anti-entropy exchanges started by this node (Partisan's `exchanges`). */
  exchanges(): Exchange[] {
    return [...this.#exchanges.values()];
  }

  /** Forgets running exchanges, all or those matching (Partisan's `cancel_exchanges`); returns how many. */
  cancelExchanges(which: { peer?: string; handler?: string } = {}): number {
    let cancelled = 0;
    for (const [k, x] of [...this.#exchanges]) {
      if ((which.peer === undefined || x.peer === which.peer) && (which.handler === undefined || x.handler === which.handler)) {
        this.#exchanges.delete(k);
        cancelled++;
      }
    }
    return cancelled;
  }

  /** Starts an anti-entropy exchange of every handler now, with `peer` or a random neighbour. */
  exchangeNow(peer?: string): void {
    const with_ = peer ?? this.#random.pick([...this.#neighbors]);
    if (with_ === undefined || this.#stopped) return;
    for (const state of this.#handlers.values()) this.#startExchange(state, with_);
  }

  /**
   * A new connection may join two parts of the overlay that missed each other's messages (an overlay
   * repairing after a mass failure, a healed partition): exchange over it at once. This is what
   * makes the first broadcast after 70–95% of the nodes crash reach everyone (measured: without
   * it, a debounced exchange left that broadcast at 0.1% for a cycle).
   */
  #exchangeWithNewNeighbour(node: string): void {
    if (this.#exchangeTickMs > 0) this.exchangeNow(node);
  }

  /** Stops timers; no more messages are handled or sent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const off of this.#off) off();
    if (this.#tick !== null) this.#clock.clearTimer(this.#tick);
    if (this.#exchangeTimer !== null) this.#clock.clearTimer(this.#exchangeTimer);
    for (const state of this.#handlers.values()) {
      for (const m of state.missing.values()) if (m.timer !== null) this.#clock.clearTimer(m.timer);
      state.missing.clear();
      state.outstanding.clear();
    }
    for (const q of [...this.#queries.values()]) q.answer(null);
  }

  get #self(): string {
    return this.#peers.self.name;
  }

  #messenger(channel: string): Messenger {
    const m = Messenger.of(this.#transport, channel, this.#logger);
    m.on(Tag.PLUMTREE, this.#onMessage);
    return m;
  }

  readonly #onMessage = (connection: Connection, value: unknown): void => {
    if (!this.#stopped) this.#receive(connection, value);
  };

  // ==== Trees ====

  #lazySet(root: string): Set<string> {
    const tree = this.#trees.get(root);
    if (tree !== undefined) {
      tree.used = ++this.#uses;
      return tree.lazy;
    }
    const lazy = new Set<string>();
    this.#trees.set(root, { lazy, used: ++this.#uses });
    if (this.#trees.size > this.#maxRoots) this.#forgetLeastUsedTree();
    return lazy;
  }

  /** Too many trees: the least recently used goes (its root's next broadcast floods once, then prunes again). */
  #forgetLeastUsedTree(): void {
    let oldest: string | undefined;
    let used = Number.POSITIVE_INFINITY;
    for (const [root, tree] of this.#trees) {
      if (tree.used < used) {
        used = tree.used;
        oldest = root;
      }
    }
    if (oldest !== undefined) this.#trees.delete(oldest);
  }

  #neighborDown(node: string): void {
    for (const tree of this.#trees.values()) tree.lazy.delete(node);
    for (const state of this.#handlers.values()) {
      state.outstanding.delete(node);
      state.shown.delete(node);
      for (const m of state.missing.values()) m.announcers = m.announcers.filter((a) => a.peer !== node);
    }
  }

  /** Eager push to the eager peers, IHAVEs (next tick) to the lazy ones; the sender is skipped. */
  #push(state: HandlerState, id: string, root: string, lazy: Set<string>, round: number, payload: unknown, from: string | null): void {
    // Encoded once for all eager peers (not once per peer).
    let gossip: PreparedMessage | null = null;
    for (const name of this.#neighbors) {
      if (name === from) continue;
      if (lazy.has(name)) {
        this.#announce(state, name, id, root, round);
        continue;
      }
      const connection = this.#transport.connection(name);
      if (connection === undefined) continue;
      gossip ??= state.messenger.prepare(Tag.PLUMTREE, { t: 'g', h: state.handler.name, id, r: root, n: round, p: payload } satisfies Message);
      gossip.sendTo(connection);
    }
  }

  #flood(state: HandlerState, id: string, round: number, payload: unknown, from: string): void {
    const gossip = state.messenger.prepare(Tag.PLUMTREE, { t: 'g', h: state.handler.name, id, r: EXCHANGED, n: round, p: payload } satisfies Message);
    for (const name of this.#neighbors) {
      if (name === from) continue;
      const connection = this.#transport.connection(name);
      if (connection !== undefined) gossip.sendTo(connection);
    }
  }

  #announce(state: HandlerState, peer: string, id: string, root: string, round: number): void {
    let list = state.outstanding.get(peer);
    if (list === undefined) state.outstanding.set(peer, (list = []));
    list.push(id, root, round);
    this.#tick ??= this.#clock.setTimer(this.#lazyTickMs, () => {
      this.#tick = null;
      this.#flushIhaves();
    });
  }

  #flushIhaves(): void {
    if (this.#stopped) return;
    for (const state of this.#handlers.values()) {
      for (const [peer, triples] of state.outstanding) {
        const connection = this.#transport.connection(peer);
        if (connection === undefined) continue;
        const shown = state.shown.get(peer);
        let send = triples;
        if (shown !== undefined) {
          send = [];
          for (let i = 0; i < triples.length; i += 3) if (!shown.has(triples[i] as string)) send.push(triples[i] as string, triples[i + 1] as string, triples[i + 2] as number);
        }
        if (send.length === 0) continue;
        this.stats.ihaveMessages++;
        this.stats.ihaveEntries += send.length / 3;
        this.#control.send(connection, Tag.PLUMTREE, { t: 'i', h: state.handler.name, e: send } satisfies Message);
      }
      state.outstanding.clear();
      state.shown.clear();
    }
  }

  #shown(state: HandlerState, peer: string, id: string): void {
    let set = state.shown.get(peer);
    if (set === undefined) state.shown.set(peer, (set = new Set()));
    set.add(id);
  }

  // ==== Receiving ====

  #receive(connection: Connection, value: unknown): void {
    const m = value as Partial<Record<string, unknown>>;
    const from = connection.peer.name;
    switch (m.t) {
      case 'g': {
        const state = typeof m.h === 'string' ? this.#handlers.get(m.h) : undefined;
        if (state !== undefined && typeof m.id === 'string' && typeof m.r === 'string' && Number.isInteger(m.n)) this.#onGossip(state, from, m.id, m.r, m.n as number, m.p);
        return;
      }
      case 'i': {
        const state = typeof m.h === 'string' ? this.#handlers.get(m.h) : undefined;
        if (state !== undefined && Array.isArray(m.e)) this.#onIhave(state, from, m.e);
        return;
      }
      case 'x':
        if (typeof m.r === 'string' && m.r !== EXCHANGED) {
          this.#lazySet(m.r).add(from);
          this.stats.prunes++;
        }
        return;
      case 'f': {
        const state = typeof m.h === 'string' ? this.#handlers.get(m.h) : undefined;
        if (state !== undefined && typeof m.r === 'string' && Number.isInteger(m.n)) this.#onGraft(state, connection, typeof m.id === 'string' ? m.id : null, m.r, m.n as number);
        return;
      }
      case 'd': {
        const state = typeof m.h === 'string' ? this.#handlers.get(m.h) : undefined;
        if (state !== undefined && Array.isArray(m.ids)) this.#onDigest(state, connection, m.ids.filter((x): x is string => typeof x === 'string'));
        return;
      }
      case 'q':
        if (Number.isInteger(m.q) && typeof m.r === 'string') this.#control.send(connection, Tag.PLUMTREE, { t: 'qr', q: m.q as number, ...this.peers(m.r) } satisfies Message);
        return;
      case 'qr':
        if (Number.isInteger(m.q) && isStringArray(m.eager) && isStringArray(m.lazy)) this.#queries.get(m.q as number)?.answer({ eager: m.eager, lazy: m.lazy });
        return;
      default:
        this.#logger.warn(`ignoring a malformed broadcast message from ${from}`);
    }
  }

  #onGossip(state: HandlerState, from: string, id: string, root: string, round: number, payload: unknown): void {
    this.stats.gossipReceived++;
    let fresh: boolean;
    const info = this.#info;
    info.from = from;
    info.root = root;
    info.round = round;
    try {
      fresh = state.handler.merge(id, payload, info);
    } catch (err) {
      this.#logger.error(`broadcast handler '${state.handler.name}' threw in merge`, { reason: err });
      return;
    }
    if (root === EXCHANGED) {
      // Repaired by anti-entropy: its tree is unknown here, and the neighbours may lack it too
      // (a part of the overlay that was cut off): flood it once, to every other neighbour.
      if (!fresh) return;
      this.#repairedSinceExchange++;
      this.#forgetMissing(state, id);
      if (state.handler.floodRepairs !== false) this.#flood(state, id, round + 1, payload, from);
      return;
    }
    if (!fresh) {
      // A duplicate: the connection is redundant in this root's tree; and an IHAVE to the sender is useless.
      this.#shown(state, from, id);
      this.stats.duplicates++;
      this.#lazySet(root).add(from);
      const connection = this.#transport.connection(from);
      if (connection !== undefined) this.#control.send(connection, Tag.PLUMTREE, { t: 'x', r: root } satisfies Message);
      return;
    }
    const lazy = this.#lazySet(root);
    lazy.delete(from);
    this.#forgetMissing(state, id);
    // The optimisation needs the round of delivery, and cannot apply below its threshold.
    if (round >= (state.root === null ? this.#threshold : this.#sharedThreshold)) {
      if (state.delivered.size >= DELIVERED_KEPT) {
        state.deliveredBefore = state.delivered;
        state.delivered = new Map();
      }
      state.delivered.set(id, { round, parent: from });
    }
    this.#push(state, id, root, lazy, round + 1, payload, from);
  }

  #forgetMissing(state: HandlerState, id: string): void {
    const missing = state.missing.get(id);
    if (missing === undefined) return;
    if (missing.timer !== null) this.#clock.clearTimer(missing.timer);
    state.missing.delete(id);
  }

  #onIhave(state: HandlerState, from: string, triples: unknown[]): void {
    for (let i = 0; i + 2 < triples.length; i += 3) {
      const id = triples[i];
      const root = triples[i + 1];
      const round = triples[i + 2];
      if (typeof id !== 'string' || typeof root !== 'string' || root === EXCHANGED || !Number.isInteger(round)) continue;
      this.#shown(state, from, id);
      if (state.handler.isStale(id)) {
        this.#optimize(state, id, root, round as number, from);
        continue;
      }
      let missing = state.missing.get(id);
      if (missing === undefined) {
        const entry: Missing = { root, announcers: [], timer: null };
        entry.timer = this.#clock.setTimer(this.#graftTimeoutMs, () => {
          this.#graftNext(state, id);
        });
        state.missing.set(id, entry);
        missing = entry;
      }
      missing.announcers.push({ peer: from, round: round as number });
    }
  }

  /** The paper's optimisation: an announcement much earlier than our copy means a shorter path. */
  #optimize(state: HandlerState, id: string, root: string, round: number, announcer: string): void {
    const delivered = state.delivered.get(id) ?? state.deliveredBefore.get(id);
    if (delivered === undefined || delivered.round - round < (state.root === null ? this.#threshold : this.#sharedThreshold)) return;
    const lazy = this.#lazySet(root);
    lazy.delete(announcer);
    lazy.add(delivered.parent);
    const a = this.#transport.connection(announcer);
    const p = this.#transport.connection(delivered.parent);
    if (a !== undefined) this.#control.send(a, Tag.PLUMTREE, { t: 'f', h: state.handler.name, id: null, r: root, n: round } satisfies Message);
    if (p !== undefined) this.#control.send(p, Tag.PLUMTREE, { t: 'x', r: root } satisfies Message);
    state.delivered.delete(id);
    state.deliveredBefore.delete(id);
  }

  /** The payload did not come: GRAFT it from the first announcer, then from the next after a while. */
  #graftNext(state: HandlerState, id: string): void {
    const missing = state.missing.get(id);
    if (missing === undefined || this.#stopped) return;
    missing.timer = null;
    const next = missing.announcers.shift();
    if (next === undefined || state.handler.isStale(id)) {
      state.missing.delete(id);
      return;
    }
    this.#lazySet(missing.root).delete(next.peer);
    const connection = this.#transport.connection(next.peer);
    if (connection !== undefined) {
      this.stats.grafts++;
      this.#control.send(connection, Tag.PLUMTREE, { t: 'f', h: state.handler.name, id, r: missing.root, n: next.round } satisfies Message);
    }
    missing.timer = this.#clock.setTimer(connection === undefined ? 0 : this.#graftRetryMs, () => {
      this.#graftNext(state, id);
    });
  }

  #onGraft(state: HandlerState, connection: Connection, id: string | null, root: string, round: number): void {
    if (root !== EXCHANGED) this.#lazySet(root).delete(connection.peer.name);
    if (id === null) return;
    let result: { ok: unknown } | 'stale';
    try {
      result = state.handler.graft(id);
    } catch (err) {
      this.#logger.error(`broadcast handler '${state.handler.name}' threw in graft`, { reason: err });
      return;
    }
    if (result !== 'stale') state.messenger.send(connection, Tag.PLUMTREE, { t: 'g', h: state.handler.name, id, r: root, n: round, p: result.ok } satisfies Message);
  }

  // ==== Anti-entropy ====

  /**
   * The next periodic exchange. While exchanges keep repairing something (a cluster starting, a
   * partition healing), the next comes eight times sooner.
   */
  #scheduleExchange(): void {
    const period = this.#repairedSinceExchange > 0 ? this.#exchangeTickMs / 8 : this.#exchangeTickMs;
    this.#repairedSinceExchange = 0;
    this.#exchangeTimer = this.#clock.setTimer(period * (0.9 + 0.2 * this.#random.next()), () => {
      this.#exchangeTimer = null;
      if (this.#stopped) return;
      this.exchangeNow();
      this.#scheduleExchange();
    });
  }

  #startExchange(state: HandlerState, peer: string): void {
    const { handler } = state;
    const k = `${handler.name}\u0000${peer}`;
    if (this.#exchanges.has(k)) return;
    if (handler.exchange !== undefined) {
      this.#exchanges.set(k, { handler: handler.name, peer, startedAt: this.#clock.now() });
      this.stats.exchanges++;
      handler.exchange(peer).then(
        () => this.#exchanges.delete(k),
        (err: unknown) => {
          this.#exchanges.delete(k);
          this.#logger.warn(`exchange of '${handler.name}' with ${peer} failed`, { reason: err });
        },
      );
      return;
    }
    if (handler.digest === undefined) return;
    const connection = this.#transport.connection(peer);
    if (connection === undefined) return;
    this.stats.exchanges++;
    this.#control.send(connection, Tag.PLUMTREE, { t: 'd', h: handler.name, ids: handler.digest() } satisfies Message);
  }

  /** A peer's digest: graft what it has and we lack, push what we have and it lacks. */
  #onDigest(state: HandlerState, connection: Connection, ids: string[]): void {
    const { handler } = state;
    if (handler.digest === undefined) return;
    const theirs = new Set(ids);
    for (const id of ids) {
      if (!handler.isStale(id)) this.#control.send(connection, Tag.PLUMTREE, { t: 'f', h: handler.name, id, r: EXCHANGED, n: 0 } satisfies Message);
    }
    for (const id of handler.digest()) {
      if (theirs.has(id)) continue;
      const result = handler.graft(id);
      if (result !== 'stale') state.messenger.send(connection, Tag.PLUMTREE, { t: 'g', h: handler.name, id, r: EXCHANGED, n: 0, p: result.ok } satisfies Message);
    }
  }
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}
