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

  it('a split vote: the candidate refused by a majority releases its grants, and the other gets them at once', () => {
    const names = ['a', 'b', 'c', 'd'];
    const s = new Map(names.map((n) => [n, new LeaseState(n, names.length, LEASE)]));
    const at = (n: string): LeaseState => s.get(n) as LeaseState;
    // a holds a and b, c holds c and d: neither has three.
    const askA = at('a').ask(0);
    const askC = at('c').ask(0);
    for (const n of ['a', 'b']) at('a').receive(at(n).answer(askA, 0), 0);
    for (const n of ['c', 'd']) at('c').receive(at(n).answer(askC, 0), 0);
    // Two refusals of four: a cannot reach three this round.
    const outcomes = ['c', 'd'].map((n) => at('a').receive(at(n).answer(askA, 1), 1));
    const release = outcomes[1]?.backOff ?? null;
    expect(release).toMatchObject({ t: 'release', from: 'a' });
    if (release === null) return;
    for (const n of names) at(n).release(release);
    // a's grants are free: c gathers a majority now, not a lease later.
    const again = at('c').ask(10);
    for (const n of names) at('c').receive(at(n).answer(again, 10), 10);
    expect(at('c').leader).toBe(true);
    expect(at('a').leader).toBe(false);
  });

  it('a release overtaken by a newer ask of the same candidate frees nothing', () => {
    const acceptor = new LeaseState('b', 3, LEASE);
    const x = new LeaseState('x', 3, LEASE);
    const y = new LeaseState('y', 3, LEASE);
    const first = x.ask(0);
    acceptor.answer(first, 0);
    const second = x.ask(100);
    expect(acceptor.answer(second, 100).ok).toBe(true);
    // The release of round 1 arrives late, after the ask of round 2.
    acceptor.release({ t: 'release', from: 'x', round: first.round });
    expect(acceptor.answer(y.ask(200), 200).ok).toBe(false);
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
              const release = outcome.backOff;
              if (release !== null) for (const acceptor of names) deliver(() => { (nodes.get(acceptor) as LeaseState).release(release); });
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
