// Who runs an ecosystem's coordinator: a majority lease among its candidate nodes. Every candidate
// node runs one lease process (registered as `fdn.lease.<ecosystem>`) that is both an acceptor and
// a candidate. An acceptor grants the lease to one candidate at a time, for `leaseMs` by its own
// clock, and to another only once that has run out. A candidate holding grants from a majority is
// the leader, with an epoch (the fencing token) higher than any before; it renews every
// `renewMs`, and counts its lease from when it *asked*, so its own view runs out before any
// acceptor's. A leader that cannot renew with a majority (its node is cut off with a minority, or
// the others are gone) steps down when its view runs out (a timer set for that instant); only
// after that can the acceptors grant to someone else. So there is never more than one leader, as
// long as clock drift plus the leader's scheduling delay (a blocked event loop) stay under
// `marginMs` — the limit of any lease. A candidate short of a majority lets its partial grants
// lapse and retries at random intervals, so split votes resolve.

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

type LeaseMessage =
  | { t: 'ask'; from: string; epoch: number; round: number; renew: boolean }
  | { t: 'grant'; from: string; epoch: number; round: number; ok: boolean; seen: number };

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
  const majority = Math.floor(candidates.length / 2) + 1;
  const clock = node.runtime.clock;
  const name = leaseName(ecosystem);
  return node.runtime.spawn(
    async (ctx: ProcessContext) => {
      ctx.register(name);
      // Acceptor side.
      let grantedTo: string | null = null;
      let grantedUntil = Number.NEGATIVE_INFINITY;
      let seen = 0;
      // Candidate side. Grants count while the round they answer is recent enough: under load,
      // replies may take longer than a renewal period, and a majority may gather over rounds.
      let leader = false;
      let epoch = 0;
      let myUntil = Number.NEGATIVE_INFINITY;
      let round = 0;
      const rounds = new Map<number, { askedAt: number; epoch: number }>();
      const grants = new Map<string, number>();
      const ask = (): void => {
        round++;
        const now = clock.now();
        for (const [r, info] of rounds) if (info.askedAt < now - leaseMs) rounds.delete(r);
        const e = leader ? epoch : seen + 1;
        rounds.set(round, { askedAt: now, epoch: e });
        refusals = 0;
        for (const c of candidates) ctx.send({ name, node: c }, { t: 'ask', from: node.name, epoch: e, round, renew: leader } satisfies LeaseMessage);
      };
      // Refusals in the current round: a majority of them means someone else is gathering the lease.
      let refusals = 0;
      // One timer at a time: a tick scheduled earlier and overtaken by a newer one is ignored.
      let tickSeq = 0;
      const schedule = (ms: number): void => {
        ctx.sendAfter(ctx.self, { tick: ++tickSeq }, ms);
      };
      schedule(renewMs * node.random.next());
      for (;;) {
        const m = (await ctx.receive()) as LeaseMessage | { tick: number } | { expire: number };
        const now = clock.now();
        if ('expire' in m) {
          // The leader's own view of its lease ran out (not extended since): step down now,
          // not at the next tick.
          if (leader && now >= myUntil) {
            leader = false;
            ctx.send(owner, { type: 'fdn.lease.follower', epoch } satisfies LeaseEvent);
          }
          continue;
        }
        if ('tick' in m) {
          if (m.tick !== tickSeq) continue;
          if (leader && now > myUntil) {
            leader = false;
            ctx.send(owner, { type: 'fdn.lease.follower', epoch } satisfies LeaseEvent);
          }
          ask();
          // A leader renews on time; the others ask at random intervals, so a split vote (each
          // candidate holding a few grants) does not repeat in lockstep.
          schedule(leader ? renewMs : renewMs * (1 + 2 * node.random.next()));
          continue;
        }
        if (m.t === 'ask') {
          // Grant if free, expired, or already ours to this candidate, and its epoch is not behind.
          const expired = grantedTo === null || now > grantedUntil;
          const ok = (expired || grantedTo === m.from) && m.epoch >= seen;
          if (ok) {
            // Only a leader's renewal extends a grant it holds: a candidate short of a majority lets
            // its partial grants run out, so a split vote cannot hold the acceptors forever.
            if (expired || m.renew) grantedUntil = now + leaseMs;
            grantedTo = m.from;
            seen = Math.max(seen, m.epoch);
          }
          ctx.send({ name, node: m.from }, { t: 'grant', from: node.name, epoch: m.epoch, round: m.round, ok, seen } satisfies LeaseMessage);
          continue;
        }
        // A grant (or refusal) for one of our rounds.
        seen = Math.max(seen, m.seen);
        const asked = rounds.get(m.round);
        if (asked === undefined) continue;
        if (!m.ok) {
          if (m.round === round && ++refusals >= majority && !leader) {
            // Someone else holds (or gathers) a majority: stay out for a while.
            round++;
            schedule(leaseMs * node.random.next());
          }
          continue;
        }
        if ((grants.get(m.from) ?? 0) < m.round) grants.set(m.from, m.round);
        // The lease holds from the earliest ask among a majority of fresh grants of this epoch.
        const valid: number[] = [];
        for (const [, r] of grants) {
          const info = rounds.get(r);
          if (info?.epoch === asked.epoch && info.askedAt > now - leaseMs + marginMs) valid.push(info.askedAt);
        }
        if (valid.length < majority) continue;
        valid.sort((x, y) => x - y);
        // The majority with the latest asks: the earliest of those bounds what every one of them granted.
        const until = (valid[valid.length - majority] as number) + leaseMs - marginMs;
        if (until > myUntil) {
          myUntil = until;
          ctx.sendAfter(ctx.self, { expire: until }, Math.max(0, until - now));
        }
        if (!leader) {
          leader = true;
          epoch = asked.epoch;
          ctx.send(owner, { type: 'fdn.lease.leader', epoch } satisfies LeaseEvent);
        }
      }
    },
    { label: `fdn.lease ${ecosystem}` },
  );
}
