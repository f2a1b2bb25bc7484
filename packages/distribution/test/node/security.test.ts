// What an authenticated peer can and cannot make a node do: the node's own behaviours are not in
// the user's factory, what they are sent is data checked field by field (no path chosen by a
// peer), and spawns are bounded (processes, per behaviour, per peer per second).

import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenServerBehaviour, Pid } from '@fdn/actors';
import { describe, expect, it } from 'vitest';
import { DistributionErrorCode, startNode } from '../../src/index.ts';
import type { Node, NodeOptions } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'security-test-secret';
const started = stoppedAfterEach();
const idle: GenServerBehaviour<null> = { init: () => ({ type: 'ok', state: null }) };

async function pair(options: Partial<NodeOptions> = {}): Promise<[Node, Node]> {
  const a = await startNode({ name: 'attacker', secret: SECRET });
  started.push(a);
  const b = await startNode({ name: 'target', secret: SECRET, seeds: [a.addresses[0] as string], ...options });
  started.push(b);
  await until(() => a.nodes().includes('target') && b.nodes().includes('attacker'), 'connected');
  return [a, b];
}

describe('a peer cannot reach the node’s own behaviours or choose a path', () => {
  it('the ecosystem behaviours are not in the user’s factory: spawning them by name is FDN_ERR_UNKNOWN_BEHAVIOUR and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdn-security-'));
    const [a, b] = await pair();
    expect(b.factory.names()).toEqual([]);
    for (const name of ['fdn.ecosystem.candidate', 'fdn.ecosystem.slot']) {
      const err = await a.spawn(null, 'target', name, [{ name: 'x', storeDir: join(dir, 'chosen-by-the-peer') }]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: DistributionErrorCode.UNKNOWN_BEHAVIOUR });
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a system spawn with a hostile spec is refused field by field; a storeDir in it is never used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdn-security-'));
    const checkpointDir = mkdtempSync(join(tmpdir(), 'fdn-security-own-'));
    const [a] = await pair({ checkpointDir });
    const hostile = [
      { name: '../../etc', coordinator: { behaviour: 'x', nodes: ['target'], lease: {} } },
      { name: 'ok', coordinator: { behaviour: 'x', nodes: ['target'], lease: { leaseMs: 'soon' } } },
      { name: 'ok', coordinator: { behaviour: 'x', nodes: ['target'], lease: {}, storeDir: join(dir, 'x') }, workers: { behaviour: 'w', count: 10_000_000, args: [] } },
      'not even an object',
    ];
    for (const spec of hostile) {
      const err = await a.spawnSystem(null, 'target', 'fdn.ecosystem.candidate', [spec]).catch((e: unknown) => e);
      expect(err, JSON.stringify(spec)).toMatchObject({ code: DistributionErrorCode.SPAWN_FAILED });
    }
    const slot = await a.spawnSystem(null, 'target', 'fdn.ecosystem.slot', [{ ecosystem: 'e/../../x', behaviour: 'w', args: [], slot: 0, keeper: null, candidates: [], intensity: 1, periodMs: 1 }]).catch((e: unknown) => e);
    expect(slot).toMatchObject({ code: DistributionErrorCode.SPAWN_FAILED });
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('spawn limits', () => {
  it('a behaviour registered with maxProcesses: the next spawn is FDN_ERR_SPAWN_REFUSED naming the limit; room comes back when one exits', async () => {
    const [a, b] = await pair();
    b.factory.register('capped', idle, { maxProcesses: 3 });
    const pids: Pid[] = [];
    for (let i = 0; i < 3; i++) pids.push((await a.spawn(null, 'target', 'capped', [null])).pid);
    const err = (await a.spawn(null, 'target', 'capped', [null]).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe(DistributionErrorCode.SPAWN_REFUSED);
    expect(err.message).toContain("runs 3 'capped' processes, the limit for that behaviour");
    b.runtime.exit(pids[0] as Pid, 'kill');
    await until(() => !b.runtime.isAlive(pids[0] as Pid), 'one exited');
    await a.spawn(null, 'target', 'capped', [null]);
  });

  it('a peer spawning faster than perPeerPerSecond is refused past its burst; the node’s process cap holds too', async () => {
    const [a, b] = await pair({ spawnLimits: { perPeerPerSecond: 5, maxProcesses: 10_000 } });
    b.factory.register('idle', idle);
    const results = await Promise.all(Array.from({ length: 25 }, () => a.spawn(null, 'target', 'idle', [null]).then(() => 'ok', (e: unknown) => (e as { code: string }).code)));
    const refused = results.filter((r) => r === DistributionErrorCode.SPAWN_REFUSED).length;
    // A burst of twice the rate (10), give or take the tokens refilled meanwhile.
    expect(results.filter((r) => r === 'ok').length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => r === 'ok').length).toBeLessThanOrEqual(12);
    expect(refused).toBeGreaterThanOrEqual(13);
    const capped = await startNode({ name: 'small', secret: SECRET, seeds: [a.addresses[0] as string], spawnLimits: { maxProcesses: 0 } });
    started.push(capped);
    capped.factory.register('idle', idle);
    await until(() => a.nodes().includes('small'), 'small connected');
    const full = (await a.spawn(null, 'small', 'idle', [null]).catch((e: unknown) => e)) as { code: string; message: string };
    expect(full.code).toBe(DistributionErrorCode.SPAWN_REFUSED);
    expect(full.message).toContain('spawnLimits.maxProcesses');
  });
});

describe('what a peer can make the registries hold', () => {
  it('global names: at most 100,000 per peer, none longer than 1,024 characters; groups likewise', async () => {
    const [, b] = await pair();
    const { Codec } = await import('../../src/index.ts');
    const { Pid: PidClass } = await import('@fdn/actors');
    const codec = new Codec();
    const entries = Array.from({ length: 100_050 }, (_, i) => [`n${String(i)}`, new PidClass('attacker', i + 1, 1)]);
    b.receiveFrame('attacker', codec.encode([11, [3, entries]]));
    expect(b.globalNames().length).toBe(100_000);
    b.receiveFrame('attacker', codec.encode([11, [1, 'x'.repeat(2_000), new PidClass('attacker', 1, 1)]]));
    expect(b.globalNames().some((n) => n.length > 1_024)).toBe(false);
    const groups = Array.from({ length: 100_050 }, (_, i) => [`g${String(i)}`, [new PidClass('attacker', i + 1, 1)]]);
    b.receiveFrame('attacker', codec.encode([12, [3, groups]]));
    expect(b.pg.groups().length).toBe(100_000);
    b.receiveFrame('attacker', codec.encode([12, [1, 'y'.repeat(2_000), [new PidClass('attacker', 1, 1)]]]));
    expect(b.pg.groups().some((g) => g.length > 1_024)).toBe(false);
    // The node lost none of its own abilities.
    expect(await b.registerGlobal('mine', b.runtime.spawn(async (ctx) => ctx.receive(() => false)))).toBe(true);
  });
});
