// Plumtree (Leitão, Pereira, Rodrigues, SRDS 2007): epidemic broadcast trees over the overlay's
// neighbours. Payloads are pushed eagerly along a spanning tree and announced lazily (IHAVE) on
// the other links; a duplicate prunes a link into the lazy set; a missing message is grafted back
// from an announcer after a delay. One tree per root (the broadcasting node), kept for the most
// recent `maxRoots` roots.
//
// Beyond the paper and Partisan: IHAVEs are batched per lazy tick and not sent to a neighbour that
// announced or sent the same message to us; grafts wait for `graftTimeoutMs` (Partisan grafts at
// once); the paper's optimisation rewires a tree when an announcement shows a much shorter path;
// a built-in digest exchange repairs what the tree missed (anti-entropy).

import { silentLogger, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random, TimerHandle } from '@fdn/core';
import { CONTROL } from '../channels/config.ts';
import { Messenger, Tag } from '../messenger/messenger.ts';
import type { PeerService } from '../peer-service/types.ts';
import type { Link, Transport } from '../transport/types.ts';
import type { BroadcastHandler } from './handler.ts';

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
  gossipReceived: number;
  duplicates: number;
  ihaveMessages: number;
  ihaveEntries: number;
  grafts: number;
  prunes: number;
  exchanges: number;
}

type Entry = [handler: string, id: string, root: string, round: number];

type Message =
  | { t: 'g'; h: string; id: string; r: string; n: number; p: unknown }
  | { t: 'i'; e: Entry[] }
  | { t: 'x'; h: string; r: string }
  | { t: 'f'; h: string; id: string | null; r: string; n: number }
  | { t: 'd'; h: string; ids: string[] }
  | { t: 'q'; q: number; r: string }
  | { t: 'qr'; q: number; eager: string[]; lazy: string[] };

/** A running anti-entropy exchange. */
export interface Exchange {
  handler: string;
  peer: string;
  startedAt: number;
}

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
  readonly #lazyTickMs: number;
  readonly #graftTimeoutMs: number;
  readonly #graftRetryMs: number;
  readonly #exchangeTickMs: number;
  readonly #threshold: number;
  readonly #maxRoots: number;
  readonly #handlers = new Map<string, BroadcastHandler>();
  /** Per root: the neighbours pruned into lazy push (eager = neighbours − lazy). */
  readonly #lazy = new Map<string, Set<string>>();
  /** IHAVE entries waiting for the next lazy tick, per neighbour. */
  readonly #outstanding = new Map<string, Entry[]>();
  /** Messages a neighbour showed it has (sent or announced) since the last tick: no IHAVE for those. */
  readonly #shownBy = new Map<string, Set<string>>();
  #tick: TimerHandle | null = null;
  /** Announced but not received: who announced it, and the graft timer. */
  readonly #missing = new Map<string, { handler: string; root: string; announcers: [string, number][]; timer: TimerHandle | null }>();
  /** Recently delivered: round and parent (for the tree optimisation). */
  readonly #delivered = new Map<string, [number, string]>();
  readonly #exchanges = new Map<string, Exchange>();
  readonly #queries = new Map<number, (view: { eager: string[]; lazy: string[] } | null) => void>();
  #nextQuery = 1;
  #exchangeTimer: TimerHandle | null = null;
  #stopped = false;
  readonly #off: (() => void)[] = [];

  constructor(options: PlumtreeOptions, components: PlumtreeComponents) {
    this.#transport = components.transport;
    this.#peers = components.peerService;
    this.#clock = components.clock ?? systemClock();
    this.#random = components.random ?? systemRandom();
    this.#logger = (components.logger ?? silentLogger()).child({ node: this.#peers.self.name, component: 'plumtree' });
    this.#lazyTickMs = options.lazyTickMs ?? 250;
    this.#graftTimeoutMs = options.graftTimeoutMs ?? 250;
    this.#graftRetryMs = options.graftRetryMs ?? 250;
    this.#exchangeTickMs = options.exchangeTickMs ?? 10_000;
    this.#threshold = options.optimizationThreshold ?? 3;
    this.#maxRoots = options.maxRoots ?? 1_024;
    this.#off.push(
      this.#peers.on('neighborDown', (node) => {
        this.#neighborDown(node);
      }),
    );
    if (this.#exchangeTickMs > 0) this.#scheduleExchange();
  }

  /** Registers a handler (its channel's messenger is set up on first use). */
  register(handler: BroadcastHandler): void {
    this.#handlers.set(handler.name, handler);
    Messenger.of(this.#transport, handler.channel ?? CONTROL, this.#logger).on(Tag.PLUMTREE, (link, value) => {
      if (!this.#stopped) this.#receive(link, value);
    });
  }

  /** Broadcasts `message` through `handler` (which must be registered on every node). */
  broadcast(handlerName: string, message: unknown): string {
    const handler = this.#handler(handlerName);
    const { id, payload } = handler.broadcastData(message);
    const root = this.#self;
    this.stats.broadcasts++;
    this.#push(handler, id, root, 0, payload, null);
    return id;
  }

  /** The neighbours Plumtree broadcasts to (Partisan's `broadcast_members`). */
  members(): string[] {
    return this.#peers.neighbors();
  }

  /** This node's eager and lazy peers in the tree rooted at `root` (Partisan's `debug_get_peers`). */
  peers(root: string): { eager: string[]; lazy: string[] } {
    const lazy = this.#lazy.get(root) ?? EMPTY;
    const neighbors = this.#peers.neighbors();
    return { eager: neighbors.filter((n) => !lazy.has(n)), lazy: neighbors.filter((n) => lazy.has(n)) };
  }

  /** The tree rooted at `root` as seen by `nodes` (asked over the network; `null` for a node that did not answer). */
  async tree(root: string, nodes: string[], timeoutMs = 2_000): Promise<Record<string, { eager: string[]; lazy: string[] } | null>> {
    const out: Record<string, { eager: string[]; lazy: string[] } | null> = {};
    await Promise.all(
      nodes.map(async (node) => {
        if (node === this.#self) {
          out[node] = this.peers(root);
          return;
        }
        const link = this.#transport.link(node);
        if (link === undefined) {
          out[node] = null;
          return;
        }
        out[node] = await new Promise((resolve) => {
          const q = this.#nextQuery++;
          const timer = this.#clock.setTimer(timeoutMs, () => {
            this.#queries.delete(q);
            resolve(null);
          });
          this.#queries.set(q, (view) => {
            this.#clock.clearTimer(timer);
            this.#queries.delete(q);
            resolve(view);
          });
          this.#send(link, CONTROL, { t: 'q', q, r: root });
        });
      }),
    );
    return out;
  }

  /** Running anti-entropy exchanges started by this node. */
  exchanges(): Exchange[] {
    return [...this.#exchanges.values()];
  }

  /** Forgets the running exchanges (a custom exchange's promise is no longer awaited). */
  cancelExchanges(): void {
    this.#exchanges.clear();
  }

  /** Starts one anti-entropy exchange now with a random neighbour (normally on the exchange tick). */
  exchangeNow(): void {
    const peer = this.#random.pick(this.#peers.neighbors());
    if (peer === undefined) return;
    for (const handler of this.#handlers.values()) this.#startExchange(handler, peer);
  }

  /** Stops timers; no more messages are handled. */
  stop(): void {
    this.#stopped = true;
    for (const off of this.#off) off();
    if (this.#tick !== null) this.#clock.clearTimer(this.#tick);
    if (this.#exchangeTimer !== null) this.#clock.clearTimer(this.#exchangeTimer);
    for (const m of this.#missing.values()) if (m.timer !== null) this.#clock.clearTimer(m.timer);
    this.#missing.clear();
  }

  get #self(): string {
    return this.#peers.self.name;
  }

  #handler(name: string): BroadcastHandler {
    const handler = this.#handlers.get(name);
    if (handler === undefined) throw new Error(`no broadcast handler named '${name}' is registered`);
    return handler;
  }

  // ==== Trees ====

  #lazySet(root: string): Set<string> {
    let set = this.#lazy.get(root);
    if (set === undefined) {
      set = new Set();
      this.#lazy.set(root, set);
      if (this.#lazy.size > this.#maxRoots) this.#lazy.delete(this.#lazy.keys().next().value as string);
    } else {
      // Least recently used first: move to the end.
      this.#lazy.delete(root);
      this.#lazy.set(root, set);
    }
    return set;
  }

  #neighborDown(node: string): void {
    for (const set of this.#lazy.values()) set.delete(node);
    this.#outstanding.delete(node);
    this.#shownBy.delete(node);
    for (const m of this.#missing.values()) m.announcers = m.announcers.filter(([a]) => a !== node);
  }

  /** Eager push to the eager peers, and schedule IHAVEs to the lazy ones (the sender excluded). */
  #push(handler: BroadcastHandler, id: string, root: string, round: number, payload: unknown, from: string | null): void {
    const lazy = this.#lazySet(root);
    const channel = handler.channel ?? CONTROL;
    const gossip: Message = { t: 'g', h: handler.name, id, r: root, n: round, p: payload };
    for (const name of this.#peers.neighbors()) {
      if (name === from) continue;
      if (lazy.has(name)) {
        this.#announce(name, [handler.name, id, root, round]);
      } else {
        const link = this.#transport.link(name);
        if (link !== undefined) this.#send(link, channel, gossip);
      }
    }
  }

  #announce(peer: string, entry: Entry): void {
    let list = this.#outstanding.get(peer);
    if (list === undefined) this.#outstanding.set(peer, (list = []));
    list.push(entry);
    this.#tick ??= this.#clock.setTimer(this.#lazyTickMs, () => {
      this.#tick = null;
      this.#flushIhaves();
    });
  }

  #flushIhaves(): void {
    for (const [peer, entries] of this.#outstanding) {
      const shown = this.#shownBy.get(peer);
      const send = shown === undefined ? entries : entries.filter((e) => !shown.has(key(e[0], e[1])));
      const link = this.#transport.link(peer);
      if (send.length === 0 || link === undefined) continue;
      this.stats.ihaveMessages++;
      this.stats.ihaveEntries += send.length;
      this.#send(link, CONTROL, { t: 'i', e: send });
    }
    this.#outstanding.clear();
    this.#shownBy.clear();
  }

  #shown(peer: string, k: string): void {
    let set = this.#shownBy.get(peer);
    if (set === undefined) this.#shownBy.set(peer, (set = new Set()));
    set.add(k);
  }

  // ==== Receiving ====

  #receive(link: Link, value: unknown): void {
    const m = value as Partial<Message> & Record<string, unknown>;
    const from = link.peer.name;
    switch (m.t) {
      case 'g':
        if (typeof m.h === 'string' && typeof m.id === 'string' && typeof m.r === 'string' && Number.isInteger(m.n)) this.#onGossip(from, m.h, m.id, m.r, m.n as number, m.p);
        return;
      case 'i':
        if (Array.isArray(m.e)) this.#onIhave(from, m.e);
        return;
      case 'x':
        if (typeof m.r === 'string') {
          this.#lazySet(m.r).add(from);
          this.stats.prunes++;
        }
        return;
      case 'f':
        if (typeof m.h === 'string' && typeof m.r === 'string' && Number.isInteger(m.n)) this.#onGraft(link, m.h, typeof m.id === 'string' ? m.id : null, m.r, m.n as number);
        return;
      case 'd':
        if (typeof m.h === 'string' && Array.isArray(m.ids)) this.#onDigest(link, m.h, m.ids.filter((x): x is string => typeof x === 'string'));
        return;
      case 'q':
        if (Number.isInteger(m.q) && typeof m.r === 'string') this.#send(link, CONTROL, { t: 'qr', q: m.q as number, ...this.peers(m.r) });
        return;
      case 'qr':
        if (Number.isInteger(m.q) && Array.isArray(m.eager) && Array.isArray(m.lazy)) this.#queries.get(m.q as number)?.({ eager: m.eager as string[], lazy: m.lazy as string[] });
        return;
      default:
        this.#logger.warn(`ignoring a malformed broadcast message from ${from}`);
    }
  }

  #onGossip(from: string, handlerName: string, id: string, root: string, round: number, payload: unknown): void {
    const handler = this.#handlers.get(handlerName);
    if (handler === undefined) return;
    this.stats.gossipReceived++;
    const k = key(handlerName, id);
    this.#shown(from, k);
    let fresh: boolean;
    try {
      fresh = handler.merge(id, payload, { from, root, round });
    } catch (err) {
      this.#logger.error(`broadcast handler '${handlerName}' threw in merge`, { reason: err });
      return;
    }
    if (!fresh) {
      // A duplicate: the link is redundant in this root's tree.
      this.stats.duplicates++;
      this.#lazySet(root).add(from);
      const link = this.#transport.link(from);
      if (link !== undefined) this.#send(link, CONTROL, { t: 'x', h: handlerName, r: root });
      return;
    }
    this.#lazySet(root).delete(from);
    const missing = this.#missing.get(k);
    if (missing !== undefined) {
      if (missing.timer !== null) this.#clock.clearTimer(missing.timer);
      this.#missing.delete(k);
    }
    this.#delivered.set(k, [round, from]);
    if (this.#delivered.size > 256) this.#delivered.delete(this.#delivered.keys().next().value as string);
    this.#push(handler, id, root, round + 1, payload, from);
  }

  #onIhave(from: string, entries: unknown[]): void {
    for (const raw of entries) {
      if (!Array.isArray(raw) || raw.length !== 4) continue;
      const [h, id, root, round] = raw as unknown[];
      if (typeof h !== 'string' || typeof id !== 'string' || typeof root !== 'string' || !Number.isInteger(round)) continue;
      const handler = this.#handlers.get(h);
      if (handler === undefined) continue;
      const k = key(h, id);
      this.#shown(from, k);
      if (handler.isStale(id)) {
        this.#optimize(h, k, root, round as number, from);
        continue;
      }
      let missing = this.#missing.get(k);
      if (missing === undefined) {
        missing = { handler: h, root, announcers: [], timer: null };
        this.#missing.set(k, missing);
        missing.timer = this.#clock.setTimer(this.#graftTimeoutMs, () => {
          this.#graftNext(k);
        });
      }
      missing.announcers.push([from, round as number]);
    }
  }

  /** The paper's optimisation: an announcement much earlier than our copy means a shorter path. */
  #optimize(handlerName: string, k: string, root: string, round: number, announcer: string): void {
    const delivered = this.#delivered.get(k);
    if (delivered === undefined || delivered[0] - round < this.#threshold) return;
    const [, parent] = delivered;
    this.#lazySet(root).delete(announcer);
    this.#lazySet(root).add(parent);
    const a = this.#transport.link(announcer);
    const p = this.#transport.link(parent);
    if (a !== undefined) this.#send(a, CONTROL, { t: 'f', h: handlerName, id: null, r: root, n: round });
    if (p !== undefined) this.#send(p, CONTROL, { t: 'x', h: handlerName, r: root });
    this.#delivered.delete(k);
  }

  /** The payload did not come: ask the first announcer (GRAFT), then the next after a while. */
  #graftNext(k: string): void {
    const missing = this.#missing.get(k);
    if (missing === undefined) return;
    const handler = this.#handlers.get(missing.handler);
    const next = missing.announcers.shift();
    if (next === undefined || handler === undefined || handler.isStale(k.slice(k.indexOf('\u0000') + 1))) {
      this.#missing.delete(k);
      return;
    }
    const [peer, round] = next;
    this.#lazySet(missing.root).delete(peer);
    const link = this.#transport.link(peer);
    if (link !== undefined) {
      this.stats.grafts++;
      this.#send(link, CONTROL, { t: 'f', h: missing.handler, id: k.slice(k.indexOf('\u0000') + 1), r: missing.root, n: round });
    }
    missing.timer = this.#clock.setTimer(this.#graftRetryMs, () => {
      this.#graftNext(k);
    });
  }

  #onGraft(link: Link, handlerName: string, id: string | null, root: string, round: number): void {
    const from = link.peer.name;
    this.#lazySet(root).delete(from);
    if (id === null) return;
    const handler = this.#handlers.get(handlerName);
    if (handler === undefined) return;
    let result: { ok: unknown } | 'stale';
    try {
      result = handler.graft(id);
    } catch (err) {
      this.#logger.error(`broadcast handler '${handlerName}' threw in graft`, { reason: err });
      return;
    }
    if (result !== 'stale') this.#send(link, handler.channel ?? CONTROL, { t: 'g', h: handlerName, id, r: root, n: round, p: result.ok });
  }

  // ==== Anti-entropy ====

  #scheduleExchange(): void {
    this.#exchangeTimer = this.#clock.setTimer(this.#exchangeTickMs * (0.9 + 0.2 * this.#random.next()), () => {
      this.#exchangeTimer = null;
      if (this.#stopped) return;
      this.exchangeNow();
      this.#scheduleExchange();
    });
  }

  #startExchange(handler: BroadcastHandler, peer: string): void {
    const id = key(handler.name, peer);
    if (this.#exchanges.has(id)) return;
    if (handler.exchange !== undefined) {
      this.#exchanges.set(id, { handler: handler.name, peer, startedAt: this.#clock.now() });
      this.stats.exchanges++;
      handler.exchange(peer).then(
        () => this.#exchanges.delete(id),
        (err: unknown) => {
          this.#exchanges.delete(id);
          this.#logger.warn(`exchange of '${handler.name}' with ${peer} failed`, { reason: err });
        },
      );
      return;
    }
    if (handler.digest === undefined) return;
    const link = this.#transport.link(peer);
    if (link === undefined) return;
    this.stats.exchanges++;
    this.#send(link, CONTROL, { t: 'd', h: handler.name, ids: handler.digest() });
  }

  /** A peer's digest: graft what it has and we lack, push what we have and it lacks. */
  #onDigest(link: Link, handlerName: string, ids: string[]): void {
    const handler = this.#handlers.get(handlerName);
    if (handler?.digest === undefined) return;
    const theirs = new Set(ids);
    for (const id of ids) {
      if (!handler.isStale(id)) this.#send(link, CONTROL, { t: 'f', h: handlerName, id, r: '', n: 0 });
    }
    for (const id of handler.digest()) {
      if (theirs.has(id)) continue;
      const result = handler.graft(id);
      if (result !== 'stale') this.#send(link, handler.channel ?? CONTROL, { t: 'g', h: handlerName, id, r: '', n: 0, p: result.ok });
    }
  }

  #send(link: Link, channel: string, message: Message): void {
    Messenger.of(this.#transport, channel, this.#logger).send(link, Tag.PLUMTREE, message);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function key(handler: string, id: string): string {
  return `${handler}\u0000${id}`;
}
