// FullMesh: every node connects to every member. Membership is an ORSWOT of node specs, gossiped to
// all neighbours periodically and (debounced) whenever it changes. A member whose connection fails stays
// a member and is redialled with backoff, as in Partisan; only `leave` (or a restart, which
// replaces the old incarnation) removes it. `up`/`down` report reachability of members.
//
// ClientServer is this protocol with a dialling policy (see client-server.ts), so the policy
// points are protected: which members to dial, which connected nodes count as neighbours.

import type { TimerHandle } from '@fdn/core';
import type { Connection, ConnectionDownReason } from '../../transport/types.ts';
import { BasePeerService, toSpec } from '../base.ts';
import type { PeerServiceComponents, PeerServiceOptions } from '../base.ts';
import { Redialer } from '../redial.ts';
import type { PeerSpec } from '../types.ts';
import { isPeerSpec } from '../validate.ts';
import { isOrSetState, OrSet } from './or-set.ts';
import type { OrSetState } from './or-set.ts';

/** A member as the membership set stores it. */
export interface MemberSpec extends PeerSpec {
  incarnation: number;
  /** Set by ClientServer: what the node is. */
  role?: 'server' | 'client';
}

export interface FullMeshOptions extends PeerServiceOptions {
  /** Anti-entropy period (default 10,000 ms): a digest of the membership over each link, the whole set only where they differ. */
  gossipIntervalMs?: number;
  /** Gossip after a change at most this often (default 100 ms). */
  gossipDebounceMs?: number;
  /** First redial delay of an unreachable member (default 500 ms, doubling up to `maxRedialMs`). */
  redialMs?: number;
  /** Default 30,000 ms. */
  maxRedialMs?: number;
  /**
   * Neighbours a membership change is gossiped to at once, picked at random (default 4): the
   * change spreads as an epidemic, each node that learns it passing it on, and the periodic gossip
   * still reaches every neighbour. Sending every change to every neighbour costs O(n²) full states
   * per change: at 128 nodes that decoding alone kept two cores busy.
   */
  gossipFanout?: number;
  /** Dials running at once while connecting to the members (default 16; the others wait their turn). */
  maxConcurrentDials?: number;
}

/**
 * `state`: merge this. `join`: merge this and answer with yours. `digest`: a hash of the sender's
 * set; a node whose set differs answers with a `sync` (its set and its digest), and the sender answers
 * that with its own set only if, merged, it still differs. Digests go each period from the smaller
 * name of each link, and from a node to all its neighbours a while after its set last changed: a
 * change spreads as an epidemic to random neighbours, which misses a few (about e^-fanout of them);
 * that round finds them at once, not a period later.
 */
type Message =
  | { t: 'state'; state: OrSetState<MemberSpec> }
  | { t: 'join'; state: OrSetState<MemberSpec> }
  | { t: 'sync'; state: OrSetState<MemberSpec>; digest: string }
  | { t: 'digest'; digest: string };

function isMemberSpec(x: unknown): x is MemberSpec {
  if (!isPeerSpec(x)) return false;
  const { incarnation, role } = x as { incarnation?: unknown; role?: unknown };
  return Number.isInteger(incarnation) && (role === undefined || role === 'server' || role === 'client');
}

function keyOf(name: string, incarnation: number): string {
  return `${name}@${String(incarnation)}`;
}

/** A full-mesh peer service. */
export function fullMesh(options: FullMeshOptions = {}): (components: PeerServiceComponents) => FullMesh {
  return (components) => new FullMesh(options, components);
}

export class FullMesh extends BasePeerService {
  readonly kind: string = 'fullMesh';
  readonly #set = new OrSet<MemberSpec>();
  /** Member name → its newest spec (an index of the set, rebuilt when the set changes). */
  #byName = new Map<string, MemberSpec>();
  readonly #gossipIntervalMs: number;
  readonly #debounceMs: number;
  readonly #redialer: Redialer;
  readonly #fanout: number;
  #gossipPending = false;
  /** The digest round after the last change (see `#gossipSoon`). */
  #settleTimer: TimerHandle | null = null;
  #left = false;
  /** Nodes reported by `neighborUp` (connected members this node counts as neighbours). */
  readonly #neighbors = new Set<string>();

  constructor(options: FullMeshOptions, components: PeerServiceComponents) {
    super(options, components);
    this.#gossipIntervalMs = options.gossipIntervalMs ?? 10_000;
    this.#debounceMs = options.gossipDebounceMs ?? 100;
    this.#fanout = options.gossipFanout ?? 4;
    this.#redialer = new Redialer({
      maxInFlight: options.maxConcurrentDials ?? 16,
      firstMs: options.redialMs ?? 500,
      maxMs: options.maxRedialMs ?? 30_000,
      dial: (spec) => this.connectTo(spec),
      wanted: (name) => !this.#left && this.running && this.#byName.has(name) && this.shouldDial(this.#byName.get(name) as MemberSpec),
      after: (ms, fn) => this.after(ms, fn),
      cancel: (timer) => {
        this.cancel(timer);
      },
      random: this.random,
    });
  }

  get #replica(): string {
    return keyOf(this.self.name, this.self.incarnation);
  }

  /** This node as the membership stores it. */
  protected selfMember(): MemberSpec {
    return { name: this.self.name, incarnation: this.self.incarnation, addresses: [...this.self.addresses] };
  }

  /** Whether this node dials `member` (FullMesh: every member). */
  protected shouldDial(_member: MemberSpec): boolean {
    return true;
  }

  /** The member `name`, if known. */
  protected member(name: string): MemberSpec | undefined {
    return this.#byName.get(name);
  }

  /** Every member's addresses travel in the membership, so a member never connected to is known too. */
  override spec(node: string): PeerSpec | undefined {
    const member = this.#byName.get(node);
    return member === undefined ? super.spec(node) : { name: member.name, addresses: member.addresses };
  }

  protected override onStart(): void {
    this.#addSelf();
    this.every(this.#gossipIntervalMs, () => {
      this.#sendDigests(true);
      this.#reconcile();
    });
  }

  protected override onStop(): void {
    this.#redialer.clear();
  }

  #addSelf(): void {
    this.#left = false;
    this.#set.add(this.#replica, this.#replica, this.selfMember());
    this.#setChanged();
    this.membershipChanged();
  }

  #setChanged(): void {
    const byName = new Map<string, MemberSpec>();
    for (const [, spec] of this.#set.entries()) {
      const known = byName.get(spec.name);
      if (known === undefined || known.incarnation < spec.incarnation) byName.set(spec.name, spec);
    }
    this.#byName = byName;
    this.invalidateMembers();
    this.#refreshNeighbors();
  }

  /** Emits `neighborUp`/`neighborDown` for connected members that became or stopped being neighbours. */
  #refreshNeighbors(): void {
    for (const name of [...this.#neighbors]) {
      if (this.transport.connection(name) !== undefined && this.isNeighbor(name)) continue;
      this.#neighbors.delete(name);
      this.events.emit('neighborDown', name);
    }
    for (const connection of this.transport.connections()) {
      const name = connection.peer.name;
      if (this.#neighbors.has(name) || !this.isNeighbor(name)) continue;
      this.#neighbors.add(name);
      this.adoptConnection(name);
      this.events.emit('neighborUp', name);
    }
  }

  // ==== Membership ====

  protected override hasMember(node: string): boolean {
    return this.#left ? node === this.self.name : this.#byName.has(node);
  }

  protected currentMembers(): Iterable<string> {
    // After leaving, the set keeps the others (so a rejoin does not remove them everywhere by
    // observed-remove) but this node counts only itself.
    return this.#left ? [this.self.name] : this.#byName.keys();
  }

  neighbors(): string[] {
    return [...this.#neighbors].sort();
  }

  protected isNeighbor(node: string): boolean {
    return !this.#left && node !== this.self.name && this.#byName.has(node);
  }

  protected override readonly reachabilityFollowsConnections = true;

  protected override reachable(node: string): boolean {
    return this.transport.connection(node) !== undefined;
  }

  /**
   * A seed joins every other seed, not only the first that answers: seeds that each joined one other
   * could pair off into islands (n0 with n16, n32 with n48, ...) that never hear of each other. With
   * the seeds in one mesh, every join through any seed lands in it.
   */
  protected override async joinSeeds(attempt = 0): Promise<void> {
    await super.joinSeeds(attempt);
    if (!this.running || !this.seeds.some((s) => this.isSelf(s))) return;
    for (const seed of this.seeds) {
      if (this.isSelf(seed) || (seed.name !== '' && this.transport.connection(seed.name) !== undefined)) continue;
      // Best effort: a seed not up yet joins us when it starts.
      this.join(seed).catch((err: unknown) => {
        this.logger.debug(`seed ${seed.name || String(seed.addresses[0])} did not answer`, { reason: err });
      });
    }
  }

  async join(contact: PeerSpec | string): Promise<void> {
    if (this.#left) this.#addSelf();
    const connection = await this.connectTo(toSpec(contact));
    this.sendOverlay(connection, { t: 'join', state: this.#set.toState() } satisfies Message);
  }

  async leave(): Promise<void> {
    this.#left = true;
    this.#set.remove(this.#replica);
    const state = this.#set.toState();
    this.sendOverlayToAll(this.transport.connections(), { t: 'state', state } satisfies Message);
    this.#redialer.clear();
    // Let the goodbye reach the sockets before they close.
    await new Promise((resolve) => setImmediate(resolve));
    for (const connection of this.transport.connections()) connection.close('left the cluster');
    this.#setChanged();
    this.membershipChanged({ kind: 'left', message: 'this node left' });
  }

  // ==== Gossip ====

  protected onOverlayMessage(connection: Connection, value: unknown): void {
    const m = value as Partial<Message> & { state?: unknown; digest?: unknown };
    if (m.t === 'digest' && typeof m.digest === 'string') {
      if (!this.#left && m.digest !== this.#set.digest()) {
        this.sendOverlay(connection, { t: 'sync', state: this.#set.toState(), digest: this.#set.digest() } satisfies Message);
      }
      return;
    }
    if ((m.t !== 'state' && m.t !== 'join' && m.t !== 'sync') || !isOrSetState(m.state, isMemberSpec)) {
      this.logger.warn(`ignoring a malformed membership message from ${connection.peer.name}`);
      return;
    }
    if (this.#left) return;
    const changed = this.#set.merge(m.state);
    if (!this.#set.has(this.#replica)) {
      // Someone removed us (a stale view): add ourselves back; add-wins makes it stick.
      this.#set.add(this.#replica, this.#replica, this.selfMember());
    }
    if (m.t === 'join' || (m.t === 'sync' && m.digest !== this.#set.digest())) this.sendOverlay(connection, { t: 'state', state: this.#set.toState() } satisfies Message);
    if (changed) {
      const before = this.#byName.size;
      this.#pruneStale();
      this.#setChanged();
      // A member can only disappear from a merged set by leaving (a restart keeps its name).
      this.membershipChanged({ kind: 'left', message: 'left the cluster' });
      // A departure travels at once (the leaver's connections are closing); additions are debounced.
      if (this.#byName.size < before) this.#gossipNow(true);
      else this.#gossipSoon();
      this.#reconcile();
    }
  }

  #gossipSoon(): void {
    // The digest round that follows a change: ten debounce periods after the last one.
    this.cancel(this.#settleTimer);
    this.#settleTimer = this.after(10 * this.#debounceMs, () => {
      this.#settleTimer = null;
      this.#sendDigests(false);
    });
    if (this.#gossipPending) return;
    this.#gossipPending = true;
    this.after(this.#debounceMs, () => {
      this.#gossipPending = false;
      this.#gossipNow();
    });
  }

  /** Sends the state to the neighbours: all of them (periodic, departures), or a change to `changeFanout()` of those `gossipsTo` picks. */
  #gossipNow(all = false): void {
    if (this.#left) return;
    const state = this.#set.toState();
    let to = this.transport.connections().filter((c) => this.isNeighbor(c.peer.name) && (all || this.gossipsTo(c.peer.name)));
    const fanout = this.changeFanout();
    if (!all && to.length > fanout) to = this.random.shuffle(to).slice(0, fanout);
    // The whole OR-set, encoded once for every neighbour it goes to.
    this.sendOverlayToAll(to, { t: 'state', state } satisfies Message);
  }

  /**
   * Anti-entropy: a digest of the set (a few dozen bytes, where the set is O(members)) to every
   * neighbour, or (`periodic`) to those with a larger name, so each link carries one per period.
   */
  #sendDigests(periodic: boolean): void {
    if (this.#left) return;
    const to = this.transport.connections().filter((c) => this.isNeighbor(c.peer.name) && (!periodic || this.self.name < c.peer.name));
    this.sendOverlayToAll(to, { t: 'digest', digest: this.#set.digest() } satisfies Message);
  }

  /** How many of the neighbours `gossipsTo` picks get a change at once (picked at random). */
  protected changeFanout(): number {
    return this.#fanout;
  }

  /** Whether a change is gossiped to this neighbour at once (all of them here; ClientServer narrows it). */
  protected gossipsTo(_node: string): boolean {
    return true;
  }

  /** A member seen with two incarnations: the older one is a dead predecessor. Returns whether one was removed. */
  #pruneStale(only?: string): boolean {
    const newest = new Map<string, number>();
    for (const [, spec] of this.#set.entries()) if (only === undefined || spec.name === only) newest.set(spec.name, Math.max(newest.get(spec.name) ?? -Infinity, spec.incarnation));
    let removed = false;
    for (const [key, spec] of this.#set.entries()) {
      if (only !== undefined && spec.name !== only) continue;
      const connection = this.transport.connection(spec.name);
      const current = connection?.peer.incarnation ?? newest.get(spec.name);
      if (spec.incarnation !== current && key !== this.#replica) {
        this.#set.remove(key);
        removed = true;
      }
    }
    return removed;
  }

  // ==== Connections ====

  /** Dials every member this node should connect to and has no connection to. */
  #reconcile(): void {
    if (this.#left) return;
    for (const spec of this.#byName.values()) {
      if (spec.name === this.self.name || !this.shouldDial(spec) || this.transport.connection(spec.name) !== undefined) continue;
      this.#redialer.dial(spec);
    }
  }

  protected onConnectionUp(connection: Connection): void {
    const { name, incarnation } = connection.peer;
    if (this.#left) return;
    this.#redialer.connected(name);
    if (!this.#set.has(keyOf(name, incarnation))) {
      // Connected to a node we did not know as a member: it will introduce itself by gossip.
      this.sendOverlay(connection, { t: 'state', state: this.#set.toState() } satisfies Message);
      return;
    }
    // Only this member's entries can have changed: a server connecting a thousand clients must not
    // rebuild its member table a thousand times.
    if (this.#pruneStale(name)) this.#setChanged();
    else this.#neighborConnected(name);
  }

  /** One connection came up: a neighbour now if the overlay wants it. */
  #neighborConnected(name: string): void {
    if (this.#neighbors.has(name) || this.transport.connection(name) === undefined || !this.isNeighbor(name)) return;
    this.#neighbors.add(name);
    this.adoptConnection(name);
    this.events.emit('neighborUp', name);
  }

  protected onConnectionDown(connection: Connection, _reason: ConnectionDownReason): void {
    const name = connection.peer.name;
    this.#refreshNeighbors();
    if (!this.isNeighbor(name)) return;
    const spec = this.#byName.get(name);
    if (!this.#left && spec !== undefined && this.shouldDial(spec)) this.#redialer.dial(spec);
  }

  /** Dials running and members waiting to be (re)dialled (for debugging a mesh that does not close). */
  dialStatus(): { inFlight: number; pending: string[] } {
    return { inFlight: this.#redialer.inFlight, pending: this.#redialer.pending() };
  }

  /** The membership set's state (for tests and debugging). */
  state(): OrSetState<MemberSpec> {
    return this.#set.toState();
  }
}
