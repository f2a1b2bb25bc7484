// The member set's digest: equal for replicas holding the same set (whatever the order they
// learned it in), different after an add or a remove, and recomputed when the set changes.

import { describe, expect, it } from 'vitest';
import { OrSet } from '../src/peer-service/full-mesh/or-set.ts';

describe('OrSet.digest', () => {
  it('is equal for replicas that merged the same adds in different orders, and changes with an add or a remove', () => {
    const a = new OrSet<string>();
    const b = new OrSet<string>();
    a.add('a', 'a@1', 'A');
    b.add('b', 'b@1', 'B');
    const before = a.digest();
    expect(before).not.toBe(b.digest());
    a.merge(b.toState());
    expect(a.digest()).not.toBe(before);
    b.merge(a.toState());
    expect(a.digest()).toBe(b.digest());
    // A remove changes the set but not the version vector: the digest still sees it.
    a.remove('b@1');
    expect(a.digest()).not.toBe(b.digest());
    b.merge(a.toState());
    expect(b.has('b@1')).toBe(false);
    expect(a.digest()).toBe(b.digest());
  });
});
