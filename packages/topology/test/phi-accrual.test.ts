// The φ accrual failure detector against its definition: low while heartbeats keep their rhythm,
// past the threshold after a silence of mean + acceptable pause + a few deviations, and more
// patient with a peer whose heartbeats are irregular.

import { describe, expect, it } from 'vitest';
import { PhiAccrual } from '../src/index.ts';

function steady(d: PhiAccrual, from: number, count: number, every: number, jitter = (_i: number) => 0): number {
  let t = from;
  for (let i = 0; i < count; i++) {
    t += every + jitter(i);
    d.heartbeat(t);
  }
  return t;
}

describe('PhiAccrual', () => {
  it('is 0 before any heartbeat and small right after one', () => {
    const d = new PhiAccrual();
    expect(d.phi(123_456)).toBe(0);
    const t = steady(d, 0, 100, 1_000);
    expect(d.phi(t + 1_000)).toBeLessThan(0.5);
    expect(d.isAvailable(t + 3_000)).toBe(true);
  });

  it('passes the threshold about mean + pause + 5 deviations after the last heartbeat (Akka defaults)', () => {
    const d = new PhiAccrual();
    const t = steady(d, 0, 1_000, 1_000);
    // mean 1,000 ms, std at its 100 ms floor, pause 3,000 ms: φ = 8 near 4,520 ms.
    expect(d.phi(t + 4_300)).toBeLessThan(8);
    expect(d.phi(t + 4_800)).toBeGreaterThan(8);
    expect(d.isAvailable(t + 6_000)).toBe(false);
    // φ only grows with the silence.
    let last = 0;
    for (let s = 0; s <= 8_000; s += 250) {
      const p = d.phi(t + s);
      expect(p).toBeGreaterThanOrEqual(last);
      last = p;
    }
  });

  it('is more patient with irregular heartbeats, and a slow but steady peer raises its own mean', () => {
    const regular = new PhiAccrual();
    const tr = steady(regular, 0, 500, 1_000);
    const irregular = new PhiAccrual();
    const ti = steady(irregular, 0, 500, 1_000, (i) => (i % 2 === 0 ? -600 : 600));
    expect(irregular.phi(ti + 4_800)).toBeLessThan(regular.phi(tr + 4_800));
    const slow = new PhiAccrual({ acceptablePauseMs: 0 });
    const ts = steady(slow, 0, 1_000, 5_000);
    expect(slow.isAvailable(ts + 5_000)).toBe(true);
  });
});
