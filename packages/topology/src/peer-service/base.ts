// What every overlay shares: lifecycle, events, timers that die with the service, the addresses of
// known nodes, membership diffs, and `forward` (over a link, else an on-demand link from a bounded
// pool, else as the overlay decides).

import { silentLogger, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random, TimerHandle } from '@fdn/core';
import { CONTROL } from '../channels/config.ts';
import { TopologyError, TopologyErrorCode } from '../errors.ts';
import { Messenger, Tag } from '../messenger/messenger.ts';
import type { NodeIdentity } from '../node/identity.ts';
import type { Link, LinkDownReason, SendOptions, Transport } from '../transport/types.ts';
import { Emitter } from '../util/emitter.ts';
import type { DownReason, ForwardStatus, PeerService, PeerServiceEvents, PeerSpec } from './types.ts';

/** Options every peer service takes. */
export interface PeerServiceOptions {
  /** Nodes to join through when started (the first that answers), and to rejoin through when isolated. */
  seeds?: (PeerSpec | string)[];
  /** Links kept open for `forward` to nodes that are not neighbours (default 64, least recently used closed first). */
  maxOnDemandLinks?: number;
  /** An on-demand link unused this long is closed (default 30,000 ms). */
  onDemandIdleMs?: number;
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

/** @internal */
export abstract class BasePeerService implements PeerService {
  abstract readonly kind: string;
  protected readonly transport: Transport;
  protected readonly clock: Clock;
  protected readonly random: Random;
  protected readonly logger: Logger;
  protected readonly messenger: Messenger;
  protected readonly events: Emitter<PeerServiceEvents>;
  /** Where known nodes listen (learned from links, joins, gossip). */
  protected readonly specs = new Map<string, PeerSpec>();
  protected readonly seeds: PeerSpec[];
  #state: 'new' | 'started' | 'stopped' = 'new';
  #starting: Promise<void> | null = null;
  readonly #timers = new Set<TimerHandle>();
  readonly #onDemand = new Map<string, { link: Link; lastUsed: number }>();
  readonly #maxOnDemand: number;
  readonly #onDemandIdleMs: number;
  #members: readonly string[] = [];
  readonly #unsubscribe: (() => void)[] = [];

  constructor(options: PeerServiceOptions, components: PeerServiceComponents) {
    this.transport = components.transport;
    this.clock = components.clock ?? systemClock();
    this.random = components.random ?? systemRandom();
    this.logger = (components.logger ?? silentLogger()).child({ node: components.transport.self.name });
    this.messenger = Messenger.of(this.transport, CONTROL, this.logger);
    this.events = new Emitter<PeerServiceEvents>((event, err) => {
      this.logger.error(`a '${event}' listener threw`, { reason: err });
    });
    this.seeds = (options.seeds ?? []).map(toSpec);
    this.#maxOnDemand = options.maxOnDemandLinks ?? 64;
    this.#onDemandIdleMs = options.onDemandIdleMs ?? 30_000;
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
      this.transport.on('linkUp', (link) => {
        this.specs.set(link.peer.name, { name: link.peer.name, addresses: link.peer.addresses });
        if (this.running) this.onLinkUp(link);
      }),
      this.transport.on('linkDown', (link, reason) => {
        this.#onDemand.delete(link.peer.name);
        if (this.running) this.onLinkDown(link, reason);
      }),
    );
    this.messenger.on(Tag.OVERLAY, (link, value) => {
      if (this.running) this.onOverlayMessage(link, value);
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
    this.#state = 'stopped';
    this.events.clear();
    for (const timer of this.#timers) this.clock.clearTimer(timer);
    this.#timers.clear();
    for (const off of this.#unsubscribe) off();
    this.onStop();
    if (starting !== null) await starting.catch(() => undefined);
    await this.transport.stop();
  }

  // ==== What each overlay supplies ====

  abstract join(contact: PeerSpec | string): Promise<void>;
  abstract leave(): Promise<void>;
  abstract neighbors(): string[];
  /** The member set as this overlay knows it (self included). */
  protected abstract currentMembers(): Iterable<string>;
  protected abstract onOverlayMessage(link: Link, value: unknown): void;
  protected abstract onLinkUp(link: Link): void;
  protected abstract onLinkDown(link: Link, reason: LinkDownReason): void;
  protected onStart(): void {
    // Overlays that need timers start them here.
  }
  protected onStop(): void {
    // Overlays release their own state here.
  }

  members(): string[] {
    return [...this.currentMembers()].sort();
  }

  on<E extends keyof PeerServiceEvents>(event: E, listener: PeerServiceEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Recomputes the member set and emits `up`/`down` for the difference, then `membership`.
   * Overlays call it whenever their view of the membership may have changed.
   */
  protected membershipChanged(downReason: DownReason = { kind: 'unreachable', message: 'no longer a member' }): void {
    if (!this.running) return;
    const next = this.members();
    const before = new Set(this.#members);
    const after = new Set(next);
    if (before.size === after.size && next.every((m) => before.has(m))) return;
    this.#members = next;
    for (const m of next) if (!before.has(m) && m !== this.self.name) this.events.emit('up', m);
    for (const m of before) if (!after.has(m)) this.events.emit('down', m, downReason);
    this.events.emit('membership', next);
  }

  // ==== Joining and timers ====

  /** Joins through the seeds, first that answers; retried with backoff while none does. */
  protected async joinSeeds(attempt = 0): Promise<void> {
    for (const seed of this.random.shuffle(this.seeds.slice())) {
      if (!this.running) return;
      if (seed.name === this.self.name || seed.addresses.some((a) => this.self.addresses.includes(a))) continue;
      try {
        await this.join(seed);
        return;
      } catch (err) {
        this.logger.debug(`seed ${seed.name || seed.addresses[0]} did not answer`, { reason: err });
      }
    }
    if (!this.running || this.seeds.every((s) => s.name === this.self.name || s.addresses.some((a) => this.self.addresses.includes(a)))) return;
    this.after(Math.min(30_000, 500 * 2 ** attempt) * (0.5 + this.random.next()), () => {
      void this.joinSeeds(attempt + 1);
    });
  }

  /** Opens (or finds) the link to a contact. */
  protected async connectTo(contact: PeerSpec): Promise<Link> {
    const existing = contact.name === '' ? undefined : this.transport.link(contact.name);
    if (existing !== undefined) return existing;
    let last: unknown = new TopologyError(TopologyErrorCode.CONNECT_FAILED, `no address for ${contact.name}`);
    for (const address of contact.addresses) {
      try {
        return await this.transport.connect(address, contact.name === '' ? undefined : contact.name);
      } catch (err) {
        last = err;
      }
    }
    throw last;
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

  /** Sends an overlay protocol message over a link. */
  protected sendOverlay(link: Link, message: unknown): void {
    this.messenger.send(link, Tag.OVERLAY, message);
  }

  // ==== Forwarding ====

  async forward(node: string, channel: string, payload: Uint8Array, options?: SendOptions): Promise<ForwardStatus> {
    if (!this.running || node === this.self.name) return 'unknown';
    const link = this.transport.link(node);
    if (link !== undefined) {
      const pooled = this.#onDemand.get(node);
      if (pooled !== undefined) pooled.lastUsed = this.clock.now();
      return link.send(channel, payload, options);
    }
    return this.forwardIndirect(node, channel, payload, options);
  }

  /** No link to `node`: open an on-demand one if its address is known. Overlays may relay instead. */
  protected async forwardIndirect(node: string, channel: string, payload: Uint8Array, options?: SendOptions): Promise<ForwardStatus> {
    const spec = this.specs.get(node);
    if (spec === undefined || spec.addresses.length === 0) return 'unknown';
    let link: Link;
    try {
      link = await this.connectTo(spec);
    } catch (err) {
      this.logger.debug(`forward to ${node}: could not open a link`, { reason: err });
      return 'dropped';
    }
    if (!this.isNeighbor(node)) this.#keepOnDemand(link);
    return link.send(channel, payload, options);
  }

  /** Whether `node` is an overlay neighbour (its link belongs to the overlay, not to the on-demand pool). */
  protected abstract isNeighbor(node: string): boolean;

  /** True when the link to `node` exists only for `forward`. */
  protected isOnDemand(node: string): boolean {
    return this.#onDemand.has(node);
  }

  /** The overlay now uses the link to `node`: it no longer counts against the on-demand pool. */
  protected adoptLink(node: string): void {
    this.#onDemand.delete(node);
  }

  #keepOnDemand(link: Link): void {
    this.#onDemand.set(link.peer.name, { link, lastUsed: this.clock.now() });
    if (this.#onDemand.size <= this.#maxOnDemand) return;
    let oldest: [string, { link: Link; lastUsed: number }] | undefined;
    for (const entry of this.#onDemand) if (oldest === undefined || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    if (oldest !== undefined) {
      this.#onDemand.delete(oldest[0]);
      oldest[1].link.close('on-demand link pool is full');
    }
  }

  #closeIdleOnDemand(): void {
    const horizon = this.clock.now() - this.#onDemandIdleMs;
    for (const [name, entry] of [...this.#onDemand]) {
      if (entry.lastUsed < horizon && !this.isNeighbor(name)) {
        this.#onDemand.delete(name);
        entry.link.close('on-demand link idle');
      }
    }
  }
}
