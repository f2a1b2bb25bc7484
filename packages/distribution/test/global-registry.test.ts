// The cluster registry across three nodes in this process (real sockets on 127.0.0.1): names are
// seen everywhere, freed when their process exits or their node goes, and a conflict between two
// registrations of one name ends the same way on every node.

import { Pid } from '@fdn/actors';
import { describe, expect, it } from 'vitest';
import { startNode } from '../src/index.ts';
import type { GlobalNameConflict, Node } from '../src/index.ts';
import { stoppedAfterEach, until } from './helpers.ts';

const SECRET = 'global-test-secret';
const started = stoppedAfterEach();


async function cluster(count: number): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const seeds = i === 0 ? [] : [nodes[0]?.addresses[0] as string];
    const n = await startNode({ name: `g${String(i)}`, secret: SECRET, seeds });
    started.push(n);
    nodes.push(n);
  }
  await until(() => nodes.every((n) => n.nodes().length === count - 1), 'a full mesh');
  return nodes;
}

const idle = (node: Node): Pid =>
  node.runtime.spawn(async (ctx) => {
    for (;;) await ctx.receive();
  });

describe('cluster registry', () => {
  it('a name registered on one node is found and reachable from every node, and freed when its process exits', async () => {
    const [a, b, c] = (await cluster(3)) as [Node, Node, Node];
    const got: unknown[] = [];
    const server = b.runtime.spawn(async (ctx) => {
      got.push(await ctx.receive());
      await ctx.receive((m) => m === 'exit now');
    });
    expect(b.registerGlobal('leader', server)).toBe(true);
    expect(b.registerGlobal('leader', idle(b))).toBe(false);
    await until(() => a.whereisGlobal('leader')?.equals(server) === true && c.whereisGlobal('leader')?.equals(server) === true, 'everyone knows the leader');
    expect(a.sendGlobal('leader', 'hello from a')).toBe(true);
    await until(() => got.length === 1, 'the message arrived');
    expect(got).toEqual(['hello from a']);
    expect(a.registerGlobal('leader', idle(a))).toBe(false);
    b.runtime.send(server, 'exit now');
    await until(() => [a, b, c].every((n) => n.whereisGlobal('leader') === undefined), 'the name is free everywhere');
    expect(a.sendGlobal('leader', 'nobody')).toBe(false);
    expect(a.registerGlobal('leader', idle(a))).toBe(true);
    await until(() => c.whereisGlobal('leader')?.node === 'g0', 'the new owner is known');
  });

  it('names of a node that stops go everywhere; a node that joins later learns the names', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    b.registerGlobal('on-b', idle(b));
    a.registerGlobal('on-a', idle(a));
    await until(() => a.globalNames().length === 2 && b.globalNames().length === 2, 'both names known on both nodes');
    const late = await startNode({ name: 'g9', secret: SECRET, seeds: [a.addresses[0] as string] });
    started.push(late);
    await until(() => late.globalNames().join() === 'on-a,on-b', 'the late node learned both names');
    started.splice(started.indexOf(b), 1);
    await b.stop();
    await until(() => a.globalNames().join() === 'on-a' && late.globalNames().join() === 'on-a', "b's name is gone");
  });

  it('two registrations of one name at the same instant: every node keeps the lowest pid; the loser is told', async () => {
    const [a, b, c] = (await cluster(3)) as [Node, Node, Node];
    const told: GlobalNameConflict[] = [];
    const onA = a.runtime.spawn(async (ctx) => {
      for (;;) told.push((await ctx.receive()) as GlobalNameConflict);
    });
    const onB = b.runtime.spawn(async (ctx) => {
      for (;;) told.push((await ctx.receive()) as GlobalNameConflict);
    });
    // Both succeed locally: neither has heard of the other yet.
    expect(a.registerGlobal('singleton', onA)).toBe(true);
    expect(b.registerGlobal('singleton', onB)).toBe(true);
    const winner = onA; // g0 < g1
    await until(() => [a, b, c].every((n) => n.whereisGlobal('singleton')?.equals(winner) === true), 'all agree on the winner');
    await until(() => told.length === 1, 'the loser was told');
    expect(told[0]).toMatchObject({ type: 'global_name_conflict', name: 'singleton' });
    expect(told[0]?.winner.equals(winner)).toBe(true);
    expect(b.runtime.isAlive(onB)).toBe(true);
  });
});

describe('process groups (pg)', () => {
  it('members across nodes, counted joins, leave, exit and node loss; monitors see joins and leaves', async () => {
    const [a, b, c] = (await cluster(3)) as [Node, Node, Node];
    const events: { type: string; group: string; pids: Pid[] }[] = [];
    const watcher = a.runtime.spawn(async (ctx) => {
      for (;;) events.push((await ctx.receive()) as (typeof events)[number]);
    });
    expect(a.pg.monitor('workers', watcher)).toEqual([]);
    const wa = idle(a);
    const wb = idle(b);
    const wc = idle(c);
    a.pg.join('workers', wa);
    b.pg.join('workers', wb);
    b.pg.join('workers', wb);
    c.pg.join('workers', wc);
    const sorted = (pids: Pid[]): string[] => pids.map((p) => p.toString()).sort();
    const all = sorted([wa, wb, wb, wc]);
    await until(() => [a, b, c].every((n) => sorted(n.pg.members('workers')).join() === all.join()), 'every node sees all four joins');
    expect(b.pg.localMembers('workers').length).toBe(2);
    expect(b.pg.leave('workers', wb)).toBe(true);
    await until(() => a.pg.members('workers').length === 3, 'one join of wb left');
    c.runtime.exit(wc, 'kill');
    await until(() => a.pg.members('workers').length === 2 && b.pg.members('workers').length === 2, 'wc dropped out when it died');
    started.splice(started.indexOf(b), 1);
    await b.stop();
    await until(() => sorted(a.pg.members('workers')).join() === sorted([wa]).join(), "b's member dropped out with its node");
    expect(events.some((e) => e.type === 'pg_join' && e.pids.some((p) => p.equals(wc)))).toBe(true);
    expect(events.some((e) => e.type === 'pg_leave' && e.pids.some((p) => p.equals(wb)))).toBe(true);
    // A node that comes up learns the groups.
    const late = await startNode({ name: 'g8', secret: SECRET, seeds: [a.addresses[0] as string] });
    started.push(late);
    await until(() => late.pg.members('workers').length === 1, 'the late node learned the group');
    expect(late.pg.groups()).toEqual(['workers']);
  });
});
