// `npm ci` (what CI runs) rejects a lock file that lacks an optional dependency of a locked
// package. See scripts/restore-lock-platforms.mjs for why entries go missing here.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  optionalDependencies?: Record<string, string>;
}

describe('package-lock.json', () => {
  it('lists every optional dependency of every locked package (npm ci needs them)', () => {
    const lock = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(lock.packages)) {
      const base = key.slice(0, key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
        const nested = `${key}/node_modules/${dep}`;
        if (lock.packages[nested] === undefined && lock.packages[`${base}${dep}`] === undefined && lock.packages[`node_modules/${dep}`] === undefined) {
          missing.push(`${dep} (optional dependency of ${key})`);
        }
      }
    }
    expect(missing, 'run: node scripts/restore-lock-platforms.mjs').toEqual([]);
  });
});
