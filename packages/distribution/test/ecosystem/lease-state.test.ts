// The lease protocol on its own, with time passed in: a grant made before the round that completes a
// majority bounds the lease (the bug of counting every grant from the latest ask), and under random
// delays, losses, reorderings and competing candidates no two nodes ever lead at once.

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { LeaseState } from '../../src/ecosystem/lease.ts';
import type { LeaseAsk, LeaseGrant } from '../../src/ecosystem/lease.ts';

const LEASE = { leaseMs: 900, marginMs: 350 };

describe('LeaseState', () => {
  it('a grant carried over from an earlier round bounds the lease from its own start', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const s = new Map(names.map((n) => [n, new LeaseState(n, names.length, LEASE)]));
    const at = (n: string): LeaseState => s.get(n) as LeaseState;
    const x = new LeaseState('x', names.length, LEASE);
    // c, d and e granted to x at -500 (until 400); at 0 a asks: a and b grant it (until 900), c, d, e refuse.
    const askX = x.ask(-500);
    for (const n of ['c', 'd', 'e']) at(n).answer(askX, -500);
    const first = at('a').ask(0);
    for (const n of names) at('a').receive(at(n).answer(first, 0), 0);
    expect(at('a').leader).toBe(false);
    // At 600 a asks again: a and b still hold their grants to it (until 900, not extended), c is free.
    const second = at('a').ask(600);
    for (const n of ['a', 'b', 'c']) at('a').receive(at(n).answer(second, 600), 600);
    // Two of the three grants end at 900: a leader until 600 + 900 - 350 would outlive them, and from
    // 900 on b could grant to x. Counted from each grant's own end, a is not leader (or only until 550).
    expect(at('a').leader && at('a').until > 900 - LEASE.marginMs).toBe(false);
  });

  it('a leader renews: each renewal extends its lease a full lease from the ask', () => {
    const names = ['a', 'b', 'c'];
    const s = names.map((n) => new LeaseState(n, names.length, LEASE));
    const [a] = s as [LeaseState];
    const round = (now: number): void => {
      const ask = a.ask(now);
      for (const acceptor of s) a.receive(acceptor.answer(ask, now), now);
    };
    round(0);
    expect(a.leader).toBe(true);
    expect(a.until).toBe(900 - 350);
    round(500);
    expect(a.until).toBe(500 + 900 - 350);
    expect(a.expire(1_049)).toBe(false);
    expect(a.expire(1_050)).toBe(true);
    expect(a.leader).toBe(false);
  });

  /** A tiny deterministic PRNG for the simulation (the seed comes from fast-check). */
  function prng(seed: number): () => number {
    let t = seed >>> 0;
    return () => {
      t = (t + 0x6d2b79f5) >>> 0;
      let r = Math.imul(t ^ (t >>> 15), 1 | t);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
    };
  }

  test.prop([fc.integer({ min: 3, max: 5 }), fc.integer(), fc.integer({ min: 0, max: 1_200 }), fc.double({ min: 0, max: 0.4, noNaN: true })], { numRuns: 60 })(
    'random delays, losses and rivals: never two leaders at once (one clock, no margin needed)',
    (count, seed, maxDelay, loss) => {
      const random = prng(seed);
      const names = Array.from({ length: count }, (_, i) => `n${String(i)}`);
      const nodes = new Map(names.map((n) => [n, new LeaseState(n, count, { leaseMs: 900, marginMs: 0 })]));
      interface Event { at: number; run: () => void }
      const queue: Event[] = [];
      const later = (delay: number, run: () => void): void => {
        queue.push({ at: now + delay, run });
      };
      let now = 0;
      const deliver = (run: () => void): void => {
        if (random() >= loss) later(random() * maxDelay, run);
      };
      const tick = (name: string): void => {
        const lease = nodes.get(name) as LeaseState;
        lease.expire(now);
        const ask: LeaseAsk = lease.ask(now);
        for (const to of names) {
          deliver(() => {
            const grant: LeaseGrant = (nodes.get(to) as LeaseState).answer(ask, now);
            deliver(() => {
              const outcome = lease.receive(grant, now);
              if (outcome.until !== null) later(outcome.until - now, () => lease.expire(now));
            });
          });
        }
        later(lease.leader ? 300 : 300 * (1 + 2 * random()), () => { tick(name); });
      };
      for (const n of names) later(random() * 300, () => { tick(n); });
      let leadersSeen = 0;
      for (let step = 0; step < 20_000 && queue.length > 0 && now < 30_000; step++) {
        queue.sort((x, y) => x.at - y.at);
        const next = queue.shift() as Event;
        now = next.at;
        next.run();
        const leading = [...nodes.values()].filter((l) => l.leader && now < l.until);
        if (leading.length > 0) leadersSeen++;
        expect(leading.length).toBeLessThanOrEqual(1);
      }
      // Not vacuous: with short delays and few losses someone leads.
      if (maxDelay < 200 && loss < 0.1) expect(leadersSeen).toBeGreaterThan(0);
    },
  );
});
