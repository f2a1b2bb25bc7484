import { describe, expect, it } from 'vitest';
import { seededRandom, systemRandom } from '../src/index.ts';

describe('seededRandom', () => {
  it('replays the same sequence from the same seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 20 }, () => a.next());
    const ys = Array.from({ length: 20 }, () => b.next());
    expect(xs).toEqual(ys);
    expect(new Set(xs).size).toBe(20);
    expect(seededRandom(43).next()).not.toBe(xs[0]);
  });

  it('draws integers uniformly within bounds', () => {
    const r = seededRandom(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[r.int(4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(9_000);
    for (const c of counts) expect(c).toBeLessThan(11_000);
  });

  it('samples distinct elements and shuffles in place', () => {
    const r = seededRandom(1);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s = r.sample(items, 10);
    expect(new Set(s).size).toBe(10);
    expect(r.sample(items, 100)).toHaveLength(50);
    expect(r.sample([], 3)).toEqual([]);
    expect(r.pick<number>([])).toBeUndefined();
    const shuffled = r.shuffle(items.slice());
    expect(shuffled.slice().sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
  });

  it('forks independent but deterministic generators', () => {
    const a = seededRandom(9).fork();
    const b = seededRandom(9).fork();
    expect(a.next()).toBe(b.next());
  });

  it('system randomness stays in [0, 1)', () => {
    const r = systemRandom();
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});
