// The member directory of a HyParView cluster. HyParView alone knows only its active and passive
// views; a user asking `members()` wants the cluster. So every node keeps an entry per known node
// (its addresses, incarnation, a sequence number and a status) and gossips the entries that
// changed to its active neighbours, a batch per neighbour per tick. A node that had no neighbour
// (it just joined, or was cut off) swaps everything with its first one; and now and then each node
// compares a digest of its directory with a random neighbour's (changes can slip past a node whose
// neighbours changed meanwhile): the digest comes with one per bucket of names (64), and only the
// entries of the buckets that differ travel, both ways; a settled large cluster whose directories
// differ in a few entries exchanges those few, not two whole directories. A node refreshes its own entry now and then; one not refreshed for a few periods
// is forgotten. A node that sees a neighbour's connection fail marks it down (the mark spreads like any
// change); if that was wrong, the node itself refutes it with a newer sequence number.
//
// Why not a Plumtree broadcast per announcement: a cluster of 1,024 starting at once makes a
// million deliveries, each a message of its own (measured: the whole of two cores for minutes).
// Batched deltas carry the same news as array entries, a few microseconds each.

import type { Clock, Random, TimerHandle } from '@fdn/core';
import type { PeerSpec } from '../types.ts';

export interface DirectoryOptions {
  /** How often a node refreshes its entry, at least (default 10,000 ms). */
  announceMs?: number;
  /**
   * And at least this much per member known (default 100 ms): a cluster of 1,000 refreshes every
   * 100 s, so keeping the directory fresh costs about ten changes a second whatever its size.
   */
  announcePerMemberMs?: number;
  /** A node is forgotten when not refreshed for this many of its periods (default 3.5). */
  expirePeriods?: number;
  /** Changes are batched to each neighbour over this long (default 100 ms). */
  gossipMs?: number;
  /** How often a node compares digests with a random neighbour (default 10,000 ms). */
  syncMs?: number;
}

const enum Status {
  Alive = 0,
  Down = 1,
  Left = 2,
}

interface Entry {
  spec: PeerSpec;
  inc: number;
  seq: number;
  status: Status;
  /** The node's refresh period as it said, so receivers know when to give up on it. */
  every: number;
  /** When this entry last changed here. */
  heardAt: number;
  /** The neighbour it came from (not sent back there). */
  from: string | null;
  /** Its share of the directory's digest. */
  hash: number;
  /** Its bucket of names (for comparing directories bucket by bucket). */
  bucket: number;
}

/** Buckets of names a digest comparison is split into. */
const BUCKETS = 64;

/**
 * On the wire: [name, addresses, incarnation, sequence, status, every, age]. The age (ms since the
 * sender heard of it) travels so an entry expires everywhere at about the same time: otherwise two
 * nodes could hand a dead node's entry back and forth forever, each resetting its clock.
 */
type WireEntry = [string, string[], number, number, Status, number, number];

/**
 * What directories say to each other: entries, a request for all entries, a digest (with the
 * digests of its buckets), a request for the entries of some buckets.
 */
export interface DirectoryMessage {
  e?: WireEntry[];
  want?: boolean;
  digest?: number;
  buckets?: number[];
  pull?: number[];
}

/** What the directory needs from its overlay. */
export interface DirectoryHost {
  readonly self: { name: string; incarnation: number; addresses: readonly string[] };
  /** The member set changed; `kind` says why nodes went away, if any did. */
  directoryChanged(kind: 'left' | 'unreachable' | 'expired', names: readonly string[]): void;
  /** These live members started again (a newer incarnation replaced the one known). */
  directoryRestarted(names: readonly string[]): void;
  /** The active view: where changes are gossiped. */
  directoryNeighbors(): Iterable<string>;
  /** Sends to a neighbour (the overlay's own message). */
  sendDirectory(neighbor: string, message: DirectoryMessage): void;
}

export type { WireEntry as DirectoryWireEntry };

export class MembershipDirectory {
  /** Every known node, this one included; down and left nodes stay as tombstones until they expire. */
  readonly #entries = new Map<string, Entry>();
  #alive = 0;
  /** XOR of the entries' hashes (the spread ones): equal digests, equal directories. */
  #digest = 0;
  /** The digest split by bucket of names. */
  readonly #buckets = new Uint32Array(BUCKETS);
  readonly #announceMs: number;
  readonly #perMemberMs: number;
  readonly #expirePeriods: number;
  readonly #gossipMs: number;
  readonly #syncMs: number;
  /** Entries changed since the last tick: what the neighbours are sent on it. */
  readonly #changed = new Set<Entry>();
  /** No neighbour since the start or since the last one went: the next one is asked for everything. */
  #alone = true;
  #gossipTimer: TimerHandle | null = null;
  #refreshTimer: TimerHandle | null = null;
  #syncTimer: TimerHandle | null = null;
  #lastRefresh = 0;
  /** A comparison since the last sync found our directories different. */
  #differed = false;
  /** This node's latest sequence number, kept across leave and rejoin so the new entry beats the tombstone. */
  #ownSeq = 0;
  /** When an entry that spreads last changed here: while changes keep coming, deltas are flowing. */
  #changedAt = Number.NEGATIVE_INFINITY;
  /** Periodic comparisons skipped in a row because changes were flowing (after three, one happens regardless). */
  #skippedSyncs = 0;
  #running = false;

  constructor(
    readonly host: DirectoryHost,
    readonly clock: Clock,
    readonly random: Random,
    options: DirectoryOptions = {},
  ) {
    this.#announceMs = options.announceMs ?? 10_000;
    this.#perMemberMs = options.announcePerMemberMs ?? 100;
    this.#expirePeriods = options.expirePeriods ?? 3.5;
    this.#gossipMs = options.gossipMs ?? 100;
    this.#syncMs = options.syncMs ?? 10_000;
  }

  /** Enters this node with a new sequence number and refreshes it every period. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#alone = true;
    for (const _ of this.host.directoryNeighbors()) this.#alone = false;
    this.#refreshSelf();
    this.#scheduleRefresh();
    this.#scheduleSync();
  }

  stop(): void {
    this.#running = false;
    for (const timer of [this.#gossipTimer, this.#refreshTimer, this.#syncTimer]) if (timer !== null) this.clock.clearTimer(timer);
    this.#gossipTimer = null;
    this.#refreshTimer = null;
    this.#syncTimer = null;
  }

  /** Tells the neighbours this node leaves (before its connections close), then forgets everyone. */
  announceLeave(): void {
    const self = this.#entries.get(this.host.self.name);
    if (self !== undefined && this.#running) {
      const left = this.#update(self, { seq: ++this.#ownSeq, status: Status.Left });
      const e = [toWire(left, this.clock.now())];
      for (const n of this.host.directoryNeighbors()) this.host.sendDirectory(n, { e });
    }
    this.#entries.clear();
    this.#alive = 0;
    this.#digest = 0;
    this.#buckets.fill(0);
    this.#changed.clear();
  }

  /** A neighbour's connection failed: marked down here and, through gossip, everywhere. */
  reportDown(name: string): void {
    const entry = this.#entries.get(name);
    if (entry?.status !== Status.Alive || !this.#running || name === this.host.self.name) return;
    this.#update(entry, { status: Status.Down });
    this.host.directoryChanged('unreachable', [name]);
  }

  /**
   * The overlay saw `spec` alive (it is or just was a neighbour): a member until it expires, even
   * before its own entry arrives (HyParView moves nodes between its views all the time). Kept
   * local (sequence 0): the node's own entry is what spreads.
   */
  sawAlive(spec: PeerSpec, incarnation: number): void {
    if (!this.#running || spec.name === this.host.self.name) return;
    const entry = this.#entries.get(spec.name);
    const now = this.clock.now();
    if (entry !== undefined && entry.inc >= incarnation) {
      if (entry.inc === incarnation && entry.status === Status.Alive) entry.heardAt = now;
      return;
    }
    this.#put({ spec, inc: incarnation, seq: 0, status: Status.Alive, every: this.#announceMs, heardAt: now, from: null, hash: 0, bucket: 0 });
    if (entry?.status !== Status.Alive) this.host.directoryChanged('expired', [spec.name]);
    else this.host.directoryRestarted([spec.name]);
  }

  /** A neighbour joined the active view: the first after none swaps everything with it; later ones compare digests. */
  neighborUp(name: string): void {
    if (!this.#running) return;
    if (this.#alone) {
      this.host.sendDirectory(name, { e: this.#all(), want: true });
      this.#alone = false;
      return;
    }
    // A new neighbour may have missed changes that went round while it had others: compare
    // digests once the changes in flight have landed (a full swap follows only if they differ).
    this.clock.setTimer(this.#gossipMs * 3, () => {
      // Still a neighbour: a digest to a node no longer in the active view would open an on-demand connection for it.
      if (this.#running && isNeighbor(this.host, name)) this.host.sendDirectory(name, this.#digestMessage());
    });
  }

  neighborDown(): void {
    for (const _ of this.host.directoryNeighbors()) return;
    this.#alone = true;
  }

  /** A message from `from`: newer entries (incarnation, then sequence, then status) replace ours. */
  receive(from: string, message: unknown): void {
    if (!this.#running || typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (Array.isArray(m.e)) this.#merge(from, m.e as unknown[]);
    if (m.want === true) {
      this.#differed = true;
      this.host.sendDirectory(from, { e: this.#all() });
    } else if (Array.isArray(m.pull)) {
      this.#differed = true;
      this.host.sendDirectory(from, { e: this.#inBuckets(bucketSet(m.pull)) });
    } else if (typeof m.digest === 'number' && m.digest !== this.#digest) {
      const theirs = m.buckets;
      if (Array.isArray(theirs) && theirs.length === BUCKETS) {
        // Only the buckets that differ: ours go to them, theirs are asked for.
        const differ: number[] = [];
        for (let b = 0; b < BUCKETS; b++) if (theirs[b] !== this.#buckets[b]) differ.push(b);
        this.#differed = true;
        this.host.sendDirectory(from, { e: this.#inBuckets(bucketSet(differ)), pull: differ });
      } else this.host.sendDirectory(from, { e: this.#all(), want: true });
    }
  }

  #merge(from: string, entries: unknown[]): void {
    const self = this.host.self;
    const added: string[] = [];
    const restarted: string[] = [];
    const removed: Record<'left' | 'unreachable', string[]> = { left: [], unreachable: [] };
    for (const w of entries) {
      if (!isWireEntry(w)) continue;
      const [name, addresses, inc, seq, status, every, age] = w;
      const entry = this.#entries.get(name);
      if (name === self.name) {
        // Someone says we are down (or gone), or has a newer word of us than we do (we left and
        // came back): say otherwise, with a newer sequence number.
        if (entry !== undefined && inc === self.incarnation && (seq > entry.seq || (seq === entry.seq && status !== Status.Alive))) {
          this.#ownSeq = Math.max(this.#ownSeq, seq);
          this.#update(entry, { seq: ++this.#ownSeq, status: Status.Alive });
        }
        continue;
      }
      if (entry !== undefined && compare(entry, inc, seq, status) >= 0) continue;
      if (age > this.#expiresAfter(every)) continue;
      const wasAlive = entry?.status === Status.Alive;
      this.#put({ spec: { name, addresses }, inc, seq, status, every, heardAt: this.clock.now() - age, from, hash: 0, bucket: 0 });
      const isAlive = status === Status.Alive;
      if (isAlive && !wasAlive) added.push(name);
      else if (!isAlive && wasAlive) removed[status === Status.Left ? 'left' : 'unreachable'].push(name);
      else if (isAlive && entry !== undefined && inc > entry.inc) restarted.push(name);
    }
    if (restarted.length > 0) this.host.directoryRestarted(restarted);
    if (added.length > 0) this.host.directoryChanged('expired', added);
    if (removed.unreachable.length > 0) this.host.directoryChanged('unreachable', removed.unreachable);
    if (removed.left.length > 0) this.host.directoryChanged('left', removed.left);
  }

  /** Known live nodes (this one included). */
  *names(): IterableIterator<string> {
    for (const [name, entry] of this.#entries) if (entry.status === Status.Alive) yield name;
  }

  /** How many live nodes are known (this one included). */
  get size(): number {
    return this.#alive;
  }

  spec(name: string): PeerSpec | undefined {
    const entry = this.#entries.get(name);
    return entry?.status === Status.Alive ? entry.spec : undefined;
  }

  has(name: string): boolean {
    return this.#entries.get(name)?.status === Status.Alive;
  }

  /** This node's refresh period now. */
  #period(): number {
    return Math.max(this.#announceMs, this.#perMemberMs * this.#alive);
  }

  #refreshSelf(): void {
    const self = this.host.self;
    const entry = this.#entries.get(self.name);
    this.#lastRefresh = this.clock.now();
    if (entry?.inc === self.incarnation) {
      this.#update(entry, { seq: ++this.#ownSeq, status: Status.Alive, every: this.#period() });
      return;
    }
    this.#put({ spec: { name: self.name, addresses: [...self.addresses] }, inc: self.incarnation, seq: ++this.#ownSeq, status: Status.Alive, every: this.#period(), heardAt: this.clock.now(), from: null, hash: 0, bucket: 0 });
  }

  #scheduleRefresh(delay = this.#period() * (0.9 + 0.2 * this.random.next())): void {
    this.#refreshTimer = this.clock.setTimer(delay, () => {
      this.#refreshTimer = null;
      if (!this.#running) return;
      this.#expire();
      // The period grows as the directory fills (a starting cluster): not due yet, wait more.
      const due = this.#lastRefresh + 0.9 * this.#period();
      if (this.clock.now() < due) {
        this.#scheduleRefresh(due - this.clock.now() + this.random.next() * 0.2 * this.#period());
        return;
      }
      this.#refreshSelf();
      this.#scheduleRefresh();
    });
  }

  /** Now and then, a random neighbour gets our digest (and answers with everything if it differs). */
  #scheduleSync(): void {
    // While comparisons keep finding differences (a reshaping cluster), compare ten times as often
    // once changes stop flowing; otherwise every `syncMs`. While changes flow, comparisons are
    // skipped (deltas carry the news; a swap now would only be overtaken), but never more than
    // three in a row: a large cluster, where refreshes alone keep changes coming, still compares.
    const period = this.#differed && this.#quiet() ? this.#syncMs / 10 : this.#syncMs;
    this.#differed = false;
    this.#syncTimer = this.clock.setTimer(period * (0.5 + this.random.next()), () => {
      this.#syncTimer = null;
      if (!this.#running) return;
      if (this.#quiet() || this.#skippedSyncs >= 3) {
        this.#skippedSyncs = 0;
        const neighbor = this.random.pick([...this.host.directoryNeighbors()]);
        if (neighbor !== undefined) this.host.sendDirectory(neighbor, this.#digestMessage());
      } else {
        this.#skippedSyncs++;
      }
      this.#scheduleSync();
    });
  }

  /**
   * Forgets the nodes not refreshed for `expirePeriods` of their period (tombstones too). Periods
   * grow with the cluster (an announcer's next period may exceed the one it sent): ours counts too.
   */
  #expire(): void {
    const now = this.clock.now();
    const gone: string[] = [];
    for (const [name, entry] of this.#entries) {
      if (name === this.host.self.name || entry.heardAt + this.#expiresAfter(entry.every) >= now) continue;
      this.#remove(entry);
      if (entry.status === Status.Alive) gone.push(name);
    }
    if (gone.length > 0) this.host.directoryChanged('expired', gone);
  }

  /** How long an entry of a node refreshing every `every` ms lives unrefreshed. */
  #expiresAfter(every: number): number {
    return this.#expirePeriods * Math.max(every, this.#period());
  }

  /** Puts an entry in place of any with its name (received, or new here): gossiped on the next tick. */
  #put(entry: Entry): void {
    const old = this.#entries.get(entry.spec.name);
    if (old !== undefined) this.#remove(old);
    entry.hash = entryHash(entry);
    entry.bucket = old?.bucket ?? bucketOf(entry.spec.name);
    this.#entries.set(entry.spec.name, entry);
    this.#digest ^= entry.hash;
    this.#buckets[entry.bucket] = ((this.#buckets[entry.bucket] as number) ^ entry.hash) >>> 0;
    if (entry.status === Status.Alive) this.#alive++;
    if (entry.seq > 0) {
      this.#changed.add(entry);
      // Only a change of membership (a node new here, gone, back, restarted) makes the directory
      // busy; a refresh does not: in a settled large cluster refreshes never stop, and counting them
      // kept it from ever comparing (a simulated 1,000-node switch took 17 s instead of 1.3 s to converge).
      if (old?.status !== entry.status || old.inc !== entry.inc) this.#changedAt = this.clock.now();
      this.#soon();
    }
  }

  /**
   * No change of membership for ten gossip ticks. Comparing digests (and swapping whole directories
   * when they differ) pays only then: while deltas flow, directories differ anyway, and a swap per
   * new neighbour and per (ten times faster) sync made a 1,024-node start spend most of its CPU
   * packing and merging whole directories (measured: the directory's merge and msgpack's pack ~25 %
   * of eight processes; no convergence within 180 s).
   */
  #quiet(): boolean {
    return this.clock.now() - this.#changedAt >= this.#gossipMs * 10;
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.spec.name);
    this.#changed.delete(entry);
    this.#digest ^= entry.hash;
    this.#buckets[entry.bucket] = ((this.#buckets[entry.bucket] as number) ^ entry.hash) >>> 0;
    if (entry.status === Status.Alive) this.#alive--;
  }

  /** A change made here: gossiped on the next tick, heard now. */
  #update(entry: Entry, change: Partial<Pick<Entry, 'seq' | 'status' | 'every'>>): Entry {
    const next = { ...entry, ...change, heardAt: this.clock.now(), from: null };
    this.#put(next);
    return next;
  }

  #soon(): void {
    if (this.#gossipTimer !== null || !this.#running) return;
    this.#gossipTimer = this.clock.setTimer(this.#gossipMs, () => {
      this.#gossipTimer = null;
      this.#gossip();
    });
  }

  /** Sends each neighbour what changed since the last tick, not back where it came from. */
  #gossip(): void {
    if (!this.#running) return;
    const changed = [...this.#changed];
    this.#changed.clear();
    const now = this.clock.now();
    const wire = changed.map((entry) => toWire(entry, now));
    for (const n of this.host.directoryNeighbors()) {
      const e: WireEntry[] = [];
      for (let i = 0; i < changed.length; i++) if ((changed[i] as Entry).from !== n) e.push(wire[i] as WireEntry);
      if (e.length > 0) this.host.sendDirectory(n, { e });
    }
  }

  /** Our digest, and one per bucket, for a neighbour to compare. */
  #digestMessage(): DirectoryMessage {
    return { digest: this.#digest, buckets: [...this.#buckets] };
  }

  /** The entries worth spreading whose names fall in `buckets`. */
  #inBuckets(buckets: ReadonlySet<number>): WireEntry[] {
    const out: WireEntry[] = [];
    if (buckets.size === 0) return out;
    const now = this.clock.now();
    for (const entry of this.#entries.values()) if (entry.seq > 0 && buckets.has(entry.bucket)) out.push(toWire(entry, now));
    return out;
  }

  /** Every entry worth spreading (sequence 0 is hearsay from the overlay, not the node's own word). */
  #all(): WireEntry[] {
    const out: WireEntry[] = [];
    const now = this.clock.now();
    for (const entry of this.#entries.values()) if (entry.seq > 0) out.push(toWire(entry, now));
    return out;
  }
}

/** Orders an entry against (inc, seq, status): a later incarnation, then sequence, then the graver status wins. */
function compare(entry: Entry, inc: number, seq: number, status: Status): number {
  return entry.inc - inc || entry.seq - seq || entry.status - status;
}

function isNeighbor(host: DirectoryHost, name: string): boolean {
  for (const n of host.directoryNeighbors()) if (n === name) return true;
  return false;
}

/** A name's bucket (FNV-1a of the name): the same on every node. */
function bucketOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

/** The valid bucket numbers of an untrusted list. */
function bucketSet(list: unknown[]): Set<number> {
  const out = new Set<number>();
  for (const b of list.slice(0, BUCKETS)) if (typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < BUCKETS) out.add(b);
  return out;
}

/** FNV-1a over what identifies an entry's version; hearsay (sequence 0) is not spread, so counts 0. */
function entryHash(entry: Entry): number {
  if (entry.seq === 0) return 0;
  const text = `${entry.spec.name}\u0000${String(entry.inc)}\u0000${String(entry.seq)}\u0000${String(entry.status)}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function toWire(entry: Entry, now: number): WireEntry {
  return [entry.spec.name, entry.spec.addresses as string[], entry.inc, entry.seq, entry.status, entry.every, Math.max(0, Math.round(now - entry.heardAt))];
}

function isWireEntry(x: unknown): x is WireEntry {
  if (!Array.isArray(x) || x.length !== 7) return false;
  const [name, addresses, inc, seq, status, every, age] = x as unknown[];
  return (
    typeof name === 'string' &&
    name !== '' &&
    Array.isArray(addresses) &&
    addresses.length <= 16 &&
    addresses.every((a) => typeof a === 'string') &&
    Number.isInteger(inc) &&
    Number.isInteger(seq) &&
    (seq as number) > 0 &&
    (status === Status.Alive || status === Status.Down || status === Status.Left) &&
    typeof every === 'number' &&
    every > 0 &&
    every < 86_400_000 &&
    Number.isInteger(age) &&
    (age as number) >= 0
  );
}
