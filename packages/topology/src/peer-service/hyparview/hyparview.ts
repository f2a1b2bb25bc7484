// HyParView (Leitão, Pereira, Rodrigues, DSN 2007): a small symmetric active view of connected
// neighbours and a larger passive view of known nodes, kept fresh by random walks (JOIN,
// FORWARD_JOIN, SHUFFLE) and repaired from the passive view when a neighbour fails (NEIGHBOR with
// priority). Defaults are the paper's: active 5, passive 30, ARWL 6, PRWL 3, shuffle 3 + 4.
//
// Longer than 600 lines because it is one protocol's state machine over two views that every
// message changes together (the member directory already lives apart, in directory.ts).
//
// Beyond the paper (and Partisan): every operation works (leave included); a node whose active
// view empties with nothing left to promote rejoins through its seeds; nodes that could not be
// reached are remembered and retried now and then, so the two sides of a healed partition find
// each other again and merge. Islands (Partisan issue #75): the seeds keep connections to their
// neighbours on a ring of seeds (never dropped to make room), so every join lands in one
// overlay; a node well short of neighbours insists (high priority); with the member directory, a
// node that sees no seed among its members rejoins through them.


import type { TimerHandle } from '@fdn/core';
import { TopologyError, TopologyErrorCode } from '../../errors.ts';
import type { Connection, ConnectionDownReason } from '../../transport/types.ts';
import { BasePeerService, toSpec } from '../base.ts';
import type { PeerServiceComponents, PeerServiceOptions } from '../base.ts';
import type { PeerSpec } from '../types.ts';
import { isPeerSpec, isPeerSpecList, isSmallInt } from '../validate.ts';
import { MembershipDirectory } from './directory.ts';
import type { DirectoryMessage, DirectoryOptions } from './directory.ts';

export interface HyParViewOptions extends PeerServiceOptions {
  /** Active view size (default 5). */
  activeSize?: number;
  /** Passive view size (default 30). */
  passiveSize?: number;
  /** Active random walk length (default 6). */
  arwl?: number;
  /** Passive random walk length (default 3). */
  prwl?: number;
  /** Active nodes in a shuffle (default 3). */
  shuffleActive?: number;
  /** Passive nodes in a shuffle (default 4). */
  shufflePassive?: number;
  /** Random walk length of a shuffle (default 6). */
  shuffleTtl?: number;
  /** Shuffle period (default 10,000 ms). */
  shuffleIntervalMs?: number;
  /** How often a node below its active size promotes from its passive view (default 5,000 ms). */
  promotionIntervalMs?: number;
  /** How long to wait for a NEIGHBOR answer (default 2,000 ms). */
  neighborTimeoutMs?: number;
  /** How often one unreachable node is retried (default 10,000 ms; 0 turns retries off). */
  retryUnreachableMs?: number;
  /** With the member directory: how often a node checks that a seed is among its members (default 30,000 ms). */
  islandCheckMs?: number;
  /** Nodes remembered beyond the passive view (evicted from it), tried when it is exhausted (default 100). */
  reserveSize?: number;
}

type Message =
  | { t: 'join'; spec: PeerSpec; insist: boolean }
  | { t: 'forwardJoin'; spec: PeerSpec; ttl: number }
  | { t: 'activate' }
  | { t: 'disconnect' }
  | { t: 'leave' }
  | { t: 'neighbor'; high: boolean }
  | { t: 'neighborReply'; accepted: boolean }
  | { t: 'shuffle'; origin: PeerSpec; list: PeerSpec[]; ttl: number }
  | { t: 'shuffleReply'; list: PeerSpec[] }
  | { t: 'dir'; d: DirectoryMessage };

/** A HyParView peer service. */
export function hyparview(options: HyParViewOptions = {}): (components: PeerServiceComponents) => HyParView {
  return (components) => new HyParView(options, components);
}

// Not `implements DirectoryHost`: it is one structurally, and the clause would keep the directory's
// internal hooks in the published declarations.
export class HyParView extends BasePeerService {
  readonly kind = 'hyparview';
  readonly activeSize: number;
  readonly passiveSize: number;
  readonly #arwl: number;
  readonly #prwl: number;
  readonly #ka: number;
  readonly #kp: number;
  readonly #shuffleTtl: number;
  readonly #shuffleMs: number;
  readonly #promotionMs: number;
  readonly #neighborTimeoutMs: number;
  readonly #retryMs: number;
  /** Active view: name → connection. */
  readonly #active = new Map<string, Connection>();
  /** Passive view: name → spec. */
  readonly #passive = new Map<string, PeerSpec>();
  /**
   * Beyond the paper: nodes evicted from the passive view, oldest first. After a massive failure a
   * node may find its whole passive view dead; these are its last resort before the seeds.
   */
  readonly #reserve = new Map<string, PeerSpec>();
  readonly #reserveSize: number;
  /** Nodes we failed to reach: retried now and then. */
  readonly #unreachable = new Map<string, { spec: PeerSpec; attempts: number }>();
  /** NEIGHBOR requests waiting for an answer. */
  readonly #asking = new Map<string, { resolve: (accepted: boolean) => void; timer: TimerHandle }>();
  /** Nodes being added to the active view (a dial in progress). */
  readonly #activating = new Set<string>();
  /** What the last shuffle sent (evicted first when its reply arrives). */
  #lastShuffle = new Set<string>();
  #repairing = false;
  /** Repair rounds in a row that found no neighbour while the active view was short. */
  #starved = 0;
  /** Joins that timed out since this node last had a neighbour: the next one insists. */
  #joinTimeouts = 0;
  #left = false;
  #directory: MembershipDirectory | null = null;
  #joined: (() => void)[] = [];
  readonly #islandCheckMs: number;
  /** If this node is a seed: the seeds before and after it on the ring of seeds (by address). */
  #ring: PeerSpec[] = [];
  /** Ring neighbours by name, once connected: kept in the active view. */
  readonly #reserved = new Set<string>();
  /** Names of the seeds, as learned from their connections. */
  readonly #seedNames = new Set<string>();

  constructor(options: HyParViewOptions, components: PeerServiceComponents) {
    super(options, components);
    this.activeSize = options.activeSize ?? 5;
    this.passiveSize = options.passiveSize ?? 30;
    this.#arwl = options.arwl ?? 6;
    this.#prwl = options.prwl ?? 3;
    this.#ka = options.shuffleActive ?? 3;
    this.#kp = options.shufflePassive ?? 4;
    this.#shuffleTtl = options.shuffleTtl ?? 6;
    this.#shuffleMs = options.shuffleIntervalMs ?? 10_000;
    this.#promotionMs = options.promotionIntervalMs ?? 5_000;
    this.#neighborTimeoutMs = options.neighborTimeoutMs ?? 2_000;
    this.#retryMs = options.retryUnreachableMs ?? 10_000;
    this.#islandCheckMs = options.islandCheckMs ?? 30_000;
    this.#reserveSize = options.reserveSize ?? 100;
    for (const seed of this.seeds) if (seed.name !== '') this.#seedNames.add(seed.name);
  }

  /**
   * Makes `members()` the whole cluster: nodes gossip a directory of entries over the active view
   * (every node of the cluster must use it), and the nodes in it are members until they leave,
   * are reported down by a neighbour, or go unrefreshed for a few of their periods. Without it,
   * `members()` is this node and its active view (as in Partisan).
   */
  useDirectory(options: DirectoryOptions = {}): MembershipDirectory {
    if (this.#directory !== null) return this.#directory;
    const directory = new MembershipDirectory(this, this.clock, this.random.fork(), options);
    this.#directory = directory;
    if (this.running && !this.#left) directory.start();
    return directory;
  }

  /** @internal The directory's member set changed. */
  directoryChanged(kind: 'left' | 'unreachable' | 'expired', names: readonly string[]): void {
    this.logger.debug(`directory: ${names.join(', ')} ${kind}`);
    this.membershipChanged({ kind, message: kind === 'expired' ? 'no longer announced' : kind === 'left' ? 'left the cluster' : 'reported unreachable' }, names);
  }

  /** @internal The directory learned that these members started again. */
  directoryRestarted(names: readonly string[]): void {
    this.memberRestarted(names);
  }

  /** @internal The directory gossips over the active view. */
  directoryNeighbors(): Iterable<string> {
    return this.#active.keys();
  }

  /** @internal */
  sendDirectory(neighbor: string, message: DirectoryMessage): void {
    const connection = this.#active.get(neighbor);
    if (connection !== undefined) this.sendOverlay(connection, { t: 'dir', d: message } satisfies Message);
  }

  protected override onStop(): void {
    this.#directory?.stop();
  }

  protected override onStart(): void {
    this.#directory?.start();
    this.#ring = this.#ringNeighbours();
    this.#keepRing();
    if (this.#directory !== null && this.seeds.length > 0) {
      this.every(this.#islandCheckMs, () => {
        this.#checkIsland();
      });
    }
    this.every(this.#shuffleMs, () => {
      this.shuffle();
    });
    this.every(this.#promotionMs, () => {
      this.#keepRing();
      if (this.#active.size < this.activeSize) void this.#repair();
    });
    if (this.#retryMs > 0) {
      this.every(this.#retryMs, () => {
        this.#retryOneUnreachable();
      });
    }
  }

  // ==== Views ====

  protected override hasMember(node: string): boolean {
    return node === this.self.name || this.#active.has(node) || this.#directory?.has(node) === true;
  }

  override memberCount(): number {
    const directory = this.#directory;
    if (directory === null) return 1 + this.#active.size;
    let count = directory.has(this.self.name) ? directory.size : directory.size + 1;
    for (const n of this.#active.keys()) if (!directory.has(n)) count++;
    return count;
  }

  protected currentMembers(): Iterable<string> {
    const out = new Set<string>([this.self.name, ...this.#active.keys()]);
    if (this.#directory !== null) for (const n of this.#directory.names()) out.add(n);
    return out;
  }

  neighbors(): string[] {
    return [...this.#active.keys()].sort();
  }

  /** The passive view (for tests and debugging). */
  passiveView(): string[] {
    return [...this.#passive.keys()].sort();
  }

  /** The reserve beyond the passive view (for tests and debugging). */
  reserveView(): string[] {
    return [...this.#reserve.keys()].sort();
  }

  /** Internal state in one object (for debugging a node that will not settle). */
  debugInfo(): { active: string[]; passive: number; reserve: number; repairing: boolean; starved: number; asking: string[]; activating: string[]; connections: number; directory: number | null; joinTimeouts: number; lastJoinFailure: string | null } {
    return {
      active: this.neighbors(),
      passive: this.#passive.size,
      reserve: this.#reserve.size,
      repairing: this.#repairing,
      starved: this.#starved,
      asking: [...this.#asking.keys()],
      activating: [...this.#activating],
      connections: this.transport.connections().length,
      directory: this.#directory === null ? null : this.#directory.size,
      joinTimeouts: this.#joinTimeouts,
      lastJoinFailure: this.lastJoinFailure,
    };
  }

  protected isNeighbor(node: string): boolean {
    return this.#active.has(node);
  }

  protected override forwardIndirect(node: string, channel: string, payload: Uint8Array, options?: Parameters<BasePeerService['forward']>[3]) {
    if (!this.specs.has(node)) {
      const spec = this.#passive.get(node) ?? this.#reserve.get(node) ?? this.#directory?.spec(node);
      if (spec !== undefined) this.specs.set(node, spec);
    }
    return super.forwardIndirect(node, channel, payload, options);
  }

  #addActive(connection: Connection): void {
    const name = connection.peer.name;
    if (this.#left || name === this.self.name || !connection.up) return;
    if (this.#active.has(name)) {
      this.#active.set(name, connection);
      return;
    }
    if (this.#active.size >= this.activeSize) this.#dropRandomActive(name);
    this.#active.set(name, connection);
    this.logger.debug(`${name} joined the active view`);
    this.#passive.delete(name);
    this.#reserve.delete(name);
    this.#unreachable.delete(name);
    this.adoptConnection(name);
    this.#directory?.sawAlive({ name, addresses: connection.peer.addresses }, connection.peer.incarnation);
    this.#directory?.neighborUp(name);
    if (this.#ring.some((r) => sharesAddress(r, connection.peer.addresses))) this.#reserved.add(name);
    this.events.emit('neighborUp', name);
    this.membershipChanged(undefined, [name]);
    this.#joinTimeouts = 0;
    const waiters = this.#joined;
    this.#joined = [];
    for (const w of waiters) w();
  }

  /** Makes room: a random active member (not a ring neighbour) is told DISCONNECT and moves to the passive view. */
  #dropRandomActive(except: string): void {
    const candidates = [...this.#active.keys()].filter((n) => n !== except && !this.#reserved.has(n));
    const victim = this.random.pick(candidates);
    if (victim === undefined) return;
    const connection = this.#active.get(victim) as Connection;
    this.#active.delete(victim);
    this.#directory?.neighborDown();
    this.#directory?.sawAlive({ name: victim, addresses: connection.peer.addresses }, connection.peer.incarnation);
    this.sendOverlay(connection, { t: 'disconnect' } satisfies Message);
    this.#toPassive({ name: victim, addresses: connection.peer.addresses });
    this.events.emit('neighborDown', victim);
    this.membershipChanged(undefined, [victim]);
    this.after(0, () => {
      if (!this.#active.has(victim) && !this.handover) connection.close('moved to the passive view');
    });
  }

  #toPassive(spec: PeerSpec, prefer?: Set<string>): void {
    const name = spec.name;
    if (name === this.self.name || this.#active.has(name) || this.#passive.has(name) || name === '') return;
    this.specs.set(name, spec);
    if (this.#passive.size >= this.passiveSize) {
      const preferred = prefer === undefined ? [] : [...this.#passive.keys()].filter((k) => prefer.has(k));
      const evict = preferred.length > 0 ? this.random.pick(preferred) : nth(this.#passive.keys(), this.random.int(this.#passive.size));
      if (evict !== undefined) {
        this.#toReserve(this.#passive.get(evict) as PeerSpec);
        this.#passive.delete(evict);
      }
    }
    this.#reserve.delete(name);
    this.#passive.set(name, spec);
  }

  /** A node mentioned in a walk: kept in the reserve unless already known better. */
  #heardOf(spec: PeerSpec): void {
    if (spec.name === this.self.name || this.#active.has(spec.name) || this.#passive.has(spec.name)) return;
    this.#toReserve(spec);
  }

  #toReserve(spec: PeerSpec): void {
    if (this.#reserveSize <= 0 || this.#reserve.has(spec.name)) return;
    this.#reserve.set(spec.name, spec);
    if (this.#reserve.size > this.#reserveSize) this.#reserve.delete(this.#reserve.keys().next().value as string);
  }

  #removeActive(name: string, becausePeer: 'disconnect' | 'failed' | 'left'): void {
    const connection = this.#active.get(name);
    if (connection === undefined) return;
    this.#active.delete(name);
    this.logger.debug(`${name} left the active view (${becausePeer})`);
    this.#directory?.neighborDown();
    this.events.emit('neighborDown', name);
    if (becausePeer === 'disconnect') {
      this.#toPassive({ name, addresses: connection.peer.addresses });
      this.#directory?.sawAlive({ name, addresses: connection.peer.addresses }, connection.peer.incarnation);
    }
    else if (becausePeer === 'failed') {
      this.#markUnreachable({ name, addresses: connection.peer.addresses });
      this.#directory?.reportDown(name);
    }
    this.membershipChanged({ kind: becausePeer === 'left' ? 'left' : 'unreachable', message: `${name} is no longer a neighbour (${becausePeer})` }, [name]);
    if (this.running && !this.#left) void this.#repair();
  }

  #markUnreachable(spec: PeerSpec): void {
    this.#reserve.delete(spec.name);
    this.#passive.delete(spec.name);
    if (this.#retryMs <= 0 || spec.addresses.length === 0) return;
    this.#unreachable.set(spec.name, { spec, attempts: 0 });
    if (this.#unreachable.size > 64) this.#unreachable.delete(this.#unreachable.keys().next().value as string);
  }

  // ==== Join and leave ====

  async join(contact: PeerSpec | string): Promise<void> {
    if (this.#left) {
      this.#left = false;
      this.#directory?.start();
    }
    const connection = await this.connectTo(toSpec(contact));
    const joined = new Promise<void>((resolve, reject) => {
      if (this.#active.size > 0) {
        resolve();
        return;
      }
      const timer = this.after(this.#neighborTimeoutMs * 2, () => {
        this.#joinTimeouts++;
        reject(new TopologyError(TopologyErrorCode.JOIN_TIMEOUT, `join through ${connection.peer.name}: no neighbour within ${this.#neighborTimeoutMs * 2} ms`));
      });
      this.#joined.push(() => {
        this.cancel(timer);
        resolve();
      });
    });
    this.sendOverlay(connection, { t: 'join', spec: this.selfSpec, insist: this.#joinTimeouts > 0 } satisfies Message);
    await joined;
  }

  async leave(): Promise<void> {
    this.#directory?.announceLeave();
    this.#directory?.stop();
    this.#left = true;
    this.sendOverlayToAll(this.#active.values(), { t: 'leave' } satisfies Message);
    const connections = [...this.#active.values()];
    for (const name of [...this.#active.keys()]) {
      this.#active.delete(name);
      this.events.emit('neighborDown', name);
    }
    this.#passive.clear();
    this.#unreachable.clear();
    await new Promise((resolve) => setImmediate(resolve));
    for (const connection of connections) connection.close('left the cluster');
    this.membershipChanged({ kind: 'left', message: 'this node left' });
  }

  // ==== Protocol ====

  protected onOverlayMessage(connection: Connection, value: unknown): void {
    const m = value as Partial<Message> & Record<string, unknown>;
    if (this.#left && m.t !== 'neighborReply') return;
    switch (m.t) {
      case 'join':
        if (isPeerSpec(m.spec)) this.#onJoin(connection, m.spec, m.insist === true);
        return;
      case 'forwardJoin':
        if (isPeerSpec(m.spec) && isSmallInt(m.ttl, 64)) this.#onForwardJoin(connection, m.spec, m.ttl);
        return;
      case 'activate':
        this.#addActive(connection);
        return;
      case 'dir':
        this.#directory?.receive(connection.peer.name, m.d);
        return;
      case 'disconnect':
        this.#removeActive(connection.peer.name, 'disconnect');
        return;
      case 'leave':
        this.#removeActive(connection.peer.name, 'left');
        this.#passive.delete(connection.peer.name);
        this.#unreachable.delete(connection.peer.name);
        return;
      case 'neighbor':
        this.#onNeighbor(connection, m.high === true);
        return;
      case 'neighborReply': {
        // Acted on here, in message order: a DISCONNECT right behind the reply must find it applied.
        const pending = this.#asking.get(connection.peer.name);
        const accepted = m.accepted === true;
        if (accepted && !this.#left) {
          if (pending !== undefined || this.#active.size < this.activeSize) this.#addActive(connection);
          // A late yes to a request we gave up on, with no room left: take it back.
          else if (!this.#active.has(connection.peer.name)) this.sendOverlay(connection, { t: 'disconnect' } satisfies Message);
        }
        pending?.resolve(accepted);
        return;
      }
      case 'shuffle':
        if (isPeerSpec(m.origin) && isPeerSpecList(m.list, 64) && isSmallInt(m.ttl, 64)) this.#onShuffle(connection, m.origin, m.list, m.ttl);
        return;
      case 'shuffleReply':
        if (isPeerSpecList(m.list, 64)) for (const spec of m.list) this.#toPassive(spec, this.#lastShuffle);
        return;
      default:
        this.logger.warn(`ignoring an unknown overlay message from ${connection.peer.name}`);
    }
  }

  /**
   * A node joins through us. The paper adds it to our active view (dropping a random neighbour
   * when full) and walks FORWARD_JOIN from every other neighbour. When many nodes join through
   * one contact at once, that churns the contact's view and the walks end at the other fresh
   * joiners (their views hold one node, so they accept at once): the joiners cluster and paths
   * grow long (Partisan issue #75). So a full contact keeps its view and only starts the walks,
   * one per neighbour; the joiner's neighbours are where they end.
   */
  #onJoin(connection: Connection, spec: PeerSpec, insist: boolean): void {
    this.specs.set(spec.name, spec);
    const walkers = [...this.#active.entries()].filter(([name]) => name !== spec.name);
    // The paper has the contact always take the joiner, dropping a random neighbour; with many
    // joins through few seeds that clusters the joiners around the seeds. So a contact with a full
    // view leaves the joiner to the walks, unless it insists (its last join timed out: walks are
    // slow, the cluster is busy), when the paper's rule holds: a joiner is never left with nothing.
    if (this.#active.size < this.activeSize || walkers.length === 0 || insist) {
      this.#addActive(connection);
      this.sendOverlay(connection, { t: 'activate' } satisfies Message);
    } else {
      this.#toPassive(spec);
    }
    for (const [, other] of walkers) this.sendOverlay(other, { t: 'forwardJoin', spec, ttl: this.#arwl } satisfies Message);
  }

  #onForwardJoin(from: Connection, spec: PeerSpec, ttl: number): void {
    if (spec.name === this.self.name) return;
    this.#heardOf(spec);
    if (ttl === 0 || this.#active.size <= 1) {
      this.#activate(spec);
      return;
    }
    if (ttl === this.#prwl) this.#toPassive(spec);
    const next = this.random.pick([...this.#active.keys()].filter((n) => n !== from.peer.name && n !== spec.name));
    if (next === undefined) {
      this.#activate(spec);
      return;
    }
    this.sendOverlay(this.#active.get(next) as Connection, { t: 'forwardJoin', spec, ttl: ttl - 1 } satisfies Message);
  }

  /** Adds a node to the active view on our initiative: dial, then tell it. */
  #activate(spec: PeerSpec): void {
    if (this.#active.has(spec.name) || this.#activating.has(spec.name)) return;
    this.#activating.add(spec.name);
    this.connectTo(spec).then(
      (connection) => {
        this.#activating.delete(spec.name);
        if (!this.running || this.#left) return;
        this.#addActive(connection);
        this.sendOverlay(connection, { t: 'activate' } satisfies Message);
      },
      () => {
        this.#activating.delete(spec.name);
        this.#markUnreachable(spec);
      },
    );
  }

  #onNeighbor(connection: Connection, high: boolean): void {
    const accept = high || this.#active.size < this.activeSize || this.#active.has(connection.peer.name);
    if (accept) this.#addActive(connection);
    this.sendOverlay(connection, { t: 'neighborReply', accepted: accept } satisfies Message);
  }

  /** Asks `spec` to become a neighbour; resolves whether it accepted. */
  async #askNeighbor(spec: PeerSpec, high: boolean): Promise<boolean> {
    const existed = this.transport.connection(spec.name) !== undefined;
    const connection = await this.connectTo(spec);
    if (this.#active.has(spec.name)) return true;
    const accepted = await new Promise<boolean>((resolve) => {
      const timer = this.after(this.#neighborTimeoutMs, () => {
        this.#asking.delete(spec.name);
        resolve(false);
      });
      this.#asking.set(spec.name, {
        resolve: (ok) => {
          this.cancel(timer);
          this.#asking.delete(spec.name);
          resolve(ok);
        },
        timer,
      });
      this.sendOverlay(connection, { t: 'neighbor', high } satisfies Message);
    });
    if (!accepted && !existed && !this.#active.has(spec.name) && !this.handover) connection.close('neighbour request declined');
    return accepted && this.#active.has(spec.name);
  }

  /**
   * Refills the active view from the passive view (NEIGHBOR, high priority when empty). A node
   * with nothing left to try rejoins through its seeds.
   */
  async #repair(): Promise<void> {
    if (this.#repairing || !this.#mayRepair()) return;
    this.#repairing = true;
    try {
      const tried = new Set<string>();
      const sizeBefore = this.#active.size;
      // Checked again after every await: the node may have stopped or left meanwhile.
      while (this.#mayRepair() && this.#active.size < this.activeSize) {
        const spec = this.#repairCandidate(tried);
        if (spec === undefined) break;
        tried.add(spec.name);
        try {
          await this.#askNeighbor(spec, this.#active.size === 0 || this.#mustInsist());
        } catch {
          this.#markUnreachable(spec);
        }
      }
      this.#starved = this.#active.size > sizeBefore || this.#active.size >= this.activeSize ? 0 : this.#starved + 1;
      if (this.#mayRepair() && this.#active.size === 0 && this.seeds.length > 0) void this.joinSeeds();
    } finally {
      this.#repairing = false;
    }
  }

  /** A random passive node not tried yet; when none is left, a random member of the directory. */
  #repairCandidate(tried: Set<string>): PeerSpec | undefined {
    const untried = (n: string): boolean => !tried.has(n) && !this.#active.has(n);
    const passive = this.random.pick([...this.#passive.keys()].filter(untried));
    if (passive !== undefined) return this.#passive.get(passive);
    const reserve = this.random.pick([...this.#reserve.keys()].filter(untried));
    if (reserve !== undefined) return this.#reserve.get(reserve);
    const directory = this.#directory;
    if (directory === null || tried.size >= this.passiveSize + this.#reserveSize + 2 * this.activeSize) return undefined;
    const name = this.random.pick([...directory.names()].filter((n) => !tried.has(n) && !this.#active.has(n) && n !== this.self.name));
    return name === undefined ? undefined : directory.spec(name);
  }

  /**
   * Low-priority requests go only to nodes with room, and in a settled overlay few have any: a
   * small island (two or three nodes holding only each other) would stay cut off. So a node well
   * short of neighbours for three repair rounds asks with high priority (the peer makes room).
   * Nodes one short do not: they would push the hole around the overlay forever.
   */
  #mustInsist(): boolean {
    return this.#starved >= 3 && this.#active.size < this.activeSize - 1;
  }

  /** A seed's neighbours on the ring of seeds (sorted by address), empty for other nodes. */
  #ringNeighbours(): PeerSpec[] {
    const mine = this.self.addresses;
    const byAddress = new Map<string, PeerSpec>();
    for (const seed of this.seeds) {
      const address = seed.addresses[0];
      if (address !== undefined) byAddress.set(address, seed);
    }
    const me = mine.find((a) => byAddress.has(a));
    if (me === undefined) return [];
    const ring = [...byAddress.keys()].sort();
    const i = ring.indexOf(me);
    const around = new Set([ring[(i + 1) % ring.length] as string, ring[(i - 1 + ring.length) % ring.length] as string]);
    around.delete(me);
    return [...around].map((a) => byAddress.get(a) as PeerSpec);
  }

  /** A seed (re)connects to its ring neighbours, with high priority. */
  #keepRing(): void {
    if (this.#left) return;
    for (const spec of this.#ring) {
      if ([...this.#active.values()].some((l) => sharesAddress(spec, l.peer.addresses))) continue;
      this.#askNeighbor(spec, true).catch(() => undefined);
    }
  }

  /** With the directory: no seed among the members while seeds are known means an island: rejoin. */
  #checkIsland(): void {
    if (this.#left || this.#ring.length > 0 || this.#seedNames.size === 0) return;
    const members = new Set(this.members());
    if ([...this.#seedNames].some((s) => members.has(s))) return;
    this.logger.info('no seed among the members: this looks like an island; rejoining through the seeds');
    void this.joinSeeds();
  }

  #mayRepair(): boolean {
    return this.running && !this.#left;
  }

  /** One node we could not reach gets another chance (a healed partition merges this way). */
  #retryOneUnreachable(): void {
    const name = this.random.pick([...this.#unreachable.keys()]);
    if (name === undefined || this.#left) return;
    const entry = this.#unreachable.get(name) as { spec: PeerSpec; attempts: number };
    if (++entry.attempts > 10) {
      this.#unreachable.delete(name);
      return;
    }
    this.#askNeighbor(entry.spec, true).then(
      (accepted) => {
        if (accepted) this.#unreachable.delete(name);
      },
      () => undefined,
    );
  }

  // ==== Shuffle ====

  /** One shuffle round: a random walk carrying a sample of our views. */
  shuffle(): void {
    const target = this.random.pick([...this.#active.keys()]);
    if (target === undefined) return;
    const list = [
      this.selfSpec,
      ...this.random.sample([...this.#active.keys()].filter((n) => n !== target), this.#ka).map((n) => ({ name: n, addresses: (this.#active.get(n) as Connection).peer.addresses })),
      ...this.random.sample([...this.#passive.values()], this.#kp),
    ];
    this.#lastShuffle = new Set(list.map((s) => s.name));
    this.sendOverlay(this.#active.get(target) as Connection, { t: 'shuffle', origin: this.selfSpec, list, ttl: this.#shuffleTtl } satisfies Message);
  }

  #onShuffle(from: Connection, origin: PeerSpec, list: PeerSpec[], ttl: number): void {
    if (origin.name === this.self.name) return;
    // Passing through or not, the walk tells of other nodes: worth remembering in the reserve.
    for (const spec of list) this.#heardOf(spec);
    if (ttl > 1 && this.#active.size > 1) {
      const next = this.random.pick([...this.#active.keys()].filter((n) => n !== from.peer.name && n !== origin.name));
      if (next !== undefined) {
        this.sendOverlay(this.#active.get(next) as Connection, { t: 'shuffle', origin, list, ttl: ttl - 1 } satisfies Message);
        return;
      }
    }
    const reply = this.random.sample([...this.#passive.values()], list.length);
    this.specs.set(origin.name, origin);
    const direct = this.#active.get(origin.name) ?? this.transport.connection(origin.name);
    const send = (connection: Connection): void => {
      this.sendOverlay(connection, { t: 'shuffleReply', list: reply } satisfies Message);
    };
    if (direct !== undefined) send(direct);
    else {
      // A temporary connection, as in the paper.
      this.openOnDemand(origin).then(
        (connection) => {
          send(connection);
          this.releaseSoon(connection);
        },
        () => undefined,
      );
    }
    for (const spec of list) this.#toPassive(spec);
  }

  // ==== Connections ====

  protected onConnectionUp(connection: Connection): void {
    this.specs.set(connection.peer.name, { name: connection.peer.name, addresses: connection.peer.addresses });
    if (this.seeds.some((s) => sharesAddress(s, connection.peer.addresses))) this.#seedNames.add(connection.peer.name);
  }

  /** As the views know it, or the directory (which has every member's addresses). */
  override spec(node: string): PeerSpec | undefined {
    return super.spec(node) ?? this.#directory?.spec(node);
  }

  /** A member with no connection here, said to be down: the directory reports it (it refutes if alive). */
  override suspect(node: string): void {
    if (this.#active.has(node) || this.transport.connection(node) !== undefined) return;
    this.#directory?.reportDown(node);
  }

  protected onConnectionDown(connection: Connection, reason: ConnectionDownReason): void {
    const name = connection.peer.name;
    if (this.#active.get(name) === connection) {
      this.#reserved.delete(name);
      // Only a lost connection says the peer may be dead; closed, replaced or refused connections do not.
      this.#removeActive(name, reason.kind === 'lost' || reason.kind === 'idle_timeout' ? 'failed' : 'disconnect');
    }
    this.#asking.get(name)?.resolve(false);
  }
}

function sharesAddress(spec: PeerSpec, addresses: readonly string[]): boolean {
  return spec.addresses.some((a) => addresses.includes(a));
}

/** The `i`-th value of an iterator (no array copy). */
function nth<T>(values: IterableIterator<T>, i: number): T | undefined {
  let k = 0;
  for (const v of values) if (k++ === i) return v;
  return undefined;
}
