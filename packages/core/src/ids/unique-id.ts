// Identifiers that must be unique across nodes and restarts (an unnamed ecosystem, a topology
// switch, a probe): nanoid's alphabet and length over the injected Random, so a simulation draws
// the same ids from the same seed and a real node draws them from the system's randomness.

import { customRandom, urlAlphabet } from 'nanoid';
import type { Random } from '../random/random.ts';

/** Makes ids of `size` characters (default 21, nanoid's: ~126 bits, collisions out of reach) drawn from `random`. */
export function uniqueIds(random: Random, size = 21): () => string {
  return customRandom(urlAlphabet, size, (bytes) => {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) out[i] = random.int(256);
    return out;
  });
}
