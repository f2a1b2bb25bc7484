// Nodes in separate OS processes on 127.0.0.1, one SIGKILLed: everything that pointed at it
// learns at once, with `noconnection`, and a call in flight fails promptly, not at its timeout.

import { GenServer, isDownMessage, isExitMessage } from '@fdn/actors';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecosystemInfo, spawnEcosystem, startNode } from '../../src/index.ts';
import type { EcosystemInfo, Node, NodeEvent } from '../../src/index.ts';
import { killAll, spawnChildNode } from '../process-node.ts';
import { until } from '../helpers.ts';

const SECRET = 'node-loss-test-secret';
let local: Node | null = null;

afterEach(async () => {
  await killAll();
  await local?.stop();
  local = null;
});


describe('losing a node (SIGKILL)', () => {
  it('monitors get DOWN noconnection, links EXIT noconnection, a call in flight fails with NOCONNECTION, and nodedown fires', async () => {
    const a = await startNode({ name: 'a', secret: SECRET });
    local = a;
    const b = await spawnChildNode({ name: 'b', secret: SECRET, seeds: [a.addresses[0] as string] });
    await until(() => a.nodes().includes('b'), 'b connected');
    expect(await b.call<string[]>('nodes')).toEqual(['a']);
    const events: NodeEvent[] = [];
    a.onNodeEvent((e) => events.push(e));

    // A process monitoring one of b's processes, one linked to another (trapping exits), and
    // a call to a server on b that will never answer.
    const watched = a.runtime.run(async (ctx) => {
      const { pid } = await a.spawn(ctx, 'b', 'idle', [], { monitor: true });
      expect(pid.node).toBe('b');
      return ctx.receive(isDownMessage, 15_000);
    });
    const linked = a.runtime.run(async (ctx) => {
      ctx.trapExit(true);
      await a.spawn(ctx, 'b', 'idle', [], { link: true });
      return ctx.receive(isExitMessage, 15_000);
    });
    const { pid: server } = await a.spawn(null, 'b', 'counter', [1]);
    expect(await GenServer.call(a.runtime, server, { add: 1 })).toBe(2);
    const callStarted = Date.now();
    const hanging = GenServer.call(a.runtime, server, 'hang', 20_000).then(
      () => ({ ok: true, ms: Date.now() - callStarted, code: '' }),
      (err: unknown) => ({ ok: false, ms: Date.now() - callStarted, code: (err as { code?: string }).code ?? '' }),
    );
    await new Promise((r) => setTimeout(r, 100));

    await b.kill();
    const call = await hanging;
    expect(call.ok).toBe(false);
    expect(call.code).toBe('FDN_ERR_NOCONNECTION');
    // Promptly: the socket closing is the signal, far below the call's 20 s timeout.
    expect(call.ms).toBeLessThan(5_000);
    expect((await watched as { reason: unknown }).reason).toBe('noconnection');
    expect((await linked as { reason: unknown }).reason).toBe('noconnection');
    await until(() => events.some((e) => e.type === 'nodedown' && e.node === 'b'), 'nodedown for b');
    expect(a.nodes()).toEqual([]);
    // A pid of the dead node is noproc-free silence for send and an immediate noconnection for monitor.
    const again = await a.runtime.run(async (ctx) => {
      ctx.monitor(server);
      return ctx.receive(isDownMessage, 5_000);
    });
    expect((again as { reason: unknown }).reason).toBe('noconnection');
  });

  it('a frozen node (SIGSTOP: sockets open, nothing answers) is suspected by the φ accrual detector and reported down', async () => {
    const a = await startNode({ name: 'a', secret: SECRET });
    local = a;
    const b = await spawnChildNode({ name: 'b', secret: SECRET, seeds: [a.addresses[0] as string] });
    await until(() => a.nodes().includes('b'), 'b connected');
    // A few heartbeats first, so the detector knows b's rhythm.
    await new Promise((r) => setTimeout(r, 2_500));
    const downs: number[] = [];
    a.onNodeEvent((e) => {
      if (e.type === 'nodedown') downs.push(Date.now());
    });
    const frozenAt = Date.now();
    b.child.kill('SIGSTOP');
    try {
      await until(() => downs.length > 0, 'b reported down', 12_000);
    } finally {
      b.child.kill('SIGCONT');
    }
    // Heartbeat 1 s + acceptable pause 3 s + ~5 deviations, checked once a second.
    const ms = (downs[0] as number) - frozenAt;
    expect(ms).toBeGreaterThan(3_000);
    expect(ms).toBeLessThan(9_000);
  });

  it('a restarted node (new incarnation) does not answer for the old one’s pids: monitor is DOWN noproc', async () => {
    const a = await startNode({ name: 'a', secret: SECRET });
    local = a;
    const b1 = await spawnChildNode({ name: 'b', secret: SECRET, seeds: [a.addresses[0] as string] });
    await until(() => a.nodes().includes('b'), 'b connected');
    const { pid: old } = await a.spawn(null, 'b', 'counter', [1]);
    await b1.kill();
    await until(() => !a.nodes().includes('b'), 'b gone');
    await spawnChildNode({ name: 'b', secret: SECRET, seeds: [a.addresses[0] as string] });
    await until(() => a.nodes().includes('b'), 'the new b connected', 15_000);
    const down = await a.runtime.run(async (ctx) => {
      ctx.monitor(old);
      return ctx.receive(isDownMessage, 5_000);
    });
    expect((down as { reason: unknown }).reason).toBe('noproc');
    await expect(GenServer.call(a.runtime, old, 'get', 2_000)).rejects.toMatchObject({ code: 'FDN_ERR_NOPROC' });
  });
});

describe('ecosystem coordinator on OS processes', () => {
  it("SIGKILL of the coordinator's node: one new coordinator on another candidate, with the checkpointed state; workers respawned", async () => {
    const a = await startNode({ name: 'a', secret: SECRET });
    local = a;
    const seeds = [a.addresses[0] as string];
    const checkpointDir = mkdtempSync(join(tmpdir(), 'fdn-failover-os-'));
    const children = await Promise.all(['b', 'c', 'd'].map((name) => spawnChildNode({ name, secret: SECRET, seeds, checkpointDir })));
    await until(() => a.nodes().length === 3, 'a sees three nodes');
    await until(async () => (await (children[2] as (typeof children)[number]).call<string[]>('nodes')).length === 3, 'd sees three nodes');
    const eco = await spawnEcosystem(a, {
      coordinator: { behaviour: 'tally', nodes: ['b', 'c', 'd'], lease: { leaseMs: 1_000, renewMs: 150, marginMs: 200 } },
      workers: { behaviour: 'idle', count: 3 },
      distribution: { policy: 'explicitNodes', nodes: ['b', 'c', 'd'] },
    });
    let info: EcosystemInfo | null = null;
    const workers = (i: EcosystemInfo | null): number => (i === null ? 0 : Object.values(i.workersPerNode).reduce((x, y) => x + y, 0));
    await until(async () => workers((info = await ecosystemInfo(a, eco).catch(() => null))) === 3, 'the ecosystem runs', 10_000);
    const first = (info as unknown as EcosystemInfo).coordinator;
    for (let i = 0; i < 4; i++) GenServer.cast(a.runtime, first.pid, 'tick');
    await until(async () => (await GenServer.call<number>(a.runtime, first.pid, 'get')) === 4, 'four ticks counted');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await children.find((c) => c.name === first.node)?.kill();
    let next: EcosystemInfo | null = null;
    await until(async () => {
      next = await ecosystemInfo(a, eco).catch(() => null);
      return next !== null && next.coordinator.node !== first.node && workers(next) === 3;
    }, 'a new coordinator and three workers', 10_000);
    const now = next as unknown as EcosystemInfo;
    expect(Date.now() - t0).toBeLessThan(6_000);
    expect(await GenServer.call<number>(a.runtime, now.coordinator.pid, 'get')).toBe(4);
    expect(now.workersPerNode[first.node]).toBeUndefined();
    // Exactly one coordinator answers: the other surviving candidate has no keeper.
    const others = ['b', 'c', 'd'].filter((n) => n !== first.node && n !== now.coordinator.node);
    for (const n of others) await expect(GenServer.call(a.runtime, { name: `fdn.eco.${eco.name}.keeper`, node: n }, 'info', 1_000)).rejects.toMatchObject({ code: 'FDN_ERR_NOPROC' });
  }, 30_000);
});
