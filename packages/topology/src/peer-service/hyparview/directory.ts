// The member directory of a HyParView cluster. HyParView alone knows only its active and passive
// views; a user asking `members()` wants the cluster. So every node announces itself over
// Plumtree now and then; everyone keeps the announced nodes and forgets one that is not heard of
// for `expireMs`. A node that sees a neighbour's link fail announces it down at once (it is
// dropped everywhere within a broadcast); if that was wrong, the node's own next announcement,
// sent as soon as it hears of the notice, brings it back (a newer sequence number wins).

import type { Clock, Random, TimerHandle } from '@fdn/core';
import { MessageLog } from '../../broadcast/message-log.ts';
import type { Plumtree } from '../../broadcast/plumtree.ts';
import type { PeerSpec } from '../types.ts';
import { isPeerSpec } from '../validate.ts';

export interface DirectoryOptions {
  /** How often a node announces itself, at least (default 10,000 ms). */
  announceMs?: number;
  /**
   * And at least this much per member known (default 100 ms): a cluster of 1,000 announces every
   * 100 s, so refreshing the directory costs about ten broadcasts a second whatever its size.
   */
  announcePerMemberMs?: number;
  /** A node is forgotten when not heard of for this many of its announcement periods (default 3.5). */
  expirePeriods?: number;
}

type Notice =
  // `every`: the announcer's period, so receivers know when to give up on it.
  | { k: 'alive'; spec: PeerSpec; inc: number; seq: number; every: number }
  | { k: 'down'; name: string; inc: number; seq: number }
  | { k: 'left'; name: string; inc: number };

interface Entry {
  /** The announcement this entry comes from (what anti-entropy compares), if it came from one. */
  notice: string | null;
  spec: PeerSpec;
  inc: number;
  seq: number;
  /** When it was last heard of, and the announcer's period then. */
  heardAt: number;
  every: number;
}

/** What the directory tells its overlay. */
export interface DirectoryHost {
  readonly self: { name: string; incarnation: number; addresses: readonly string[] };
  /** The member set changed; `kind` says why nodes went away, if any did. */
  directoryChanged(kind: 'left' | 'unreachable' | 'expired', names: readonly string[]): void;
}

const FIRST_ANNOUNCEMENT_SPREAD_MS = 1_000;

export class MembershipDirectory {
  static readonly HANDLER = 'fdn.directory';
  readonly #entries = new Map<string, Entry>();
  readonly #log: MessageLog<Notice>;
  readonly #announceMs: number;
  readonly #perMemberMs: number;
  readonly #expirePeriods: number;
  #seq = 0;
  #lastAnnounced = 0;
  /** Id of this node's latest announcement. */
  #ownNotice: string | null = null;
  #timer: TimerHandle | null = null;
  #running = false;

  constructor(
    readonly host: DirectoryHost,
    readonly plumtree: Plumtree,
    readonly clock: Clock,
    readonly random: Random,
    options: DirectoryOptions = {},
  ) {
    this.#announceMs = options.announceMs ?? 10_000;
    this.#perMemberMs = options.announcePerMemberMs ?? 100;
    this.#expirePeriods = options.expirePeriods ?? 3.5;
    this.#log = new MessageLog<Notice>({
      name: MembershipDirectory.HANDLER,
      tree: 'shared',
      floodRepairs: false,
      node: host.self.name,
      keep: 4_096,
      // Anti-entropy compares the announcements behind the entries: a node that missed some
      // (they are all broadcast at once when a cluster starts) gets them from its neighbours.
      digest: () => {
        const ids: string[] = [];
        if (this.#ownNotice !== null) ids.push(this.#ownNotice);
        for (const e of this.#entries.values()) if (e.notice !== null) ids.push(e.notice);
        return ids;
      },
      deliver: (notice, info) => {
        this.#apply(notice, info.id);
      },
    });
    plumtree.register(this.#log);
  }

  /** Announces this node now and every `announceMs`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    // The first announcement waits a random moment (up to a second): when a whole cluster starts
    // at once, a thousand announcements at the same instant would compete with the joins.
    this.#timer = this.clock.setTimer(this.random.next() * FIRST_ANNOUNCEMENT_SPREAD_MS, () => {
      this.#timer = null;
      if (!this.#running) return;
      this.announce();
      this.#schedule();
    });
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  /** Announces this node (now, with a new sequence number). */
  announce(): void {
    if (!this.#running) return;
    const self = this.host.self;
    this.#lastAnnounced = this.clock.now();
    this.#ownNotice = this.plumtree.broadcast(MembershipDirectory.HANDLER, { k: 'alive', spec: { name: self.name, addresses: [...self.addresses] }, inc: self.incarnation, seq: ++this.#seq, every: this.#period() } satisfies Notice);
  }

  /** This node's announcement period now. */
  #period(): number {
    return Math.max(this.#announceMs, this.#perMemberMs * this.#entries.size);
  }

  /** Tells the cluster this node leaves (before its links close). */
  announceLeave(): void {
    const self = this.host.self;
    this.plumtree.broadcast(MembershipDirectory.HANDLER, { k: 'left', name: self.name, inc: self.incarnation } satisfies Notice);
    this.#entries.clear();
  }

  /** A neighbour's link failed: tell the cluster, which drops it until it announces itself again. */
  reportDown(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined || !this.#running) return;
    this.plumtree.broadcast(MembershipDirectory.HANDLER, { k: 'down', name, inc: entry.inc, seq: entry.seq } satisfies Notice);
  }

  /**
   * The overlay saw `spec` alive (it is or just was a neighbour): a member until it expires, even
   * before its own announcement arrives (HyParView moves nodes between its views all the time).
   */
  sawAlive(spec: PeerSpec, incarnation: number): void {
    if (!this.#running || spec.name === this.host.self.name) return;
    const entry = this.#entries.get(spec.name);
    const now = this.clock.now();
    if (entry !== undefined && entry.inc >= incarnation) {
      if (entry.inc === incarnation) entry.heardAt = now;
      return;
    }
    this.#entries.set(spec.name, { notice: null, spec, inc: incarnation, seq: 0, heardAt: now, every: this.#announceMs });
    if (entry === undefined) this.host.directoryChanged('expired', [spec.name]);
  }

  names(): IterableIterator<string> {
    return this.#entries.keys();
  }

  spec(name: string): PeerSpec | undefined {
    return this.#entries.get(name)?.spec;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  #schedule(delay = this.#period() * (0.9 + 0.2 * this.random.next())): void {
    this.#timer = this.clock.setTimer(delay, () => {
      this.#timer = null;
      if (!this.#running) return;
      this.#expire();
      // The period grows as the directory fills (a starting cluster): not due yet, wait more.
      const due = this.#lastAnnounced + 0.9 * this.#period();
      if (this.clock.now() < due) {
        this.#schedule(due - this.clock.now() + this.random.next() * 0.2 * this.#period());
        return;
      }
      this.announce();
      this.#schedule();
    });
  }

  /**
   * Forgets the nodes not heard of for `expirePeriods` of their period. Periods grow with the
   * cluster (an announcer's next period may exceed the one it sent): our own estimate counts too.
   */
  #expire(): void {
    const now = this.clock.now();
    const period = this.#period();
    const gone: string[] = [];
    for (const [name, entry] of this.#entries) {
      if (entry.heardAt + this.#expirePeriods * Math.max(entry.every, period) < now) {
        this.#entries.delete(name);
        gone.push(name);
      }
    }
    if (gone.length > 0) this.host.directoryChanged('expired', gone);
  }

  #apply(notice: Notice, id: string): void {
    if (!this.#running || !isNotice(notice)) return;
    const self = this.host.self;
    const name = notice.k === 'alive' ? notice.spec.name : notice.name;
    if (name === self.name) {
      // Someone thinks we are down (or gone): say otherwise, with a newer sequence number.
      if (notice.k !== 'alive' && notice.inc === self.incarnation) this.announce();
      return;
    }
    const entry = this.#entries.get(name);
    switch (notice.k) {
      case 'alive': {
        if (entry !== undefined && (entry.inc > notice.inc || (entry.inc === notice.inc && entry.seq >= notice.seq))) return;
        this.#entries.set(name, { notice: id, spec: notice.spec, inc: notice.inc, seq: notice.seq, heardAt: this.clock.now(), every: notice.every });
        if (entry === undefined) this.host.directoryChanged('expired', [name]);
        return;
      }
      case 'down':
        if (entry?.inc !== notice.inc || entry.seq > notice.seq) return;
        this.#entries.delete(name);
        this.host.directoryChanged('unreachable', [name]);
        return;
      case 'left':
        if (entry === undefined || entry.inc > notice.inc) return;
        this.#entries.delete(name);
        this.host.directoryChanged('left', [name]);
        return;
    }
  }
}

function isNotice(x: unknown): x is Notice {
  if (typeof x !== 'object' || x === null) return false;
  const n = x as Record<string, unknown>;
  if (!Number.isInteger(n.inc)) return false;
  switch (n.k) {
    case 'alive':
      return isPeerSpec(n.spec) && Number.isInteger(n.seq) && typeof n.every === 'number' && n.every > 0 && n.every < 86_400_000;
    case 'down':
      return typeof n.name === 'string' && Number.isInteger(n.seq);
    case 'left':
      return typeof n.name === 'string';
    default:
      return false;
  }
}
