// Who runs an ecosystem's coordinator: a majority lease among its candidate nodes. Every candidate
// node runs one lease process (registered as `fdn.lease.<ecosystem>`) that is both an acceptor and
// a candidate. An acceptor grants the lease to one candidate at a time, for `leaseMs` by its own
// clock, and to another only once that has run out. A candidate holding grants from a majority is
// the leader, with an epoch (the fencing token) higher than any before; it renews every `renewMs`.
//
// Safety: each grant says how long it still runs by the acceptor's clock, and the candidate counts
// that from when it *asked* (before the acceptor answered), so its view of every grant ends before
// the acceptor's does. The leader's lease is the end of the shortest grant among the majority it
// holds, less `marginMs`; a leader that cannot renew steps down when that runs out (a timer set
// for that instant), and only after that can the acceptors grant to someone else. So there is never
// more than one leader, as long as clock drift plus the leader's scheduling delay (a blocked event
// loop) stay under `marginMs` — the limit of any lease. A candidate refused by a majority (a split
// vote, or someone else leads) forgets its partial grants, tells the acceptors to release them, and
// retries after a random pause, so split votes resolve without waiting for grants to run out.
//
// `LeaseState` is the protocol, with time passed in (tested on its own); `startLease` runs it in a process.

import type { Pid, ProcessContext } from '@fdn/actors';
import type { Node } from '../node/node.ts';

/** Timings of a failover coordinator's lease. */
export interface LeaseOptions {
  /** How long a grant lasts (default 3,000 ms). */
  leaseMs?: number;
  /** How often the leader renews, and candidates try (default 500 ms). */
  renewMs?: number;
  /** Subtracted from the leader's own view of its lease (default 500 ms). */
  marginMs?: number;
}

/** Told to the lease's owner on this node. */
export type LeaseEvent = { type: 'fdn.lease.leader'; epoch: number } | { type: 'fdn.lease.follower'; epoch: number };

/** A candidate asking every acceptor for the lease (a leader's renewal has `renew`). */
export interface LeaseAsk {
  t: 'ask';
  from: string;
  epoch: number;
  round: number;
  renew: boolean;
}

/** An acceptor's answer: `ok` with how long its grant still runs (`remainingMs`, by its clock), or a refusal. */
export interface LeaseGrant {
  t: 'grant';
  from: string;
  epoch: number;
  round: number;
  ok: boolean;
  seen: number;
  remainingMs: number;
}

/** A candidate that backed off: acceptors holding a grant for it, given in `round` or before, may give it to someone else. */
export interface LeaseRelease {
  t: 'release';
  from: string;
  round: number;
}

/**
 * What a grant changed for the candidate: it became leader, and/or its lease now ends later
 * (`until`), or it should stay out a while (`backOff`).
 */
export interface GrantOutcome {
  becameLeader: boolean;
  until: number | null;
  /** Back off: tell every candidate this release (the grants of our rounds up to it are given back). */
  backOff: LeaseRelease | null;
}

/** One node's side of a majority lease: acceptor and candidate, with time passed in. */
export class LeaseState {
  readonly #self: string;
  readonly #leaseMs: number;
  readonly #marginMs: number;
  readonly #candidates: number;
  readonly #majority: number;
  // Acceptor side.
  #grantedTo: string | null = null;
  #grantedUntil = Number.NEGATIVE_INFINITY;
  /** The round of `#grantedTo`'s latest ask we granted (a release covers it only if it names this round or a later one). */
  #grantedRound = 0;
  /** The highest epoch seen anywhere (a new candidacy asks with one more). */
  #seen = 0;
  // Candidate side.
  #leader = false;
  #epoch = 0;
  #until = Number.NEGATIVE_INFINITY;
  #round = 0;
  /** Recent rounds: when each was asked and for which epoch (under load a majority may gather over rounds). */
  readonly #rounds = new Map<number, { askedAt: number; epoch: number }>();
  /** Per acceptor: the newest epoch it granted us and until when (by our clock, counted from our ask). */
  readonly #grants = new Map<string, { epoch: number; until: number }>();
  /** Refusals in the current round: a majority of them means someone else holds or gathers the lease. */
  #refusals = 0;

  constructor(self: string, candidates: number, options: { leaseMs: number; marginMs: number }) {
    this.#self = self;
    this.#leaseMs = options.leaseMs;
    this.#marginMs = options.marginMs;
    this.#candidates = candidates;
    this.#majority = Math.floor(candidates / 2) + 1;
  }

  get leader(): boolean {
    return this.#leader;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** When this node's view of its lease runs out (meaningful while leader). */
  get until(): number {
    return this.#until;
  }

  /** Starts a round: the ask to send to every candidate (this node included). */
  ask(now: number): LeaseAsk {
    this.#round++;
    for (const [r, info] of this.#rounds) if (info.askedAt < now - this.#leaseMs) this.#rounds.delete(r);
    const epoch = this.#leader ? this.#epoch : this.#seen + 1;
    this.#rounds.set(this.#round, { askedAt: now, epoch });
    this.#refusals = 0;
    return { t: 'ask', from: this.#self, epoch, round: this.#round, renew: this.#leader };
  }

  /** Acceptor: grants if free, expired, or already granted to this candidate, and its epoch is not behind. */
  answer(m: LeaseAsk, now: number): LeaseGrant {
    const expired = this.#grantedTo === null || now > this.#grantedUntil;
    const ok = (expired || this.#grantedTo === m.from) && m.epoch >= this.#seen;
    if (ok) {
      // Only a leader's renewal extends a grant it holds: a candidate short of a majority lets its
      // partial grants run out, so a split vote cannot hold the acceptors forever.
      if (expired || m.renew) this.#grantedUntil = now + this.#leaseMs;
      this.#grantedTo = m.from;
      this.#grantedRound = m.round;
      this.#seen = Math.max(this.#seen, m.epoch);
    }
    return { t: 'grant', from: this.#self, epoch: m.epoch, round: m.round, ok, seen: this.#seen, remainingMs: ok ? this.#grantedUntil - now : 0 };
  }

  /** Candidate: a grant or refusal for one of our rounds. */
  receive(m: LeaseGrant, now: number): GrantOutcome {
    const none: GrantOutcome = { becameLeader: false, until: null, backOff: null };
    this.#seen = Math.max(this.#seen, m.seen);
    const asked = this.#rounds.get(m.round);
    if (asked === undefined) return none;
    if (!m.ok) {
      if (m.round === this.#round && ++this.#refusals > this.#candidates - this.#majority && !this.#leader) {
        // This round cannot reach a majority (someone else holds or gathers one, or the vote is
        // split): stay out for a while, and give back what we gathered (late grants of these rounds
        // no longer count).
        const release: LeaseRelease = { t: 'release', from: this.#self, round: this.#round };
        this.#round++;
        this.#rounds.clear();
        this.#grants.clear();
        return { ...none, backOff: release };
      }
      return none;
    }
    // The grant runs, by the acceptor's clock, `remainingMs` from when it answered, which is after we asked.
    const grantUntil = asked.askedAt + m.remainingMs;
    const known = this.#grants.get(m.from);
    if (known === undefined || asked.epoch > known.epoch || (asked.epoch === known.epoch && grantUntil > known.until)) this.#grants.set(m.from, { epoch: asked.epoch, until: grantUntil });
    const ends: number[] = [];
    for (const g of this.#grants.values()) if (g.epoch === asked.epoch && g.until - this.#marginMs > now) ends.push(g.until);
    if (ends.length < this.#majority) return none;
    // The majority of grants that last longest: the shortest of them bounds the lease.
    ends.sort((x, y) => y - x);
    const until = (ends[this.#majority - 1] as number) - this.#marginMs;
    const extended = until > this.#until;
    if (extended) this.#until = until;
    const becameLeader = !this.#leader;
    if (becameLeader) {
      this.#leader = true;
      this.#epoch = asked.epoch;
    }
    return { becameLeader, until: extended ? until : null, backOff: null };
  }

  /** Acceptor: a candidate backed off; our grant, if it holds it from that round or before, is free again (a release overtaken by a newer ask is ignored). */
  release(m: LeaseRelease): void {
    if (this.#grantedTo !== m.from || this.#grantedRound > m.round) return;
    this.#grantedTo = null;
    this.#grantedUntil = Number.NEGATIVE_INFINITY;
  }

  /** Steps down if the lease ran out by `now`; returns whether it did. */
  expire(now: number): boolean {
    if (!this.#leader || now < this.#until) return false;
    this.#leader = false;
    return true;
  }
}

/** The registered name of an ecosystem's lease process. */
export function leaseName(ecosystem: string): string {
  return `fdn.lease.${ecosystem}`;
}

/**
 * Runs the lease process of `ecosystem` on `node` among `candidates` (node names, this one
 * included); `owner` (a local process) gets {@link LeaseEvent}s. Returns the process.
 */
export function startLease(node: Node, ecosystem: string, candidates: readonly string[], owner: Pid, options: LeaseOptions = {}): Pid {
  const leaseMs = options.leaseMs ?? 3_000;
  const renewMs = options.renewMs ?? 500;
  const marginMs = options.marginMs ?? 500;
  const clock = node.runtime.clock;
  const name = leaseName(ecosystem);
  return node.runtime.spawn(
    async (ctx: ProcessContext) => {
      ctx.register(name);
      const lease = new LeaseState(node.name, candidates.length, { leaseMs, marginMs });
      const stepDown = (): void => {
        ctx.send(owner, { type: 'fdn.lease.follower', epoch: lease.epoch } satisfies LeaseEvent);
      };
      // One timer at a time: a tick scheduled earlier and overtaken by a newer one is ignored.
      let tickSeq = 0;
      const schedule = (ms: number): void => {
        ctx.sendAfter(ctx.self, { tick: ++tickSeq }, ms);
      };
      schedule(renewMs * node.random.next());
      for (;;) {
        const m = (await ctx.receive()) as LeaseAsk | LeaseGrant | LeaseRelease | { tick: number } | { expire: number };
        const now = clock.now();
        if ('expire' in m) {
          // The leader's own view of its lease ran out (not extended since): step down now, not at the next tick.
          if (lease.expire(now)) stepDown();
          continue;
        }
        if ('tick' in m) {
          if (m.tick !== tickSeq) continue;
          if (lease.expire(now)) stepDown();
          const ask = lease.ask(now);
          for (const c of candidates) ctx.send({ name, node: c }, ask);
          // A leader renews on time; the others ask at random intervals, so a split vote (each
          // candidate holding a few grants) does not repeat in lockstep.
          schedule(lease.leader ? renewMs : renewMs * (1 + 2 * node.random.next()));
          continue;
        }
        if (m.t === 'ask') {
          ctx.send({ name, node: m.from }, lease.answer(m, now));
          continue;
        }
        if (m.t === 'release') {
          lease.release(m);
          continue;
        }
        const outcome = lease.receive(m, now);
        if (outcome.backOff !== null) {
          for (const c of candidates) ctx.send({ name, node: c }, outcome.backOff);
          schedule(leaseMs * node.random.next());
        }
        if (outcome.until !== null) ctx.sendAfter(ctx.self, { expire: outcome.until }, Math.max(0, outcome.until - now));
        if (outcome.becameLeader) ctx.send(owner, { type: 'fdn.lease.leader', epoch: lease.epoch } satisfies LeaseEvent);
      }
    },
    { label: `fdn.lease ${ecosystem}` },
  );
}
