import { describe, expect, it } from 'vitest';
import { newIncarnation, seededRandom, VirtualClock } from '../src/index.ts';

describe('newIncarnation', () => {
  it('grows with the wall clock from one start to the next, whatever the random part', () => {
    const clock = new VirtualClock({ epoch: Date.UTC(2026, 11, 7) });
    let last = 0;
    for (let i = 0; i < 200; i++) {
      // Worst case for ordering: the earlier start draws the largest random part, the later the smallest.
      const earlier = newIncarnation(clock, { ...seededRandom(i), int: (n: number) => n - 1 });
      clock.advanceSync(1);
      const later = newIncarnation(clock, { ...seededRandom(i), int: () => 0 });
      expect(later).toBeGreaterThan(earlier);
      expect(earlier).toBeGreaterThan(last);
      last = later;
    }
  });

  it('tells apart starts within one millisecond, and stays a safe positive integer', () => {
    const clock = new VirtualClock({ epoch: Date.UTC(2026, 11, 7) });
    const random = seededRandom(3);
    const seen = new Set(Array.from({ length: 20 }, () => newIncarnation(clock, random)));
    expect(seen.size).toBeGreaterThan(15);
    const far = new VirtualClock({ epoch: Date.UTC(2290, 0, 1) });
    expect(Number.isSafeInteger(newIncarnation(far, random))).toBe(true);
    expect(newIncarnation(new VirtualClock(), random)).toBeGreaterThan(0);
  });
});
