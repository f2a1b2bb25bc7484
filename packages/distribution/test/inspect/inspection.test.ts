// Inspection from a hidden node, on real nodes (WebSockets on 127.0.0.1, in this process): the
// hidden node is never a member of the cluster (full mesh or HyParView), and every node's
// inspector answers processes, details, supervision trees, kills, channels, the topology, a
// switch and ecosystems, for itself or relayed to another node; bad requests get clear errors.

import { GenServer, Supervisor } from '@fdn/actors';
import type { GenServerBehaviour, Pid } from '@fdn/actors';
import { memoryLogger } from '@fdn/core';
import { describe, expect, it } from 'vitest';
import { inspect, INSPECTOR, spawnEcosystem, startNode } from '../../src/index.ts';
import type { EcosystemInfo, Node, NodeOptions, NodeSummary, ProcessRow, TreeNode } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'inspection-test-secret';
const started = stoppedAfterEach();

async function node(name: string, options: Partial<NodeOptions> = {}): Promise<Node> {
  const n = await startNode({ name, secret: SECRET, logger: memoryLogger(), ...options });
  started.push(n);
  return n;
}

async function cluster(overlay: NodeOptions['overlay'] = 'fullMesh'): Promise<[Node, Node, Node]> {
  const a = await node('a', { overlay });
  const b = await node('b', { overlay, seeds: [a.addresses[0] as string] });
  const c = await node('c', { overlay, seeds: [a.addresses[0] as string] });
  await until(() => [a, b, c].every((n) => n.nodes().length === 2), 'the three nodes see each other');
  return [a, b, c];
}

async function attach(to: Node): Promise<Node> {
  const h = await node('h', { overlay: 'hidden', listen: false, seeds: [to.addresses[0] as string], loadReportMs: 0 });
  await h.joined();
  return h;
}

const counter: GenServerBehaviour<number, undefined, 'get', number> = {
  init: () => ({ type: 'ok', state: 7 }),
  handleCall: (_req, _from, n) => ({ type: 'reply', reply: n, state: n }),
};

describe('a hidden node', () => {
  for (const overlay of ['fullMesh', 'hyparview'] as const) {
    it(`attaches to one ${overlay} node and is no member anywhere`, async () => {
      const [a, b, c] = await cluster(overlay);
      const h = await attach(a);
      expect(h.nodes()).toEqual(['a']);
      // Long enough for the full mesh's gossip and HyParView's shuffles to have spread a member.
      await new Promise((r) => setTimeout(r, 1_500));
      for (const n of [a, b, c]) {
        expect(n.nodes()).not.toContain('h');
        expect(n.overlay.members()).not.toContain('h');
      }
      expect(a.transport.connection('h')).toBeDefined();
      expect(await inspect<NodeSummary>(h, 'a', 'node', {}, { target: 'b' })).toMatchObject({ name: 'b', nodes: ['a', 'c'] });
    });
  }
});

describe('the inspector', () => {
  it('lists processes sorted and cut, describes one with its state, and says who answers', async () => {
    const [a, b] = await cluster();
    const h = await attach(a);
    const busy = b.runtime.spawn((ctx) => ctx.receive((m) => m === 'never'), { name: 'busy' });
    for (let i = 0; i < 25; i++) b.runtime.send(busy, i);
    const server = await GenServer.start(b.runtime, counter, undefined, { name: 'counter' });
    const ps = await inspect<{ total: number; processes: ProcessRow[] }>(h, 'a', 'ps', { sort: 'mailbox', top: 3 }, { target: 'b' });
    // The process answering on b is one of them (and gone by now).
    expect(ps.total).toBe(b.runtime.processCount + 1);
    expect(ps.processes).toHaveLength(3);
    expect(ps.processes[0]).toMatchObject({ name: 'busy', mailbox: 25, status: 'waiting' });
    expect(String(ps.processes[0]?.pid)).toBe(String(busy));
    const byReductions = await inspect<{ processes: ProcessRow[] }>(h, 'a', 'ps', { sort: 'reductions', top: 100 }, { target: 'b' });
    const reductions = byReductions.processes.map((p) => p.reductions);
    expect(reductions).toEqual([...reductions].sort((x, y) => y - x));
    const detail = await inspect<{ registeredName: string; behaviour: string; state: string }>(h, 'a', 'info', { pid: String(server) }, { target: 'b' });
    expect(detail).toMatchObject({ registeredName: 'counter', behaviour: 'GenServer', state: '7' });
    const self = await inspect<NodeSummary>(h, 'a', 'node');
    expect(self).toMatchObject({ name: 'a', nodes: ['b', 'c'], topology: 'fullMesh' });
    expect(self.processes).toBe(a.runtime.processCount + 1); // with the one answering
  });

  it('draws supervision trees; a kill from outside shows the restart under the same id', async () => {
    const [a, , c] = await cluster();
    const h = await attach(a);
    const sup = await Supervisor.start(c.runtime, { strategy: 'oneForOne', children: [
      { id: 'one', start: (ctx) => GenServer.startLink(ctx, counter, undefined) },
      { id: 'inner', type: 'supervisor', start: (ctx) => Supervisor.startLink(ctx, { strategy: 'oneForOne', children: [{ id: 'two', start: (cx) => GenServer.startLink(cx, counter, undefined) }] }) },
    ] }, { name: 'top' });
    const trees = await inspect<TreeNode[]>(h, 'a', 'tree', {}, { target: 'c' });
    const top = trees.find((t) => t.name === 'top');
    expect(String(top?.pid)).toBe(String(sup));
    expect(top?.children.map((k) => [k.id, k.type])).toEqual([['one', 'worker'], ['inner', 'supervisor']]);
    expect(top?.children[1]?.children.map((k) => k.id)).toEqual(['two']);
    const before = top?.children[0]?.pid as Pid;
    expect(await inspect(h, 'a', 'kill', { pid: String(before) }, { target: 'c' })).toMatchObject({ reason: 'kill' });
    await until(async () => {
      const again = (await inspect<TreeNode[]>(h, 'a', 'tree', {}, { target: 'c' })).find((t) => t.name === 'top');
      const now = again?.children[0]?.pid;
      return now !== undefined && String(now) !== String(before);
    }, 'the killed child runs again under a new pid');
  });

  it('answers channels, the topology, a switch asked from outside, and ecosystems', async () => {
    const [a, b, c] = await cluster();
    const h = await attach(a);
    a.send({ name: 'nobody', node: 'b' }, 'x');
    const channels = await inspect<{ channels: Record<string, { messagesOut: number }>; peers: { peer: string; channels: Record<string, unknown> }[] }>(h, 'a', 'channels');
    expect(Object.keys(channels.channels)).toEqual(expect.arrayContaining(['control', 'default', 'bulk']));
    expect(channels.peers.map((p) => p.peer).sort()).toEqual(['b', 'c', 'h']);
    const topology = await inspect<{ topology: string; epoch: number; members: string[] }>(h, 'a', 'topology', {}, { target: 'c' });
    expect(topology).toMatchObject({ topology: 'fullMesh', epoch: 0, members: ['a', 'b', 'c'] });
    const result = await inspect<{ ok: boolean }>(h, 'a', 'switch', { to: 'hyparview' });
    expect(result.ok).toBe(true);
    await until(() => [a, b, c].every((n) => n.topology === 'hyparview'), 'every node runs HyParView');
    // The hidden node heard the new epoch and stayed out of it.
    await new Promise((r) => setTimeout(r, 500));
    expect(h.topology as string).toBe('hidden');
    for (const n of [a, b, c]) expect(n.nodes()).not.toContain('h');
    for (const n of [b, c]) n.factory.register('worker', counter);
    a.factory.register('worker', counter);
    const recorder: GenServerBehaviour<null> = { init: () => ({ type: 'ok', state: null }), handleInfo: (_m, s) => ({ type: 'noreply', state: s }) };
    await spawnEcosystem(a, { name: 'shop', coordinator: recorder, workers: { behaviour: 'worker', count: 3 } });
    await until(async () => {
      const ecos = await inspect<{ keepers: EcosystemInfo[] }>(h, 'a', 'ecosystems');
      return ecos.keepers.length === 1 && Object.values(ecos.keepers[0]?.workersPerNode ?? {}).reduce((x, y) => x + y, 0) === 3;
    }, 'the keeper on a reports three workers');
    const ecos = await inspect<{ keepers: EcosystemInfo[] }>(h, 'a', 'ecosystems');
    expect(ecos.keepers[0]?.name).toBe('shop');
    expect(Object.keys(ecos.keepers[0]?.workersPerNode ?? {})).not.toContain('h');
  });

  it('refuses bad requests with a code and what to do, and stays up', async () => {
    const [a] = await cluster();
    const h = await attach(a);
    await expect(inspect(h, 'a', 'frobnicate')).rejects.toMatchObject({ code: 'FDN_ERR_BAD_ARGUMENT', message: expect.stringMatching(/unknown inspection op 'frobnicate': a answers .*ecosystems.*ps/) as unknown });
    await expect(inspect(h, 'a', 'ps', { sort: 'age' })).rejects.toThrow(/sort by one of mailbox, memory, reductions/);
    await expect(inspect(h, 'a', 'info', { pid: 'nope' })).rejects.toThrow(/expected a pid such as <a\.42\.1>/);
    await expect(inspect(h, 'a', 'info', { pid: '<a.99999.1>' })).rejects.toThrow(/is not alive/);
    await expect(inspect(h, 'a', 'node', {}, { target: 'zed' })).rejects.toMatchObject({ code: 'FDN_ERR_NOCONNECTION', message: expect.stringContaining('fdn nodes') as unknown });
    await expect(GenServer.call(h.runtime, { name: INSPECTOR, node: 'a' }, 'garbage')).resolves.toMatchObject({ ok: false, code: 'FDN_ERR_BAD_ARGUMENT' });
    expect(a.runtime.whereis(INSPECTOR)).toBeDefined();
    expect((await inspect<NodeSummary>(h, 'a', 'node')).name).toBe('a');
  });
});
