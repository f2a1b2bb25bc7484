// The HyParView member directory alone, between hand-wired hosts on a virtual clock: how entries
// spread, who wins, refutation, tombstones, expiry with ages, and garbage.

import { seededRandom, VirtualClock } from '@fdn/core';
import { describe, expect, it } from 'vitest';
import { MembershipDirectory } from '../src/index.ts';
import type { DirectoryHost, DirectoryMessage } from '../src/peer-service/hyparview/directory.ts';

interface Host extends DirectoryHost {
  directory: MembershipDirectory;
  neighbors: Set<string>;
  changes: { kind: string; names: readonly string[] }[];
}

/** Hosts wired by name; messages delivered in the same instant (synchronously) unless cut. */
function world(names: string[], options: { announceMs?: number; syncMs?: number } = {}) {
  const clock = new VirtualClock();
  const hosts = new Map<string, Host>();
  const cut = new Set<string>();
  const sent: { from: string; to: string; message: DirectoryMessage }[] = [];
  names.forEach((name, i) => {
    const host: Host = {
      self: { name, incarnation: 1, addresses: [`ws://127.0.0.1:${String(4000 + i)}`] },
      neighbors: new Set(),
      changes: [],
      directory: null as unknown as MembershipDirectory,
      directoryChanged: (kind, changed) => host.changes.push({ kind, names: [...changed] }),
      directoryRestarted: (changed) => host.changes.push({ kind: 'restarted', names: [...changed] }),
      directoryNeighbors: () => host.neighbors,
      sendDirectory: (to, message) => {
        sent.push({ from: name, to, message });
        if (cut.has(to) || cut.has(name)) return;
        hosts.get(to)?.directory.receive(name, message);
      },
    };
    host.directory = new MembershipDirectory(host, clock, seededRandom(i + 1), { announceMs: options.announceMs ?? 1_000, syncMs: options.syncMs ?? 500 });
    hosts.set(name, host);
  });
  const get = (name: string): Host => hosts.get(name) as Host;
  const connect = (a: string, b: string): void => {
    get(a).neighbors.add(b);
    get(b).neighbors.add(a);
    get(a).directory.neighborUp(b);
    get(b).directory.neighborUp(a);
  };
  const disconnect = (a: string, b: string): void => {
    get(a).neighbors.delete(b);
    get(b).neighbors.delete(a);
    get(a).directory.neighborDown();
    get(b).directory.neighborDown();
  };
  const known = (name: string): string[] => [...get(name).directory.names()].sort();
  return { clock, get, connect, disconnect, known, cut, sent };
}

describe('MembershipDirectory', () => {
  it('a newer incarnation of a live member is a restart (reported as such), not a silent update', () => {
    const w = world(['a', 'b', 'c']);
    for (const n of ['a', 'b', 'c']) w.get(n).directory.start();
    w.connect('a', 'b');
    w.connect('b', 'c');
    w.clock.advanceSync(2_000);
    expect(w.known('a')).toEqual(['a', 'b', 'c']);
    w.get('a').changes.length = 0;
    // c starts again (a new incarnation): b hears it, and a hears it only from b.
    const fresh = new MembershipDirectory({ ...w.get('c'), self: { ...w.get('c').self, incarnation: 2 } }, w.clock, seededRandom(99), { announceMs: 1_000 });
    w.get('c').directory.stop();
    w.get('c').directory = fresh;
    fresh.start();
    fresh.neighborUp('b');
    w.clock.advanceSync(2_000);
    expect(w.get('a').changes).toContainEqual({ kind: 'restarted', names: ['c'] });
    expect(w.get('a').changes.filter((c) => c.kind !== 'restarted')).toEqual([]);
  });

  it('spreads every entry along a line of neighbours, in batches', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const w = world(names);
    for (const n of names) w.get(n).directory.start();
    for (let i = 1; i < names.length; i++) w.connect(names[i - 1] as string, names[i] as string);
    w.clock.advanceSync(1_000);
    for (const n of names) {
      expect(w.known(n)).toEqual(names);
      expect(w.get(n).directory.size).toBe(5);
    }
    // Batched: far fewer messages than entries × hops.
    const entries = w.sent.reduce((s, m) => s + (m.message.e?.length ?? 0), 0);
    expect(w.sent.length).toBeLessThan(entries);
  });

  it('a node reported down is dropped everywhere, and refutes it with a newer sequence number', () => {
    const names = ['a', 'b', 'c'];
    // Refreshes a minute apart: only the refutation can bring a back within seconds.
    const w = world(names, { announceMs: 60_000 });
    for (const n of names) w.get(n).directory.start();
    w.connect('a', 'b');
    w.connect('b', 'c');
    w.clock.advanceSync(500);
    expect(w.known('a')).toEqual(names);
    // c wrongly reports a down (say, a connection hiccup): b hears it, and so does a, which refutes.
    w.cut.add('a');
    w.get('c').directory.reportDown('a');
    w.clock.advanceSync(150);
    expect(w.known('b')).toEqual(['b', 'c']);
    expect(w.get('b').changes.some((c) => c.kind === 'unreachable' && c.names.includes('a'))).toBe(true);
    w.cut.delete('a');
    // The next digest comparison brings the tombstone to a, which answers: alive, newer.
    w.clock.advanceSync(3_000);
    for (const n of names) expect(w.known(n)).toEqual(names);
  });

  it('a node that left and comes back beats its own tombstone', () => {
    const names = ['a', 'b', 'c'];
    const w = world(names);
    for (const n of names) w.get(n).directory.start();
    w.connect('a', 'b');
    w.connect('b', 'c');
    w.clock.advanceSync(500);
    w.get('a').directory.announceLeave();
    w.get('a').directory.stop();
    w.clock.advanceSync(500);
    expect(w.known('c')).toEqual(['b', 'c']);
    expect(w.get('c').changes.some((c) => c.kind === 'left' && c.names.includes('a'))).toBe(true);
    w.disconnect('a', 'b');
    w.get('a').directory.start();
    w.connect('a', 'b');
    w.clock.advanceSync(500);
    for (const n of names) expect(w.known(n)).toEqual(names);
  });

  it('forgets a silent node everywhere at about the same time: ages travel, so no one hands it back', () => {
    const names = ['a', 'b', 'c'];
    const w = world(names, { announceMs: 1_000 });
    for (const n of names) w.get(n).directory.start();
    w.connect('a', 'b');
    w.connect('b', 'c');
    w.clock.advanceSync(500);
    // c goes silent without any connection failing (stopped, connections kept): 3.5 periods later it is gone
    // at a and b, and the digest exchanges between a and b do not bring it back.
    w.get('c').directory.stop();
    w.cut.add('c');
    w.clock.advanceSync(6_000);
    expect(w.known('a')).toEqual(['a', 'b']);
    expect(w.known('b')).toEqual(['a', 'b']);
    w.clock.advanceSync(10_000);
    expect(w.known('a')).toEqual(['a', 'b']);
    expect(w.get('a').changes.filter((c) => c.kind === 'expired' && c.names.includes('c')).length).toBe(2); // added once, expired once
  });

  it('ignores garbage and keeps working', () => {
    const w = world(['a', 'b']);
    w.get('a').directory.start();
    w.get('b').directory.start();
    w.connect('a', 'b');
    const d = w.get('a').directory;
    for (const junk of [null, 7, 'x', { e: 'no' }, { e: [[1, 2, 3]] }, { e: [['n', ['ws://x'], 1, 0, 0, 10, 0]] }, { e: [['n', ['ws://x'], 1, 1, 9, 10, 0]] }, { e: [['n', 'ws://x', 1, 1, 0, 10, 0]] }, { e: [['', [], 1, 1, 0, 10, 0]] }, { digest: 'x' }]) {
      expect(() => {
        d.receive('b', junk);
      }).not.toThrow();
    }
    expect([...d.names()].sort()).toEqual(['a', 'b']);
  });

  it('while changes keep arriving, a new neighbour still gets one comparison (only differing buckets travel) and of the periodic ones every other is skipped; once quiet, they compare again', () => {
    const w = world(['a', 'b', 'c'], { syncMs: 500 });
    for (const n of ['a', 'b', 'c']) w.get(n).directory.start();
    w.connect('a', 'b');
    w.clock.advanceSync(3_000);
    const digestsFromA = (): number => w.sent.filter((m) => m.from === 'a' && m.message.digest !== undefined).length;
    // A storm: b keeps sending ten fresh entries every 50 ms (a cluster of 1,024 starting at once
    // brings far more), well above what the refreshes of a settled cluster bring.
    let n = 0;
    const storm = (ms: number): void => {
      for (let t = 0; t < ms; t += 50) {
        const e = Array.from({ length: 10 }, () => [`x${String(n++)}`, ['ws://127.0.0.1:1'], 1, 1, 0, 1_000, 0]);
        w.get('a').directory.receive('b', { e });
        w.clock.advanceSync(50);
      }
    };
    const before = digestsFromA();
    w.connect('a', 'c');
    storm(5_000);
    // While changes flow the new neighbour gets its one comparison, and of the periodic ones (every
    // 250–750 ms here, ten times as often after one found a difference) every other is skipped.
    expect(w.sent.filter((m) => m.from === 'a' && m.to === 'c' && m.message.digest !== undefined)).toHaveLength(1);
    expect(digestsFromA() - before).toBeLessThanOrEqual(8); // 39 when every one runs
    // Quiet again: the periodic sync compares (faster, since it skipped), and so does the next new neighbour.
    const stormEnd = digestsFromA();
    w.clock.advanceSync(2_000);
    expect(digestsFromA()).toBeGreaterThan(stormEnd);
    const toC = (): number => w.sent.filter((m) => m.from === 'a' && m.to === 'c' && m.message.digest !== undefined).length;
    w.disconnect('a', 'c');
    const quietBefore = toC();
    w.connect('a', 'c');
    w.clock.advanceSync(400);
    expect(toC()).toBeGreaterThan(quietBefore);
  });

  it('a comparison of nearly equal directories carries the entries of the differing buckets only, both ways, and leaves them equal', () => {
    const w = world(['a', 'b'], { announceMs: 60_000, syncMs: 500 });
    for (const n of ['a', 'b']) w.get(n).directory.start();
    w.connect('a', 'b');
    w.clock.advanceSync(1_000);
    // 640 members both know (a hears of them, b through a's gossip).
    const e = Array.from({ length: 640 }, (_, i) => [`m${String(i)}`, ['ws://127.0.0.1:1'], 1, 1, 0, 60_000, 0]);
    w.get('a').directory.receive('x', { e });
    w.clock.advanceSync(2_000);
    expect(w.get('b').directory.size).toBe(642);
    // Cut off from each other, a hears of one more and b of another.
    w.cut.add('a');
    w.get('a').directory.receive('x', { e: [['only-a', ['ws://127.0.0.1:1'], 1, 1, 0, 60_000, 0]] });
    w.get('b').directory.receive('x', { e: [['only-b', ['ws://127.0.0.1:1'], 1, 1, 0, 60_000, 0]] });
    w.clock.advanceSync(200);
    w.cut.delete('a');
    w.sent.length = 0;
    w.clock.advanceSync(3_000);
    // The periodic comparison: two buckets of ~10 entries each, both ways — a few dozen, not 2 × 642.
    const carried = w.sent.reduce((n, m) => n + (m.message.e?.length ?? 0), 0);
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThan(80);
    expect(w.known('a')).toEqual(w.known('b'));
    expect(w.get('a').directory.has('only-b') && w.get('b').directory.has('only-a')).toBe(true);
  });

  it('refreshes alone do not count as changes flowing: a settled cluster still compares with a new neighbour', () => {
    const w = world(['a', 'b', 'c'], { syncMs: 500 });
    for (const n of ['a', 'b', 'c']) w.get(n).directory.start();
    w.connect('a', 'b');
    w.connect('b', 'c');
    // Ten members b refreshes without end (new sequence numbers, nothing else changes), as in a large settled cluster.
    let seq = 1;
    const refresh = (): void => {
      const e = Array.from({ length: 10 }, (_, i) => [`m${String(i)}`, ['ws://127.0.0.1:1'], 1, seq, 0, 1_000, 0]);
      seq++;
      w.get('a').directory.receive('b', { e });
    };
    for (let t = 0; t < 3_000; t += 50) {
      refresh();
      w.clock.advanceSync(50);
    }
    const toC = (): number => w.sent.filter((m) => m.from === 'a' && m.to === 'c' && m.message.digest !== undefined).length;
    w.connect('a', 'c');
    const before = toC();
    for (let t = 0; t < 400; t += 50) {
      refresh();
      w.clock.advanceSync(50);
    }
    expect(toC() - before, 'a compared digests with its new neighbour').toBeGreaterThan(0);
  });
});

