// The cluster registry across three nodes in this process (real sockets on 127.0.0.1): names are
// seen everywhere, freed when their process exits or their node goes, and a conflict between two
// registrations of one name ends the same way on every node.

import { GenServer, Supervisor } from '@fdn/actors';
import type { GenServerBehaviour, Pid } from '@fdn/actors';
import { describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { GlobalNameConflict, Node } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

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
    expect(await b.registerGlobal('leader', server)).toBe(true);
    expect(await b.registerGlobal('leader', idle(b))).toBe(false);
    await until(() => a.whereisGlobal('leader')?.equals(server) === true && c.whereisGlobal('leader')?.equals(server) === true, 'everyone knows the leader');
    expect(a.sendGlobal('leader', 'hello from a')).toBe(true);
    await until(() => got.length === 1, 'the message arrived');
    expect(got).toEqual(['hello from a']);
    expect(await a.registerGlobal('leader', idle(a))).toBe(false);
    b.runtime.send(server, 'exit now');
    await until(() => [a, b, c].every((n) => n.whereisGlobal('leader') === undefined), 'the name is free everywhere');
    expect(a.sendGlobal('leader', 'nobody')).toBe(false);
    expect(await a.registerGlobal('leader', idle(a))).toBe(true);
    await until(() => c.whereisGlobal('leader')?.node === 'g0', 'the new owner is known');
  });

  it('a name is free the moment its process exits: a supervised GenServer registering in init restarts at once (intensity 1)', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const starts: Pid[] = [];
    const coordinator: GenServerBehaviour<null, null, 'crash' | 'who', Pid> = {
      init: async (_arg, ctx) => {
        if (!(await a.registerGlobal('coordinator', ctx.self))) return { type: 'stop', reason: 'the name coordinator is taken' };
        starts.push(ctx.self);
        return { type: 'ok', state: null };
      },
      handleCall: (req, _from, state, ctx) => {
        if (req === 'crash') throw new Error('asked to crash');
        return { type: 'reply', reply: ctx.self, state };
      },
    };
    const sup = await Supervisor.start(a.runtime, { strategy: 'oneForOne', intensity: 1, periodMs: 5_000, children: [{ id: 'coordinator', start: (ctx) => GenServer.startLink(ctx, coordinator, null) }] });
    expect(starts).toHaveLength(1);
    // From the other node, through the cluster registry.
    expect((await GenServer.call<Pid>(b.runtime, { global: 'coordinator' }, 'who')).equals(starts[0])).toBe(true);
    await expect(GenServer.call(b.runtime, { global: 'coordinator' }, 'crash')).rejects.toMatchObject({ code: 'FDN_ERR_CALL_EXIT' });
    await until(() => starts.length === 2, 'the coordinator restarted and registered again');
    expect(a.runtime.isAlive(sup)).toBe(true);
    await until(() => b.whereisGlobal('coordinator')?.equals(starts[1]) === true, 'the other node knows the new one');
    expect((await GenServer.call<Pid>(b.runtime, { global: 'coordinator' }, 'who')).equals(starts[1])).toBe(true);
  });

  it('{ global: name } works as a destination of ctx.send; an unknown one throws NOT_REGISTERED for send and NOPROC for call', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const got: unknown[] = [];
    const sink = b.runtime.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive());
    });
    expect(await b.registerGlobal('sink', sink)).toBe(true);
    await until(() => a.whereisGlobal('sink') !== undefined, 'a knows the name');
    await a.runtime.run((ctx) => {
      ctx.send({ global: 'sink' }, 'via ctx.send');
      expect(() => {
        ctx.send({ global: 'nobody' }, 'lost');
      }).toThrow(expect.objectContaining({ code: 'FDN_ERR_NOT_REGISTERED' }) as Error);
      return Promise.resolve();
    });
    a.send({ global: 'sink' }, 'via node.send');
    await until(() => got.length === 2, 'both arrived');
    expect(got).toEqual(['via ctx.send', 'via node.send']);
    await expect(GenServer.call(a.runtime, { global: 'nobody' }, 'x')).rejects.toMatchObject({ code: 'FDN_ERR_NOPROC' });
  });

  it('two nodes registering one name at the same moment: exactly one gets true, every node agrees (50 races)', async () => {
    const [a, b, c] = (await cluster(3)) as [Node, Node, Node];
    const nodes = [a, b, c];
    for (let round = 0; round < 50; round++) {
      const name = `race-${String(round)}`;
      // Two or three claimants, started in the same tick, in varying order.
      const claimants = round % 3 === 0 ? nodes : round % 2 === 0 ? [a, b] : [c, a];
      const pids = claimants.map((n) => idle(n));
      const results = await Promise.all(claimants.map((n, i) => n.registerGlobal(name, pids[i] as Pid)));
      expect(results.filter(Boolean), `round ${String(round)}: ${JSON.stringify(results)}`).toHaveLength(1);
      const winner = pids[results.indexOf(true)] as Pid;
      await until(() => nodes.every((n) => n.whereisGlobal(name)?.equals(winner) === true), `round ${String(round)}: every node knows the winner`);
    }
  });

  it('registrations that never met (a partition) are settled when the nodes meet: every node keeps the lowest pid; the loser is told', async () => {
    const a = await startNode({ name: 'g0', secret: SECRET });
    started.push(a);
    const b = await startNode({ name: 'g1', secret: SECRET });
    started.push(b);
    const told: GlobalNameConflict[] = [];
    const listener = (n: Node): Pid =>
      n.runtime.spawn(async (ctx) => {
        for (;;) told.push((await ctx.receive()) as GlobalNameConflict);
      });
    const onA = listener(a);
    const onB = listener(b);
    // Apart, both succeed: neither can know of the other.
    expect(await a.registerGlobal('singleton', onA)).toBe(true);
    expect(await b.registerGlobal('singleton', onB)).toBe(true);
    await b.join(a.addresses[0] as string);
    const winner = onA; // g0 < g1
    await until(() => [a, b].every((n) => n.whereisGlobal('singleton')?.equals(winner) === true), 'both agree on the winner');
    await until(() => told.length === 1, 'the loser was told');
    expect(told[0]).toMatchObject({ type: 'global_name_conflict', name: 'singleton' });
    expect(told[0]?.winner.equals(winner)).toBe(true);
    expect(b.runtime.isAlive(onB)).toBe(true);
  });

  it('names of a node that stops go everywhere; a node that joins later learns the names', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    await b.registerGlobal('on-b', idle(b));
    await a.registerGlobal('on-a', idle(a));
    await until(() => a.globalNames().length === 2 && b.globalNames().length === 2, 'both names known on both nodes');
    const late = await startNode({ name: 'g9', secret: SECRET, seeds: [a.addresses[0] as string] });
    started.push(late);
    await until(() => late.globalNames().join() === 'on-a,on-b', 'the late node learned both names');
    started.splice(started.indexOf(b), 1);
    await b.stop();
    await until(() => a.globalNames().join() === 'on-a' && late.globalNames().join() === 'on-a', "b's name is gone");
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
