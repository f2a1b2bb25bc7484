// Ecosystems: placement per policy and strategy, a crashing worker restarted on its own node, a
// lost node's workers respawned elsewhere, and the coordinator told of every change.

import { seededRandom } from '@fdn/core';
import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour, Pid } from '@fdn/actors';
import { describe, expect, it } from 'vitest';
import { backlogPolicy, compareVersions, ecosystemInfo, newestVersion, place, rebalance, reportMetrics, spawnEcosystem, startNode } from '../../src/index.ts';
import type { Node, NodeLoad, WorkersChanged } from '../../src/index.ts';
import { recordTelemetry, stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'ecosystem-test-secret';
const started = stoppedAfterEach();

/** A worker that crashes when told. */
const worker: GenServerBehaviour<null, undefined, never, never, 'crash'> = {
  init: () => ({ type: 'ok', state: null }),
  handleCast: () => {
    throw new Error('told to crash');
  },
};

/** A coordinator that keeps every change it is told of. */
function recorder(log: WorkersChanged[]): GenServerBehaviour<null> {
  return {
    init: () => ({ type: 'ok', state: null }),
    handleInfo: (m, s) => {
      log.push(m as WorkersChanged);
      return { type: 'noreply', state: s };
    },
  };
}

async function cluster(count: number): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const n = await startNode({ name: `e${String(i)}`, secret: SECRET, seeds: i === 0 ? [] : [nodes[0]?.addresses[0] as string], loadReportMs: 100 });
    n.factory.register('worker', worker);
    started.push(n);
    nodes.push(n);
  }
  await until(() => nodes.every((n) => n.nodes().length === count - 1), 'all connected');
  return nodes;
}

const load = (processes: number): NodeLoad => ({ processes, loopDelayMs: 0, mailboxes: 0, at: 0 });

describe('placement (pure)', () => {
  const input = { candidates: ['a', 'b', 'c'], placed: new Map<string, number>(), load: () => undefined, rttMs: () => undefined, random: seededRandom(1), turn: 0 };
  it('roundRobin cycles, random stays in the candidates, none without candidates', () => {
    expect([0, 1, 2, 3].map((turn) => place('roundRobin', { ...input, turn }))).toEqual(['a', 'b', 'c', 'a']);
    for (let i = 0; i < 20; i++) expect(['a', 'b', 'c']).toContain(place('random', input));
    expect(place('roundRobin', { ...input, candidates: [] })).toBeUndefined();
  });
  it('leastLoaded weighs reported load and what this ecosystem already placed; topologyAware prefers the closest', () => {
    const loads: Record<string, NodeLoad> = { a: load(500), b: load(50), c: load(100) };
    expect(place('leastLoaded', { ...input, load: (n) => loads[n] })).toBe('b');
    expect(place('leastLoaded', { ...input, load: (n) => loads[n], placed: new Map([['b', 5]]) })).toBe('c');
    const rtt: Record<string, number> = { a: 0.9, b: 0.2, c: 3 };
    expect(place('topologyAware', { ...input, rttMs: (n) => rtt[n] })).toBe('b');
  });
});

describe('placement during a rolling upgrade', () => {
  it('compares versions number by number, a pre-release before its release', () => {
    expect(compareVersions('1.10.0', '1.9.2')).toBe(1);
    expect(compareVersions('2.0.0-rc.1', '2.0.0')).toBe(-1);
    expect(compareVersions('2.0.0-rc.10', '2.0.0-rc.9')).toBe(1);
    expect(compareVersions('1.2', '1.2.0')).toBe(0);
  });
  it('keeps the candidates of the newest version (nodes that say none count as older); all when none says', () => {
    const versions: Record<string, string | undefined> = { a: '1.4.0', b: '1.5.0', c: undefined, d: '1.5.0' };
    expect(newestVersion(['a', 'b', 'c', 'd'], (n) => versions[n])).toEqual(['b', 'd']);
    expect(newestVersion(['c'], (n) => versions[n])).toEqual(['c']);
  });
  it('new workers go to the nodes of the newest version the handshake told', async () => {
    const nodes: Node[] = [];
    for (const [i, version] of ['1.0.0', '1.0.0', '1.1.0'].entries()) {
      const n = await startNode({ name: `v${String(i)}`, secret: SECRET, seeds: i === 0 ? [] : [nodes[0]?.addresses[0] as string], appVersion: version });
      n.factory.register('worker', worker);
      started.push(n);
      nodes.push(n);
    }
    await until(() => nodes.every((n) => n.nodes().length === 2), 'all connected');
    const [a] = nodes as [Node];
    expect(a.appVersion).toBe('1.0.0');
    expect(a.appVersionOf('v2')).toBe('1.1.0');
    const eco = await spawnEcosystem(a, { coordinator: recorder([]), workers: { behaviour: 'worker', count: 4 } });
    expect((await ecosystemInfo(a, eco)).workersPerNode).toEqual({ v2: 4 });
  });
});

describe('ecosystems', () => {
  it('localOnly works on a node with no network at all', async () => {
    const solo = await startNode({ name: 'solo', secret: SECRET, listen: false });
    solo.factory.register('worker', worker);
    started.push(solo);
    const log: WorkersChanged[] = [];
    const eco = await spawnEcosystem(solo, { coordinator: recorder(log), workers: { behaviour: 'worker', count: 3 }, distribution: { policy: 'localOnly' } });
    await until(() => log.length === 3, 'three workers started');
    const info = await ecosystemInfo(solo, eco);
    expect(info.workersPerNode).toEqual({ solo: 3 });
    expect(info.coordinator.node).toBe('solo');
  });

  it('explicitNodes + roundRobin spreads the workers; a crashing worker restarts on its own node; the coordinator hears of both', async () => {
    const [a] = (await cluster(3)) as [Node, Node, Node];
    const log: WorkersChanged[] = [];
    const telemetry = recordTelemetry(a, 'fdn.ecosystem.');
    const eco = await spawnEcosystem(a, { name: 'rr', coordinator: recorder(log), workers: { behaviour: 'worker', count: 4 }, distribution: { policy: 'explicitNodes', nodes: ['e1', 'e2'], placement: 'roundRobin' } });
    await until(() => log.length === 4, 'four workers started');
    let info = await ecosystemInfo(a, eco);
    expect(info.workersPerNode).toEqual({ e1: 2, e2: 2 });
    const victim = info.slots[0] as { slot: number; node: string; worker: Pid };
    GenServer.cast(a.runtime, victim.worker, 'crash');
    await until(() => log.some((c) => c.change.kind === 'restarted'), 'the restart was reported');
    info = await ecosystemInfo(a, eco);
    expect(info.restarts).toBe(1);
    expect(info.slots[0]?.node).toBe(victim.node);
    expect(info.slots[0]?.worker?.equals(victim.worker)).toBe(false);
    expect(info.respawns).toBe(0);
    expect(telemetry.filter(([e]) => e === 'fdn.ecosystem.placement').map(([, m, md]) => [m.slot, md.node, md.ecosystem])).toEqual([
      [0, 'e1', 'rr'],
      [1, 'e2', 'rr'],
      [2, 'e1', 'rr'],
      [3, 'e2', 'rr'],
    ]);
    expect(telemetry.filter(([e]) => e === 'fdn.ecosystem.restart').map(([, m, md]) => [m.slot, md.node])).toEqual([[victim.slot, victim.node]]);
  });

  it("a lost node's workers are respawned on the remaining nodes (clusterWide, leastLoaded)", async () => {
    const [a, b, c] = (await cluster(3)) as [Node, Node, Node];
    await until(() => a.loadOf('e1') !== undefined && a.loadOf('e2') !== undefined, 'load reports arrived');
    const log: WorkersChanged[] = [];
    const telemetry = recordTelemetry(a, 'fdn.ecosystem.respawn');
    const eco = await spawnEcosystem(a, { coordinator: recorder(log), workers: { behaviour: 'worker', count: 6 }, distribution: { policy: 'clusterWide', excludeSelf: true, placement: 'leastLoaded' } });
    await until(() => log.length === 6, 'six workers started');
    const before = await ecosystemInfo(a, eco);
    expect(before.workersPerNode).toEqual({ e1: 3, e2: 3 });
    const t0 = Date.now();
    // Lost, not stopped in order (that hands the slots off: see below): its connections just go.
    await c.transport.stop();
    await until(() => log.filter((x) => x.change.kind === 'respawned').length === 3, 'three respawned', 5_000);
    const respawnMs = Date.now() - t0;
    const after = await ecosystemInfo(a, eco);
    expect(after.workersPerNode).toEqual({ e1: 6 });
    expect(after.respawns).toBe(3);
    const respawned = after.history.filter((h) => h.kind === 'respawned');
    expect(respawned.map((h) => `${h.node}: ${String(h.reason)}`)).toEqual(['e1: node e2 lost', 'e1: node e2 lost', 'e1: node e2 lost']);
    expect(log.filter((x) => x.change.kind === 'lost').map((x) => x.change.node)).toEqual(['e2', 'e2', 'e2']);
    expect(respawnMs).toBeLessThan(3_000);
    expect(telemetry.map(([e, , md]) => [e, md.node, md.reason])).toEqual(Array.from({ length: 3 }, () => ['fdn.ecosystem.respawn', 'e1', 'node e2 lost']));
    expect(b.name).toBe('e1');
  });
});

describe('adaptive scaling', () => {
  it('scales up and down with the reported backlog, within bounds, one step per cooldown; the coordinator is told', async () => {
    const [a] = (await cluster(3)) as [Node, Node, Node];
    const log: WorkersChanged[] = [];
    const telemetry = recordTelemetry(a, 'fdn.ecosystem.scale');
    let keeper: Pid | null = null;
    const coordinator: GenServerBehaviour<null, undefined, { backlog: number }, null> = {
      init: () => ({ type: 'ok', state: null }),
      handleCall: (req, _from, s, ctx) => {
        if (keeper !== null) reportMetrics(ctx, keeper, { backlog: req.backlog });
        return { type: 'reply', reply: null, state: s };
      },
      handleInfo: (m, s) => {
        const change = m as WorkersChanged;
        keeper = change.keeper;
        log.push(change);
        return { type: 'noreply', state: s };
      },
    };
    const eco = await spawnEcosystem(a, {
      coordinator,
      workers: { behaviour: 'worker', count: 2 },
      distribution: { policy: 'explicitNodes', nodes: ['e1', 'e2'] },
      scaling: { min: 1, max: 5, cooldownMs: 300, intervalMs: 50, policy: backlogPolicy({ perWorker: 10 }) },
    });
    await until(() => log.length === 2, 'two workers');
    await GenServer.call(a.runtime, eco.coordinator as Pid, { backlog: 100 }); // wants 10: clamped to 5
    await until(async () => (await ecosystemInfo(a, eco)).scaling.length === 1, 'scaled up');
    await until(async () => Object.values((await ecosystemInfo(a, eco)).workersPerNode).reduce((x, y) => x + y, 0) === 5, 'five workers');
    await GenServer.call(a.runtime, eco.coordinator as Pid, { backlog: 0 }); // wants 0: clamped to 1
    await until(async () => (await ecosystemInfo(a, eco)).scaling.length === 2, 'scaled down');
    await until(async () => Object.values((await ecosystemInfo(a, eco)).workersPerNode).reduce((x, y) => x + y, 0) === 1, 'one worker');
    const info = await ecosystemInfo(a, eco);
    expect(info.scaling.map((x) => [x.from, x.to])).toEqual([
      [2, 5],
      [5, 1],
    ]);
    expect((info.scaling[1]?.at ?? 0) - (info.scaling[0]?.at ?? 0)).toBeGreaterThanOrEqual(300);
    expect(log.filter((c) => c.change.kind === 'retired')).toHaveLength(4);
    expect(telemetry.map(([e, m]) => [e, m.from, m.to])).toEqual([
      ['fdn.ecosystem.scale', 2, 5],
      ['fdn.ecosystem.scale', 5, 1],
    ]);
    expect(info.respawns).toBe(0);
  });
});

describe('rebalance', () => {
  it('a node that joins takes its share on rebalance; the coordinator hears of every move', async () => {
    const [a] = (await cluster(2)) as [Node, Node];
    const log: WorkersChanged[] = [];
    const eco = await spawnEcosystem(a, { coordinator: recorder(log), workers: { behaviour: 'worker', count: 4 }, distribution: { policy: 'clusterWide', excludeSelf: true } });
    await until(() => log.length === 4, 'four workers');
    expect((await ecosystemInfo(a, eco)).workersPerNode).toEqual({ e1: 4 });
    const late = await startNode({ name: 'e9', secret: SECRET, seeds: [a.addresses[0] as string] });
    late.factory.register('worker', worker);
    started.push(late);
    await until(() => a.nodes().includes('e9'), 'e9 joined');
    expect(await rebalance(a, eco)).toBe(2);
    await until(async () => JSON.stringify((await ecosystemInfo(a, eco)).workersPerNode) === JSON.stringify({ e1: 2, e9: 2 }), 'two and two');
    expect(log.filter((c) => c.change.kind === 'retired')).toHaveLength(2);
    expect((await ecosystemInfo(a, eco)).respawns).toBe(0);
  });
});

describe('restart strategies across nodes', () => {
  for (const [strategy, crash, expected] of [
    ['oneForAll', 1, [1, 1, 1]],
    ['restForOne', 1, [0, 1, 1]],
    ['oneForOne', 1, [0, 1, 0]],
  ] as const) {
    it(`${strategy}: a crash of slot ${String(crash)} restarts slots ${JSON.stringify(expected)}`, async () => {
      const [a] = (await cluster(3)) as [Node, Node, Node];
      const log: WorkersChanged[] = [];
      const eco = await spawnEcosystem(a, { coordinator: recorder(log), strategy, channels: { data: 'default' }, workers: { behaviour: 'worker', count: 3 }, distribution: { policy: 'explicitNodes', nodes: ['e1', 'e2'] } });
      await until(() => log.length === 3, 'three workers');
      expect(log[0]?.channels).toEqual({ control: 'default', data: 'default' });
      const before = await ecosystemInfo(a, eco);
      GenServer.cast(a.runtime, before.slots[crash]?.worker as Pid, 'crash');
      const total = expected.reduce<number>((x, y) => x + y, 0);
      await until(async () => (await ecosystemInfo(a, eco)).restarts === total, `${String(total)} restarts`);
      await new Promise((r) => setTimeout(r, 200));
      const after = await ecosystemInfo(a, eco);
      expect(after.slots.map((x) => x.restarts)).toEqual([...expected]);
      for (const [i, x] of after.slots.entries()) expect(x.worker?.equals(before.slots[i]?.worker) === true).toBe(expected[i] === 0);
    });
  }
});

describe('a node that stops in order hands its slots off first', () => {
  it('node.leave() hands them off too, and the node keeps running outside the cluster', async () => {
    const [a, , c] = (await cluster(3)) as [Node, Node, Node];
    const log: WorkersChanged[] = [];
    const eco = await spawnEcosystem(a, { coordinator: recorder(log), workers: { behaviour: 'worker', count: 3 }, distribution: { placement: 'roundRobin' } });
    await until(() => log.at(-1)?.workers.length === 3, 'three workers');
    await c.leave();
    const info = await ecosystemInfo(a, eco);
    expect(info.workersPerNode.e2).toBeUndefined();
    expect((info.workersPerNode.e0 ?? 0) + (info.workersPerNode.e1 ?? 0)).toBe(3);
    expect(info.respawns).toBe(0);
    expect(info.history.filter((h) => h.reason === 'drained from e2')).toHaveLength(1);
    await until(() => c.nodes().length === 0 && !a.nodes().includes('e2'), 'e2 out of the cluster');
    expect(c.runtime.processes().length).toBeGreaterThan(0);
  });

  it('its slots start elsewhere before they stop there: no respawn, the worker count never dips, the coordinator hears retired then started', async () => {
    const [a, , c] = (await cluster(3)) as [Node, Node, Node];
    const log: WorkersChanged[] = [];
    const eco = await spawnEcosystem(a, { coordinator: recorder(log), workers: { behaviour: 'worker', count: 6 }, distribution: { placement: 'roundRobin' } });
    await until(() => log.at(-1)?.workers.length === 6, 'six workers');
    expect((await ecosystemInfo(a, eco)).workersPerNode).toEqual({ e0: 2, e1: 2, e2: 2 });
    const fewest = (): number => Math.min(...log.slice(log.findIndex((l) => l.workers.length === 6)).map((l) => l.workers.length));
    await c.stop();
    const info = await ecosystemInfo(a, eco);
    expect(info.workersPerNode).toEqual({ e0: 3, e1: 3 });
    expect(info.respawns).toBe(0);
    expect(info.history.filter((h) => h.reason === 'drained from e2')).toHaveLength(2);
    // Each hand-off: the old worker retired, then the new one started; never fewer than 5 at once.
    expect(log.filter((l) => l.change.kind === 'retired' && l.change.node === 'e2')).toHaveLength(2);
    expect(fewest()).toBeGreaterThanOrEqual(5);
  });
});
