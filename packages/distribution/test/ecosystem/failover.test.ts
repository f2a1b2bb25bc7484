// A coordinator with standbys: the majority lease picks one candidate to run the keeper and the
// coordinator; when its node goes, another candidate takes over, restores the coordinator from its
// checkpoint and adopts the running workers; cut off from the majority, a coordinator steps down.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour } from '@fdn/actors';
import { describe, expect, it } from 'vitest';
import { ecosystemInfo, spawnEcosystem, startNode } from '../../src/index.ts';
import type { Ecosystem, EcosystemInfo, Node } from '../../src/index.ts';
import { tally } from '../fixtures/behaviours.ts';
import { recordTelemetry, stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'failover-test-secret';
const started = stoppedAfterEach();

const idle: GenServerBehaviour<null> = { init: () => ({ type: 'ok', state: null }) };

/** The candidates share one checkpoint directory (each node's own configuration: another node cannot pick it). */
async function cluster(names: string[], checkpointDir = mkdtempSync(join(tmpdir(), 'fdn-failover-'))): Promise<Node[]> {
  const nodes: Node[] = [];
  for (const name of names) {
    const n = await startNode({ name, secret: SECRET, checkpointDir, seeds: nodes.length === 0 ? [] : [nodes[0]?.addresses[0] as string] });
    n.factory.register('tally', tally);
    n.factory.register('idle', idle);
    started.push(n);
    nodes.push(n);
  }
  await until(() => nodes.every((n) => n.nodes().length === names.length - 1), 'all connected');
  return nodes;
}

async function infoOf(node: Node, eco: Ecosystem): Promise<EcosystemInfo | null> {
  return ecosystemInfo(node, eco).catch(() => null);
}

const LEASE = { leaseMs: 900, renewMs: 100, marginMs: 350 };

describe('coordinator failover', () => {
  it("the leader's node goes: a standby takes over with the checkpointed state and adopts the running workers", async () => {
    const nodes = await cluster(['f0', 'f1', 'f2']);
    const [f0] = nodes as [Node];
    const eco = await spawnEcosystem(f0, { coordinator: { behaviour: 'tally', nodes: ['f0', 'f1', 'f2'], lease: LEASE }, workers: { behaviour: 'idle', count: 3 }, distribution: { placement: 'roundRobin' } });
    let info: EcosystemInfo | null = null;
    await until(async () => (info = await infoOf(f0, eco)) !== null && Object.values(info.workersPerNode).reduce((a, b) => a + b, 0) === 3, 'the ecosystem runs', 5_000);
    const first = (info as unknown as EcosystemInfo).coordinator;
    const firstEpoch = (info as unknown as EcosystemInfo).leaseEpoch as number;
    expect(firstEpoch).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) GenServer.cast(f0.runtime, first.pid, 'tick');
    await until(async () => (await GenServer.call<number>(f0.runtime, first.pid, 'get')) === 5, 'five ticks counted');
    await new Promise((r) => setTimeout(r, 100)); // the last checkpoint is saved
    const leaderNode = nodes.find((n) => n.name === first.node) as Node;
    const survivor = nodes.find((n) => n !== leaderNode) as Node;
    const failovers = nodes.filter((n) => n !== leaderNode).map((n) => recordTelemetry(n, 'fdn.ecosystem.failover'));
    started.splice(started.indexOf(leaderNode), 1);
    const t0 = Date.now();
    await leaderNode.stop();
    let next: EcosystemInfo | null = null;
    await until(async () => (next = await infoOf(survivor, eco)) !== null && next.coordinator.node !== first.node && Object.values(next.workersPerNode).reduce((a, b) => a + b, 0) === 3, 'a new coordinator with three workers', 8_000);
    const took = Date.now() - t0;
    const now = next as unknown as EcosystemInfo;
    expect(await GenServer.call<number>(survivor.runtime, now.coordinator.pid, 'get')).toBe(5);
    expect(now.workersPerNode[first.node]).toBeUndefined();
    // Workers elsewhere were adopted, not restarted: only the lost node's worker was placed again.
    expect(now.history.length).toBeLessThanOrEqual(1);
    expect(took).toBeLessThan(5_000);
    // The new leader's node reports the takeover, restored from the checkpoint.
    const reported = failovers.flat();
    expect(reported.map(([e, , md]) => [e, md.node, md.restored])).toEqual([['fdn.ecosystem.failover', now.coordinator.node, true]]);
    expect(reported[0]?.[1].epoch).toBeGreaterThan(0);
    // The lease epoch grew with the election: what fdn_ecosystem_lease_epoch shows, and its changes count failovers.
    expect(now.leaseEpoch).toBe(reported[0]?.[1].epoch);
    expect(now.leaseEpoch).toBeGreaterThan(firstEpoch);
  });

  it('a coordinator cut off with a minority steps down; the majority side runs the only one, from the checkpoint', async () => {
    const nodes = await cluster(['g0', 'g1', 'g2']);
    const [g0] = nodes as [Node];
    const eco = await spawnEcosystem(g0, { coordinator: { behaviour: 'tally', nodes: ['g0', 'g1', 'g2'], lease: LEASE }, workers: { behaviour: 'idle', count: 2 } });
    let info: EcosystemInfo | null = null;
    await until(async () => (info = await infoOf(g0, eco)) !== null, 'the ecosystem runs', 5_000);
    const first = (info as unknown as EcosystemInfo).coordinator;
    for (let i = 0; i < 3; i++) GenServer.cast(g0.runtime, first.pid, 'tick');
    await until(async () => (await GenServer.call<number>(g0.runtime, first.pid, 'get')) === 3, 'three ticks counted');
    await new Promise((r) => setTimeout(r, 100));
    const cutOff = nodes.find((n) => n.name === first.node) as Node;
    const others = nodes.filter((n) => n !== cutOff).map((n) => n.name);
    for (const n of nodes) n.blockNodes(n === cutOff ? others : [cutOff.name]);
    // The cut-off coordinator stops (its keeper's lease ran out)...
    await until(() => !cutOff.runtime.isAlive(first.pid), 'the minority coordinator stepped down', 3_000);
    // ...and the majority runs one, restored.
    const majority = nodes.find((n) => n !== cutOff) as Node;
    let next: EcosystemInfo | null = null;
    // 8 s, as for a lost node above: once (CI, 2026-12-08, the whole suite running) 5 s was not enough.
    await until(async () => (next = await infoOf(majority, eco)) !== null && next.coordinator.node !== cutOff.name, 'a coordinator on the majority side', 8_000);
    expect(await GenServer.call<number>(majority.runtime, (next as unknown as EcosystemInfo).coordinator.pid, 'get')).toBe(3);
    for (const n of nodes) n.unblockNodes();
  });
});
