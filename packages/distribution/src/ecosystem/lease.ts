// Who runs an ecosystem's coordinator: a majority lease among its candidate nodes. Every candidate
// node runs one lease process (registered as `fdn.lease.<ecosystem>`) that is both an acceptor and
// a candidate. An acceptor grants the lease to one candidate at a time, for `leaseMs` by its own
// clock, and to another only once that has run out. A candidate holding grants from a majority is
// the leader, with an epoch (the fencing token) higher than any before; it renews every
// `renewMs`, and counts its lease from when it *asked*, so its own view runs out before any
// acceptor's. A leader that cannot renew with a majority (its node is cut off with a minority, or
// the others are gone) steps down when its view runs out; only after that can the acceptors grant
// to someone else. So there is never more than one leader, as long as clocks run at about the same
// rate (a drift of more than `marginMs` over one lease could break it) — the limit of any lease.

import type { Pid, ProcessContext } from '@fdn/actors';
import type { Node } from '../node/node.ts';

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
  | { t: 'ask'; from: string; epoch: number; round: number }
  | { t: 'grant'; from: string; epoch: number; round: number; ok: boolean; seen: number };

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
      // Candidate side.
      let leader = false;
      let epoch = 0;
      let myUntil = Number.NEGATIVE_INFINITY;
      let round = 0;
      let askedAt = 0;
      let grants = new Set<string>();
      const ask = (): void => {
        round++;
        askedAt = clock.now();
        grants = new Set();
        const e = leader ? epoch : seen + 1;
        for (const c of candidates) ctx.send({ name, node: c }, { t: 'ask', from: node.name, epoch: e, round } satisfies LeaseMessage);
      };
      ctx.sendAfter(ctx.self, 'tick', renewMs * node.random.next());
      for (;;) {
        const m = (await ctx.receive()) as LeaseMessage | 'tick';
        const now = clock.now();
        if (m === 'tick') {
          if (leader && now > myUntil) {
            leader = false;
            ctx.send(owner, { type: 'fdn.lease.follower', epoch } satisfies LeaseEvent);
          }
          ask();
          ctx.sendAfter(ctx.self, 'tick', renewMs);
          continue;
        }
        if (m.t === 'ask') {
          // Grant if free, expired, or already ours to this candidate, and its epoch is not behind.
          const free = grantedTo === null || now > grantedUntil || grantedTo === m.from;
          const ok = free && m.epoch >= seen;
          if (ok) {
            grantedTo = m.from;
            grantedUntil = now + leaseMs;
            seen = Math.max(seen, m.epoch);
          }
          ctx.send({ name, node: m.from }, { t: 'grant', from: node.name, epoch: m.epoch, round: m.round, ok, seen } satisfies LeaseMessage);
          continue;
        }
        // A grant (or refusal) for one of our rounds.
        seen = Math.max(seen, m.seen);
        if (m.round !== round || !m.ok) continue;
        grants.add(m.from);
        if (grants.size < majority) continue;
        myUntil = askedAt + leaseMs - marginMs;
        if (!leader) {
          leader = true;
          epoch = m.epoch;
          ctx.send(owner, { type: 'fdn.lease.leader', epoch } satisfies LeaseEvent);
        }
      }
    },
    { label: `fdn.lease ${ecosystem}` },
  );
}
