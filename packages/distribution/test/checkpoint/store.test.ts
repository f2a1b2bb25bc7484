// Checkpoint stores: what is saved is loaded, an older epoch is fenced off, and the file store
// writes atomically (no temporary file left behind, the previous checkpoint intact on failure).

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DistributionErrorCode, FileStore, MemoryStore } from '../../src/index.ts';
import type { CheckpointStore } from '../../src/index.ts';

for (const [label, make] of [
  ['MemoryStore', () => new MemoryStore()],
  ['FileStore', () => new FileStore(mkdtempSync(join(tmpdir(), 'fdn-store-')))],
] as const) {
  describe(label, () => {
    it('loads what was saved; a newer epoch replaces it; an older one is fenced off', async () => {
      const store: CheckpointStore = make();
      expect(await store.load('eco')).toBeUndefined();
      await store.save('eco', 1, { count: 1, nested: { list: [1, 2] } });
      expect(await store.load('eco')).toEqual({ epoch: 1, value: { count: 1, nested: { list: [1, 2] } } });
      await store.save('eco', 1, { count: 2 });
      await store.save('eco', 3, { count: 3 });
      await expect(store.save('eco', 2, { count: 99 })).rejects.toMatchObject({ code: DistributionErrorCode.FENCED });
      expect(await store.load('eco')).toEqual({ epoch: 3, value: { count: 3 } });
      // Keys are independent (and may hold any characters).
      await store.save('other/eco name', 1, 'x');
      expect((await store.load('other/eco name'))?.value).toBe('x');
    });
  });
}

describe('FileStore files', () => {
  it('one file per key, no temporary file left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdn-store-'));
    const store = new FileStore(dir);
    for (let i = 1; i <= 20; i++) await store.save('eco', i, { i });
    expect(readdirSync(dir)).toEqual(['eco.json']);
    expect((await new FileStore(dir).load('eco'))?.value).toEqual({ i: 20 });
  });
});
