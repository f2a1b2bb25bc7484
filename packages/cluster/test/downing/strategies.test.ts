// The downing rules on their own: for any clean split of any membership, at most one side stays
// (each strategy), and keepMajority / keepOldest keep exactly one whenever the split is in two.

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { downingStrategy, keepMajority, keepOldest, keepReferee, splitSides, staticQuorum } from '../../src/index.ts';
import type { DowningStrategy, Member } from '../../src/index.ts';

/** A membership of 1–9 nodes with distinct incarnations, and an assignment of each to one of `k` sides. */
const splits = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    incarnations: fc.uniqueArray(fc.integer({ min: 1, max: 1_000 }), { minLength: n, maxLength: n }),
    sideOf: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
  }),
);

function sidesOf({ incarnations, sideOf }: { incarnations: number[]; sideOf: number[] }): { members: Member[]; sides: string[][] } {
  const members = incarnations.map((incarnation, i) => ({ name: `n${String(i)}`, incarnation }));
  const bySide = new Map<number, string[]>();
  sideOf.forEach((s, i) => bySide.set(s, [...(bySide.get(s) ?? []), `n${String(i)}`]));
  return { members, sides: [...bySide.values()] };
}

const staying = (strategy: DowningStrategy, split: { members: Member[]; sides: string[][] }): number => split.sides.filter((s) => strategy.decide(s, split.members) === 'stay').length;

describe('downing strategies', () => {
  test.prop([splits])('never two sides stay (keepMajority, keepOldest, keepReferee, staticQuorum above half)', (input) => {
    const split = sidesOf(input);
    const n = split.members.length;
    for (const strategy of [keepMajority(), keepOldest(), keepOldest({ downIfAlone: false }), keepReferee({ referee: 'n0' }), staticQuorum({ quorumSize: Math.floor(n / 2) + 1 })]) {
      expect(staying(strategy, split), strategy.name).toBeLessThanOrEqual(1);
    }
  });

  test.prop([splits])('split in two: keepMajority and keepOldest keep exactly one side', (input) => {
    const split = sidesOf({ ...input, sideOf: input.sideOf.map((s) => s % 2) });
    if (split.sides.length !== 2) return;
    expect(staying(keepMajority(), split)).toBe(1);
    expect(staying(keepOldest({ downIfAlone: false }), split)).toBe(1);
    expect(staying(keepOldest(), split)).toBe(1);
  });

  it('keepOldest with downIfAlone: an oldest left alone goes down and the others stay', () => {
    const members = ['a', 'b', 'c'].map((name, i) => ({ name, incarnation: i + 1 }));
    expect(keepOldest().decide(['a'], members)).toBe('down');
    expect(keepOldest().decide(['b', 'c'], members)).toBe('stay');
    expect(keepOldest({ downIfAlone: false }).decide(['a'], members)).toBe('stay');
  });

  it('configuration names a strategy; a wrong one says what there is', () => {
    expect(downingStrategy({ strategy: 'keepReferee', referee: 'a' }).name).toBe('keepReferee');
    expect(() => downingStrategy({ strategy: 'keepMinority' } as never)).toThrow(/use keepMajority, keepOldest/);
    expect(() => downingStrategy({ strategy: 'staticQuorum', quorumSize: 0 })).toThrow(/FDN|strategy/);
  });
});

describe('splitting a view into sides', () => {
  const members = ['a', 'b', 'c', 'd'].map((name, i) => ({ name, incarnation: i + 1 }));
  it('a clean partition: two sides, nobody indirectly connected', () => {
    const rows = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['a'])],
      ['c', new Set(['d'])],
      ['d', new Set(['c'])],
    ]);
    expect(splitSides({ self: 'a', members, rows })).toEqual({ indirectlyConnected: [], sides: [['a', 'b'], ['c', 'd']], own: ['a', 'b'] });
  });
  it('one cut link inside a side: both ends are indirectly connected, the rest is one side', () => {
    const rows = new Map([
      ['a', new Set(['b', 'c'])],
      ['b', new Set(['a', 'c', 'd'])],
      ['c', new Set(['a', 'b', 'd'])],
      ['d', new Set(['b', 'c'])],
    ]);
    expect(splitSides({ self: 'b', members, rows })).toEqual({ indirectlyConnected: ['a', 'd'], sides: [['b', 'c']], own: ['b', 'c'] });
    expect(splitSides({ self: 'a', members, rows }).own).toEqual([]);
  });
  it('either end saying it is not connected is enough (a row not yet known says nothing)', () => {
    const rows = new Map([['a', new Set(['b', 'c'])]]);
    expect(splitSides({ self: 'a', members, rows }).indirectlyConnected).toEqual(['a', 'd']);
  });
});
