// The Random interface: seeded, so a simulation or a property test replays exactly from its seed.

import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** Randomness, injected into every component that chooses (peers, jitter, placement). */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive); `maxExclusive` must be ≥ 1. */
  int(maxExclusive: number): number;
  /** A uniformly chosen element, or `undefined` for an empty array. */
  pick<T>(items: readonly T[]): T | undefined;
  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  /** Up to `count` distinct elements chosen uniformly, in random order (a new array). */
  sample<T>(items: readonly T[], count: number): T[];
  /** An independent generator derived from this one (for a sub-component). */
  fork(): Random;
}

/** A deterministic generator (xoroshiro128+) seeded by a 32-bit integer. */
export function seededRandom(seed: number): Random {
  return new GeneratorRandom(xoroshiro128plus(seed | 0));
}

/** Randomness from `Math.random`, for production use. */
export function systemRandom(): Random {
  return new FunctionRandom(Math.random);
}

abstract class BaseRandom implements Random {
  abstract next(): number;
  abstract fork(): Random;

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.int(items.length)];
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }

  sample<T>(items: readonly T[], count: number): T[] {
    const n = Math.min(count, items.length);
    if (n <= 0) return [];
    // Partial Fisher–Yates on a copy: O(n) for the copy, O(count) for the draw.
    const copy = items.slice();
    for (let i = 0; i < n; i++) {
      const j = i + this.int(copy.length - i);
      const t = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = t;
    }
    copy.length = n;
    return copy;
  }
}

class GeneratorRandom extends BaseRandom {
  readonly #rng: RandomGenerator;

  constructor(rng: RandomGenerator) {
    super();
    this.#rng = rng;
  }

  next(): number {
    return uniformFloat64(this.#rng);
  }

  fork(): Random {
    return new GeneratorRandom(xoroshiro128plus(this.#rng.next() ^ 0x5bd1e995));
  }
}

class FunctionRandom extends BaseRandom {
  readonly #source: () => number;

  constructor(source: () => number) {
    super();
    this.#source = source;
  }

  next(): number {
    return this.#source();
  }

  fork(): Random {
    return this;
  }
}
