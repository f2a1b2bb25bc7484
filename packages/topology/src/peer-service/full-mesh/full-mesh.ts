// FullMesh: every node links to every member. Membership is an ORSWOT of node specs, gossiped to
// all neighbours periodically and (debounced) whenever it changes. A member whose link fails stays
// a member and is redialled with backoff, as in Partisan; only `leave` (or a restart, which
// replaces the old incarnation) removes it. `up`/`down` report reachability of members.

import type { Link, LinkDownReason } from '../../transport/types.ts';
import { BasePeerService, toSpec } from '../base.ts';
import type { PeerServiceComponents, PeerServiceOptions } from '../base.ts';
import type { PeerSpec } from '../types.ts';
import { isOrSetState, OrSet } from './or-set.ts';
import type { OrSetState } from './or-set.ts';
import { isPeerSpec } from '../validate.ts';

/** A member as the membership set stores it. */
export interface MemberSpec extends PeerSpec {
  incarnation: number;
}

export interface FullMeshOptions extends PeerServiceOptions {
  /** Full-state gossip period (default 10,000 ms). */
  gossipIntervalMs?: number;
  /** Gossip after a change at most this often (default 100 ms). */
  gossipDebounceMs?: number;
  /** First redial delay of an unreachable member (default 500 ms, doubling up to `maxRedialMs`). */
  redialMs?: number;
  /** Default 30,000 ms. */
  maxRedialMs?: number;
}

type Message = { t: 'state'; state: OrSetState<MemberSpec> } | { t: 'join'; state: OrSetState<MemberSpec> };

function isMemberSpec(x: unknown): x is MemberSpec {
  return isPeerSpec(x) && Number.isInteger((x as { incarnation?: unknown }).incarnation);
}

function keyOf(name: string, incarnation: number): string {
  return `${name}@${incarnation}`;
}

/** A full-mesh peer service. */
export function fullMesh(options: FullMeshOptions = {}): (components: PeerServiceComponents) => FullMesh {
  return (components) => new FullMesh(options, components);
}

export class FullMesh extends BasePeerService {
  readonly kind = 'fullMesh';
  readonly #set = new OrSet<MemberSpec>();
  readonly #gossipIntervalMs: number;
  readonly #debounceMs: number;
  readonly #redialMs: number;
  readonly #maxRedialMs: number;
  #gossipPending = false;
  readonly #redial = new Map<string, { delay: number; timer: object | null }>();
  #left = false;

  constructor(options: FullMeshOptions, components: PeerServiceComponents) {
    super(options, components);
    this.#gossipIntervalMs = options.gossipIntervalMs ?? 10_000;
    this.#debounceMs = options.gossipDebounceMs ?? 100;
    this.#redialMs = options.redialMs ?? 500;
    this.#maxRedialMs = options.maxRedialMs ?? 30_000;
  }

  get #replica(): string {
    return keyOf(this.self.name, this.self.incarnation);
  }

  protected override onStart(): void {
    this.#addSelf();
    this.every(this.#gossipIntervalMs, () => {
      this.#gossipNow();
      this.#reconcile();
    });
  }

  #addSelf(): void {
    this.#left = false;
    this.#set.add(this.#replica, this.#replica, { name: this.self.name, incarnation: this.self.incarnation, addresses: [...this.self.addresses] });
    this.membershipChanged();
  }

  // ==== Membership ====

  protected currentMembers(): Iterable<string> {
    return new Set(this.#set.entries().map(([, spec]) => spec.name));
  }

  neighbors(): string[] {
    return this.transport
      .links()
      .map((l) => l.peer.name)
      .filter((n) => this.isNeighbor(n))
      .sort();
  }

  protected isNeighbor(node: string): boolean {
    return this.#set.entries().some(([, spec]) => spec.name === node);
  }

  async join(contact: PeerSpec | string): Promise<void> {
    if (this.#left) this.#addSelf();
    const link = await this.connectTo(toSpec(contact));
    this.sendOverlay(link, { t: 'join', state: this.#set.toState() } satisfies Message);
  }

  async leave(): Promise<void> {
    this.#left = true;
    this.#set.remove(this.#replica);
    const state = this.#set.toState();
    for (const link of this.transport.links()) this.sendOverlay(link, { t: 'state', state } satisfies Message);
    for (const r of this.#redial.values()) this.cancel(r.timer);
    this.#redial.clear();
    // Let the goodbye reach the sockets before they close.
    await new Promise((resolve) => setImmediate(resolve));
    for (const link of this.transport.links()) link.close('left the cluster');
    for (const [key] of this.#set.entries()) if (key !== this.#replica) this.#set.remove(key);
    this.membershipChanged({ kind: 'left', message: 'this node left' });
  }

  // ==== Gossip ====

  protected onOverlayMessage(link: Link, value: unknown): void {
    const m = value as Partial<Message>;
    if ((m.t !== 'state' && m.t !== 'join') || !isOrSetState(m.state, isMemberSpec)) {
      this.logger.warn(`ignoring a malformed membership message from ${link.peer.name}`);
      return;
    }
    if (this.#left) return;
    const changed = this.#set.merge(m.state);
    if (!this.#set.has(this.#replica)) {
      // Someone removed us (a stale view): add ourselves back; add-wins makes it stick.
      this.#addSelf();
    }
    if (m.t === 'join') this.sendOverlay(link, { t: 'state', state: this.#set.toState() } satisfies Message);
    if (changed) {
      this.#pruneStale();
      // A member can only disappear from a merged set by leaving (a restart keeps its name).
      this.membershipChanged({ kind: 'left', message: 'left the cluster' });
      this.#gossipSoon();
      this.#reconcile();
    }
  }

  #gossipSoon(): void {
    if (this.#gossipPending) return;
    this.#gossipPending = true;
    this.after(this.#debounceMs, () => {
      this.#gossipPending = false;
      this.#gossipNow();
    });
  }

  #gossipNow(): void {
    if (this.#left) return;
    const state = this.#set.toState();
    for (const link of this.transport.links()) if (this.isNeighbor(link.peer.name)) this.sendOverlay(link, { t: 'state', state } satisfies Message);
  }

  /** A member seen with two incarnations: the older one is a dead predecessor. */
  #pruneStale(): void {
    const newest = new Map<string, number>();
    for (const [, spec] of this.#set.entries()) newest.set(spec.name, Math.max(newest.get(spec.name) ?? -Infinity, spec.incarnation));
    for (const [key, spec] of this.#set.entries()) {
      const link = this.transport.link(spec.name);
      const current = link?.peer.incarnation ?? newest.get(spec.name);
      if (spec.incarnation !== current && key !== this.#replica) this.#set.remove(key);
    }
  }

  // ==== Links ====

  /** Dials every member without a link (backoff per member). */
  #reconcile(): void {
    if (this.#left) return;
    for (const [, spec] of this.#set.entries()) {
      if (spec.name === this.self.name || this.transport.link(spec.name) !== undefined || this.#redial.has(spec.name)) continue;
      this.#dial(spec, this.#redialMs);
    }
  }

  #dial(spec: MemberSpec, delay: number): void {
    const entry = { delay, timer: null as object | null };
    this.#redial.set(spec.name, entry);
    this.connectTo(spec).then(
      () => {
        this.#redial.delete(spec.name);
      },
      () => {
        if (!this.running || this.#left || !this.#set.has(keyOf(spec.name, spec.incarnation))) {
          this.#redial.delete(spec.name);
          return;
        }
        entry.timer = this.after(delay * (0.5 + this.random.next()), () => {
          this.#redial.delete(spec.name);
          if (this.#set.has(keyOf(spec.name, spec.incarnation))) this.#dial(spec, Math.min(delay * 2, this.#maxRedialMs));
        });
      },
    );
  }

  protected onLinkUp(link: Link): void {
    const { name, incarnation } = link.peer;
    if (this.#left) return;
    this.adoptLink(name);
    if (!this.#set.has(keyOf(name, incarnation))) {
      // Linked to a node we did not know as a member: it will introduce itself by gossip.
      this.sendOverlay(link, { t: 'state', state: this.#set.toState() } satisfies Message);
    } else {
      this.#pruneStale();
      this.events.emit('up', name);
      this.events.emit('neighborUp', name);
    }
    const r = this.#redial.get(name);
    if (r !== undefined) {
      this.cancel(r.timer);
      this.#redial.delete(name);
    }
  }

  protected onLinkDown(link: Link, reason: LinkDownReason): void {
    const name = link.peer.name;
    if (!this.isNeighbor(name)) return;
    this.events.emit('neighborDown', name);
    this.events.emit('down', name, { kind: reason.kind === 'peer_closed' ? 'left' : 'unreachable', message: reason.message });
    if (!this.#left && !this.#redial.has(name)) {
      const spec = this.#set.entries().find(([, s]) => s.name === name)?.[1];
      if (spec !== undefined) this.#dial(spec, this.#redialMs);
    }
  }

  /** The membership set's state (for tests and debugging). */
  state(): OrSetState<MemberSpec> {
    return this.#set.toState();
  }
}
