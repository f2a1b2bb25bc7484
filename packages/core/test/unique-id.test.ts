import { describe, expect, it } from 'vitest';
import { seededRandom, systemRandom, uniqueIds } from '../src/index.ts';

describe('uniqueIds', () => {
  it('draws the same ids from the same seed and different ones from another', () => {
    const a = uniqueIds(seededRandom(7));
    const b = uniqueIds(seededRandom(7));
    const c = uniqueIds(seededRandom(8));
    const fromA = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(fromA);
    expect(c()).not.toBe(fromA[0]);
  });

  it('gives 21 URL-safe characters by default, or the size asked, and 100,000 draws never repeat', () => {
    const next = uniqueIds(systemRandom());
    expect(next()).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(uniqueIds(systemRandom(), 10)()).toHaveLength(10);
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(next());
    expect(seen.size).toBe(100_000);
  });
});
